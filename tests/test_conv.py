"""The conv architecture (lpn_mini/conv.py): the latent writes a convolution kernel."""
import dataclasses

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

from lpn_mini import architectures, conv, model
from lpn_mini.device.backend import to_device, to_host
from lpn_mini.checkpoint import load_checkpoint, save_checkpoint
from lpn_mini.config import make_config
from lpn_mini.device.fake_device import FakeDeviceArray, fake_xp
from lpn_mini.optim import adam_init, tree_leaves, tree_unflatten
from lpn_mini.tasks import pattern_tasks
from lpn_mini.training import loss_and_grad, train, training_loss
from helpers import assert_agree_to_rounding

C, D, HIDDEN, K = 4, 3, (8, 7), 3


def problem(B=2, N=3, H=5, W=6, dtype=np.float64, seed=0, k=K):
    rng = np.random.default_rng(seed)
    params = conv.init_params(rng, (H, W), C, D, HIDDEN, dtype, window=k)
    for leaf in tree_leaves(params):  # non-zero biases: every parameter group matters
        leaf += (0.1 * rng.standard_normal(leaf.shape)).astype(dtype)
    x = rng.integers(0, C, (B, N, H, W))
    y = rng.integers(0, C, (B, N, H, W))
    return rng, params, x, y


def neighbour(grid, r, c, i, j, k):
    """The colour of ``grid`` (H, W) at offset (i - k // 2, j - k // 2) from (r, c), or None
    beyond the border."""
    rr, cc = r + i - k // 2, c + j - k // 2
    return grid[rr, cc] if 0 <= rr < grid.shape[0] and 0 <= cc < grid.shape[1] else None


def test_unfold_matches_the_definition():
    _, _, x, _ = problem(B=1, N=2)
    for k in (1, 3, 5):
        got = conv.unfold(x, C, k, np.float64).reshape(1, 2, 5, 6, k, k, C)
        want = np.zeros_like(got)
        for n in range(2):
            for r, c, i, j in np.ndindex(5, 6, k, k):
                colour = neighbour(x[0, n], r, c, i, j, k)
                if colour is not None:
                    want[0, n, r, c, i, j, colour] = 1
        np.testing.assert_array_equal(got, want, err_msg=f"k = {k}")


def test_cooccurrence_matches_the_definition():
    _, _, x, y = problem(B=1, N=1)
    got = conv.cooccurrence(x, y, C, K, np.float64).reshape(K, K, C, C)
    counts = np.zeros((K, K, C, C))
    for r, c, i, j in np.ndindex(5, 6, K, K):
        colour = neighbour(x[0, 0], r, c, i, j, K)
        if colour is not None:
            counts[i, j, colour, y[0, 0, r, c]] += 1
    totals = counts.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(got, counts / np.maximum(totals, 1), rtol=1e-15)
    shares = got.sum(axis=-1)                      # a distribution of y's colour, or all 0
    assert np.all(np.isclose(shares, 1) | (totals[..., 0] == 0))


def test_on_the_pattern_task_the_table_holds_the_pattern_in_place():
    """The module docstring's claim: T[o, 1, :] is the pattern's colour at offset -o from
    the anchor (the single 1 of x), for every offset of the 4 x 4 pattern."""
    x, y = pattern_tasks(np.random.default_rng(0), 8, 4, 10, 4, 1.0, 10)
    table = conv.cooccurrence(x, y, 10, 7, np.float64).reshape(x.shape[:2] + (7, 7, 10, 10))
    for b, n in np.ndindex(x.shape[:2]):
        (r,), (c,) = np.nonzero(x[b, n] == 1)
        for i, j in np.ndindex(4, 4):              # pattern cell (r + i, c + j): offset -(i, j)
            np.testing.assert_array_equal(table[b, n, 3 - i, 3 - j, 1],
                                          np.eye(10)[y[b, n, r + i, c + j]])


def test_decoder_applies_the_latents_kernel_by_the_definition():
    _, params, x, _ = problem(B=1, N=2)
    z = np.random.default_rng(3).standard_normal((1, 2, D))
    logits = conv.decode(params["decoder"], x, z)
    kernels = conv.kernel(params["decoder"], z).reshape(1, 2, K, K, C, C)
    want = np.zeros((1, 2, 5, 6, C))
    for n in range(2):
        for r, c, i, j in np.ndindex(5, 6, K, K):
            colour = neighbour(x[0, n], r, c, i, j, K)
            if colour is not None:
                want[0, n, r, c] += kernels[0, n, i, j, colour]
    np.testing.assert_allclose(logits, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("w_lead, k_lead", [((3, 1, 4), (3, 4, 1)), ((3, 4), (3, 4)),
                                            ((2, 5), (1, 1)), ((5,), (2, 1, 5)), ((), (3,)),
                                            ((1, 4), (4, 1)), ((2, 3, 1), (1,))])
def test_apply_kernels_is_a_broadcast_matrix_product(w_lead, k_lead):
    rng = np.random.default_rng(0)
    windows, kernels = rng.standard_normal(w_lead + (6, 7)), rng.standard_normal(k_lead + (7, 2))
    got, want = conv.apply_kernels(windows, kernels), np.matmul(windows, kernels)
    assert got.shape == want.shape
    assert_agree_to_rounding(got, want, "apply_kernels vs matmul", ulps=64)
    # and its gradient is matmul's
    g = rng.standard_normal(want.shape)
    dk = grad(lambda k: anp.sum(conv.apply_kernels(windows, k) * g))(kernels)
    assert_agree_to_rounding(dk, grad(lambda k: anp.sum(anp.matmul(windows, k) * g))(kernels),
                             "its gradient", ulps=64)


def test_decoder_broadcasts_pairs_against_latents():
    _, params, x, _ = problem()
    z = np.random.default_rng(1).standard_normal((2, 3, D))
    every = conv.decode(params["decoder"], x[:, None], z[:, :, None])     # (B, M, N, H, W, C)
    assert every.shape == (2, 3, 3, 5, 6, C)
    for m, n in np.ndindex(3, 3):
        assert_agree_to_rounding(every[:, m, n], conv.decode(params["decoder"], x[:, n], z[:, m]),
                                 f"latent {m} on pair {n}", ulps=64)


def test_decoder_is_translation_equivariant_and_encoder_invariant_away_from_borders():
    rng, params, _, _ = problem()
    x, y = np.zeros((1, 1, 9, 9), int), np.zeros((1, 1, 9, 9), int)
    x[..., 3:5, 3:5] = rng.integers(1, C, (2, 2))
    y[..., 3:6, 2:5] = rng.integers(1, C, (3, 3))
    shift = lambda g: np.roll(g, (1, -1), axis=(-2, -1))
    z = rng.standard_normal((1, 1, D))
    logits, shifted = (conv.decode(params["decoder"], g, z) for g in (x, shift(x)))
    np.testing.assert_allclose(shifted[..., 3:8, 2:7, :],
                               np.roll(logits, (1, -1), axis=(-3, -2))[..., 3:8, 2:7, :],
                               rtol=1e-12, atol=1e-12)
    mu, _ = conv.encode(params["encoder"], x, y)
    mu_shifted, _ = conv.encode(params["encoder"], shift(x), shift(y))
    np.testing.assert_allclose(mu_shifted, mu, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(num_steps=1, alpha=0.3, stop_gradient=False),
                                dict(num_steps=2, alpha=0.2, optimizer="adam", clip_norm=1.0,
                                     best_of_trajectory=True, stop_gradient=False,
                                     reduce="mean")],
                         ids=["Grad 1 no stop-gradient", "Grad 2 Adam, best of trajectory"])
def test_first_and_second_order_gradients_match_finite_differences(kw):
    """Algorithm 2 (the library's training loss) through latent steps that are not cut off:
    its gradient needs the decoder's second derivative."""
    rng, params, x, y = problem(B=1, N=2, H=4, W=4)
    eps = rng.standard_normal((1, 2, D))
    f = lambda leaves: training_loss(tree_unflatten(params, leaves), x, y, eps, beta=0.5, **kw)
    check_grads(f, modes=["rev"], order=2)(tree_leaves(params))
    for i, g in enumerate(grad(f)(tree_leaves(params))):  # a group cut off would pass the check
        assert np.abs(g).max() > 0, f"parameter array {i} gets no gradient"


def test_float32_in_float32_out():
    _, params, x, y = problem(dtype=np.float32)
    mu, logvar = conv.encode(params["encoder"], x, y)
    logits = conv.decode(params["decoder"], x, mu)
    assert mu.dtype == logvar.dtype == logits.dtype == np.float32
    _, grads = loss_and_grad(params, x, y, np.zeros((2, 3, D), np.float32), num_steps=1)
    assert all(leaf.dtype == np.float32 for leaf in tree_leaves(grads))


def test_remembered_windows_follow_the_grids_not_the_array():
    _, params, x, _ = problem()
    z = np.random.default_rng(2).standard_normal((2, 3, D))
    before = conv.decode(params["decoder"], x, z)
    x[0, 0, 0, 0] = (x[0, 0, 0, 0] + 1) % C               # the same array, changed in place
    after = conv.decode(params["decoder"], x, z)
    conv._WINDOWS.clear()  # the next decode unfolds afresh
    np.testing.assert_array_equal(after, conv.decode(params["decoder"], x, z))
    assert not np.array_equal(before, after)


def test_the_registry_hands_conv_parameters_to_conv():
    rng, params, x, y = problem()
    made = architectures.init_params(np.random.default_rng(0), (5, 6), C, D, HIDDEN,
                                     architecture="conv", window=K)
    assert conv.owns(made) and np.shape(made["decoder"]["kernel"][1]) == (K, K, C, C)
    assert architectures.architecture_of(params) is conv
    assert architectures.architecture_of(params["decoder"]) is conv
    mu, logvar = architectures.encode(params["encoder"], x, y)
    np.testing.assert_array_equal(mu, conv.encode(params["encoder"], x, y)[0])
    np.testing.assert_array_equal(architectures.decode(params["decoder"], x, mu),
                                  conv.decode(params["decoder"], x, mu))
    assert architectures.latent_dim_of(params) == D
    assert architectures.num_colors_of(params["decoder"], (5, 6), D) == C
    architectures.check_batch(params, x, y, np.zeros((2, 3, D)))
    with pytest.raises(ValueError, match="architecture must be one of 'mlp', 'conv'"):
        architectures.init_params(rng, (5, 6), C, D, HIDDEN, architecture="transformer")


def test_every_architecture_provides_the_same_functions():
    """Each registered module has every function of the interface, called the same way
    (the same parameter names in the same order, before any options of its own)."""
    import inspect
    for name, module in architectures.ARCHITECTURES.items():
        assert isinstance(module.CONFIG_KEYS, tuple), name
        for function in architectures.INTERFACE:
            assert callable(getattr(module, function, None)), f"{name} lacks {function}"
            theirs = list(inspect.signature(getattr(module, function)).parameters)
            ours = [p for p in inspect.signature(getattr(model, function)).parameters]
            assert theirs[:len(ours)] == ours, f"{name}.{function}{theirs} != model's {ours}"
    mlp_params = model.init_params(np.random.default_rng(0), (5, 6), C, D, HIDDEN)
    assert architectures.architecture_of(mlp_params) is model
    assert architectures.architecture_of(mlp_params["encoder"]) is model
    for name, module in architectures.ARCHITECTURES.items():
        config_like = type("C", (), {"architecture": name, "window": K})()
        made = architectures.init_params(np.random.default_rng(0), (5, 6), C, D, HIDDEN,
                                         architecture=name, **architectures.options_of(config_like))
        assert architectures.architecture_of(made) is module
        count = module.parameter_count((5, 6), C, D, HIDDEN,
                                       **architectures.options_of(config_like))
        assert count == sum(np.size(a) for a in tree_leaves(made)), name


def test_clear_errors():
    rng, params, x, y = problem()
    with pytest.raises(ValueError, match="odd"):
        conv.init_params(rng, (5, 5), C, D, HIDDEN, window=4)
    with pytest.raises(TypeError, match="at least one hidden"):
        conv.init_params(rng, (5, 5), C, D, ())
    with pytest.raises(ValueError, match="d = 3"):
        conv.decode(params["decoder"], x, np.zeros((2, 3, D + 1)))
    with pytest.raises(ValueError, match="colour"):
        conv.encode(params["encoder"], x, y + C)
    with pytest.raises(ValueError, match="eps must have shape"):
        conv.check_batch(params, x, y, np.zeros((2, 3, D + 1)))
    broken = {"encoder": params["encoder"],
              "decoder": {**params["decoder"], "kernel": (params["decoder"]["kernel"][0][:, :2],
                                                          params["decoder"]["kernel"][1])}}
    with pytest.raises(ValueError, match="kernel"):
        conv.check_params(broken)
    with pytest.raises(ValueError, match="needs at least one hidden layer"):
        make_config("tiny", overrides=["architecture=conv", "hidden="])
    with pytest.raises(ValueError, match="odd"):
        make_config("tiny", overrides=["architecture=conv", "window=4"])


def test_checkpoint_round_trip_and_resume_are_exact(tmp_path):
    rng, params, _, _ = problem(dtype=np.float32)
    config = make_config("tiny", overrides=["architecture=conv", "window=3"])
    state = adam_init(params)
    save_checkpoint(tmp_path / "c.npz", params, state, config, 7)
    loaded, loaded_state, loaded_config, step = load_checkpoint(tmp_path / "c.npz", config)
    assert step == 7 and loaded_config == config
    assert set(loaded["encoder"]) == {"table", "layers"} and isinstance(loaded["encoder"]["table"], tuple)
    for a, b in zip(tree_leaves(params), tree_leaves(loaded), strict=True):
        np.testing.assert_array_equal(a, b)
    other = dataclasses.replace(config, architecture="mlp")
    with pytest.raises(ValueError, match="architecture"):
        load_checkpoint(tmp_path / "c.npz", other)
    # Training 12 steps straight and 6 + resumed 6 give the same bits.
    overrides = ["architecture=conv", "window=3", "eval_every=0", "checkpoint_every=6"]
    train(make_config("tiny", overrides=overrides + ["steps=12"]), tmp_path / "straight",
          progress=False, echo=lambda *a: None)
    train(make_config("tiny", overrides=overrides + ["steps=6"]), tmp_path / "resumed",
          progress=False, echo=lambda *a: None)
    train(make_config("tiny", overrides=overrides + ["steps=12"]), tmp_path / "resumed",
          progress=False, echo=lambda *a: None)
    straight = load_checkpoint(tmp_path / "straight" / "checkpoint.npz")[0]
    resumed = load_checkpoint(tmp_path / "resumed" / "checkpoint.npz")[0]
    for a, b in zip(tree_leaves(straight), tree_leaves(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


def test_training_loss_and_gradient_on_the_fake_device_match_numpy():
    rng, params, x, y = problem(B=2, N=3, H=4, W=5)
    eps = rng.standard_normal((2, 3, D))
    kw = dict(beta=0.5, num_steps=1, alpha=0.2, stop_gradient=False)
    loss, grads = autograd.value_and_grad(training_loss)(params, x, y, eps, **kw)
    on_fake = [to_device(t, fake_xp) for t in (params, x, y, eps)]
    d_loss, d_grads = autograd.value_and_grad(training_loss)(*on_fake, **kw)
    assert isinstance(d_loss, FakeDeviceArray)
    assert all(isinstance(g, FakeDeviceArray) for g in tree_leaves(d_grads)), "gradients stay on the device"
    assert_agree_to_rounding(np.asarray(float(d_loss)), np.asarray(loss), "loss on the fake", ulps=256)
    for a, b in zip(tree_leaves(grads), tree_leaves(to_host(d_grads)), strict=True):
        assert_agree_to_rounding(b, a, "gradient on the fake device", ulps=256)


def test_present_windows_are_the_windows_minus_columns_that_are_zero_everywhere():
    rng = np.random.default_rng(4)
    sparse = (rng.random((4, 3, 10, 10)) < 0.02).astype(int)           # like the Pattern task's x
    for x in (rng.integers(0, C, (3, 2, 5, 6)), sparse):
        windows, rows = conv.present_windows(x, C, 5, np.float32)
        full = conv.unfold(x, C, 5, np.float32)
        np.testing.assert_array_equal(windows, full[..., rows])
        assert not np.delete(full, rows, axis=-1).any()
        assert windows.dtype == np.float32 and np.all(np.diff(rows) > 0)
    assert len(conv.present_windows(sparse, C, 5, np.float64)[1]) == 2 * 25  # colours 0 and 1
