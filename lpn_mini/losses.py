"""The two terms of LPN's loss: reconstruction (eq. 9) and KL (eq. 10)."""
import autograd.numpy as np
from autograd.tracer import getval

from .model import decode, one_hot_cells


def log_softmax(logits):
    """Log-probabilities over the last axis, via the stable log-sum-exp.

    Subtracting the maximum changes nothing mathematically (it cancels) but keeps
    ``exp`` from overflowing. Since it cancels, it is taken as a constant (``getval``):
    no gradient needs to flow through the max.
    """
    ### BEGIN SOLUTION
    m = np.max(getval(logits), axis=-1, keepdims=True)
    return logits - m - np.log(np.sum(np.exp(logits - m), axis=-1, keepdims=True))
    ### END SOLUTION


def log_likelihood(decoder_params, x, y, z, reduce="sum"):
    """log p_theta(y | x, z): eq. 9 with the sign flipped (L_rec is its negative).

    The decoder's cells are independent categoricals, so the log-likelihood is the sum over
    the H * W cells of the log-softmax at the true colour: a cross-entropy.

    x, y: int ``(..., H, W)``; z: ``(..., d)``; leading shapes broadcast (see ``decode``).
    reduce: ``"sum"`` over cells (the paper's pseudo-code, the default) or ``"mean"``
        (per-cell mean, what the official code uses).
    Returns ``(...)``.
    """
    ### BEGIN SOLUTION
    logits = decode(decoder_params, x, z)                  # (..., H, W, C)
    C = logits.shape[-1]
    log_p = log_softmax(logits)                            # (..., H, W, C)
    picked = np.sum(log_p * one_hot_cells(y, C, log_p.dtype), axis=-1)  # (..., H, W)
    if reduce == "sum":
        return np.sum(picked, axis=(-2, -1))
    if reduce == "mean":
        return np.mean(picked, axis=(-2, -1))
    raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}.")
    ### END SOLUTION


def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) in closed form, summed over d (eq. 10).

    mu, logvar: ``(..., d)``. Returns ``(...)``.
    """
    ### BEGIN SOLUTION
    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)
    ### END SOLUTION
