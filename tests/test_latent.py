import autograd
import numpy as np
import pytest
from autograd.test_util import check_grads

from lpn_mini import (LEAVE_ONE_OUT, latent_ascent_step, latent_gradient_ascent, latent_random_search,
                      leave_one_out_mask, leave_one_out_mean, log_likelihood, reparameterize,
                      specification_log_likelihood)
from lpn_mini.latent import off_diagonal, other_pairs

from helpers import D, assert_agree_to_rounding, close, small_problem


def test_reparameterize_value_and_gradient():
    rng = np.random.default_rng(0)
    mu, logvar, eps = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    close(reparameterize(mu, logvar, eps), mu + eps * np.sqrt(np.exp(logvar)), "z", rtol=1e-10,
          hint="the standard deviation is exp(0.5 * logvar), not exp(logvar).")
    check_grads(lambda m, lv: reparameterize(m, lv, eps), modes=["rev"], order=2)(mu, logvar)


def test_leave_one_out_is_the_mean_of_the_others():
    z = np.random.default_rng(1).standard_normal((2, 4, 3))
    zp = leave_one_out_mean(z)
    for b in range(2):
        for i in range(4):
            others = [z[b, j] for j in range(4) if j != i]
            close(zp[b, i], np.mean(others, axis=0), f"z'[{b}, {i}]", rtol=1e-10,
                  hint="z'_i is the mean of the N - 1 *other* latents.")


def test_leave_one_out_never_sees_its_own_latent():
    z = np.random.default_rng(2).standard_normal((2, 4, 3))
    # d z'_i / d z_i must be exactly 0; d z'_i / d z_j = 1 / (N - 1) for j != i.
    for i in range(4):
        jac = autograd.jacobian(lambda z: leave_one_out_mean(z)[:, i])(z)  # (B, d, B, N, d)
        assert np.all(jac[:, :, :, i, :] == 0), \
            f"z'_{i} changes when z_{i} changes: leave pair {i}'s own latent out of its mean."
        close(jac[0, 0, 0, (i + 1) % 4, 0], 1 / 3, f"d z'_{i} / d z_j (j != i)",
              hint="each other latent counts 1 / (N - 1).")


def test_leave_one_out_needs_two_pairs():
    with pytest.raises(ValueError, match="at least 2 pairs"):
        leave_one_out_mean(np.zeros((3, 1, 2)))


def test_other_pairs_lists_every_pair_but_its_own():
    assert other_pairs(2).tolist() == [[1], [0]]
    assert other_pairs(4).tolist() == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]


@pytest.mark.parametrize("N", [2, 3, 4])
def test_off_diagonal_keeps_the_other_pairs_in_order(N):
    a = np.random.default_rng(N).standard_normal((2, N, N, 3))
    want = np.stack([a[:, i, other_pairs(N)[i]] for i in range(N)], axis=1)  # (2, N, N - 1, 3)
    assert np.array_equal(off_diagonal(a), want)
    check_grads(lambda a: off_diagonal(a) ** 2, modes=["rev"], order=2)(a)


@pytest.mark.parametrize("N", [2, 3, 5])
def test_leave_one_out_by_name_is_the_leave_one_out_mask(N):
    """LEAVE_ONE_OUT skips the masked pairs instead of decoding them: same values, same
    gradients for z and for every decoder parameter, also second order in z."""
    rng, params, x, y, _ = small_problem(B=2, N=N)
    z = rng.standard_normal((2, N, D))
    dec = params["decoder"]
    for reduce in ("sum", "mean"):
        fast = lambda dec, z: specification_log_likelihood(dec, x, y, z, LEAVE_ONE_OUT, reduce)
        dense = lambda dec, z: specification_log_likelihood(dec, x, y, z, leave_one_out_mask(N),
                                                             reduce)
        assert_agree_to_rounding(fast(dec, z), dense(dec, z), f"LEAVE_ONE_OUT vs mask ({reduce})", ulps=64)
        weights = rng.standard_normal((2, N))  # a generic outer gradient, not all ones
        for argnum in (0, 1):
            g_fast = autograd.grad(lambda *a: np.sum(weights * fast(*a)), argnum)(dec, z)
            g_dense = autograd.grad(lambda *a: np.sum(weights * dense(*a)), argnum)(dec, z)
            for a, b in zip(_leaves(g_fast), _leaves(g_dense), strict=True):
                assert_agree_to_rounding(a, b, f"gradient {argnum} ({reduce})", ulps=256)
    check_grads(lambda z: specification_log_likelihood(dec, x, y, z, LEAVE_ONE_OUT),
                modes=["rev"], order=2)(z)


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [tree]


def test_leave_one_out_by_name_wants_one_latent_per_pair():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    with pytest.raises(ValueError, match="one latent per pair"):
        specification_log_likelihood(params["decoder"], x, y, rng.standard_normal((2, 1, D)),
                                     LEAVE_ONE_OUT)
    with pytest.raises(ValueError, match="LEAVE_ONE_OUT"):
        specification_log_likelihood(params["decoder"], x, y, rng.standard_normal((2, 3, D)),
                                     "leave_one_out")


def test_specification_likelihood_respects_the_mask():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    dec = params["decoder"]
    got = specification_log_likelihood(dec, x, y, z, leave_one_out_mask(3))
    for b in range(2):
        for i in range(3):
            want = sum(log_likelihood(dec, x[b, j], y[b, j], z[b, i]) for j in range(3) if j != i)
            assert_agree_to_rounding(got[b, i], want, f"objective of task {b}, latent {i}", ulps=64)


def test_latent_objective_second_order_gradients():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    f = lambda z: specification_log_likelihood(params["decoder"], x, y, z, leave_one_out_mask(3))
    check_grads(f, modes=["rev"], order=2)(z)


def _objective(params, x, y, z, mask):
    return specification_log_likelihood(params["decoder"], x, y, z, mask)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_small_ascent_step_does_not_decrease_the_objective(optimizer):
    rng, params, x, y, _ = small_problem(B=3, N=4)
    z = rng.standard_normal((3, 4, D))
    mask = leave_one_out_mask(4)
    z1 = latent_gradient_ascent(params["decoder"], x, y, z, mask, num_steps=1, alpha=1e-3,
                                optimizer=optimizer)
    before, after = _objective(params, x, y, z, mask), _objective(params, x, y, z1, mask)
    assert np.all(after > before), "gradient *ascent* must raise every latent's objective"


def test_sgd_step_is_alpha_times_gradient():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    mask = leave_one_out_mask(3)
    g = autograd.grad(lambda z: np.sum(_objective(params, x, y, z, mask)))(z)
    z1 = latent_gradient_ascent(params["decoder"], x, y, z, mask, num_steps=1, alpha=0.3)
    assert_agree_to_rounding(z1, z + 0.3 * g, "one SGD step", ulps=64)


def test_batched_ascent_equals_one_task_and_one_latent_at_a_time():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    mask = leave_one_out_mask(3)
    kw = dict(num_steps=3, alpha=0.1, optimizer="adam", clip_norm=1.0)
    batched = latent_gradient_ascent(params["decoder"], x, y, z, mask, **kw)
    for b in range(2):
        for i in range(3):
            one = latent_gradient_ascent(params["decoder"], x[b:b + 1], y[b:b + 1],
                                         z[b:b + 1, i:i + 1], mask[i:i + 1], **kw)
            assert_agree_to_rounding(batched[b, i], one[0, 0], f"task {b}, latent {i}", ulps=1000)


def test_adam_first_step_moves_each_coordinate_by_about_alpha():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    mask = leave_one_out_mask(3)
    g = autograd.grad(lambda z: np.sum(_objective(params, x, y, z, mask)))(z)
    z1 = latent_gradient_ascent(params["decoder"], x, y, z, mask, num_steps=1, alpha=0.1,
                                optimizer="adam")
    # m^ = g and v^ = g^2 after bias correction, so the step is alpha * sign(g).
    np.testing.assert_allclose(z1 - z, 0.1 * np.sign(g), rtol=1e-6)


def test_gradient_clipping_bounds_each_latents_step():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    z1 = latent_gradient_ascent(params["decoder"], x, y, z, leave_one_out_mask(3), num_steps=1,
                                alpha=1.0, clip_norm=0.5)
    norms = np.linalg.norm(z1 - z, axis=-1)
    assert np.all(norms <= 0.5 + 1e-12) and np.any(norms > 0.49)


def test_best_of_trajectory_never_ends_below_the_start():
    rng, params, x, y, _ = small_problem(B=3, N=3)
    z = rng.standard_normal((3, 3, D))
    mask = leave_one_out_mask(3)
    kw = dict(num_steps=4, alpha=5.0)  # a step size large enough to overshoot
    last = latent_gradient_ascent(params["decoder"], x, y, z, mask, **kw)
    best = latent_gradient_ascent(params["decoder"], x, y, z, mask, best_of_trajectory=True, **kw)
    start_v, last_v, best_v = (_objective(params, x, y, v, mask) for v in (z, last, best))
    assert np.all(best_v >= start_v) and np.all(best_v >= last_v)
    assert np.any(best_v > last_v), "the step size should overshoot somewhere, or the test is vacuous"


def test_random_search_keeps_the_best_candidate():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    mask = leave_one_out_mask(3)
    noise = rng.standard_normal((2, 3, 6, D))
    got = latent_random_search(params["decoder"], x, y, z, mask, noise, scale=0.7)
    for b in range(2):
        for i in range(3):
            cands = [z[b, i]] + [z[b, i] + 0.7 * n for n in noise[b, i]]
            vals = [_objective(params, x[b:b + 1], y[b:b + 1], c[None, None], mask[i:i + 1])[0, 0]
                    for c in cands]
            assert_agree_to_rounding(got[b, i], cands[int(np.argmax(vals))], f"task {b}, latent {i}", ulps=64)


def test_unknown_optimizer_is_a_clear_error():
    rng, params, x, y, _ = small_problem()
    with pytest.raises(ValueError, match="optimizer must be one of"):
        latent_gradient_ascent(params["decoder"], x, y, np.zeros((2, 3, D)), leave_one_out_mask(3),
                               num_steps=1, alpha=0.1, optimizer="rmsprop")


def test_ascent_step_is_alpha_times_the_gradient():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    mask = leave_one_out_mask(3)
    g = autograd.grad(lambda z: np.sum(_objective(params, x, y, z, mask)))(z)
    for sg in (True, False):
        close(latent_ascent_step(params["decoder"], x, y, z, mask, 0.3, stop_gradient=sg),
              z + 0.3 * g, f"z after one step (stop_gradient={sg})", rtol=1e-9,
              hint="z + alpha * grad_z of the summed specification log-likelihood.")
    close(latent_ascent_step(params["decoder"], x, y, z, mask, 0.3),
          latent_gradient_ascent(params["decoder"], x, y, z, mask, num_steps=1, alpha=0.3),
          "latent_ascent_step vs latent_gradient_ascent(K=1)", rtol=1e-10)


def test_ascent_step_raises_the_objective():
    rng, params, x, y, _ = small_problem(B=3, N=4)
    z = rng.standard_normal((3, 4, D))
    mask = leave_one_out_mask(4)
    z1 = latent_ascent_step(params["decoder"], x, y, z, mask, 1e-3)
    assert np.all(_objective(params, x, y, z1, mask) > _objective(params, x, y, z, mask)), \
        "the objective went down: this is gradient *ascent*, step along +grad."


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # expected: a constant
def test_stop_gradient_makes_the_step_a_constant():
    rng, params, x, y, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 3, D))
    mask = leave_one_out_mask(3)
    r = rng.standard_normal((2, 3, D))
    outer = lambda dec, sg: np.sum(r * latent_ascent_step(dec, x, y, z, mask, 0.3, stop_gradient=sg))
    g_sg = autograd.grad(outer)(params["decoder"], True)
    assert all(np.all(w == 0) for layer in g_sg for w in layer), \
        ("with stop_gradient=True the step still depends on the decoder parameters for autograd; "
         "compute the gradient from without_gradient(...) copies.")
    g_full = autograd.grad(outer)(params["decoder"], False)
    assert max(np.abs(w).max() for l in g_full for w in l) > 0, \
        "with stop_gradient=False the outer gradient must flow through the step (second order)."
