"""Does CuPy have every function, method and keyword that lpn-mini uses on the GPU path?

The device code (``lpn_mini/device/backend.py`` with CuPy arrays) is tested on every machine
against a fake GPU (``lpn_mini/device/fake_device.py``), and against CuPy only where there is a
GPU. A fake-device test that passes proves little if lpn-mini calls something CuPy lacks,
passes a keyword CuPy refuses, or relies on something only the fake offers. So this file

1. runs a representative device workload on the fake while *recording* what it uses:
   every name read on ``fake_xp``, every method and attribute used on a
   ``FakeDeviceArray`` (operators included), and every NumPy function and ufunc that NumPy
   hands to the fake through ``__array_function__`` / ``__array_ufunc__`` (that is how
   ``autograd.numpy`` reaches device arrays), each with the keyword names passed;
2. checks each recorded name exists in CuPy, found the way CuPy's own dispatch finds it,
   and that CuPy's signature accepts the arguments used;
3. checks that the fake offers nothing CuPy lacks, and that the names lpn-mini's modules
   spell out in CuPy's namespace (``cupy.cuda.runtime...``) exist.

CuPy 14 imports without a GPU (only making arrays needs one), so parts 2 and 3 run on
any machine after ``pip install cupy-cuda12x``; without CuPy they skip. Part 1, the
recorder, runs everywhere.
"""
import ast
import collections
import functools
import inspect
import os
import re
import sys

import autograd
import numpy as np
import pytest

import lpn_mini.device.backend as backend
import lpn_mini.device.fake_device as fake_device
import lpn_mini.training
from lpn_mini import infer_latent, leave_one_out_predict, predict, training_loss
from lpn_mini.device.backend import to_device
from lpn_mini.config import make_config
from lpn_mini.evaluation import evaluate
from lpn_mini.device.fake_device import FakeDeviceArray, FakeModule, fake_xp
from lpn_mini.latent import LEAVE_ONE_OUT, ascent_path
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, tree_map
from lpn_mini.training import train

from helpers import D, small_problem

try:
    import cupy
    NO_CUPY = None
except Exception as e:  # ImportError, or a broken CUDA install
    cupy = None
    NO_CUPY = ("CuPy is not installed (pip install cupy-cuda12x to run the API check; no GPU "
               "needed)" if isinstance(e, ImportError) else
               f"CuPy does not import here ({type(e).__name__}: {e})")
needs_cupy = pytest.mark.skipif(cupy is None, reason=str(NO_CUPY))


# ---- 1. The recorder -------------------------------------------------------------------
# Only uses from outside the fake count: the fake's own lines (``self._data``, the NumPy
# ufunc behind its ``+``) are how it imitates CuPy, not what CuPy is asked for, and this
# file's own handling of results is not lpn-mini's.
SKIPPED_FILES = {os.path.abspath(fake_device.__file__), os.path.abspath(__file__)}


def _from_outside(depth=2):
    """True if the code ``depth`` frames up (the caller of the recording wrapper) is
    neither the fake itself nor this file."""
    return os.path.abspath(sys._getframe(depth).f_code.co_filename) not in SKIPPED_FILES


class Recorder:
    """``uses[kind, name]``: the set of ``(positional count, keyword names)`` of each call
    (empty for an attribute only read). Kinds: ``"xp"`` (``fake_xp.<name>``),
    ``"ndarray"`` (a method or attribute of a device array), ``"function"`` (a NumPy
    function sent to the fake by ``__array_function__``, named ``numpy.<path>.<name>``)
    and ``"ufunc"`` (sent by ``__array_ufunc__``: ``add``, or ``add.reduce`` for a method)."""

    def __init__(self):
        self.uses = collections.defaultdict(set)

    def saw(self, kind, name, args=None, kwargs=None):
        calls = self.uses[kind, name]
        if args is not None:
            calls.add((len(args), tuple(sorted(kwargs))))

    def calling(self, kind, name, f):
        """``f``, recording the arguments of each call made from outside."""
        def call(*args, **kwargs):
            if _from_outside():
                self.saw(kind, name, args, kwargs)
            return f(*args, **kwargs)
        return call

    def install(self, patch):
        """Record through ``patch`` (a ``pytest.MonkeyPatch``) until it is undone."""
        # Operators and conversions (``a + b``, ``a[i]``, ``float(a)``) are looked up on the
        # type, not the instance, so each of the fake's own dunders is wrapped.
        special = {"__init__", "__getattr__", "__array_function__", "__array_ufunc__"}
        for name, value in list(vars(FakeDeviceArray).items()):
            if name.startswith("__") and callable(value) and name not in special:
                patch.setattr(FakeDeviceArray, name, self._method(name, value))
        self._record_lookups(patch, FakeModule, "xp")
        self._record_lookups(patch, FakeDeviceArray, "ndarray")

        array_function = FakeDeviceArray.__array_function__
        array_ufunc = FakeDeviceArray.__array_ufunc__

        def dispatched_function(array, func, types, args, kwargs):
            result = array_function(array, func, types, args, kwargs)
            if result is not NotImplemented and _from_outside():
                self.saw("function", f"{func.__module__}.{func.__name__}", args, kwargs)
            return result

        def dispatched_ufunc(array, ufunc, method, *inputs, **kwargs):
            result = array_ufunc(array, ufunc, method, *inputs, **kwargs)
            if result is not NotImplemented and _from_outside():
                name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
                self.saw("ufunc", name, inputs, kwargs)
            return result

        patch.setattr(FakeDeviceArray, "__array_function__", dispatched_function)
        patch.setattr(FakeDeviceArray, "__array_ufunc__", dispatched_ufunc)

    def _method(self, name, f):
        def method(array, *args, **kwargs):
            if _from_outside():
                self.saw("ndarray", name, args, kwargs)
            return f(array, *args, **kwargs)
        return method

    def _record_lookups(self, patch, cls, kind):
        """Record every attribute read on instances of ``cls``; wrap what is callable."""
        fallback = vars(cls).get("__getattr__")

        def lookup(obj, name):
            try:
                value = object.__getattribute__(obj, name)
            except AttributeError:
                if fallback is None:
                    raise
                value = fallback(obj, name)
            if not _from_outside():
                return value
            if name != "__class__":  # isinstance() reads it on any object: not an array API
                self.saw(kind, name)
            if callable(value) and not isinstance(value, type):  # keep isinstance(a, xp.ndarray)
                return self.calling(kind, name, value)
            return value

        patch.setattr(cls, "__getattribute__", lookup)


# The device workload: what the fake-device tests exercise, in one run per dtype.
TRAINING_CASES = [
    dict(num_steps=0),
    dict(num_steps=1, alpha=0.2),
    dict(num_steps=2, alpha=0.2, reduce="mean"),
    dict(num_steps=1, alpha=0.2, stop_gradient=False),
    dict(num_steps=2, alpha=0.1, optimizer="adam", clip_norm=1.0, best_of_trajectory=True,
         stop_gradient=False, reduce="mean"),
    dict(num_steps=2, alpha=0.1, optimizer="adam", clip_norm=1.0, best_of_trajectory=True),
    dict(method="sample"),
]
SEARCHES = [dict(num_steps=2, alpha=0.1, optimizer="adam", clip_norm=1.0, best_of_trajectory=True),
            dict(num_steps=1, alpha=0.1),
            dict(method="sample")]


def run_device_workload(run_dir):
    """lpn-mini's device path on the fake GPU: losses and gradients, test-time inference,
    evaluation, the optimizer and the training loop, in float64 and float32."""
    on_fake = lambda tree: to_device(tree, fake_xp)  # noqa: E731
    for dtype in ("float64", "float32"):
        rng, params, x, y, eps = small_problem(seed=3)
        params, eps = tree_map(lambda p: p.astype(dtype), params), eps.astype(dtype)
        noise = rng.standard_normal(x.shape[:2] + (3, D)).astype(dtype)      # (B, N, S, d)
        dp, dx, dy, de, dn = map(on_fake, (params, x, y, eps, noise))
        for kw in TRAINING_CASES:
            kw = dict(kw, noise=dn) if kw.get("method") == "sample" else kw
            loss, grads = autograd.value_and_grad(training_loss)(dp, dx, dy, de, beta=0.5, **kw)
        for kw in SEARCHES:
            one = dict(kw, noise=on_fake(noise[:, :1])) if kw.get("method") else kw  # M = 1
            every = dict(kw, noise=dn) if kw.get("method") else kw                  # M = N
            infer_latent(dp, dx, dy, de, **one)
            predict(dp, on_fake(x[:, 1:]), on_fake(y[:, 1:]), on_fake(x[:, 0]), **one)
            leave_one_out_predict(dp, dx, dy, de, **every)
        ascent_path(dp["decoder"], dx, dy, de, LEAVE_ONE_OUT, num_steps=2, alpha=0.1,
                    optimizer="adam", clip_norm=1.0)
        grads = clip_by_global_norm(grads, 1.0)
        adam_update(dp, grads, on_fake(adam_init(params)), 1e-3, weight_decay=0.01)
        config = make_config("tiny", overrides=[f"dtype={dtype}"])
        evaluate(dp, config, x, y, methods=[("Grad 2", "grad", 2), ("Sample 3", "sample", 3)])
    # The training loop with device=gpu (routed to the fake): Grad 1 training (the default K)
    # without stop-gradient and with an evaluation, and Sample 5 training (the default N).
    # And the conv architecture (lpn_mini/conv.py): its windows, table and kernel.
    for i, extra in enumerate((["stop_gradient=false", "eval_every=2"],
                               ["train_method=sample", "dtype=float32"],
                               ["architecture=conv", "window=3", "stop_gradient=false",
                                "eval_every=2"])):
        config = make_config("tiny", overrides=["steps=2", "checkpoint_every=2", "log_every=1",
                                                "device=gpu", *extra])
        train(config, str(run_dir / str(i)), progress=False)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """``Recorder.uses`` of one run of the device workload."""
    recorder = Recorder()
    with pytest.MonkeyPatch.context() as patch:
        real = backend.get_module
        patch.setattr(lpn_mini.training, "get_module",
                      lambda device: fake_xp if device == "gpu" else real(device))
        recorder.install(patch)
        run_device_workload(tmp_path_factory.mktemp("runs"))
    return dict(recorder.uses)


# Names any honest recording of the workload contains, of each kind: if the recorder broke
# (records nothing, or misses a protocol), this says so without CuPy. Most are backend.py's
# own (to_device, to_host, DeviceVSpace, take_range), so edits elsewhere do not move them.
EXPECTED = {("xp", "asarray"), ("xp", "asnumpy"), ("xp", "zeros"), ("xp", "ones"),
            ("ndarray", "shape"), ("ndarray", "dtype"), ("ndarray", "__getitem__"),
            ("function", "numpy.sum"), ("function", "numpy.reshape"),
            ("ufunc", "exp"), ("ufunc", "multiply")}


def test_the_recorder_sees_what_the_device_workload_uses(recorded):
    missing = sorted(EXPECTED - set(recorded))
    assert not missing, f"the recorder did not see {missing}; recorded {sorted(recorded)}"
    kinds = collections.Counter(kind for kind, _ in recorded)
    assert len(recorded) >= 40 and all(kinds[k] >= 5 for k in ("xp", "ndarray", "function",
                                                                "ufunc")), kinds
    assert (1, ("dtype",)) in recorded["xp", "zeros"], "keyword names are recorded"
    assert ("xp", "transfers") not in recorded, "lpn-mini never reads the fake's own counter"


# ---- 2. Each recorded use, looked up in CuPy -------------------------------------------

ABSENT = object()  # what cupy_target says for a name CuPy lacks (None is a value: cupy.newaxis)


def cupy_target(kind, name):
    """What CuPy would run for a recorded use, found the way CuPy finds it; ABSENT if absent."""
    if kind == "xp":
        return getattr(cupy, name) if hasattr(cupy, name) else ABSENT
    if kind == "ndarray":
        return getattr(cupy.ndarray, name) if hasattr(cupy.ndarray, name) else ABSENT
    if kind == "function":
        # cupy.ndarray.__array_function__: numpy.<path>.<f> runs cupy.<path>.<f>, unless
        # that is NumPy's own function (CuPy re-exports some), which it refuses.
        path = name.split(".")
        try:
            numpy_func = functools.reduce(getattr, path[1:], np)
            found = functools.reduce(getattr, path[1:], cupy)
        except AttributeError:
            return ABSENT
        return ABSENT if found is numpy_func else found
    # cupy.ndarray.__array_ufunc__: the ufunc of that name in cupy, then its method.
    ufunc_name, _, method = name.partition(".")
    found = getattr(cupy, ufunc_name, ABSENT)
    return found if found is ABSENT or not method else getattr(found, method, ABSENT)


def _parameters_from_text(text):
    """inspect.Parameters of a parameter list written as text, e.g. "self, *shape, order='C'"
    (defaults are replaced by None: only names and kinds matter here)."""
    try:
        args = ast.parse(f"def f({text}): pass").body[0].args
    except SyntaxError:  # Cython's C types: "int device" -> "device"
        untyped = re.sub(r"(?:\b[A-Za-z_][\w.]*\s+)+(?=[A-Za-z_]\w*\s*(?:=|,|$))", "", text)
        args = ast.parse(f"def f({untyped}): pass").body[0].args
    P = inspect.Parameter
    positional = [(a, P.POSITIONAL_ONLY) for a in args.posonlyargs] + [
        (a, P.POSITIONAL_OR_KEYWORD) for a in args.args]
    first_default = len(positional) - len(args.defaults)
    params = [P(a.arg, kind, default=None if i >= first_default else P.empty)
              for i, (a, kind) in enumerate(positional)]
    if args.vararg:
        params.append(P(args.vararg.arg, P.VAR_POSITIONAL))
    params += [P(a.arg, P.KEYWORD_ONLY, default=P.empty if d is None else None)
               for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        params.append(P(args.kwarg.arg, P.VAR_KEYWORD))
    return params


def cupy_signature(f):
    """CuPy's signature of ``f``, without ``self``: Python's own, or else the one that
    Cython and CuPy's ufuncs write on the first line of the docstring
    (``take(self, indices, axis=None, out=None) -> ...``,
    ``exp(x, /, out=None, \\*, casting='same_kind', dtype=None)``); None if neither.

    A ufunc's docstring is its real signature: ``ufunc.__call__`` in CuPy 14.2's
    ``cupy/_core/_kernel.pyx`` takes the inputs and then only ``out``, ``dtype`` and
    ``casting`` (and a private ``_where``), and raises TypeError on any other keyword;
    ``ufunc.reduce(self, array, axis=0, dtype=None, out=None, keepdims=False)`` and the
    other methods are Cython ``def``s whose docstrings Cython writes from the code."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        first_line = (getattr(f, "__doc__", None) or "").partition("\n")[0].replace("\\*", "*")
        match = re.fullmatch(r"[\w.]+\((.*)\)(\s*->.*)?", first_line.strip())
        if match is None:
            return None
        params = _parameters_from_text(match.group(1))
    if params and params[0].name == "self":
        params = params[1:]
    return inspect.Signature(params)


def refusal(signature, n_positional, keywords):
    """Why ``signature`` refuses a call with ``n_positional`` arguments and ``keywords``
    (CuPy's words, e.g. "got an unexpected keyword argument 'mode'"), or None."""
    try:
        signature.bind(*[None] * n_positional, **dict.fromkeys(keywords))
    except TypeError as e:
        return str(e)
    return None


def describe(kind, name):
    """A recorded use, named for a failure message."""
    return {"xp": f"cupy.{name}", "ndarray": f"cupy.ndarray.{name}",
            "function": f"{name} (NumPy function dispatched to CuPy by __array_function__)",
            "ufunc": f"numpy.{name} (ufunc dispatched to CuPy by __array_ufunc__)"}[kind]


@needs_cupy
def test_cupy_has_everything_the_device_workload_used(recorded):
    missing = [f"{describe(kind, name)}: CuPy {cupy.__version__} has no such name"
               for kind, name in sorted(recorded) if cupy_target(kind, name) is ABSENT]
    assert not missing, "\n".join(missing)


@needs_cupy
def test_cupy_accepts_the_arguments_the_device_workload_passed(recorded):
    refused, unchecked = [], []
    for (kind, name), calls in sorted(recorded.items()):
        target = cupy_target(kind, name)
        if target is ABSENT or not calls:
            continue  # absent (the test above says so), or an attribute read, not a call
        signature = cupy_signature(target)
        for n_positional, keywords in sorted(calls):
            if signature is None:
                if keywords:  # operators (__add__, ...) take no keywords: nothing to check
                    unchecked.append(f"{describe(kind, name)}: called with keywords "
                                     f"{keywords} but CuPy shows no signature to check them")
                continue
            why = refusal(signature, n_positional, keywords)
            if why:
                refused.append(f"{describe(kind, name)}: CuPy's signature {signature} refuses "
                               f"{n_positional} positional and keywords {keywords}: {why}")
    assert not refused + unchecked, "\n".join(refused + unchecked)


# ---- 3. The fake offers nothing CuPy lacks; lpn-mini's own spelled-out CuPy names exist --

# Names the fake has and CuPy does not, each with the reason it may stay.
FAKE_ONLY = {
    ("xp", "transfers"): "the fake's count of host-to-device copies, for tests; lpn-mini "
                         "never reads it (the recorder test asserts so)",
    ("ndarray", "__getattr__"): "how the fake offers METHODS, each of which is checked here",
    ("ndarray", "__slots__"): "Python's declaration of the fake's one field, _data",
}


def public(names, dunders):
    """The names that are not private (``_x``); dunders kept only if ``dunders``."""
    return sorted(n for n in names if not n.startswith("_")
                  or (dunders and n.startswith("__") and n.endswith("__")))


@needs_cupy
def test_the_fake_device_offers_nothing_cupy_lacks():
    offered = ([("xp", n) for n in public({*vars(FakeModule), *vars(fake_xp),
                                          *fake_device.FUNCTIONS}, dunders=False)]
               + [("ndarray", n) for n in public({*vars(FakeDeviceArray), *fake_device.METHODS},
                                                 dunders=True)])
    problems = [f"{describe(kind, name)}: the fake offers it, CuPy {cupy.__version__} has no "
                f"such name" for kind, name in offered
                if (kind, name) not in FAKE_ONLY and cupy_target(kind, name) is ABSENT]
    problems += [f"ufunc method .{m}: the fake accepts it, CuPy's ufuncs have no such method"
                 for m in fake_device.UFUNC_METHODS[1:] if not hasattr(cupy.add, m)]
    # The fake's functions with a signature of their own take nothing that CuPy's refuse.
    for name in public(vars(FakeModule), dunders=False):
        f = getattr(fake_xp, name)
        if callable(f) and not isinstance(f, type):
            params = inspect.signature(f).parameters.values()
            required = [p for p in params if p.default is p.empty]
            optional = [p.name for p in params if p.default is not p.empty]
            why = refusal(cupy_signature(getattr(cupy, name)), len(required), optional)
            if why:
                problems.append(f"fake_xp.{name}{inspect.signature(f)}: cupy.{name}"
                                f"{cupy_signature(getattr(cupy, name))} refuses it: {why}")
    assert not problems, "\n".join(problems)


def _is_array_module(node):
    """Whether an expression stands for the array module in lpn-mini's code: ``cupy``,
    ``xp``, ``module``, ``self.xp`` or ``array_module(...)``."""
    return ((isinstance(node, ast.Name) and node.id in {"cupy", "xp", "module"})
            or (isinstance(node, ast.Attribute) and node.attr == "xp")
            or (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "array_module"))


def spelled_out_uses():
    """``(file:line, "cupy.cuda.runtime.getDeviceCount" or "xp.zeros", CuPy path, call or
    None)`` for every name that a library module (all but the fake) reads off an array module:
    what runs on the GPU whether or not the workload above reached that line."""
    library = os.path.dirname(backend.__file__)
    for root, _, files in os.walk(library):
        for file in sorted(files):
            path = os.path.join(root, file)
            if not file.endswith(".py") or path == os.path.abspath(fake_device.__file__):
                continue
            with open(path) as f:
                tree = ast.parse(f.read())
            calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
            for node in ast.walk(tree):
                chain, base = [], node
                while isinstance(base, ast.Attribute):
                    chain.insert(0, base.attr)
                    base = base.value
                if not chain:
                    continue
                if _is_array_module(node.value):  # xp.zeros, self.xp.ones, cupy.ndarray
                    chain = chain[-1:]
                elif not (isinstance(base, ast.Name) and base.id == "cupy"):  # cupy.cuda.runtime...
                    continue
                where = f"{os.path.relpath(path, os.path.dirname(library))}:{node.lineno}"
                yield where, ast.unparse(node), chain, calls.get(id(node))


@needs_cupy
def test_what_lpn_mini_spells_out_in_cupys_namespace_exists():
    uses = list(spelled_out_uses())
    assert {"cupy.cuda.runtime.getDeviceCount", "cupy.ndarray", "module.asnumpy",
            "self.xp.zeros"} <= {text for _, text, _, _ in uses}, "the scan misses backend.py"
    problems = []
    for where, text, chain, call in uses:
        try:
            target = functools.reduce(getattr, chain, cupy)
        except AttributeError:
            problems.append(f"{where}: {text}: CuPy {cupy.__version__} has no cupy.{'.'.join(chain)}")
            continue
        signature = cupy_signature(target) if call is not None else None
        starred = call is not None and (any(isinstance(a, ast.Starred) for a in call.args)
                                        or any(k.arg is None for k in call.keywords))
        if signature is not None and not starred:
            why = refusal(signature, len(call.args), [k.arg for k in call.keywords])
            if why:
                problems.append(f"{where}: {ast.unparse(call)}: cupy.{'.'.join(chain)}"
                                f"{signature} refuses it: {why}")
    assert not problems, "\n".join(problems)


@needs_cupy
def test_without_a_gpu_asking_for_one_is_one_clear_sentence():
    """backend.get_module's runtime call, against the real CuPy: on a machine without a
    usable GPU it must end in one sentence, not a CUDA traceback."""
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no driver, or too old a driver
        count = 0
    if count:
        pytest.skip("this machine has a GPU (tests/test_backend.py runs on it)")
    with pytest.raises(ValueError, match="CuPy is installed but") as error:
        backend.get_module("gpu")
    assert "\n" not in str(error.value) and "--device cpu" in str(error.value)
