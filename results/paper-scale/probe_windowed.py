"""Does the windowed, weight-shared model learn the 10 x 10 Pattern task?

Trains ``windowed.py`` beside it with the library's own Algorithm 2 (``training.loss_and_grad``:
leave-one-out latents, KL, per-cell mean likelihood, the latent search of the `paper`
preset's official settings), the library's tasks (``training.step_randomness``: held-out
programs never trained on), clipping and AdamW, for a short budget; then scores it on 256
held-out tasks, leave-one-out, at Grad 0 and after latent gradient steps (the library's
``latent.search_latents`` with the evaluation settings of ``evaluation.search_options``).

The library's training loss and latent search call the plain MLP's functions; the windowed
model is not a config option. So this probe points the four names
those modules call (``training.encode``, ``losses.decode``, ``latent.decoder_first_layer``,
``latent.decoder_logits``) at ``windowed``'s functions of the same call signatures, for the
length of the ``with windowed_model():`` block, and nothing else changes.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 python \\
        results/paper-scale/probe_windowed.py --steps 1500 --set latent_steps=0

With ``--name NAME``, writes ``results/paper-scale/windowed_NAME.json`` and the trained
weights to ``runs/paper-scale/windowed_NAME.npz`` (git-ignored, in ``tree_leaves`` order).
"""
import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time

import numpy as onp

from lpn_mini import latent, losses, training
from lpn_mini.device.allocator import keep_freed_memory
from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks, search_options
from lpn_mini.experiments.paper_scale import split_scores
from lpn_mini.inference import scores
from lpn_mini.latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, tree_leaves, warmup_lr

import windowed  # results/paper-scale/windowed.py, beside this script

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_mlp import probe_oracle  # noqa: E402  (the MLP probe's oracle)

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = ["batch_size=64", "eval_tasks=256", "seed=0"]


@contextlib.contextmanager
def windowed_model():
    """Run the library's training loss and latent search with ``windowed``'s networks."""
    hooks = [(training, "encode", windowed.encode), (losses, "decode", windowed.decode),
             (latent, "decoder_first_layer", windowed.decoder_first_layer),
             (latent, "decoder_logits", windowed.decoder_logits)]
    saved = [(module, name, getattr(module, name)) for module, name, _ in hooks]
    for module, name, f in hooks:
        setattr(module, name, f)
    try:
        yield
    finally:
        for module, name, f in saved:
            setattr(module, name, f)


def evaluate(params, config, x, y, num_steps, chunk=32):
    """Leave-one-out predictions of every pair from the other pairs (like
    ``inference.leave_one_out_predict``), after ``num_steps`` latent gradient steps; the
    latents start from samples of q, as in ``evaluation.evaluate``. Returns the logits."""
    rng = onp.random.default_rng([config.eval_seed, 1])
    d = windowed.latent_dim_of(params)
    out = []
    for s in range(0, len(x), chunk):
        xs, ys = x[s:s + chunk], y[s:s + chunk]
        eps = rng.standard_normal(xs.shape[:2] + (d,)).astype(config.dtype)
        mu, logvar = windowed.encode(params["encoder"], xs, ys)
        z = leave_one_out_mean(reparameterize(mu, logvar, eps))          # (B, N, d)
        opts = search_options(config, "grad", num_steps)
        z = search_latents(params["decoder"], xs, ys, z, LEAVE_ONE_OUT,
                           best_of_trajectory=config.best_of_trajectory, **opts)
        out.append(windowed.decode(params["decoder"], xs, z))           # (B, N, H, W, C)
    return onp.concatenate(out)


def attention_report(params, x, y):
    """Where the encoder's heads look: per head, the mean weight on the anchor cell (the 1 of
    x) and the mean largest weight on any one cell (uniform: 1 / (H W) = 0.01)."""
    f = windowed.cell_features(params["encoder"], x, y)                # (B, N, H W, h)
    a = windowed.attention(params["encoder"], f, x)                     # (B, N, H W, A)
    anchor = (x == 1).reshape(x.shape[:-2] + (-1, 1))                   # (B, N, H W, 1)
    on_anchor, largest = onp.sum(a * anchor, axis=-2), a.max(axis=-2)  # (B, N, A) each
    return {"on_anchor": on_anchor.mean(axis=(0, 1)).astype(float).round(3).tolist(),
            "largest": largest.mean(axis=(0, 1)).astype(float).round(3).tolist()}


def run(config, steps, hidden, eval_every, final_steps, watch=0, **model_options):
    params = windowed.init_params(onp.random.default_rng([config.seed, 0]), (10, 10),
                                  config.num_colors, config.latent_dim, hidden,
                                  onp.dtype(config.dtype), **model_options)
    state = adam_init(params)
    ex, ey = eval_tasks(config)
    curve, checkpoints, t_train = [], [], 0.0
    d = config.latent_dim
    with windowed_model():
        for step in range(steps):
            t0 = time.perf_counter()
            x, y, eps, search = training.step_randomness(config, step, d)
            loss, grads = training.loss_and_grad(params, x, y, eps, beta=config.beta,
                                                 stop_gradient=config.stop_gradient,
                                                 check=False, **search)  # Algorithm 2
            grads = clip_by_global_norm(grads, config.grad_clip or None)
            params, state = adam_update(params, grads, state,
                                        warmup_lr(config.lr, step, config.lr_warmup),
                                        weight_decay=config.weight_decay)
            t_train += time.perf_counter() - t0
            curve.append(float(loss))
            if (step + 1) % eval_every == 0 or step + 1 == steps:
                row = {"step": step + 1, "train_loss": float(onp.mean(curve[-eval_every:])),
                       "seconds_per_step": round(t_train / (step + 1), 3),
                       **split_scores(evaluate(params, config, ex[:64], ey[:64], watch),
                                      ey[:64])}
                checkpoints.append(row)
                print(f"step {row['step']:>5}  train loss {row['train_loss']:.4f}  "
                      f"{row['seconds_per_step']:.2f} s/step | Grad {watch} on 64 held-out tasks: "
                      f"in {100 * row['acc_inside']:5.1f}% (located {100 * row['located']:5.1f}%"
                      f", colour|loc {100 * row['colour_when_located']:5.1f}%)  cells "
                      f"{100 * row['cell_accuracy']:5.1f}%  exact {100 * row['exact_match']:5.1f}%",
                      flush=True)
        final = {"attention": attention_report(params, ex, ey)}
        print("attention per head: on the anchor", final["attention"]["on_anchor"],
              " largest on one cell", final["attention"]["largest"], flush=True)
        for k in final_steps:
            t0 = time.perf_counter()
            logits = evaluate(params, config, ex, ey, k)
            final[f"Grad {k}"] = {**scores(onp.argmax(logits, -1), ey),
                                  **split_scores(logits, ey),
                                  "seconds": round(time.perf_counter() - t0, 1)}
            r = final[f"Grad {k}"]
            print(f"Grad {k:>3} on {len(ex)} held-out tasks: exact {100 * r['exact_match']:5.1f}%"
                  f"  cells {100 * r['cell_accuracy']:5.1f}%  inside {100 * r['acc_inside']:5.1f}%"
                  f"  ({r['seconds']} s)", flush=True)
    return {"curve": curve, "checkpoints": checkpoints, "final": final}, params


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--set", nargs="*", default=[], help="overrides of the paper preset")
    parser.add_argument("--hidden", default="128,128")
    parser.add_argument("--window", type=int, default=7)
    parser.add_argument("--encoder-window", type=int, default=7)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--score-scale", type=float, default=0.0)
    parser.add_argument("--attend", default="features", choices=("features", "input"))
    parser.add_argument("--gated", action="store_true", help="windowed.init_params(gated=True)")
    parser.add_argument("--oracle", action="store_true", help="train the decoder alone, given "
                        "the one-hot of the true pattern as z (probe_mlp.probe_oracle)")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--final", default="0,20,100", help="Grad K columns at the end")
    parser.add_argument("--watch", type=int, default=0, help="Grad K of the evaluations "
                                                             "during training (64 tasks)")
    parser.add_argument("--name", default=None, help="windowed_<name>.json (default: none)")
    args = parser.parse_args()
    keep_freed_memory()
    config = make_config("paper", overrides=BASE + args.set)
    hidden = tuple(int(h) for h in args.hidden.split(","))
    t0 = time.perf_counter()
    options = dict(window=args.window, encoder_window=args.encoder_window, heads=args.heads,
                   score_scale=args.score_scale, attend=args.attend, gated=args.gated)
    if args.oracle:
        result = probe_oracle(args.steps, hidden, config.lr, net=windowed, window=args.window,
                              gated=args.gated)
        result["meta"] = {"argv": sys.argv[1:], "hidden": hidden, **options}
        with open(os.path.join(HERE, f"windowed_{args.name}.json"), "w") as f:
            json.dump(result, f, indent=1)
        sys.exit()
    result, params = run(config, args.steps, hidden, args.eval_every,
                         [int(k) for k in args.final.split(",") if k], args.watch, **options)
    result["meta"] = {"argv": sys.argv[1:], "config": dataclasses.asdict(config),
                      "hidden": hidden, **options,
                      "seconds": round(time.perf_counter() - t0, 1),
                      "machine": "2-core AMD EPYC (AVX2), one core (taskset -c 1), one BLAS "
                                 "thread, shared with another job on the same core"}
    if args.name:
        os.makedirs("runs/paper-scale", exist_ok=True)  # git-ignored: the trained weights
        onp.savez(f"runs/paper-scale/windowed_{args.name}.npz", *tree_leaves(params))
        with open(os.path.join(HERE, f"windowed_{args.name}.json"), "w") as f:
            json.dump(result, f, indent=1)
