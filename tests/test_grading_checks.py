"""The graded checks and their fixtures (lpn_mini/course/checks/, lpn_mini/course/fixtures/)."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lpn_mini.course import fixtures, makers
from lpn_mini.course.checks.compare import CheckFailed, close, close_tree, unchanged
from lpn_mini.course.exercises import EXERCISES
from lpn_mini.course.grader import CHECKS_DIR, check_file

from helpers import assert_agree_to_rounding

ROOT = Path(__file__).resolve().parents[1]


def leaves(tree, path=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(tree, (list, tuple)):
        for k, v in enumerate(tree):
            yield from leaves(v, f"{path}[{k}]")
    else:
        yield path, tree


@pytest.mark.parametrize("visibility", makers.VISIBILITIES)
@pytest.mark.parametrize("slug", [ex.slug for ex in EXERCISES])
def test_committed_fixtures_agree_with_the_library(slug, visibility):
    """Regenerating the fixtures from the library's reference functions gives what is
    committed, to rounding (another machine's kernels may round differently); a changed
    reference solution must come with regenerated fixtures."""
    made = makers.make(slug, visibility)
    stored = fixtures.load(slug, visibility, with_expected=True)
    made_leaves, stored_leaves = list(leaves(made)), list(leaves(stored))
    assert [p for p, _ in made_leaves] == [p for p, _ in stored_leaves], (
        f"the {visibility} fixtures of {slug} have another structure than the library makes: "
        "run `python -m lpn_mini.course.makers`.")
    for (path, want), (_, got) in zip(made_leaves, stored_leaves):
        if isinstance(want, np.ndarray) and want.dtype.kind == "f":
            assert_agree_to_rounding(got, want, f"{visibility}/{slug}{path}", ulps=1000)
        else:
            assert np.array_equal(np.asarray(got), np.asarray(want)), f"{visibility}/{slug}{path}"


@pytest.mark.parametrize("slug", [ex.slug for ex in EXERCISES])
def test_hidden_fixtures_use_other_inputs_than_the_visible(slug):
    visible, hidden = (fixtures.load(slug, v, with_expected=True) for v in ("visible", "hidden"))
    shapes = lambda t: [np.shape(v) for _, v in leaves(t) if isinstance(v, np.ndarray)]
    assert shapes(visible) != shapes(hidden)


def test_every_exercise_has_a_check_file_and_nothing_else_is_collected():
    assert sorted(p.name for p in CHECKS_DIR.glob("test_*.py")) == sorted(
        check_file(ex).name for ex in EXERCISES)


def test_every_exercise_has_its_points_and_its_lesson_carries_half():
    from lpn_mini.course.grader import check_points
    for ex in EXERCISES:
        points = check_points(ex)
        assert abs(sum(points.values()) - 10) < 1e-9, (ex.slug, points)
        assert max(points.values()) >= 5 or ex.slug == "adam_update", (ex.slug, points)
        assert min(points.values()) > 0, (ex.slug, points)


ALLOWED = {"autograd", "numpy", "pytest", "copy", "importlib"}
FROM_GRADING = {"edition": {"EDITION"}, "fixtures": {"load"}, "exercises": {"by_slug"}}


@pytest.mark.parametrize("path", sorted(CHECKS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_checks_never_import_a_function_that_computes_an_answer(path):
    """A check reaches the function under test only through compare.function (the student's
    while grading) and imports nothing of lpn_mini but the fixture loader, the edition and
    the list of exercises: nothing in the checks can compute an answer."""
    for node in ast.walk(ast.parse(path.read_text())):
        names = {a.name for a in node.names} if isinstance(node, (ast.Import, ast.ImportFrom)) else set()
        if isinstance(node, ast.Import):
            assert {n.split(".")[0] for n in names} <= ALLOWED, f"{path.name} imports {names}"
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            assert node.module.split(".")[0] in ALLOWED, f"{path.name} imports from {node.module}"
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            assert node.module == "compare", f"{path.name} imports from .{node.module}"
        elif isinstance(node, ast.ImportFrom):
            allowed = FROM_GRADING.get(node.module) if node.module else {"edition"}
            assert allowed and names <= allowed, f"{path.name} imports {names} from ..{node.module}"


def test_the_reference_passes_every_check_visible_and_hidden():
    """Run by hand in the instructor's edition, the checks test the library's own functions."""
    out = subprocess.run([sys.executable, "-m", "pytest", str(CHECKS_DIR), "-q", "-p",
                          "no:cacheprovider", "--rootdir", str(CHECKS_DIR)], capture_output=True,
                         text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stdout[-3000:]
    collected = subprocess.run([sys.executable, "-m", "pytest", str(CHECKS_DIR), "-q",
                                "--collect-only", "-p", "no:cacheprovider", "--rootdir",
                                str(CHECKS_DIR)], capture_output=True, text=True).stdout
    ids = [line for line in collected.splitlines() if "::" in line]
    assert sum("[visible]" in i for i in ids) == sum("[hidden]" in i for i in ids) == len(ids) / 2


def test_the_fixtures_and_checks_are_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"lpn_mini.course.checks"' in text and '"fixtures/*/*.json"' in text


def feedback(check, *args, **kwargs):
    with pytest.raises(CheckFailed) as failed:
        check(*args, **kwargs)
    return str(failed.value)


def test_a_failed_comparison_is_one_line_with_digits_enough_to_see_the_difference():
    assert feedback(close, np.array([0.5, 0.9808221]), np.array([0.5, 0.9808224]), "p",
                    "a hint.") == ("p: expected 0.9808224, got 0.9808221 at [1] (relative error "
                                   "3.1e-07; 1 of 2 entries are off). Hint: a hint.")
    assert feedback(close, np.float64(2.0), np.float64(1.0), "KL") == (
        "KL: expected 1, got 2 (relative error 1.0e+00).")
    assert feedback(close, None, np.zeros(3), "z", "h.") == (
        "z: the function returned None. Hint: is its `return` missing?")
    assert feedback(close, np.zeros(3), np.zeros((2, 3)), "z", "h.") == (
        "z: expected shape (2, 3), got shape (3,). Hint: h.")
    assert feedback(close, np.zeros(2), np.zeros(2, np.float32), "z").startswith(
        "z: expected float32, got float64")
    assert feedback(close, np.array([np.nan]), np.array([1.0]), "z") == (
        "z: expected 1, got nan at [0] (relative error inf).")
    got = {"encoder": [(np.zeros((2, 2)), np.ones(2))]}
    want = {"encoder": [(np.zeros((2, 2)), np.zeros(2))]}
    assert feedback(close_tree, got, want, "the gradient for params").startswith(
        "the gradient for params encoder[0].b: expected 0, got 1 at [0]")
    state = {"t": 1}
    assert feedback(unchanged, (state,), ({"t": 0},), ("state",), "adam_update").startswith(
        "state.t: adam_update() changed its input state.t in place. Hint: ")


@pytest.mark.parametrize("visibility", makers.VISIBILITIES)
@pytest.mark.parametrize("slug", [ex.slug for ex in EXERCISES])
def test_the_inputs_files_hold_no_expected_output(slug, visibility):
    """What the grading child loads holds a placeholder (no numbers) wherever the maker put
    an expected output; the numbers are in expected-<set>/ only."""
    from lpn_mini.course.checks.compare import Expected
    inputs, expected = fixtures.load(slug, visibility), fixtures.load_expected(slug, visibility)
    placeholders = [p for p, v in leaves(inputs) if isinstance(v, Expected)]
    stored = {k for k in expected if not k.startswith("__")}
    assert placeholders and len(placeholders) == len(stored)
    made_inputs, _ = fixtures.split(makers.make(slug, visibility), makers.OUTPUTS[slug])
    assert [p for p, v in leaves(made_inputs) if isinstance(v, Expected)] == placeholders
