"""Exercise 06: The KL term (eq. 10)   [10 points]

Chapter 4 builds this: eq. 10, the KL divergence of the encoder's Gaussian
N(mu, diag(exp(logvar))) from the prior N(0, I), in closed form, summed over the d latent
dimensions.

Shapes: mu, logvar (..., d) -> (...).
Equation: KL = 0.5 * sum_d (exp(logvar) + mu^2 - 1 - logvar).
Hint: a KL divergence is never negative, and it is 0 exactly at mu = 0, logvar = 0.

Check your work:  lpn-mini grade exercises/ex06_kl_divergence.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np


def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) in closed form, summed over d (eq. 10).

    mu, logvar: ``(..., d)``. Returns ``(...)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("kl_divergence is not implemented yet: replace this line with your code")
