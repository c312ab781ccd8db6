"""Exercise 07: Leave-one-out latents   [10 points]

Chapter 5 builds this: Algorithm 2, lines 7-8, for every pair i of a task, z'_i is the mean
of the *other* pairs' latents, so that pair i's own latent never helps reconstruct y_i.

Shapes: z (B, N, d) -> (B, N, d). Raise ValueError if N < 2.
Equation: z'_i = (1 / (N - 1)) * sum_{j != i} z_j.
Hint: the sum of the others is the total minus your own; no loop needed.

Check your work:  lpn-mini grade exercises/ex07_leave_one_out_mean.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np


def leave_one_out_mean(z):
    """Algorithm 2, lines 7-8: z'_i = (1 / (N - 1)) sum_{j != i} z_j.

    Pair i's own latent never reaches its own reconstruction; otherwise the encoder could
    copy y_i through z_i and the decoder would learn nothing about programs.
    z: ``(B, N, d)`` with N >= 2. Returns ``(B, N, d)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("leave_one_out_mean is not implemented yet: replace this line with your code")
