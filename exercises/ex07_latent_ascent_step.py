"""Exercise 07: One step of gradient ascent in latent space   [10 points]

Algorithm 2, line 10: move each latent one step *up* the gradient of how well it explains
the specification pairs: z <- z + alpha * grad_z sum_j mask[m, j] log p(y_j | x_j, z_m).

Shapes: z (B, M, d); mask (M, N); x, y (B, N, H, W) -> (B, M, d).
`specification_log_likelihood(decoder_params, x, y, z, mask, reduce)` gives the (B, M)
objectives; the gradient of their sum gives every latent's own gradient at once.
With stop_gradient=True the update must be a constant for any outer gradient (the paper's
default): compute it from `without_gradient(...)` copies of the parameters and of z.
Hint: `autograd.grad(f)(z)` differentiates a scalar function f at z.

Check your work:  lpn-mini grade exercises/ex07_latent_ascent_step.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np
from autograd import grad

from lpn_mini.latent import specification_log_likelihood, without_gradient


def latent_ascent_step(decoder_params, x, y, z, mask, alpha, stop_gradient=True, reduce="sum"):
    """One plain step of Algorithm 2, line 10: z + alpha * grad_z sum_j mask_mj log p(y_j | x_j, z).

    The single-step, plain-gradient case of ``latent_gradient_ascent`` (which adds Adam,
    clipping and best-of-trajectory), written out for reading and for the exercises.
    z: ``(B, M, d)``; mask: ``(M, N)``. With ``stop_gradient`` the step is computed from
    values stripped of autograd boxes, so an outer gradient sees it as a constant.
    Returns ``(B, M, d)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("latent_ascent_step is not implemented yet: replace this line with your code")
