"""Algorithm 1: test-time inference, and the leave-one-out evaluation built on it.

Given the specification pairs of a task, encode them, start from the mean latent, search
(gradient ascent or random search) for the latent that best explains them, and decode the
test input with it. Batched over tasks.
"""
import autograd.numpy as np
import numpy as onp

from .backend import array_module, to_host
from .latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from .model import check_batch, decode, encode
from .tasks import check_grids


def infer_latent(params, x_spec, y_spec, eps=None, **search_options):
    """Algorithm 1, lines 1-4: the latent of each task after test-time search.

    x_spec, y_spec: int ``(B, N, H, W)`` specification pairs.
    eps: ``(B, N, d)`` noise to sample the starting latents from q (the official code's
         choice), or None to start from mu.
    search_options: ``method``, ``num_steps``, ``alpha``, ``optimizer``, ``clip_norm``,
         ``best_of_trajectory``, ``noise``... (see ``latent.search_latents``).
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
    """Algorithm 1: predicted output grids for ``x_test`` ``(B, H, W)`` (per-cell argmax)."""
    check_grids(x_test, name="x_test")
    z = infer_latent(params, x_spec, y_spec, eps, **search_options)     # (B, d)
    logits = decode(params["decoder"], x_test, z)                        # (B, H, W, C)
    return array_module(logits).argmax(logits, axis=-1)                  # (B, H, W)


def leave_one_out_predict(params, x, y, eps=None, **search_options):
    """Predict every pair of every task from the task's other N - 1 pairs.

    The paper's scoring: pair i's latent starts from the mean of the other pairs' latents
    and is searched on the other pairs only (the leave-one-out mask); then x_i is decoded.
    x, y: int ``(B, N, H, W)``. Returns the predictions ``(B, N, H, W)``.
    """
    check_batch(params, x, y, eps)
    mu, logvar = encode(params["encoder"], x, y)                        # (B, N, d)
    z = mu if eps is None else reparameterize(mu, logvar, eps)          # z_i ~ q_phi(z | x_i, y_i)
    z_prime = leave_one_out_mean(z)                                     # (B, N, d)
    z_prime = search_latents(params["decoder"], x, y, z_prime, LEAVE_ONE_OUT, **search_options)
    logits = decode(params["decoder"], x, z_prime)                      # (B, N, H, W, C)
    return array_module(logits).argmax(logits, axis=-1)                 # (B, N, H, W)


def scores(prediction, target):
    """Exact match of whole grids and per-cell accuracy, both as fractions in [0, 1]."""
    correct = to_host(prediction) == to_host(target)                    # (..., H, W)
    return {"exact_match": float(onp.mean(onp.all(correct, axis=(-2, -1)))),
            "cell_accuracy": float(onp.mean(correct))}
