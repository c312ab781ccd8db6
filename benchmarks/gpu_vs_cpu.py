"""Training steps per second: NumPy on the CPU (all cores) against CuPy on a GPU.

    python benchmarks/gpu_vs_cpu.py                 # both configs, 20 timed steps each
    python benchmarks/gpu_vs_cpu.py --steps 5 --configs small

One training step = fresh batch on the device, loss and gradient of Algorithm 2 (K = 1,
stop-gradient, latent Adam), global-norm clipping and Adam. Both devices run the same
code and the same seeds, interleaved, float32; the table reports medians and the ratio.
Without CuPy or a GPU it says why and reports the CPU alone.
"""
import argparse
import os
import platform
import time

import numpy as np

from lpn_mini.device.backend import get_module, to_device
from lpn_mini.config import make_config
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm
from lpn_mini.training import loss_and_grad, new_params, step_randomness

CONFIGS = {
    "small": ["grid_size=4", "pattern_size=2", "batch_size=64", "latent_dim=8"],
    "large": ["grid_size=10", "pattern_size=4", "batch_size=128", "latent_dim=32"],
}


def step_timer(config, xp):
    """A function that runs one training step on ``xp``'s device and returns its seconds."""
    params = to_device(new_params(config), xp)
    state = adam_init(params)
    counter = [0]

    def one_step():
        nonlocal params, state
        t = time.perf_counter()
        x, y, eps, search = step_randomness(config, counter[0], config.latent_dim, xp)
        loss, grads = loss_and_grad(params, x, y, eps, beta=config.beta, check=False, **search)
        params, state = adam_update(params, clip_by_global_norm(grads, config.grad_clip), state,
                                    config.lr)
        float(loss)  # wait for the device to finish
        counter[0] += 1
        return time.perf_counter() - t
    return one_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per device and config")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    devices = {"cpu": np}
    try:
        devices["gpu"] = get_module("gpu")
    except ValueError as e:
        print(f"GPU: not measured ({e})")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores")
    print("| config | device | steps/s (median) | ms/step |\n|---|---|---|---|")
    for name in args.configs:
        config = make_config("small", overrides=CONFIGS[name] + ["dtype=float32"])
        timers = {dev: step_timer(config, xp) for dev, xp in devices.items()}
        times = {dev: [] for dev in devices}
        for dev in devices:                       # warm-up (CuPy compiles kernels here)
            timers[dev]()
        for _ in range(args.steps):               # interleaved, so load hits both alike
            for dev in devices:
                times[dev].append(timers[dev]())
        medians = {dev: float(np.median(t)) for dev, t in times.items()}
        for dev, m in medians.items():
            print(f"| {name} | {dev} | {1 / m:.1f} | {1e3 * m:.1f} |")
        if "gpu" in medians:
            print(f"| {name} | gpu / cpu speed-up | {medians['cpu'] / medians['gpu']:.1f}x | |")


if __name__ == "__main__":
    main()
