import json
import os
import subprocess
import sys

import numpy as np
import pytest

import lpn_mini.training as training
from lpn_mini.checkpoint import load_checkpoint
from lpn_mini.cli import main
from lpn_mini.config import make_config
from lpn_mini.optim import tree_leaves

TINY = ["--config", "tiny", "--no-progress"]


def test_help_names_every_command():
    out = subprocess.run([sys.executable, "-m", "lpn_mini", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for word in ("demo", "train", "evaluate", "show", "--set KEY=VALUE", "tiny", "small", "paper"):
        assert word in out


def test_train_then_evaluate_reproduces_demo(tmp_path, capsys):
    assert main(["demo", *TINY, "--run-dir", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    assert "| Training | Grad 0 | Grad 1 | Grad 5 | Sample 10 |" in printed
    for png in ("training_curve.png", "accuracy_vs_steps.png", "predictions.png"):
        assert os.path.getsize(tmp_path / "demo" / png) > 1000
    assert main(["train", *TINY, "--run-dir", str(tmp_path / "run")]) == 0
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    demo = json.loads((tmp_path / "demo" / "results.json").read_text())
    run = json.loads((tmp_path / "run" / "results.json").read_text())
    assert demo["results"] == run["results"]
    assert main(["show", str(tmp_path / "run"), "--tasks", "2"]) == 0
    assert os.path.getsize(tmp_path / "run" / "predictions.png") > 1000


def test_killed_training_resumes_where_it_stopped(tmp_path, monkeypatch):
    config = make_config("tiny")  # checkpoint every 20 of 60 steps
    straight = training.train(config, str(tmp_path / "a"), progress=False)

    real_update, calls = training.adam_update, []

    def dies_at_step_45(*a, **k):
        calls.append(1)
        if len(calls) == 45:
            raise KeyboardInterrupt
        return real_update(*a, **k)
    monkeypatch.setattr(training, "adam_update", dies_at_step_45)
    with pytest.raises(KeyboardInterrupt):
        training.train(config, str(tmp_path / "b"), progress=False)
    monkeypatch.undo()
    assert load_checkpoint(str(tmp_path / "b" / "checkpoint.npz"))[3] == 40
    resumed = training.train(config, str(tmp_path / "b"), progress=False)
    for a, b in zip(tree_leaves(straight), tree_leaves(resumed), strict=True):
        assert np.array_equal(a, b)
    steps = [json.loads(line)["step"] for line in open(tmp_path / "b" / "metrics.jsonl")]
    assert steps == [10, 20, 30, 40, 50, 60]


def test_resume_with_another_config_is_refused(tmp_path, capsys):
    run = ["--run-dir", str(tmp_path / "r")]
    assert main(["train", *TINY, *run, "--set", "steps=20"]) == 0
    assert main(["train", *TINY, *run, "--set", "steps=20", "--set", "lr=0.1"]) == 2
    assert "different config (lr differ)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "--config", "tiny", "--set", "stepz=3"], "unknown config key"),
    (["train", "--config", "nope"], "unknown preset"),
    (["evaluate", "does/not/exist"], "no checkpoint"),
])
def test_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
