"""Exercise 04: The reparameterization trick   [10 points]

Chapter 2 builds this: Algorithm 2, lines 4-6, draw z_i ~ q_phi(z | x_i, y_i) =
N(mu, diag(exp(logvar))) as a differentiable function of mu and logvar, given standard
normal noise eps.

Shapes: mu, logvar, eps (..., d) -> z (..., d).
Equation: z = mu + eps * sigma.
Hint: logvar is the log of the *variance*; the standard deviation is its square root.

Check your work:  lpn-mini grade exercises/ex04_reparameterize.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np


def reparameterize(mu, logvar, eps):
    """Algorithm 2, lines 4-6: a sample of q_phi(z | x, y) that is differentiable in phi.

    mu, logvar, eps: ``(..., d)``; eps ~ N(0, I) is passed in, so this is a pure function.
    """
    # YOUR CODE HERE
    raise NotImplementedError("reparameterize is not implemented yet: replace this line with your code")
