"""Which networks LPN runs: the architectures by name, and the one place that picks one.

An architecture is a module with the same functions as ``model.py`` (the plain MLP):

    init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype, **options)
    parameter_count(grid_shape, num_colors, latent_dim, hidden, **options)
    owns(params)                      does params (both networks, or one) have my layout?
    latent_dim_of(params)             num_colors_of(decoder_params, grid_shape, latent_dim)
    encode(encoder_params, x, y)      q_phi(z | x, y) -> mu, logvar
    decode(decoder_params, x, z)      p_theta(y | x, z) -> logits
    decoder_first_layer(decoder_params, x, z), decoder_logits(decoder_params, first, grid_shape)
                                      decode, split where latent search reuses x's projection
    check_decoder_inputs(decoder_params, x, z), check_batch(params, x, y, eps, min_pairs)

and ``CONFIG_KEYS``, the config keys its ``init_params`` takes as options (conv: ``window``).
Training, latent search and evaluation call the functions below, which hand the parameters
to the architecture that owns them, so they run any architecture unchanged. A third
architecture is one new module and one line in ``ARCHITECTURES``.
"""
import numpy as np

from . import conv, model

# name (the config's ``architecture``) -> the module that implements it
ARCHITECTURES = {"mlp": model, "conv": conv}
DEFAULT = "mlp"
INTERFACE = ("init_params", "parameter_count", "owns", "latent_dim_of", "num_colors_of",
             "encode", "decode", "decoder_first_layer", "decoder_logits",
             "check_decoder_inputs", "check_batch")


def architecture_named(name):
    """The module of the architecture called ``name``; one clear error for an unknown name."""
    if name not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(map(repr, ARCHITECTURES))}, "
                         f"got {name!r}.")
    return ARCHITECTURES[name]


def architecture_of(params):
    """The module whose layout ``params`` (both networks, or one of them) have. Parameters of
    no known layout go to the default (the MLP), whose checks say what is wrong with them."""
    for module in ARCHITECTURES.values():
        if module.owns(params):
            return module
    return ARCHITECTURES[DEFAULT]


def options_of(config):
    """The keyword options ``config``'s architecture's ``init_params`` takes from it."""
    return {key: getattr(config, key) for key in architecture_named(config.architecture).CONFIG_KEYS}


def init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype=np.float64, *,
                architecture="mlp", **options):
    """Fresh parameters of ``architecture`` (a name in ``ARCHITECTURES``) for ``grid_shape =
    (H, W)`` grids with ``num_colors`` colours; ``options`` are that architecture's own
    (``window=7`` for conv). See ``model.init_params``."""
    return architecture_named(architecture).init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype, **options)


def latent_dim_of(params):
    """d of the model ``params``."""
    return architecture_of(params).latent_dim_of(params)


def num_colors_of(decoder_params, grid_shape, latent_dim):
    """C read off the decoder (one error sentence if the grid size or d does not fit)."""
    return architecture_of(decoder_params).num_colors_of(decoder_params, grid_shape, latent_dim)


def encode(encoder_params, x, y, *, check=True):
    """q_phi(z | x, y): ``mu, logvar``, each ``(..., d)``, for int grids ``(..., H, W)``."""
    return architecture_of(encoder_params).encode(encoder_params, x, y, check=check)


def decode(decoder_params, x, z, *, check=True):
    """p_theta(y | x, z): logits ``(..., H, W, C)`` for x ``(..., H, W)`` and z ``(..., d)``
    (leading shapes broadcast against each other)."""
    return architecture_of(decoder_params).decode(decoder_params, x, z, check=check)


def decoder_first_layer(decoder_params, x, z):
    """The decoder's first layer ``(..., h)``, each grid's part computed once per grid."""
    return architecture_of(decoder_params).decoder_first_layer(decoder_params, x, z)


def decoder_logits(decoder_params, first, grid_shape):
    """The rest of the decoder: from ``decoder_first_layer``'s output to the logits."""
    return architecture_of(decoder_params).decoder_logits(decoder_params, first, grid_shape)


def check_decoder_inputs(decoder_params, x, z):
    """What ``decode`` checks; one clear error if wrong."""
    return architecture_of(decoder_params).check_decoder_inputs(decoder_params, x, z)


def check_batch(params, x, y, eps=None, min_pairs=2):
    """Validate a training or evaluation batch against the model; one clear error if wrong."""
    return architecture_of(params).check_batch(params, x, y, eps, min_pairs)
