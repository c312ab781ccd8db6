"""lpn-mini's training step, repeated, for a sampling profiler to watch.

    perf record -e cpu-clock -F 2000 python benchmarks/profile_step.py --steps 40
    perf report --sort symbol --stdio | head -30

Runs ``training.loss_and_grad`` (what the training loop runs) at one of ``speed.py``'s
configs and cases, after a few warm-up steps, and prints milliseconds per step. The README's
"where the time goes" (section "Speed") was measured this way. Needs no benchmark extra.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from speed import ALPHA, BETA, CASES, CONFIGS, make_inputs  # noqa: E402

from lpn_mini.device.allocator import keep_freed_memory  # noqa: E402
from lpn_mini.training import loss_and_grad  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=CONFIGS, default="paper")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--case", choices=CASES, default="K=1")
    parser.add_argument("--steps", type=int, default=40, help="timed steps (default 40)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1.")
    keep_freed_memory()  # as the training loop does
    K, stop_gradient = CASES[args.case]
    params, x, y, eps = make_inputs(args.config, args.dtype)

    def step():
        return loss_and_grad(params, x, y, eps, num_steps=K, alpha=ALPHA, beta=BETA,
                             stop_gradient=stop_gradient, check=False)

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    ms = 1000 * (time.perf_counter() - t0) / args.steps
    print(f"{args.config} {args.dtype} {args.case}: {ms:.1f} ms per step (mean of {args.steps})")


if __name__ == "__main__":
    main()
