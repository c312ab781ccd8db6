"""Exercise 09: The full training loss (Algorithm 2)   [10 points]

Chapter 7 builds this: Algorithm 2, lines 4-14, for a batch of B tasks with N pairs each:
encode every pair, sample its latent, take the leave-one-out mean, refine it with K steps
of latent gradient ascent (lines 9-11), and return the mean over tasks and pairs of the
loss of line 12 (line 11 in the paper's arXiv appendix):
L_i = -log p(y_i | x_i, z'_i) + beta * KL_i, the reconstruction (eq. 9) plus beta times
the KL (eq. 10), which is eq. 11's L = L_rec + beta * L_KL.

Shapes: x, y (B, N, H, W); eps (B, N, d) -> a scalar.
Hint: every piece exists in the library: `encode`, `reparameterize`, `leave_one_out_mean`,
`latent_gradient_ascent(dec, x, y, z_prime, LEAVE_ONE_OUT, num_steps=K, alpha=alpha,
stop_gradient=stop_gradient, reduce=reduce, **search_options)` for the K steps
(LEAVE_ONE_OUT scores latent i on the pairs j != i; `leave_one_out_mask(N, dtype=z.dtype)`
means the same, slower: without dtype= it is float64 and turns a float32 loss into
float64), `log_likelihood`, `kl_divergence`. Pass stop_gradient on: it decides whether the
outer gradient sees the search's steps.

Check your work:  lpn-mini grade exercises/ex09_training_loss.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np

from lpn_mini.latent import (LEAVE_ONE_OUT, latent_gradient_ascent, leave_one_out_mask,
                             leave_one_out_mean, reparameterize)
from lpn_mini.losses import kl_divergence, log_likelihood
from lpn_mini.architectures import check_batch, encode


def training_loss(params, x, y, eps, *, num_steps=0, alpha=1.0, beta=1e-4, stop_gradient=True,
                  reduce="sum", check=True, **search_options):
    """The scalar loss L of Algorithm 2 (line 14) for a batch of tasks.

    params: ``{"encoder": [...], "decoder": [...]}`` (see ``architectures.init_params``).
    x, y:   int ``(B, N, H, W)``: B tasks, N >= 2 pairs each.
    eps:    ``(B, N, d)`` standard normal noise for the reparameterization (passed in, so
            the loss is a deterministic function and ``autograd.grad`` of it is exact).
    num_steps, alpha, stop_gradient: K, the latent step size, and whether the latent
            update is a constant for the outer gradient (lines 9-11).
    beta:   weight of the KL term (eq. 11).
    reduce: ``"sum"`` or ``"mean"`` over cells in the log-likelihood.
    search_options: further options of the latent search, passed on to it unchanged
            (``optimizer``, ``clip_norm``, ``best_of_trajectory``: chapter 9; the library
            also takes ``method="sample"`` with ``noise`` for the "Sample S" training row).
    Returns a scalar: the mean over tasks and pairs of L_i.
    """
    if check:
        check_batch(params, x, y, eps)
    # YOUR CODE HERE
    raise NotImplementedError("training_loss is not implemented yet: replace this line with your code")
