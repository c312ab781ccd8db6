"""Which array module holds the arrays (NumPy on the CPU, or CuPy on a GPU), and the small
amount of glue that lets HIPS autograd differentiate code running on device arrays.

The library never picks an array module by itself: it reads it off the arrays it is given
(``array_module(x)``), the way ``cupy.get_array_module`` does, so the same lines run on
host and device arrays. The training loop chooses the device once (``get_module``) and
moves parameters and data there; results come back to the host (``to_host``) only for
logging, metrics and saving.

Why autograd needs glue at all (a lesson in how autograd works)
----------------------------------------------------------------
autograd wraps every NumPy function as a *primitive*: on the forward pass it calls the raw
NumPy function on unboxed values, and NumPy forwards that call to CuPy through the
``__array_function__`` / ``__array_ufunc__`` protocols, so forward passes just work. Three
things do not:

1. autograd must know the device array type: values of a registered type get wrapped in an
   ``ArrayBox`` when traced, and a ``VSpace`` says how to make zeros and ones "like" a value
   (the seed of every backward pass is ``vspace(loss).ones()``). Its NumPy VSpace builds host
   arrays, so the device type gets its own, ``DeviceVSpace``.
2. A few of autograd's gradient rules (VJPs) build host arrays. The one the model cannot
   avoid is the VJP of ``sum`` (and ``mean``): it adds ``numpy.zeros(shape)`` to broadcast
   the incoming gradient, and every broadcasting ``+`` or ``*`` calls ``sum`` in its own
   VJP. We re-register those two VJPs with a version that broadcasts with ``broadcast_to``
   (a view, made by the gradient's own array module). It gives the same numbers for NumPy
   arrays, without the copy (the float64 gradient checks of the test suite run through it).
3. Slicing: autograd's VJP of ``x[idx]`` scatters into host zeros with ``numpy.add.at``.
   The model slices in three places (the decoder's split first layer, ``[mu, logvar]``,
   and the diagonal dropped in the leave-one-out search, ``latent.off_diagonal``), so we
   give slicing along one axis and its adjoint, zero-padding, as a pair of primitives that
   are each other's VJP. Because both are primitives with differentiable VJPs,
   second-order gradients (training without stop-gradient) work too. Picking each cell's
   true colour is the same idea with a gather and a scatter (``losses.pick_colours`` and
   ``losses.put_colours``).

Everything else the model uses (``matmul``, ``reshape``, ``expand_dims``, ``exp``, ``log``,
``sqrt``, ``maximum``, broadcasting arithmetic) already has VJPs built from autograd
primitives, so it runs on the device unchanged. The library avoids ``dot`` (its VJP calls
``numpy.asarray``), ``concatenate`` and fancy indexing on differentiated values.
"""
import functools
import inspect
import os

import autograd.numpy as anp
import autograd.numpy.numpy_wrapper as anp_wrapper
import numpy as onp
from autograd.extend import VSpace, defvjp
from autograd.extend import primitive as autograd_primitive
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import getval

DEVICES = ("cpu", "gpu")


def primitive(f):
    """autograd's ``@primitive``, keeping ``f``'s signature for ``help()`` and ``inspect``.

    autograd's wrapper is ``(*args, called_by_autograd_dispatcher=False, **kwargs)`` and keeps
    only the name and docstring of ``f``, so ``help(dense)`` would show that signature.
    ``functools.update_wrapper`` points ``__wrapped__`` at ``f`` (and copies its module and
    qualified name), which ``inspect.signature`` and ``help`` follow; ``__signature__`` says the
    same explicitly. autograd still sees its own primitive: nothing else changes. Every
    primitive of lpn-mini (here, in ``mlp.py`` and in ``losses.py``) is made with it.
    """
    wrapped = functools.update_wrapper(autograd_primitive(f), f)
    wrapped.__signature__ = inspect.signature(f)
    return wrapped
ENV_VAR = "LPN_MINI_DEVICE"

# type of a device array -> its array module (NumPy arrays are not listed: the default).
_MODULES = {}


def array_module(*arrays):
    """The array module of the first device array among ``arrays`` (autograd boxes
    included), else NumPy."""
    for a in arrays:
        module = _MODULES.get(type(getval(a)))
        if module is not None:
            return module
    return onp


def default_device():
    """The device named by the LPN_MINI_DEVICE environment variable, else "cpu"."""
    device = os.environ.get(ENV_VAR, "cpu")
    if device not in DEVICES:
        raise ValueError(f"{ENV_VAR}={device!r} is not a device; use one of {', '.join(DEVICES)}.")
    return device


def get_module(device):
    """The array module for ``device``: NumPy for "cpu", CuPy (registered with autograd) for
    "gpu". Asking for the GPU without CuPy or without a GPU is one clear error."""
    if device == "cpu":
        return onp
    if device != "gpu":
        raise ValueError(f"unknown device {device!r}; use one of {', '.join(DEVICES)}.")
    try:
        import cupy
    except ImportError:
        raise ValueError("the GPU needs CuPy: install it with `pip install -e \".[gpu]\"` on a "
                         "machine with an NVIDIA GPU, or use --device cpu.") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken
        raise ValueError(f"CuPy is installed but no GPU is usable ({type(e).__name__}: {e}); "
                         "use --device cpu.") from None
    if count == 0:
        raise ValueError("CuPy is installed but this machine has no GPU; use --device cpu.")
    register_device_array(cupy.ndarray, cupy)
    return cupy


def to_device(tree, xp):
    """Copy the arrays of a nested dict/list/tuple to module ``xp`` (host -> device)."""
    if isinstance(tree, dict):
        return {k: to_device(v, xp) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_device(v, xp) for v in tree)
    return tree if xp is onp else xp.asarray(tree)


def to_host(tree):
    """Copy the arrays of a nested structure back to NumPy (device -> host)."""
    if isinstance(tree, dict):
        return {k: to_host(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_host(v) for v in tree)
    module = _MODULES.get(type(tree))
    return tree if module is None else module.asnumpy(tree)


# ---- 1. Registering a device array type with autograd --------------------------------

class DeviceVSpace(VSpace):
    """The vector space of one device array: its shape and dtype, read without copying it
    to the host, and zeros and ones made by the array's own module."""

    def __init__(self, value, xp):
        self.shape, self.dtype, self.xp = value.shape, value.dtype, xp

    @property
    def size(self):
        return int(onp.prod(self.shape))

    @property
    def ndim(self):
        return len(self.shape)

    def zeros(self):
        return self.xp.zeros(self.shape, dtype=self.dtype)

    def ones(self):
        return self.xp.ones(self.shape, dtype=self.dtype)

    def _inner_prod(self, x, y):
        return self.xp.sum(x * y)


def register_device_array(array_type, xp):
    """Teach autograd about ``array_type`` (e.g. ``cupy.ndarray``) whose module is ``xp``."""
    if array_type in _MODULES:
        return
    _MODULES[array_type] = xp
    ArrayBox.register(array_type)
    VSpace.register(array_type, lambda value: DeviceVSpace(value, xp))


# ---- 2. sum and mean: the same VJPs as autograd's, with zeros from the right module ----

def _broadcast_back(g, shape, dtype, axis, keepdims):
    """Spread the gradient of a reduction back over the reduced axes: ``g`` reshaped to
    keep the reduced axes as size 1, then broadcast to ``shape``. ``broadcast_to`` makes a
    read-only view (no copy; NumPy hands it to CuPy through ``__array_function__``), and it
    is a primitive whose own VJP is a sum, so it can be differentiated again. (autograd's
    version adds ``numpy.zeros(shape)`` instead: host memory, and a full-size copy.)"""
    if shape == ():
        return g, 1
    axes = range(len(shape)) if axis is None else ((axis,) if onp.ndim(axis) == 0 else axis)
    axes = [a % len(shape) for a in axes]
    kept = [1 if i in axes else n for i, n in enumerate(shape)]
    reps = int(onp.prod([shape[a] for a in axes]))
    return anp.broadcast_to(anp.reshape(g, kept), shape), reps


def _sum_vjp(ans, x, axis=None, keepdims=False, dtype=None, **kwargs):
    shape, x_dtype = anp.shape(x), getval(x).dtype
    return lambda g: _broadcast_back(g, shape, x_dtype, axis, keepdims)[0]


def _mean_vjp(ans, x, axis=None, keepdims=False, **kwargs):
    shape, x_dtype = anp.shape(x), getval(x).dtype

    def vjp(g):
        spread, reps = _broadcast_back(g, shape, x_dtype, axis, keepdims)
        return spread / reps
    return vjp


defvjp(anp.sum, _sum_vjp)
defvjp(anp_wrapper._primitive_mean, _mean_vjp)  # the primitive that anp.mean calls


# ---- 3. Slicing along one axis, and its adjoint, as a pair of primitives ----------------

def _index(ndim, axis, start, stop):
    return (slice(None),) * axis + (slice(start, stop),) + (slice(None),) * (ndim - axis - 1)


@primitive
def take_range(x, start, stop, axis=0):
    """``x[start:stop]`` along ``axis`` (a non-negative axis number)."""
    return x[_index(x.ndim, axis, start, stop)]


@primitive
def pad_range(g, start, size, axis=0):
    """The adjoint of ``take_range``: zeros of length ``size`` along ``axis``, with ``g``
    written at ``start``. Made by ``g``'s own array module."""
    shape = list(g.shape)
    shape[axis] = size
    out = array_module(g).zeros(shape, dtype=g.dtype)
    out[_index(g.ndim, axis, start, start + g.shape[axis])] = g
    return out


defvjp(take_range, lambda ans, x, start, stop, axis=0:
       lambda g: pad_range(g, start, anp.shape(x)[axis], axis))
defvjp(pad_range, lambda ans, g, start, size, axis=0:
       lambda h: take_range(h, start, start + anp.shape(g)[axis], axis))


# ---- 4. Picking rows along one axis by an index array, and its adjoint -------------------

@primitive
def take_rows(x, rows, axis=0):
    """``x`` at the distinct positions ``rows`` (a 1-D int array, on ``x``'s device) along
    ``axis``. Unlike autograd's own indexing, whose gradient adds into a NumPy array,
    the gradient here is made by ``x``'s array module (``put_rows``)."""
    return array_module(x).take(x, rows, axis=axis)


@primitive
def put_rows(g, rows, size, axis=0):
    """The adjoint of ``take_rows`` for distinct ``rows``: zeros of length ``size`` along
    ``axis``, with the rows of ``g`` written at positions ``rows``."""
    shape = list(g.shape)
    shape[axis] = size
    out = array_module(g).zeros(shape, dtype=g.dtype)
    out[(slice(None),) * axis + (rows,)] = g
    return out


defvjp(take_rows, lambda ans, x, rows, axis=0:
       lambda g: put_rows(g, rows, anp.shape(x)[axis], axis))
defvjp(put_rows, lambda ans, g, rows, size, axis=0: lambda h: take_rows(h, rows, axis))
