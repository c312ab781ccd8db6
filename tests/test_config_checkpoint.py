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
