"""LPN's two networks: the encoder q_phi(z | x, y) and the decoder p_theta(y | x, z).

Parameter layout (fixed, so numbers compare across implementations)::

    params = {"encoder": [(W, b), ...],   # input [one_hot(x), one_hot(y)] -> 2 d
              "decoder": [(W, b), ...]}   # input [one_hot(x), z]          -> H * W * C

The first layer of each network reads a concatenation. The encoder's is the one-hot of
the two grids stacked, built directly. The decoder's mixes a grid with a latent that is
being differentiated, so we apply it split, ``[a, b] @ W = a @ W[:n_a] + b @ W[n_a:]``:
the same function, and the projection of each ``x_j`` is computed once and broadcast
against every latent that is tried on it.
"""
import autograd.numpy as np

from .backend import array_module, take_range
from .mlp import dense, init_mlp, mlp_forward, mlp_forward_from_first
from .tasks import check_finite, check_grids


def one_hot_cells(grid, num_colors, dtype=np.float64):
    """``(..., H, W)`` int grid -> ``(..., H, W, C)``: a 1 at each cell's colour."""
    xp = array_module(grid)  # built where the grid lives (host or device)
    grid = xp.asarray(grid)
    # Row c of the identity matrix is the one-hot vector of colour c, so gathering rows of
    # it builds the one-hot array in one pass (the same as
    # ``(grid[..., None] == arange(C)).astype(dtype)``, about 5x faster).
    return xp.eye(num_colors, dtype=dtype).take(grid, axis=0)


def one_hot(grid, num_colors, dtype=np.float64):
    """``(..., H, W)`` int grid -> ``(..., H * W * C)`` one-hot, row-major over (H, W, C)."""
    hot = one_hot_cells(grid, num_colors, dtype)
    return hot.reshape(hot.shape[:-3] + (-1,))


def init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype=np.float64):
    """Fresh parameters for LPN on ``grid_shape = (H, W)`` grids with ``num_colors`` colours.

    rng:    ``numpy.random.Generator``.
    hidden: hidden-layer widths shared by encoder and decoder, e.g. ``(256, 256)``.
    """
    H, W = grid_shape
    n_grid = H * W * num_colors
    hidden = list(hidden)
    return {
        "encoder": init_mlp(rng, [2 * n_grid] + hidden + [2 * latent_dim], dtype),
        "decoder": init_mlp(rng, [n_grid + latent_dim] + hidden + [n_grid], dtype),
    }


def latent_dim_of(params):
    """d, read off the encoder's last layer (2 d outputs: mu then logvar)."""
    return params["encoder"][-1][0].shape[1] // 2


def num_colors_of(decoder_params, grid_shape, latent_dim):
    """C read off the decoder's first layer, which has ``H * W * C + d`` rows."""
    H, W = grid_shape
    rows = decoder_params[0][0].shape[0]
    C, rest = divmod(rows - latent_dim, H * W)
    if rest or C < 1:
        raise ValueError(f"decoder parameters do not fit {H}x{W} grids with latent size "
                         f"{latent_dim}: the first layer has {rows} rows, expected H*W*C + d.")
    return C


def encode(encoder_params, x, y):
    """q_phi(z | x, y): Gaussian parameters of one latent per pair.

    x, y: int ``(..., H, W)``.
    Returns ``mu, logvar``, each ``(..., d)``.
    """
    W0, b0 = encoder_params[0]
    n_grid = W0.shape[0] // 2
    C = n_grid // (x.shape[-2] * x.shape[-1])
    if 2 * x.shape[-2] * x.shape[-1] * C != W0.shape[0]:
        raise ValueError(f"encoder parameters expect inputs of {n_grid} one-hot values per grid; "
                         f"{x.shape[-2]}x{x.shape[-1]} grids do not fit. Use the grid size the "
                         "model was built for.")
    # [one_hot(x), one_hot(y)] is the one-hot of the two grids stacked. Both are inputs
    # (constants), so building it costs nothing extra, and one matrix product reads it.
    xy = array_module(x).stack([x, y], axis=-3)                   # (..., 2, H, W)
    inputs = one_hot(xy, C, W0.dtype).reshape(x.shape[:-2] + (-1,))  # (..., 2 H W C)
    out = mlp_forward(encoder_params, inputs)                     # (..., 2 d)
    d, last = out.shape[-1] // 2, out.ndim - 1
    return take_range(out, 0, d, last), take_range(out, d, 2 * d, last)


def decode(decoder_params, x, z):
    """p_theta(y | x, z): logits of an independent categorical for every output cell.

    x: int ``(..., H, W)``; z: ``(..., d)``. The leading shapes broadcast against each
    other, so ``x`` of shape ``(B, 1, N, H, W)`` and ``z`` of shape ``(B, M, 1, d)`` decode
    every pair under every latent while projecting each ``x`` only once.
    Returns logits ``(..., H, W, C)`` (leading shape the broadcast of both).
    """
    first = decoder_first_layer(decoder_params, x, z)                 # (..., h)
    return decoder_logits(decoder_params, first, x.shape[-2:])        # (..., H, W, C)


def decoder_first_layer(decoder_params, x, z):
    """The decoder's first layer, before its ReLU: ``one_hot(x) W_x + z W_z + b``, ``(..., h)``
    with the leading shape the broadcast of x's and z's (each computed once per x, per z)."""
    H, W = x.shape[-2:]
    C = num_colors_of(decoder_params, (H, W), z.shape[-1])
    W0, b0 = decoder_params[0]
    n_grid = H * W * C
    return (dense(one_hot(x, C, W0.dtype), take_range(W0, 0, n_grid), b0)   # (..., h) once per x
            + dense(z, take_range(W0, n_grid, W0.shape[0])))                # (..., h) once per z


def decoder_logits(decoder_params, first, grid_shape):
    """The rest of the decoder: from the first layer's output ``(..., h)`` to the logits
    ``(..., H, W, C)`` of ``grid_shape = (H, W)`` grids."""
    logits = mlp_forward_from_first(decoder_params, first)           # (..., H * W * C)
    return np.reshape(logits, logits.shape[:-1] + tuple(grid_shape) + (-1,))


def check_batch(params, x, y, eps=None, min_pairs=2):
    """Validate a training or evaluation batch against the model; one clear error if wrong."""
    check_grids(x, y, min_pairs=min_pairs)
    d = latent_dim_of(params)
    C = num_colors_of(params["decoder"], x.shape[-2:], d)
    check_grids(x, y, num_colors=C)
    if eps is not None:
        if eps.shape != x.shape[:2] + (d,):
            raise ValueError(f"eps must have shape (B, N, d) = {x.shape[:2] + (d,)}, "
                             f"got {eps.shape}.")
        check_finite(eps, "eps")
