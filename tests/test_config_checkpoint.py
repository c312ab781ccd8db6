import dataclasses
import json
import os
import stat
from dataclasses import fields

import numpy as np
import pytest

from lpn_mini.checkpoint import load_checkpoint, save_checkpoint
from lpn_mini.config import (PRESETS, RENAMED, Config, config_from_dict, make_config,
                             warnings_of, with_overrides)
from lpn_mini.optim import adam_init, tree_leaves
from lpn_mini.training import new_params


def test_presets_build_and_override_in_order(tmp_path):
    for name in PRESETS:
        assert isinstance(make_config(name), Config)
    toml = tmp_path / "c.toml"
    toml.write_text('steps = 7\nhidden = [16, 8]\nlatent_lr = 0.5\n')
    c = make_config("tiny", str(toml), ["steps=9", "stop_gradient=false", "eval_grad_steps=0,3"])
    assert c.steps == 9 and c.hidden == (16, 8) and c.latent_lr == 0.5
    assert c.stop_gradient is False and c.eval_grad_steps == (0, 3)
    assert c.grid_size == PRESETS["tiny"]["grid_size"]


@pytest.mark.parametrize("overrides, message", [
    (["stepz=3"], "unknown config key 'stepz' in the command line \\(did you mean 'steps'\\?\\); "
                  "`lpn-mini train --list-keys` prints every key"),
    (["stepz=3", "zzz=1"], "unknown config keys 'stepz', 'zzz' in the command line; "),
    (["steps=many"], "'steps' must be an integer >= 1, got many"),
    (["steps=20.7"], "'steps' must be an integer >= 1, got 20.7"),
    (["stop_gradient=maybe"], "'stop_gradient' must be true or false, got maybe"),
    (["latent_optimizer=rmsprop"], "must be one of 'sgd', 'adam', got 'rmsprop'"),
    (["steps"], "key=value"),
    (["seed=-1"], "'seed' must be an integer >= 0"),
    (["num_pairs=1"], "'num_pairs' must be an integer >= 2"),
    (["weight_decay=-0.1"], "'weight_decay' must be a finite number >= 0"),
    (["grad_clip=inf"], "'grad_clip' must be a finite number >= 0, got inf"),
    (["beta=-1"], "'beta' must be a finite number >= 0"),
    (["latent_lr=0"], "'latent_lr' must be a finite number > 0"),
    (["sample_scale=nan"], "'sample_scale' must be a finite number > 0"),
    (["latent_samples=0"], "'latent_samples' .formerly 'train_samples'. must be an integer >= 1"),
    (["eval_density=2"], "'eval_density' must be a probability in \\[0, 1\\], or -1"),
    (["hidden=32,0"], "'hidden' must be a list of integers >= 1, got 32,0"),
    (["eval_grad_steps=1,-1"], "'eval_grad_steps' must be a list of integers >= 0"),
    (["eval_every=-1"], "'eval_every' must be an integer >= 0"),
    (["num_colors=2"], "the Pattern task needs num_colors >= 3"),
    (["dtype=float16"], "'dtype' must be one of 'float32', 'float64'"),
    (["train_samples=2", "latent_samples=2"], "sets both 'train_samples' and its new name"),
    (["train_steps=10"], "train_steps is no longer a config key: use steps=N to train for N "
                         "steps, or latent_steps=K for K latent gradient steps"),
])
def test_bad_overrides(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config("tiny", overrides=overrides)


def test_every_key_has_a_rule_and_a_description_and_its_default_passes():
    groups = [f.metadata["group"] for f in fields(Config) if f.metadata["group"]]
    assert groups[0] == "the task (paper, appendix A.1)" and len(groups) == 6
    for f in fields(Config):
        assert f.metadata["help"] and f.metadata["rule"].text, f.name
        assert f.metadata["rule"].ok(f.default), f"{f.name}'s default breaks its own rule"


@pytest.mark.parametrize("toml, expected", [
    ("lr = 1", {"lr": 1.0}),                      # an int for a float key is fine
    ("steps = 2e4", {"steps": 20000}),            # an integer written as a float is too
    ("stop_gradient = false", {"stop_gradient": False}),
    ("hidden = []", {"hidden": ()}),              # no hidden layer
    ("eval_grad_steps = 7", {"eval_grad_steps": (7,)}),
])
def test_toml_values_of_the_right_type(tmp_path, toml, expected):
    path = tmp_path / "c.toml"
    path.write_text(toml + "\n")
    c = make_config("tiny", str(path))
    assert {k: getattr(c, k) for k in expected} == expected


@pytest.mark.parametrize("toml, message", [
    ("steps = 20.7", "'steps' must be an integer >= 1, got 20.7"),
    ("stop_gradient = 1", "'stop_gradient' must be true or false, got 1"),
    ("lr = true", "'lr' must be a finite number > 0, got True"),
    ("dtype = 32", "'dtype' must be one of"),
    ("hidden = [32.5]", "'hidden' must be a list of integers >= 1"),
    ("batch_size = \"64\"", "'batch_size' in .* must be an integer >= 1, got the text '64'"),
])
def test_toml_values_of_the_wrong_type(tmp_path, toml, message):
    path = tmp_path / "c.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ValueError, match=message):
        make_config("tiny", str(path))


def test_old_key_names_still_load_with_a_note(tmp_path, capsys):
    toml = tmp_path / "old.toml"
    toml.write_text("train_samples = 3\ntrain_steps = 2\n")
    c = make_config("tiny", str(toml))
    assert (c.latent_steps, c.latent_samples) == (2, 3)
    err = capsys.readouterr().err.splitlines()
    assert f"lpn-mini: note: config key 'train_samples' is now called 'latent_samples'; read " \
           f"train_samples=3 from the TOML file {toml} as latent_samples." in err
    assert f"lpn-mini: note: config key 'train_steps' is now called 'latent_steps'; read " \
           f"train_steps=2 from the TOML file {toml} as latent_steps." in err
    assert set(RENAMED) == {"train_steps", "train_samples"}
    # A checkpoint written before the rename: its config JSON says train_steps.
    config = make_config("tiny", overrides=["latent_steps=0"])
    old_json = {("train_steps" if k == "latent_steps" else k): v
                for k, v in dataclasses.asdict(config).items()}
    legacy = dataclasses.replace(config)
    object.__setattr__(legacy, "to_json", lambda: json.dumps(old_json))
    path = str(tmp_path / "old.npz")
    params = new_params(config)
    save_checkpoint(path, params, adam_init(params), legacy, 7)
    assert load_checkpoint(path)[2:] == (config, 7)
    err = capsys.readouterr().err
    assert f"read train_steps=0 from the checkpoint {path} as latent_steps" in err
    assert config_from_dict(old_json) == config


def test_a_large_latent_steps_is_warned_about():
    assert warnings_of(make_config("tiny")) == []
    many = make_config("tiny", overrides=["latent_steps=50"])
    assert "raise steps instead" in warnings_of(many)[0]


def test_unknown_preset_and_bad_toml(tmp_path):
    with pytest.raises(ValueError, match="unknown preset 'huge'; choose one of tiny, small"):
        make_config("huge")
    with pytest.raises(ValueError, match="unknown preset 'smal' \\(did you mean 'small'\\?\\); "):
        make_config("smal")
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 3")
    with pytest.raises(ValueError, match="not valid TOML"):
        make_config("tiny", str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("stpes = 3")
    with pytest.raises(ValueError, match="unknown config key 'stpes' in the TOML file .* "
                                         "\\(did you mean 'steps'\\?\\); "):
        make_config("tiny", str(unknown))


def test_checkpoint_round_trip(tmp_path):
    config = make_config("tiny")
    params = new_params(config)
    state = adam_init(params)
    state["t"] = 3
    path = str(tmp_path / "ckpt.npz")
    save_checkpoint(path, params, state, config, 42)
    p2, s2, c2, step = load_checkpoint(path, expected_config=config)
    assert c2 == config and step == 42 and s2["t"] == 3
    for a, b in zip(tree_leaves(params), tree_leaves(p2), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert [f for f in os.listdir(tmp_path)] == ["ckpt.npz"], "no temporary file left behind"


def test_checkpoints_respect_the_umask_and_clean_stale_temporaries(tmp_path):
    config = make_config("tiny")
    params = new_params(config)
    stale = tmp_path / ".tmp-abc_1234.npz"   # a write that was killed
    stale.write_bytes(b"half")
    saved = os.umask(0o027)
    try:
        save_checkpoint(str(tmp_path / "ckpt.npz"), params, adam_init(params), config, 1)
    finally:
        os.umask(saved)
    assert stat.S_IMODE(os.stat(tmp_path / "ckpt.npz").st_mode) == 0o640
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_corrupt_and_mismatched_checkpoints_are_clear_errors(tmp_path):
    config = make_config("tiny")
    path = str(tmp_path / "ckpt.npz")
    save_checkpoint(path, new_params(config), adam_init(new_params(config)), config, 1)
    with open(path, "rb") as f:
        data = f.read()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable lpn-mini checkpoint"):
        load_checkpoint(str(truncated))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable lpn-mini checkpoint .not an .npz"):
        load_checkpoint(str(garbage))
    random = tmp_path / "random.npz"
    random.write_bytes(np.random.default_rng(1).bytes(10000))
    with pytest.raises(ValueError, match="not an .npz archive") as e:
        load_checkpoint(str(random))
    assert "allow_pickle" not in str(e.value) and "pickle.load" not in str(e.value)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, config_json=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled objects, which lpn-mini never writes"):
        load_checkpoint(str(pickled))
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="it has no 'config_json' entry"):
        load_checkpoint(str(tmp_path / "other.npz"))
    other = with_overrides(config, ["latent_dim=5"])
    with pytest.raises(ValueError, match="latent_dim = 4 but the config asks for 5"):
        load_checkpoint(path, expected_config=other)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(str(tmp_path / "missing.npz"))


def test_interrupted_write_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    config = make_config("tiny")
    params = new_params(config)
    path = str(tmp_path / "ckpt.npz")
    save_checkpoint(path, params, adam_init(params), config, 5)

    def crash(*a, **k):
        raise KeyboardInterrupt  # as if killed in the middle of writing
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, params, adam_init(params), config, 6)
    monkeypatch.undo()
    assert load_checkpoint(path)[3] == 5
    assert os.listdir(tmp_path) == ["ckpt.npz"]


# --- the run directory's lock (checkpoint.run_lock) ---------------------------------------

def _lock_of(pid, host=None):
    import socket
    return {"pid": pid, "host": host or socket.gethostname(), "command": "lpn-mini train",
            "started": "2025-01-01 12:00:00"}


def _dead_pid():
    """The PID of a process that has ended (and been reaped)."""
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_dir_is_locked_while_it_trains_and_unlocked_after(tmp_path):
    from lpn_mini.checkpoint import LOCK, run_lock
    run = tmp_path / "run"
    run.mkdir()
    with run_lock(str(run)):
        holder = json.loads((run / LOCK).read_text())
        assert holder["pid"] == os.getpid() and set(holder) == {"pid", "host", "command",
                                                                "started"}
        with run_lock(str(run)):  # the same process again (demo: train inside the demo)
            pass
        assert (run / LOCK).exists(), "the outer holder keeps it"
    assert sorted(os.listdir(run)) == [], "no lock, no temporary file left"


def test_a_live_lock_refuses_a_second_training_in_one_line(tmp_path):
    import subprocess
    import sys
    from lpn_mini.checkpoint import LOCK, run_lock
    run = tmp_path / "run"
    run.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / LOCK).write_text(json.dumps(_lock_of(other.pid)))
        with pytest.raises(ValueError) as e:
            with run_lock(str(run)):
                pass
        assert str(e.value) == (f"{run} is in use by another training (PID {other.pid} on "
                                f"{_lock_of(0)['host']}, since 2025-01-01 12:00:00: lpn-mini "
                                f"train); wait for it to finish, or pass another run directory.")
        assert json.loads((run / LOCK).read_text())["pid"] == other.pid, "left as it was"
    finally:
        other.kill()
        other.wait()


def test_a_lock_from_another_machine_is_never_taken_over(tmp_path):
    from lpn_mini.checkpoint import LOCK, run_lock
    (tmp_path / LOCK).write_text(json.dumps(_lock_of(_dead_pid(), host="elsewhere")))
    with pytest.raises(ValueError, match="in use by another training .PID .* on elsewhere"):
        with run_lock(str(tmp_path)):
            pass


def test_a_lock_with_our_own_pid_from_an_earlier_process_is_stale(tmp_path):
    """In a container every run may be PID 1: a killed run's lock then names our PID."""
    from lpn_mini.checkpoint import LOCK, run_lock
    (tmp_path / LOCK).write_text(json.dumps(_lock_of(os.getpid())))
    lines = []
    with run_lock(str(tmp_path), echo=lines.append):
        pass
    assert lines and lines[0].startswith(f"taking over the lock of {tmp_path} (the process "
                                         f"that wrote it, PID {os.getpid()}, has ended;")


@pytest.mark.parametrize("content", ["dead", "", "not json", '{"pid": "x"}'])
def test_a_stale_or_damaged_lock_is_taken_over_with_a_line(content, tmp_path):
    from lpn_mini.checkpoint import LOCK, run_lock
    pid = _dead_pid()
    (tmp_path / LOCK).write_text(json.dumps(_lock_of(pid)) if content == "dead" else content)
    lines = []
    with run_lock(str(tmp_path), echo=lines.append):
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    gone = (f"the process that wrote it, PID {pid}, has ended" if content == "dead"
            else "it was unreadable")
    assert lines == [f"taking over the lock of {tmp_path} ({gone}; a run that was stopped or "
                     f"killed left it)"]
    assert os.listdir(tmp_path) == []


def test_only_one_of_two_runs_takes_over_the_same_stale_lock(tmp_path, monkeypatch):
    """Both found the lock stale; the first took it over. The second must not remove the
    first one's live lock (the lock it renames away is not the one it judged)."""
    from lpn_mini import checkpoint
    stale = _lock_of(_dead_pid())
    (tmp_path / checkpoint.LOCK).write_text(json.dumps(_lock_of(os.getppid())))  # the first's
    assert not checkpoint._remove_stale(str(tmp_path / checkpoint.LOCK), stale)
    assert json.loads((tmp_path / checkpoint.LOCK).read_text())["pid"] == os.getppid()
    assert os.listdir(tmp_path) == [checkpoint.LOCK]


def test_no_advice_to_delete_a_file_lpn_mini_did_not_write(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# a project\n")
    with pytest.raises(ValueError) as e:
        load_checkpoint(str(readme))
    advice = str(e.value).replace(str(readme), "README.md")  # the test's own folder name
    assert "delete" not in advice and "pass a run directory written by" in advice
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")  # a run's own, damaged
    with pytest.raises(ValueError) as e:
        load_checkpoint(str(run / "checkpoint.npz"))
    advice = str(e.value).replace(str(run), "run")
    assert "train that run again with `lpn-mini train --no-resume`" in advice
    assert "delete" not in advice


def test_checkpoint_step_reads_the_step_only(tmp_path):
    from lpn_mini.checkpoint import checkpoint_step
    config = make_config("tiny")
    params = new_params(config)
    save_checkpoint(str(tmp_path / "c.npz"), params, adam_init(params), config, 40)
    assert checkpoint_step(str(tmp_path / "c.npz")) == 40
    assert checkpoint_step(str(tmp_path / "missing.npz")) is None
    (tmp_path / "bad.npz").write_text("x")
    assert checkpoint_step(str(tmp_path / "bad.npz")) is None


def test_the_literal_preset_is_the_pseudo_code_read_literally():
    """What chapters 1-8 train: plain latent steps on the per-cell sum, the last point of
    the search in training and at test time, no clipping, no decay or warm-up, no holdout."""
    from lpn_mini.evaluation import search_options
    c = make_config("literal")
    assert (c.latent_optimizer, c.latent_lr, c.latent_clip, c.grad_clip) == ("sgd", 0.05, 0.0, 0.0)
    assert (c.likelihood, c.best_of_trajectory, c.train_best_of_trajectory) == ("sum", False, False)
    assert (c.weight_decay, c.lr_warmup, c.holdout) == (0.0, 0, 0.0)
    train_search = search_options(c, "grad", c.latent_steps, training=True)
    assert train_search == dict(method="grad", num_steps=1, alpha=0.05, optimizer="sgd",
                                clip_norm=None, reduce="sum", clip_mode="latent",
                                adam_eps_root=0.0, best_of_trajectory=False)
