"""The exercises and the autograder: generated from the library, graded by its tests."""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lpn_mini.cli import main
from lpn_mini.course import grader
from lpn_mini.course.exercises import EXERCISES, MANIFEST, build, by_slug, render
from lpn_mini.course.grader import grade, grade_file

ROOT = Path(__file__).resolve().parents[1]

# Plausible wrong solutions, at least four per exercise: each is the reference solution with
# one or more edits (text to find, its replacement), and the words its feedback must contain.
# They are built from the library at test time, so they cannot drift from it: when the
# library's solution changes so that an edit no longer applies, the test says so.
LOG_SUM = "    return shifted - np.log(sum_colours(np.exp(shifted), keepdims=True))"
ASCENT_SUM = ("specification_log_likelihood(params_for_step, x, y, z, mask,\n"
              "                                                              reduce))")
ADAM_M = '    m = tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, state["m"], grads)\n'
SEARCH = 'z_star = search_latents(params["decoder"], x_spec, y_spec, z_start, mask, **search_options)'
MISTAKES = {
    "mlp_forward: ReLU after the last layer": ("mlp_forward", [(
        "        if k > 0:\n            h = relu(h)\n        h = dense(h, W, b)\n",
        "        h = relu(dense(h, W, b))\n")], "after every layer but the last"),
    "mlp_forward: ReLU on the input too": ("mlp_forward", [(
        "        if k > 0:\n            h = relu(h)\n", "        h = relu(h)\n")],
        "never on the input"),
    "mlp_forward: no ReLU at all": ("mlp_forward", [(
        "            h = relu(h)\n", "            pass\n")], "a ReLU goes between layers"),
    "mlp_forward: bias left out": ("mlp_forward", [(
        "h = dense(h, W, b)", "h = h @ W")], "it is h @ W + b"),
    "mlp_forward: float64 output for float32 input": ("mlp_forward", [(
        "    return h\n", "    return h * np.ones(1)\n")], "expected float32, got float64"),
    "mlp_backward: ReLU mask missing": ("mlp_backward", [(
        "            d = d * (pre[k - 1] > 0)", "            d = d")], "only where"),
    "mlp_backward: db averaged instead of summed": ("mlp_backward", [(
        "np.sum(d2, axis=0))", "np.mean(d2, axis=0))")], "the gradient for layer[0].b"),
    "mlp_backward: dW transposed": ("mlp_backward", [(
        "(a2.T @ d2,", "(d2.T @ a2,")], "layer[0].W: expected shape"),
    "mlp_backward: dW from the pre-activation instead of the ReLU's output": ("mlp_backward", [(
        "np.reshape(inputs[k], (-1, W.shape[0]))",
        "np.reshape(pre[k - 1] if k else inputs[k], (-1, W.shape[0]))")],
        "the gradient for layer[1].W"),
    "mlp_backward: float64 output for float32 input": ("mlp_backward", [(
        "    return dlayers, d\n", "    return dlayers, d * np.ones(1)\n")],
        "expected float32, got float64"),
    "reparameterize: exp(logvar) used as the standard deviation": ("reparameterize", [(
        "np.exp(0.5 * logvar)", "np.exp(logvar)")], "log of the variance"),
    "reparameterize: mu left out": ("reparameterize", [(
        "return mu + eps *", "return eps *")], "the gradient for mu"),
    "reparameterize: sigma = exp(-logvar / 2)": ("reparameterize", [(
        "np.exp(0.5 * logvar)", "np.exp(-0.5 * logvar)")], "the gradient for logvar"),
    "reparameterize: mu changed in place": ("reparameterize", [(
        "    return mu + eps * np.exp(0.5 * logvar)",
        "    mu += eps * np.exp(0.5 * logvar)\n    return mu")], "changed its input mu in place"),
    "reparameterize: float64 output for float32 input": ("reparameterize", [(
        "np.exp(0.5 * logvar)", "np.exp(np.float64(0.5) * logvar)")],
        "expected float32, got float64"),
    "kl_divergence: sign flipped": ("kl_divergence", [(
        "return 0.5 * np.sum(", "return -0.5 * np.sum(")], "KL came out negative"),
    "kl_divergence: the 0.5 missing": ("kl_divergence", [(
        "return 0.5 * np.sum(", "return np.sum(")], "constant factor"),
    "kl_divergence: the -1 missing": ("kl_divergence", [(
        " - 1.0 - logvar", " - logvar")], "KL at mu = 0, logvar = 0"),
    "kl_divergence: mean over d instead of sum": ("kl_divergence", [(
        "np.sum(np.exp", "np.mean(np.exp")], "do not average"),
    "kl_divergence: summed over the wrong axis": ("kl_divergence", [(
        "axis=-1)", "axis=0)")], "expected shape"),
    "log_likelihood: softmax without the maximum subtracted": ("log_likelihood", [(
        "    m = max_colours(logits)", "    m = 0.0  #")], "subtract the maximum"),
    "log_likelihood: the normalizer of the unshifted logits": ("log_likelihood", [(
        LOG_SUM, "    return shifted - np.log(sum_colours(np.exp(logits), keepdims=True))")],
        "the normalizer"),
    "log_likelihood: one maximum shared by every cell": ("log_likelihood", [(
        "    m = max_colours(logits)", "    m = np.max(getval(logits))  #")], "each cell's own"),
    "log_likelihood: log-softmax over the wrong axis": ("log_likelihood", [(
        LOG_SUM, "    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))")],
        "the last axis"),
    "log_likelihood: softmax instead of log-softmax": ("log_likelihood", [(
        LOG_SUM, "    return np.exp(shifted) / sum_colours(np.exp(shifted), keepdims=True)")],
        "log_softmax(logits): expected"),
    "log_likelihood: mean where reduce='sum'": ("log_likelihood", [(
        "return np.sum(picked, axis=(-2, -1))", "return np.mean(picked, axis=(-2, -1))")],
        "grid_log_likelihood(reduce='sum')"),
    "log_likelihood: reduce ignored in grid_log_likelihood": ("log_likelihood", [(
        'if reduce == "sum":', "if True:")], "grid_log_likelihood(reduce='mean')"),
    "log_likelihood: reduce not passed on by log_likelihood": ("log_likelihood", [(
        "decode(decoder_params, x, z, check=False), y, reduce)",
        "decode(decoder_params, x, z, check=False), y)")], "log_likelihood(reduce='mean')"),
    "leave_one_out_mean: own latent included": ("leave_one_out_mean", [(
        "return (total - z) / (N - 1)", "return total / N")], "leave pair"),
    "leave_one_out_mean: divided by N": ("leave_one_out_mean", [(
        "(total - z) / (N - 1)", "(total - z) / N")], "1 / (N - 1)"),
    "leave_one_out_mean: summed over the wrong axis": ("leave_one_out_mean", [(
        "np.sum(z, axis=-2, keepdims=True)", "np.sum(z, axis=-1, keepdims=True)")],
        "z': expected"),
    "leave_one_out_mean: no ValueError for one pair": ("leave_one_out_mean", [(
        "    if N < 2:\n", "    if False:\n")], "with N = 1"),
    "leave_one_out_mean: z changed in place": ("leave_one_out_mean", [(
        "    return (total - z) / (N - 1)", "    z -= total\n    return -z / (N - 1)")],
        "changed its input z in place"),
    "latent_ascent_step: gradient descent instead of ascent": ("latent_ascent_step", [(
        "return z + alpha * dz", "return z - alpha * dz")], "gradient *ascent*"),
    "latent_ascent_step: no step size": ("latent_ascent_step", [(
        "return z + alpha * dz", "return z + dz")], "times the step size alpha"),
    "latent_ascent_step: stop-gradient missing": ("latent_ascent_step", [(
        "    if stop_gradient:\n", "    if False:\n")],
        "stop_gradient=True the step still depends"),
    "latent_ascent_step: stop-gradient applied in the wrong branch": ("latent_ascent_step", [(
        "    if stop_gradient:\n", "    if not stop_gradient:\n")],
        "with stop_gradient=False the outer gradient flows"),
    "latent_ascent_step: the result cut off from z": ("latent_ascent_step", [(
        "return z + alpha * dz", "return z_for_step + alpha * dz")], "moves one for one with z"),
    "latent_ascent_step: reduce ignored": ("latent_ascent_step", [(
        ASCENT_SUM, "specification_log_likelihood(params_for_step, x, y, z, mask))")],
        "(reduce='mean')"),
    "training_loss: each pair decoded from its own latent": ("training_loss", [(
        "    z_prime = leave_one_out_mean(z)", "    z_prime = z")],
        "leave-one-out mean of the other pairs"),
    "training_loss: the KL without beta": ("training_loss", [(
        "np.mean(rec + beta * kl)", "np.mean(rec + kl)")], "beta times each pair's KL_i"),
    "training_loss: summed instead of averaged": ("training_loss", [(
        "np.mean(rec + beta * kl)", "np.sum(rec + beta * kl)")], "averaged (not summed)"),
    "training_loss: stop_gradient not passed on": ("training_loss", [(
        "alpha=alpha, stop_gradient=stop_gradient,", "alpha=alpha, stop_gradient=True,")],
        "flows through the search steps"),
    "training_loss: reduce not passed to the log-likelihood": ("training_loss", [(
        "log_likelihood(dec, x, y, z_prime, reduce, check=False)",
        "log_likelihood(dec, x, y, z_prime, check=False)")], "same reduce in the log-likelihood"),
    "training_loss: search options dropped": ("training_loss", [(
        "                             **search_options)", "                             )")],
        "**search_options"),
    "training_loss: mu instead of a sample": ("training_loss", [(
        "z = reparameterize(mu, logvar, eps)", "z = mu")], "sampled latents"),
    "adam_update: eps ignored (a constant 1e-8)": ("adam_update", [(
        "(onp.sqrt(v / c2) + eps)", "(onp.sqrt(v / c2) + 1e-8)")], "use the eps given"),
    "adam_update: a step up the gradient": ("adam_update", [(
        "lambda p, m, v: p - lr *", "lambda p, m, v: p + lr *")], "moved the wrong way"),
    "adam_update: no bias correction": ("adam_update", [(
        "    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t\n", "    c1, c2 = 1.0, 1.0\n")],
        "bias corrections"),
    "adam_update: bias correction with t off by one": ("adam_update", [(
        "c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t", "c1, c2 = 1 - beta1 ** (t + 1), 1 - beta2 ** (t + 1)")],
        "use the new t"),
    "adam_update: coupled L2 instead of decoupled decay": ("adam_update", [
        (ADAM_M, "    grads = tree_map(lambda g, p: g + weight_decay * p, grads, params)\n" + ADAM_M),
        ("onp.sqrt(v / c2) + eps) + weight_decay * p)", "onp.sqrt(v / c2) + eps))")],
        "decouples the decay"),
    "adam_update: eps inside the square root": ("adam_update", [(
        "(onp.sqrt(v / c2) + eps)", "onp.sqrt(v / c2 + eps)")], "outside the square root"),
    "adam_update: weight decay not scaled by lr": ("adam_update", [(
        "onp.sqrt(v / c2) + eps) + weight_decay * p)", "onp.sqrt(v / c2) + eps)) - weight_decay * p")],
        "lr * weight_decay * p"),
    "adam_update: the state changed in place": ("adam_update", [(
        '    t = state["t"] + 1\n', '    state["t"] += 1\n    t = state["t"]\n')],
        "changed its input state.t in place"),
    "infer_latent: eps ignored (always starts from mu)": ("infer_latent", [(
        "    z = mu if eps is None else reparameterize(mu, logvar, eps)", "    z = mu")],
        "sample z_i = mu_i + eps_i * sigma_i"),
    "infer_latent: the last latent instead of the best": ("infer_latent", [(
        SEARCH, SEARCH.replace("**search_options)",
                               '**{**search_options, "best_of_trajectory": False})'))],
        "not its last"),
    "infer_latent: starts from the first pair's latent": ("infer_latent", [(
        "z_start = np.mean(z, axis=1, keepdims=True)", "z_start = z[:, :1]")],
        "mean over its pairs"),
    "infer_latent: a mask that averages the pairs": ("infer_latent", [(
        "x_spec.shape[1]), dtype=z.dtype)", "x_spec.shape[1]), dtype=z.dtype) / x_spec.shape[1]")],
        "a (1, N) mask of ones"),
    "infer_latent: squeezed (loses the batch axis of one task)": ("infer_latent", [(
        "return z_star[:, 0]", "return z_star.squeeze()")], "a batch of one task is still a batch"),
    "infer_latent: a list of latents": ("infer_latent", [(
        "return z_star[:, 0]", "return [z_star[b, 0] for b in range(z_star.shape[0])]")],
        "not a Python list"),
    "infer_latent: always the best of the trajectory": ("infer_latent", [(
        SEARCH, SEARCH.replace("**search_options)",
                               '**{**search_options, "best_of_trajectory": True})'))],
        "returns its last latent"),
    "mlp_forward: squeezed output": ("mlp_forward", [(
        "    return h\n", "    return np.squeeze(h)\n")], "a batch of one is still a batch"),
    "reparameterize: fresh noise drawn inside": ("reparameterize", [(
        "mu + eps * np.exp(0.5 * logvar)",
        "mu + np.random.default_rng(0).standard_normal(np.shape(eps)) * np.exp(0.5 * logvar)")],
        "does not move with the eps given"),
    "reparameterize: squeezed": ("reparameterize", [(
        "    return mu + eps * np.exp(0.5 * logvar)", "    return np.squeeze(mu + eps * np.exp(0.5 * logvar))")],
        "a batch of one is still a batch"),
    "kl_divergence: squeezed": ("kl_divergence", [(
        "    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)",
        "    return np.squeeze(0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1))")],
        "a batch of one is still a batch"),
    "kl_divergence: a list": ("kl_divergence", [(
        "    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)",
        "    return list(0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1))")],
        "not a Python list"),
    "leave_one_out_mean: squeezed": ("leave_one_out_mean", [(
        "    return (total - z) / (N - 1)", "    return np.squeeze((total - z) / (N - 1))")],
        "a batch of one is still a batch"),
    "latent_ascent_step: squeezed": ("latent_ascent_step", [(
        "    return z + alpha * dz", "    return np.squeeze(z + alpha * dz)")],
        "a batch of one is still a batch"),
    "log_likelihood: squeezed grid log-likelihood": ("log_likelihood", [(
        "        return np.sum(picked, axis=(-2, -1))", "        return np.squeeze(np.sum(picked, axis=(-2, -1)))")],
        "a batch of one is still a batch"),
    "infer_latent: no search": ("infer_latent", [(SEARCH, "z_star = z_start")],
                                "refine the starting latent"),
    "infer_latent: a float64 mask for a float32 model": ("infer_latent", [(
        "x_spec.shape[1]), dtype=z.dtype)", "x_spec.shape[1]))")], "mask in z's dtype"),
}
MISTAKES.update({
    "adam_update: the step counter never moves": ("adam_update", [(
        '    return new_params, {"m": m, "v": v, "t": t}',
        '    return new_params, {"m": m, "v": v, "t": state["t"]}')],
        "its t must count every step taken"),
    "training_loss: stop-gradient always off": ("training_loss", [(
        "alpha=alpha, stop_gradient=stop_gradient,", "alpha=alpha, stop_gradient=False,")],
        "the search's update is a constant for the outer gradient"),
    "reparameterize: assignment into a traced array": ("reparameterize", [(
        "    return mu + eps * np.exp(0.5 * logvar)",
        "    z = mu + eps * np.exp(0.5 * logvar)\n    z[..., 0] = z[..., 0] * 1.0\n    return z")],
        "assignment into an array that autograd is differentiating"),
    "leave_one_out_mean: np.asarray of a traced array": ("leave_one_out_mean", [(
        "    return (total - z) / (N - 1)", "    return np.asarray((total - z) / (N - 1))")],
        "cuts the array off from autograd"),
})
# The core lesson of an exercise carries at least half its points: each of these mistakes
# misses it and must lose at least 5 of the 10.
MISSES_THE_LESSON = (
    "log_likelihood: softmax without the maximum subtracted",
    "log_likelihood: one maximum shared by every cell",
    "latent_ascent_step: stop-gradient missing", "training_loss: stop_gradient not passed on",
    "training_loss: stop-gradient always off", "adam_update: eps inside the square root",
    "adam_update: the step counter never moves")
# One wrong value, found by several checks, is one feedback line: (words, lines with them).
ONCE = {"reparameterize: exp(logvar) used as the standard deviation": "log of the variance",
        "log_likelihood: softmax without the maximum subtracted": "subtract the maximum"}
RAW = ("Not equal to tolerance", "assert ", "AssertionError", "Traceback", "Mismatched elements",
       "x and y nan location mismatch", "E   ")


def wrong_solution(mistake, folder):
    """Write the reference solution with ``mistake`` applied; return (exercise, path)."""
    slug, edits, _ = MISTAKES[mistake]
    exercise = by_slug(slug)
    text = render(exercise, solutions=True)
    for find, replace in edits:
        assert text.count(find) == 1, f"the mistake {mistake!r} no longer applies to the library's solution"
        text = text.replace(find, replace)
    path = folder / exercise.filename
    path.write_text(text)
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
    adam = tmp_path / by_slug("adam_update").filename
    kl.write_text(kl.read_text().replace("# YOUR CODE HERE", "return 0  # my work"))
    old = adam.read_text() + "# as an older library generated it\n"
    adam.write_text(old)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["files"][adam.name] = hashlib.sha256(old.encode()).hexdigest()
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    assert main(["exercises", "build", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"lpn-mini exercises: error: {kl} has been edited since `lpn-mini exercises "
                   "build` wrote it (a student's work?); nothing was written. Move the edited "
                   "files away, or pass --force to overwrite them.")
    assert "my work" in kl.read_text() and adam.read_text() == old  # nothing was written
    kl.unlink()
    build(tmp_path)  # ex03 is as build wrote it last: it is regenerated
    assert adam.read_text() == render(by_slug("adam_update"))
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


def test_a_path_after_the_options_gets_the_line_about_out(tmp_path, capsys):
    """argparse fills the optional path before it reads the options after it; the path is
    still taken, and build says to pass it with --out (handout and autograder take it)."""
    assert main(["exercises", "build", "--solutions", "--force", str(tmp_path / "key")]) == 2
    assert f"pass the folder with --out {tmp_path / 'key'}" in capsys.readouterr().err
    assert main(["exercises", "handout", "--force", str(tmp_path / "handout")]) == 0
    assert (tmp_path / "handout" / "exercises").is_dir()


def test_grade_without_pytest_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grader, "has_pytest", lambda: False)
    assert main(["grade", str(ROOT / "exercises")]) == 2
    err = capsys.readouterr().err
    assert err == ("lpn-mini grade: error: the grader runs its checks with pytest, "
                   "which is not installed; install it with `pip install -e '.[grade]'`.\n")


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


# Answers that compute nothing: right shapes and dtypes, inputs left alone, a ValueError where
# one is due, and no lesson done. Each must score 0 (no check gives a point for a property
# alone).
HOLLOW = {
    "mlp_forward": "def mlp_forward(layers, h):\n"
                   "    return np.zeros(h.shape[:-1] + layers[-1][1].shape, h.dtype)\n",
    "mlp_backward": "def mlp_backward(layers, h, dout):\n"
                    "    return [(0 * W, 0 * b) for W, b in layers], 0 * h\n",
    "reparameterize": "def reparameterize(mu, logvar, eps):\n    return mu\n",
    "kl_divergence": "def kl_divergence(mu, logvar):\n    return np.zeros(mu.shape[:-1], mu.dtype)\n",
    "log_likelihood": "def log_softmax(logits):\n    return logits - np.log(logits.shape[-1])\n"
                      "def grid_log_likelihood(logits, y, reduce='sum'):\n"
                      "    return np.sum(logits, axis=(-3, -2, -1))\n"
                      "def log_likelihood(decoder_params, x, y, z, reduce='sum', *, check=True):\n"
                      "    return np.sum(z, axis=-1)\n",
    "leave_one_out_mean": "def leave_one_out_mean(z):\n    if z.shape[-2] < 2:\n"
                          "        raise ValueError('N < 2')\n    return z * 0\n",
    "latent_ascent_step": "def latent_ascent_step(decoder_params, x, y, z, mask, alpha, "
                          "stop_gradient=True, reduce='sum'):\n    return z\n",
    "training_loss": "def training_loss(params, x, y, eps, **options):\n"
                     "    return np.sum(eps) * 0.0 + 1.0\n",
    "adam_update": "def adam_update(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, "
                   "weight_decay=0.0):\n    return params, dict(state, t=state['t'] + 1)\n",
    "infer_latent": "def infer_latent(params, x_spec, y_spec, eps=None, **search_options):\n"
                    "    return np.mean(encode(params['encoder'], x_spec, y_spec)[0], axis=1)\n",
}


def test_answers_that_compute_nothing_score_zero(tmp_path):
    assert set(HOLLOW) == {ex.slug for ex in EXERCISES}
    for slug, body in HOLLOW.items():
        exercise = by_slug(slug)
        path = tmp_path / exercise.filename
        path.write_text(exercise.imports + "\n\n" + body)
        result = grade_file(exercise, path)
        assert result.total > 0 and result.points == 0, (
            f"{slug}: {[t['test'] for t in result.tests if t['passed']]} passed")


def test_every_exercise_has_four_wrong_solutions():
    counts = {ex.slug: sum(m[0] == ex.slug for m in MISTAKES.values()) for ex in EXERCISES}
    assert min(counts.values()) >= 4, counts


def test_stubs_import_and_score_zero(tmp_path):
    shutil.copytree(ROOT / "exercises", tmp_path / "stubs", ignore=shutil.ignore_patterns("*.md"))
    results = grade(tmp_path / "stubs", echo=lambda *a: None)[str(tmp_path / "stubs")]
    for r in results:
        assert r.points == 0 and r.total > 0, f"ex{r.number:02d} stub scored {r.points}"
        assert all("NotImplementedError" in line for line in r.feedback), r.feedback
    data = json.loads((tmp_path / "stubs" / "results.json").read_text())
    assert data["score"] == 0 and data["max_score"] == 10 * len(EXERCISES)
    # One entry per exercise and visibility, each worth half the exercise's points.
    assert [t["visibility"] for t in data["tests"]] == ["visible", "hidden"] * len(EXERCISES)
    assert {t["max_score"] for t in data["tests"]} == {5.0}


def test_reference_solutions_score_full_marks(tmp_path):
    build(tmp_path / "solutions", solutions=True)
    results = grade(tmp_path / "solutions", echo=lambda *a: None)[str(tmp_path / "solutions")]
    for r in results:
        assert r.points == r.max_points, f"ex{r.number:02d} solution lost points: {r.feedback}"
        visibility = [t["visibility"] for t in r.tests]
        assert visibility.count("visible") == visibility.count("hidden") > 0, visibility


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_wrong_solution_loses_points_with_a_pointed_message(mistake, tmp_path):
    exercise, path = wrong_solution(mistake, tmp_path)
    result = grade_file(exercise, path)
    words = MISTAKES[mistake][2]
    assert result.points < result.max_points, f"{mistake}: kept full marks"
    assert any(words in line for line in result.feedback), (
        f"{mistake}: no feedback line mentions {words!r}: {result.feedback}")
    for line in result.feedback:  # one line each, no raw assertion text, no bare messages
        assert "\n" not in line and not any(raw in line for raw in RAW), line
        assert "Hint: " in line or "NotImplementedError" in line, line
        assert "ArrayBox" not in line, line
    hints = [line.partition(" Hint: ")[2] for line in result.feedback]
    assert len(hints) == len(set(hints)), f"{mistake}: a hint repeated: {result.feedback}"
    if mistake in MISSES_THE_LESSON:
        assert result.max_points - result.points >= 5, f"{mistake}: lost only " \
            f"{result.max_points - result.points} points: {result.feedback}"
    if mistake in ONCE:
        assert sum(ONCE[mistake] in line for line in result.feedback) == 1, result.feedback
        assert len(result.feedback) <= 4, result.feedback


def test_each_line_says_which_checks_and_how_many_points(tmp_path):
    exercise, path = wrong_solution("log_likelihood: softmax without the maximum subtracted",
                                    tmp_path)
    result = grade_file(exercise, path)
    assert result.points == 5
    [line] = [line for line in result.feedback if "subtract the maximum" in line]
    assert line.startswith("test_log_softmax_of_huge_logits[visible, hidden] (5 of the 10 "
                           "points): log_softmax of logits near 1e4: got inf or nan"), line


@pytest.mark.parametrize("body, message", [
    ("def kl_divergence(mu, logvar)\n    return 0\n", "could not be imported (SyntaxError"),
    ("import autograd.numpy as np\ndef kl_divergence(mu, logvar):\n    while True:\n        pass\n",
     "timed out"),
    ("import autograd.numpy as np\ndef kl_divergence(mu, logvar):\n    return mu\n",
     "expected shape (2, 3), got shape (2, 3, 5)"),
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
    assert "| alice | 0 | 0 | 0 | 0 | 0 | 10 | 0 | 0 | 0 | 0 | 10 |" in lines
    assert "| bob | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" in lines
    assert (tmp_path / "class" / "summary.json").exists()
    assert (tmp_path / "class" / "alice" / "results.json").exists()


def test_an_error_is_reported_at_the_students_own_line(tmp_path):
    exercise = by_slug("reparameterize")
    at_import = tmp_path / "import" / exercise.filename
    at_import.parent.mkdir()
    at_import.write_text("import autograd.numpy as np\n\nscale = sigma * 2\n\n"
                         "def reparameterize(mu, logvar, eps):\n    return mu\n")
    result = grade_file(exercise, at_import, timeout=60)
    assert result.feedback == [f"{at_import} could not be imported: {exercise.filename}, line 3: "
                               "NameError: name 'sigma' is not defined"]
    inside = tmp_path / "inside" / exercise.filename
    inside.parent.mkdir()
    inside.write_text("import autograd.numpy as np\n\n\ndef reparameterize(mu, logvar, eps):\n"
                      "    z = mu + eps * np.exp(0.5 * logvar)\n    return z * sigma\n")
    result = grade_file(exercise, inside, timeout=60)
    assert result.total > 0 and result.points == 0
    assert all(line.endswith(f"{exercise.filename}, line 6: NameError: name 'sigma' is not defined")
               for line in result.feedback), result.feedback


def test_the_student_edition_uses_the_students_own_earlier_work(tmp_path):
    """In the handout the library's solutions are stubs: exercise 9 runs on the student's own
    reparameterize, kl_divergence, log_likelihood and leave_one_out_mean, and a stub among
    them is named as the cause. Only the visible checks run."""
    folder = tmp_path / "student"
    build(folder, solutions=True)
    shutil.copy(ROOT / "exercises" / by_slug("leave_one_out_mean").filename, folder)
    loss = by_slug("training_loss")
    [result] = grader.grade_submission(folder, only=["training_loss"], edition_name="student")
    assert result.points < result.max_points
    assert {t["visibility"] for t in result.tests} == {"visible"}
    assert result.feedback[-1] == ("exercise 9 uses leave_one_out_mean from exercise 7, which is "
                                   "not done yet (or fails its checks): finish ex07 first.")
    assert any(f"{by_slug('leave_one_out_mean').filename}, line" in line and "NotImplementedError"
               in line for line in result.feedback), result.feedback
    wrong_solution("leave_one_out_mean: divided by N", folder)  # done, but wrong
    [result] = grader.grade_submission(folder / loss.filename, edition_name="student")
    assert result.points < result.max_points
    assert result.feedback[-1].startswith("exercise 9 uses leave_one_out_mean from exercise 7")
    build(tmp_path / "done", solutions=True)
    [done] = grader.grade_submission(tmp_path / "done" / loss.filename, edition_name="student")
    assert done.points == done.max_points, done.feedback


# Solutions a student writes from the statements alone: only the names the statement gives
# (and the chapters teach), each following its hint. Each must keep full marks.
HONEST = {
    "log_likelihood": '''
def log_softmax(logits):
    shifted = logits - np.max(logits, axis=-1, keepdims=True)   # no gradient trick needed
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def grid_log_likelihood(logits, y, reduce="sum"):
    log_p = log_softmax(logits)
    C = log_p.shape[-1]
    hot = np.reshape(one_hot(y, C, dtype=log_p.dtype), y.shape + (C,))
    picked = np.sum(log_p * hot, axis=-1)
    if reduce == "sum":
        return np.sum(picked, axis=(-2, -1))
    if reduce == "mean":
        return np.mean(picked, axis=(-2, -1))
    raise ValueError(reduce)


def log_likelihood(decoder_params, x, y, z, reduce="sum", *, check=True):
    return grid_log_likelihood(decode(decoder_params, x, z), y, reduce)
''',
    "training_loss": '''
def training_loss(params, x, y, eps, *, num_steps=0, alpha=1.0, beta=1e-4, stop_gradient=True,
                  reduce="sum", check=True, **search_options):
    mu, logvar = encode(params["encoder"], x, y)
    z = reparameterize(mu, logvar, eps)
    z_prime = leave_one_out_mean(z)
    mask = leave_one_out_mask(x.shape[1], dtype=z.dtype)      # the statement's slower mask
    z_prime = latent_gradient_ascent(params["decoder"], x, y, z_prime, mask,
                                     num_steps=num_steps, alpha=alpha,
                                     stop_gradient=stop_gradient, reduce=reduce,
                                     **search_options)
    rec = -log_likelihood(params["decoder"], x, y, z_prime, reduce)
    return np.mean(rec + beta * kl_divergence(mu, logvar))
''',
    "infer_latent": '''
def infer_latent(params, x_spec, y_spec, eps=None, **search_options):
    mu, logvar = encode(params["encoder"], x_spec, y_spec)
    z = mu if eps is None else reparameterize(mu, logvar, eps)
    z_start = np.mean(z, axis=1, keepdims=True)
    mask = np.ones((1, x_spec.shape[1]), dtype=z.dtype)
    options = {"num_steps": 0, "alpha": 1.0, **search_options}
    return latent_gradient_ascent(params["decoder"], x_spec, y_spec, z_start, mask,
                                  **options)[:, 0]
''',
}


@pytest.mark.parametrize("slug", list(HONEST))
def test_a_solution_that_follows_the_statement_keeps_full_marks(slug, tmp_path):
    """Written with the student file's imports only, as the statement and its hint say (the
    statement names no library helper the chapters do not teach): full marks."""
    exercise = by_slug(slug)
    path = tmp_path / exercise.filename
    path.write_text(exercise.imports + HONEST[slug])
    result = grade_file(exercise, path)
    assert result.points == result.max_points, result.feedback


TAUGHT = {"pattern_tasks", "init_mlp", "mlp_forward", "mlp_backward", "adam_init", "adam_update",
          "tree_map", "one_hot", "init_params", "encode", "reparameterize", "decode", "log_softmax",
          "log_likelihood", "kl_divergence", "leave_one_out_mean", "leave_one_out_predict",
          "scores", "leave_one_out_mask", "specification_log_likelihood", "LEAVE_ONE_OUT",
          "latent_ascent_step", "latent_gradient_ascent", "without_gradient", "training_loss",
          "infer_latent", "predict", "latent_random_search", "dense", "relu", "grad",
          "check_batch"}  # check_batch: the template's own input check, outside the answer


def test_the_student_files_import_only_what_the_chapters_teach():
    import ast
    for ex in EXERCISES:
        tree = ast.parse(ex.imports)
        names = {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom)
                 for a in node.names}
        assert names <= TAUGHT, (ex.filename, names - TAUGHT)
        for word in ("search_latents", "getval", "pick_colours", "sum_colours", "max_colours",
                     "array_module", "one_hot_cells"):
            assert word not in ex.statement, (ex.filename, word)
