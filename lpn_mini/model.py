"""LPN's two networks: the encoder q_phi(z | x, y) and the decoder p_theta(y | x, z).

Parameter layout (fixed, so numbers compare across implementations)::

    params = {"encoder": [(W, b), ...],   # input [one_hot(x), one_hot(y)] -> 2 d
              "decoder": [(W, b), ...]}   # input [one_hot(x), z]          -> H * W * C

The first layer of each network reads a concatenation. The encoder's is the one-hot of
the two grids stacked, built directly. The decoder's mixes a grid with a latent that is
being differentiated, so we apply it split, ``[a, b] @ W = a @ W[:n_a] + b @ W[n_a:]``:
the same function, and the projection of each ``x_j`` is computed once and broadcast
against every latent that is tried on it.

This module is one architecture (``architecture = "mlp"``, the paper's pseudo-code with
MLPs for its networks). ``conv.py`` is a second one with the same functions;
``architectures.py`` picks between them by name or by the parameters' layout, and the rest
of the library (training, search, evaluation) calls the functions there.
"""
import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

from .device.backend import array_module, take_range
from .mlp import dense, init_mlp, mlp_forward, mlp_forward_from_first
from .checks import (check_array, check_count, check_finite, check_grids, check_layers,
                     check_model_sizes, check_params)


def one_hot_cells(grid, num_colors, dtype=np.float64):
    """``(..., H, W)`` int grid -> ``(..., H, W, C)``: a 1 at each cell's colour.

    No checks: the model's entry points have checked the colours (a colour -1 here would
    silently read as C - 1); ``one_hot`` checks them."""
    xp = array_module(grid)  # built where the grid lives (host or device)
    grid = xp.asarray(grid)
    # Row c of the identity matrix is the one-hot vector of colour c, so gathering rows of
    # it builds the one-hot array in one pass (the same as
    # ``(grid[..., None] == arange(C)).astype(dtype)``, about 5x faster).
    return xp.eye(num_colors, dtype=dtype).take(grid, axis=0)


def one_hot(grid, num_colors, dtype=np.float64, *, check=True):
    """``(..., H, W)`` int grid -> ``(..., H * W * C)`` one-hot, row-major over (H, W, C).

    check: first check that ``grid`` is an integer grid with colours in ``[0, C)`` (the
    model's own calls skip it: their grids were checked where they came in).
    """
    if check:
        check_count(num_colors, "num_colors", 1, "the number C of colours")
        check_grids(grid, num_colors=num_colors, name="grid")
    hot = one_hot_cells(grid, num_colors, dtype)
    return hot.reshape(hot.shape[:-3] + (-1,))


CONFIG_KEYS = ()  # the config keys init_params takes besides the sizes (conv: "window")


def init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype=np.float64):
    """Fresh parameters for LPN on ``grid_shape = (H, W)`` grids with ``num_colors`` colours.

    rng:    ``numpy.random.Generator``.
    hidden: hidden-layer widths shared by encoder and decoder, e.g. ``(256, 256)``.
    """
    check_model_sizes(rng, grid_shape, num_colors, latent_dim, hidden, dtype)
    H, W = grid_shape
    n_grid = H * W * num_colors
    hidden = list(hidden)
    return {
        "encoder": init_mlp(rng, [2 * n_grid] + hidden + [2 * latent_dim], dtype),
        "decoder": init_mlp(rng, [n_grid + latent_dim] + hidden + [n_grid], dtype),
    }


def parameter_count(grid_shape, num_colors, latent_dim, hidden):
    """Weights and biases ``init_params`` would make, counted without making them."""
    n_grid = grid_shape[0] * grid_shape[1] * num_colors
    nets = [[2 * n_grid, *hidden, 2 * latent_dim],             # encoder
            [n_grid + latent_dim, *hidden, n_grid]]            # decoder
    return sum(a * b + b for sizes in nets for a, b in zip(sizes[:-1], sizes[1:]))


def owns(params):
    """Whether ``params`` (both networks, or one of them) has this module's layout: lists of
    ``(W, b)`` layers."""
    params = getval(params)
    if isinstance(params, dict) and "encoder" in params:
        params = getval(params["encoder"])
    return isinstance(params, (list, tuple))


def latent_dim_of(params):
    """d, read off the encoder's last layer (2 d outputs: mu then logvar)."""
    return params["encoder"][-1][0].shape[1] // 2


def num_colors_of(decoder_params, grid_shape, latent_dim):
    """C read off the decoder: its last layer has ``H * W * C`` outputs, and its first layer
    ``H * W * C + d`` rows (one error sentence if the grid size or d does not fit)."""
    H, W = grid_shape
    rows, outputs = decoder_params[0][0].shape[0], decoder_params[-1][0].shape[1]
    C, rest = divmod(outputs, H * W)
    if rest or C < 1:
        raise ValueError(f"decoder parameters do not fit {H}x{W} grids: the last layer has "
                         f"{outputs} outputs, expected H*W*C; use the grid size the model was "
                         "built for.")
    if rows != H * W * C + latent_dim:
        raise ValueError(f"the latents have d = {latent_dim} values but the decoder takes "
                         f"d = {rows - H * W * C} (its first layer has {rows} rows, H*W*C + d "
                         f"with C = {C}); pass latents of the model's size.")
    return C


def encode(encoder_params, x, y, *, check=True):
    """q_phi(z | x, y): Gaussian parameters of one latent per pair.

    x, y: int ``(..., H, W)``.
    check: first check the parameters and the grids (shapes, colours in ``[0, C)``); callers
        that checked them already (``training_loss``, ``check_batch``) pass False.
    Returns ``mu, logvar``, each ``(..., d)``.
    """
    if check:
        check_layers(encoder_params, "encoder_params")
        check_grids(x, y)
    W0, b0 = encoder_params[0]
    n_grid = W0.shape[0] // 2
    C = n_grid // (x.shape[-2] * x.shape[-1])
    if 2 * x.shape[-2] * x.shape[-1] * C != W0.shape[0]:
        raise ValueError(f"encoder parameters expect inputs of {n_grid} one-hot values per grid; "
                         f"{x.shape[-2]}x{x.shape[-1]} grids do not fit. Use the grid size the "
                         "model was built for.")
    if check:
        check_grids(x, y, num_colors=C)
    # [one_hot(x), one_hot(y)] is the one-hot of the two grids stacked. Both are inputs
    # (constants), so building it costs nothing extra, and one matrix product reads it.
    xy = array_module(x).stack([x, y], axis=-3)                   # (..., 2, H, W)
    inputs = one_hot(xy, C, W0.dtype, check=False).reshape(x.shape[:-2] + (-1,))  # (..., 2HWC)
    out = mlp_forward(encoder_params, inputs)                     # (..., 2 d)
    d, last = out.shape[-1] // 2, out.ndim - 1
    return take_range(out, 0, d, last), take_range(out, d, 2 * d, last)


def decode(decoder_params, x, z, *, check=True):
    """p_theta(y | x, z): logits of an independent categorical for every output cell.

    x: int ``(..., H, W)``; z: ``(..., d)``. The leading shapes broadcast against each
    other, so ``x`` of shape ``(B, 1, N, H, W)`` and ``z`` of shape ``(B, M, 1, d)`` decode
    every pair under every latent while projecting each ``x`` only once.
    check: first check the parameters, x (shape, colours in ``[0, C)``) and z (shape, no
        NaN); callers that checked them already pass False.
    Returns logits ``(..., H, W, C)`` (leading shape the broadcast of both).
    """
    if check:
        check_decoder_inputs(decoder_params, x, z)
    first = decoder_first_layer(decoder_params, x, z)                 # (..., h)
    return decoder_logits(decoder_params, first, x.shape[-2:])        # (..., H, W, C)


def decoder_first_layer(decoder_params, x, z):
    """The decoder's first layer, before its ReLU: ``one_hot(x) W_x + z W_z + b``, ``(..., h)``
    with the leading shape the broadcast of x's and z's (each computed once per x, per z)."""
    H, W = x.shape[-2:]
    C = num_colors_of(decoder_params, (H, W), z.shape[-1])
    W0, b0 = decoder_params[0]
    n_grid = H * W * C
    hot_x = one_hot(x, C, W0.dtype, check=False)  # x was checked where it came in
    return (dense(hot_x, take_range(W0, 0, n_grid), b0)                    # (..., h) once per x
            + dense(z, take_range(W0, n_grid, W0.shape[0])))                # (..., h) once per z


def decoder_logits(decoder_params, first, grid_shape):
    """The rest of the decoder: from the first layer's output ``(..., h)`` to the logits
    ``(..., H, W, C)`` of ``grid_shape = (H, W)`` grids."""
    logits = mlp_forward_from_first(decoder_params, first)           # (..., H * W * C)
    return np.reshape(logits, logits.shape[:-1] + tuple(grid_shape) + (-1,))


def check_decoder_inputs(decoder_params, x, z):
    """What ``decode`` checks: the decoder's layers, the grids x (shape, colours) and the
    latents z (shape ``(..., d)`` with d the decoder's, leading shape broadcasting against
    x's, no NaN). One clear error if wrong."""
    check_layers(decoder_params, "decoder_params")
    check_grids(x)
    check_array(z, "z", "latents (..., d)")
    if np.ndim(z) == 0:
        raise ValueError("z must have shape (..., d), one latent of d values per grid, got a "
                         "single number.")
    C = num_colors_of(decoder_params, x.shape[-2:], np.shape(z)[-1])
    check_grids(x, num_colors=C)
    try:
        onp.broadcast_shapes(x.shape[:-2], np.shape(z)[:-1])
    except ValueError:
        raise ValueError(f"the leading shapes of x {x.shape} (..., H, W) and z {np.shape(z)} "
                         "(..., d) do not broadcast; give one latent per grid, or size-1 axes "
                         "to decode every grid under every latent.") from None
    check_finite(z, "z", "pass finite latents")


def check_batch(params, x, y, eps=None, min_pairs=2):
    """Validate a training or evaluation batch against the model; one clear error if wrong.

    params: checked to be ``{"encoder": [...], "decoder": [...]}`` of matching sizes.
    x, y:   int ``(B, N, H, W)`` with B >= 1, N >= ``min_pairs``, colours in ``[0, C)``.
    eps:    None, or finite noise ``(B, N, d)``.
    """
    check_params(params)
    check_grids(x, y, min_pairs=min_pairs)
    if params["encoder"][-1][0].shape[1] % 2:
        raise ValueError(f"the encoder's last layer has {params['encoder'][-1][0].shape[1]} "
                         "outputs, expected 2 d (mu and logvar); make params with init_params.")
    d = latent_dim_of(params)
    C = num_colors_of(params["decoder"], x.shape[-2:], d)
    n_encoder = params["encoder"][0][0].shape[0]
    if n_encoder != 2 * x.shape[-2] * x.shape[-1] * C:
        raise ValueError(f"the encoder takes {n_encoder} inputs but the decoder's C = {C} colours "
                         f"on {x.shape[-2]}x{x.shape[-1]} grids need 2*H*W*C = "
                         f"{2 * x.shape[-2] * x.shape[-1] * C}; use an encoder and a decoder "
                         "made together by init_params.")
    check_grids(x, y, num_colors=C)
    if eps is not None:
        check_array(eps, "eps", f"standard normal noise (B, N, d) = {x.shape[:2] + (d,)}")
        if eps.shape != x.shape[:2] + (d,):
            raise ValueError(f"eps must have shape (B, N, d) = {x.shape[:2] + (d,)}, "
                             f"got {eps.shape}.")
        check_finite(eps, "eps", f"draw it with rng.standard_normal({x.shape[:2] + (d,)})")
