"""The exercises and the autograder: generated from the library, graded by its tests."""
import json
import os
import shutil
from pathlib import Path

import pytest

from lpn_mini.grading.exercises import EXERCISES, build, by_slug
from lpn_mini.grading.grader import grade, grade_file

ROOT = Path(__file__).resolve().parents[1]
WRONG = Path(__file__).parent / "fixtures" / "wrong"

# Each deliberately wrong solution, and the words its feedback must contain.
MISTAKES = {
    "ex01_mlp_forward__relu_after_last_layer": "none after the last",
    "ex02_mlp_backward__no_relu_mask": "ReLU mask",
    "ex03_reparameterize__exp_logvar_as_std": "exp(0.5 * logvar)",
    "ex04_kl_divergence__sign_flipped": "KL came out negative",
    "ex05_log_likelihood__unstable_softmax": "subtract the maximum",
    "ex06_leave_one_out_mean__own_latent_included": "leave pair",
    "ex07_latent_ascent_step__gradient_descent": "gradient *ascent*",
    "ex07_latent_ascent_step__stop_gradient_missing": "stop_gradient=True the step still depends",
    "ex08_training_loss__own_latent_leaks": "leave-one-out mean of the other pairs",
    "ex09_adam_update__no_bias_correction": "bias corrections",
    "ex10_infer_latent__ignores_eps": "sample z_i = mu_i + eps_i * sigma_i",
}


def test_committed_exercises_match_the_generator(tmp_path):
    build(tmp_path)
    for ex in EXERCISES:
        committed = (ROOT / "exercises" / ex.filename).read_text()
        assert committed == (tmp_path / ex.filename).read_text(), (
            f"exercises/{ex.filename} differs from the library; run `lpn-mini exercises build`.")


def test_every_exercise_has_a_wrong_solution_fixture():
    assert {name.split("__")[0] for name in MISTAKES} == {ex.filename[:-3] for ex in EXERCISES}
    assert sorted(p.stem for p in WRONG.glob("*.py")) == sorted(MISTAKES)


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


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_wrong_solution_loses_points_with_a_pointed_message(name, tmp_path):
    exercise = next(ex for ex in EXERCISES if name.startswith(ex.filename[:-3]))
    target = tmp_path / exercise.filename
    shutil.copy(WRONG / f"{name}.py", target)
    result = grade_file(exercise, target)
    assert result.points < result.max_points, f"{name} kept full marks"
    assert any(MISTAKES[name] in line for line in result.feedback), (
        f"{name}: no feedback line mentions {MISTAKES[name]!r}: {result.feedback}")


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
