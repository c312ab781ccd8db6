"""Exercise 01: The MLP forward pass   [10 points]

Chapter 1 builds this: the forward pass of a plain MLP, the building block of LPN's encoder
and decoder. `layers` is a list of (W, b) with W of shape (fan_in, fan_out) and b of shape
(fan_out,). Each layer computes h @ W + b; a ReLU goes *between* layers and none after the
last.

Shapes: h (..., fan_in) -> (..., fan_out), for any leading shape.
Hint: `dense(h, W, b)` computes h @ W + b for any leading shape, `relu(h)` is max(h, 0).
Use autograd.numpy and no in-place assignment, so that autograd can differentiate it.

Check your work:  lpn-mini grade exercises/ex01_mlp_forward.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np

from lpn_mini.mlp import dense, relu


def mlp_forward(layers, h):
    """Forward pass: ReLU between layers, none after the last.

    layers: list of ``(W, b)``.
    h:      ``(..., fan_in)`` input.
    Returns ``(..., fan_out)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("mlp_forward is not implemented yet: replace this line with your code")
