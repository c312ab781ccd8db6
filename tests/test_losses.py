import autograd
import numpy as np
import pytest
from autograd.test_util import check_grads

from lpn_mini import kl_divergence, log_likelihood, log_softmax
from lpn_mini.architectures import decode

from helpers import C, D, H, W, check_grad_groups, close, small_problem


def naive_log_likelihood(dec, x, y, z):
    """Loops over cells with the textbook softmax: the definition eq. 9 writes down."""
    logits = decode(dec, x, z)
    total = 0.0
    for r in range(H):
        for c in range(W):
            p = np.exp(logits[r, c]) / np.sum(np.exp(logits[r, c]))
            total += np.log(p[y[r, c]])
    return total


def test_log_likelihood_matches_the_definition():
    rng, params, x, y, _ = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    ll = log_likelihood(params["decoder"], x, y, z)
    want = [[naive_log_likelihood(params["decoder"], x[b, n], y[b, n], z[b, n])
             for n in range(x.shape[1])] for b in range(x.shape[0])]
    close(ll, np.array(want), "log p(y | x, z) (reduce='sum')", rtol=1e-9,
          hint="sum over the H x W cells of log_softmax(logits) at each cell's true colour.")
    mean = log_likelihood(params["decoder"], x, y, z, reduce="mean")
    close(mean, ll / (H * W), "log p(y | x, z) (reduce='mean')", rtol=1e-10,
          hint="'mean' averages over the cells instead of summing.")


def test_grid_log_likelihood_of_given_logits():
    from lpn_mini.losses import grid_log_likelihood
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((2, 3, H, W, C))
    y = rng.integers(0, C, size=(2, 1, H, W))             # broadcasts against (2, 3)
    p = np.exp(logits) / np.sum(np.exp(logits), axis=-1, keepdims=True)
    want = np.zeros((2, 3))
    for b, m, r, c in np.ndindex(2, 3, H, W):
        want[b, m] += np.log(p[b, m, r, c, y[b, 0, r, c]])
    close(grid_log_likelihood(logits, y), want, "grid_log_likelihood (reduce='sum')", rtol=1e-12,
          hint="log_softmax(logits) at each cell's true colour, summed over the H x W cells.")
    close(grid_log_likelihood(logits, y, "mean"), want / (H * W),
          "grid_log_likelihood (reduce='mean')", rtol=1e-12, hint="'mean' averages over cells.")
    with pytest.raises(ValueError, match="reduce"):
        grid_log_likelihood(logits, y, "max")


def test_zero_logits_give_uniform_likelihood():
    rng, params, x, y, _ = small_problem()
    W_last, b_last = params["decoder"][-1]
    params["decoder"][-1] = (np.zeros_like(W_last), np.zeros_like(b_last))
    z = rng.standard_normal(x.shape[:2] + (D,))
    close(log_likelihood(params["decoder"], x, y, z), np.full(x.shape[:2], -H * W * np.log(C)),
          "log-likelihood of all-zero logits", rtol=1e-10,
          hint="uniform logits give log(1 / C) per cell.")


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [800.0, 800.0, 0.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        out = log_softmax(logits)
    assert np.all(np.isfinite(out)), \
        "log_softmax overflowed on logits of 1e4: subtract the maximum before exponentiating."
    close(out, np.array([[0.0, -1e4, -2e4], [np.log(0.5), np.log(0.5), -800 + np.log(0.5)]]),
          "log_softmax", rtol=1e-10, hint="logits - logsumexp(logits) over the last axis.")


def test_log_likelihood_gradient_every_group_and_z():
    rng, params, x, y, _ = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    dec = {"decoder": params["decoder"]}
    f = lambda p: np.sum(log_likelihood(p["decoder"], x, y, z))
    check_grad_groups(f, autograd.grad(f), dec, rng, tol=1e-6)
    check_grads(lambda z: log_likelihood(params["decoder"], x, y, z), modes=["rev"], order=2)(z)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    close(kl_divergence(np.zeros((2, 5)), np.zeros((2, 5))), np.zeros(2), "KL at the prior",
          hint="KL(N(0, I) || N(0, I)) = 0; sum over d only.")
    rng = np.random.default_rng(0)
    assert np.all(kl_divergence(rng.standard_normal((10, 4)), rng.standard_normal((10, 4))) > 0), \
        "KL came out negative: a KL divergence is >= 0 (check the sign of each term)."
    close(kl_divergence(np.array([1.0, 0.0]), np.array([0.0, np.log(2.0)])),
          0.5 * ((1 + 1 - 1 - 0) + (2 + 0 - 1 - np.log(2.0))), "KL at mu=(1, 0), var=(1, 2)",
          rtol=1e-10, hint="0.5 * sum(exp(logvar) + mu^2 - 1 - logvar).")


def test_kl_matches_monte_carlo():
    rng = np.random.default_rng(1)
    mu, logvar = np.array([0.5, -1.0, 0.2]), np.array([0.3, -0.7, 0.0])
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * rng.standard_normal((400_000, 3))
    log_q = -0.5 * np.sum(((z - mu) / sigma) ** 2 + logvar + np.log(2 * np.pi), axis=-1)
    log_p = -0.5 * np.sum(z ** 2 + np.log(2 * np.pi), axis=-1)
    mc = np.mean(log_q - log_p)
    stderr = np.std(log_q - log_p) / np.sqrt(len(z))
    kl = float(kl_divergence(mu, logvar))
    assert abs(kl - mc) < 4 * stderr, \
        f"KL: expected the Monte Carlo estimate {mc:.4f} +- {4 * stderr:.4f}, got {kl:.4f}."


def test_kl_gradient():
    rng = np.random.default_rng(2)
    mu, logvar = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    shape = np.shape(kl_divergence(mu, logvar))
    assert shape == (3,), f"KL: expected shape (3,) for mu of shape (3, 4), got shape {shape}."
    check_grads(kl_divergence, modes=["rev"], order=2)(mu, logvar)


def test_hand_written_gradients_of_the_colour_primitives():
    """log_softmax and sum_colours are autograd primitives with VJPs written by hand; both
    must match finite differences, to second order (training without stop-gradient
    differentiates through them twice)."""
    from lpn_mini.losses import sum_colours
    logits = np.random.default_rng(3).standard_normal((2, 3, 4, C))
    check_grads(log_softmax, modes=["rev"], order=2)(logits)
    check_grads(lambda a: sum_colours(a) ** 2, modes=["rev"], order=2)(logits)
    check_grads(lambda a: sum_colours(a, keepdims=True) * a, modes=["rev"], order=2)(logits)
    close(sum_colours(logits), np.sum(logits, axis=-1), "sum_colours", rtol=1e-12)


def test_flush_to_zero_sets_exactly_the_subnormals_to_zero_and_differentiates():
    from lpn_mini.losses import flush_to_zero
    tiny = np.finfo(np.float32).tiny                                  # 1.2e-38
    a = np.array([3.0, -tiny, tiny / 4, -tiny / 1e3, 0.0, np.inf, np.nan], dtype=np.float32)
    out = flush_to_zero(a)
    assert out.dtype == np.float32
    assert np.array_equal(out[:5], np.array([3.0, -tiny, 0, 0, 0], dtype=np.float32))
    assert out[5] == np.inf and np.isnan(out[6]), "inf and NaN pass through (NaN is caught later)"
    # Its gradient is the same 0/1 mask: it is the identity wherever it changes nothing.
    g = autograd.grad(lambda v: np.sum(flush_to_zero(v) * np.arange(5.0)))(
        np.array([1.0, 2.0, 1e-310, -4.0, 0.0]))
    assert np.array_equal(g, [0.0, 1.0, 0.0, 3.0, 0.0])


def test_a_sure_decoder_s_float32_gradient_has_no_subnormals():
    """Late in training the decoder gives wrong colours probabilities below 1e-38, and the
    plain gradient of log-softmax, g - p * sum(g), fills with subnormal numbers that slow
    every later product (benchmarks/subnormals.py). The library's gradient is the same but
    for those numbers, which are 0."""
    from lpn_mini.losses import _log_softmax_vjp, grid_log_likelihood, sum_colours
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((6, 5, 5, C)) * 40).astype(np.float32)
    y = rng.integers(0, C, (6, 5, 5))
    g = autograd.grad(lambda a: np.sum(grid_log_likelihood(a, y)))(logits)
    tiny = np.finfo(np.float32).tiny
    assert g.dtype == np.float32 and not np.any((g != 0) & (np.abs(g) < tiny))
    lsm = log_softmax(logits)
    p = np.exp(lsm)        # off the true colour, the plain gradient of log p(true) is -p
    assert np.any((p != 0) & (p < tiny)), "the case really has subnormal probabilities"
    # Everywhere else it is the plain gradient, to float32 rounding (another path: a tolerance).
    one_hot = np.eye(C, dtype=np.float32)[y]
    unflushed = one_hot - p * sum_colours(one_hot, keepdims=True)
    np.testing.assert_allclose(g, unflushed, rtol=8 * np.finfo(np.float32).eps, atol=tiny)
    assert np.array_equal(_log_softmax_vjp(lsm, logits)(one_hot), g)   # the same path again


def test_pick_colours_is_the_one_hot_product_and_differentiates_twice():
    from lpn_mini.losses import pick_colours, sum_colours
    from lpn_mini.model import one_hot_cells
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3, 4, H, W, C))
    y = rng.integers(0, C, size=(2, 1, 4, H, W))          # broadcasts against a's (2, 3, 4)
    close(pick_colours(a, y), sum_colours(a * one_hot_cells(y, C)), "pick_colours", rtol=1e-15)
    check_grads(lambda a: pick_colours(a, y) ** 2, modes=["rev"], order=2)(a)
    g = autograd.grad(lambda a: np.sum(pick_colours(a, y)))(a)
    assert np.array_equal(g, np.broadcast_to(one_hot_cells(y, C), a.shape)), \
        "the gradient of a pick is 1 at each picked entry and 0 elsewhere"
