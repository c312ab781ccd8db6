"""The device logic, tested on every machine with a fake GPU (lpn_mini/device/fake_device.py), and on
a real GPU with CuPy where there is one."""
import importlib.util
import json

import autograd
import numpy as np
import pytest
from autograd.extend import defvjp

import lpn_mini.device.backend as backend
import lpn_mini.training
from lpn_mini import (infer_latent, init_params, leave_one_out_predict, pattern_tasks, predict,
                      training_loss)
from lpn_mini.device.backend import array_module, to_device, to_host
from lpn_mini.cli import main
from lpn_mini.config import make_config
from lpn_mini.latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from lpn_mini.architectures import decode, encode
from lpn_mini.optim import tree_leaves
from lpn_mini.training import train

from lpn_mini.device.fake_device import FakeDeviceArray, fake_xp
from helpers import D, assert_agree_to_rounding, decision_margin, small_problem


def on_fake(*trees):
    return [to_device(t, fake_xp) for t in trees]


def test_fake_array_behaves_like_cupy_where_it_matters():
    a = fake_xp.asarray(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError):
        a + np.ones((2, 3))                     # silent host/device mixing fails loudly
    total = np.sum(a)
    assert isinstance(total, FakeDeviceArray) and total.shape == ()
    assert float(total) == 15.0 and array_module(a) is fake_xp and array_module(np.ones(2)) is np


CASES = [dict(num_steps=0), dict(num_steps=1, alpha=0.2), dict(num_steps=2, alpha=0.2),
         dict(num_steps=1, alpha=0.2, stop_gradient=False),
         dict(num_steps=2, alpha=0.2, stop_gradient=False),
         dict(num_steps=2, alpha=0.1, optimizer="adam", clip_norm=1.0, best_of_trajectory=True,
              stop_gradient=False, reduce="mean")]


@pytest.mark.parametrize("kw", CASES, ids=[str(sorted(k.items())) for k in CASES])
def test_training_loss_and_gradient_on_the_fake_device_match_numpy(kw):
    _, params, x, y, eps = small_problem(seed=1)
    loss, grads = autograd.value_and_grad(training_loss)(params, x, y, eps, beta=0.5, **kw)
    d_loss, d_grads = autograd.value_and_grad(training_loss)(*on_fake(params, x, y, eps),
                                                             beta=0.5, **kw)
    assert isinstance(d_loss, FakeDeviceArray) and d_loss.shape == ()
    assert all(isinstance(g, FakeDeviceArray) for g in tree_leaves(d_grads)), "gradients stay on the device"
    np.testing.assert_allclose(float(d_loss), loss, rtol=1e-12)
    for a, b in zip(tree_leaves(grads), tree_leaves(to_host(d_grads)), strict=True):
        assert_agree_to_rounding(b, a, "gradient on the fake device", ulps=256)


def test_sample_training_and_inference_on_the_fake_device_match_numpy():
    rng, params, x, y, eps = small_problem(seed=2)
    noise = rng.standard_normal(x.shape[:2] + (4, D))
    dp, dx, dy, de, dn = on_fake(params, x, y, eps, noise)
    np.testing.assert_allclose(float(training_loss(dp, dx, dy, de, method="sample", noise=dn)),
                               training_loss(params, x, y, eps, method="sample", noise=noise))
    kw = dict(num_steps=3, alpha=0.1, optimizer="adam", best_of_trajectory=True)
    z_spec = infer_latent(params, x[:, 1:], y[:, 1:], eps[:, 1:], **kw)
    assert_agree_to_rounding(to_host(infer_latent(dp, dx[:, 1:], dy[:, 1:], de[:, 1:], **kw)),
                             z_spec, "inferred latents", ulps=256)
    # Predictions are argmax decisions: equal on both paths because the latents agree to
    # rounding and no decision of this fixture is anywhere near a tie (asserted), not
    # because the two paths give the same bits.
    z_loo = search_latents(params["decoder"], x, y,
                           leave_one_out_mean(reparameterize(*encode(params["encoder"], x, y), eps)),
                           LEAVE_ONE_OUT, **kw)
    assert min(decision_margin(decode(params["decoder"], x[:, 0], z_spec)),
               decision_margin(decode(params["decoder"], x, z_loo))) > 1e-6
    assert np.array_equal(to_host(leave_one_out_predict(dp, dx, dy, de, **kw)),
                          leave_one_out_predict(params, x, y, eps, **kw))
    assert np.array_equal(to_host(predict(dp, dx[:, 1:], dy[:, 1:], dx[:, 0], de[:, 1:], **kw)),
                          predict(params, x[:, 1:], y[:, 1:], x[:, 0], eps[:, 1:], **kw))


def test_a_host_array_in_a_differentiated_path_fails_loudly(monkeypatch):
    """If library code made a host array where the device's belongs (here: one-hot inputs
    made by NumPy whatever the grids' module), the fake device must refuse, as CuPy would."""
    _, params, x, y, eps = small_problem()
    monkeypatch.setattr(lpn_mini.model, "array_module", lambda *arrays: np)
    with pytest.raises(TypeError):
        autograd.grad(training_loss)(*on_fake(params, x, y, eps), num_steps=1, alpha=0.1)
    training_loss(params, x, y, eps, num_steps=1, alpha=0.1)  # while NumPy cannot tell


def test_autograd_s_own_sum_vjp_would_leak_to_the_host():
    """Why backend.py replaces the VJP of sum: autograd's adds numpy.zeros(shape)."""
    from autograd.numpy.numpy_vjps import grad_np_sum
    import autograd.numpy as anp
    _, params, x, y, eps = small_problem()
    try:
        defvjp(anp.sum, grad_np_sum)
        with pytest.raises(TypeError):
            autograd.grad(training_loss)(*on_fake(params, x, y, eps))
    finally:
        defvjp(anp.sum, backend._sum_vjp)


def test_training_loop_on_the_fake_gpu_equals_the_cpu_run(tmp_path, monkeypatch):
    real = backend.get_module
    monkeypatch.setattr("lpn_mini.training.get_module",
                        lambda device: fake_xp if device == "gpu" else real(device))
    cpu = make_config("tiny", overrides=["steps=20", "checkpoint_every=10", "train_method=sample"])
    gpu = make_config("tiny", overrides=["steps=20", "checkpoint_every=10", "train_method=sample",
                                         "device=gpu"])
    before = fake_xp.transfers
    p_cpu = train(cpu, str(tmp_path / "cpu"), progress=False)
    p_gpu = train(gpu, str(tmp_path / "gpu"), progress=False)
    assert fake_xp.transfers > before, "the gpu run must have moved data to the device"
    # Two array types are two computation paths: the same numbers up to rounding, not the
    # same bits (the fake array's buffers are aligned differently, so BLAS may pick another
    # kernel; on an AVX-512 machine the first logged loss differs in its last digit). Adam
    # divides each coordinate by its own gradient scale, which magnifies a rounding
    # difference where a gradient is tiny, and 20 steps compound it: the float32 version
    # of this run measured up to 116 roundings; the float64 run here has 1000 of headroom
    # and still fails on any real difference (one step of lr = 2e-3 is 1e13 roundings).
    for i, (a, b) in enumerate(zip(tree_leaves(p_cpu), tree_leaves(p_gpu), strict=True)):
        assert isinstance(b, np.ndarray), "trained parameters come back to the host"
        assert_agree_to_rounding(b, a, f"trained parameter array {i}", ulps=1000)
    cpu_log = [json.loads(l)["loss"] for l in open(tmp_path / "cpu" / "metrics.jsonl")]
    gpu_log = [json.loads(l)["loss"] for l in open(tmp_path / "gpu" / "metrics.jsonl")]
    assert_agree_to_rounding(np.array(gpu_log), np.array(cpu_log), "logged losses", ulps=1000)


def test_device_selection_errors(monkeypatch, capsys):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        backend.get_module("tpu")
    monkeypatch.setenv("LPN_MINI_DEVICE", "quantum")
    with pytest.raises(ValueError, match="LPN_MINI_DEVICE='quantum'"):
        make_config("tiny")
    monkeypatch.setenv("LPN_MINI_DEVICE", "gpu")
    assert make_config("tiny").device == "gpu"
    assert make_config("tiny", overrides=["device=cpu"]).device == "cpu"


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_asking_for_the_gpu_without_cupy_is_one_clear_sentence(tmp_path, capsys):
    with pytest.raises(ValueError, match="the GPU needs CuPy"):
        backend.get_module("gpu")
    assert main(["train", "--config", "tiny", "--device", "gpu", "--run-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "the GPU needs CuPy" in err and len(err.strip().splitlines()) == 1


def _gpu_reason():
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install -e \".[gpu]\" on a machine with a GPU)"
    try:
        backend.get_module("gpu")
    except ValueError as e:
        return str(e)
    return None


@pytest.mark.gpu
@pytest.mark.skipif(_gpu_reason() is not None, reason=str(_gpu_reason()))
@pytest.mark.parametrize("kw", CASES[:5], ids=[str(sorted(k.items())) for k in CASES[:5]])
def test_cupy_matches_numpy_at_float32_tolerance(kw):
    import cupy
    rng = np.random.default_rng(0)
    x, y = pattern_tasks(rng, 8, 4, 4, 2)
    params = init_params(rng, (4, 4), 10, 8, (64, 64), dtype=np.float32)
    eps = rng.standard_normal((8, 4, 8)).astype(np.float32)
    loss, grads = autograd.value_and_grad(training_loss)(params, x, y, eps, **kw)
    dev = [to_device(t, cupy) for t in (params, x, y, eps)]
    d_loss, d_grads = autograd.value_and_grad(training_loss)(*dev, **kw)
    assert isinstance(d_loss, cupy.ndarray)
    np.testing.assert_allclose(float(d_loss), loss, rtol=1e-4)
    for a, b in zip(tree_leaves(grads), tree_leaves(to_host(d_grads)), strict=True):
        np.testing.assert_allclose(b, a, rtol=2e-3, atol=2e-4)
    preds = leave_one_out_predict(dev[0], dev[1], dev[2], num_steps=2, alpha=0.1)
    assert isinstance(preds, cupy.ndarray)
