"""Training step time against the number of BLAS threads, on a quiet machine and beside
busy programs: the measurement behind lpn-mini's default thread count (docs/threads.md).

    python benchmarks/threads.py                     # small and paper, 0, 1, 2 busy programs
    python benchmarks/threads.py --steps 50          # fewer steps per thread count
    python benchmarks/threads.py --quick             # the tiny preset, a few steps (a smoke run)

For each preset and each condition (0, 1, 2 busy background programs, which this script
starts itself: a Python loop that spins in a subprocess, like a browser tab at work), one
training step of the preset (Algorithm 2 and Adam, as ``lpn-mini train`` runs it) is timed
with 1, 2, ... (one per core) BLAS threads. The thread counts take turns in blocks of a few
steps, so a change in the machine's other load falls on every count alike. lpn-mini's default
adapts to the machine's load, so in each condition, once the busy programs spin, the script
measures the load as a run would (``blas.busy_cores``) and marks the count the rule picks
there (``blas.threads_for_load``). The table gives the median step time of each count and
its ratio to the fastest count of the same condition. The target: the default within 10% of
the fastest in every condition.
"""
import argparse
import contextlib
import os
import platform
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from lpn_mini.device.allocator import keep_freed_memory
from lpn_mini.device.blas import busy_cores, threads_for_load, usable_cores
from lpn_mini.config import make_config
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, warmup_lr
from lpn_mini.training import loss_and_grad, new_params, step_randomness

# Timed steps per thread count and condition, by preset: a few minutes in all on 2 cores.
STEPS = {"small": 150, "paper": 24, "tiny": 4}
BLOCK = 3  # steps in a row with one thread count before the next count takes its turn
# A busy background program: one core's worth of pure Python, which stops by itself if this
# script dies without stopping it (its parent changes).
SPIN = "import os; parent = os.getppid()\nwhile os.getppid() == parent: pass"


def step_runner(config):
    """A function that runs the next training step of ``config`` and returns its seconds."""
    keep_freed_memory()  # as training.train does
    params = new_params(config)
    state = adam_init(params)
    step = 0

    def run():
        nonlocal params, state, step
        t = time.perf_counter()
        x, y, eps, search = step_randomness(config, step, config.latent_dim)
        loss, grads = loss_and_grad(params, x, y, eps, beta=config.beta,
                                    stop_gradient=config.stop_gradient, check=False, **search)
        grads = clip_by_global_norm(grads, config.grad_clip or None)
        params, state = adam_update(params, grads, state,
                                    warmup_lr(config.lr, step, config.lr_warmup),
                                    weight_decay=config.weight_decay)
        float(loss)
        step += 1
        return time.perf_counter() - t
    return run


@contextlib.contextmanager
def busy_programs(count):
    """``count`` spinning Python processes in the background while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]
    try:
        time.sleep(0.5 * bool(count))  # let them start spinning
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


def blas_count():
    """The BLAS thread count in force now (the first BLAS library NumPy loaded)."""
    return next(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def median_step_times(config, thread_counts, steps, warmup=2):
    """``{threads: median seconds per step}``, the counts taking turns in blocks of steps."""
    run = step_runner(config)
    times = {t: [] for t in thread_counts}
    for t in thread_counts:  # one untimed warm-up block each (first-touch memory, caches)
        with threadpool_limits(limits=t, user_api="blas"):
            for _ in range(warmup):
                run()
    while min(len(v) for v in times.values()) < steps:
        for t in thread_counts:
            with threadpool_limits(limits=t, user_api="blas"):
                if blas_count() != t:
                    raise RuntimeError(f"could not set {t} BLAS threads (got {blas_count()}).")
                times[t] += [run() for _ in range(BLOCK)]
    return {t: float(np.median(v[:steps])) for t, v in times.items()}


def measure(presets, conditions, thread_counts, steps=None, echo=print):
    """Rows ``(preset, busy programs, cores busy as measured, threads, median s, ratio to
    the fastest, is default)``."""
    rows = []
    for name in presets:
        config = make_config(name)
        for busy in conditions:
            with busy_programs(busy):
                others = busy_cores()  # as a run measures it when it starts
                default, why = threads_for_load(others, usable_cores())
                load = os.getloadavg()[0]
                medians = median_step_times(config, thread_counts, steps or STEPS[name])
            fastest = min(medians.values())
            for t, m in medians.items():
                rows.append((name, busy, others, t, m, m / fastest, t == default))
            echo(f"  {name}, {busy} busy (load average {load:.1f}; default {default} "
                 f"thread(s): {why}): " + ", ".join(
                     f"{t} thread(s) {1e3 * m:.1f} ms" for t, m in medians.items()))
    return rows


def table(rows):
    lines = ["| preset | busy programs | cores busy (measured) | BLAS threads | median ms / step "
             "| ratio to fastest |", "|---|---|---|---|---|---|"]
    for name, busy, others, t, m, ratio, default in rows:
        mark = " (default)" if default else ""
        measured = "unknown" if others is None else f"{others:.2f}"
        lines.append(f"| {name} | {busy} | {measured} | {t}{mark} | {1e3 * m:.1f} "
                     f"| {ratio:.2f} |")
    return "\n".join(lines)


def verdicts(rows, tolerance=0.10):
    """One line per (preset, condition): the default's ratio to the fastest, within target?"""
    out = []
    for name, busy, others, t, m, ratio, default in rows:
        if default:
            ok = "ok" if ratio <= 1 + tolerance else f"MISSED (more than {tolerance:.0%})"
            out.append(f"{name}, {busy} busy: default {t} thread(s) at {ratio:.2f}x the "
                       f"fastest: {ok}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int,
                        help="timed steps per thread count and condition (default: "
                             + ", ".join(f"{k} {v}" for k, v in STEPS.items()) + ")")
    parser.add_argument("--presets", default="small,paper",
                        help="comma-separated presets (default: small,paper)")
    parser.add_argument("--busy", default="0,1,2",
                        help="numbers of busy background programs, comma-separated (default "
                             "0,1,2)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: the tiny preset, 4 steps, no busy programs")
    args = parser.parse_args(argv)
    presets = ["tiny"] if args.quick else args.presets.split(",")
    conditions = [0] if args.quick else [int(b) for b in args.busy.split(",")]
    steps = args.steps or (STEPS["tiny"] if args.quick else None)
    cores = usable_cores()
    blas = next(i for i in threadpool_info() if i["user_api"] == "blas")
    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, "
          f"{blas['internal_api']} {blas['version']} ({blas.get('threading_layer', '')}), "
          f"load average {os.getloadavg()[0]:.1f} before starting")
    rows = measure(presets, conditions, list(range(1, cores + 1)), steps)
    print()
    print(table(rows))
    print()
    print("\n".join(verdicts(rows)))


if __name__ == "__main__":
    main()
