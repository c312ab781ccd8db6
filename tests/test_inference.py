import numpy as np

from lpn_mini import (decode, encode, infer_latent, latent_gradient_ascent, leave_one_out_predict,
                      predict, reparameterize, scores)

from helpers import close, small_problem


def test_without_search_the_latent_is_the_mean_over_pairs():
    _, params, x, y, eps = small_problem(B=3, N=3)
    mu, logvar = encode(params["encoder"], x, y)
    close(infer_latent(params, x, y, num_steps=0), mu.mean(axis=1), "latent with eps=None, K=0",
          hint="start from the mean over the task's pairs of mu.")
    close(infer_latent(params, x, y, eps, num_steps=0),
          reparameterize(mu, logvar, eps).mean(axis=1), "latent with eps given, K=0",
          hint="sample z_i = mu_i + eps_i * sigma_i for every pair, then average over pairs.")


def test_search_uses_every_specification_pair():
    _, params, x, y, eps = small_problem(B=2, N=3)
    mu, logvar = encode(params["encoder"], x, y)
    start = reparameterize(mu, logvar, eps).mean(axis=1, keepdims=True)  # (B, 1, d)
    want = latent_gradient_ascent(params["decoder"], x, y, start, np.ones((1, 3)), num_steps=3,
                                  alpha=0.05, optimizer="adam")[:, 0]
    close(infer_latent(params, x, y, eps, num_steps=3, alpha=0.05, optimizer="adam"), want,
          "latent after 3 Adam steps", rtol=1e-9,
          hint="search from the mean latent (B, 1, d) with an all-ones (1, N) mask.")


def test_predict_decodes_the_test_input_with_the_searched_latent():
    rng, params, x, y, eps = small_problem(B=2, N=4)
    z = infer_latent(params, x[:, 1:], y[:, 1:], num_steps=2, alpha=0.1)
    want = np.argmax(decode(params["decoder"], x[:, 0], z), axis=-1)
    got = predict(params, x[:, 1:], y[:, 1:], x[:, 0], num_steps=2, alpha=0.1)
    assert got.shape == x[:, 0].shape, f"prediction: expected shape {x[:, 0].shape}, got {got.shape}."
    assert np.array_equal(got, want), "prediction is not the argmax of the decoded logits."


def test_leave_one_out_predict_masks_the_held_out_pair():
    """Changing pair 0's output must not change the prediction for pair 0."""
    _, params, x, y, _ = small_problem(B=2, N=3)
    y2 = y.copy()
    y2[:, 0] = (y2[:, 0] + 1) % 4
    kw = dict(num_steps=3, alpha=0.1)
    a = leave_one_out_predict(params, x, y, **kw)
    b = leave_one_out_predict(params, x, y2, **kw)
    assert np.array_equal(a[:, 0], b[:, 0]) and not np.array_equal(a, b)


def test_scores():
    target = np.zeros((2, 3, 2, 2), int)
    pred = target.copy()
    pred[0, 0, 0, 0] = 1
    s = scores(pred, target)
    assert s["exact_match"] == 5 / 6 and s["cell_accuracy"] == 23 / 24
