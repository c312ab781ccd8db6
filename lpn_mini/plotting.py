"""Figures, saved as PNG: grids in the ARC palette, training curves, accuracy against
test-time steps, and the latent plane of a 2-D-latent model."""
import json

import matplotlib.pyplot as plt  # without a screen matplotlib falls back to its Agg backend
import numpy as onp
from matplotlib.colors import ListedColormap

# The standard ARC-AGI colours for 0..9: black, blue, red, green, yellow, grey, magenta,
# orange, light blue, maroon.
ARC_COLORS = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
              "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"]
ARC_CMAP = ListedColormap(ARC_COLORS)


def draw_grid(ax, grid, title=None):
    """One grid on ``ax``, in the ARC palette, with thin cell borders."""
    grid = onp.asarray(grid)
    ax.imshow(grid, cmap=ARC_CMAP, vmin=0, vmax=9, interpolation="nearest")
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


def plot_accuracy_vs_steps(results, path, title=""):
    """Exact match against the number of test-time gradient steps (the paper's claim 1)."""
    grads = sorted((int(k.split()[1]), v) for k, v in results.items() if k.startswith("Grad "))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    steps = [k for k, _ in grads]
    plotted = [max(k, 0.5) for k in steps]  # step 0 shown at 0.5 on the log axis
    ax.plot(plotted, [100 * v["exact_match"] for _, v in grads], "o-", label="Grad K")
    for k, v in results.items():
        if k.startswith("Sample "):
            ax.axhline(100 * v["exact_match"], color="C1", linestyle="--", label=k)
    ax.set_xscale("log")
    ax.set_xticks(plotted, [str(k) for k in steps])
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
    from .model import decode  # local import: plotting does not otherwise need the model
    d = params["encoder"][-1][0].shape[1] // 2
    if d != 2:
        raise ValueError(f"the latent plane needs a model with latent_dim = 2, this one has {d}; "
                         "train with --config latent2d.")
    ticks = onp.linspace(-extent, extent, resolution)
    z = onp.stack(onp.meshgrid(ticks, ticks[::-1]), axis=-1).astype(params["decoder"][0][0].dtype)
    outputs = onp.argmax(decode(params["decoder"], x[None, None], z), axis=-1)  # (R, R, H, W)
    fig, axes = plt.subplots(resolution, resolution, figsize=(0.8 * resolution, 0.8 * resolution))
    for i in range(resolution):
        for j in range(resolution):
            draw_grid(axes[i, j], outputs[i, j])
    fig.suptitle(f"decoded outputs over the latent plane, z in [-{extent}, {extent}]^2", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
