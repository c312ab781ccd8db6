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
