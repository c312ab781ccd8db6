import autograd
import numpy as np
import pytest

import lpn_mini.model
from lpn_mini import (encode, init_params, kl_divergence, latent_gradient_ascent,
                      leave_one_out_mask, leave_one_out_mean, leave_one_out_predict,
                      log_likelihood, pattern_tasks, reparameterize, scores, training_loss)
from lpn_mini.optim import adam_init, adam_update, tree_leaves

from helpers import D, assert_agree_to_rounding, check_grad_groups, close, small_problem


def loss_with_frozen_update(params0, x, y, eps, beta, reduce="sum", **search):
    """What stop-gradient differentiates: Algorithm 2 with the latent update computed once,
    at ``params0``, and then held fixed as a constant while the parameters vary."""
    def z_prime_of(p):
        mu, logvar = encode(p["encoder"], x, y)
        return mu, logvar, leave_one_out_mean(reparameterize(mu, logvar, eps))

    z0 = z_prime_of(params0)[2]
    delta = latent_gradient_ascent(params0["decoder"], x, y, z0, leave_one_out_mask(x.shape[1]),
                                   reduce=reduce, **search) - z0

    def loss(p):
        mu, logvar, zp = z_prime_of(p)
        rec = -log_likelihood(p["decoder"], x, y, zp + delta, reduce)
        return np.mean(rec + beta * kl_divergence(mu, logvar))
    return loss


def test_mean_training_loss_value():
    """K = 0 ("mean training"): the loss assembled by hand from the paper's pieces."""
    _, params, x, y, eps = small_problem(seed=4)
    mu, logvar = encode(params["encoder"], x, y)
    z = reparameterize(mu, logvar, eps)
    z_prime = (z.sum(axis=1, keepdims=True) - z) / (z.shape[1] - 1)
    rec = -log_likelihood(params["decoder"], x, y, z_prime)
    want = np.mean(rec + 0.5 * kl_divergence(mu, logvar))
    close(training_loss(params, x, y, eps, num_steps=0, beta=0.5), want, "training loss (K = 0)",
          rtol=1e-10, hint="mean over tasks and pairs of -log p(y_i | x_i, z'_i) + beta * KL_i, "
                           "with z'_i the leave-one-out mean of the other pairs' sampled latents.")


@pytest.mark.parametrize("num_steps", [0, 1, 2])
@pytest.mark.parametrize("stop_gradient", [True, False])
def test_training_loss_gradient_matches_finite_differences(num_steps, stop_gradient):
    """Without stop-gradient: finite differences of the whole loss (second order through the
    inner loop). With it: finite differences of the loss with the update held constant,
    which is the quantity stop-gradient differentiates by design."""
    rng, params, x, y, eps = small_problem(seed=num_steps)
    f = lambda p: training_loss(p, x, y, eps, num_steps=num_steps, alpha=0.3, beta=0.5,
                                stop_gradient=stop_gradient)
    reference = (loss_with_frozen_update(params, x, y, eps, 0.5, num_steps=num_steps, alpha=0.3)
                 if stop_gradient else f)
    check_grad_groups(reference, autograd.grad(f), params, rng, tol=1e-6)


@pytest.mark.parametrize("stop_gradient", [True, False])
def test_gradient_through_adam_clipping_and_best_of_trajectory(stop_gradient):
    rng, params, x, y, eps = small_problem(seed=7)
    search = dict(num_steps=2, alpha=0.1, optimizer="adam", clip_norm=2.0, best_of_trajectory=True)
    f = lambda p: training_loss(p, x, y, eps, beta=0.5, reduce="mean",
                                stop_gradient=stop_gradient, **search)
    reference = (loss_with_frozen_update(params, x, y, eps, 0.5, reduce="mean", **search)
                 if stop_gradient else f)
    check_grad_groups(reference, autograd.grad(f), params, rng, tol=1e-6)


def test_sample_training_gradient():
    rng, params, x, y, eps = small_problem(seed=8)
    noise = rng.standard_normal(x.shape[:2] + (5, D))
    f = lambda p: training_loss(p, x, y, eps, beta=0.5, method="sample", noise=noise)
    check_grad_groups(f, autograd.grad(f), params, rng, tol=1e-6)


def test_stop_gradient_treats_the_update_as_a_constant():
    rng, params, x, y, eps = small_problem(seed=3)
    kw = dict(num_steps=2, alpha=0.3)
    g_sg = autograd.grad(lambda p: training_loss(p, x, y, eps, beta=0.5, **kw))(params)
    g_ref = autograd.grad(loss_with_frozen_update(params, x, y, eps, 0.5, **kw))(params)
    g_full = autograd.grad(lambda p: training_loss(p, x, y, eps, beta=0.5, stop_gradient=False,
                                                   **kw))(params)
    for a, b in zip(tree_leaves(g_sg), tree_leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # Not vacuous: the second-order gradient differs.
    pairs = zip(tree_leaves(g_sg), tree_leaves(g_full), strict=True)
    assert max(np.abs(a - b).max() for a, b in pairs) > 1e-6
    # Same loss value either way: stop-gradient changes gradients only.
    np.testing.assert_allclose(training_loss(params, x, y, eps, beta=0.5, **kw),
                               training_loss(params, x, y, eps, beta=0.5, stop_gradient=False, **kw))


def test_loss_is_pure_and_uses_no_global_rng(monkeypatch):
    rng, params, x, y, eps = small_problem()
    state = np.random.get_state()
    for name in ("rand", "randn", "normal", "random", "randint", "seed", "choice", "uniform"):
        monkeypatch.setattr(np.random, name, lambda *a, **k: pytest.fail("global RNG used"))
    kw = dict(num_steps=2, alpha=0.2, stop_gradient=False)
    g1 = autograd.value_and_grad(training_loss)(params, x, y, eps, **kw)
    g2 = autograd.value_and_grad(training_loss)(params, x, y, eps, **kw)
    assert g1[0] == g2[0]
    for a, b in zip(tree_leaves(g1[1]), tree_leaves(g2[1]), strict=True):
        assert np.array_equal(a, b)
    leave_one_out_predict(params, x, y, eps, num_steps=2, alpha=0.1)
    pattern_tasks(rng, 3, 2)
    monkeypatch.undo()
    assert all(np.array_equal(a, b) for a, b in zip(state[1:], np.random.get_state()[1:], strict=True))


def test_no_python_loop_over_tasks_or_pairs(monkeypatch):
    """K = 1 without stop-gradient at 32 tasks x 4 pairs of 10 x 10: the decoder runs as
    often as for 2 tasks x 2 pairs (batched), not once per task or pair."""
    calls = []
    real = lpn_mini.model.decode

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    for mod in ("lpn_mini.losses",):
        monkeypatch.setattr(f"{mod}.decode", counting)
    counts = []
    for B, N in ((2, 2), (32, 4)):
        rng = np.random.default_rng(0)
        x, y = pattern_tasks(rng, B, N, 10, 4)
        params = init_params(rng, (10, 10), 10, 32, (64, 64))
        eps = rng.standard_normal((B, N, 32))
        calls.clear()
        loss, g = autograd.value_and_grad(training_loss)(params, x, y, eps, num_steps=1, alpha=0.1,
                                                         stop_gradient=False)
        assert np.isfinite(loss) and all(np.all(np.isfinite(l)) for l in tree_leaves(g))
        counts.append(len(calls))
    assert counts[0] == counts[1] <= 3


@pytest.mark.parametrize("bad, message", [
    (lambda x, y, e: (x[0], y[0], e), "shape \\(B, N, H, W\\)"),
    (lambda x, y, e: (x, y[:, :, :2], e), "same shape"),
    (lambda x, y, e: (x + 4, y, e), "colours in \\[4, 7\\].*\\[0, 4\\)"),
    (lambda x, y, e: (x - 1, y, e), "colours"),
    (lambda x, y, e: (x[:, :1], y[:, :1], e[:, :1]), "at least 2 pairs"),
    (lambda x, y, e: (x.astype(float), y, e), "integer colours"),
    (lambda x, y, e: (x, y, e * np.nan), "NaN or inf"),
    (lambda x, y, e: (x, y, e[..., :2]), "eps must have shape"),
])
def test_bad_input_gets_one_clear_sentence(bad, message):
    _, params, x, y, eps = small_problem()
    with pytest.raises(ValueError, match=message):
        training_loss(params, *bad(x, y, eps), num_steps=1, alpha=0.1)


def test_training_on_fixed_tiny_tasks_reaches_exact_match():
    rng = np.random.default_rng(0)
    x, y = pattern_tasks(rng, 6, 3, grid_size=3, pattern_size=2, num_colors=4)
    params = init_params(rng, (3, 3), 4, 4, (32, 32))
    state = adam_init(params)
    loss_and_grad = autograd.value_and_grad(training_loss)
    losses = []
    for _ in range(300):
        eps = rng.standard_normal((6, 3, 4))
        loss, g = loss_and_grad(params, x, y, eps, num_steps=1, alpha=0.1)
        params, state = adam_update(params, g, state, lr=3e-3)
        losses.append(loss)
    assert np.mean(losses[-20:]) < 0.05 * np.mean(losses[:20])
    pred = leave_one_out_predict(params, x, y, num_steps=1, alpha=0.1)
    assert scores(pred, y)["exact_match"] == 1.0


@pytest.mark.parametrize("search", [
    dict(num_steps=0), dict(num_steps=1), dict(num_steps=1, stop_gradient=False),
    dict(num_steps=2, optimizer="adam", clip_norm=1.0, best_of_trajectory=True),
    dict(method="sample", noise=np.ones((3, 4, 5, 4), np.float32))],
    ids=["K=0", "K=1", "K=1 no-sg", "adam+clip+best", "sample"])
def test_a_float32_model_trains_in_float32(search):
    """No silent float64 anywhere in the loss or its gradient (a float64 mask in a VJP once
    made every float32 backward pass run in float64 at twice the cost)."""
    rng = np.random.default_rng(0)
    x, y = pattern_tasks(rng, 3, 4, 3, 2, 1.0, 4)
    params = init_params(rng, (3, 3), 4, 4, (16, 16), dtype=np.float32)
    eps = rng.standard_normal((3, 4, 4)).astype(np.float32)
    loss, grads = autograd.value_and_grad(training_loss)(params, x, y, eps, alpha=0.1, **search)
    assert np.asarray(loss).dtype == np.float32
    assert {g.dtype for g in tree_leaves(grads)} == {np.dtype(np.float32)}


def test_relu_gradient_is_the_positive_mask():
    from lpn_mini.mlp import relu
    h = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    g = autograd.grad(lambda h: np.sum(relu(h) * np.array([3.0, 5.0, 7.0], np.float32)))(h)
    assert g.tolist() == [0.0, 0.0, 7.0] and g.dtype == np.float32


def test_keep_freed_memory_applies_once_on_glibc():
    import platform
    from lpn_mini.device.allocator import keep_freed_memory
    applied = keep_freed_memory()
    assert keep_freed_memory() is applied
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert applied is True


@pytest.mark.parametrize("search", [dict(num_steps=0), dict(num_steps=2, alpha=0.1),
                                    dict(num_steps=1, alpha=0.1, stop_gradient=False)])
def test_loss_and_grad_is_value_and_grad_of_the_training_loss(search):
    """The training loop's flat-list differentiation gives autograd's numbers for the nested
    structure, in the same structure (up to the order in which a parameter's gradient
    contributions are summed: without stop-gradient a weight gets several)."""
    from lpn_mini.training import loss_and_grad
    _, params, x, y, eps = small_problem(seed=4)
    loss, grads = loss_and_grad(params, x, y, eps, beta=0.3, **search)
    want_loss, want = autograd.value_and_grad(training_loss)(params, x, y, eps, beta=0.3, **search)
    assert_agree_to_rounding(loss, want_loss, "loss", ulps=4)
    assert [k for k in grads] == [k for k in want]
    for net in params:
        assert [tuple(np.shape(a) for a in layer) for layer in grads[net]] == \
               [tuple(np.shape(a) for a in layer) for layer in params[net]]
    for a, b in zip(tree_leaves(grads), tree_leaves(want), strict=True):
        assert_agree_to_rounding(a, b, "gradient", ulps=64)
