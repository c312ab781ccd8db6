"""Runs every check once per fixture set: ``[visible]``, and ``[hidden]`` in the
instructor's edition. The grader passes ``--edition``; run by hand, edition.py decides."""
import pytest

from .. import edition
from ..fixtures import load


def visibilities(config):
    which = config.getoption("edition", None) or edition.EDITION
    return ("visible",) if which == "student" else ("visible", "hidden")


def pytest_generate_tests(metafunc):
    if "visibility" in metafunc.fixturenames:
        metafunc.parametrize("visibility", visibilities(metafunc.config))


@pytest.fixture
def fx(visibility, request):
    """The stored numbers of this module's exercise (its ``SLUG``) for one visibility."""
    return load(request.module.SLUG, visibility)


def pytest_configure(config):
    # With stop_gradient=True a step is a constant for autograd by design.
    config.addinivalue_line("filterwarnings", "ignore:Output seems independent of input")
