"""A pytest plugin that points the library's own tests at a student's file.

Loaded only by the grader (``pytest -p lpn_mini.grading.plugin --exercise SLUG
--submission FILE --grading-report OUT``). It imports the student's file, puts the
student's functions in place of the library's everywhere the library refers to them, keeps
only the tests marked ``@pytest.mark.exercise(SLUG)``, and writes one line of feedback per
test to a JSON report. Without ``--exercise`` it does nothing.
"""
import importlib
import importlib.util
import json
import sys
import traceback

import pytest

from .exercises import by_slug

_state = {"results": [], "report": None}


def pytest_addoption(parser):
    group = parser.getgroup("lpn-mini grading")
    group.addoption("--exercise", help="grade only the tests of this exercise")
    group.addoption("--submission", help="the student's file for that exercise")
    group.addoption("--grading-report", help="where to write the JSON report")


def _write(report):
    with open(_state["report"], "w") as f:
        json.dump(report, f)


def _swap_in(student, module, name):
    """Make every ``lpn_mini`` reference to the library's ``module.name`` point at ``student``."""
    original = getattr(importlib.import_module(module), name)
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("lpn_mini"):
            for attr, value in list(vars(mod).items()):
                if value is original:
                    setattr(mod, attr, student)


def pytest_configure(config):
    slug = config.getoption("exercise", None)
    if not slug:
        return
    _state["report"] = config.getoption("grading_report")
    exercise = by_slug(slug)
    import lpn_mini  # noqa: F401  (load the whole library before swapping)
    for mod in ("cli", "evaluation", "checkpoint", "config", "plotting"):
        importlib.import_module(f"lpn_mini.{mod}")
    path = config.getoption("submission")
    try:
        spec = importlib.util.spec_from_file_location(f"submission_{slug}", path)
        student = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(student)
    except Exception as e:  # a student's syntax error must cost points, not crash the grader
        line = traceback.extract_tb(e.__traceback__)[-1].lineno if e.__traceback__ else "?"
        detail = f"line {e.lineno}" if isinstance(e, SyntaxError) else f"line {line}"
        _write({"import_error": f"{path} could not be imported ({type(e).__name__} at {detail}: {e})"})
        pytest.exit("submission failed to import", returncode=3)
    for module, name in exercise.functions:
        if not callable(getattr(student, name, None)):
            _write({"import_error": f"{path} defines no function {name}(); keep the name "
                                    "and the signature of the template."})
            pytest.exit("function missing", returncode=3)
        _swap_in(getattr(student, name), module, name)


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
    if isinstance(exc, AssertionError) and str(exc).strip():
        return str(exc).strip().splitlines()[0]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _state["report"] is None:
        return
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        message = _one_line(call.excinfo.value) if call.excinfo else ""
        _state["results"].append({"test": item.name, "passed": report.passed, "message": message})


def pytest_sessionfinish(session, exitstatus):
    if _state["report"] is not None:
        _write({"tests": _state["results"]})
