"""Is the 0.31-nats plateau the "bag of colours" solution?

A model that knows WHERE the pattern goes and WHICH colours it holds (their counts), but not
which colour sits where, can do no better inside the pattern than predict each colour with
its frequency: an argmax accuracy of E[largest count] / 16 and a loss of
-E[sum_c n_c / 16 log(n_c / 16)] nats per pattern cell. This script computes those two
numbers for 4 x 4 patterns of 9 uniform colours (Monte Carlo, 200k patterns, seed 0) and
then reads the trained models of ``probe_mlp.py`` (their checkpoints in
``runs/paper-scale/``) and of ``probe_windowed.py`` (``runs/paper-scale/windowed_*.npz``),
decodes 256 held-out tasks leave-one-out from the encoder's mu (Grad 0), and asks of the
predictions inside the pattern:

- in the bag:    the predicted colour occurs somewhere in the task's pattern;
- a mode colour: the predicted colour is one of the pattern's most frequent colours;
- distinct:      how many different colours the model paints over the 16 cells.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 python results/paper-scale/plateau.py

Writes ``results/paper-scale/plateau.json``.
"""
import glob
import json
import os

import numpy as onp

from lpn_mini.checkpoint import load_checkpoint
from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks
from lpn_mini.experiments.paper_scale import split_scores
from lpn_mini.latent import leave_one_out_mean
from lpn_mini.architectures import decode, encode
from lpn_mini.optim import tree_unflatten

import windowed  # results/paper-scale/windowed.py, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))


def bag_of_colours_bound(P=4, colours=9, samples=200_000, seed=0):
    """Accuracy and loss inside the pattern of the best model that knows only the counts."""
    pattern = onp.random.default_rng(seed).integers(1, colours + 1, (samples, P * P))
    counts = onp.stack([(pattern == c).sum(axis=1) for c in range(1, colours + 1)], axis=1)
    freq = counts / (P * P)
    loss = -onp.sum(freq * onp.log(onp.where(counts > 0, freq, 1.0)), axis=1)
    return {"acc_inside": float(counts.max(axis=1).mean() / (P * P)),
            "loss_inside": float(loss.mean())}


def bag_scores(pred, y):
    """The three questions above, for predictions ``pred`` and targets ``y`` (B, N, H, W)."""
    inside = y != 0
    in_bag, mode, distinct = [], [], []
    for b in range(y.shape[0]):
        for n in range(y.shape[1]):
            colours = y[b, n][inside[b, n]]                       # the 16 pattern cells
            counts = onp.bincount(colours, minlength=10)
            painted = pred[b, n][inside[b, n]]
            in_bag.append(onp.isin(painted, colours).mean())
            mode.append((counts[painted] == counts.max()).mean())
            distinct.append(len(onp.unique(painted)))
    return {"in_bag": float(onp.mean(in_bag)), "mode_colour": float(onp.mean(mode)),
            "distinct_colours": float(onp.mean(distinct))}


def mlp_logits(run_dir, x, y):
    params, _, _, _ = load_checkpoint(os.path.join(run_dir, "checkpoint.npz"))
    mu, _ = encode(params["encoder"], x, y)
    return decode(params["decoder"], x, leave_one_out_mean(mu))


def windowed_logits(npz, x, y):
    with open(os.path.join(HERE, os.path.basename(npz)[:-4] + ".json")) as f:
        meta = json.load(f)["meta"]
    like = windowed.init_params(onp.random.default_rng(0), (10, 10), 10,
                                meta["config"]["latent_dim"], tuple(meta["hidden"]),
                                onp.float32, window=meta["window"],
                                encoder_window=meta["encoder_window"], heads=meta["heads"],
                                attend=meta.get("attend", "features"),
                                gated=meta.get("gated", False))
    with onp.load(npz) as f:
        params = tree_unflatten(like, [f[f"arr_{i}"] for i in range(len(f.files))])
    mu, _ = windowed.encode(params["encoder"], x, y)
    return windowed.decode(params["decoder"], x, leave_one_out_mean(mu))


if __name__ == "__main__":
    config = make_config("paper", overrides=["eval_tasks=256"])
    x, y = eval_tasks(config)
    out = {"bag-of-colours bound (counts known, positions not)": bag_of_colours_bound()}
    print(out)
    runs = sorted(glob.glob("runs/paper-scale/*/checkpoint.npz"))
    models = {os.path.basename(os.path.dirname(f)): (mlp_logits, os.path.dirname(f)) for f in runs}
    models.update({os.path.basename(f)[:-4]: (windowed_logits, f)
                   for f in sorted(glob.glob("runs/paper-scale/windowed_*.npz"))})
    for name, (logits_of, path) in models.items():
        logits = logits_of(path, x, y)
        row = {**split_scores(logits, y), **bag_scores(onp.argmax(logits, -1), y)}
        out[name] = row
        print(f"{name:<34} acc inside {100 * row['acc_inside']:5.1f}%  loss inside "
              f"{row['loss_inside']:.3f}  in the bag {100 * row['in_bag']:5.1f}%  a mode colour "
              f"{100 * row['mode_colour']:5.1f}%  distinct colours {row['distinct_colours']:.2f}",
              flush=True)
    with open(os.path.join(HERE, "plateau.json"), "w") as f:
        json.dump(out, f, indent=1)
