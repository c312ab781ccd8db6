"""LPN's second architecture (`architecture = "conv"`): the latent writes a convolution.

On the Pattern task at the paper's scale the plain MLP (``model.py``) learns which colours
a pattern has but not where they go (``results/paper-scale/results.md``): "colour c at
offset o from the anchor" is a *product* of something in x and something in y (or z), and
a network that only adds its inputs must build that product from scratch. This model puts
the product in the first layer of both networks, and keeps everything else an MLP:

    encoder q_phi(z | x, y):  T[o, a, c] = share of the cells q with x(q + o) = a whose
                                           y(q) = c               (x's window against y's cell)
                              mu, logvar = MLP(T)
    decoder p_theta(y | x, z): K = MLP(z), reshaped to a kernel (k, k, C, C)
                              logits(q)[c] = sum_{o, a} [x(q + o) = a] K[o, a, c]

The encoder's statistic T is the co-occurrence table of the two grids: for every offset o
inside a k x k window and every colour a of x there, the distribution of y's colour (zero
where x never has colour a at that offset). On the Pattern task T[o, 1, :] is the one-hot
colour of the pattern at offset -o from the anchor, so the whole program is in T, in
place. The decoder does the reverse: z is turned into a convolution kernel, and the kernel
is applied to x, so what z says about offset o is read at every cell whose window has the
anchor at o. The latent is still one vector of d numbers, searched by gradient ascent as
in Algorithm 1; both networks are still hand-written MLPs differentiated by autograd.

The price is a prior: every cell of y depends on x only through a k x k window, linearly
in its one-hot colours (a local, translation-equivariant program), and the encoder sees
x and y only through pairs of cells. That covers the Pattern task and local ARC rules
(recolouring, small shifts, stamping a shape at a marker), not global ones (symmetries,
counting, a shape copied across the grid).

Parameter layout (plain dicts of arrays, as autograd and ``optim`` want them)::

    params = {"encoder": {"table":  (W (k, k, C, C, h_1), b (h_1,)),  # T -> first layer
                          "layers": [(W, b), ...]},                   # h_1 -> ... -> 2 d
              "decoder": {"layers": [(W, b), ...],                    # d -> ... -> h
                          "kernel": (W (h, k, k, C, C), b (k, k, C, C))}}

Entry ``(i, j, a, c)`` of a table or kernel is about colour a of x at offset
``(i - k // 2, j - k // 2)`` and colour c of y. The kernel's bias is the kernel at the
decoder's last hidden layer = 0: the part of the program every task shares (on the
Pattern task, painting the background). k and C are read off these shapes.
"""
import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

from .device.backend import array_module, put_rows, take_range, take_rows
from .mlp import dense, init_mlp, mlp_forward, mlp_forward_from_first, relu
from .checks import (check_array, check_count, check_finite, check_grids, check_layers,
                     check_model_sizes)


def window_index(grid_shape, k):
    """``(H W, k k)`` ints: entry ``(q, o)`` is the flat position of the cell at offset o
    from cell q (row-major over the k x k window), or ``H W`` beyond the border."""
    H, W = grid_shape
    r, c = onp.divmod(onp.arange(H * W), W)                             # each cell's row, column
    di, dj = onp.divmod(onp.arange(k * k), k)
    rr, cc = r[:, None] + di - k // 2, c[:, None] + dj - k // 2         # (H W, k k)
    inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)
    return onp.where(inside, rr * W + cc, H * W)


def _window_colours(x, num_colors, k):
    """Each cell's neighbours' colours: int ``(..., H, W)`` -> ``(..., H W, k k)``, entry
    ``(q, o)`` the colour at offset o from cell q, or C beyond the border (gathered by
    ``window_index`` from the flattened grid with one extra "colour" C appended)."""
    xp = array_module(x)
    lead, (H, W) = x.shape[:-2], x.shape[-2:]
    flat = xp.reshape(x, lead + (H * W,))
    flat = xp.concatenate([flat, xp.full(lead + (1,), num_colors, dtype=flat.dtype)], axis=-1)
    index = xp.asarray(window_index((H, W), k).reshape(-1))
    return xp.reshape(xp.take(flat, index, axis=-1), lead + (H * W, k * k))


def unfold(x, num_colors, k, dtype):
    """The one-hot k x k window around every cell: int ``(..., H, W)`` ->
    ``(..., H W, k k C)``; entry ``(q, (o, a))`` is 1 where x has colour a at offset o from
    cell q, and a window's entries beyond the border are all 0.

    Built on plain arrays (grids are constants): the neighbours' colours
    (``_window_colours``), then rows of an identity matrix gathered by colour (as in
    ``model.one_hot_cells``); row C, beyond the border, is all zeros.
    """
    xp = array_module(x)
    colours = _window_colours(x, num_colors, k)                         # (..., H W, k k)
    eye = xp.eye(num_colors + 1, num_colors, dtype=dtype)
    return xp.reshape(eye.take(colours, axis=0), colours.shape[:-1] + (k * k * num_colors,))


def cooccurrence(x, y, num_colors, k, dtype):
    """The encoder's input: ``T[o, a, c]``, the share of y's colour c among the cells q
    where x has colour a at offset o from q (o inside the k x k window; 0 where x never has
    colour a there).

    x, y: int ``(..., H, W)``. Returns ``(..., k * k * C * C)``, row-major over
    ``(o_row, o_col, a, c)``. (The model reads only the rows ``(o, a)`` that occur in its
    batch, ``table_rows``: the others are 0.)
    """
    table, rows = table_rows(x, y, num_colors, k, dtype)                # (..., R, C), (R,)
    full = put_rows(table, rows, k * k * num_colors, axis=table.ndim - 2)
    return full.reshape(full.shape[:-2] + (-1,))


def table_rows(x, y, num_colors, k, dtype):
    """The rows of the co-occurrence table that can be non-zero in this batch: ``(table
    (..., R, C), rows (R,))``, row r of ``table`` being row ``rows[r]`` = ``(o, a)`` of T,
    one for each colour a that x has at offset o from some cell (``present_windows``).
    Grids are constants, so this is built on plain arrays."""
    xp = array_module(x)
    windows, rows = present_windows(x, num_colors, k, dtype)            # (..., H W, R)
    hot_y = xp.eye(num_colors, dtype=dtype).take(y, axis=0)              # (..., H, W, C)
    hot_y = hot_y.reshape(hot_y.shape[:-3] + (-1, num_colors))           # (..., H W, C)
    counts = xp.matmul(xp.swapaxes(windows, -1, -2), hot_y)              # (..., R, C)
    totals = counts.sum(axis=-1, keepdims=True)                          # cells with x = a at o
    return counts / xp.maximum(totals, 1), rows


CONFIG_KEYS = ("window",)  # the config keys init_params takes besides the sizes


def init_params(rng, grid_shape, num_colors, latent_dim, hidden, dtype=np.float64, *,
                window=7):
    """Fresh parameters (the layout in the module docstring).

    rng: ``numpy.random.Generator``. grid_shape: ``(H, W)``, checked as in
    ``model.init_params``; no weight depends on it (the kernel slides over any grid).
    hidden: hidden widths of both MLPs, e.g. ``(256, 256)``. window: the odd side k of the
    kernel: a cell of y reads x up to k // 2 cells away.
    """
    check_model_sizes(rng, grid_shape, num_colors, latent_dim, hidden, dtype, need_hidden=True)
    check_count(window, "window", 1, "the side k of the kernel")
    if window % 2 == 0:
        raise ValueError(f"window must be odd (a kernel centred on its cell), got {window}; "
                         f"use e.g. {window + 1}.")
    k, C, d = window, num_colors, latent_dim
    encoder = init_mlp(rng, [k * k * C * C] + list(hidden) + [2 * d], dtype)
    decoder = init_mlp(rng, [d] + list(hidden) + [k * k * C * C], dtype)
    (W_t, b_t), (W_k, b_k) = encoder[0], decoder[-1]
    # A cell's logit adds up k k kernel entries, one per offset: at He's scale that sum
    # would start about k times larger than one entry, so the kernel's weights start k k
    # times smaller and the first logits are small.
    return {"encoder": {"table": (W_t.reshape(k, k, C, C, -1), b_t), "layers": encoder[1:]},
            "decoder": {"layers": decoder[:-1],
                        "kernel": ((W_k / (k * k)).astype(dtype).reshape(-1, k, k, C, C),
                                   b_k.reshape(k, k, C, C))}}


def parameter_count(grid_shape, num_colors, latent_dim, hidden, *, window=7):
    """Weights and biases ``init_params`` would make, counted without making them."""
    n_table = window ** 2 * num_colors ** 2                            # the table, the kernel
    nets = [[n_table, *hidden, 2 * latent_dim], [latent_dim, *hidden, n_table]]
    return sum(a * b + b for sizes in nets for a, b in zip(sizes[:-1], sizes[1:]))


def latent_dim_of(params):
    """d, read off the encoder's last layer (2 d outputs: mu then logvar)."""
    return np.shape(params["encoder"]["layers"][-1][0])[1] // 2


def num_colors_of(decoder_params, grid_shape=None, latent_dim=None):
    """C, read off the decoder's kernel ``(k, k, C, C)`` (the kernel fits any grid size and
    its d is checked by ``check_decoder_inputs``, so ``grid_shape`` and ``latent_dim``, which
    ``model.num_colors_of`` needs, go unused)."""
    return np.shape(decoder_params["kernel"][1])[2]


def encode(encoder_params, x, y, *, check=True):
    """q_phi(z | x, y): Gaussian parameters of one latent per pair.

    x, y: int ``(..., H, W)``. Returns ``mu, logvar``, each ``(..., d)``.
    """
    W = encoder_params["table"][0]
    k, C = np.shape(W)[0], np.shape(W)[2]
    if check:
        check_grids(x, y, num_colors=C)
    table, rows = table_rows(x, y, C, k, getval(W).dtype)              # (..., R, C), (R,)
    # The first layer reads only the table's rows that occur in the batch (the others are
    # 0, so this is the whole product, with a fraction of the work on sparse grids).
    W_rows = take_rows(np.reshape(W, (k * k * C, C, -1)), rows)         # (R, C, h_1)
    first = dense(np.reshape(table, np.shape(table)[:-2] + (-1,)),
                  np.reshape(W_rows, (-1, np.shape(W)[-1])), encoder_params["table"][1])
    out = mlp_forward_from_first([None] + list(encoder_params["layers"]), first)  # (..., 2 d)
    d, last = out.shape[-1] // 2, out.ndim - 1
    return take_range(out, 0, d, last), take_range(out, d, 2 * d, last)


def kernel(decoder_params, z, rows=None):
    """The convolution that latent z writes: ``(..., d)`` -> ``(..., k k C, C)``; row
    ``(o_row, o_col, a)`` holds the logits that colour a of x at offset o adds to a cell.

    rows: None, or an ``(R,)`` index of the rows to compute (``present_windows``); then
    the result is ``(..., R, C)``, only those rows' outputs of the last layer, which is all
    a batch whose grids have no other (offset, colour) needs.
    """
    W, b = decoder_params["kernel"]                                     # (h, k, k, C, C), (k, k, C, C)
    k, _, C = np.shape(b)[:3]
    h = relu(mlp_forward(decoder_params["layers"], z))                  # (..., h)
    W, b = np.reshape(W, (np.shape(W)[0], k * k * C, C)), np.reshape(b, (k * k * C, C))
    if rows is not None:
        W, b = take_rows(W, rows, axis=1), take_rows(b, rows, axis=0)   # (h, R, C), (R, C)
    K = dense(h, np.reshape(W, (np.shape(W)[0], -1)), np.reshape(b, (-1,)))  # (..., R C)
    return np.reshape(K, np.shape(K)[:-1] + np.shape(b))


def apply_kernels(windows, K):
    """``windows @ K`` with broadcasting, without multiplying by broadcast copies.

    windows: ``(..., H W, R)`` (constants); K: ``(..., R, C)``; leading shapes broadcast.
    An axis that only ``windows`` has (one latent tried on several grids, as in the latent
    search: x ``(B, 1, N)`` against z ``(B, M, 1)``) is folded into the rows of the
    product, so that each latent's kernel multiplies all its grids' windows at once; the
    other axes broadcast as in ``np.matmul``. The same numbers as ``np.matmul(windows, K)``,
    up to float rounding.
    """
    lead = onp.broadcast_shapes(np.shape(windows)[:-2], np.shape(K)[:-2])
    n = len(lead)
    windows = np.reshape(windows, (1,) * (n + 2 - np.ndim(windows)) + np.shape(windows))
    K = np.reshape(K, (1,) * (n + 2 - np.ndim(K)) + np.shape(K))
    ws, ks = np.shape(windows)[:n], np.shape(K)[:n]
    rows = [a for a in range(n) if ws[a] > 1 and ks[a] == 1]           # the grids' own axes
    others = [a for a in range(n) if a not in rows]
    (cells, n_in), n_out = np.shape(windows)[n:], np.shape(K)[-1]
    n_rows = int(onp.prod([ws[a] for a in rows]))
    w = _permute(windows, others + rows + [n, n + 1])                  # a view if rows are last
    w = np.reshape(w, [ws[a] for a in others] + [n_rows * cells, n_in])
    k = np.reshape(K, [ks[a] for a in others] + [n_in, n_out])         # rows have size 1 in K
    out = np.matmul(w, k)                                              # (others, rows cells, C)
    out = np.reshape(out, [lead[a] for a in others] + [ws[a] for a in rows] + [cells, n_out])
    order = others + rows
    return _permute(out, [order.index(a) for a in range(n)] + [n, n + 1])


def _permute(a, axes):
    """``np.transpose(a, axes)`` as ``np.moveaxis``: the same array, but autograd's
    gradient of transpose passes its axes as a NumPy array, which a device array's module
    need not take (the fake device refuses it), and moveaxis's passes lists. No call at
    all when the axes are already in order."""
    axes = list(axes)
    if axes == sorted(axes):
        return a
    return np.moveaxis(a, axes, list(range(len(axes))))


_WINDOWS = {}   # the last few host grids' windows (grids are constants; see present_windows)


def present_windows(x, num_colors, k, dtype):
    """The one-hot windows of x (``unfold``) restricted to the entries that occur:
    ``(windows (..., H W, R), rows (R,))``, where ``rows`` lists the window entries
    ``(o, a)`` (row-major, as in ``unfold``) that are 1 for some cell of some grid of x.

    A kernel row that multiplies an entry which is 0 everywhere adds nothing, so the
    decoder computes and applies only these R rows of its kernel, and the encoder reads
    only these rows of its table. The answer is the same; the work shrinks with what the
    grids hold: the Pattern task's inputs have colours 0 and 1 only, R = 2 k k of k k C.

    Remembered for the last few grids on the host: one training step decodes the same x
    in the latent search and in the loss, the encoder reads the same windows, and a
    test-time search decodes the same x at every step. The key holds the grids' bytes, so
    a new array with the same grids reuses them and a changed one never does. Device
    arrays are unfolded afresh (reading their bytes would copy them to the host).
    """
    if not isinstance(x, onp.ndarray):
        return _present(x, num_colors, k, dtype)
    flat = onp.ascontiguousarray(x).reshape((-1,) + x.shape[-2:])     # x[:, None] is x too
    key = (flat.shape, str(flat.dtype), num_colors, k, str(onp.dtype(dtype)), flat.tobytes())
    if key not in _WINDOWS:
        if len(_WINDOWS) >= 4:
            _WINDOWS.pop(next(iter(_WINDOWS)))                          # the oldest
        _WINDOWS[key] = _present(flat, num_colors, k, dtype)           # (G, H W, R), (R,)
    windows, rows = _WINDOWS[key]
    return windows.reshape(x.shape[:-2] + windows.shape[1:]), rows


def _present(x, num_colors, k, dtype):
    """``present_windows`` without building the whole one-hot: which (offset, colour)
    entries occur is read off a small table of which colours occur at which cell, and
    only those columns of the windows are gathered from x's one-hot cells."""
    xp = array_module(x)
    C = num_colors
    lead, (H, W) = x.shape[:-2], x.shape[-2:]
    flat = xp.reshape(x, lead + (H * W,))
    flat = xp.concatenate([flat, xp.full(lead + (1,), C, dtype=flat.dtype)], axis=-1)
    hot = xp.eye(C + 1, C, dtype=dtype).take(flat, axis=0)            # (..., H W + 1, C)
    index = xp.asarray(window_index((H, W), k))                         # (H W, k k)
    seen = xp.any(xp.reshape(hot, (-1, H * W + 1, C)) != 0, axis=0)   # colour a at cell p, anywhere
    present = xp.any(seen[index], axis=0)                               # (k k, C): entry (o, a)
    rows = xp.nonzero(xp.reshape(present, (-1,)))[0]                    # (R,) present entries
    # Column r of cell q's window is entry (cell index[q, o_r], colour a_r) of ``hot``.
    picks = index[:, rows // C] * C + rows % C                          # (H W, R)
    hot = xp.reshape(hot, lead + ((H * W + 1) * C,))
    return xp.take(hot, picks, axis=-1), rows                           # (..., H W, R)


def decoder_first_layer(decoder_params, x, z):
    """The whole decoder (it has no layer after the convolution): the logits
    ``(..., H, W, C)`` of every cell, leading shape the broadcast of x's and z's.

    The kernel is computed once per latent and x's windows once per grid; one matrix
    product applies each kernel to each grid it is broadcast against.
    """
    k, _, C = np.shape(decoder_params["kernel"][1])[:3]
    windows, rows = present_windows(x, C, k, getval(decoder_params["kernel"][1]).dtype)
    K = kernel(decoder_params, z, rows)                                 # (..., R, C)
    logits = apply_kernels(windows, K)                                  # (..., H W, C)
    return np.reshape(logits, np.shape(logits)[:-2] + tuple(x.shape[-2:]) + (C,))


def decoder_logits(decoder_params, first, grid_shape=None):
    """The rest of the decoder after ``decoder_first_layer``: nothing (kept so that
    ``latent.py`` can call this model as it calls ``model.py``'s)."""
    return first


def check_decoder_inputs(decoder_params, x, z):
    """What ``decode`` checks: x (shape, colours in ``[0, C)``) and z (``(..., d)`` with the
    decoder's d, leading shape broadcasting against x's, no NaN). One clear error if wrong."""
    check_grids(x, num_colors=num_colors_of(decoder_params))
    check_array(z, "z", "latents (..., d)")
    d = np.shape(decoder_params["layers"][0][0])[0]
    if np.ndim(z) == 0 or np.shape(z)[-1] != d:
        raise ValueError(f"z must have shape (..., d) with the decoder's d = {d}, got "
                         f"{np.shape(z)}; pass latents of the model's size.")
    try:
        onp.broadcast_shapes(x.shape[:-2], np.shape(z)[:-1])
    except ValueError:
        raise ValueError(f"the leading shapes of x {x.shape} (..., H, W) and z {np.shape(z)} "
                         "(..., d) do not broadcast; give one latent per grid, or size-1 axes "
                         "to decode every grid under every latent.") from None
    check_finite(z, "z", "pass finite latents")


def decode(decoder_params, x, z, *, check=True):
    """p_theta(y | x, z): logits of an independent categorical for every output cell.

    x: int ``(..., H, W)``; z: ``(..., d)``; leading shapes broadcast as in ``model.decode``.
    Returns ``(..., H, W, C)``.
    """
    if check:
        check_decoder_inputs(decoder_params, x, z)
    return decoder_first_layer(decoder_params, x, z)


def owns(params):
    """Whether ``params`` (both networks, or one of them) has this module's layout."""
    params = getval(params)
    if isinstance(params, dict) and "encoder" in params:
        params = getval(params["encoder"])
    return isinstance(params, dict) and ("table" in params or "kernel" in params)


def check_params(params):
    """Raise unless ``params`` is ``init_params``'s layout with consistent shapes: one
    clear error that says which array is wrong."""
    params = getval(params)
    if not isinstance(params, dict) or set(params) != {"encoder", "decoder"}:
        raise TypeError("params must be {\"encoder\": ..., \"decoder\": ...} as "
                        "conv.init_params makes it.")
    enc, dec = getval(params["encoder"]), getval(params["decoder"])
    if (not isinstance(enc, dict) or set(enc) != {"table", "layers"} or not isinstance(dec, dict)
            or set(dec) != {"layers", "kernel"}):
        raise ValueError("conv params must be {\"encoder\": {\"table\", \"layers\"}, "
                         "\"decoder\": {\"layers\", \"kernel\"}}; make them with "
                         "conv.init_params or load them from a checkpoint.")
    (W_t, b_t), (W_k, b_k) = enc["table"], dec["kernel"]
    shape_t, shape_k = onp.shape(W_t), onp.shape(b_k)
    if (len(shape_t) != 5 or shape_t[0] != shape_t[1] or shape_t[2] != shape_t[3]
            or onp.shape(b_t) != shape_t[4:]):
        raise ValueError(f"params[\"encoder\"][\"table\"] must be (W (k, k, C, C, h), b (h,)), "
                         f"got W {shape_t} and b {onp.shape(b_t)}.")
    if shape_k != shape_t[:4] or onp.shape(W_k)[1:] != shape_k:
        raise ValueError(f"params[\"decoder\"][\"kernel\"] must be (W (h, k, k, C, C), "
                         f"b (k, k, C, C)) with the encoder's k and C {shape_t[:4]}, got W "
                         f"{onp.shape(W_k)} and b {shape_k}.")
    check_layers([(onp.empty((onp.prod(shape_t[:4]), shape_t[4])), b_t)] + list(enc["layers"]),
                 "params[\"encoder\"]")
    n_kernel = int(onp.prod(shape_k))
    check_layers(list(dec["layers"]) + [(onp.empty((onp.shape(W_k)[0], n_kernel)),
                                         onp.empty(n_kernel))], "params[\"decoder\"]")
    d_enc, d_dec = onp.shape(enc["layers"][-1][0])[1], onp.shape(dec["layers"][0][0])[0]
    if d_enc != 2 * d_dec:
        raise ValueError(f"the encoder gives {d_enc} outputs but the decoder takes d = {d_dec} "
                         f"(expected 2 d = {2 * d_dec}: mu and logvar); use an encoder and a "
                         "decoder made together by conv.init_params.")


def check_batch(params, x, y, eps=None, min_pairs=2):
    """``model.check_batch`` for this layout: params, grids (colours in ``[0, C)``), noise."""
    check_params(params)
    check_grids(x, y, min_pairs=min_pairs)
    check_grids(x, y, num_colors=num_colors_of(params["decoder"]))
    d = latent_dim_of(params)
    if eps is not None:
        check_array(eps, "eps", f"standard normal noise (B, N, d) = {x.shape[:2] + (d,)}")
        if onp.shape(eps) != x.shape[:2] + (d,):
            raise ValueError(f"eps must have shape (B, N, d) = {x.shape[:2] + (d,)}, "
                             f"got {onp.shape(eps)}.")
        check_finite(eps, "eps", f"draw it with rng.standard_normal({x.shape[:2] + (d,)})")
