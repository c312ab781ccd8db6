"""The windowed, weight-shared encoder and decoder (results/paper-scale/windowed.py).

Not part of the library: the probes beside it found it did not learn the Pattern task
(results/paper-scale/results.md, section 2); kept, and tested, so that those numbers can be
run again."""
import os
import sys
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

from lpn_mini.latent import leave_one_out_mean, reparameterize
from lpn_mini.losses import grid_log_likelihood, kl_divergence
from lpn_mini.optim import tree_leaves, tree_unflatten

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "results", "paper-scale"))
import windowed  # noqa: E402  (results/paper-scale/windowed.py)

C, D, HIDDEN, K = 4, 3, (6, 5), 3


def problem(B=2, N=3, H=5, W=6, dtype=np.float64, seed=0, **options):
    rng = np.random.default_rng(seed)
    params = windowed.init_params(rng, (H, W), C, D, HIDDEN, dtype, window=K,
                                  encoder_window=K, heads=2, **options)
    x = rng.integers(0, C, (B, N, H, W))
    y = rng.integers(0, C, (B, N, H, W))
    return rng, params, x, y


def naive_windows(grid, k):
    """The k x k one-hot windows by the definition: cell (r, c), offset (i, j), colour."""
    H, W, p = grid.shape[-2], grid.shape[-1], k // 2
    out = np.zeros(grid.shape + (k, k, C))
    for r in range(H):
        for c in range(W):
            for i in range(k):
                for j in range(k):
                    rr, cc = r + i - p, c + j - p
                    if 0 <= rr < H and 0 <= cc < W:
                        out[..., r, c, i, j, :] = np.eye(C)[grid[..., rr, cc]]
    return out


def test_unfold_matches_the_definition():
    _, _, x, y = problem(B=1, N=2)
    for k in (1, 3, 5):
        got = windowed.unfold_one_hot([x, y], C, k, np.float64)
        expected = np.stack([naive_windows(x, k), naive_windows(y, k)], axis=-2)  # (.., k, k, 2, C)
        assert got.shape == x.shape + (k * k * 2 * C,)
        np.testing.assert_array_equal(got, expected.reshape(got.shape), err_msg=f"k = {k}")


def test_shapes_and_other_grid_sizes():
    _, params, x, y = problem()
    mu, logvar = windowed.encode(params["encoder"], x, y)
    assert mu.shape == logvar.shape == (2, 3, D)
    assert windowed.decode(params["decoder"], x, mu).shape == (2, 3, 5, 6, C)
    assert windowed.latent_dim_of(params) == D and windowed.num_colors_of(params["decoder"]) == C
    # Weights shared across cells: the same parameters run on 9 x 4 grids.
    big = np.random.default_rng(1).integers(0, C, (2, 9, 4))
    assert windowed.encode(params["encoder"], big, big)[0].shape == (2, D)
    assert windowed.decode(params["decoder"], big, np.zeros((2, D))).shape == (2, 9, 4, C)


def test_decoder_broadcasts_pairs_against_latents():
    rng, params, x, _ = problem(B=2, N=3)
    z = rng.standard_normal((2, 4, D))
    out = windowed.decode(params["decoder"], x[:, None], z[:, :, None])  # (B, M, N, H, W, C)
    assert out.shape == (2, 4, 3, 5, 6, C)
    for b in range(2):
        for m in range(4):
            for n in range(3):
                np.testing.assert_allclose(out[b, m, n],
                                           windowed.decode(params["decoder"], x[b, n], z[b, m]),
                                           rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gated", [False, True])
def test_decoder_is_translation_equivariant_and_local(gated):
    rng, params, _, _ = problem(H=9, W=9, gated=gated)
    dec = params["decoder"]
    x = np.zeros((9, 9), int)
    x[3:5, 2:5] = rng.integers(1, C, (2, 3))       # content away from the border
    z = rng.standard_normal(D)
    shifted = np.roll(x, (1, 2), axis=(0, 1))      # still away from the border
    a, b = windowed.decode(dec, x, z), windowed.decode(dec, shifted, z)
    p = K // 2  # cells whose windows stay inside the grid in both positions
    np.testing.assert_allclose(b[p + 1:9 - p, p + 2:9 - p], a[p:8 - p, p:7 - p], atol=1e-12)
    assert np.ptp(a[p:9 - p, p:9 - p], axis=(0, 1)).max() > 1e-3  # not the same everywhere
    # A cell's logits read only its own window: changing a far cell leaves them alone.
    far = x.copy()
    far[8, 8] = 1
    np.testing.assert_allclose(windowed.decode(dec, far, z)[3, 3], a[3, 3], rtol=0, atol=1e-12)
    assert np.abs(windowed.decode(dec, far, z)[7, 7] - a[7, 7]).max() > 1e-6


@pytest.mark.parametrize("options", [dict(attend="features"), dict(attend="input"),
                                     dict(gated=True)])
def test_encoder_is_translation_invariant_and_reads_every_cell(options):
    rng, params, _, _ = problem(H=9, W=9, **options)
    enc = params["encoder"]
    enc["score"] = tuple(rng.standard_normal(np.shape(a)) for a in enc["score"])  # not uniform
    x = np.zeros((9, 9), int)
    y = np.zeros((9, 9), int)
    x[4, 3], y[3:5, 3:6] = 1, rng.integers(1, C, (2, 3))
    mu, logvar = windowed.encode(enc, x, y)
    mu2, logvar2 = windowed.encode(enc, np.roll(x, (1, 1), (0, 1)), np.roll(y, (1, 1), (0, 1)))
    np.testing.assert_allclose(mu2, mu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logvar2, logvar, rtol=1e-10, atol=1e-12)
    y[0, 8] = 2  # any cell counts
    assert np.abs(windowed.encode(enc, x, y)[0] - mu).max() > 1e-6


def test_attention_weights_sum_to_one_per_head():
    scores = np.random.default_rng(0).standard_normal((2, 3, 30, 4)) * 50
    a = windowed.softmax_over_cells(scores)
    np.testing.assert_allclose(a.sum(axis=-2), 1.0, rtol=1e-12)
    assert np.isfinite(a).all()
    # score_scale spreads the first scores: the heads start peaked instead of uniform.
    _, params, x, y = problem(score_scale=10.0)
    f = windowed.cell_features(params["encoder"], x, y)
    assert windowed.attention(params["encoder"], f, x).max() > 0.2


def lpn_loss(params, x, y, eps, alpha=0.3):
    """Algorithm 2 with one latent gradient step and no stop-gradient: differentiating it
    needs the second derivative of the decoder."""
    mu, logvar = windowed.encode(params["encoder"], x, y)
    z = leave_one_out_mean(reparameterize(mu, logvar, eps))              # (B, N, d)
    dec = params["decoder"]
    spec = lambda z: anp.sum(grid_log_likelihood(windowed.decode(dec, x, z, check=False), y))
    z = z + alpha * grad(spec)(z)                                         # Algorithm 2, line 10
    rec = -grid_log_likelihood(windowed.decode(dec, x, z, check=False), y, "mean")
    return anp.mean(rec + 1e-2 * kl_divergence(mu, logvar))


@pytest.mark.parametrize("options", [dict(attend="features"), dict(attend="input"),
                                     dict(gated=True)])
def test_first_and_second_order_gradients_match_finite_differences(options):
    rng, params, x, y = problem(B=1, N=2, H=4, W=4, **options)
    for net in params.values():  # non-zero biases and scores: every parameter group matters
        for leaf in tree_leaves(net):
            leaf += 0.1 * rng.standard_normal(leaf.shape)
    eps = rng.standard_normal((1, 2, D))
    leaves = tree_leaves(params)
    f = lambda leaves: lpn_loss(tree_unflatten(params, leaves), x, y, eps)
    check_grads(f, modes=["rev"], order=2)(leaves)
    # Each group gets a gradient (a group cut off from the loss would pass the check).
    for i, g in enumerate(grad(f)(leaves)):
        assert np.abs(g).max() > 0, f"parameter array {i} gets no gradient"


def test_float32_in_float32_out():
    _, params, x, y = problem(dtype=np.float32)
    mu, logvar = windowed.encode(params["encoder"], x, y)
    logits = windowed.decode(params["decoder"], x, mu)
    assert mu.dtype == logvar.dtype == logits.dtype == np.float32
    g = grad(lambda p: anp.sum(windowed.decode(p["decoder"], x, windowed.encode(p["encoder"],
                                                                               x, y)[0])))(params)
    assert all(leaf.dtype == np.float32 for leaf in tree_leaves(g))


def test_clear_errors():
    rng, params, x, y = problem()
    with pytest.raises(ValueError, match="odd"):
        windowed.init_params(rng, (5, 5), C, D, HIDDEN, window=4)
    with pytest.raises(ValueError, match="d = 3"):
        windowed.decode(params["decoder"], x, np.zeros((2, 3, D + 1)))
    with pytest.raises(ValueError, match="colours"):
        windowed.encode(params["encoder"], x, y + C)
