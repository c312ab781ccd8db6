"""One LPN training step in lpn-mini (NumPy + autograd), JAX (jit) and PyTorch (eager).

    pip install -e ".[bench]"          # jax and torch, CPU builds; never needed by lpn-mini
    python benchmarks/speed.py         # the full table (about 10 minutes on 2 cores)
    python benchmarks/speed.py --quick # a smoke run: tiny config, few repeats

A training step is the loss of Algorithm 2 and its gradient with respect to every
parameter: K plain latent steps (``z + alpha * grad``), leave-one-out latents, sum
log-likelihood, KL. Before anything is timed, the three implementations are given the same
float64 parameters and inputs and must agree on the loss and every gradient to 1e-9
(``frameworks.check_equivalence``). Then, per config, dtype and K, the three are timed
interleaved (the order rotates every round), and the table reports median milliseconds and
the ratios lpn-mini / JAX and lpn-mini / PyTorch from the same run. Ratios below 1 mean
lpn-mini is faster.

GFLOP/s counts the model's nominal dense FLOPs (each one-hot product counted in full, forward
and backward = 3 x forward) over the median time, and "% peak" divides that by this
machine's measured float32/float64 matrix-multiply rate (NumPy, 2048 x 2048). Peak memory is
the growth of the process's peak resident set during one step after a warm-up step, each
implementation in its own fresh process (Linux only).
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as onp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpn_mini.allocator import keep_freed_memory  # noqa: E402
from frameworks import (check_equivalence, jax_loss_and_grad, to_jax, to_torch,  # noqa: E402
                        torch_loss_and_grad)

# name: (tasks B, pairs N, grid G, pattern P, colours C, latent d, hidden)
CONFIGS = {
    "demo": (64, 4, 4, 2, 10, 8, (256, 256)),        # the README's demo
    "paper": (128, 4, 10, 4, 10, 32, (256, 256)),    # the paper's Pattern config
    "paper-b32": (32, 4, 10, 4, 10, 32, (256, 256)),  # small batch: Python overhead counts
    "tiny": (8, 4, 4, 2, 10, 8, (64, 64)),           # --quick
}
CASES = {  # name: (K, stop_gradient)
    "K=0": (0, True), "K=1": (1, True), "K=1 no-sg": (1, False), "K=5": (5, True)}
ALPHA, BETA = 0.1, 1e-4


def make_inputs(config, dtype, seed=0):
    from lpn_mini import init_params, pattern_tasks
    B, N, G, P, C, d, hidden = CONFIGS[config]
    rng = onp.random.default_rng(seed)
    x, y = pattern_tasks(rng, B, N, G, P, 1.0, C)
    params = init_params(rng, (G, G), C, d, hidden, dtype=onp.dtype(dtype))
    eps = rng.standard_normal((B, N, d)).astype(dtype)
    return params, x, y, eps


def step_functions(config, dtype, case, which=("lpn-mini", "jax", "torch")):
    """``{name: zero-argument function running one step to completion}``."""
    from lpn_mini.training import loss_and_grad  # what the training loop runs
    K, sg = CASES[case]
    C = CONFIGS[config][4]
    params, x, y, eps = make_inputs(config, dtype)
    fns = {}
    if "lpn-mini" in which:
        fns["lpn-mini"] = lambda: loss_and_grad(params, x, y, eps, num_steps=K, alpha=ALPHA,
                                                beta=BETA, stop_gradient=sg, check=False)
    if "jax" in which:
        import jax
        jax.config.update("jax_enable_x64", True)
        g = jax_loss_and_grad(C, K, ALPHA, BETA, sg)
        jp, jx, jy, je = to_jax(params), to_jax(x), to_jax(y), to_jax(eps)
        fns["jax"] = lambda: jax.block_until_ready(g(jp, jx, jy, je))
    if "torch" in which:
        h = torch_loss_and_grad(C, K, ALPHA, BETA, sg)
        tp, tx, ty, te = to_torch(params, True), to_torch(x), to_torch(y), to_torch(eps)
        fns["torch"] = lambda: h(tp, tx, ty, te)
    return fns


def nominal_flops(config, case):
    """Dense FLOPs of one step (forward + backward = 3 x forward), one-hots counted in full."""
    B, N, G, P, C, d, hidden = CONFIGS[config]
    K, sg = CASES[case]
    n = G * G * C
    mlp = lambda sizes: sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    enc = B * N * mlp([2 * n, *hidden, 2 * d])
    dec = B * N * mlp([n + d, *hidden, n])
    inner = K * N * dec * (3 if sg else 6)  # each latent step: every pair under every latent
    return 3 * (enc + dec) + inner


def matmul_peak(dtype, size=2048, repeats=5):
    a = onp.random.default_rng(0).standard_normal((size, size)).astype(dtype)
    a @ a
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t)
    return 2 * size ** 3 / statistics.median(times)


def time_interleaved(fns, repeats, warmup=2, settle=0.2):
    for f in fns.values():
        for _ in range(warmup):
            f()
    names, times = list(fns), {k: [] for k in fns}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            # Let the previous implementation's thread pools fall asleep first: OpenMP,
            # Eigen and OpenBLAS workers spin-wait for a while after their last job, and
            # would steal the cores from whichever implementation runs next.
            time.sleep(settle)
            t = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


# --- peak memory, one implementation per fresh process ---

def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(config, dtype, case, which):
    """In a fresh process: warm up, return freed memory to the OS, reset the peak, run one
    step; print the peak growth in MiB."""
    keep_freed_memory()
    fn = step_functions(config, dtype, case, (which,))[which]
    fn()
    fn()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM, the peak resident set size
    before = _rss_kib("VmRSS")
    fn()
    print(json.dumps({"peak_mib": (_rss_kib("VmHWM") - before) / 1024}))


def peak_memory(config, dtype, case, which):
    if not sys.platform.startswith("linux"):
        return None
    out = subprocess.run([sys.executable, __file__, "--memory-child", config, dtype, case, which],
                         capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny config, 3 repeats, no memory")
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), help="default: demo paper paper-b32")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    p.add_argument("--cases", nargs="+", choices=list(CASES), help="default: all four")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 15; 7 at paper)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--json", help="also write every number to this file")
    p.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        return memory_child(*args.memory_child)
    try:
        import jax  # noqa: F401
        import torch
    except ModuleNotFoundError as e:
        sys.exit(f"this benchmark compares against JAX and PyTorch; install them with "
                 f'pip install -e ".[bench]" ({e}).')
    configs = args.configs or (["tiny"] if args.quick else ["demo", "paper", "paper-b32"])
    # What lpn-mini's training loop does first (lpn_mini/allocator.py). It is a setting of
    # the process, so JAX and PyTorch run under it too.
    keep_freed_memory()

    # 1. Equivalence, float64, every case, before any timing.
    print("equivalence (float64, max relative difference of loss and gradients vs lpn-mini):")
    for case, (K, sg) in CASES.items():
        params, x, y, eps = make_inputs("tiny", "float64", seed=1)
        diffs = check_equivalence(params, x, y, eps, K, ALPHA, BETA, sg)
        print(f"  {case:10s} " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()) + "  ok")

    threads = {"torch": torch.get_num_threads(), "cores": os.cpu_count()}
    peaks = {dt: matmul_peak(dt) for dt in args.dtypes}
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch threads {threads['torch']}; NumPy matmul peak "
          + ", ".join(f"{dt} {v / 1e9:.1f} GFLOP/s" for dt, v in peaks.items()))
    rows = []
    header = ("| config | dtype | case | lpn-mini ms | JAX-jit ms | PyTorch ms | lpn/JAX | "
              "lpn/PyTorch | lpn GFLOP/s (% peak) | JAX (% peak) | peak MiB lpn / JAX / PyTorch |")
    print("\n" + header)
    print("|" + "---|" * (header.count("|") - 1))
    for config in configs:
        cases = args.cases or (["K=0"] if config == "paper-b32" else list(CASES))
        repeats = args.repeats or (3 if args.quick else 7 if config.startswith("paper") else 15)
        for dtype in args.dtypes:
            for case in cases:
                med = time_interleaved(step_functions(config, dtype, case), repeats)
                flops = nominal_flops(config, case)
                mem = None
                if not (args.quick or args.no_memory) and config == "paper" and case in ("K=1", "K=1 no-sg"):
                    mem = {k: peak_memory(config, dtype, case, k) for k in med}
                row = dict(config=config, dtype=dtype, case=case, ms={k: 1e3 * v for k, v in med.items()},
                           ratio_jax=med["lpn-mini"] / med["jax"],
                           ratio_torch=med["lpn-mini"] / med["torch"],
                           gflops={k: flops / v / 1e9 for k, v in med.items()},
                           peak_fraction={k: flops / v / peaks[dtype] for k, v in med.items()},
                           peak_mib=mem, repeats=repeats)
                rows.append(row)
                mem_cell = (" / ".join(f"{mem[k]:.0f}" for k in ("lpn-mini", "jax", "torch"))
                            if mem else "-")
                print(f"| {config} | {dtype} | {case} | {row['ms']['lpn-mini']:.1f} | "
                      f"{row['ms']['jax']:.1f} | {row['ms']['torch']:.1f} | "
                      f"{row['ratio_jax']:.2f} | {row['ratio_torch']:.2f} | "
                      f"{row['gflops']['lpn-mini']:.1f} ({100 * row['peak_fraction']['lpn-mini']:.0f}%) | "
                      f"{100 * row['peak_fraction']['jax']:.0f}% | {mem_cell} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, matmul_peak=peaks, machine=platform.platform(),
                           cores=os.cpu_count(), threads=threads), f, indent=1)


if __name__ == "__main__":
    main()
