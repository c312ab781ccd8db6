"""The paper's Pattern task (appendix A.1) as arrays, and the hashing that holds programs out.

A batch of tasks is a pair of integer arrays ``x, y`` of shape ``(B, N, H, W)``: B tasks
(programs), each shown through N input/output pairs of H x W grids with colours in
``[0, C)`` (``checks.check_grids`` says so when they are not).
"""
import numpy as onp

from .checks import check_count, check_generator, check_number


def pattern_hash(pattern):
    """A stable 64-bit hash of each pattern: ``(..., P, P)`` ints -> ``(...)`` uint64.

    FNV-1a over the cells in row-major order, then the splitmix64 finaliser to spread the
    bits. Fixed integer arithmetic, so the same pattern hashes the same in every process and
    on every machine (Python's ``hash`` is salted per process). Vectorized over patterns:
    the loop runs over the P * P cells, not over tasks.
    """
    flat = onp.reshape(onp.asarray(pattern), onp.shape(pattern)[:-2] + (-1,)).astype(onp.uint64)
    h = onp.full(flat.shape[:-1], 0xCBF29CE484222325, dtype=onp.uint64)  # FNV offset basis
    with onp.errstate(over="ignore"):  # wrapping uint64 arithmetic is the point
        for k in range(flat.shape[-1]):
            h = (h ^ flat[..., k]) * onp.uint64(0x100000001B3)       # FNV prime
        h = h ^ (h >> onp.uint64(30))
        h = h * onp.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> onp.uint64(27))
        h = h * onp.uint64(0x94D049BB133111EB)
        h = h ^ (h >> onp.uint64(31))
    return h


def held_out(pattern, holdout):
    """Whether each pattern ``(..., P, P)`` is one of the held-out programs: a fraction
    ``holdout`` of the program space, chosen by ``pattern_hash`` (the same in every process,
    whatever the seed). Returns bools ``(...)``."""
    unit = (pattern_hash(pattern) >> onp.uint64(11)).astype(onp.float64) * 2.0 ** -53  # [0, 1)
    return unit < holdout


# Rejection rounds before giving up: the wanted side of the split is then (almost) empty.
MAX_REDRAWS = 1000


def pattern_tasks(rng, num_tasks, num_pairs=4, grid_size=10, pattern_size=4, density=1.0,
                  num_colors=10, holdout=0.0, unseen=False, overhang=False):
    """The Pattern task (paper, appendix A.1), vectorized over tasks and pairs.

    Each task draws one ``pattern_size`` x ``pattern_size`` pattern: each cell is a colour
    uniform in ``1..num_colors-1`` with probability ``density``, else 0. Each pair draws an
    anchor ``(r, c)`` uniform in ``0..grid_size - pattern_size``; the input is all 0 with a
    single 1 at the anchor, the output is all 0 with the pattern pasted at rows ``r..r+P-1``
    and columns ``c..c+P-1``.

    overhang: draw anchors anywhere on the grid, ``0..grid_size - 1``, so that a pattern may
    run off the bottom or right edge and a pair shows only part of its program (a variant of
    the task, not the paper's); the cells that fall off the grid are dropped.
    holdout: the fraction of patterns held out (``held_out``); 0 draws from every pattern,
    exactly as without the option. unseen: with ``holdout`` > 0, draw only held-out patterns
    (the evaluation set); else only the others (training). Rejected patterns are redrawn,
    all at once, until every task's pattern is on the wanted side.
    rng: ``numpy.random.Generator``.
    Returns ``x, y``: int arrays ``(num_tasks, num_pairs, grid_size, grid_size)``.
    """
    check_generator(rng)
    check_count(num_tasks, "num_tasks", 1, "the number B of tasks")
    check_count(num_pairs, "num_pairs", 1, "the number N of pairs per task")
    check_count(grid_size, "grid_size", 1, "the side of the square grids")
    check_count(pattern_size, "pattern_size", 1, "the side of the square pattern")
    check_count(num_colors, "num_colors", 1, "the number C of colours")
    check_number(density, "density", meaning="the probability that a pattern cell is coloured")
    B, N, G, P = num_tasks, num_pairs, grid_size, pattern_size
    if not 1 <= P <= G:
        raise ValueError(f"pattern_size must lie in [1, grid_size={G}], got {P}.")
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density is a probability in [0, 1], got {density}.")
    if num_colors < 3:
        raise ValueError(f"the Pattern task needs num_colors >= 3 (0 background, 1 the anchor "
                         f"marker, pattern colours from 1), got {num_colors}.")
    check_number(holdout, "holdout", meaning="the fraction of patterns held out of training")
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout is a fraction in [0, 1), got {holdout}.")
    if unseen and holdout == 0:
        raise ValueError("unseen=True draws held-out patterns, but holdout = 0 holds none out; "
                         "set holdout > 0, e.g. holdout=0.2.")

    def draw(n):  # n patterns (n, P, P)
        colours = rng.integers(1, num_colors, size=(n, P, P))
        return onp.where(rng.random((n, P, P)) < density, colours, 0)

    pattern = draw(B)                                                 # (B, P, P)
    if holdout > 0:
        redo = onp.flatnonzero(held_out(pattern, holdout) != unseen)  # the wrong side
        for _ in range(MAX_REDRAWS):
            if redo.size == 0:
                break
            pattern[redo] = draw(redo.size)
            redo = redo[held_out(pattern[redo], holdout) != unseen]
        else:
            raise ValueError(f"after {MAX_REDRAWS} redraws some patterns are still "
                             f"{'seen' if unseen else 'held out'}: with pattern_size = {P}, "
                             f"{num_colors} colours and density = {density}, (almost) no "
                             f"pattern is {'held out' if unseen else 'left for training'} at "
                             f"holdout = {holdout}; change holdout or the pattern space.")
    top = G if overhang else G - P + 1           # anchors in 0..top - 1
    r = rng.integers(0, top, size=(B, N))  # (B, N) anchor rows
    c = rng.integers(0, top, size=(B, N))  # (B, N) anchor columns

    b_idx = onp.arange(B)[:, None]  # (B, 1)
    n_idx = onp.arange(N)[None, :]  # (1, N)
    x = onp.zeros((B, N, G, G), dtype=onp.int64)
    x[b_idx, n_idx, r, c] = 1

    # Paste onto a grid P - 1 cells larger, then crop: an overhanging pattern loses the
    # cells beyond the edge (without overhang nothing is cropped).
    y = onp.zeros((B, N, G + P - 1, G + P - 1), dtype=onp.int64)
    offs = onp.arange(P)
    rows = r[:, :, None, None] + offs[:, None]  # (B, N, P, 1)
    cols = c[:, :, None, None] + offs[None, :]  # (B, N, 1, P)
    y[b_idx[:, :, None, None], n_idx[:, :, None, None], rows, cols] = pattern[:, None]
    return x, onp.ascontiguousarray(y[:, :, :G, :G])
