"""Seconds per training step (Algorithm 2, forward and backward) of the plain MLP and of the
windowed model on the 10 x 10 Pattern task, `paper` preset's official settings, float32.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 1 python results/paper-scale/speed.py

Median of 5 steps after 2 warm-up steps, same batch each time.
"""
import os
import sys
import time

import numpy as onp

from lpn_mini import training
from lpn_mini.device.allocator import keep_freed_memory
from lpn_mini.config import make_config

import windowed  # results/paper-scale/windowed.py, beside this script

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_windowed import windowed_model  # noqa: E402


def seconds_per_step(params, config):
    x, y, eps, search = training.step_randomness(config, 0, config.latent_dim)
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        training.loss_and_grad(params, x, y, eps, beta=config.beta, check=False, **search)
        times.append(time.perf_counter() - t0)
    return float(onp.median(times[2:]))


if __name__ == "__main__":
    keep_freed_memory()
    for batch in (64, 128):
        for K in (0, 1):
            config = make_config("paper", overrides=[f"batch_size={batch}", f"latent_steps={K}"])
            mlp = seconds_per_step(training.new_params(config), config)
            line = f"batch {batch:>3}, Grad {K} training: MLP h 256x2 {mlp:.3f} s"
            for gated in (False, True):
                params = windowed.init_params(onp.random.default_rng(0), (10, 10), 10, 32,
                                              (64, 64), onp.float32, gated=gated)
                with windowed_model():
                    line += (f", windowed h 64x2{' gated' if gated else ''} "
                             f"{seconds_per_step(params, config):.3f} s")
            print(line, flush=True)
