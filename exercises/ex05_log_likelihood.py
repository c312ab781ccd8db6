"""Exercise 05: Cross-entropy and the log-likelihood (eq. 9)   [10 points]

Chapter 3 builds this: eq. 9, log p_theta(y | x, z), the decoder's log-probability of the
true output grid. Every cell is an independent categorical over C colours, so it is the sum
over cells of the log-softmax of the logits at the true colour (a cross-entropy with the
sign flipped).

First `log_softmax(logits)`: (..., C) -> (..., C), numerically stable: subtract each cell's
maximum over the colours, `np.max(logits, axis=-1, keepdims=True)`, before exponentiating,
so that logits of 1e4 give no overflow. Subtracting any constant from a cell's logits
leaves its log-softmax exactly as it was, so the maximum needs no gradient of its own:
plain `np.max` is right, and autograd needs nothing special.
Then `grid_log_likelihood(logits, y, reduce)`: logits (..., H, W, C), y (..., H, W) ints
-> (...), log_softmax at each cell's true colour, summed over the H x W cells
(reduce="sum") or averaged (reduce="mean"). Last, `log_likelihood(decoder_params, x, y, z,
reduce)`: the same for the decoder's logits.
Hint: `one_hot(y, C, dtype=log_p.dtype)` gives (..., H * W * C) with a 1 at each cell's
true colour; reshaped to y.shape + (C,), `np.sum(log_p * hot, axis=-1)` picks log_p at the
true colours. `decode(decoder_params, x, z)` gives the decoder's logits (..., H, W, C).

Check your work:  lpn-mini grade exercises/ex05_log_likelihood.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np

from lpn_mini.architectures import decode
from lpn_mini.model import one_hot


def log_softmax(logits):
    """Log-probabilities over the last axis, via the stable log-sum-exp.

    Subtracting the maximum changes nothing mathematically (it cancels) but keeps
    ``exp`` from overflowing. Since it cancels, no gradient needs to flow through the max
    (the library takes it as a constant; plain ``np.max`` gives the same gradient).

    In the library this function is an autograd *primitive* (an ``@primitive`` line that the
    exercise file leaves out): autograd runs its lines on plain arrays without tracing them,
    and differentiates it with the gradient written by hand in ``lpn_mini/losses.py``
    (``_log_softmax_vjp``). Traced, its five operations would cost five backward steps over
    the largest array of a training step.
    """
    # YOUR CODE HERE
    raise NotImplementedError("log_softmax is not implemented yet: replace this line with your code")


def grid_log_likelihood(logits, y, reduce="sum"):
    """log p(y) for grids whose cells are independent categoricals with these ``logits``:
    the log-softmax at each cell's true colour, summed over the cells (a cross-entropy with
    its sign flipped).

    logits: ``(..., H, W, C)``; y: int ``(..., H, W)``, its leading shape broadcasting to
        the logits'.
    reduce: ``"sum"`` over cells (the paper's pseudo-code, the default) or ``"mean"``
        (per-cell mean, what the official code uses).
    Returns ``(...)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("grid_log_likelihood is not implemented yet: replace this line with your code")


def log_likelihood(decoder_params, x, y, z, reduce="sum", *, check=True):
    """log p_theta(y | x, z): eq. 9 with the sign flipped (L_rec is its negative).

    The decoder's cells are independent categoricals, so this is ``grid_log_likelihood``
    of the decoder's logits.

    x, y: int ``(..., H, W)``; z: ``(..., d)``; leading shapes broadcast (see ``decode``).
    reduce: ``"sum"`` or ``"mean"`` over cells (see ``grid_log_likelihood``).
    check: in the library, the inputs are checked before this body runs (shapes, colours
        in ``[0, C)``, no NaN in z) unless it is False, for callers that checked them
        already; the body itself can ignore it.
    Returns ``(...)``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("log_likelihood is not implemented yet: replace this line with your code")
