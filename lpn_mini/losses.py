"""The two terms of LPN's loss: reconstruction (eq. 9) and KL (eq. 10)."""
import autograd.numpy as np
import numpy as onp
from autograd.extend import defvjp
from autograd.tracer import getval

from .device.backend import array_module
from .device.backend import primitive  # autograd's, with the signature kept for help()
from .architectures import check_decoder_inputs, decode, num_colors_of
from .checks import check_gaussian, check_grids, checked_by


# Reductions over the colour axis. It is the last axis and it is short (C = 10), and NumPy
# reduces a short last axis one cell at a time: on the (B, M, N, H, W, C) logits of the
# latent search that took a third of a training step. The same sum as one matrix-vector
# product is one BLAS call, and the maximum is C - 1 elementwise maxima over strided slices;
# together about 3x faster (benchmarks/speed.py, README "Speed"). ``np.sum(a, axis=-1)`` and
# ``np.max(a, axis=-1)`` give the same numbers (the sum up to float rounding).

@primitive
def sum_colours(a, keepdims=False):
    """``np.sum(a, axis=-1, keepdims=keepdims)``, computed as ``a @ ones(C)``."""
    if a.ndim == 0:
        raise ValueError("sum_colours sums over a last axis of C colours, shape (..., C), got a "
                         "single number.")
    C = a.shape[-1]
    ones = array_module(a).ones((C, 1), dtype=a.dtype)
    total = a.reshape(-1, C) @ ones                            # (cells, 1): one BLAS call
    return total.reshape(a.shape[:-1] + ((1,) if keepdims else ()))


def _sum_colours_vjp(ans, a, keepdims=False):
    """A sum's gradient is the incoming gradient copied to every summand: here a broadcast
    view along the colour axis (no copy). autograd would otherwise differentiate the matrix
    product above and build that copy with a second, slow (cells, 1) @ (1, C) product."""
    shape = np.shape(a)
    return lambda g: np.broadcast_to(g if keepdims else np.expand_dims(g, -1), shape)


defvjp(sum_colours, _sum_colours_vjp)


def max_colours(a):
    """``np.max(a, axis=-1, keepdims=True)`` as a constant (no gradient flows through it)."""
    a = getval(a)
    if getattr(a, "ndim", 0) == 0:  # a number has no colour axis
        raise ValueError("log_softmax needs logits with a last axis of C colours, shape (..., C), "
                         "got a single number; pass an array such as logits[None].")
    xp = array_module(a)
    m = a[..., :1]
    for c in range(1, a.shape[-1]):
        m = xp.maximum(m, a[..., c:c + 1])
    return m


# Picking each cell's true colour. ``sum_colours(a * one_hot_cells(y, C))`` says it with
# arithmetic, but builds a one-hot array as large as ``a`` and reads all of ``a`` twice; the
# gather below reads one entry per cell (from the flattened array: NumPy's ``take`` on one
# axis is several times faster than ``take_along_axis``). Its gradient puts the incoming
# gradient back at the picked entries (zeros elsewhere), and that scatter's gradient is the
# gather again, so the pair can be differentiated any number of times (like take_range and
# pad_range in backend.py).

def _flat_colour_index(y, lead_shape, C):
    """Where each cell's colour sits in a flattened ``lead_shape + (C,)`` array."""
    xp = array_module(y)
    try:
        y = xp.broadcast_to(xp.asarray(y), lead_shape)   # (..., H, W)
    except ValueError:
        raise ValueError(f"y of shape {y.shape} does not fit logits of shape {lead_shape + (C,)}: "
                         f"y must have the logits' shape without the colour axis, "
                         f"{lead_shape}, or one that broadcasts to it.") from None
    return xp.arange(y.size) * C + y.reshape(-1)      # cell k's colour is entry k C + y_k


@primitive
def pick_colours(a, y):
    """``a`` at each cell's colour ``y``: a ``(..., H, W, C)``, y int ``(..., H, W)`` whose
    leading shape broadcasts to a's. Returns ``(..., H, W)``."""
    lead, C = a.shape[:-1], a.shape[-1]
    return a.reshape(-1).take(_flat_colour_index(y, lead, C)).reshape(lead)


@primitive
def put_colours(g, y, C):
    """The adjoint of ``pick_colours``: ``(..., H, W, C)`` zeros with ``g`` at each cell's colour."""
    out = array_module(g).zeros(g.size * C, dtype=g.dtype)
    out[_flat_colour_index(y, g.shape, C)] = g.reshape(-1)
    return out.reshape(g.shape + (C,))


defvjp(pick_colours, lambda ans, a, y: lambda g: put_colours(g, y, np.shape(a)[-1]))
defvjp(put_colours, lambda ans, g, y, C: lambda h: pick_colours(h, y))


@primitive
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
    ### BEGIN SOLUTION
    m = max_colours(logits)                     # (..., 1), np.max(logits, axis=-1), a constant
    shifted = logits - m
    return shifted - np.log(sum_colours(np.exp(shifted), keepdims=True))
    ### END SOLUTION


def flush_to_zero(a):
    """``a`` with its subnormal numbers set to 0, which is what a CPU's flush-to-zero mode
    does (XLA, under JAX, switches that mode on; NumPy cannot).

    Subnormals are the numbers below the smallest normal one (1.2e-38 in float32), and
    arithmetic on them is several times slower than on normal numbers. Late in training the
    decoder is sure of most cells, p = exp(log p) of a wrong colour falls below 1e-38, and
    p * g fills the gradient of the logits with subnormals that every later product of the
    backward pass inherits: from the last checkpoint of a paper-scale Grad 1 run, a step
    took twice as long without this flush as with it (`benchmarks/subnormals.py`, README
    "Subnormal numbers"). A gradient that small adds
    nothing to any sum it meets (1 + 1e-38 == 1), so setting it to 0 changes no weight."""
    tiny = onp.finfo(a.dtype).tiny
    return a * (abs(getval(a)) >= tiny)                 # a constant 0/1 mask, any array type


def _log_softmax_vjp(ans, logits):
    """The gradient of log-softmax, by hand. With p = softmax(logits) = exp(ans),
    d ans_c / d logits_k = [c = k] - p_k, so an incoming gradient g becomes

        g - p * sum_c g_c

    with its subnormal numbers set to 0 (``flush_to_zero``). Written with autograd's numpy,
    so that it can be differentiated in its turn (training without stop-gradient
    differentiates through the latent step's gradient)."""
    return lambda g: flush_to_zero(g - np.exp(ans) * sum_colours(g, keepdims=True))


defvjp(log_softmax, _log_softmax_vjp)


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
    ### BEGIN SOLUTION
    log_p = log_softmax(logits)                            # (..., H, W, C)
    picked = pick_colours(log_p, y)                        # (..., H, W): at each true colour
    if reduce == "sum":
        return np.sum(picked, axis=(-2, -1))
    if reduce == "mean":
        return np.mean(picked, axis=(-2, -1))
    raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}.")
    ### END SOLUTION


def check_likelihood_inputs(decoder_params, x, y, z, reduce="sum", *, check=True):
    """What ``log_likelihood`` checks (with ``check``): decode's inputs, and y a grid of x's
    size with colours in ``[0, C)``; and always that ``reduce`` is "sum" or "mean"."""
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}.")
    if not check:
        return
    check_decoder_inputs(decoder_params, x, z)
    check_grids(y, name="y")
    if y.shape[-2:] != x.shape[-2:]:
        raise ValueError(f"y must hold grids of x's size {x.shape[-2:]} (one output grid per input "
                         f"grid), got shape {y.shape}.")
    C = num_colors_of(decoder_params, x.shape[-2:], np.shape(z)[-1])
    check_grids(y, num_colors=C, name="y")


@checked_by(check_likelihood_inputs)
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
    ### BEGIN SOLUTION
    return grid_log_likelihood(decode(decoder_params, x, z, check=False), y, reduce)
    ### END SOLUTION


@checked_by(check_gaussian)
def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) in closed form, summed over d (eq. 10).

    mu, logvar: ``(..., d)``. Returns ``(...)``.
    """
    ### BEGIN SOLUTION
    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)
    ### END SOLUTION
