"""What does the plain MLP learn on 10 x 10 grids with 4 x 4 patterns?

Trains the library's model (``lpn_mini.training.train``, the ``paper`` preset with a short
budget: batch 64, float32) for a few widths, learning rates and training rows, and at
several points of training measures, on 256 fixed held-out tasks decoded from the
leave-one-out mean of the encoder's mu (Grad 0, no noise):

- loss per cell (cross-entropy, nats) inside the pattern and outside it;
- accuracy per cell inside and outside;
- inside the pattern, split in two: "located" (the model predicts some colour, not the
  background: it knows where the pattern goes, i.e. it read the anchor in x) and "colour
  when located" (of those cells, the fraction with the right colour: it knows the program);
- exact match of whole grids.

Beside it, a decoder-only oracle: the same MLP decoder given the TRUE pattern as z (its one-
hot, 16 x 10 values) instead of an encoder's latent. There the program is known, so what is
left is routing each colour of z to the cell that the anchor in x selects.

References for a model that knows where the pattern is but not its colours (density 1:
colours uniform in 1..9): inside accuracy 1/9 = 11.1%, inside loss ln 9 = 2.197 nats, cell
accuracy 84% + 16% / 9 = 85.8%, mean loss per cell 0.16 ln 9 = 0.352 nats.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 python results/paper-scale/probe_mlp.py

Writes ``results/paper-scale/mlp_probe.json`` and ``mlp_probe.png``; training runs go to
``runs/paper-scale/`` (git-ignored). About 15 minutes on one core of a 2-core AMD EPYC.
"""
import dataclasses
import json
import os
import time

import autograd.numpy as np
import matplotlib.pyplot as plt
import numpy as onp
from autograd import value_and_grad

from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks
from lpn_mini.experiments.paper_scale import mean_latent_scores as measure, split_scores
from lpn_mini import model
from lpn_mini.losses import grid_log_likelihood
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, warmup_lr
from lpn_mini.tasks import pattern_tasks
from lpn_mini.training import train

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = "runs/paper-scale"
CHECKPOINTS = (250, 500, 1000, 2000, 3000)   # steps at which the model is measured
BASE = ["batch_size=64", "eval_every=0", "log_every=50", "checkpoint_every=250",
        "eval_tasks=256", "seed=0"]
VARIANTS = {   # name: overrides of the `paper` preset (Grad 1 training, h 256x2, lr 4e-4)
    "paper (Grad 1, h 256x2, lr 4e-4)": [],
    "Grad 0, h 256x2, lr 4e-4": ["latent_steps=0"],
    "Grad 0, h 256x2, lr 1e-3": ["latent_steps=0", "lr=1e-3"],
    "Grad 0, h 1024x2, lr 4e-4": ["latent_steps=0", "hidden=1024,1024"],
}


def probe_variant(name, overrides):
    config = make_config("paper", overrides=BASE + overrides)
    run_dir = os.path.join(RUNS, name.split(" (")[0].replace(", ", "-").replace(" ", ""))
    x, y = eval_tasks(config)
    rows = []
    for steps in CHECKPOINTS:  # train() resumes: the same run as one of CHECKPOINTS[-1] steps
        t0 = time.perf_counter()
        params = train(dataclasses.replace(config, steps=steps), run_dir, progress=False,
                       echo=lambda s: None)
        rows.append({"step": steps, "train_seconds": round(time.perf_counter() - t0, 1),
                     **measure(params, x, y)})
        print(f"{name:<34} {_line(rows[-1])}", flush=True)
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        curve = [json.loads(line) for line in f]
    return {"overrides": overrides, "config": dataclasses.asdict(config), "checkpoints": rows,
            "loss_curve": [(r["step"], r["loss"]) for r in curve]}


def probe_oracle(steps=2000, hidden=(256, 256), lr=1e-3, batch=64, seed=0, net=model,
                 **net_options):
    """A decoder alone, given the one-hot of the true pattern as z (no encoder). net: the
    module of its networks (``lpn_mini.model``, or ``windowed.py`` beside it with its options)."""
    config = make_config("paper", overrides=BASE)
    P, C = config.pattern_size, config.num_colors
    dec = net.init_params(onp.random.default_rng([seed, 0]), (10, 10), C, P * P * C, hidden,
                          onp.float32, **net_options)["decoder"]

    def tasks(rng, n, unseen):
        """x, y ``(n, N, H, W)`` and z, the one-hot of each task's pattern, ``(n, 1, P P C)``."""
        x, y = pattern_tasks(rng, n, config.num_pairs, 10, P, 1.0, C, holdout=config.holdout,
                             unseen=unseen)
        # The pattern, read back from the first pair: its P x P block at the anchor.
        b, r, c = onp.nonzero(x[:, 0] == 1)
        rows = r[:, None, None] + onp.arange(P)[:, None]
        cols = c[:, None, None] + onp.arange(P)[None, :]
        pattern = y[b[:, None, None], 0, rows, cols]                          # (n, P, P)
        z = onp.eye(C, dtype=onp.float32)[pattern].reshape(n, 1, P * P * C)
        return x, y, z

    def loss_fn(dec, x, y, z):
        return -np.mean(grid_log_likelihood(net.decode(dec, x, z), y, "mean"))
    ex, ey, ez = tasks(onp.random.default_rng([config.eval_seed, 0]), 256, True)
    state, curve, rows = adam_init(dec), [], []
    for step in range(steps):
        x, y, z = tasks(onp.random.default_rng([seed, 1, step]), batch, False)
        loss, g = value_and_grad(loss_fn)(dec, x, y, z)
        dec, state = adam_update(dec, clip_by_global_norm(g, 1.0), state,
                                 warmup_lr(lr, step, 99), weight_decay=1e-4)
        curve.append(float(loss))
        if step + 1 in CHECKPOINTS:
            rows.append({"step": step + 1, **split_scores(net.decode(dec, ex, ez), ey)})
            print(f"{'oracle decoder (true pattern as z)':<34} {_line(rows[-1])}", flush=True)
    every = 50
    mean_curve = [(s + every, float(onp.mean(curve[s:s + every])))
                  for s in range(0, steps, every)]
    return {"overrides": [f"decoder only, hidden={hidden}, lr={lr}, batch={batch}"],
            "checkpoints": rows, "loss_curve": mean_curve}


def _line(r):
    return (f"step {r['step']:>5}  loss/cell {r['loss_per_cell']:.3f} (in {r['loss_inside']:.3f}"
            f", out {r['loss_outside']:.4f})  acc in {100 * r['acc_inside']:5.1f}% out "
            f"{100 * r['acc_outside']:5.1f}%  located {100 * r['located']:5.1f}%  colour|loc "
            f"{100 * r['colour_when_located']:5.1f}%  cells {100 * r['cell_accuracy']:5.1f}%  "
            f"exact {100 * r['exact_match']:4.1f}%")


def plot(results, path):
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for name, res in results.items():
        steps, loss = zip(*res["loss_curve"])
        axes[0].plot(steps, loss, label=name)
        ck = res["checkpoints"]
        s = [r["step"] for r in ck]
        line, = axes[1].plot(s, [r["loss_inside"] for r in ck], "o-", label=name)
        axes[1].plot(s, [r["loss_outside"] for r in ck], "x--", color=line.get_color())
        axes[2].plot(s, [100 * r["colour_when_located"] for r in ck], "o-", label=name,
                     color=line.get_color())
        axes[2].plot(s, [100 * r["located"] for r in ck], "x--", color=line.get_color())
    axes[0].set(title="training loss (per-cell mean + beta KL)", xlabel="step", yscale="log")
    axes[1].set(title="held-out loss per cell, inside (o) / outside (x)",
                xlabel="step", yscale="log")
    axes[1].axhline(onp.log(9), color="grey", lw=0.8)
    axes[2].set(title="pattern cells: located (x), right colour (o), %",
                xlabel="step")
    axes[2].axhline(100 / 9, color="grey", lw=0.8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    t0 = time.perf_counter()
    results = {name: probe_variant(name, o) for name, o in VARIANTS.items()}
    results["oracle decoder (true pattern as z)"] = probe_oracle()
    results["_meta"] = {"machine": "2-core AMD EPYC (AVX2), one core, one BLAS thread",
                        "seconds": round(time.perf_counter() - t0, 1),
                        "command": "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 "
                                   "python results/paper-scale/probe_mlp.py"}
    with open(os.path.join(HERE, "mlp_probe.json"), "w") as f:
        json.dump(results, f, indent=1)
    plot({k: v for k, v in results.items() if k != "_meta"}, os.path.join(HERE, "mlp_probe.png"))
