"""What a student meets when grading: an extra that installs what grading needs and no
more, and one line per exercise not started yet (instead of one per failed check)."""
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from lpn_mini.course.grader import ExerciseResult, not_started, print_results

ROOT = Path(__file__).resolve().parents[1]


def test_the_grade_extra_is_pytest_without_dask_and_test_includes_it():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert extras["grade"] == ["pytest>=7"]
    assert "lpn-mini[grade]" in extras["test"] and "lpn-mini[cluster]" in extras["test"]


def _result(messages, passed=0):
    tests = [{"test": f"test_{i}[visible]", "passed": False, "visibility": "visible",
              "message": m} for i, m in enumerate(messages)]
    tests += [{"test": "test_ok[visible]", "passed": True, "visibility": "visible",
               "message": ""}] * passed
    return ExerciseResult(4, "reparameterize", "The reparameterization trick", 0.0, 10,
                          passed=passed, total=len(tests), tests=tests,
                          feedback=[f"{t['test']}: {t['message']}" for t in tests
                                    if not t["passed"]])


STUB = ("ex04_reparameterize.py, line 22: NotImplementedError: reparameterize is not "
        "implemented yet: replace this line with your code")


def test_an_exercise_not_started_is_one_line():
    lines = []
    print_results([_result([STUB] * 10)], lines.append)
    assert lines == [
        "TODO  ex04 The reparameterization trick                       0.0 / 10   not started "
        "(reparameterize still raises NotImplementedError)",
        "total: 0.0 / 10"]


def test_an_exercise_begun_still_lists_its_failed_checks():
    assert not_started(_result([STUB] * 9, passed=1)) is None
    assert not_started(_result([STUB, "AssertionError: wrong shape"])) is None
    lines = []
    print_results([_result([STUB, "AssertionError: wrong shape"])], lines.append)
    assert re.match(r"FAIL  ex04 .* \(0/2 checks\)", lines[0])
    assert lines[1:3] == [f"        - test_0[visible]: {STUB}",
                          "        - test_1[visible]: AssertionError: wrong shape"]
