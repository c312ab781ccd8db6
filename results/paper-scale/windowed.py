"""A second pair of networks for LPN: small MLPs applied to every cell, over a window.

The plain MLP of ``model.py`` reads the whole flattened grid at once, so each of the H x W
output cells has weights of its own and must learn on its own where a pattern's colour goes.
Here one MLP is shared by all the cells: cell (r, c) reads the k x k window of one-hot
colours around it (zeros beyond the border), and the same weights serve every cell. That is
a convolution, written as an MLP on unfolded windows. What the decoder learns at one place
it knows at every place.

    decoder p_theta(y | x, z): logits of cell (r, c) = MLP([window_k(x)(r, c), z])
    encoder q_phi(z | x, y):   f(r, c) = MLP(window_k([x, y])(r, c))           per cell
                               a_h(r, c) = softmax over cells of (f(r, c) . w_h + b_h)
                               mu, logvar = MLP([sum_rc a_1(r, c) f(r, c), ...])

The encoder's pooling is attention-like: each of A heads scores every cell and takes the
softmax-weighted mean of the cells' features, so it can select one cell (on the Pattern
task, the anchor, whose window holds the whole pattern). A plain mean over cells would add
up features of windows that see the pattern at every shift, which keeps its colours but
loses where they are. That the heads CAN select a cell does not mean they learn to: in the
short runs of ``results/paper-scale/results.md`` they stayed near uniform, and the model
learned the pattern's colours but not their places.

Parameter layout (plain dicts of arrays, as autograd and ``optim`` want them)::

    params = {"encoder": {"window": (W (k, k, 2C, h_1), b (h_1,)),
                          "cell":   [(W, b), ...],         # h_1 -> ... -> h   per cell
                          "score":  (W (h, A), b (A,)),    # one score per cell per head
                                  # (or W (k, k, C, A): scores from x's windows alone)
                          "head":   [(W, b), ...]},        # A h -> ... -> 2 d
              "decoder": {"window": (W (k, k, C, h_1), b (h_1,)),
                          "z":      W (d, h_1),
                          "cell":   [(W, b), ...]}}        # h_1 -> ... -> C   per cell

    gated=True: the encoder has a "gate" (W (k, k, C, h_1), b (h_1,)) on x's windows, and
    the decoder "z_gate" in place of "z" (see ``init_params``).

A window layer's W is a convolution kernel: entry (i, j, c) weighs colour c at offset
(i - k // 2, j - k // 2) from the cell. The window size k and the colours C are read off its
shape, so the functions below need no settings beside the parameters.

The decoder's first layer reads ``[window(x), z]`` split, as in ``model.py``: the window
part is computed once per grid, z's once per latent, and they are added by broadcasting.
"""
import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

from lpn_mini.device.backend import array_module, take_range
from lpn_mini.mlp import dense, init_mlp, mlp_forward, relu
from lpn_mini.checks import check_array, check_count, check_finite, check_generator, check_grids


def unfold_one_hot(grids, num_colors, k, dtype):
    """The one-hot k x k window around every cell of some grids of one shape.

    grids: a list of G int grids ``(..., H, W)`` with colours in ``[0, C)``.
    Returns ``(..., H, W, k * k * G * C)``: entry ``(i, j, g, c)`` (row-major) is 1 where
    grid g has colour c at offset ``(i - k // 2, j - k // 2)`` from the cell; all of a
    window's entries beyond the grid's border are 0. Built on plain arrays (grids are
    constants): a strided view of each cell's neighbours' colours, then rows of an identity
    matrix gathered by colour, as in ``model.one_hot_cells``; beyond the border the colour
    reads C, whose row is all zeros.
    """
    xp = array_module(grids[0])
    lead, (H, W), p = grids[0].shape[:-2], grids[0].shape[-2:], k // 2
    pad = [(0, 0)] * len(lead) + [(p, p), (p, p)]
    colours = [xp.lib.stride_tricks.sliding_window_view(                # (..., H, W, k, k) views
        xp.pad(grid, pad, constant_values=num_colors), (k, k), axis=(-2, -1))
        for grid in grids]
    colours = xp.stack(colours, axis=-1)                                # (..., H, W, k, k, G)
    eye = xp.eye(num_colors + 1, num_colors, dtype=dtype)               # row C: all zeros
    return eye.take(colours, axis=0).reshape(lead + (H, W, -1))         # (..., H, W, k k G C)


def window_layer(layer, grids):
    """A convolution as a dense layer on unfolded windows: ``unfold_one_hot(grids) @ W + b``.

    layer: ``(W (k, k, G C, h), b (h,))``; grids: G int grids ``(..., H, W)``.
    Returns ``(..., H, W, h)``.
    """
    W, b = layer
    k, _, gc, h = np.shape(W)
    hot = unfold_one_hot(grids, gc // len(grids), k, getval(W).dtype)  # (..., H, W, k k G C)
    return dense(hot, np.reshape(W, (k * k * gc, h)), b)


def _window_kernel(rng, k, c_in, h, fan_in, dtype):
    """``(k, k, c_in, h)`` He-initialised for ``fan_in`` inputs that are non-zero at once."""
    return (rng.standard_normal((k, k, c_in, h)) * onp.sqrt(2.0 / fan_in)).astype(dtype)


def init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype=np.float64, *,
                window=7, encoder_window=7, heads=4, score_scale=0.0, attend="features",
                gated=False):
    """Fresh windowed parameters (the layout in the module docstring).

    rng: ``numpy.random.Generator``. grid_shape: ``(H, W)``, checked for the same call as
    ``model.init_params``; the weights are shared across cells, so they run on any grid
    size. hidden: widths ``(h_1, ..., h)`` of the per-cell MLPs, e.g. ``(128, 128)``.
    window, encoder_window: the odd k of the decoder's and the encoder's windows.
    heads: A, the encoder's attention-pooling heads.
    score_scale: standard deviation of the heads' first scores over the cells (about); 0
    starts every head as the plain mean over cells.
    attend: what the heads' scores read: ``"features"``, each cell's encoder features (of
    x and y); or ``"input"``, a k x k window of x alone (a convolution of the input grid,
    kernel ``(k, k, C, A)``), so that where to read is decided by x, what to read by both.
    gated: multiply instead of add where x meets the other input (FiLM-like gating):
    the encoder's first layer is ``window([x, y]) W + b`` times ``1 + window(x) G + g``
    (key ``"gate"``), the decoder's is ``window(x) W_x + b`` times ``1 + z W_z`` (key
    ``"z_gate"`` instead of ``"z"``). A product of a y-colour at one offset and the anchor
    of x at another is then one term of a unit, so "colour c at offset o from the anchor"
    is linear in the pooled features instead of having to be built by the MLP.
    """
    check_generator(rng)
    if not isinstance(grid_shape, (tuple, list)) or len(grid_shape) != 2:
        raise TypeError(f"grid_shape must be a pair (H, W), got {grid_shape!r}; pass e.g. "
                        "(10, 10).")
    for value, name, meaning in ((num_colors, "num_colors", "the number C of colours"),
                                 (latent_dim, "latent_dim", "the latent size d"),
                                 (heads, "heads", "the encoder's pooling heads")):
        check_count(value, name, 1, meaning)
    for value, name in ((window, "window"), (encoder_window, "encoder_window")):
        check_count(value, name, 1, "the side k of a window")
        if value % 2 == 0:
            raise ValueError(f"{name} must be odd (a window centred on its cell), got {value}; "
                             f"use e.g. {value + 1}.")
    if attend not in ("features", "input"):
        raise ValueError(f"attend must be 'features' or 'input', got {attend!r}.")
    if not isinstance(hidden, (tuple, list)) or not hidden:
        raise TypeError(f"hidden must list at least one hidden width, e.g. (128, 128), got "
                        f"{hidden!r}.")
    for i, h in enumerate(hidden):
        check_count(h, f"hidden[{i}]", 1, "a hidden-layer width")
    C, d, h, A = num_colors, latent_dim, list(hidden), heads
    ke, kd = encoder_window, window
    # One-hot windows have k * k non-zero inputs per grid (not k * k * C): He's variance
    # counts those, so the first layer starts at unit scale like the others.
    encoder = {"window": (_window_kernel(rng, ke, 2 * C, h[0], 2 * ke * ke, dtype),
                          onp.zeros(h[0], dtype)),
               "cell": init_mlp(rng, h, dtype) if len(h) > 1 else [],
               "score": ((rng.standard_normal((h[-1], A)) * score_scale / onp.sqrt(h[-1]))
                         .astype(dtype) if attend == "features"
                         else _window_kernel(rng, ke, C, A, ke * ke / score_scale ** 2, dtype)
                         if score_scale else onp.zeros((ke, ke, C, A), dtype),
                         onp.zeros(A, dtype)),
               "head": init_mlp(rng, [A * h[-1], h[-1], 2 * d], dtype)}
    decoder = {"window": (_window_kernel(rng, kd, C, h[0], kd * kd + d, dtype),
                          onp.zeros(h[0], dtype)),
               "z_gate" if gated else "z":
                   (rng.standard_normal((d, h[0])) * onp.sqrt(2.0 / (kd * kd + d))).astype(dtype),
               "cell": init_mlp(rng, h + [C], dtype)}
    if gated:
        encoder["gate"] = (_window_kernel(rng, ke, C, h[0], 2 * ke * ke, dtype),
                           onp.zeros(h[0], dtype))
    return {"encoder": encoder, "decoder": decoder}


def latent_dim_of(params):
    """d, read off the encoder's last layer (2 d outputs: mu then logvar)."""
    return np.shape(params["encoder"]["head"][-1][0])[1] // 2


def num_colors_of(decoder_params):
    """C, read off the decoder's window kernel ``(k, k, C, h_1)``."""
    return np.shape(decoder_params["window"][0])[2]


def _mlp_after(layers, first):
    """ReLU, then the layers (none: the ReLU alone), for per-cell features ``(..., h)``."""
    return mlp_forward(layers, relu(first)) if layers else relu(first)


def softmax_over_cells(scores):
    """Softmax over the cell axis -2 of ``scores`` ``(..., H W, A)``: each head's weights sum
    to 1 over the cells. The max is subtracted as a constant (it cancels)."""
    s = scores - getval(scores).max(axis=-2, keepdims=True)
    e = np.exp(s)
    return e / np.sum(e, axis=-2, keepdims=True)


def cell_features(encoder_params, x, y):
    """The encoder's per-cell MLP on the windows of ``[x, y]``: ``(..., H, W)`` ints ->
    ``(..., H W, h)``, one feature vector per cell."""
    first = window_layer(encoder_params["window"], [x, y])              # (..., H, W, h_1)
    if "gate" in encoder_params:                                        # gated=True
        first = first * (1.0 + window_layer(encoder_params["gate"], [x]))
    f = _mlp_after(encoder_params["cell"], first)                       # (..., H, W, h)
    return np.reshape(f, f.shape[:-3] + (-1, f.shape[-1]))              # (..., H W, h)


def attention(encoder_params, f, x):
    """Each head's weights over the cells, from the cells' features ``f`` ``(..., H W, h)``
    or (a score kernel ``(k, k, C, A)``) from the windows of x ``(..., H, W)``. Returns
    ``(..., H W, A)``, summing to 1 over the cells."""
    W_s, b_s = encoder_params["score"]
    if np.ndim(W_s) == 4:                                               # attend="input"
        scores = window_layer((W_s, b_s), [x])                          # (..., H, W, A)
        scores = np.reshape(scores, scores.shape[:-3] + (-1, scores.shape[-1]))
    else:
        scores = dense(f, W_s, b_s)                                     # (..., H W, A)
    return softmax_over_cells(scores)


def encode(encoder_params, x, y, *, check=True):
    """q_phi(z | x, y): Gaussian parameters of one latent per pair.

    x, y: int ``(..., H, W)``. Returns ``mu, logvar``, each ``(..., d)``.
    """
    if check:
        check_grids(x, y, num_colors=np.shape(encoder_params["window"][0])[2] // 2)
    f = cell_features(encoder_params, x, y)                             # (..., H W, h)
    a = attention(encoder_params, f, x)                                 # (..., H W, A)
    pooled = np.matmul(np.swapaxes(a, -1, -2), f)                       # (..., A, h): sum_rc a f
    pooled = np.reshape(pooled, pooled.shape[:-2] + (-1,))              # (..., A h)
    out = mlp_forward(encoder_params["head"], pooled)                   # (..., 2 d)
    d, last = out.shape[-1] // 2, out.ndim - 1
    return take_range(out, 0, d, last), take_range(out, d, 2 * d, last)


def decoder_first_layer(decoder_params, x, z):
    """The decoder's first layer, before its ReLU: ``window(x) W_x + b + z W_z`` (or, gated,
    ``(window(x) W_x + b) (1 + z W_z)``).

    x: int ``(..., H, W)``; z: ``(..., d)``, leading shapes broadcasting. The window part is
    computed once per grid, z's once per latent. Returns ``(..., H, W, h_1)``.
    """
    from_x = window_layer(decoder_params["window"], [x])                 # (..., H, W, h_1)
    if "z_gate" in decoder_params:                                       # gated=True
        from_z = dense(z, decoder_params["z_gate"])                      # (..., h_1)
        return from_x * (1.0 + np.expand_dims(np.expand_dims(from_z, -2), -2))
    from_z = dense(z, decoder_params["z"])                               # (..., h_1)
    return from_x + np.expand_dims(np.expand_dims(from_z, -2), -2)       # (..., H, W, h_1)


def decoder_logits(decoder_params, first, grid_shape=None):
    """The rest of the decoder, cell by cell: ``(..., H, W, h_1)`` -> logits ``(..., H, W, C)``.
    grid_shape: unused (the cells are already laid out); kept for ``model.decoder_logits``'s
    call."""
    return mlp_forward(decoder_params["cell"], relu(first))


def decode(decoder_params, x, z, *, check=True):
    """p_theta(y | x, z): logits of an independent categorical for every output cell.

    x: int ``(..., H, W)``; z: ``(..., d)``; leading shapes broadcast as in ``model.decode``.
    Returns ``(..., H, W, C)``.
    """
    if check:
        check_grids(x, num_colors=num_colors_of(decoder_params))
        check_array(z, "z", "latents (..., d)")
        d = np.shape(decoder_params.get("z", decoder_params.get("z_gate")))[0]
        if np.ndim(z) == 0 or np.shape(z)[-1] != d:
            raise ValueError(f"z must have shape (..., d) with the decoder's d = {d}, got "
                             f"{np.shape(z)}.")
        try:
            onp.broadcast_shapes(x.shape[:-2], np.shape(z)[:-1])
        except ValueError:
            raise ValueError(f"the leading shapes of x {x.shape} (..., H, W) and z "
                             f"{np.shape(z)} (..., d) do not broadcast.") from None
        check_finite(z, "z", "pass finite latents")
    return decoder_logits(decoder_params, decoder_first_layer(decoder_params, x, z))
