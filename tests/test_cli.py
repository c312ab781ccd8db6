import json
import os
import re
import subprocess
import sys
import time

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


def test_train_then_evaluate_reproduces_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", *TINY]) == 0  # a tiny demo gets its own folder, beside runs/demo
    printed = capsys.readouterr().out
    assert "-> runs/demo-tiny" in printed and not os.path.exists("runs/demo")
    assert "| Training | Grad 0 | Grad 1 | Grad 5 | Sample 10 |" in printed
    for png in ("training_curve.png", "accuracy_vs_steps.png", "predictions.png"):
        assert os.path.getsize(tmp_path / "runs" / "demo-tiny" / png) > 1000
    assert main(["train", *TINY, "--run-dir", str(tmp_path / "run")]) == 0
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    demo = json.loads((tmp_path / "runs" / "demo-tiny" / "results.json").read_text())
    run = json.loads((tmp_path / "run" / "results.json").read_text())
    assert demo["results"] == run["results"]
    before = (tmp_path / "run" / "predictions.png").read_bytes()
    assert main(["show", str(tmp_path / "run"), "--tasks", "2"]) == 0
    assert os.path.getsize(tmp_path / "run" / "show_predictions.png") > 1000
    assert (tmp_path / "run" / "predictions.png").read_bytes() == before, "evaluate's figure kept"


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
    assert main(["train", *TINY, *run, "--set", "steps=20", "--set", "lr=0.1",
                 "--set", "seed=3"]) == 2
    err = capsys.readouterr().err
    assert "holds a run trained with other values of seed (0 there, 3 asked for), lr (0.002 " \
           "there, 0.1 asked for); these change what is trained" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["train", *TINY, *run, "--set", "steps=10"]) == 2
    assert "trained to step 20 but steps = 10; ask for steps=20 or more" in capsys.readouterr().err


def test_a_finished_run_is_extended_exactly(tmp_path):
    """steps 20 then 40 (with other bookkeeping and evaluation keys) = 40 at once."""
    straight = training.train(make_config("tiny", overrides=["steps=40"]), str(tmp_path / "a"),
                              progress=False)
    run = str(tmp_path / "b")
    training.train(make_config("tiny", overrides=["steps=20"]), run, progress=False)
    longer = make_config("tiny", overrides=["steps=40", "checkpoint_every=7", "log_every=5",
                                            "eval_every=40", "eval_grad_steps=0,2"])
    extended = training.train(longer, run, progress=False)
    for a, b in zip(tree_leaves(straight), tree_leaves(extended), strict=True):
        assert np.array_equal(a, b)
    _, _, saved, step = load_checkpoint(os.path.join(run, "checkpoint.npz"))
    assert step == 40 and saved == longer
    rows = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
    assert [r["step"] for r in rows] == [10, 20, 25, 30, 35, 40]
    assert "Grad 5 exact_match" in rows[-1]
    seconds = [r["seconds"] for r in rows]
    assert seconds == sorted(seconds), "seconds go on from the last logged value after a resume"


def test_no_resume_moves_the_old_run_aside(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", *TINY, "--run-dir", str(run), "--set", "steps=20"]) == 0
    assert main(["evaluate", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", *TINY, "--run-dir", str(run), "--set", "steps=10", "--no-resume"]) == 0
    out = capsys.readouterr().out
    assert f"moved the earlier run's checkpoint.npz, config.json, metrics.jsonl, results.json, " \
           f"results.md, accuracy_vs_steps.png, predictions.png to {run / 'previous'}" in out
    assert not (run / "results.json").exists() and (run / "previous" / "results.json").exists()
    assert load_checkpoint(str(run / "checkpoint.npz"))[3] == 10
    assert load_checkpoint(str(run / "previous" / "checkpoint.npz"))[3] == 20
    assert main(["train", *TINY, "--run-dir", str(run), "--set", "steps=10", "--no-resume"]) == 0
    assert (run / "previous-2" / "checkpoint.npz").exists(), "an earlier aside is kept"


def test_a_killed_write_leaves_no_temporary_for_long(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    stale = run / ".tmp-k1lled_x.npz"          # what mkstemp names save_checkpoint's file
    stale.write_bytes(b"half a checkpoint")
    other = run / ".tmp-notes.txt"             # not lpn-mini's pattern: left alone
    other.write_text("mine")
    training.train(make_config("tiny", overrides=["steps=20"]), str(run), progress=False)
    assert not stale.exists() and other.exists()


def test_evaluate_takes_a_checkpoint_path_and_an_out_folder(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", *TINY, "--run-dir", str(run), "--set", "steps=20"]) == 0
    out = tmp_path / "dense"
    assert main(["evaluate", str(run / "checkpoint.npz"), "--out", str(out),
                 "--set", "eval_density=0.5", "--set", "eval_samples="]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["config"]["eval_density"] == 0.5 and list(record["results"]) == [
        "Grad 0", "Grad 1", "Grad 5"]
    assert (out / "predictions.png").exists() and not (run / "results.json").exists()
    assert main(["show", str(run / "checkpoint.npz"), "--tasks", "1"]) == 0
    assert (run / "show_predictions.png").exists()
    capsys.readouterr()
    assert main(["evaluate", str(run), "--set", "hidden=8"]) == 2
    assert "evaluate --set can change only evaluation and search keys" in capsys.readouterr().err


T = ["train", "--config", "tiny", "--no-progress", "--run-dir", "{tmp}/run"]


@pytest.mark.parametrize("argv, message", [
    (["train", "--config", "tiny", "--set", "stepz=3"], "unknown config key"),
    (["train", "--config", "nope"], "unknown preset"),
    (["evaluate", "does/not/exist"], "no checkpoint at does/not/exist (neither a run directory "
                                     "nor a file); pass a folder written by `lpn-mini train`"),
    # ranges and types of config keys (issue 13: each of these was a traceback or nonsense)
    ([*T, "--set", "checkpoint_every=0"],
     "config key 'checkpoint_every' must be an integer >= 1, got 0; set it to e.g. "
     "checkpoint_every=250."),
    ([*T, "--set", "log_every=0"], "config key 'log_every' must be an integer >= 1, got 0"),
    ([*T, "--set", "latent_steps=-5"],
     "config key 'latent_steps' (formerly 'train_steps') must be an integer >= 0, got -5"),
    ([*T, "--set", "train_steps=10"],
     "train_steps is no longer a config key: use steps=N to train for N steps, or "
     "latent_steps=K for K latent gradient steps inside every training step"),
    (["evaluate", "{tmp}/run", "--set", "train_steps=10"],
     "train_steps is no longer a config key: use steps=N"),
    ([*T, "--set", "steps=-10"], "config key 'steps' must be an integer >= 1, got -10"),
    ([*T, "--set", "steps=0"], "config key 'steps' must be an integer >= 1, got 0"),
    ([*T, "--set", "lr=-1"], "config key 'lr' must be a finite number > 0, got -1"),
    ([*T, "--set", "lr=nan"], "config key 'lr' must be a finite number > 0, got nan"),
    ([*T, "--set", "eval_grad_steps=-5"],
     "config key 'eval_grad_steps' must be a list of integers >= 0, got -5"),
    ([*T, "--set", "eval_samples=0"],
     "config key 'eval_samples' must be a list of integers >= 1, got 0"),
    ([*T, "--set", "eval_grad_steps=", "--set", "eval_samples="],
     "eval_grad_steps and eval_samples are both empty, so evaluation has no column"),
    ([*T, "--set", "latent_dim=0"], "config key 'latent_dim' must be an integer >= 1, got 0"),
    ([*T, "--set", "batch_size=0"], "config key 'batch_size' must be an integer >= 1, got 0"),
    ([*T, "--set", "eval_tasks=0"], "config key 'eval_tasks' must be an integer >= 1, got 0"),
    ([*T, "--set", "density=1.5"], "config key 'density' must be a probability in [0, 1]"),
    ([*T, "--set", "pattern_size=4"], "pattern_size = 4 must be at most grid_size = 3"),
    ([*T, "--toml", "{tmp}/float.toml"],
     "config key 'steps' must be an integer >= 1, got 20.7; set it to e.g. steps=2000."),
    ([*T, "--toml", "{tmp}/int.toml"],
     "config key 'stop_gradient' must be true or false, got 1; set it to e.g. "
     "stop_gradient=true."),
    ([*T, "--toml", "{tmp}"], "is a folder; expected a TOML file of KEY = VALUE lines"),
    ([*T, "--toml", "{tmp}/missing.toml"], "missing.toml: no such file; check the path"),
    # files and folders
    ([*T, "--set", "hidden=100000000,100000000"],
     "has 2e+16 parameters and needs 568 PiB (weights, gradient and Adam state in float64) "
     "but this machine has"),
    (["train", "--config", "tiny", "--run-dir", "{tmp}/a_file"],
     "the run directory {tmp}/a_file is a file; pass a folder"),
    (["evaluate", "{tmp}/random.npz"],
     "{tmp}/random.npz is not a readable lpn-mini checkpoint (not an .npz archive: a truncated "
     "or corrupt file, or another kind of file); pass a run directory written by `lpn-mini "
     "train`, or the checkpoint.npz in one."),
    (["evaluate", "{tmp}/empty_run"], "no checkpoint in {tmp}/empty_run"),
    # other commands
    (["show", "{tmp}/run", "--tasks", "0"], "--tasks must be at least 1"),
    (["show", "{tmp}/run", "--tasks", "-1"], "--tasks must be at least 1"),
    (["grade", "--timeout", "-1"], "the timeout must be a positive number of seconds"),
    (["reproduce", "table1", "--scale", "paper", "--quick"],
     "--quick and --scale paper cannot be combined"),
])
def test_errors_are_one_line_and_exit_2(argv, message, tmp_path, capsys):
    (tmp_path / "float.toml").write_text("steps = 20.7\n")
    (tmp_path / "int.toml").write_text("stop_gradient = 1\n")
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / "empty_run").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists(), "refused before anything was written"


def test_out_of_memory_is_one_sentence(tmp_path, capsys):
    argv = ["train", *TINY, "--run-dir", str(tmp_path / "r"), "--set", "batch_size=10000000000"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("lpn-mini train: error: out of memory; use a smaller model or batch "
                           "(hidden, latent_dim, batch_size, eval_tasks) or a machine with more "
                           "memory.")


def test_a_closed_pipe_ends_quietly():
    """`lpn-mini ... | head`: the reader has gone before anything is written."""
    run = subprocess.Popen([sys.executable, "-m", "lpn_mini", "train", "--list-keys"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run.stdout.close()
    err = run.stderr.read().decode()
    assert run.wait() == 141 and err == ""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("trained") / "run"
    training.train(make_config("tiny", overrides=["steps=20"]), str(run), progress=False)
    return run


@pytest.mark.parametrize("command, target, message", [
    (["train", *TINY, "--set", "steps=40"], "lpn_mini.cli.train",
     "interrupted; the last checkpoint ({run}/checkpoint.npz) is intact, run the same command "
     "to resume from it."),
    (["train", *TINY, "--set", "steps=40"], "lpn_mini.cli.train",
     "interrupted before the first checkpoint was written; nothing to resume"),
    (["demo", *TINY, "--set", "steps=20"], "lpn_mini.cli.run_evaluation",
     "interrupted while evaluating; training is finished and its checkpoint in {run} is intact"),
    (["evaluate"], "lpn_mini.cli.evaluate",
     "interrupted; the evaluation did not finish and its results were not (all) written"),
    (["show"], "lpn_mini.cli.evaluate", "interrupted; the figure was not written"),
    (["grade"], "lpn_mini.course.grader.grade",
     "interrupted; grading stopped and the results of the submission being graded were not "
     "written, run the same command to grade again."),
    (["reproduce", "table1", "--quick"], "lpn_mini.experiments.reproduce.reproduce",
     "interrupted; finished runs and the last checkpoints of unfinished ones are kept"),
])
def test_each_command_says_what_an_interrupt_left(command, target, message, trained, tmp_path,
                                                  monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(target, interrupted)
    run = trained if "before the first" not in message else tmp_path / "new"
    if command[0] in ("train", "demo"):
        argv = [*command, "--run-dir", str(run)]
    elif command[0] in ("evaluate", "show"):
        argv = [*command, str(run)]
    else:
        argv = command
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert err == message.replace("{run}", str(run)) or err.startswith(
        message.replace("{run}", str(run)))
    assert len(err.splitlines()) == 1
    if command[0] not in ("train", "demo"):
        assert "checkpoint is intact" not in err


def test_list_keys_describes_every_key_in_groups(capsys):
    from dataclasses import fields

    from lpn_mini.config import Config
    assert main(["train", "--config", "tiny", "--list-keys", "--set", "latent_steps=2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# the task (paper, appendix A.1)"
    assert "# bookkeeping" in lines and "# the model" in lines
    for f in fields(Config):
        line = next(line for line in lines if line.startswith(f.name + " "))
        assert f.metadata["help"] in line and f.metadata["rule"].text in line
    assert any(line.split()[:3] == ["latent_steps", "=", "2"] for line in lines)
    assert any(line.split()[:3] == ["hidden", "=", "32,32"] for line in lines)


def test_many_latent_steps_get_a_warning(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("lpn_mini.cli.train", lambda *a, **k: None)
    argv = ["train", *TINY, "--run-dir", str(tmp_path / "r"), "--set", "latent_steps=5000"]
    assert main(argv) == 0
    assert capsys.readouterr().err.splitlines() == [
        "lpn-mini train: warning: latent_steps = 5000 runs that many latent gradient steps "
        "inside every training step (the paper trains with 0 to 5), so each step costs about "
        "5001 times a mean-training step; to train longer, raise steps instead."]


def _options(parser):
    """``{command: [argparse actions]}`` of the lpn-mini parser."""
    import argparse
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: [a for a in p._actions if not isinstance(a, argparse._HelpAction)]
            for name, p in sub.choices.items()}


def test_every_option_has_help_and_is_in_the_commands_page():
    from lpn_mini.cli import build_parser
    page = open(os.path.join(os.path.dirname(__file__), "..", "docs", "commands.md")).read()
    table = page[page.index("# Commands"):page.index("## Presets and keys")]
    rows = {}
    for line in table.splitlines():
        words = line.split("`lpn-mini ", 1)
        if line.startswith("| `lpn-mini ") and len(words) == 2:
            rows.setdefault(words[1].split()[0].rstrip("`"), []).append(line)
    for command, actions in _options(build_parser()).items():
        assert command in rows, f"docs/commands.md's table has no row for {command}"
        row = " ".join(rows[command])
        for action in actions:
            assert action.help, f"{command} {action.option_strings or action.dest} has no help"
            for flag in action.option_strings:
                assert re.search(re.escape(flag) + r"(?![\w-])", row), \
                    f"docs/commands.md's row for {command} does not list {flag}"


def test_quick_results_are_ignored_by_git():
    root = os.path.join(os.path.dirname(__file__), "..")
    if not os.path.isdir(os.path.join(root, ".git")):
        pytest.skip("not a git checkout")
    check = subprocess.run(["git", "check-ignore", "-q", "results/table1-quick/results.json"],
                           cwd=root)
    assert check.returncode == 0


def test_chapters_render_with_titles_and_without_kernel_warnings(tmp_path, capfd):
    pytest.importorskip("jupytext")
    assert main(["chapters", "render", "ch00", "--quick", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "ch00_the_problem.html").read_text()
    assert "<title>Chapter 0: the problem, the whole algorithm, and the Pattern task</title>" in html
    assert "without encryption" not in capfd.readouterr().err


# --- what a newcomer meets: locks, resumes, unfinished runs, typos, paths ----------------

def _train_argv(run, steps):
    return ["train", *TINY, "--run-dir", str(run), "--set", f"steps={steps}"]


def test_a_second_training_into_a_run_that_trains_is_refused(tmp_path, capsys):
    """Two trainings into one folder: the second is refused in one line, before it prints
    or writes anything; once the first is killed, its lock is taken over with a line."""
    run = tmp_path / "r"
    first = subprocess.Popen([sys.executable, "-m", "lpn_mini", *_train_argv(run, 100000)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "LPN_MINI_THREADS": "1"})
    try:
        for _ in range(600):  # until it has written its first checkpoint (step 20)
            if (run / "checkpoint.npz").exists() or first.poll() is not None:
                break
            time.sleep(0.1)
        assert (run / "training.lock").exists()
        for command in ("train", "demo"):
            assert main([command, *_train_argv(run, 100000)[1:]]) == 2
            out, err = capsys.readouterr()
            assert out == "" and len(err.strip().splitlines()) == 1
            assert f"error: {run} is in use by another training (PID {first.pid} on " in err
            assert err.strip().endswith("wait for it to finish, or pass another run directory.")
    finally:
        first.kill()
        first.wait()
    assert main(_train_argv(run, 100000)[:-1] + ["steps=40"]) == 0
    out = capsys.readouterr().out
    assert (f"taking over the lock of {run} (the process that wrote it, PID {first.pid}, has "
            f"ended; a run that was stopped or killed left it)") in out
    steps = [json.loads(line)["step"] for line in open(run / "metrics.jsonl")]
    assert steps == sorted(set(steps)), "one training's lines, in order"
    assert not (run / "training.lock").exists()


def test_resuming_and_a_finished_run_say_so(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(_train_argv(run, 20)) == 0
    capsys.readouterr()
    assert main(_train_argv(run, 20)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (f"{run} is already trained to step 20: nothing to do (raise steps to "
                      f"train longer, or pass --no-resume to start again)")
    assert not any(line.startswith("trained in") for line in out)
    assert main(_train_argv(run, 40)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"resuming {run} from step 20 of 40" and out[2].startswith("trained in")


def test_evaluate_says_which_step_of_an_unfinished_run_it_scores(tmp_path, capsys):
    from lpn_mini.checkpoint import save_checkpoint
    from lpn_mini.optim import adam_init
    config = make_config("tiny")  # steps = 60
    params = training.new_params(config)
    (tmp_path / "r").mkdir()
    save_checkpoint(str(tmp_path / "r" / "checkpoint.npz"), params, adam_init(params), config,
                    20)
    assert main(["evaluate", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ("  scoring the checkpoint of step 20 of 60: the run is not finished "
                      "(still training, or stopped early)")
    assert main(_train_argv(tmp_path / "done", 20)) == 0
    assert main(["evaluate", str(tmp_path / "done")]) == 0
    assert "scoring the checkpoint" not in capsys.readouterr().out


@pytest.mark.parametrize("argv, names, quick, to", [
    (["--quick", "ch03"], ["ch03"], True, "html"),
    (["ch03", "--quick"], ["ch03"], True, "html"),
    (["--to", "notebook", "ch01", "--quick", "ch02"], ["ch01", "ch02"], True, "notebook"),
    ([], [], False, "html"),
])
def test_chapters_render_takes_options_before_the_chapters(argv, names, quick, to,
                                                           monkeypatch):
    calls = []
    monkeypatch.setattr("lpn_mini.course.docs.render", lambda out, n, t, q: calls.append((n, q, t)))
    assert main(["chapters", "render", *argv]) == 0
    assert calls == [(names, quick, to)]


@pytest.mark.parametrize("out, written", [
    ("pic", "pic.png"), ("pic.png", "pic.png"), ("folder", "folder/show_predictions.png"),
    ("new/", "new/show_predictions.png"), (None, "run/show_predictions.png"),
])
def test_show_out_prints_the_path_it_wrote(out, written, trained, tmp_path, capsys,
                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    os.symlink(trained, tmp_path / "run")
    assert main(["show", "run", "--tasks", "1", *(["--out", out] if out else [])]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"wrote {written}"
    assert (tmp_path / written).stat().st_size > 1000


@pytest.mark.parametrize("argv, hint", [
    (["trian"], "did you mean 'train'?"),
    (["reproduce", "tabel1"], "did you mean 'table1'?"),
    (["train", "--config", "smal"], "unknown preset 'smal' (did you mean 'small'?)"),
    (["train", "--set", "stpes=3"], "unknown config key 'stpes' in the command line (did you "
                                    "mean 'steps'?); `lpn-mini train --list-keys` prints"),
])
def test_did_you_mean(argv, hint, capsys):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    assert hint in capsys.readouterr().err
