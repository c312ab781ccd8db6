"""What every check uses: the function under test, and comparisons that fail with one line.

A failed comparison raises ``CheckFailed`` whose text is the whole feedback line: the
quantity, expected vs got (with as many digits as it takes to see them differ), the
relative error, and the check's hint.

While grading, the process that runs the student's code never has the expected outputs:
its fixtures hold an ``Expected`` placeholder (place, shape, dtype) where each one belongs.
A comparison with a placeholder checks what needs no reference (an array of numbers of
the right shape) and records what the student's function gave (``RECORDS``: the values as
float64 lists with their shape and dtype, the quantity's name, the hint); the grader's own
process replays each record with the same ``close`` against the expected values it alone
loads (``replay``), and the first one that fails is the check's feedback line. Run by hand
(the instructor's edition, ``pytest lpn_mini/course/checks``), the fixtures hold the
expected values and every comparison happens at once.

A hint is a string, or a function ``hint(got, want, fx)`` of this module's check files
(called only when the comparison fails, in the process that has ``want``).
"""
import copy
import importlib

import autograd.numpy as anp
import numpy as onp
from autograd.tracer import getval

from ..exercises import by_slug


class CheckFailed(AssertionError):
    """One line of feedback for the student (raised by the helpers below)."""


class Expected:
    """The place of an expected output the grading child does not have, with its shape and
    dtype (no values); ``a - b`` of two is the difference of their values."""

    def __init__(self, path, shape, dtype, minus=None):
        self.path, self.shape, self.dtype, self.minus = path, tuple(shape), dtype, minus

    @property
    def ndim(self):
        return len(self.shape)

    def __sub__(self, other):
        if not isinstance(other, Expected) or self.minus or other.minus:
            return NotImplemented
        return Expected(self.path, self.shape, self.dtype, minus=other.path)

    def __repr__(self):
        return f"<expected {self.path}: not available while the student's code runs>"


RECORDS = []              # the comparisons with placeholders that the grader replays
STATE = {"fx": None}      # the current test's fixture dict (for hint functions)


def _hint_text(hint, got, want):
    if not callable(hint):
        return hint
    try:
        return hint(got, want, STATE["fx"])
    except Exception:
        return ""


def _hint_name(hint):
    if callable(hint):
        return f"{hint.__module__}:{hint.__qualname__}"
    return None


def got_record(got):
    """What the child sends of an array it got: float64 values, shape, dtype."""
    return {"values": got.astype(onp.float64).ravel().tolist(), "shape": list(got.shape),
            "dtype": str(got.dtype)}


def function(slug, name=None):
    """The function under test, looked up when called: while grading, the student's (the
    plugin puts it in the library's place); run by hand, the library's own."""
    for module, fname in by_slug(slug).functions:
        if name in (None, fname):
            return getattr(importlib.import_module(module), fname)
    raise ValueError(f"exercise {slug} has no function {name}")


def fail(what, message, hint=""):
    raise CheckFailed(f"{what}: {message}" + (f" Hint: {hint}" if hint else ""))


def _digits(want, got):
    """The fewest significant digits (4 or more) at which ``want`` and ``got`` print apart."""
    for digits in range(4, 18):
        if f"{want:.{digits}g}" != f"{got:.{digits}g}":
            return digits
    return 17


def _index(idx, shape):
    return "" if not shape else " at [" + ", ".join(str(int(i)) for i in idx) + "]"


ONE = ("a batch of one is still a batch: the result keeps every axis of the inputs, those "
       "of size 1 too.")


def as_array(got, what, hint=""):
    if got is None:
        fail(what, "the function returned None.", "is its `return` missing?")
    if isinstance(got, (list, tuple)):  # numbers that the code using them cannot compute with
        fail(what, f"expected an array, got a {type(got).__name__}.", "return an array (what "
             "autograd.numpy operations give), not a Python list or tuple: the code that uses "
             "the result needs its shape and its arithmetic.")
    try:
        return onp.asarray(got)
    except Exception:  # a box or an object that is no array
        fail(what, f"expected an array, got {type(got).__name__}.", hint)


def same_shape(got, want, what, hint=""):
    """``got`` as an array, which must have ``want``'s shape."""
    got, shape = as_array(got, what, hint), onp.shape(want)
    if got.shape != shape:
        fail(what, f"expected shape {shape}, got shape {got.shape}.", hint)
    return got


def close(got, want, what, hint="", rtol=1e-7, atol=1e-12, dtype=True):
    """``got`` must equal the stored ``want`` to ``rtol``: same shape, same dtype (unless
    ``dtype`` is False), finite where ``want`` is, within tolerance everywhere. With a
    placeholder ``want`` (while grading), the shape is checked here and the rest recorded
    for the grader."""
    if isinstance(want, Expected):
        got_array = same_shape(got, want, what, _hint_text(hint, got, want))
        if not onp.issubdtype(got_array.dtype, onp.number):
            fail(what, f"expected numbers, got an array of {got_array.dtype}.",
                 _hint_text(hint, got, want))
        RECORDS.append({"kind": "close", "path": want.path, "minus": want.minus,
                        "got": got_record(got_array), "what": what,
                        "hint": None if callable(hint) else hint, "hint_fn": _hint_name(hint),
                        "rtol": rtol, "atol": atol, "dtype": bool(dtype)})
        return
    raw = got
    want = onp.asarray(want)
    text = lambda: _hint_text(hint, raw, want)
    got = same_shape(got, want, what, text())
    if not onp.issubdtype(got.dtype, onp.number):
        fail(what, f"expected numbers, got an array of {got.dtype}.", text())
    if dtype and got.dtype != want.dtype:
        fail(what, f"expected {want.dtype}, got {got.dtype} (a {want.dtype} input must give "
             f"{want.dtype} out: is a constant or a new array made in float64?).", text())
    g, w = got.astype(onp.float64), want.astype(onp.float64)
    bad = ~onp.isclose(g, w, rtol=rtol, atol=atol) | (onp.isfinite(w) & ~onp.isfinite(g))
    if not bad.any():
        return
    err = onp.abs(g - w)
    err = onp.where(onp.isfinite(err), err, onp.inf)
    worst = onp.unravel_index(onp.argmax(onp.where(bad, err, -1.0)), w.shape)
    wv, gv = float(w[worst]), float(g[worst])
    scale = max(float(onp.max(onp.abs(w), initial=0.0)), 1e-300)
    rel = float(onp.max(err[bad])) / scale
    digits = _digits(wv, gv)
    count = "" if w.size == 1 else f"; {int(bad.sum())} of {w.size} entries are off"
    fail(what, f"expected {wv:.{digits}g}, got {gv:.{digits}g}{_index(worst, w.shape)} "
         f"(relative error {rel:.1e}{count}).", text())


def same(got, want, what, hint=""):
    """``got`` must be exactly ``want`` (a count, a step number)."""
    if isinstance(want, Expected):
        plain = got.item() if isinstance(got, onp.generic) else got
        plain = plain if type(plain) in (int, float, bool) else None
        RECORDS.append({"kind": "same", "path": want.path, "got": plain, "got_repr": repr(got)[:200],
                        "what": what, "hint": hint})
        return
    if got != want:
        fail(what, f"expected {want}, got {got!r}.", hint)


def _resolve(record, expected, key="path"):
    value = expected[record[key]]
    if record.get("minus") and key == "path":
        value = onp.asarray(value) - onp.asarray(_resolve(record, expected, "minus"))
    return value


def _got_array(got):
    dtype = onp.dtype(got["dtype"])
    if dtype.kind not in "biufc" or not all(isinstance(n, int) and n >= 0 for n in got["shape"]):
        raise ValueError("not an array of numbers")
    values = onp.array(got["values"], dtype=onp.float64)
    if values.ndim != 1 or values.size != int(onp.prod(got["shape"], dtype=onp.int64)):
        raise ValueError("values and shape disagree")
    return values.reshape(got["shape"]).astype(dtype)


def _hint_function(name):
    """A hint function named in a record: only one of the check files'."""
    import importlib
    module_name, _, qualname = str(name).partition(":")  # not "module": the CuPy scan's name
    if not module_name.startswith(__name__.rpartition(".")[0] + ".test_ex") or "." in qualname:
        raise ValueError(f"no hint function {name}")
    return getattr(importlib.import_module(module_name), qualname)


RTOL_MAX, ATOL_MAX = 1e-4, 1e-5  # the loosest tolerances a check uses


def compared(record):
    """The expected output a record compares with (two names for a difference)."""
    return record["path"] + (" - " + record["minus"] if record.get("minus") else "")


def replay(record, expected, fx):
    """In the grader's process: the feedback line of one recorded comparison, replayed
    against the ``expected`` values (``fx``: the full fixture dict, for hint functions);
    None if it passes."""
    STATE["fx"] = fx
    try:
        if record.get("minus") is not None and record["minus"] == record["path"]:
            raise ValueError("a difference of an output with itself")
        want = _resolve(record, expected)
        if record["kind"] == "close":
            hint = _hint_function(record["hint_fn"]) if record.get("hint_fn") else record["hint"]
            rtol, atol = float(record["rtol"]), float(record["atol"])
            if not (0 <= rtol <= RTOL_MAX and 0 <= atol <= ATOL_MAX):
                raise ValueError("a tolerance no check uses")
            close(_got_array(record["got"]), want, str(record["what"]), hint or "",
                  rtol=rtol, atol=atol, dtype=bool(record["dtype"]))
        elif record["kind"] == "same":
            got = record["got"]
            if not (type(got) in (int, float, bool) and got == want):
                fail(str(record["what"]), f"expected {want}, got {str(record['got_repr'])}.",
                     str(record["hint"] or ""))
        else:
            raise ValueError("unknown kind")
    except CheckFailed as e:
        return str(e)
    except Exception:
        return "the grader could not read what this check recorded; it earns no points."
    return None


def close_tree(got, want, what, hint="", **tolerance):
    """Like ``close`` leaf by leaf for nested lists, tuples and dicts (params, gradients);
    each leaf is named, e.g. ``the gradient for params encoder[1].W``."""
    for path, g, w in _leaves(got, want, what, hint):
        close(g, w, f"{what}{path}" if path.startswith("[") else f"{what} {path}".strip(), hint,
              **tolerance)


def _leaves(got, want, what, hint, path=""):
    """(path, got leaf, want leaf) for each leaf of ``want``, checking the structures match
    (a hint function is about the numbers of a leaf, so it is not given here)."""
    here = f"{what} {path}".strip()
    said = "" if callable(hint) else hint
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            fail(here, f"expected a dict with keys {sorted(want)}, got "
                 f"{sorted(got) if isinstance(got, dict) else type(got).__name__}.", said)
        for k in want:
            yield from _leaves(got[k], want[k], what, hint, f"{path}.{k}" if path else str(k))
    elif isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            given = (f"{len(got)} items" if isinstance(got, (list, tuple))
                     else type(got).__name__)
            fail(here, f"expected a {type(want).__name__} of {len(want)} items, got {given}.", said)
        layer = isinstance(want, tuple) and len(want) == 2 and onp.ndim(want[0]) == 2 and onp.ndim(want[1]) == 1  # (W, b)
        for k, (g, w) in enumerate(zip(got, want)):
            yield from _leaves(g, w, what, hint, f"{path}.{'Wb'[k]}" if layer else f"{path}[{k}]")
    else:
        yield path, got, want


def weighted_sum(r, out, what="the output"):
    """sum(r * out): the scalar whose gradient the checks take, once ``out`` (perhaps an
    autograd box) is known to have r's shape."""
    shape = onp.shape(getval(out))
    if shape != onp.shape(r):
        fail(what, f"expected shape {onp.shape(r)}, got shape {shape}.",
             "the output's shape comes first: see the value checks.")
    return anp.sum(r * out)


def copies(*values):
    """Deep copies of the inputs, to check afterwards that the function left them alone."""
    return copy.deepcopy(values)


def unchanged(after, before, names, function_name):
    """Each input must be as it was before the call (no in-place change)."""
    for name, a, b in zip(names, after, before):
        for path, x, y in _leaves(a, b, name, ""):
            leaf = name + ("" if not path else path if path.startswith("[") else "." + path)
            if not onp.array_equal(onp.asarray(x), onp.asarray(y)):
                fail(leaf, f"{function_name}() changed its input {leaf} in place.",
                     "return new arrays and leave the inputs as they were (no `+=`, no "
                     "assignment into an input, no changing a dict you were given).")


def array(value, dtype=None):
    return onp.asarray(value, dtype=dtype)
