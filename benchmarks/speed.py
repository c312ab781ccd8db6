"""One LPN training step in lpn-mini (NumPy + autograd), JAX (jit) and PyTorch (eager).

    pip install -e ".[bench]"          # jax and torch, CPU builds; never needed by lpn-mini
    python benchmarks/speed.py         # the full table (about 10 minutes on 2 cores)
    python benchmarks/speed.py --quick # a smoke run: tiny config, few repeats
    python benchmarks/speed.py --configs paper-conv   # the conv model only (needs JAX only)

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

The conv model (``lpn_mini/conv.py``, configs ending in ``-conv``) has its own table: lpn-mini
against its JAX-jit twin (``frameworks.jax_conv_loss_and_grad``) twice, once over every
window entry (k k C of them, the model as defined) and once over the entries the batch's
grids have (what lpn-mini computes, ``conv.present_windows``; on the Pattern task 2 k k).
Its step clears lpn-mini's remembered windows first, as a training step on new grids finds
them; JAX unfolds x inside the compiled step. The present entries are found once, on the
host, before JAX's step is compiled (they are a constant of it; lpn-mini finds them in every
step), which on the Pattern task is every batch's set. No FLOP or memory columns for it.
"""
import argparse
import ctypes
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as onp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpn_mini.device.allocator import keep_freed_memory  # noqa: E402
from frameworks import (check_conv_equivalence, check_equivalence, jax_conv_loss_and_grad,  # noqa: E402
                        jax_loss_and_grad, present_entries, to_jax, to_torch,
                        torch_loss_and_grad)

# name: (tasks B, pairs N, grid G, pattern P, colours C, latent d, hidden)
CONFIGS = {
    "demo": (64, 4, 4, 2, 10, 8, (256, 256)),        # the README's demo
    "paper": (128, 4, 10, 4, 10, 32, (256, 256)),    # the paper's Pattern config
    "paper-b32": (32, 4, 10, 4, 10, 32, (256, 256)),  # small batch: Python overhead counts
    "tiny": (8, 4, 4, 2, 10, 8, (64, 64)),           # --quick
}
# The conv model, name: (tasks B, pairs N, grid G, pattern P, colours C, latent d, hidden,
# window k)
CONV_CONFIGS = {
    "paper-conv": (128, 4, 10, 4, 10, 32, (256, 256), 7),  # the paper preset's model
    "tiny-conv": (8, 4, 5, 3, 10, 8, (64, 64), 3),         # a smoke run
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


def make_conv_inputs(config, dtype, seed=0):
    from lpn_mini import init_params, pattern_tasks
    B, N, G, P, C, d, hidden, k = CONV_CONFIGS[config]
    rng = onp.random.default_rng(seed)
    x, y = pattern_tasks(rng, B, N, G, P, 1.0, C)
    params = init_params(rng, (G, G), C, d, hidden, dtype=onp.dtype(dtype), architecture="conv",
                         window=k)
    eps = rng.standard_normal((B, N, d)).astype(dtype)
    return params, x, y, eps


def conv_step_functions(config, dtype, case, which=("lpn-mini", "jax", "jax rows")):
    """``{name: zero-argument function running one step of the conv model to completion}``."""
    from lpn_mini import conv
    from lpn_mini.training import loss_and_grad
    K, sg = CASES[case]
    C, k = CONV_CONFIGS[config][4], CONV_CONFIGS[config][7]
    params, x, y, eps = make_conv_inputs(config, dtype)
    fns = {}
    if "lpn-mini" in which:
        def lpn_mini_step():
            conv._WINDOWS.clear()  # a training step's grids are new: unfold them afresh
            return loss_and_grad(params, x, y, eps, num_steps=K, alpha=ALPHA, beta=BETA,
                                 stop_gradient=sg, check=False)
        fns["lpn-mini"] = lpn_mini_step
    import jax
    jax.config.update("jax_enable_x64", True)
    jp, jx, jy, je = to_jax(params), to_jax(x), to_jax(y), to_jax(eps)
    for name, rows in (("jax", None), ("jax rows", present_entries(x, C, k))):
        if name in which:
            g = jax_conv_loss_and_grad(C, k, K, ALPHA, BETA, sg, rows)
            fns[name] = lambda g=g: jax.block_until_ready(g(jp, jx, jy, je))
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
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS) + list(CONV_CONFIGS),
                   help="default: demo paper paper-b32 paper-conv")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    p.add_argument("--cases", nargs="+", choices=list(CASES), help="default: all four")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 15; 7 at paper)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--json", help="also write every number to this file")
    p.add_argument("--note", help="a line about the run (e.g. the machine's load), printed "
                   "first and kept in the JSON")
    p.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        return memory_child(*args.memory_child)
    configs = args.configs or (["tiny"] if args.quick else ["demo", "paper", "paper-b32",
                                                            "paper-conv"])
    conv_configs = [c for c in configs if c in CONV_CONFIGS]
    configs = [c for c in configs if c in CONFIGS]
    try:
        importlib.import_module("jax")
        torch = None
        if configs:  # the MLP table times PyTorch too; the conv table needs JAX only
            import torch
    except ModuleNotFoundError as e:
        sys.exit(f"this benchmark compares against JAX and PyTorch (the conv model against JAX "
                 f'only); install them with pip install -e ".[bench]" ({e}).')
    if args.note:
        print(args.note + "\n")
    # What lpn-mini's training loop does first (lpn_mini/device/allocator.py). It is a setting of
    # the process, so JAX and PyTorch run under it too.
    keep_freed_memory()

    # 1. Equivalence, float64, every case, before any timing.
    if configs:
        print("equivalence (float64, max relative difference of loss and gradients vs lpn-mini):")
        for case, (K, sg) in CASES.items():
            params, x, y, eps = make_inputs("tiny", "float64", seed=1)
            diffs = check_equivalence(params, x, y, eps, K, ALPHA, BETA, sg)
            print(f"  {case:10s} " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()) + "  ok")
    conv_cases = args.cases or list(CASES)
    if conv_configs:
        print("conv model equivalence (float64, tiny-conv, max relative difference vs lpn-mini):")
        for case in conv_cases:
            K, sg = CASES[case]
            params, x, y, eps = make_conv_inputs("tiny-conv", "float64", seed=1)
            diffs = check_conv_equivalence(params, x, y, eps, K, ALPHA, BETA, sg)
            print(f"  {case:10s} " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()) + "  ok")

    threads = {"torch": torch.get_num_threads() if torch else None, "cores": os.cpu_count()}
    peaks = {dt: matmul_peak(dt) for dt in args.dtypes}
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch threads {threads['torch']}; NumPy matmul peak "
          + ", ".join(f"{dt} {v / 1e9:.1f} GFLOP/s" for dt, v in peaks.items()))
    rows = []
    if configs:
        rows += mlp_table(args, configs, peaks)
    if conv_configs:
        rows += conv_table(args, conv_configs, conv_cases)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, matmul_peak=peaks, machine=platform.platform(),
                           cores=os.cpu_count(), threads=threads, note=args.note), f, indent=1)


def conv_table(args, configs, cases):
    """Time the conv model against its JAX twins; print the table, return its rows."""
    rows = []
    header = ("| config | dtype | case | lpn-mini ms | JAX-jit ms | JAX-jit present entries ms | "
              "lpn/JAX | lpn/JAX present entries |")
    print("\n" + header)
    print("|" + "---|" * (header.count("|") - 1))
    for config in configs:
        repeats = args.repeats or (3 if args.quick else 7 if config.startswith("paper") else 15)
        for dtype in args.dtypes:
            for case in cases:
                med = time_interleaved(conv_step_functions(config, dtype, case), repeats)
                row = dict(config=config, dtype=dtype, case=case,
                           ms={k: 1e3 * v for k, v in med.items()},
                           ratio_jax=med["lpn-mini"] / med["jax"],
                           ratio_jax_rows=med["lpn-mini"] / med["jax rows"], repeats=repeats)
                rows.append(row)
                print(f"| {config} | {dtype} | {case} | {row['ms']['lpn-mini']:.1f} | "
                      f"{row['ms']['jax']:.1f} | {row['ms']['jax rows']:.1f} | "
                      f"{row['ratio_jax']:.2f} | {row['ratio_jax_rows']:.2f} |", flush=True)
    return rows


def mlp_table(args, configs, peaks):
    """Time the MLP model in the three frameworks; print the table, return its rows."""
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
    return rows


if __name__ == "__main__":
    main()
