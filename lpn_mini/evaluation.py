"""Leave-one-out evaluation on a fixed, seeded set of Pattern tasks, as in the paper.

Every pair of every evaluation task is predicted from the task's other N - 1 pairs with
Algorithm 1 (``inference.leave_one_out_predict``), for each inference method: "Grad K"
(K steps of latent gradient ascent) and "Sample S" (random search over S latents).
"""
import numpy as onp

from .device.backend import array_module, to_device, to_host
from .inference import leave_one_out_predict, scores
from .architectures import latent_dim_of
from .optim import tree_leaves
from .tasks import pattern_tasks


def eval_tasks(config, density=None, seen=False):
    """The fixed evaluation set: the same tasks for every run with the same ``eval_seed``.

    With ``config.holdout`` > 0 its programs are the held-out ones, never trained on (or,
    with ``seen`` or ``config.eval_programs = "seen"``, programs of the training side, for a
    seen-program accuracy beside it).
    """
    if config.task != "pattern":
        raise ValueError(f"the leave-one-out evaluation set is made of Pattern tasks; a "
                         f"{config.task!r} run is evaluated by `lpn-mini reproduce {config.task}`.")
    if density is None:
        density = config.density if config.eval_density < 0 else config.eval_density
    rng = onp.random.default_rng([config.eval_seed, 0])
    return pattern_tasks(rng, config.eval_tasks, config.num_pairs, config.grid_size,
                         config.pattern_size, density, config.num_colors,
                         holdout=config.holdout, overhang=config.overhang,
                         unseen=config.holdout > 0 and not (seen or config.eval_programs == "seen"))


def search_options(config, method, amount, rng=None, shape=None, training=False):
    """Keyword arguments for ``latent.search_latents`` from a config.

    method: "grad" (``amount`` = K steps) or "sample" (``amount`` = number of samples; then
    ``rng`` and ``shape = (B, M, d)`` are needed to draw the noise).
    training: the search inside a training step (Algorithm 2): ``latent_lr`` and
    ``train_best_of_trajectory``; else test-time search (Algorithm 1): ``eval_latent_lr``
    when it is set (the caller adds ``best_of_trajectory``).
    """
    if method == "sample":
        B, M, d = shape
        noise = rng.standard_normal((B, M, amount, d)).astype(config.dtype)
        return dict(method="sample", noise=noise, sample_scale=config.sample_scale,
                    reduce=config.likelihood)
    alpha = config.latent_lr if training or config.eval_latent_lr < 0 else config.eval_latent_lr
    options = dict(method="grad", num_steps=amount, alpha=alpha,
                   optimizer=config.latent_optimizer, clip_norm=config.latent_clip or None,
                   reduce=config.likelihood, clip_mode=config.latent_clip_mode,
                   adam_eps_root=config.adam_eps_root)
    if training:
        options["best_of_trajectory"] = config.train_best_of_trajectory
    return options


def methods_of(config):
    """The inference columns: ``[("Grad 0", "grad", 0), ..., ("Sample 250", "sample", 250)]``."""
    return ([(f"Grad {k}", "grad", k) for k in config.eval_grad_steps]
            + [(f"Sample {s}", "sample", s) for s in config.eval_samples])


def evaluate(params, config, x=None, y=None, methods=None, chunk=64, progress=None):
    """Exact match and cell accuracy of leave-one-out prediction for every method.

    x, y: evaluation tasks ``(B, N, H, W)``; default ``eval_tasks(config)``.
    Returns ``({name: {"exact_match", "cell_accuracy"}}, {name: predictions})``.
    """
    if x is None:
        x, y = eval_tasks(config)
    methods = methods_of(config) if methods is None else methods
    d = latent_dim_of(params)
    xp = array_module(*tree_leaves(params))  # evaluate where the parameters live
    results, predictions = {}, {}
    for name, method, amount in methods:
        # Fresh, fixed noise per method, so each column is reproducible on its own.
        rng = onp.random.default_rng([config.eval_seed, 1])
        preds = []
        for start in range(0, len(x), chunk):
            xs, ys = x[start:start + chunk], y[start:start + chunk]
            eps = rng.standard_normal(xs.shape[:2] + (d,)).astype(config.dtype)
            opts = search_options(config, method, amount, rng, xs.shape[:2] + (d,))
            if method == "grad":
                opts["best_of_trajectory"] = config.best_of_trajectory
            else:
                opts["noise"] = to_device(opts["noise"], xp)
            xs, ys, eps = (to_device(a, xp) for a in (xs, ys, eps))
            preds.append(to_host(leave_one_out_predict(params, xs, ys, eps, **opts)))
        predictions[name] = onp.concatenate(preds)
        results[name] = scores(predictions[name], y)
        if progress is not None:
            progress(name, results[name])
    return results, predictions


PAPER_TABLE1 = {  # exact match %, 20k steps x 128 tasks, 10 x 10 grids (paper, Table 1)
    "Grad 0": {"Grad 0": 3.2, "Grad 1": 3.6, "Grad 5": 18.8, "Grad 20": 52.5, "Grad 100": 67.5,
               "Sample 250": 3.2},
    "Grad 1": {"Grad 0": 8.6, "Grad 1": 44.6, "Grad 5": 85.4, "Grad 20": 98.4, "Grad 100": 99.5,
               "Sample 250": 10.2},
    "Grad 1, no stop-grad": {"Grad 0": 0.6, "Grad 1": 13.7, "Grad 5": 60.2, "Grad 20": 88.9,
                             "Grad 100": 94.1, "Sample 250": 0.7},
    "Grad 5": {"Grad 0": 0.0, "Grad 1": 0.4, "Grad 5": 31.9, "Grad 20": 88.5, "Grad 100": 98.1,
               "Sample 250": 0.5},
    "Sample 5": {"Grad 0": 6.1, "Grad 1": 8.2, "Grad 5": 27.7, "Grad 20": 56.3, "Grad 100": 72.2,
                 "Sample 250": 6.1},
}


def training_label(config):
    """The Table 1 row name of a config: "Grad K", "Grad K, no stop-grad" or "Sample N"."""
    if config.train_method == "sample":
        return f"Sample {config.latent_samples}"
    label = f"Grad {config.latent_steps}"
    if config.latent_steps > 0 and not config.stop_gradient:
        label += ", no stop-grad"
    return label


def markdown_table(rows):
    """rows: ``{training label: {method: {"exact_match", "cell_accuracy"}}}`` -> Markdown.

    Cells read "exact match % (cell accuracy %)", like Table 1 plus the cell accuracy.
    """
    columns = list(next(iter(rows.values())))
    lines = ["| Training | " + " | ".join(columns) + " |",
             "|---|" + "---|" * len(columns)]
    for label, res in rows.items():
        cells = [f"{100 * res[c]['exact_match']:.1f} ({100 * res[c]['cell_accuracy']:.1f})"
                 for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
