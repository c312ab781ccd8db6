"""A plain multilayer perceptron: a list of (W, b) layers, ReLU in between.

Both halves of LPN are MLPs here (the paper uses transformers; the algorithm does not
care). A layer is a pair ``(W, b)`` with ``W`` of shape ``(fan_in, fan_out)`` and ``b`` of
shape ``(fan_out,)``, so ``h @ W + b`` maps row vectors. Nothing is hidden in a class: the
parameters are plain arrays that ``autograd`` can differentiate through.
"""
import autograd.numpy as np
import numpy as onp
from autograd.extend import defvjp

from .device.backend import primitive  # autograd's, with the signature kept for help()
from .checks import check_count, check_generator, check_layers, checked_by


def init_mlp(rng, sizes, dtype=np.float64):
    """He-initialised layers for an MLP with layer widths ``sizes``.

    rng:   a ``numpy.random.Generator`` (randomness is always passed in).
    sizes: ``[fan_in, h_1, ..., fan_out]``.
    Returns a list of ``(W, b)``: ``W`` (fan_in, fan_out), ``b`` (fan_out,).
    """
    check_generator(rng)
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise TypeError(f"sizes must list the layer widths [fan_in, h_1, ..., fan_out] (at least "
                        f"two), got {sizes!r}.")
    for k, n in enumerate(sizes):
        check_count(n, f"sizes[{k}]", 1, "a layer width")
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        # He et al. (2015): variance 2 / fan_in keeps ReLU activations at unit scale.
        W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        b = np.zeros(fan_out)
        layers.append((W.astype(dtype), b.astype(dtype)))
    return layers


@primitive
def dense(h, W, b=None):
    """``h @ W + b`` for ``h`` of shape ``(..., fan_in)``, as one 2-D matrix product.

    NumPy runs a stacked ``(B, N, fan_in) @ (fan_in, fan_out)`` as many small products;
    flattening the leading axes first gives one BLAS call and the same numbers. ``b`` may
    be left out (no bias).

    A primitive, with its gradient written just below: autograd would otherwise trace four
    operations (reshape, matmul, add, reshape) and run four backward steps; inside a
    primitive the bias can also be added in place, with no extra array.
    """
    if h.ndim == 0 or h.shape[-1] != W.shape[0]:
        raise ValueError(f"a layer with W of shape {W.shape} takes inputs (..., {W.shape[0]}), "
                         f"got shape {h.shape}; the input's last axis must match the first "
                         "layer's fan_in, and each layer's fan_in the previous one's fan_out.")
    out = h.reshape(-1, h.shape[-1]) @ W        # (rows, fan_out): one BLAS call
    if b is not None:
        out += b
    return out.reshape(h.shape[:-1] + (W.shape[1],))


# out = h W + b, row by row, so for an incoming gradient g (shaped like out):
#     dh = g W^T,   dW = h^T g and db = sum of g, both summed over all rows.
# Written with autograd's numpy, so that they can be differentiated in their turn.
def _rows(a):
    return np.reshape(a, (-1, np.shape(a)[-1]))  # (..., n) -> (rows, n)


defvjp(dense,
       lambda ans, h, W, b=None: lambda g: np.reshape(np.matmul(_rows(g), np.transpose(W)),
                                                      np.shape(h)),
       lambda ans, h, W, b=None: lambda g: np.matmul(np.transpose(_rows(h)), _rows(g)),
       lambda ans, h, W, b=None: lambda g: np.sum(_rows(g), axis=0))


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


def check_mlp_backward(layers, h, dout):
    """``dout`` must be shaped like the MLP's output for ``h``: ``h.shape[:-1] + (fan_out,)``."""
    check_layers(layers, "layers")
    expected = onp.shape(h)[:-1] + onp.shape(layers[-1][0])[1:]
    if onp.shape(dout) != expected:
        raise ValueError(f"dout must have the shape of the MLP's output, {expected}, got "
                         f"{onp.shape(dout)}; it is the gradient of a scalar with respect to "
                         "mlp_forward(layers, h).")


@checked_by(check_mlp_backward)
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
