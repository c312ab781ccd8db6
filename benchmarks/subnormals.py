"""Subnormal numbers: how much slower a training step gets once the decoder is sure of its
cells, and what ``losses.flush_to_zero`` gives back.

    python benchmarks/subnormals.py                          # paper-conv, Grad 1, 7 rounds
    python benchmarks/subnormals.py --checkpoint runs/.../checkpoint.npz   # a real late state
    python benchmarks/subnormals.py --quick                  # a smoke run in seconds

Subnormals are the float32 numbers below 1.2e-38. A CPU computes with them several times
more slowly than with normal numbers, unless its flush-to-zero mode is on (XLA, under JAX,
turns it on; NumPy cannot). Late in training the decoder gives a wrong colour a probability
below 1e-38, the gradient of log-softmax fills with such numbers, and the whole backward
pass inherits them. ``losses._log_softmax_vjp`` sets them to 0 (``flush_to_zero``).

Two states of the same model, each timed with the library as it is ("flush") and with
``flush_to_zero`` replaced by the identity ("no flush"), interleaved round by round:

- ``fresh``: the initial parameters (logits near 0: no subnormals anywhere);
- ``sure``: the same parameters with the decoder's last layer (the kernel, or the logits
  layer of the MLP) multiplied by the factor that makes ``--share`` percent of the
  probabilities subnormal, as after long training; or, with ``--checkpoint``, the
  parameters of a real run's checkpoint.

The table reports the median seconds of one loss-and-gradient step (Algorithm 2), the
share of log-probabilities below log(1.2e-38) (the colours whose probability is
subnormal), and the ratio "no flush" / "flush" measured in the same run.
"""
import argparse
import os
import platform
import time

import numpy as np

import lpn_mini.losses as losses
from lpn_mini.checkpoint import load_checkpoint
from lpn_mini.config import make_config
from lpn_mini.latent import leave_one_out_mean
from lpn_mini.architectures import decode, encode
from lpn_mini.training import loss_and_grad, new_params, step_randomness

FLUSH = losses.flush_to_zero


def use_flush(on):
    """The library as it is (``on``), or with ``flush_to_zero`` replaced by the identity; its
    caller, ``losses._log_softmax_vjp``, looks the name up at every call."""
    losses.flush_to_zero = FLUSH if on else (lambda a: a)


def sure_of_itself(params, scale):
    """``params`` with the decoder's last layer multiplied by ``scale``: the same model, with
    its logits ``scale`` times further apart."""
    decoder = params["decoder"]
    if isinstance(decoder, dict):                             # the conv model: its kernel
        W, b = decoder["kernel"]
        decoder = {**decoder, "kernel": (W * scale, b * scale)}
    else:                                                     # the plain MLP: its last layer
        W, b = decoder[-1]
        decoder = decoder[:-1] + [(W * scale, b * scale)]
    return {**params, "decoder": decoder}


def subnormal_share(params, config, step=0):
    """The share of the decoder's log-probabilities whose probability is subnormal, on one
    training batch decoded from the leave-one-out mean of the encoder's mu."""
    x, y, _, _ = step_randomness(config, step, config.latent_dim)
    mu, _ = encode(params["encoder"], x, y)
    log_p = losses.log_softmax(decode(params["decoder"], x, leave_one_out_mean(mu)))
    return float(np.mean(log_p < np.log(np.finfo(log_p.dtype).tiny)))


def scale_for_share(params, config, share):
    """The factor for ``sure_of_itself`` at which about ``share`` of the probabilities are
    subnormal (bisection on its logarithm; the share grows with the factor)."""
    low, high = 0.0, 8.0                                     # log10 of the factor
    for _ in range(20):
        mid = (low + high) / 2
        if subnormal_share(sure_of_itself(params, 10 ** mid), config) < share:
            low = mid
        else:
            high = mid
    return 10 ** high


def step_seconds(params, config, step):
    x, y, eps, search = step_randomness(config, step, config.latent_dim)
    t = time.perf_counter()
    loss, _ = loss_and_grad(params, x, y, eps, beta=config.beta,
                            stop_gradient=config.stop_gradient, check=False, **search)
    float(loss)
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny config, 2 rounds: a smoke run")
    p.add_argument("--rounds", type=int, default=7, help="timed rounds per case (default 7)")
    p.add_argument("--share", type=float, default=3.0,
                   help="percent of subnormal probabilities the 'sure' state is scaled to "
                        "(default 3: roughly a Grad 1 paper-scale run's share at step 6000)")
    p.add_argument("--checkpoint", help="time this checkpoint's parameters as the 'sure' state")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config overrides (default: the paper preset with latent_steps=1)")
    args = p.parse_args()
    if args.rounds < 1:
        p.error("--rounds must be at least 1.")
    if args.checkpoint:
        params_sure, _, config, _ = load_checkpoint(args.checkpoint)
        params = new_params(config)
        sure_name = f"checkpoint ({os.path.basename(os.path.dirname(args.checkpoint))})"
    else:
        overrides = (["grid_size=5", "pattern_size=2", "batch_size=8", "hidden=32,32",
                      "latent_dim=8"] if args.quick else []) + ["latent_steps=1"] + args.set
        config = make_config("paper", overrides=overrides)
        params = new_params(config)
        scale = scale_for_share(params, config, args.share / 100)
        params_sure = sure_of_itself(params, scale)
        sure_name = f"sure (last layer x {scale:.3g})"
    rounds = 2 if args.quick else args.rounds
    states = {"fresh": params, sure_name: params_sure}
    times = {(s, f): [] for s in states for f in ("flush", "no flush")}
    for s, prm in states.items():                             # warm up every case once
        for f in ("flush", "no flush"):
            use_flush(f == "flush")
            step_seconds(prm, config, 0)
    try:
        for r in range(rounds):
            for s, prm in states.items():
                for f in ("flush", "no flush"):
                    use_flush(f == "flush")
                    times[s, f].append(step_seconds(prm, config, r))
    finally:
        use_flush(True)
    print(f"{config.architecture}, {config.grid_size}x{config.grid_size} grids, batch "
          f"{config.batch_size}, K = {config.latent_steps}, {np.dtype(config.dtype).name}; "
          f"{rounds} interleaved rounds; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print("| state | subnormal probabilities | flush, s / step | no flush, s / step | "
          "no flush / flush |")
    print("|---|---|---|---|---|")
    for s, prm in states.items():
        a, b = (float(np.median(times[s, f])) for f in ("flush", "no flush"))
        print(f"| {s} | {100 * subnormal_share(prm, config):.1f}% | {a:.3f} | {b:.3f} | "
              f"{b / a:.2f} |")


if __name__ == "__main__":
    main()
