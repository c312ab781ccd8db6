"""BLAS threads (lpn_mini/device/blas.py): the default follows the machine's load (measured
here with a fake /proc/stat), --threads / LPN_MINI_THREADS override it, a user's
OPENBLAS_NUM_THREADS is left alone, and reproduce's workers keep one thread each. Plus a
smoke run of benchmarks/threads.py, the measurement behind the rule."""
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from lpn_mini import training
from lpn_mini.device import blas
from lpn_mini.cli import main
from lpn_mini.config import PRESETS, make_config

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "threads.py"


def blas_count():
    return next(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


@pytest.fixture
def clean_env(monkeypatch):
    """No thread settings in the environment (the test run may have some), no measurement
    kept from an earlier test, and 2 usable cores."""
    for name in (blas.ENV, *blas.USER_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(blas, "_last", None)
    monkeypatch.setattr(blas, "usable_cores", lambda: 2)
    return monkeypatch


def fake_proc_stat(busy, cores=2, ticks=1000):
    """A stand-in for ``blas.read_proc_stat`` on a machine whose other programs keep
    ``busy`` of its ``cores`` busy: two reads, ``ticks`` clock ticks of all cores apart."""
    reads = iter([(5000, 20000, cores), (5000 + round(busy / cores * ticks), 20000 + ticks, cores)])
    return lambda: next(reads)


@pytest.fixture
def load(clean_env):
    """``load(busy)``: from now on the machine's other programs keep ``busy`` cores busy."""
    def set_load(busy):
        clean_env.setattr(blas, "_last", None)
        clean_env.setattr(blas, "WINDOW", 0)
        clean_env.setattr(blas, "read_proc_stat", fake_proc_stat(busy))
    return set_load


def unreadable():
    raise OSError("no /proc/stat here")


@pytest.fixture
def threads_in_steps(monkeypatch):
    """The BLAS thread count seen inside each training step of ``training.train``."""
    seen, original = [], training.loss_and_grad

    def spy(*args, **kwargs):
        seen.append(blas_count())
        return original(*args, **kwargs)
    monkeypatch.setattr(training, "loss_and_grad", spy)
    return seen


@pytest.mark.parametrize("busy, threads, why", [
    (0.0, 2, "the machine is idle, 0.0 of 2 cores busy"),
    (0.3, 2, "the machine is idle, 0.3 of 2 cores busy"),
    (0.5, 1, "other programs keep 0.5 of 2 cores busy"),    # half a core: no longer idle
    (1.0, 1, "other programs keep 1.0 of 2 cores busy"),    # half the machine
    (2.0, 1, "other programs keep 2.0 of 2 cores busy"),    # fully busy
])
def test_the_rule_reads_the_load_from_proc_stat(busy, threads, why, clean_env):
    others = blas.busy_cores(read=fake_proc_stat(busy), window=0)
    assert others == pytest.approx(busy)
    assert blas.threads_for_load(others, 2) == (threads, why)


def test_the_rule_on_more_cores_and_on_one():
    assert blas.threads_for_load(0.2, 8) == (8, "the machine is idle, 0.2 of 8 cores busy")
    assert blas.threads_for_load(1.0, 8)[0] == 1
    assert blas.threads_for_load(0.0, 1) == (1, "1 core")


def test_without_proc_stat_the_load_average_then_one_thread(clean_env):
    clean_env.setattr(os, "getloadavg", lambda: (0.2, 0.5, 0.7))
    assert blas.busy_cores(read=unreadable, window=0) == 0.2
    clean_env.setattr(os, "getloadavg", lambda: (1.3, 0.5, 0.7))
    assert blas.busy_cores(read=unreadable, window=0) == 1.3
    clean_env.delattr(os, "getloadavg")  # as on Windows
    assert blas.busy_cores(read=unreadable, window=0) is None
    assert blas.threads_for_load(None, 2) == (1, "the machine's load is unknown")


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="Linux only")
def test_the_real_proc_stat_is_read():
    busy, total, cores = blas.read_proc_stat()
    assert 0 <= busy <= total and cores == len([line for line in open("/proc/stat")
                                                if re.match(r"cpu\d", line)])
    assert 0 <= blas.busy_cores(window=0.05) <= cores + 0.5


@pytest.mark.parametrize("busy, threads", [(0.1, 2), (1.0, 1), (2.0, 1)])
def test_the_default_follows_the_load_for_every_preset(busy, threads, load):
    for name in PRESETS:
        load(busy)
        assert blas.chosen_threads(make_config(name)) == threads, name


def test_one_measurement_serves_the_line_and_the_run(load):
    load(0.1)
    assert blas.describe(make_config("tiny")) == "2 BLAS threads: the machine is idle, " \
                                                 "0.1 of 2 cores busy"
    # A second read of the fake would fail: the measurement is reused, so train() runs
    # with the count the line printed.
    assert blas.chosen_threads(make_config("tiny")) == 2


def test_explicit_settings_win_over_the_load(load, clean_env):
    config = make_config("small")
    load(0.0)
    clean_env.setenv(blas.ENV, "1")
    assert blas.choose(config) == (1, "as asked by --threads or LPN_MINI_THREADS")
    clean_env.delenv(blas.ENV)
    for name in blas.USER_VARIABLES:
        clean_env.setenv(name, "1")
        assert blas.choose(config) == (None, f"BLAS threads as {name}=1 sets them")
        clean_env.setenv(blas.ENV, "2")  # lpn-mini's own setting wins over the user's BLAS one
        assert blas.chosen_threads(config) == 2
        clean_env.delenv(blas.ENV)
        clean_env.delenv(name)
    load(2.0)
    clean_env.setenv(blas.ENV, "2")  # on a busy machine too
    assert blas.chosen_threads(config) == 2
    clean_env.delenv(blas.ENV)
    gpu = dataclasses.replace(config, device="gpu")
    assert blas.choose(gpu) == (None, "BLAS threads left alone: the arrays live on the GPU")


def test_reproduce_workers_keep_one_thread_each(load):
    from lpn_mini.experiments.reproduce import _one_blas_thread
    load(0.0)  # even on an idle machine: N jobs on N cores
    with _one_blas_thread():  # the environment the worker processes start with
        assert blas.chosen_threads(make_config("small")) is None
    assert blas.chosen_threads(make_config("small")) == 2


@pytest.mark.parametrize("busy, threads", [(0.1, [2, 2, 2]), (1.5, [1, 1, 1])])
def test_train_runs_with_the_default_and_puts_the_count_back(busy, threads, load,
                                                             threads_in_steps, tmp_path):
    load(busy)
    before = blas_count()
    with blas.blas_threads(3):  # a count other than the default, to see it changed
        training.train(make_config("tiny", overrides=["steps=3"]), str(tmp_path / "r"),
                       progress=False)
        assert blas_count() == 3, "train() put back the count it found"
    assert threads_in_steps == threads
    assert blas_count() == before


def test_the_environment_variable_overrides_the_default(load, clean_env, threads_in_steps,
                                                        tmp_path):
    load(0.0)
    clean_env.setenv(blas.ENV, "1")
    training.train(make_config("tiny", overrides=["steps=2"]), str(tmp_path / "r"),
                   progress=False)
    assert threads_in_steps == [1, 1]


def test_a_users_openblas_setting_is_left_alone(load, clean_env, threads_in_steps, tmp_path):
    load(0.0)
    clean_env.setenv("OPENBLAS_NUM_THREADS", "1")
    assert blas.chosen_threads(make_config("tiny")) is None
    with blas.blas_threads(1):  # what OPENBLAS_NUM_THREADS=1 would have set at start
        training.train(make_config("tiny", overrides=["steps=2"]), str(tmp_path / "r"),
                       progress=False)
    assert threads_in_steps == [1, 1]


def test_the_first_training_line_says_which_count_and_why(load, threads_in_steps, tmp_path,
                                                          capsys):
    run = str(tmp_path / "r")
    argv = ["train", "--config", "tiny", "--set", "steps=2", "--run-dir", run, "--no-progress"]
    load(1.0)
    assert main([*argv, "--threads", "2"]) == 0
    assert threads_in_steps == [2, 2]
    assert "(2 BLAS threads: as asked by --threads or LPN_MINI_THREADS)" in \
        capsys.readouterr().out.splitlines()[0]
    assert blas.ENV not in os.environ, "--threads lasts as long as the command"
    load(0.1)
    assert main([*argv, "--no-resume"]) == 0
    assert "(2 BLAS threads: the machine is idle, 0.1 of 2 cores busy)" in \
        capsys.readouterr().out.splitlines()[0]
    load(1.2)
    assert main([*argv, "--no-resume"]) == 0
    assert "(1 BLAS thread: other programs keep 1.2 of 2 cores busy)" in \
        capsys.readouterr().out.splitlines()[0]
    assert threads_in_steps == [2, 2, 2, 2, 1, 1]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_is_one_line(value, clean_env, tmp_path, capsys):
    argv = ["train", "--config", "tiny", "--run-dir", str(tmp_path / "r"), "--threads", value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"lpn-mini train: error: --threads must be a number of BLAS "
                           f"threads, 1 or more, got {value!r}; e.g. --threads 1.")
    clean_env.setenv(blas.ENV, value)
    with pytest.raises(ValueError, match=f"LPN_MINI_THREADS must be a number of BLAS threads, "
                                         f"1 or more, got '{value}'; e.g. LPN_MINI_THREADS=1."):
        blas.chosen_threads(make_config("tiny"))


def test_help_says_how_threads_are_chosen(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "less than half a core busy, else 1" in out and "--threads N or LPN_MINI_THREADS=N" in out
    assert "OPENBLAS_NUM_THREADS" in out and "docs/threads.md" in out


def test_the_threads_benchmark_runs_and_prints_a_table():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    assert ("| preset | busy programs | cores busy (measured) | BLAS threads | median ms / step "
            "| ratio to fastest |") in out
    default = re.search(r"\| tiny \| 0 \| [\d.]+ \| (\d+) \(default\) \|", out)
    assert default, out
    assert f"tiny, 0 busy: default {default[1]} thread(s) at" in out


def test_the_benchmark_stops_its_busy_programs():
    sys.path.insert(0, str(SCRIPT.parent))
    import threads
    with threads.busy_programs(2) as procs:
        assert [p.poll() for p in procs] == [None, None], "spinning"
    assert all(p.poll() is not None for p in procs)
