"""Exercise 02: A backward pass by hand   [10 points]

Chapter 1 builds this: the backward pass of the MLP, by hand. Given the gradient `dout` of a
scalar with respect to the MLP's output, return the gradients with respect to every W,
every b and the input h. The grader checks your numbers against autograd's.

Shapes: h (..., fan_in); dout (..., fan_out); returns ([(dW, db), ...], dh).
For out = a @ W + b: dW = a^T dout (summed over all leading axes), db = sum of dout over
the leading axes, da = dout @ W^T. A ReLU passes the gradient only where its input was > 0.
Hint: run the forward pass first and keep each layer's input and pre-activation.

Check your work:  lpn-mini grade exercises/ex02_mlp_backward.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np

from lpn_mini.mlp import dense, relu


def mlp_backward(layers, h, dout):
    """The backward pass of ``mlp_forward``, by hand (what autograd does for us elsewhere).

    layers: list of ``(W, b)``; h: ``(..., fan_in)`` the input; dout: ``(..., fan_out)`` the
    gradient of some scalar with respect to the output.
    Returns ``(dlayers, dh)``: ``dlayers`` a list of ``(dW, db)`` shaped like ``layers``,
    ``dh`` shaped like ``h``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("mlp_backward is not implemented yet: replace this line with your code")
