"""The autograder: the library's own tests, run against a student's exercise files.

Each exercise is graded in its own ``pytest`` process with a time limit, so that a
student's exception, infinite loop or wrong shape costs that exercise's points and never
the grader. Points are shared equally among the exercise's tests.
"""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .exercises import EXERCISES, POINTS, by_slug

TESTS_DIR = Path(__file__).resolve().parents[2] / "tests"


@dataclass
class ExerciseResult:
    number: int
    slug: str
    title: str
    points: float
    max_points: float
    passed: int = 0
    total: int = 0
    feedback: list = field(default_factory=list)  # one line per failed test


def _exercise_of(path):
    name = Path(path).name
    for ex in EXERCISES:
        if ex.filename == name:
            return ex
    raise ValueError(f"{path} is not an exercise file; names are like {EXERCISES[0].filename} "
                     f"(see exercises/).")


def grade_file(exercise, path, timeout=120):
    """Grade one student file for one exercise."""
    result = ExerciseResult(exercise.number, exercise.slug, exercise.title, 0.0, POINTS)
    if not os.path.exists(path):
        result.feedback.append(f"no file {path}: nothing to grade.")
        return result
    if not TESTS_DIR.is_dir():
        raise FileNotFoundError(f"the grader runs the library's tests but {TESTS_DIR} is missing; "
                                "install lpn-mini from a checkout with `pip install -e .`.")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [sys.executable, "-m", "pytest", str(TESTS_DIR), "-q", "-p", "no:cacheprovider",
               "-p", "lpn_mini.grading.plugin", "--exercise", exercise.slug,
               "--submission", str(Path(path).resolve()), "--grading-report", report]
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            result.feedback.append(f"timed out after {timeout} s: is there an infinite loop?")
            return result
        if not os.path.exists(report):
            result.feedback.append("the tests could not run on this file (the grader got no "
                                   "report); run it with python to see the error.")
            return result
        with open(report) as f:
            data = json.load(f)
    if "import_error" in data:
        result.feedback.append(data["import_error"])
        return result
    tests = data["tests"]
    result.total = len(tests)
    result.passed = sum(t["passed"] for t in tests)
    result.points = round(POINTS * result.passed / max(result.total, 1), 2)
    result.feedback = [f"{t['test']}: {t['message']}" for t in tests if not t["passed"]]
    return result


def grade_submission(path, timeout=120, only=None):
    """Grade a folder of exercise files (or one file). Returns a list of ExerciseResult."""
    path = Path(path)
    if path.is_file():
        return [grade_file(_exercise_of(path), path, timeout)]
    exercises = [by_slug(s) for s in only] if only else EXERCISES
    return [grade_file(ex, path / ex.filename, timeout) for ex in exercises]


def is_submission(folder):
    return any((Path(folder) / ex.filename).exists() for ex in EXERCISES)


def gradescope_json(results):
    """The results in the shape Gradescope's autograder reads from results.json."""
    return {"score": sum(r.points for r in results),
            "max_score": sum(r.max_points for r in results),
            "tests": [{"name": f"Exercise {r.number:02d}: {r.title}", "score": r.points,
                       "max_score": r.max_points, "output": "\n".join(r.feedback) or "all tests pass"}
                      for r in results]}


def print_results(results, echo=print):
    for r in results:
        status = "PASS" if r.passed == r.total and r.total else "FAIL"
        echo(f"{status}  ex{r.number:02d} {r.title:<48} {r.points:5.1f} / {r.max_points:g}"
             + (f"   ({r.passed}/{r.total} tests)" if r.total else ""))
        for line in r.feedback:
            echo(f"        - {line}")
    total = sum(r.points for r in results)
    echo(f"total: {total:.1f} / {sum(r.max_points for r in results):g}")


def grade(path, json_path=None, timeout=120, echo=print):
    """``lpn-mini grade``: one submission (a folder of exercise files, or one file) or a
    folder of submissions (one sub-folder per student), with a summary table for several."""
    if not timeout > 0:  # also refuses NaN
        raise ValueError(f"the timeout must be a positive number of seconds per exercise, got "
                         f"{timeout}; e.g. --timeout 120.")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; pass a folder of exercise files, one "
                                "exercise file, or a folder of student folders.")
    if path.is_file() or is_submission(path):
        results = grade_submission(path, timeout)
        print_results(results, echo)
        out = json_path or (path.parent if path.is_file() else path) / "results.json"
        with open(out, "w") as f:
            json.dump(gradescope_json(results), f, indent=2)
        echo(f"wrote {out}")
        return {str(path): results}
    students = sorted(p for p in path.iterdir() if p.is_dir() and is_submission(p))
    if not students:
        raise ValueError(f"{path} holds no exercise files (ex01_mlp_forward.py, ...) and no "
                         "student folders that do.")
    everything = {}
    for student in students:
        echo(f"== {student.name}")
        results = grade_submission(student, timeout)
        print_results(results, echo)
        with open(student / "results.json", "w") as f:
            json.dump(gradescope_json(results), f, indent=2)
        everything[student.name] = results
    echo("\n| student | " + " | ".join(f"ex{e.number:02d}" for e in EXERCISES) + " | total |")
    echo("|---|" + "---|" * (len(EXERCISES) + 1))
    for name, results in everything.items():
        echo(f"| {name} | " + " | ".join(f"{r.points:g}" for r in results)
             + f" | {sum(r.points for r in results):g} |")
    summary = json_path or path / "summary.json"
    with open(summary, "w") as f:
        json.dump({k: [asdict(r) for r in v] for k, v in everything.items()}, f, indent=2)
    echo(f"wrote {summary} and a results.json in each student folder")
    return everything
