"""The exercises and the autograder: generated from the library, graded by its tests."""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lpn_mini.cli import main
from lpn_mini.grading import grader
from lpn_mini.grading.exercises import EXERCISES, MANIFEST, build, by_slug, render
from lpn_mini.grading.grader import grade, grade_file

ROOT = Path(__file__).resolve().parents[1]

# Plausible wrong solutions, at least one per exercise: each is the reference solution with
# one edit (text to find, its replacement), and the words its feedback must contain. They
# are built from the library at test time, so they cannot drift from it: when the library's
# solution changes so that an edit no longer applies, the test says so.
MISTAKES = {
    "mlp_forward: ReLU after the last layer": (
        "mlp_forward", "        if k > 0:\n            h = relu(h)\n        h = dense(h, W, b)\n",
        "        h = relu(dense(h, W, b))\n", "none after the last"),
    "mlp_backward: ReLU mask missing": (
        "mlp_backward", "            d = d * (pre[k - 1] > 0)", "            d = d", "ReLU mask"),
    "reparameterize: exp(logvar) used as the standard deviation": (
        "reparameterize", "np.exp(0.5 * logvar)", "np.exp(logvar)", "exp(0.5 * logvar)"),
    "kl_divergence: sign flipped": (
        "kl_divergence", "return 0.5 * np.sum(", "return -0.5 * np.sum(", "KL came out negative"),
    "log_likelihood: softmax without the maximum subtracted": (
        "log_likelihood", "    m = max_colours(logits)", "    m = 0.0  #",
        "subtract the maximum"),
    "leave_one_out_mean: own latent included": (
        "leave_one_out_mean", "return (total - z) / (N - 1)", "return total / N", "leave pair"),
    "latent_ascent_step: gradient descent instead of ascent": (
        "latent_ascent_step", "return z + alpha * dz", "return z - alpha * dz", "gradient *ascent*"),
    "latent_ascent_step: stop-gradient missing": (
        "latent_ascent_step", "    if stop_gradient:\n", "    if False:\n",
        "stop_gradient=True the step still depends"),
    "training_loss: each pair decoded from its own latent": (
        "training_loss", "    z_prime = leave_one_out_mean(z)", "    z_prime = z",
        "leave-one-out mean of the other pairs"),
    "adam_update: no bias correction": (
        "adam_update", "    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t\n", "    c1, c2 = 1.0, 1.0\n",
        "bias corrections"),
    "infer_latent: eps ignored (always starts from mu)": (
        "infer_latent", "    z = mu if eps is None else reparameterize(mu, logvar, eps)",
        "    z = mu", "sample z_i = mu_i + eps_i * sigma_i"),
}


def wrong_solution(mistake, folder):
    """Write the reference solution with ``mistake`` applied; return (exercise, path)."""
    slug, find, replace, _ = MISTAKES[mistake]
    exercise = by_slug(slug)
    text = render(exercise, solutions=True)
    assert text.count(find) == 1, f"the mistake {mistake!r} no longer applies to the library's solution"
    path = folder / exercise.filename
    path.write_text(text.replace(find, replace))
    return exercise, path


def test_committed_exercises_match_the_generator(tmp_path):
    build(tmp_path)
    for name in [ex.filename for ex in EXERCISES] + [MANIFEST]:
        committed = (ROOT / "exercises" / name).read_text()
        assert committed == (tmp_path / name).read_text(), (
            f"exercises/{name} differs from the library; run `lpn-mini exercises build`.")


def test_build_never_overwrites_a_students_edits(tmp_path, capsys):
    build(tmp_path)
    build(tmp_path)  # what it wrote itself, unchanged: fine
    kl = tmp_path / by_slug("kl_divergence").filename
    ex9 = tmp_path / by_slug("adam_update").filename
    kl.write_text(kl.read_text().replace("# YOUR CODE HERE", "return 0  # my work"))
    old = ex9.read_text() + "# as an older library generated it\n"
    ex9.write_text(old)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["files"][ex9.name] = hashlib.sha256(old.encode()).hexdigest()
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    assert main(["exercises", "build", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"lpn-mini exercises: error: {kl} has been edited since `lpn-mini exercises "
                   "build` wrote it (a student's work?); nothing was written. Move the edited "
                   "files away, or pass --force to overwrite them.")
    assert "my work" in kl.read_text() and ex9.read_text() == old  # nothing was written
    kl.unlink()
    build(tmp_path)  # ex09 is as build wrote it last: it is regenerated
    assert ex9.read_text() == render(by_slug("adam_update"))
    kl.write_text("my work")
    assert main(["exercises", "build", "--out", str(tmp_path), "--force"]) == 0
    assert kl.read_text() == render(by_slug("kl_divergence"))


def test_solutions_never_go_into_the_student_files_unless_forced(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercises", "build"]) == 0
    stubs = {p.name: p.read_text() for p in (tmp_path / "exercises").glob("ex*.py")}
    assert main(["exercises", "build", "--solutions"]) == 0
    assert (tmp_path / "build" / "solutions" / by_slug("kl_divergence").filename).exists()
    assert main(["exercises", "build", "--solutions", "--out", "exercises"]) == 2
    assert "where the student files live" in capsys.readouterr().err
    assert {p.name: p.read_text() for p in (tmp_path / "exercises").glob("ex*.py")} == stubs
    assert main(["exercises", "build", "--solutions", "--out", "exercises", "--force"]) == 0
    assert "### BEGIN" not in (tmp_path / "exercises" / by_slug("kl_divergence").filename).read_text()


def test_grade_without_pytest_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grader, "has_pytest", lambda: False)
    assert main(["grade", str(ROOT / "exercises")]) == 2
    err = capsys.readouterr().err
    assert err == ("lpn-mini grade: error: the grader runs the library's tests with pytest, "
                   "which is not installed; install it with `pip install -e '.[test]'`.\n")


def test_grade_exits_non_zero_when_nothing_could_be_graded(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["grade", str(empty)]) == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / by_slug("kl_divergence").filename).write_text("def kl_divergence(mu, logvar)\n")
    assert main(["grade", str(broken)]) == 1
    assert "nothing could be graded" in capsys.readouterr().err


def test_what_grade_writes_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a checkout")
    paths = ["exercises/results.json", "exercises/summary.json", "submissions/alice/results.json",
             "submissions/summary.json"]
    out = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == paths


def test_every_exercise_has_a_wrong_solution():
    assert {m[0] for m in MISTAKES.values()} == {ex.slug for ex in EXERCISES}


def test_stubs_import_and_score_zero(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "stubs", ignore=shutil.ignore_patterns("*.md"))
    results = grade(tmp_path / "stubs", echo=lambda *a: None)[str(tmp_path / "stubs")]
    for r in results:
        assert r.points == 0 and r.total > 0, f"ex{r.number:02d} stub scored {r.points}"
        assert all("NotImplementedError" in line for line in r.feedback), r.feedback
    data = json.loads((tmp_path / "stubs" / "results.json").read_text())
    assert data["score"] == 0 and data["max_score"] == 10 * len(EXERCISES)
    assert len(data["tests"]) == len(EXERCISES)


def test_reference_solutions_score_full_marks(tmp_path):
    build(tmp_path / "solutions", solutions=True)
    results = grade(tmp_path / "solutions", echo=lambda *a: None)[str(tmp_path / "solutions")]
    for r in results:
        assert r.points == r.max_points, f"ex{r.number:02d} solution lost points: {r.feedback}"


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_wrong_solution_loses_points_with_a_pointed_message(mistake, tmp_path):
    exercise, path = wrong_solution(mistake, tmp_path)
    result = grade_file(exercise, path)
    words = MISTAKES[mistake][3]
    assert result.points < result.max_points, f"{mistake}: kept full marks"
    assert any(words in line for line in result.feedback), (
        f"{mistake}: no feedback line mentions {words!r}: {result.feedback}")


@pytest.mark.parametrize("body, message", [
    ("def kl_divergence(mu, logvar)\n    return 0\n", "could not be imported (SyntaxError"),
    ("import autograd.numpy as np\ndef kl_divergence(mu, logvar):\n    while True:\n        pass\n",
     "timed out"),
    ("import autograd.numpy as np\ndef kl_divergence(mu, logvar):\n    return mu\n",
     "expected shape (2,), got shape (2, 5)"),
    ("def kl(mu, logvar):\n    return 0\n", "defines no function kl_divergence()"),
])
def test_a_broken_submission_costs_points_not_the_grader(body, message, tmp_path):
    exercise = by_slug("kl_divergence")
    target = tmp_path / exercise.filename
    target.write_text(body)
    result = grade_file(exercise, target, timeout=20)
    assert result.points == 0
    assert any(message in line for line in result.feedback), result.feedback


def test_a_folder_of_submissions_gets_a_summary_table(tmp_path):
    solutions = tmp_path / "solutions"
    build(solutions, solutions=True)
    kl = by_slug("kl_divergence").filename
    for student, source in (("alice", solutions / kl), ("bob", ROOT / "exercises" / kl)):
        os.makedirs(tmp_path / "class" / student)
        shutil.copy(source, tmp_path / "class" / student / kl)
    lines = []
    everything = grade(tmp_path / "class", echo=lines.append)
    assert set(everything) == {"alice", "bob"}
    assert "| alice | 0 | 0 | 0 | 10 | 0 | 0 | 0 | 0 | 0 | 0 | 10 |" in lines
    assert "| bob | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" in lines
    assert (tmp_path / "class" / "summary.json").exists()
    assert (tmp_path / "class" / "alice" / "results.json").exists()
