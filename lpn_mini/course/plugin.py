"""A pytest plugin that points the graded checks at a student's file.

Loaded only by the grader (``pytest -p lpn_mini.course.plugin CHECK_FILE --exercise SLUG
--submission FILE --grading-fd FD --edition EDITION``), in a process of its own that runs
the student's code, on a copy of the library made for this exercise (``--library``: its
answer stubbed, no expected outputs; ``editions.copy_for_grading``), and refuses to go on if
it imported another. It imports the student's file, makes the library's own functions for
the exercise raise (so that the student's code cannot call them), puts the student's
functions in place of the library's everywhere the library refers to them, and sends, per
check, its outcome here and what it recorded (``compare.RECORDS``: what the student's
function gave where the check compares with an expected output) back to the grader over
the pipe FD, each message led by the token the grader wrote on stdin. This process never
has the expected outputs (its fixtures are the inputs, with placeholders), and never
writes a report or a score: the grader checks the token, compares what came back with the
expected outputs it alone loads, and writes them itself. Without ``--exercise`` it does
nothing.

In the student edition the library's solution bodies are stubs, so the functions of the
*other* exercises that this one relies on come from the student's other files in the same
folder; each check reports which of them it called, so that the grader can say when a
failure comes from an earlier exercise.
"""
import importlib
import importlib.util
import json
import os
import re
import resource
import sys
import traceback

import pytest

from .checks.compare import RECORDS, CheckFailed
from .exercises import EXERCISES, by_slug

_state = {"results": [], "send": None, "used": set(), "files": set()}

UNAVAILABLE = "the reference {name}() is not available while grading: write it yourself"


def pytest_addoption(parser):
    group = parser.getgroup("lpn-mini grading")
    group.addoption("--exercise", help="grade only the tests of this exercise")
    group.addoption("--submission", help="the student's file for that exercise")
    group.addoption("--grading-fd", type=int, help="the pipe the results go back to the grader on")
    group.addoption("--edition", choices=("instructor", "student"),
                    help="student: the other exercises' functions come from the student's files")
    group.addoption("--library", help="the folder of the library copy this process must import")


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


def _make_unavailable(function, name, message=None):
    """Make the library's ``function`` raise RuntimeError(``message``, by default that the
    reference is not available), wherever it is referred to, even by a name the student's
    file imported: its code object is replaced by one that raises. A decorated function
    (``checked_by``, an autograd primitive) has its innermost function replaced."""
    target = function
    while True:  # functools.wraps keeps the inner function in __wrapped__, a primitive in .fun
        inner = getattr(target, "__wrapped__", None) or getattr(target, "fun", None)
        if inner is None or inner is target:
            break
        target = inner
    if getattr(target, "__code__", None) is None or target.__code__.co_freevars:
        return
    namespace = {}
    message = message or UNAVAILABLE.format(name=name)
    exec(f"def {name}(*args, **kwargs):\n    raise RuntimeError({message!r})\n", namespace)
    target.__code__ = namespace[name].__code__


def _swap_in(student, original, into_student_files=True):
    """Make every reference to the library's ``original`` in ``lpn_mini`` (and in the
    student's files, unless told not to) point at ``student``."""
    where = ("lpn_mini", "submission_") if into_student_files else ("lpn_mini",)
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith(where):
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


def where(exc):
    """``ex04_reparameterize.py, line 18: `` for the innermost line of the student's own
    files in ``exc``'s traceback (or its SyntaxError's line); empty if there is none."""
    if isinstance(exc, SyntaxError) and exc.filename in _state["files"]:
        return f"{os.path.basename(exc.filename)}, line {exc.lineno}: "
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename in _state["files"]:
            return f"{os.path.basename(frame.filename)}, line {frame.lineno}: "
    return ""


def _import(path, module_name):
    _state["files"].add(os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # so that _swap_in reaches its globals
    spec.loader.exec_module(module)
    return module


def _recorded(function, name):
    """``function``, noting each call in the current check's list of functions used."""
    def used(*args, **kwargs):
        _state["used"].add(name)
        return function(*args, **kwargs)
    return used


def _use_own_earlier_work(exercise, folder):
    """Student edition: the functions of every other exercise come from the student's own
    file for it in ``folder`` where it defines them (else the library's stub stays), each
    recorded when called."""
    swaps = []
    for other in EXERCISES:
        if other is exercise:
            continue
        module = None
        path = os.path.join(folder, other.filename)
        if os.path.exists(path):
            try:
                module = _import(path, f"submission_{other.slug}")
            except BaseException:  # its own grading reports it; here its stub stays
                module = None
        for mod, name in other.functions:
            original = getattr(importlib.import_module(mod), name)
            own = getattr(module, name, None)
            if not (callable(own) and _defined_here(own, f"submission_{other.slug}", path)):
                own = original
            swaps.append((_recorded(own, name), original))
    for recorded, original in swaps:
        _swap_in(recorded, original)


def pytest_configure(config):
    slug = config.getoption("exercise", None)
    if not slug:
        return
    _state["send"] = _sender(config.getoption("grading_fd"), _read_token())
    exercise = by_slug(slug)
    import lpn_mini  # load the whole library before swapping
    library = config.getoption("library", None)
    if library and not os.path.abspath(lpn_mini.__file__).startswith(
            os.path.join(os.path.abspath(library), "")):
        # The copy made for this exercise (its answer stubbed) was not the one imported:
        # the grader's set-up is broken, and the student's code must not run.
        _refuse(f"the grader imported lpn_mini from {lpn_mini.__file__}, not from its copy "
                f"{library}; this is a fault of the grader, not of the submission: tell your "
                "instructor.", "wrong library")
    for mod in ("cli", "evaluation", "checkpoint", "config"):  # (plotting uses no exercise)
        importlib.import_module(f"lpn_mini.{mod}")
    originals = [getattr(importlib.import_module(module), name)
                 for module, name in exercise.functions]
    for original, (_, name) in zip(originals, exercise.functions):
        _make_unavailable(original, name)
    for module, name in exercise.unavailable:  # what would do the exercise for the student
        _make_unavailable(getattr(importlib.import_module(module), name), name,
                          exercise.unavailable_why.format(name=name))
    path = os.path.abspath(config.getoption("submission"))
    module_name = f"submission_{slug}"
    try:
        student = _import(path, module_name)
    except MemoryError:
        _refuse(f"{path} could not be imported: {memory_line()}", "out of memory")
    except BaseException as e:  # a student's error must cost points, not crash the grader
        _refuse(f"{path} could not be imported: {where(e)}{_exception_line(e)}",
                "submission failed to import")
    for original, (module, name) in zip(originals, exercise.functions):
        function = getattr(student, name, None)
        if not callable(function):
            _refuse(f"{path} defines no function {name}(); keep the name and the signature "
                    "of the template.", "function missing")
        if not _defined_here(function, module_name, path):
            origin = getattr(function, "__module__", None) or "another module"
            where_from = ("a decorator or an assignment replaced it" if origin == module_name
                          else f"it comes from {origin}")
            _refuse(f"{name}() in {path} is not defined in this file ({where_from}): only "
                    f"functions the file defines itself, with `def {name}(...)`, earn points.",
                    "function not defined in the submission")
    if config.getoption("edition", None) == "student":
        _use_own_earlier_work(exercise, os.path.dirname(path))
    for original, (module, name) in zip(originals, exercise.functions):
        # Not into the student's files: a name there bound to the reference stays the
        # reference, which raises (it must not turn into a call of the student's own function).
        _swap_in(getattr(student, name), original, into_student_files=False)


EXCEPTION_CHARS = 300  # of an exception's message (autograd's can run to pages)


def _exception_line(exc):
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > EXCEPTION_CHARS:
        first = first[:EXCEPTION_CHARS].rstrip() + " [...]"
    return f"{type(exc).__name__}: {first}".rstrip(": ")


# Autograd's own errors for two habits of plain NumPy code, each as what happened and what
# to write instead (its raw message names ArrayBox, which the student never wrote).
ASSIGNED = ("assignment into an array that autograd is differentiating (a[...] = ..., or a "
            "plain NumPy array filled with a traced value): autograd cannot follow it. Hint: "
            "build a new array from whole-array autograd.numpy operations instead (arithmetic, "
            "np.where, np.concatenate, np.stack), and leave the inputs as they are.")
CUT_OFF = ("np.asarray or np.array of an array that autograd is differentiating: it cuts the "
           "array off from autograd, which cannot differentiate through it. Hint: use the "
           "array as it is (it already is an array) with autograd.numpy operations.")


def _traced(exc):
    """Whether ``exc`` arose while autograd was tracing: a frame of its traceback holds one
    of autograd's boxes (or the message names one)."""
    from autograd.tracer import Box
    if "ArrayBox" in str(exc):
        return True
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        try:
            if any(isinstance(v, Box) for v in frame.f_locals.values()):
                return True
        except Exception:  # a frame whose locals cannot be read
            continue
    return False


def autograd_hint(exc):
    """The line for autograd's raw error ``exc`` about an in-place assignment into a traced
    array or a NumPy conversion of one; None for any other exception."""
    text = str(exc)
    if isinstance(exc, (TypeError, AttributeError)) and "ArrayBox" in text and (
            "item assignment" in text or "__setitem__" in text or "__iadd__" in text):
        return ASSIGNED
    if isinstance(exc, NotImplementedError) and re.match(r"VJP of (asarray|array) wrt", text):
        return CUT_OFF
    if isinstance(exc, ValueError) and "setting an array element with a sequence" in text \
            and _traced(exc):
        return ASSIGNED if _assigned(exc) else CUT_OFF
    return None


def _assigned(exc):
    """Whether the student's line that raised ``exc`` assigns into an array (``a[...] =``)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename in _state["files"]:
            return bool(re.search(r"\]\s*[-+*/]?=(?!=)", frame.line or ""))
    return False


def _one_line(exc):
    """One line a student can act on: a check's own feedback line, or the exception with
    the line of the student's file it came from (autograd's raw errors about assignment
    into a traced array or a conversion of one, in words the student can act on)."""
    if isinstance(exc, CheckFailed):
        return str(exc)
    if isinstance(exc, MemoryError):
        return memory_line()
    hint = autograd_hint(exc)
    if hint:
        return where(exc) + hint
    return where(exc) + _exception_line(exc)


def _visibility(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("visibility", "visible") if callspec else "visible"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    if call.when == "setup":
        _state["used"] = set()
        del RECORDS[:]
    outcome = yield
    if _state["send"] is None:
        return
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        message = _one_line(call.excinfo.value) if call.excinfo else ""
        _state["results"].append({"test": item.name, "passed": report.passed, "message": message,
                                  "visibility": _visibility(item),
                                  "uses": sorted(_state["used"]), "records": list(RECORDS)})


def pytest_sessionfinish(session, exitstatus):
    if _state["send"] is not None:
        _state["send"]({"tests": _state["results"]})
