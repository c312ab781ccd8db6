"""Input checks shared by the core modules: one clear sentence for a wrong input.

A batch of tasks is a pair of integer arrays ``x, y`` of shape ``(B, N, H, W)``: B tasks
(programs), each shown through N input/output pairs of H x W grids with colours in
``[0, C)``. Every public entry point of lpn-mini checks its inputs here (grids, counts,
generators, layers, latents), so a wrong shape or a colour out of range is one clear
sentence that says what was expected, what was given and what to do, not a traceback from
deep inside a matmul. ``checked_by`` runs a check before a function, keeping the function's
body the math alone.
"""
import functools
import math
import numbers

import numpy as onp
from autograd.tracer import getval

from .device.backend import array_module



def checked_by(check_arguments):
    """Decorator: call ``check_arguments`` with a function's arguments before the function.

    Most public functions simply call their checks on their first lines. The ones that are
    also exercises (``reparameterize``, ``kl_divergence``, ``leave_one_out_mean``,
    ``log_likelihood``, ``mlp_backward``, ``adam_update``) are checked this way instead: the
    exercise generator copies a function without its decorators, so the student's file
    holds only the function to write, and the library's version still refuses bad input.
    """
    def decorate(f):
        @functools.wraps(f)  # help() and inspect show f's name, signature and docstring
        def checked(*args, **kwargs):
            check_arguments(*args, **kwargs)
            return f(*args, **kwargs)
        return checked
    return decorate


def _kind(value):
    """How a message names what it was given: ``the int 0``, ``a list``, ``None``."""
    if value is None:
        return "None"
    if isinstance(value, (bool, numbers.Number, str)):
        return f"the {type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"


def check_grids(x, y=None, num_colors=None, *, min_pairs=None, name="x", y_name="y"):
    """Raise ``ValueError`` (``TypeError`` for a non-array), one actionable sentence, unless
    ``x`` (and ``y``) are valid grids.

    x, y:       integer arrays ``(B, N, H, W)`` (or, with ``min_pairs=None``, any ``(..., H, W)``).
    num_colors: C; every value must lie in ``[0, C)`` (one min and one max of each grid, read
                by the grid's own array module; only those two numbers go to the host).
    min_pairs:  if given, the arrays must be 4-D with B >= 1 and N >= min_pairs.
    """
    for label, g in ((name, x), (y_name, y)):
        if g is None:
            continue
        if not hasattr(g, "dtype") or not hasattr(g, "shape"):
            raise TypeError(f"{label} must be an integer array of grids, got {_kind(g)}; "
                            "convert it with numpy.asarray(..., dtype=int).")
        if g.dtype.kind not in "iu":  # signed or unsigned integers
            if g.dtype.kind == "f" and not bool(array_module(g).isfinite(g).all()):
                raise ValueError(f"{label} contains NaN or inf; grids must hold integer colours.")
            raise ValueError(f"{label} must hold integer colours, got dtype {g.dtype}; "
                             "cast it with .astype(int).")
        if g.ndim < 2:
            raise ValueError(f"{label} must have shape (..., H, W), got shape {g.shape}.")
        if min_pairs is not None and g.ndim != 4:
            raise ValueError(f"{label} must have shape (B, N, H, W) (B tasks, N pairs), "
                             f"got shape {g.shape}; add a task axis with x[None] for one task.")
        if 0 in g.shape[-2:]:
            raise ValueError(f"{label} holds grids of {g.shape[-2]} x {g.shape[-1]} cells (shape "
                             f"{g.shape}); a grid needs at least one row and one column.")
        if num_colors is not None and g.size:
            lo, hi = int(g.min()), int(g.max())  # two scalars to the host, even from a device
            if lo < 0 or hi >= num_colors:
                raise ValueError(f"{label} has colours in [{lo}, {hi}] but the model has "
                                 f"C = {num_colors} colours; every cell must lie in "
                                 f"[0, {num_colors}).")
    if y is not None and x.shape != y.shape:
        raise ValueError(f"{name} and {y_name} must have the same shape (one output grid per "
                         f"input grid), got {name} {x.shape} and {y_name} {y.shape}.")
    if min_pairs is not None and x.shape[0] == 0:
        raise ValueError(f"{name} holds no tasks (B = 0 in shape {x.shape}); pass at least one "
                         "task.")
    if min_pairs is not None and x.shape[1] < min_pairs:
        if min_pairs == 1:
            raise ValueError(f"each task needs at least one specification pair to infer its "
                             f"latent from, got N = {x.shape[1]} in shape {x.shape}.")
        raise ValueError(f"each task needs at least {min_pairs} pairs (leave-one-out predicts a "
                         f"pair from the others), got N = {x.shape[1]} in shape {x.shape}.")


def check_finite(a, name, fix="pass finite values"):
    """Raise ``ValueError`` if the array ``a`` holds NaN or inf. The test runs on ``a``'s own
    device (autograd boxes are looked through); one boolean comes back to the host."""
    a = getval(a)
    if not bool(array_module(a).isfinite(a).all()):
        raise ValueError(f"{name} contains NaN or inf; {fix}.")


def check_array(a, name, expected):
    """Raise ``TypeError`` unless ``a`` is an array (autograd boxes and device arrays included).
    expected: what it should hold, for the message, e.g. ``"latents (..., d)"``."""
    if not hasattr(getval(a), "shape"):
        raise TypeError(f"{name} must be an array of {expected}, got {_kind(a)}; convert it "
                        "with numpy.asarray(...).")


def check_generator(rng, name="rng"):
    """Raise ``TypeError`` unless ``rng`` is a ``numpy.random.Generator`` (randomness is
    passed in, never global)."""
    if not isinstance(rng, onp.random.Generator):
        seed = rng if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) else 0
        raise TypeError(f"{name} must be a numpy.random.Generator, got {_kind(rng)}; pass "
                        f"np.random.default_rng({seed}) instead.")


def check_count(value, name, minimum=0, meaning=None):
    """Raise unless ``value`` is a whole number >= ``minimum``: ``TypeError`` for 1.5 or "3",
    ``ValueError`` for -1. meaning: what the number counts, for the message."""
    label = f"{name} ({meaning})" if meaning else name
    if type(value) is not int and (isinstance(value, bool)  # (the int test first: it is fast)
                                   or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{label} must be a whole number, got {_kind(value)}; pass an int such "
                        f"as {max(minimum, 1)}.")
    if value < minimum:
        raise ValueError(f"{label} must be at least {minimum}, got {value}.")


def check_model_sizes(rng, grid_shape, num_colors, latent_dim, hidden, dtype, *,
                      need_hidden=False):
    """The checks every ``init_params`` makes of its arguments: a Generator, a pair (H, W) of
    counts, counts C and d, a list of hidden widths (at least one if ``need_hidden``) and a
    floating-point dtype. Raises ``TypeError`` or ``ValueError`` with what to pass instead."""
    check_generator(rng)
    if not isinstance(grid_shape, (tuple, list)) or len(grid_shape) != 2:
        raise TypeError(f"grid_shape must be a pair (H, W), got {grid_shape!r}; pass e.g. "
                        "(10, 10).")
    check_count(grid_shape[0], "grid_shape[0]", 1, "the grid height H")
    check_count(grid_shape[1], "grid_shape[1]", 1, "the grid width W")
    check_count(num_colors, "num_colors", 1, "the number C of colours")
    check_count(latent_dim, "latent_dim", 1, "the latent size d")
    if not isinstance(hidden, (tuple, list)) or (need_hidden and not hidden):
        raise TypeError(f"hidden must list the hidden-layer widths, e.g. (256, 256), got "
                        f"{hidden!r}" + ("; this model needs at least one hidden layer."
                                         if need_hidden else "."))
    for i, h in enumerate(hidden):
        check_count(h, f"hidden[{i}]", 1, "a hidden-layer width")
    if not onp.issubdtype(onp.dtype(dtype), onp.floating):
        raise TypeError(f"dtype must be a floating-point type such as float32 or float64, got "
                        f"{onp.dtype(dtype)}.")


def check_number(value, name, minimum=None, meaning=None):
    """Raise unless ``value`` is a finite real number (>= ``minimum`` if given): ``TypeError``
    for a string or an array, ``ValueError`` for NaN, inf or a value below ``minimum``."""
    label = f"{name} ({meaning})" if meaning else name
    if type(value) not in (float, int) and (isinstance(value, bool)
                                            or not isinstance(value, numbers.Real)):
        raise TypeError(f"{label} must be a number, got {_kind(value)}.")
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = "a finite number" if minimum is None else f"a finite number >= {minimum}"
        raise ValueError(f"{label} must be {bound}, got {value}.")


def check_layers(layers, name):
    """Raise unless ``layers`` is one network's parameters as ``init_mlp`` makes them: a
    non-empty list of ``(W, b)`` with W ``(fan_in, fan_out)``, b ``(fan_out,)``, and each
    layer's fan_in the previous layer's fan_out. Shapes only (autograd boxes are fine)."""
    layers = getval(layers)  # a list being differentiated is a SequenceBox
    if not isinstance(layers, (list, tuple)) or not layers:
        given = (f"an empty {type(layers).__name__}" if isinstance(layers, (list, tuple))
                 else _kind(layers))
        raise TypeError(f"{name} must be a non-empty list of (W, b) layers as init_mlp makes "
                        f"them, got {given}.")
    fan_out = None
    for k, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise TypeError(f"{name}[{k}] must be a pair (W, b), got {_kind(layer)}.")
        W_shape, b_shape = onp.shape(layer[0]), onp.shape(layer[1])
        if len(W_shape) != 2 or b_shape != W_shape[1:]:
            raise ValueError(f"{name}[{k}] must be (W, b) with W (fan_in, fan_out) and b "
                             f"(fan_out,), got W {W_shape} and b {b_shape}.")
        if fan_out is not None and W_shape[0] != fan_out:
            raise ValueError(f"{name}[{k}] takes {W_shape[0]} inputs but the layer before gives "
                             f"{fan_out}; each W's first size must be the previous W's second.")
        fan_out = W_shape[1]


def check_params(params, networks=("encoder", "decoder")):
    """Raise unless ``params`` is LPN's ``{"encoder": [(W, b), ...], "decoder": [...]}``."""
    params = getval(params)  # a dict being differentiated is a DictBox
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict {{\"encoder\": [(W, b), ...], \"decoder\": "
                        f"[...]}} as init_params makes it, got {_kind(params)}.")
    for net in networks:
        if net not in params:
            raise ValueError(f"params has no \"{net}\" network (its keys are {sorted(params)}); "
                             "make params with init_params or load them from a checkpoint.")
        check_layers(params[net], f"params[\"{net}\"]")


def _shape(a):
    """``a.shape`` (arrays, device arrays; a box's value's, which is quicker to read than the
    box's own), else NumPy's reading of it (lists)."""
    shape = getattr(getval(a), "shape", None)
    return onp.shape(a) if shape is None else shape


def check_gaussian(mu, logvar):
    """Raise unless ``mu`` and ``logvar`` have one shape ``(..., d)`` (a diagonal Gaussian)."""
    shape = _shape(mu)
    if shape != _shape(logvar) or shape == ():
        raise ValueError(f"mu and logvar must have the same shape (..., d), got mu "
                         f"{shape} and logvar {_shape(logvar)}; pass the two halves "
                         "of the encoder's output (model.encode).")


def check_reparameterization(mu, logvar, eps):
    """``check_gaussian``, and ``eps`` noise whose shape ends in d and broadcasts against mu's."""
    check_gaussian(mu, logvar)
    shape = _shape(mu)
    if eps is None or not hasattr(getval(eps), "shape"):
        raise TypeError(f"eps must be an array of standard normal noise shaped like mu, {shape}, "
                        f"got {_kind(eps)}; draw it with rng.standard_normal({shape}).")
    eps_shape = _shape(eps)
    if eps_shape != shape and (eps_shape[-1:] != shape[-1:] or not _broadcasts(eps_shape, shape)):
        raise ValueError(f"eps must have the shape of mu and logvar, {shape}, got {eps_shape}; "
                         f"draw it with rng.standard_normal({shape}).")


def _broadcasts(*shapes):
    try:
        onp.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def check_pairs_axis(z):
    """Raise unless ``z`` has a pairs axis and a latent axis, ``(..., N, d)``."""
    if len(_shape(z)) < 2:
        raise ValueError(f"z must hold one latent per pair, shape (B, N, d), got shape "
                         f"{_shape(z)}; for the N latents of one task pass z[None].")
