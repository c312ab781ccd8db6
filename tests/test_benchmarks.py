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


# --- the conv model's JAX twin (needs JAX only; CI has no JAX, so these skip there) -------

def conv_problem(seed=7, C=5, k=3):
    """A small float64 conv problem with non-zero biases, so every parameter group matters."""
    from lpn_mini import conv, pattern_tasks
    from lpn_mini.optim import tree_leaves
    rng = np.random.default_rng(seed)
    x, y = pattern_tasks(rng, 3, 4, 5, 3, 0.8, C)
    params = conv.init_params(rng, (5, 5), C, 4, (16, 12), np.float64, window=k)
    for leaf in tree_leaves(params):
        leaf += 0.1 * rng.standard_normal(leaf.shape)
    return params, x, y, rng.standard_normal((3, 4, 4))


@pytest.mark.parametrize("K,stop_gradient", [(0, True), (1, True), (1, False)],
                         ids=["K=0", "K=1", "K=1 no-sg"])
def test_jax_conv_twin_matches_lpn_mini_to_1e9(K, stop_gradient):
    pytest.importorskip("jax", reason='JAX is a benchmark extra: pip install -e ".[bench]"')
    sys.path.insert(0, str(SCRIPT.parent))
    from frameworks import check_conv_equivalence
    params, x, y, eps = conv_problem()
    diffs = check_conv_equivalence(params, x, y, eps, K, 0.05, 1e-3, stop_gradient)
    assert set(diffs) == {"jax", "jax rows"} and max(diffs.values()) <= 1e-9


def test_present_entries_are_lpn_minis_present_windows():
    """The twin finds the present window entries with its own code; they must be conv's."""
    sys.path.insert(0, str(SCRIPT.parent))
    from frameworks import present_entries
    from lpn_mini import conv
    rng = np.random.default_rng(3)
    sparse = (rng.random((3, 2, 6, 7)) < 0.05).astype(int)
    for x, k in ((rng.integers(0, 5, (2, 3, 4, 5)), 3), (sparse, 5), (sparse, 1)):
        np.testing.assert_array_equal(present_entries(x, 5, k),
                                      conv.present_windows(x, 5, k, np.float64)[1])


def test_conv_equivalence_check_catches_a_different_computation():
    """The assertion is real: a JAX conv loss with another beta is rejected."""
    pytest.importorskip("jax", reason='JAX is a benchmark extra: pip install -e ".[bench]"')
    sys.path.insert(0, str(SCRIPT.parent))
    import frameworks
    params, x, y, eps = conv_problem(seed=8)
    original = frameworks.jax_conv_loss_and_grad
    frameworks.jax_conv_loss_and_grad = lambda C, k, K, a, b, sg, rows=None: original(
        C, k, K, a, 2 * b, sg, rows)
    try:
        with pytest.raises(AssertionError, match="jax differs from lpn-mini's conv model"):
            frameworks.check_conv_equivalence(params, x, y, eps, 0, 0.1, 0.5, True)
    finally:
        frameworks.jax_conv_loss_and_grad = original


def test_speed_benchmark_conv_row_prints_ratios():
    pytest.importorskip("jax", reason='JAX is a benchmark extra: pip install -e ".[bench]"')
    out = subprocess.run([sys.executable, str(SCRIPT.parent / "speed.py"), "--configs",
                          "tiny-conv", "--cases", "K=0", "--dtypes", "float64", "--repeats", "2"],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    assert out.count("  ok") == 1                      # checked before timing
    (row,) = [line for line in out.splitlines() if line.startswith("| tiny-conv | float64 |")]
    cells = [c.strip() for c in row.split("|")[1:-1]]
    lpn, jax_ms, rows_ms, r_jax, r_rows = map(float, cells[3:8])
    assert r_jax == pytest.approx(lpn / jax_ms, rel=0.05)
    assert r_rows == pytest.approx(lpn / rows_ms, rel=0.05)


def test_subnormals_benchmark_runs_and_reaches_the_share_it_was_asked_for():
    """A smoke run (no timing is checked): the 'sure' state is scaled until about 3% of the
    probabilities are subnormal, and the fresh state has none."""
    script = SCRIPT.parent / "subnormals.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith("| fresh")
            or line.startswith("| sure")]
    assert len(rows) == 2 and rows[0][0] == "| fresh" and rows[1][0].startswith("| sure (last")
    assert rows[0][1] == "0.0%" and 2.0 <= float(rows[1][1].rstrip("%")) <= 4.0
