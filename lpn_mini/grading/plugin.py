"""A pytest plugin that points the library's own tests at a student's file.

Loaded only by the grader (``pytest -p lpn_mini.grading.plugin --exercise SLUG
--submission FILE --grading-fd FD``), in a process of its own that runs the student's code.
It imports the student's file, makes the library's own functions for the exercise raise
(so that the student's code cannot call them), puts the student's functions in place of the
library's everywhere the library refers to them, keeps only the tests marked
``@pytest.mark.exercise(SLUG)``, and sends one line of feedback per test back to the grader
over the pipe FD, each message led by the token the grader wrote on stdin. This process
never writes a report or a score: the grader checks the token and writes them itself.
Without ``--exercise`` it does nothing.
"""
import importlib
import importlib.util
import json
import os
import resource
import sys
import traceback

import pytest

from .exercises import by_slug

_state = {"results": [], "send": None}

UNAVAILABLE = "the reference {name}() is not available while grading: write it yourself"


def pytest_addoption(parser):
    group = parser.getgroup("lpn-mini grading")
    group.addoption("--exercise", help="grade only the tests of this exercise")
    group.addoption("--submission", help="the student's file for that exercise")
    group.addoption("--grading-fd", type=int, help="the pipe the results go back to the grader on")


def _sender(fd, token):
    """A function that sends one JSON message to the grader, led by the run's token."""
    def send(message):
        data = f"{token} {json.dumps(message)}\n".encode()
        while data:
            data = data[os.write(fd, data):]
    return send


def _read_token():
    """The grader writes one line on stdin, the run's token; stdin then reads as empty."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 64)
        if not chunk:
            break
        line += chunk
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return line.decode().strip()


def memory_line():
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    size = "" if limit == resource.RLIM_INFINITY else f"the {limit / 2**20:.0f} MiB of "
    return (f"memory limit: the code ran out of {size or 'the '}memory the grader gives each "
            "exercise; does it build an array far larger than the inputs?")


def _make_unavailable(function, name):
    """Make the library's ``function`` raise, wherever it is referred to, even by a name the
    student's file imported: its code object is replaced by one that raises. A decorated
    function (``checked_by``, an autograd primitive) has its innermost function replaced."""
    target = function
    while True:  # functools.wraps keeps the inner function in __wrapped__, a primitive in .fun
        inner = getattr(target, "__wrapped__", None) or getattr(target, "fun", None)
        if inner is None or inner is target:
            break
        target = inner
    if getattr(target, "__code__", None) is None or target.__code__.co_freevars:
        return
    namespace = {}
    exec(f"def {name}(*args, **kwargs):\n    raise RuntimeError({UNAVAILABLE.format(name=name)!r})\n",
         namespace)
    target.__code__ = namespace[name].__code__


def _swap_in(student, original):
    """Make every ``lpn_mini`` reference to the library's ``original`` point at ``student``."""
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("lpn_mini"):
            for attr, value in list(vars(mod).items()):
                if value is original:
                    setattr(mod, attr, student)


def _defined_here(function, module_name, path):
    """Whether ``function`` is a function written in the student's file itself."""
    code = getattr(function, "__code__", None)
    if code is None or getattr(function, "__module__", None) != module_name:
        return False
    try:
        return os.path.samefile(code.co_filename, path)
    except OSError:
        return False


def _refuse(message, why):
    _state["send"]({"import_error": message})
    pytest.exit(why, returncode=3)


def pytest_configure(config):
    slug = config.getoption("exercise", None)
    if not slug:
        return
    _state["send"] = _sender(config.getoption("grading_fd"), _read_token())
    exercise = by_slug(slug)
    import lpn_mini  # noqa: F401  (load the whole library before swapping)
    for mod in ("cli", "evaluation", "checkpoint", "config", "plotting"):
        importlib.import_module(f"lpn_mini.{mod}")
    originals = [getattr(importlib.import_module(module), name)
                 for module, name in exercise.functions]
    for original, (_, name) in zip(originals, exercise.functions):
        _make_unavailable(original, name)
    path = config.getoption("submission")
    module_name = f"submission_{slug}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        student = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(student)
    except MemoryError:
        _refuse(f"{path} could not be imported: {memory_line()}", "out of memory")
    except Exception as e:  # a student's syntax error must cost points, not crash the grader
        line = traceback.extract_tb(e.__traceback__)[-1].lineno if e.__traceback__ else "?"
        detail = f"line {e.lineno}" if isinstance(e, SyntaxError) else f"line {line}"
        _refuse(f"{path} could not be imported ({type(e).__name__} at {detail}: {e})",
                "submission failed to import")
    for original, (module, name) in zip(originals, exercise.functions):
        function = getattr(student, name, None)
        if not callable(function):
            _refuse(f"{path} defines no function {name}(); keep the name and the signature "
                    "of the template.", "function missing")
        if not _defined_here(function, module_name, path):
            origin = getattr(function, "__module__", None) or "another module"
            where = ("a decorator or an assignment replaced it" if origin == module_name
                     else f"it comes from {origin}")
            _refuse(f"{name}() in {path} is not defined in this file ({where}): only functions "
                    f"the file defines itself, with `def {name}(...)`, earn points.",
                    "function not defined in the submission")
        _swap_in(function, original)


def pytest_collection_modifyitems(config, items):
    slug = config.getoption("exercise", None)
    if not slug:
        return
    keep, drop = [], []
    for item in items:
        marks = [m.args[0] for m in item.iter_markers("exercise")]
        (keep if slug in marks else drop).append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


def _one_line(exc):
    """One line a student can act on: the assertion's own message, or the exception."""
    if isinstance(exc, MemoryError):
        return memory_line()
    if isinstance(exc, AssertionError) and str(exc).strip():
        return str(exc).strip().splitlines()[0]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _state["send"] is None:
        return
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        message = _one_line(call.excinfo.value) if call.excinfo else ""
        _state["results"].append({"test": item.name, "passed": report.passed, "message": message})


def pytest_sessionfinish(session, exitstatus):
    if _state["send"] is not None:
        _state["send"]({"tests": _state["results"]})
