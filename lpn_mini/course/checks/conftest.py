"""Runs every check once per fixture set: ``[visible]``, and ``[hidden]`` in the
instructor's edition. The grader passes ``--edition``; run by hand, edition.py decides."""
import pytest

from .. import edition
from ..fixtures import load
from .compare import STATE


def visibilities(config):
    which = config.getoption("edition", None) or edition.EDITION
    return ("visible",) if which == "student" else ("visible", "hidden")


def pytest_generate_tests(metafunc):
    if "visibility" in metafunc.fixturenames:
        metafunc.parametrize("visibility", visibilities(metafunc.config))


@pytest.fixture
def fx(visibility, request):
    """The stored numbers of this module's exercise (its ``SLUG``) for one visibility: while
    grading (the plugin's ``--exercise``), the inputs only, each expected output a
    placeholder; run by hand, with the expected outputs."""
    grading = bool(request.config.getoption("exercise", None))
    data = load(request.module.SLUG, visibility, with_expected=not grading)
    STATE["fx"] = data
    return data


def pytest_configure(config):
    # With stop_gradient=True a step is a constant for autograd by design.
    config.addinivalue_line("filterwarnings", "ignore:Output seems independent of input")
