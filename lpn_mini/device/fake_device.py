"""A pretend GPU: an array type that behaves like ``cupy.ndarray`` where it matters, so
that the device logic of lpn-mini is tested, and taught (chapter 11), on any machine.

Like CuPy, a ``FakeDeviceArray``
- refuses implicit conversion to a NumPy array (``numpy.asarray(fake)`` raises);
- computes only with other fake arrays and scalars: mixing it with a NumPy array in a ufunc
  or an array function returns ``NotImplemented``, so NumPy raises ``TypeError``;
- returns 0-d arrays, not scalars, from reductions.
Transfers are explicit: ``fake_xp.asarray(host)`` and ``fake_xp.asnumpy(fake)``. Each
creation of a fake array from the host is counted in ``fake_xp.transfers``.

The fake offers nothing that CuPy lacks, so a test cannot pass on the fake by relying on
something a GPU run would not have: its module functions, the NumPy functions and ufuncs it
accepts, and its array methods are the lists below, each name of which CuPy has too
(``tests/test_cupy_api.py`` checks them against CuPy, and checks that what lpn-mini uses is
in CuPy with the keywords it passes). Anything else is refused with a sentence that says
which list to extend.
"""
import numpy as np

from .backend import register_device_array

SCALARS = (int, float, bool, complex, np.generic)

# ``fake_xp.<name>``, ``numpy.<name>(fake)`` (``__array_function__``) and NumPy ufuncs on
# fakes (``__array_ufunc__``, by the ufunc's ``__name__``: ``np.abs`` is ``absolute``,
# ``np.true_divide`` is ``divide``). What lpn-mini uses, the fake's own operators, and
# the common rest; every name is in CuPy 14 as well.
FUNCTIONS = frozenset("""
    array asarray empty empty_like zeros zeros_like ones ones_like full full_like eye identity
    arange linspace
    reshape ravel transpose swapaxes moveaxis expand_dims squeeze broadcast_to
    broadcast_arrays concatenate stack split repeat tile flip where take take_along_axis
    sum mean prod max min amax amin argmax argmin cumsum std var abs absolute exp log log1p
    expm1 sqrt square sign clip tanh negative add subtract multiply divide true_divide
    floor_divide remainder mod power maximum minimum matmul dot einsum tensordot logaddexp
    round around floor ceil
    equal not_equal less less_equal greater greater_equal logical_and logical_or logical_not
    bitwise_and bitwise_or isfinite isnan isinf all any allclose array_equal nonzero argsort
    sort
    shape ndim size result_type iscomplexobj
    float32 float64 int32 int64 bool_ integer floating dtype pi inf nan newaxis e
""".split())
# ``fake_array.<name>(...)``, each a method of ``cupy.ndarray`` too.
METHODS = frozenset("""
    all any argmax argmin argsort astype clip conj copy cumsum dot fill flatten item max mean
    min nonzero prod ravel repeat reshape round sort squeeze std sum swapaxes take tolist
    transpose var view
""".split())
UFUNC_METHODS = ("__call__", "reduce", "accumulate", "reduceat", "outer", "at")  # as CuPy's


def _not_offered(what, listing):
    return (f"{what} is not offered by the fake device, which offers only what CuPy has too: "
            f"if CuPy has it, add the name to fake_device.{listing} (tests/test_cupy_api.py "
            f"then checks it against CuPy).")


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
    __slots__ = ("_data",)  # like cupy.ndarray: no other attributes, no weak references

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
        if ufunc.__name__ not in FUNCTIONS or method not in UFUNC_METHODS:
            name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
            raise TypeError(_not_offered(f"the ufunc numpy.{name}", "FUNCTIONS"))
        return _wrap(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(t, FakeDeviceArray) for t in types):
            return NotImplemented
        try:
            args, kwargs = _unwrap(args), _unwrap(kwargs)
        except HostDeviceMixError:
            return NotImplemented
        if func.__module__ != "numpy":  # numpy.linalg, numpy.fft, ...: CuPy's are not imitated
            raise TypeError(f"{func.__module__}.{func.__name__} is not offered by the fake "
                            "device, which offers only top-level NumPy functions.")
        if func.__name__ not in FUNCTIONS:
            raise TypeError(_not_offered(f"numpy.{func.__name__}", "FUNCTIONS"))
        return _wrap(func(*args, **kwargs))

    # -- array attributes and methods -----------------------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: FakeDeviceArray(self._data.T))

    def __getattr__(self, name):  # reshape, astype, sum, max, min, take, ... (METHODS)
        if name not in METHODS:
            raise AttributeError(_not_offered(f"the array method .{name}", "METHODS"))
        method = getattr(self._data, name)
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
    # No __index__: CuPy arrays have none (a device value cannot be a slice bound or a
    # list index without an explicit copy to the host, e.g. int(a)).
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
                      ("and", np.bitwise_and), ("or", np.bitwise_or)]:  # & and |, as in CuPy
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

    def __getattr__(self, name):  # zeros, ones, eye, arange, stack, argmax, ... (FUNCTIONS)
        if name not in FUNCTIONS:
            raise AttributeError(_not_offered(f"fake_xp.{name}", "FUNCTIONS"))
        func = getattr(np, name)
        if not callable(func):
            return func
        return lambda *a, **k: _wrap(func(*_unwrap(a), **_unwrap(k)))


fake_xp = FakeModule()
register_device_array(FakeDeviceArray, fake_xp)
