"""Does the conv model (lpn_mini/conv.py) leave the MLP's plateau?

Trains the conv architecture with the library's Algorithm 2 (``training.loss_and_grad``:
leave-one-out latents, KL, per-cell mean likelihood, the `paper` preset's official
latent search), AdamW with warm-up and clipping, on training-side programs, and every
``--every`` steps scores it on 64 held-out tasks, leave-one-out, at the test-time steps of
``--watch``: accuracy inside the pattern (the bag-of-colours plateau is 24.8%, see
``plateau.py``) and exact match. The loop is ``training.train``'s, written out so that it
can measure while it trains.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 python \\
        results/paper-scale/probe_conv.py --steps 1500 --every 100 --watch 0 \\
        --set batch_size=64 latent_steps=0 lr=4e-4          # conv_grad0-lr4e-4.log
    ... --steps 2500 --every 250 --watch 0 --set batch_size=64 latent_steps=0 lr=1e-3
                                                            # conv_grad0-lr1e-3.log
    ... --steps 2500 --every 250 --watch 0,20 --set batch_size=64 lr=4e-4
                                                            # conv_grad1-lr4e-4.log (stopped at 1500)

Prints one line per evaluation (the logs beside this file are those lines; they were
printed by this loop at commit a082e06, before three speed-ups of conv.py that compute the
same function: the first line, step 100 of conv_grad0-lr4e-4.log, reproduces with this
file). Seconds per step are from a core shared with another probe.
"""
import argparse
import time

import numpy as onp

from lpn_mini import training
from lpn_mini.device.allocator import keep_freed_memory
from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks, search_options
from lpn_mini.experiments.paper_scale import split_scores  # inside / outside the pattern
from lpn_mini.inference import scores
from lpn_mini.latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from lpn_mini.architectures import decode, encode, latent_dim_of
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, warmup_lr


def evaluate(params, config, x, y, num_steps, chunk=32):
    """Leave-one-out logits of every pair from the other pairs' latents (sampled from q, as
    in ``evaluation.evaluate``) after ``num_steps`` latent gradient steps."""
    rng = onp.random.default_rng([config.eval_seed, 1])
    d, out = latent_dim_of(params), []
    for s in range(0, len(x), chunk):
        xs, ys = x[s:s + chunk], y[s:s + chunk]
        eps = rng.standard_normal(xs.shape[:2] + (d,)).astype(config.dtype)
        mu, logvar = encode(params["encoder"], xs, ys)
        z = leave_one_out_mean(reparameterize(mu, logvar, eps))
        z = search_latents(params["decoder"], xs, ys, z, LEAVE_ONE_OUT,
                           best_of_trajectory=config.best_of_trajectory,
                           **search_options(config, "grad", num_steps))
        out.append(decode(params["decoder"], xs, z))
    return onp.concatenate(out)


def main(steps, every, watch, overrides):
    keep_freed_memory()
    config = make_config("paper", overrides=["eval_tasks=256", "seed=0", "architecture=conv",
                                             *overrides])
    params = training.new_params(config)
    state, (ex, ey), t = adam_init(params), eval_tasks(config), 0.0
    for step in range(steps):
        t0 = time.perf_counter()
        x, y, eps, search = training.step_randomness(config, step, config.latent_dim)
        loss, grads = training.loss_and_grad(params, x, y, eps, beta=config.beta,
                                             stop_gradient=config.stop_gradient, check=False,
                                             **search)
        grads = clip_by_global_norm(grads, config.grad_clip or None)
        params, state = adam_update(params, grads, state,
                                    warmup_lr(config.lr, step, config.lr_warmup),
                                    weight_decay=config.weight_decay)
        t += time.perf_counter() - t0
        if (step + 1) % every == 0:
            for k in watch:
                logits = evaluate(params, config, ex[:64], ey[:64], k)
                inside = split_scores(logits, ey[:64])["acc_inside"]
                exact = scores(onp.argmax(logits, -1), ey[:64])["exact_match"]
                print(f"step {step + 1} loss {float(loss):.4f} {t / (step + 1):.3f}s/step "
                      f"Grad{k}: inside {100 * inside:.1f} exact {100 * exact:.1f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--every", type=int, default=100, help="steps between evaluations")
    parser.add_argument("--watch", default="0", help="Grad K of the evaluations, e.g. 0,20")
    parser.add_argument("--set", nargs="*", default=[], help="overrides of the paper preset")
    args = parser.parse_args()
    main(args.steps, args.every, [int(k) for k in args.watch.split(",")], args.set)
