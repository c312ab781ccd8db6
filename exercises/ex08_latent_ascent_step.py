"""Exercise 08: One step of gradient ascent in latent space   [10 points]

Chapter 6 builds this: Algorithm 2, line 10 (line 9 in the paper's arXiv appendix), move
each latent one step *up* the gradient of how well it explains the specification pairs:
z <- z + alpha * grad_z sum_j mask[m, j] log p(y_j | x_j, z_m).

Shapes: z (B, M, d); mask (M, N); x, y (B, N, H, W) -> (B, M, d).
`specification_log_likelihood(decoder_params, x, y, z, mask, reduce)` gives the (B, M)
objectives; the gradient of their sum gives every latent's own gradient at once.
With stop_gradient=True (the paper's default) the update must be a constant for any outer
gradient: compute it from `without_gradient(...)` copies of the parameters and of z, and
add it to z itself. With stop_gradient=False use them as given (second order).
Hint: `autograd.grad(f)(z)` differentiates a scalar function f at z.

Check your work:  lpn-mini grade exercises/ex08_latent_ascent_step.py
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
