"""A plain multilayer perceptron: a list of (W, b) layers, ReLU in between.

Both halves of LPN are MLPs here (the paper uses transformers; the algorithm does not
care). A layer is a pair ``(W, b)`` with ``W`` of shape ``(fan_in, fan_out)`` and ``b`` of
shape ``(fan_out,)``, so ``h @ W + b`` maps row vectors. Nothing is hidden in a class: the
parameters are plain arrays that ``autograd`` can differentiate through.
"""
import autograd.numpy as np
import numpy as onp
from autograd.extend import defvjp, primitive


def init_mlp(rng, sizes, dtype=np.float64):
    """He-initialised layers for an MLP with layer widths ``sizes``.

    rng:   a ``numpy.random.Generator`` (randomness is always passed in).
    sizes: ``[fan_in, h_1, ..., fan_out]``.
    Returns a list of ``(W, b)``: ``W`` (fan_in, fan_out), ``b`` (fan_out,).
    """
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        # He et al. (2015): variance 2 / fan_in keeps ReLU activations at unit scale.
        W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        b = np.zeros(fan_out)
        layers.append((W.astype(dtype), b.astype(dtype)))
    return layers


def dense(h, W, b):
    """``h @ W + b`` for ``h`` of shape ``(..., fan_in)``, as one 2-D matrix product.

    NumPy runs a stacked ``(B, N, fan_in) @ (fan_in, fan_out)`` as many small products;
    flattening the leading axes first gives one BLAS call and the same numbers. (``matmul``
    rather than ``dot``: autograd's VJPs of ``matmul`` also run on GPU arrays.)
    """
    lead = h.shape[:-1]
    out = np.matmul(np.reshape(h, (-1, h.shape[-1])), W) + b  # (prod(lead), fan_out)
    return np.reshape(out, lead + (W.shape[1],))


@primitive
def relu(h):
    """``max(h, 0)`` elementwise (a primitive: its gradient is written just below)."""
    return onp.maximum(h, 0)


# The gradient of ReLU is a mask: the incoming gradient where the input was positive, 0
# elsewhere (the same mask as in ``mlp_backward``). We write it ourselves because autograd's
# VJP for ``maximum`` builds its mask in float64, which would silently turn a float32
# backward pass into a float64 one (twice the time) after the first ReLU.
defvjp(relu, lambda ans, h: lambda g: g * (ans > 0))


def mlp_forward(layers, h):
    """Forward pass: ReLU between layers, none after the last.

    layers: list of ``(W, b)``.
    h:      ``(..., fan_in)`` input.
    Returns ``(..., fan_out)``.
    """
    ### BEGIN SOLUTION
    for k, (W, b) in enumerate(layers):
        if k > 0:
            h = relu(h)
        h = dense(h, W, b)
    return h
    ### END SOLUTION


def mlp_forward_from_first(layers, first):
    """Finish a forward pass whose first layer was already applied.

    LPN's encoder and decoder read concatenated inputs ``[a, b]``; ``[a, b] @ W`` equals
    ``a @ W[:n_a] + b @ W[n_a:]``, and the split form never builds the concatenation (and
    lets each part be computed once and broadcast). ``first`` is that first-layer output,
    ``(..., h_1)``; ``layers`` is the whole list, including the first layer.
    """
    if len(layers) == 1:
        return first
    return mlp_forward(layers[1:], relu(first))


def mlp_backward(layers, h, dout):
    """The backward pass of ``mlp_forward``, by hand (what autograd does for us elsewhere).

    layers: list of ``(W, b)``; h: ``(..., fan_in)`` the input; dout: ``(..., fan_out)`` the
    gradient of some scalar with respect to the output.
    Returns ``(dlayers, dh)``: ``dlayers`` a list of ``(dW, db)`` shaped like ``layers``,
    ``dh`` shaped like ``h``.
    """
    ### BEGIN SOLUTION
    # Forward again, keeping each layer's input and pre-activation.
    inputs, pre = [], []
    a = h
    for k, (W, b) in enumerate(layers):
        if k > 0:
            a = relu(pre[-1])
        inputs.append(a)
        pre.append(dense(a, W, b))
    # Backward: out = a @ W + b gives dW = a^T dout, db = sum dout, da = dout W^T;
    # ReLU passes the gradient where its input was positive.
    dlayers = [None] * len(layers)
    d = dout
    for k in reversed(range(len(layers))):
        W, _ = layers[k]
        a2 = np.reshape(inputs[k], (-1, W.shape[0]))     # (rows, fan_in)
        d2 = np.reshape(d, (-1, W.shape[1]))             # (rows, fan_out)
        dlayers[k] = (a2.T @ d2, np.sum(d2, axis=0))
        d = d @ W.T                                      # gradient w.r.t. this layer's input
        if k > 0:
            d = d * (pre[k - 1] > 0)                     # back through the ReLU
    return dlayers, d
    ### END SOLUTION
