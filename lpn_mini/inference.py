"""Algorithm 1: test-time inference, and the leave-one-out evaluation built on it.

Given the specification pairs of a task, encode them, start from the mean latent, search
(gradient ascent or random search) for the latent that best explains them, and decode the
test input with it. Batched over tasks.
"""
import autograd.numpy as np
import numpy as onp

from .device.backend import array_module, to_host
from .latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from .architectures import check_batch, decode, encode, latent_dim_of, num_colors_of
from .checks import check_array, check_finite, check_grids


def infer_latent(params, x_spec, y_spec, eps=None, **search_options):
    """Algorithm 1, lines 1-4: the latent of each task after test-time search.

    x_spec, y_spec: int ``(B, N, H, W)`` specification pairs.
    eps: ``(B, N, d)`` noise to sample the starting latents from q (the official code's
         choice), or None to start from mu.
    search_options: ``num_steps`` (K) and ``alpha`` of the search, and further options
         passed on to it unchanged (``optimizer``, ``clip_norm``, ``best_of_trajectory``:
         chapter 9; the library also takes ``method="sample"`` with ``noise``).
    Returns ``(B, d)``.
    """
    check_batch(params, x_spec, y_spec, eps, min_pairs=1)
    ### BEGIN SOLUTION
    mu, logvar = encode(params["encoder"], x_spec, y_spec)              # (B, N, d)
    z = mu if eps is None else reparameterize(mu, logvar, eps)          # z_i ~ q_phi(z | x_i, y_i)
    z_start = np.mean(z, axis=1, keepdims=True)                         # (B, 1, d)
    mask = array_module(z).ones((1, x_spec.shape[1]), dtype=z.dtype)    # every spec pair counts
    z_star = search_latents(params["decoder"], x_spec, y_spec, z_start, mask, **search_options)
    return z_star[:, 0]                                                 # (B, d)
    ### END SOLUTION


def predict(params, x_spec, y_spec, x_test, eps=None, **search_options):
    """Algorithm 1: predicted output grids for ``x_test`` ``(B, H, W)`` (per-cell argmax).

    x_spec, y_spec: int ``(B, N, H, W)``; x_test: int ``(B, H, W)``, one test input per task,
    of the specification grids' size. Returns ``(B, H, W)``.
    """
    check_batch(params, x_spec, y_spec, eps, min_pairs=1)
    check_test_inputs(params, x_spec, x_test)
    z = infer_latent(params, x_spec, y_spec, eps, **search_options)     # (B, d)
    check_searched(z)
    logits = decode(params["decoder"], x_test, z, check=False)           # (B, H, W, C)
    return array_module(logits).argmax(logits, axis=-1)                  # (B, H, W)


def check_test_inputs(params, x_spec, x_test):
    """x_test: one grid per task, ``(B, H, W)`` with the specification pairs' B, H and W, and
    colours in ``[0, C)``."""
    check_grids(x_test, name="x_test")
    expected = x_spec.shape[:1] + x_spec.shape[2:]
    if x_test.shape != expected:
        hint = ("; drop its pair axis with x_test[:, 0]" if x_test.shape[:1] + x_test.shape[2:] ==
                expected and x_test.shape[1] == 1 else "")
        raise ValueError(f"x_test must have shape (B, H, W) = {expected}: one test grid per task, "
                         f"of the specification grids' size; got {x_test.shape}{hint}.")
    C = num_colors_of(params["decoder"], x_test.shape[-2:], latent_dim_of(params))
    check_grids(x_test, num_colors=C, name="x_test")


def check_searched(z):
    """NaN latents would decode to all-NaN logits, whose argmax is silently colour 0."""
    check_finite(z, "the latent found by the search", "the parameters hold NaN or inf, or the "
                 "search diverged (lower alpha, or clip its gradient with clip_norm)")


def leave_one_out_predict(params, x, y, eps=None, **search_options):
    """Predict every pair of every task from the task's other N - 1 pairs.

    The paper's scoring: pair i's latent starts from the mean of the other pairs' latents
    and is searched on the other pairs only (the leave-one-out mask); then x_i is decoded.
    x, y: int ``(B, N, H, W)``. Returns the predictions ``(B, N, H, W)``.
    """
    check_batch(params, x, y, eps)
    mu, logvar = encode(params["encoder"], x, y, check=False)           # (B, N, d)
    z = mu if eps is None else reparameterize(mu, logvar, eps)          # z_i ~ q_phi(z | x_i, y_i)
    z_prime = leave_one_out_mean(z)                                     # (B, N, d)
    z_prime = search_latents(params["decoder"], x, y, z_prime, LEAVE_ONE_OUT, **search_options)
    check_searched(z_prime)
    logits = decode(params["decoder"], x, z_prime, check=False)         # (B, N, H, W, C)
    return array_module(logits).argmax(logits, axis=-1)                 # (B, N, H, W)


def scores(prediction, target):
    """Exact match of whole grids and per-cell accuracy, both as fractions in [0, 1].

    prediction, target: grids of one shape ``(..., H, W)``, at least one grid of one cell.
    """
    for name, a in (("prediction", prediction), ("target", target)):
        check_array(a, name, "grids (..., H, W)")
    if prediction.shape != target.shape or prediction.ndim < 2:
        raise ValueError(f"prediction and target must have the same shape (..., H, W), one "
                         f"predicted grid per target grid, got {prediction.shape} and "
                         f"{target.shape}.")
    if prediction.size == 0:
        raise ValueError(f"there is nothing to score: prediction and target of shape "
                         f"{prediction.shape} hold no cells; pass at least one grid.")
    correct = to_host(prediction) == to_host(target)                    # (..., H, W)
    return {"exact_match": float(onp.mean(onp.all(correct, axis=(-2, -1)))),
            "cell_accuracy": float(onp.mean(correct))}
