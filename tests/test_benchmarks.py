"""The GPU benchmark script runs (a smoke test: two steps, no timing is checked)."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_vs_cpu.py"


def test_gpu_vs_cpu_benchmark_runs_and_prints_a_table():
    out = subprocess.run([sys.executable, str(SCRIPT), "--steps", "2", "--configs", "small"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "| config | device | steps/s (median) | ms/step |" in out
    assert "| small | cpu |" in out


# --- benchmarks/frameworks.py: JAX and PyTorch compute what lpn-mini computes -------------

import importlib.util  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

HAVE_BENCH = all(importlib.util.find_spec(m) for m in ("jax", "torch"))
needs_bench = pytest.mark.skipif(not HAVE_BENCH, reason='JAX and PyTorch are benchmark extras: '
                                 'pip install -e ".[bench]"')


@needs_bench
@pytest.mark.parametrize("K,stop_gradient", [(0, True), (1, True), (1, False), (3, True),
                                             (2, False)])
def test_jax_and_torch_match_lpn_mini_to_1e9(K, stop_gradient):
    sys.path.insert(0, str(SCRIPT.parent))
    from frameworks import check_equivalence
    from lpn_mini import init_params, pattern_tasks
    rng = np.random.default_rng(7)
    x, y = pattern_tasks(rng, 5, 4, 5, 3, 0.8, 6)
    params = init_params(rng, (5, 5), 6, 6, (48, 40))
    eps = rng.standard_normal((5, 4, 6))
    diffs = check_equivalence(params, x, y, eps, K, 0.05, 1e-3, stop_gradient)
    assert set(diffs) == {"jax", "torch"} and max(diffs.values()) <= 1e-9


@needs_bench
def test_equivalence_check_catches_a_different_computation():
    """The assertion is real: a JAX loss with another beta is rejected."""
    sys.path.insert(0, str(SCRIPT.parent))
    import frameworks
    from lpn_mini import init_params, pattern_tasks
    rng = np.random.default_rng(8)
    x, y = pattern_tasks(rng, 3, 4, 4, 2, 1.0, 5)
    params = init_params(rng, (4, 4), 5, 4, (16,))
    eps = rng.standard_normal((3, 4, 4))
    original = frameworks.jax_loss_and_grad
    frameworks.jax_loss_and_grad = lambda C, K, a, b, sg: original(C, K, a, 2 * b, sg)
    try:
        with pytest.raises(AssertionError, match="jax differs from lpn-mini"):
            frameworks.check_equivalence(params, x, y, eps, 1, 0.1, 0.5, True)
    finally:
        frameworks.jax_loss_and_grad = original


@needs_bench
def test_speed_benchmark_quick_prints_ratios():
    out = subprocess.run([sys.executable, str(SCRIPT.parent / "speed.py"), "--quick",
                          "--cases", "K=0", "K=1", "--dtypes", "float64"],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    assert out.count("  ok") == 4                      # every case checked before timing
    rows = [line for line in out.splitlines() if line.startswith("| tiny | float64 |")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        lpn, jax_ms, torch_ms, r_jax, r_torch = map(float, cells[3:8])
        assert r_jax == pytest.approx(lpn / jax_ms, rel=0.05)
        assert r_torch == pytest.approx(lpn / torch_ms, rel=0.05)


def test_profile_step_runs_without_the_bench_extra():
    script = SCRIPT.parent / "profile_step.py"
    out = subprocess.run([sys.executable, str(script), "--config", "tiny", "--case", "K=1",
                          "--steps", "2"], capture_output=True, text=True, timeout=300,
                         check=True).stdout
    assert out.startswith("tiny float32 K=1: ") and "ms per step" in out
