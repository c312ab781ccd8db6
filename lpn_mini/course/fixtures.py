"""Reading the graded checks' stored numbers (``makers.py``, instructor's edition only,
writes them).

Each exercise's numbers come in two files per set (``visible``, and ``hidden`` in the
instructor's edition):

- ``fixtures/<set>/SLUG.json``: the **inputs** the checks call the student's function on.
  The grading child (the process that runs the student's code) loads these only; where an
  expected output belongs, they hold a placeholder (``compare.Expected``) with the output's
  place, shape and dtype, never its numbers.
- ``fixtures/expected-<set>/SLUG.json``: the **expected outputs**, one entry per array, by
  place. Only the grader's own process loads them (``load_expected``); it compares what the
  child sent back with them. The grader is told where they are (``expected_folder``), and
  the child is not.

JSON with arrays: an array is {"array": nested lists, "dtype": ...}, a tuple {"tuple": [...]}.
Python writes each float64 as the shortest text that reads back to the same bits, so the
stored numbers are exact.
"""
import fnmatch
import json
import os

import numpy as onp

from .checks.compare import Expected

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
EXPECTED_ENV = "LPN_MINI_EXPECTED"  # where the grader finds expected-<set>/, if not in FOLDER


def encode(value):
    if isinstance(value, Expected):
        return {"expected": value.path, "shape": list(value.shape), "dtype": value.dtype}
    if isinstance(value, (onp.ndarray, onp.generic)):
        return {"array": onp.asarray(value).tolist(), "dtype": str(onp.asarray(value).dtype)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def _decode(obj):
    if "array" in obj and "dtype" in obj:
        return onp.array(obj["array"], dtype=obj["dtype"])
    if "tuple" in obj and len(obj) == 1:
        return tuple(obj["tuple"])
    if set(obj) == {"expected", "shape", "dtype"}:
        return Expected(obj["expected"], tuple(obj["shape"]), obj["dtype"])
    return obj


def _read(path, what):
    try:
        with open(path) as f:
            return json.load(f, object_hook=_decode)
    except FileNotFoundError:
        raise FileNotFoundError(f"no {what} ({path}); the instructor makes them with "
                                "`python -m lpn_mini.course.makers`.") from None


def load(slug, visibility, folder=FOLDER, with_expected=False, expected_folder=None):
    """The stored inputs of one exercise (a dict of arrays, tuples, lists and options),
    each expected output a placeholder; with ``with_expected``, the expected outputs in
    their places (run by hand, and in the grader's own process)."""
    inputs = _read(os.path.join(folder, visibility, f"{slug}.json"),
                   f"{visibility} fixtures for {slug}")
    if not with_expected:
        return inputs
    return fill(inputs, load_expected(slug, visibility, expected_folder))


def expected_folder(folder=None):
    """Where the expected-<set>/ folders are: ``folder``, else $LPN_MINI_EXPECTED, else the
    fixtures folder of this package."""
    return folder or os.environ.get(EXPECTED_ENV) or FOLDER


def load_expected(slug, visibility, folder=None):
    """The expected outputs of one exercise: {place: array or number}."""
    return _read(os.path.join(expected_folder(folder), f"expected-{visibility}", f"{slug}.json"),
                 f"expected {visibility} outputs for {slug}")


def fill(tree, expected):
    """``tree`` with each placeholder replaced by its expected value."""
    if isinstance(tree, Expected):
        return expected[tree.path]
    if isinstance(tree, dict):
        return {k: fill(v, expected) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(fill(v, expected) for v in tree)
    return tree


def _matches(path, patterns):
    return any(len(p.split("/")) == len(path) and all(fnmatch.fnmatchcase(str(c), q)
                                                     for c, q in zip(path, p.split("/")))
               for p in patterns)


def split(data, outputs):
    """(inputs, expected) of a maker's dict: each entry whose place matches one of
    ``outputs`` (e.g. "cases/*/loss") becomes placeholders in the inputs, its leaves go to
    ``expected`` by place."""
    expected = {}

    def hide(value, path):
        if isinstance(value, dict):
            return {k: hide(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(hide(v, path + (i,)) for i, v in enumerate(value))
        place = "/".join(map(str, path))
        expected[place] = value
        return Expected(place, onp.shape(value), str(onp.asarray(value).dtype))

    def walk(value, path):
        if path and _matches(path, outputs):
            return hide(value, path)
        if isinstance(value, dict):
            return {k: walk(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(walk(v, path + (i,)) for i, v in enumerate(value))
        return value

    return walk(data, ()), expected
