"""Figures, saved as PNG: grids in the ARC palette, training curves, accuracy against
test-time steps, and the latent plane of a 2-D-latent model."""
import json

import matplotlib.pyplot as plt  # without a screen matplotlib falls back to its Agg backend
import numpy as onp
from matplotlib.colors import ListedColormap

# The standard ARC-AGI colours for 0..9: black, blue, red, green, yellow, grey, magenta,
# orange, light blue, maroon; then white for 10, the padding colour of the ARC experiment
# ("no cell here", see lpn_mini/arc.py).
ARC_COLORS = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
              "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25", "#FFFFFF"]
ARC_CMAP = ListedColormap(ARC_COLORS)


def draw_grid(ax, grid, title=None):
    """One grid on ``ax``, in the ARC palette, with thin cell borders."""
    grid = onp.asarray(grid)
    ax.imshow(grid, cmap=ARC_CMAP, vmin=0, vmax=len(ARC_COLORS) - 1,
              interpolation="nearest")
    ax.set_xticks(onp.arange(-0.5, grid.shape[1]), minor=True)
    ax.set_yticks(onp.arange(-0.5, grid.shape[0]), minor=True)
    ax.grid(which="minor", color="#555555", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title, fontsize=8)


def plot_predictions(x, y, predictions, path, num_tasks=4, title=""):
    """Leave-one-out predictions of pair 0 of a few tasks, next to its specification.

    x, y: ``(B, N, H, W)``; predictions: ``{method name: (B, N, H, W)}``. Each row is one
    task: the N - 1 specification pairs (input above output), then the test input, the
    target, and one prediction per method (a red title marks a wrong prediction).
    """
    B, N = x.shape[:2]
    if num_tasks < 1 or B < 1:
        raise ValueError(f"plot_predictions draws at least one task, got num_tasks = "
                         f"{num_tasks} and {B} task(s) in x; pass num_tasks >= 1 and tasks.")
    num_tasks = min(num_tasks, B)
    cols = 2 * (N - 1) + 2 + len(predictions)
    fig, axes = plt.subplots(num_tasks, cols, figsize=(1.3 * cols, 1.5 * num_tasks),
                             squeeze=False)
    for t in range(num_tasks):
        row = axes[t]
        for j in range(1, N):
            draw_grid(row[2 * (j - 1)], x[t, j], f"spec x{j}")
            draw_grid(row[2 * (j - 1) + 1], y[t, j], f"spec y{j}")
        draw_grid(row[2 * (N - 1)], x[t, 0], "test x")
        draw_grid(row[2 * (N - 1) + 1], y[t, 0], "target")
        for k, (name, pred) in enumerate(predictions.items()):
            ax = row[2 * N + k]
            right = onp.array_equal(pred[t, 0], y[t, 0])
            draw_grid(ax, pred[t, 0], name)
            ax.title.set_color("black" if right else "red")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_training_curve(metrics_path, path):
    """Loss (and any logged quick-evaluation accuracies) against the training step."""
    with open(metrics_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], color="C0")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (Algorithm 2, line 14)", color="C0")
    ax.set_yscale("log")
    keys = sorted({k for r in rows for k in r if k.endswith("exact_match")})
    if keys:
        ax2 = ax.twinx()
        for i, k in enumerate(keys):
            pts = [(r["step"], 100 * r[k]) for r in rows if k in r]
            ax2.plot(*zip(*pts), "o-", color=f"C{i + 1}", label=k.replace(" exact_match", ""))
        ax2.set_ylabel("exact match % (64 eval tasks)")
        ax2.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _steps_axis(ax, steps):
    """A log axis of test-time steps K, 0 included; returns where to plot each K."""
    plotted = [max(k, 0.5) for k in steps]  # step 0 drawn at 0.5 on the log axis
    ax.set_xscale("log")
    ax.set_xticks(plotted, [str(k) for k in steps])
    ax.minorticks_off()
    return plotted


def plot_accuracy_vs_steps(results, path, title=""):
    """Exact match against the number of test-time gradient steps (the paper's claim 1)."""
    grads = sorted((int(k.split()[1]), v) for k, v in results.items() if k.startswith("Grad "))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plotted = _steps_axis(ax, [k for k, _ in grads])
    ax.plot(plotted, [100 * v["exact_match"] for _, v in grads], "o-", label="Grad K")
    for k, v in results.items():
        if k.startswith("Sample "):
            ax.axhline(100 * v["exact_match"], color="C1", linestyle="--", label=k)
    ax.set_xlabel("test-time gradient steps K")
    ax.set_ylabel("exact match %")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latent_plane(params, x, path, extent=3.0, resolution=9):
    """For a 2-D latent: the output decoded for input ``x`` ``(H, W)`` at each point of a grid
    over the latent plane [-extent, extent]^2, drawn as a mosaic of small grids."""
    from ..architectures import decode, latent_dim_of  # local: plotting does not otherwise need them
    from ..optim import tree_leaves
    d = latent_dim_of(params)
    if d != 2:
        raise ValueError(f"the latent plane needs a model with latent_dim = 2, this one has {d}; "
                         "train with --config latent2d.")
    ticks = onp.linspace(-extent, extent, resolution)
    z = onp.stack(onp.meshgrid(ticks, ticks[::-1]), axis=-1).astype(tree_leaves(params)[0].dtype)
    outputs = onp.argmax(decode(params["decoder"], x[None, None], z), axis=-1)  # (R, R, H, W)
    fig, axes = plt.subplots(resolution, resolution, figsize=(0.8 * resolution, 0.8 * resolution))
    for i in range(resolution):
        for j in range(resolution):
            draw_grid(axes[i, j], outputs[i, j])
    fig.suptitle(f"decoded outputs over the latent plane, z in [-{extent}, {extent}]^2", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------------------
# Figures of `lpn-mini reproduce`
# --------------------------------------------------------------------------------------

def plot_rows_vs_steps(table, path, title=""):
    """Table 1 as a figure: exact match against test-time steps, one line per training row
    (mean over seeds, bars = std); Sample N columns as dashed levels."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, (label, row) in enumerate(table.items()):
        grads = sorted((int(c.split()[1]), v) for c, v in row.items() if c.startswith("Grad "))
        x = _steps_axis(ax, [k for k, _ in grads])
        ax.errorbar(x, [v["exact_match"]["mean"] for _, v in grads],
                    yerr=[v["exact_match"]["std"] for _, v in grads], fmt="o-", capsize=3,
                    color=f"C{i}", label=f"trained {label}")
        for c, v in row.items():
            if c.startswith("Sample "):
                ax.axhline(v["exact_match"]["mean"], color=f"C{i}", linestyle=":", linewidth=1)
    ax.set_xlabel("test-time gradient steps K (dotted: Sample N at test time)")
    ax.set_ylabel("exact match %")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_loss_curves(summaries, path):
    """Training loss against step for every run (one colour per training row)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    colours = {}
    for s in summaries:
        c = colours.setdefault(s["label"], f"C{len(colours)}")
        steps, losses = zip(*s["loss_curve"])
        ax.plot(steps, losses, color=c, alpha=0.8, linewidth=1,
                label=s["label"] if s["seed"] == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_ood(tables, path):
    """Table 6 as a figure: one panel per evaluation density, exact match against steps."""
    fig, axes = plt.subplots(1, len(tables), figsize=(4 * len(tables), 3.5), sharey=True,
                             squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items()):
        for i, (label, row) in enumerate(table.items()):
            grads = sorted((int(c.split()[1]), v) for c, v in row.items())
            x = _steps_axis(ax, [k for k, _ in grads])
            ax.errorbar(x, [v["exact_match"]["mean"] for _, v in grads],
                        yerr=[v["exact_match"]["std"] for _, v in grads], fmt="o-", capsize=3,
                        color=f"C{i}", label=f"trained {label}")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("test-time gradient steps K")
    axes[0, 0].set_ylabel("exact match %")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_landscapes(params, config, x, y, path, extent=None, resolution=61, num_steps=100):
    """For a 2-D latent: each task's specification log-likelihood over the latent plane, with
    the path test-time search takes from the encoder's guess (white circle) to its end (star).

    x, y: ``(T, N, H, W)``, a few tasks. extent: the half-width of the square drawn; by
    default large enough for every path, with a margin. Returns per task the start and end
    log-likelihoods and the path.
    """
    from ..evaluation import search_options
    from ..latent import ascent_path, specification_log_likelihood
    from ..architectures import encode
    from ..optim import tree_leaves
    dec = params["decoder"]
    dtype = tree_leaves(dec)[0].dtype
    paths = []
    for t in range(len(x)):
        xt, yt = x[t:t + 1], y[t:t + 1]
        mask = onp.ones((1, xt.shape[1]), dtype=dtype)
        mu, _ = encode(params["encoder"], xt, yt)
        # Three searches per task: from the encoder's guess (Algorithm 1), and for contrast
        # from the prior's mean z = 0 and from a fixed point across the plane.
        starts = onp.concatenate([mu.mean(axis=1, keepdims=True),
                                  onp.zeros((1, 1, 2), dtype),
                                  -2.0 * mu.mean(axis=1, keepdims=True)], axis=1)  # (1, 3, 2)
        # The test-time search of the config (eval_latent_lr, clip mode, eps_root...), one
        # start at a time: a global clip norm would otherwise couple the three paths.
        options = search_options(config, "grad", num_steps)
        runs = [ascent_path(dec, xt, yt, starts[:, m:m + 1], mask, num_steps=num_steps,
                            alpha=options["alpha"], optimizer=options["optimizer"],
                            clip_norm=options["clip_norm"], reduce=options["reduce"],
                            clip_mode=options["clip_mode"], adam_eps_root=options["adam_eps_root"])
                for m in range(starts.shape[1])]
        zs = onp.concatenate([r[0] for r in runs], axis=2)      # (K + 1, 1, 3, 2)
        values = onp.concatenate([r[1] for r in runs], axis=2)  # (K + 1, 1, 3)
        paths.append((xt, yt, mask, zs[:, 0], values[:, 0]))    # (K + 1, 3, 2), (K + 1, 3)
    if extent is None:
        extent = max(3.0, 1.25 * max(float(onp.abs(p[3]).max()) for p in paths))
    ticks = onp.linspace(-extent, extent, resolution, dtype=dtype)
    plane = onp.stack(onp.meshgrid(ticks, ticks), axis=-1).reshape(1, -1, 2)
    fig, axes = plt.subplots(1, len(x), figsize=(4.2 * len(x), 3.8), squeeze=False)
    out = []
    for t, (ax, (xt, yt, mask, zs, values)) in enumerate(zip(axes[0], paths)):
        surface = specification_log_likelihood(dec, xt, yt, plane, mask, config.likelihood)
        surface = surface.reshape(resolution, resolution)
        floor = onp.percentile(surface, 5)  # the deep valleys would take all the colours
        cs = ax.contourf(ticks, ticks, onp.maximum(surface, floor), levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax, label=f"sum_i log p(y_i | x_i, z) ({config.likelihood} "
                                      "over cells)")
        for m, (colour, label) in enumerate((("white", "from the encoder's guess"),
                                            ("red", "from z = 0"), ("orange", "from elsewhere"))):
            ax.plot(zs[:, m, 0], zs[:, m, 1], ".-", color=colour, markersize=3, linewidth=1,
                    label=label if t == 0 else None)
            ax.plot(*zs[0, m], "o", color=colour, markersize=8, fillstyle="none")
            ax.plot(*zs[values[:, m].argmax(), m], "*", color=colour, markersize=12)
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_title(f"task {t}: encoder's guess {values[0, 0]:.1f} -> {values[:, 0].max():.1f}",
                     fontsize=9)
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
        out.append(dict(task=t, steps=num_steps, start=float(values[0, 0]),
                        end=float(values[:, 0].max()), path=zs[:, 0].tolist(),
                        from_zero=[float(values[0, 1]), float(values[:, 1].max())],
                        from_elsewhere=[float(values[0, 2]), float(values[:, 2].max())]))
    axes[0, 0].legend(fontsize=7, loc="lower left", facecolor="#777777")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return out


def plot_arc_scores(overall, copy, path):
    """ARC: top-1/top-2 exact match and cell accuracy against test-time steps."""
    steps = [int(m.split()[1]) for m in overall]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, style in (("top1", "o-"), ("top2", "s--")):
        axes[0].plot(_steps_axis(axes[0], steps), [o[key] for o in overall.values()], style,
                     label=key.replace("top", "top-"))
    axes[0].axhline(copy["top1"], color="grey", linestyle=":", label="copy the input")
    axes[0].set_ylabel("exact match % of test pairs")
    axes[1].plot(_steps_axis(axes[1], steps), [o["cell_accuracy"] for o in overall.values()],
                 "o-", label="LPN, first attempt")
    axes[1].axhline(copy["cell_accuracy"], color="grey", linestyle=":", label="copy the input")
    axes[1].set_ylabel("cell accuracy %")
    for ax in axes:
        ax.set_xlabel("test-time gradient steps K")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_arc_examples(params_config, summary, problems, path, num=4):
    """The ARC test pairs where search changed the first attempt's cell accuracy the most:
    test input, target, and the prediction at the smallest and largest K."""
    from ..arc import evaluation_problems, group_rng, solve
    params, config = params_config
    methods = [k for k in problems[0] if k.startswith("Grad ")]
    first, last = methods[0], methods[-1]
    gain = [p[last]["cell_accuracy"] - p[first]["cell_accuracy"] for p in problems]
    picked = sorted(onp.argsort(gain)[::-1][:num])
    groups = evaluation_problems(config.grid_size)
    flat = [(gi, j) for gi, g in enumerate(groups) for j in range(len(g[0]))]
    fig, axes = plt.subplots(len(picked), 4, figsize=(6.4, 1.7 * len(picked)), squeeze=False)
    for row, i in zip(axes, picked):
        gi, j = flat[i]
        ids, _, x_spec, y_spec, x_test, y_test = groups[gi]
        draw_grid(row[0], x_test[j], f"{ids[j]} test in")
        draw_grid(row[1], y_test[j], "target")
        for ax, m in zip(row[2:], (first, last)):
            k = int(m.split()[1])  # the whole group again, so the noise is the scored one
            pred, _ = solve(params, config, x_spec, y_spec, x_test, k, group_rng(config.seed, k, gi))
            draw_grid(ax, pred[j], f"{m}: {100 * problems[i][m]['cell_accuracy']:.0f}%")
    fig.suptitle("ARC evaluation pairs where search changed the answer most (white = padding)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
