import os

import numpy as np
import pytest

from lpn_mini.checkpoint import load_checkpoint, save_checkpoint
from lpn_mini.config import PRESETS, Config, make_config, with_overrides
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
    (["stepz=3"], "unknown config key.*stepz.*known keys are"),
    (["steps=many"], "'steps' expects a int"),
    (["stop_gradient=maybe"], "'stop_gradient' expects a bool"),
    (["latent_optimizer=rmsprop"], "must be one of"),
    (["steps"], "key=value"),
])
def test_bad_overrides(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config("tiny", overrides=overrides)


def test_unknown_preset_and_bad_toml(tmp_path):
    with pytest.raises(ValueError, match="unknown preset"):
        make_config("huge")
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 3")
    with pytest.raises(ValueError, match="not valid TOML"):
        make_config("tiny", str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("stpes = 3")
    with pytest.raises(ValueError, match="unknown config key"):
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
    with pytest.raises(ValueError, match="not a readable lpn-mini checkpoint"):
        load_checkpoint(str(garbage))
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
