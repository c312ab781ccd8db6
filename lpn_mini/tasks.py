"""Tasks as arrays, input validation, and the paper's Pattern task.

A batch of tasks is a pair of integer arrays ``x, y`` of shape ``(B, N, H, W)``: B tasks
(programs), each shown through N input/output pairs of H x W grids with colours in
``[0, C)``. Every public entry point of lpn-mini checks its grids here, so a wrong shape or
a colour out of range is one clear sentence, not a traceback from deep inside a matmul.
"""
import numpy as onp


def check_grids(x, y=None, num_colors=None, *, min_pairs=None, name="x"):
    """Raise ``ValueError`` (one actionable sentence) unless ``x`` (and ``y``) are valid grids.

    x, y:       integer arrays ``(B, N, H, W)`` (or, with ``min_pairs=None``, any ``(..., H, W)``).
    num_colors: C; every value must lie in ``[0, C)``.
    min_pairs:  if given, the arrays must be 4-D and N must be at least this.
    """
    for label, g in ((name, x), ("y", y)):
        if g is None:
            continue
        if not hasattr(g, "dtype") or not hasattr(g, "shape"):
            raise ValueError(f"{label} must be an integer array of grids, got {type(g).__name__}; "
                             "convert it with numpy.asarray(..., dtype=int).")
        if not onp.issubdtype(g.dtype, onp.integer):
            if onp.issubdtype(g.dtype, onp.floating) and not onp.all(onp.isfinite(g)):
                raise ValueError(f"{label} contains NaN or inf; grids must hold integer colours.")
            raise ValueError(f"{label} must hold integer colours, got dtype {g.dtype}; "
                             "cast it with .astype(int).")
        if g.ndim < 2:
            raise ValueError(f"{label} must have shape (..., H, W), got shape {g.shape}.")
        if min_pairs is not None and g.ndim != 4:
            raise ValueError(f"{label} must have shape (B, N, H, W) (B tasks, N pairs), "
                             f"got shape {g.shape}; add a task axis with x[None] for one task.")
        if num_colors is not None and g.size and (g.min() < 0 or g.max() >= num_colors):
            raise ValueError(f"{label} has colours in [{g.min()}, {g.max()}] but the model has "
                             f"C = {num_colors} colours; every cell must lie in [0, {num_colors}).")
    if y is not None and x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape (one output grid per input grid), "
                         f"got x {x.shape} and y {y.shape}.")
    if min_pairs is not None and x.shape[1] < min_pairs:
        raise ValueError(f"each task needs at least {min_pairs} pairs (leave-one-out predicts a pair "
                         f"from the others), got N = {x.shape[1]} in shape {x.shape}.")


def check_finite(a, name):
    """Raise ``ValueError`` if the float array ``a`` holds NaN or inf."""
    if not onp.all(onp.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf; pass finite values.")


def pattern_tasks(rng, num_tasks, num_pairs=4, grid_size=10, pattern_size=4, density=1.0,
                  num_colors=10):
    """The Pattern task (paper, appendix A.1), vectorized over tasks and pairs.

    Each task draws one ``pattern_size`` x ``pattern_size`` pattern: each cell is a colour
    uniform in ``1..num_colors-1`` with probability ``density``, else 0. Each pair draws an
    anchor ``(r, c)`` uniform in ``0..grid_size - pattern_size``; the input is all 0 with a
    single 1 at the anchor, the output is all 0 with the pattern pasted at rows ``r..r+P-1``
    and columns ``c..c+P-1``.

    rng: ``numpy.random.Generator``.
    Returns ``x, y``: int arrays ``(num_tasks, num_pairs, grid_size, grid_size)``.
    """
    B, N, G, P = num_tasks, num_pairs, grid_size, pattern_size
    if not 1 <= P <= G:
        raise ValueError(f"pattern_size must lie in [1, grid_size={G}], got {P}.")
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density is a probability in [0, 1], got {density}.")
    if num_colors < 3:
        raise ValueError(f"the Pattern task needs num_colors >= 3 (0 background, 1 the anchor "
                         f"marker, pattern colours from 1), got {num_colors}.")
    colours = rng.integers(1, num_colors, size=(B, P, P))
    pattern = onp.where(rng.random((B, P, P)) < density, colours, 0)  # (B, P, P)
    r = rng.integers(0, G - P + 1, size=(B, N))  # (B, N) anchor rows
    c = rng.integers(0, G - P + 1, size=(B, N))  # (B, N) anchor columns

    b_idx = onp.arange(B)[:, None]  # (B, 1)
    n_idx = onp.arange(N)[None, :]  # (1, N)
    x = onp.zeros((B, N, G, G), dtype=onp.int64)
    x[b_idx, n_idx, r, c] = 1

    y = onp.zeros((B, N, G, G), dtype=onp.int64)
    offs = onp.arange(P)
    rows = r[:, :, None, None] + offs[:, None]  # (B, N, P, 1)
    cols = c[:, :, None, None] + offs[None, :]  # (B, N, 1, P)
    y[b_idx[:, :, None, None], n_idx[:, :, None, None], rows, cols] = pattern[:, None]
    return x, y
