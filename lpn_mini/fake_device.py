"""A pretend GPU: an array type that behaves like ``cupy.ndarray`` where it matters, so
that the device logic of lpn-mini is tested, and taught (chapter 10), on any machine.

Like CuPy, a ``FakeDeviceArray``
- refuses implicit conversion to a NumPy array (``numpy.asarray(fake)`` raises);
- computes only with other fake arrays and scalars: mixing it with a NumPy array in a ufunc
  or an array function returns ``NotImplemented``, so NumPy raises ``TypeError``;
- returns 0-d arrays, not scalars, from reductions.
Transfers are explicit: ``fake_xp.asarray(host)`` and ``fake_xp.asnumpy(fake)``. Each
creation of a fake array from the host is counted in ``fake_xp.transfers``.
"""
import numpy as np

from .backend import register_device_array

SCALARS = (int, float, bool, complex, np.generic)


class HostDeviceMixError(TypeError):
    pass


def _unwrap(obj):
    if isinstance(obj, FakeDeviceArray):
        return obj._data
    if isinstance(obj, np.ndarray):
        raise HostDeviceMixError(f"a host NumPy array of shape {obj.shape} met a fake device "
                                 "array: move it with fake_xp.asarray first")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, (np.ndarray, np.generic)) and not isinstance(obj, np.dtype):
        return FakeDeviceArray(np.asarray(obj))         # reductions give 0-d arrays
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


class FakeDeviceArray:
    __array_priority__ = 1000

    def __init__(self, data):
        assert isinstance(data, np.ndarray)
        self._data = data

    # -- what NumPy sees -------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError("implicit conversion of a fake device array to a NumPy array: "
                        "host/device mixing (use fake_xp.asnumpy for an explicit copy)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not all(isinstance(i, (FakeDeviceArray,) + SCALARS) for i in inputs):
            return NotImplemented  # e.g. an autograd box: let its own __array_ufunc__ run
        try:
            args, kwargs = _unwrap(inputs), _unwrap(kwargs)
        except HostDeviceMixError:
            return NotImplemented
        return _wrap(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(t, FakeDeviceArray) for t in types):
            return NotImplemented
        try:
            args, kwargs = _unwrap(args), _unwrap(kwargs)
        except HostDeviceMixError:
            return NotImplemented
        return _wrap(func(*args, **kwargs))

    # -- array attributes and methods -----------------------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: FakeDeviceArray(self._data.T))

    def __getattr__(self, name):  # reshape, astype, sum, max, min, argmax, all, any, ...
        method = getattr(self._data, name)
        if not callable(method):
            raise AttributeError(name)
        return lambda *a, **k: _wrap(method(*_unwrap(a), **_unwrap(k)))

    def __getitem__(self, idx):
        return _wrap(self._data[_unwrap(idx)])

    def __setitem__(self, idx, value):
        self._data[_unwrap(idx)] = _unwrap(value)

    def __len__(self):
        return len(self._data)

    def _scalar(self, kind):
        if self._data.size != 1:
            raise TypeError(f"only size-1 fake arrays convert to Python scalars, not {self.shape}")
        return kind(self._data.reshape(()))

    __float__ = lambda self: self._scalar(float)
    __int__ = lambda self: self._scalar(int)
    __bool__ = lambda self: self._scalar(bool)
    __index__ = lambda self: self._scalar(int)
    __repr__ = lambda self: f"FakeDeviceArray({self._data!r})"
    __str__ = lambda self: str(self._data)
    __format__ = lambda self, spec: format(self._data.reshape(()) if self.size == 1 else self._data, spec)


def _binary(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("pow", np.power), ("matmul", np.matmul),
                      ("floordiv", np.floor_divide), ("mod", np.remainder)]:
    setattr(FakeDeviceArray, f"__{_name}__", _binary(_ufunc))
    setattr(FakeDeviceArray, f"__r{_name}__", _binary(_ufunc, reflected=True))
for _name, _ufunc in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                      ("and", np.logical_and), ("or", np.logical_or)]:
    setattr(FakeDeviceArray, f"__{_name}__", _binary(_ufunc))
FakeDeviceArray.__neg__ = lambda self: np.negative(self)
FakeDeviceArray.__abs__ = lambda self: np.abs(self)
FakeDeviceArray.__hash__ = None


class FakeModule:
    """The fake device's array module, like ``cupy``: NumPy's functions on fake arrays."""

    ndarray = FakeDeviceArray

    def __init__(self):
        self.transfers = 0

    def asarray(self, a, dtype=None):
        if isinstance(a, FakeDeviceArray):
            return a if dtype is None else a.astype(dtype)
        self.transfers += 1
        return FakeDeviceArray(np.array(a, dtype=dtype))

    def asnumpy(self, a):
        return a._data.copy() if isinstance(a, FakeDeviceArray) else np.asarray(a)

    def __getattr__(self, name):  # zeros, ones, eye, arange, stack, argmax, ...
        func = getattr(np, name)
        if not callable(func):
            return func
        return lambda *a, **k: _wrap(func(*_unwrap(a), **_unwrap(k)))


fake_xp = FakeModule()
register_device_array(FakeDeviceArray, fake_xp)
