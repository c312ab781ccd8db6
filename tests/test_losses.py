import autograd
import numpy as np
from autograd.test_util import check_grads

from lpn_mini import kl_divergence, log_likelihood, log_softmax
from lpn_mini.model import decode

from helpers import C, D, H, W, check_grad_groups, small_problem


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
    assert ll.shape == x.shape[:2]
    for b in range(x.shape[0]):
        for n in range(x.shape[1]):
            np.testing.assert_allclose(ll[b, n], naive_log_likelihood(params["decoder"], x[b, n],
                                                                     y[b, n], z[b, n]), rtol=1e-10)
    mean = log_likelihood(params["decoder"], x, y, z, reduce="mean")
    np.testing.assert_allclose(mean, ll / (H * W), rtol=1e-12)


def test_zero_logits_give_uniform_likelihood():
    rng, params, x, y, _ = small_problem()
    W_last, b_last = params["decoder"][-1]
    params["decoder"][-1] = (np.zeros_like(W_last), np.zeros_like(b_last))
    z = rng.standard_normal(x.shape[:2] + (D,))
    np.testing.assert_allclose(log_likelihood(params["decoder"], x, y, z), -H * W * np.log(C),
                               rtol=1e-12)


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [800.0, 800.0, 0.0]])
    out = log_softmax(logits)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(out[1, :2], np.log(0.5), rtol=1e-12)


def test_log_likelihood_gradient_every_group_and_z():
    rng, params, x, y, _ = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    dec = {"decoder": params["decoder"]}
    f = lambda p: np.sum(log_likelihood(p["decoder"], x, y, z))
    check_grad_groups(f, autograd.grad(f), dec, rng, tol=1e-6)
    check_grads(lambda z: log_likelihood(params["decoder"], x, y, z), modes=["rev"], order=2)(z)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert np.allclose(kl_divergence(np.zeros((2, 5)), np.zeros((2, 5))), 0.0)
    rng = np.random.default_rng(0)
    assert np.all(kl_divergence(rng.standard_normal((10, 4)), rng.standard_normal((10, 4))) > 0)


def test_kl_matches_monte_carlo():
    rng = np.random.default_rng(1)
    mu, logvar = np.array([0.5, -1.0, 0.2]), np.array([0.3, -0.7, 0.0])
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * rng.standard_normal((400_000, 3))
    log_q = -0.5 * np.sum(((z - mu) / sigma) ** 2 + logvar + np.log(2 * np.pi), axis=-1)
    log_p = -0.5 * np.sum(z ** 2 + np.log(2 * np.pi), axis=-1)
    mc = np.mean(log_q - log_p)
    stderr = np.std(log_q - log_p) / np.sqrt(len(z))
    assert abs(kl_divergence(mu, logvar) - mc) < 4 * stderr


def test_kl_gradient():
    rng = np.random.default_rng(2)
    check_grads(kl_divergence, modes=["rev"], order=2)(rng.standard_normal((3, 4)),
                                                       rng.standard_normal((3, 4)))
