"""BLAS threads (lpn_mini/device/blas.py): the default is applied, --threads / LPN_MINI_THREADS
override it, and a user's OPENBLAS_NUM_THREADS is left alone. Plus a smoke run of
benchmarks/threads.py, the measurement behind the default."""
import os
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
    """No thread settings in the environment (the test run may have some)."""
    for name in (blas.ENV, *blas.USER_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def threads_in_steps(monkeypatch):
    """The BLAS thread count seen inside each training step of ``training.train``."""
    seen, original = [], training.loss_and_grad

    def spy(*args, **kwargs):
        seen.append(blas_count())
        return original(*args, **kwargs)
    monkeypatch.setattr(training, "loss_and_grad", spy)
    return seen


def test_the_default_is_one_thread_for_every_preset(clean_env):
    for name in PRESETS:
        assert blas.chosen_threads(make_config(name)) == 1, name


def test_train_runs_with_the_default_and_puts_the_count_back(clean_env, threads_in_steps,
                                                             tmp_path):
    before = blas_count()
    with blas.blas_threads(2):  # a count other than the default, to see it changed
        training.train(make_config("tiny", overrides=["steps=3"]), str(tmp_path / "r"),
                       progress=False)
        assert blas_count() == 2, "train() put back the count it found"
    assert threads_in_steps == [1, 1, 1]
    assert blas_count() == before


def test_the_environment_variable_overrides_the_default(clean_env, threads_in_steps, tmp_path):
    clean_env.setenv(blas.ENV, "2")
    training.train(make_config("tiny", overrides=["steps=2"]), str(tmp_path / "r"),
                   progress=False)
    assert threads_in_steps == [2, 2]


def test_a_users_openblas_setting_is_left_alone(clean_env, threads_in_steps, tmp_path):
    clean_env.setenv("OPENBLAS_NUM_THREADS", "2")
    assert blas.chosen_threads(make_config("tiny")) is None
    with blas.blas_threads(2):  # what OPENBLAS_NUM_THREADS=2 would have set at start
        training.train(make_config("tiny", overrides=["steps=2"]), str(tmp_path / "r"),
                       progress=False)
    assert threads_in_steps == [2, 2]
    clean_env.setenv(blas.ENV, "1")  # an explicit lpn-mini setting still wins
    assert blas.chosen_threads(make_config("tiny")) == 1


def test_the_threads_option_of_the_cli(clean_env, threads_in_steps, tmp_path, capsys):
    run = str(tmp_path / "r")
    argv = ["train", "--config", "tiny", "--set", "steps=2", "--run-dir", run, "--no-progress"]
    assert main([*argv, "--threads", "2"]) == 0
    assert threads_in_steps == [2, 2]
    assert "(2 BLAS threads)" in capsys.readouterr().out
    assert blas.ENV not in os.environ, "--threads lasts as long as the command"
    assert main([*argv, "--no-resume"]) == 0
    assert threads_in_steps == [2, 2, 1, 1]
    assert "(1 BLAS thread)" in capsys.readouterr().out


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
    assert "1 BLAS thread" in out and "--threads N or LPN_MINI_THREADS=N" in out
    assert "OPENBLAS_NUM_THREADS" in out and "docs/threads.md" in out


def test_the_threads_benchmark_runs_and_prints_a_table():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    assert "| preset | busy programs | BLAS threads | median ms / step | ratio to fastest |" in out
    assert "| tiny | 0 | 1 (default) |" in out
    assert "tiny, 0 busy: default 1 thread(s) at" in out


def test_the_benchmark_stops_its_busy_programs():
    sys.path.insert(0, str(SCRIPT.parent))
    import threads
    with threads.busy_programs(2) as procs:
        assert [p.poll() for p in procs] == [None, None], "spinning"
    assert all(p.poll() is not None for p in procs)
