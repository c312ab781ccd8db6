"""The grader gives points only for code the student wrote, and survives hostile files.

Each cheat from issue 14 is written out here and must score 0 with a line that says why;
a flood of output and a memory hog must cost their points, not the grader's memory.
"""
import json
import resource
import textwrap

from lpn_mini.course.exercises import EXERCISES, by_slug, render
from lpn_mini.course.grader import OUTPUT_TAIL, grade, grade_file, graded_anything

REPARAMETERIZE = by_slug("reparameterize")
KL = by_slug("kl_divergence")


def write(folder, exercise, body):
    path = folder / exercise.filename
    path.write_text(textwrap.dedent(body))
    return path


def graded(exercise, folder, body, **kwargs):
    return grade_file(exercise, write(folder, exercise, body), **kwargs)


def test_a_re_export_of_the_library_scores_zero(tmp_path):
    result = graded(REPARAMETERIZE, tmp_path, "from lpn_mini.latent import reparameterize\n")
    assert result.points == 0 and result.total == 0
    assert result.feedback == [
        f"{tmp_path / REPARAMETERIZE.filename} imports reparameterize from lpn_mini.latent "
        "(line 1) instead of defining it: only functions the file defines itself, with "
        "`def reparameterize(...)`, earn points."]


def test_ten_re_exports_score_zero_and_grade_nothing(tmp_path):
    for ex in EXERCISES:
        lines = [f"from {module} import {name}\n" for module, name in ex.functions]
        (tmp_path / ex.filename).write_text("".join(lines))
    everything = grade(tmp_path, echo=lambda *a: None)
    results = everything[str(tmp_path)]
    assert sum(r.points for r in results) == 0
    assert all("instead of defining it" in r.feedback[0] for r in results)
    assert not graded_anything(everything)  # so `lpn-mini grade` exits non-zero


def test_an_assignment_from_the_library_scores_zero(tmp_path):
    result = graded(REPARAMETERIZE, tmp_path, """\
        import lpn_mini.latent
        reparameterize = lpn_mini.latent.reparameterize
        """)
    assert result.points == 0
    assert "assigns reparameterize (line 2) instead of defining it" in result.feedback[0]


def test_a_function_rebound_behind_the_static_check_scores_zero(tmp_path):
    result = graded(REPARAMETERIZE, tmp_path, """\
        import lpn_mini.latent
        def reparameterize(mu, logvar, eps):
            return mu
        globals()["reparameterize"] = lpn_mini.latent.reparameterize
        """, timeout=60)
    assert result.points == 0
    assert any("is not defined in this file (it comes from lpn_mini.latent)" in line
               for line in result.feedback), result.feedback


def test_calling_the_reference_at_run_time_scores_zero(tmp_path):
    captured = graded(REPARAMETERIZE, tmp_path, """\
        from lpn_mini.latent import reparameterize as reference
        def reparameterize(mu, logvar, eps):
            return reference(mu, logvar, eps)
        """, timeout=60)
    assert captured.points == 0 and captured.total > 0
    assert all("the reference reparameterize() is not available while grading" in line
               for line in captured.feedback), captured.feedback
    looked_up = graded(REPARAMETERIZE, tmp_path, """\
        def reparameterize(*args):
            import lpn_mini.latent as L
            return L.reparameterize(*args)
        """, timeout=60)
    assert looked_up.points == 0 and looked_up.total > 0  # L.reparameterize is this function


FORGER = """\
    import glob, json, os, sys
    def reparameterize(mu, logvar, eps):
        return mu
    perfect = json.dumps({"tests": [{"test": "test_x", "passed": True, "message": ""}]})
    open(SEEN, "w").write(json.dumps([sys.argv, dict(os.environ)]))
    here = os.path.dirname(os.path.abspath(__file__))
    for p in [*sys.argv, *os.environ.values(), *glob.glob(here + "/**/*.json", recursive=True),
              *glob.glob("*.json")]:
        # Only inside the submission's own folder (ROOT): a forger run by a broken grader
        # from /tmp must not overwrite every JSON file on the machine.
        if p.endswith(".json") and os.path.abspath(p).startswith(ROOT + os.sep):
            try:
                open(p, "w").write(perfect)
            except OSError:
                pass
    for fd in range(1, 256):
        for line in (perfect, "tok " + perfect, "1 passed in 0.01s"):
            try:
                os.write(fd, (line + "\\n").encode())
            except OSError:
                pass
    os._exit(0)
    """


def test_a_file_that_forges_the_report_scores_zero(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    seen = tmp_path / "seen.txt"
    write(tmp_path, REPARAMETERIZE, FORGER.replace("SEEN", repr(str(seen))).replace("ROOT", repr(str(tmp_path))))
    results = grade(tmp_path, echo=lambda *a: None, timeout=60)[str(tmp_path)]
    assert "results.json" not in seen.read_text()  # neither in the child's argv nor its env
    forged = results[REPARAMETERIZE.number - 1]
    assert forged.points == 0
    assert any("the grader got no result" in line for line in forged.feedback), forged.feedback
    data = json.loads((tmp_path / "results.json").read_text())  # written by the grader, last
    assert data["score"] == 0 and data["max_score"] == 10 * len(EXERCISES)


def test_printed_fake_results_score_zero(tmp_path):
    result = graded(KL, tmp_path, """\
        import json
        def kl_divergence(mu, logvar):
            return 0
        for name in ("test_kl_is_zero_at_the_prior_and_positive_elsewhere",
                     "test_kl_matches_monte_carlo", "test_kl_gradient"):
            print(json.dumps({"tests": [{"test": name, "passed": True, "message": ""}]}))
            print(f"{name} PASSED")
        print("3 passed in 0.10s")
        """, timeout=60)
    assert result.points == 0 and result.total > 0 and not result.passed, result


def test_a_flood_of_output_is_cut_and_the_grader_stays_small(tmp_path):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    solution = render(KL, solutions=True)
    flood = ("import sys, time\n_t = time.time()\n"
             "while time.time() - _t < 1.5:\n    sys.stdout.write('x' * 1_000_000)\n")
    result = graded(KL, tmp_path, solution + flood, timeout=60)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert result.points == result.max_points, result.feedback  # printing costs no points
    assert any(f"kept only the last {OUTPUT_TAIL // 1024} KiB" in line
               for line in result.feedback), result.feedback
    assert grown < 64 * 1024, f"the grader's peak memory grew by {grown} KiB"


def test_a_memory_hog_gets_the_memory_limit_line_and_zero(tmp_path):
    result = graded(KL, tmp_path, """\
        import numpy as np
        def kl_divergence(mu, logvar):
            waste = np.ones(1 << 30)  # 8 GB
            return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1 - logvar, axis=-1) + 0 * waste[0]
        """, timeout=60, memory_mb=2048)
    assert result.points == 0 and result.total > 0
    assert all(line.split(": ", 1)[1].startswith("memory limit: the code ran out of the 2048 MiB")
               for line in result.feedback), result.feedback


# A submission that looks for the expected answers wherever a student's code could find
# them (files under the lpn_mini package, under the folders in its argv and environment,
# its working folder; the checks' module state) and returns them for the inputs it is given.
ANSWER_THIEF = """\
    import glob, json, os, sys, time
    import numpy as np

    def _arrays(obj):
        if "array" in obj and "dtype" in obj:
            return np.array(obj["array"], dtype=obj["dtype"])
        return obj

    ANSWERS = []
    roots = []  # the package first, then the working folder, argv and the environment
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name == "lpn_mini" and getattr(module, "__file__", None):
            roots.append(os.path.dirname(os.path.abspath(module.__file__)))
    roots.append(os.getcwd())
    for value in [*sys.argv, *os.environ.values()]:
        for part in value.split(os.pathsep):
            if os.path.isdir(part) and part not in ("/", "/usr", "/tmp") and "/.venv" not in part:
                roots.append(part)
    _stop = time.time() + 5
    for root in dict.fromkeys(roots):
        for path in glob.iglob(os.path.join(root, "**", "*.json"), recursive=True):
            if time.time() > _stop:
                break
            if os.path.basename(path) == "reparameterize.json":
                try:
                    data = json.load(open(path), object_hook=_arrays)
                except (OSError, ValueError):
                    continue
                for key in ("z", "z32"):
                    if isinstance(data.get(key), np.ndarray):
                        ANSWERS.append(data[key])

    def _from_the_checks():
        compare = sys.modules.get("lpn_mini.course.checks.compare")
        for value in vars(compare).values() if compare else ():
            if isinstance(value, dict) and isinstance(value.get("fx"), dict):
                for key in ("z", "z32"):
                    if isinstance(value["fx"].get(key), np.ndarray):
                        yield value["fx"][key]

    def reparameterize(mu, logvar, eps):
        mu = np.asarray(mu)
        for answer in [*_from_the_checks(), *ANSWERS]:
            if answer.shape == mu.shape and answer.dtype == mu.dtype:
                return answer.copy()
        return mu
    """

GRADE_ONE = """\
import json, sys
from lpn_mini.course.exercises import by_slug
from lpn_mini.course.grader import grade_file
import lpn_mini
r = grade_file(by_slug("reparameterize"), sys.argv[1], timeout=120)
print(json.dumps({"points": r.points, "total": r.total, "feedback": r.feedback,
                  "library": lpn_mini.__file__}))
"""


def _grade_elsewhere(submission, library, expected, cwd):
    """Grade ``submission`` for exercise 4 in a fresh process that imports ``library``'s
    lpn_mini and is told (only) that the expected outputs are in ``expected``."""
    import os
    import subprocess
    import sys
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "PWD": str(cwd),
           "MPLBACKEND": "Agg", "PYTHONPATH": str(library), "LPN_MINI_EXPECTED": str(expected)}
    out = subprocess.run([sys.executable, "-c", GRADE_ONE, str(submission)], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_child_never_has_the_expected_answers(tmp_path, monkeypatch):
    """The grading child runs the student's code on the inputs only: with the expected
    outputs kept where only the grader was told to look (here a copy of lpn_mini without
    them, and $LPN_MINI_EXPECTED, which the child's environment does not carry), a file
    that hunts for them finds nothing and scores 0, while the reference still scores full
    marks. The child's own copy of the library never holds them, so in the checkout too it
    finds nothing; put a folder holding them in its reach (any variable of the grader's
    environment naming it) and the same file scores: what a determined student with the
    grader's rights can do (exercises/README.md: grade as another user, or in a container)."""
    import shutil
    import tempfile
    from pathlib import Path

    import lpn_mini
    from lpn_mini.course.fixtures import FOLDER
    library = tmp_path / "lib"
    shutil.copytree(Path(lpn_mini.__file__).parent, library / "lpn_mini",
                    ignore=shutil.ignore_patterns("__pycache__", "expected-*"))
    expected = Path(tempfile.mkdtemp(prefix="expected-", dir="/tmp"))
    try:
        for folder in Path(FOLDER).glob("expected-*"):
            shutil.copytree(folder, expected / folder.name)
        assert not list((library / "lpn_mini").rglob("expected-*"))
        (tmp_path / "thief").mkdir()
        (tmp_path / "reference").mkdir()
        thief = write(tmp_path / "thief", REPARAMETERIZE, ANSWER_THIEF)
        reference = write(tmp_path / "reference", REPARAMETERIZE,
                          render(REPARAMETERIZE, solutions=True))
        stolen = _grade_elsewhere(thief, library, expected, tmp_path)
        assert stolen["library"].startswith(str(library))
        assert stolen["total"] > 0 and stolen["points"] == 0, stolen
        honest = _grade_elsewhere(reference, library, expected, tmp_path)
        assert honest["points"] == 10, honest  # the child needs no expected values
        in_checkout = grade_file(REPARAMETERIZE, thief, timeout=120)
        assert in_checkout.total > 0 and in_checkout.points == 0, in_checkout.feedback
        # The control: where the expected files are in its reach, the thief does score.
        monkeypatch.setenv("SOME_FOLDER", str(expected))
        found = grade_file(REPARAMETERIZE, thief, timeout=120)
        assert found.points > 0, found.feedback
    finally:
        shutil.rmtree(expected)


def test_reading_the_reference_from_the_library_scores_zero(tmp_path):
    """A submission that parses the reference out of the library it imports (its source
    file, inspect.getsource, sys.path) and runs it gets nothing: the child imports a copy
    of the library with this exercise's answer stubbed. The control: run in this process,
    which imports the checkout's library, the same code does steal the reference."""
    import numpy as np

    from helpers import SOURCE_THIEF
    thief = SOURCE_THIEF.replace("EVERYWHERE = True", "EVERYWHERE = False")
    assert thief != SOURCE_THIEF
    result = grade_file(KL, write(tmp_path, KL, thief), timeout=120)
    assert result.total > 0 and result.points == 0, result.feedback
    here = {}
    exec(compile(thief, "thief", "exec"), here)
    assert here["STOLEN"] is not None
    assert np.isclose(here["kl_divergence"](np.ones(2), np.zeros(2)), 1.0)  # 0.5 * 2 * (1 + 1 - 1)


# Code that tampers with the checks in the child: it loosens every default tolerance, or
# makes the comparisons of gradients record nothing. The grader's own process refuses a
# tolerance no check uses, and a check that leaves out an output the reference compares.
LOOSENED = """\
    import sys
    import autograd.numpy as np
    compare = sys.modules["lpn_mini.course.checks.compare"]
    compare.close.__defaults__ = ("", 1e9, 1e9, False)
    def reparameterize(mu, logvar, eps):
        return mu + eps * np.exp(logvar)          # sigma is exp(logvar / 2)
    """
SKIPPED = """\
    import sys, types
    import autograd.numpy as np
    from autograd.tracer import getval
    compare = sys.modules["lpn_mini.course.checks.compare"]
    original = compare.close
    compare.keep_ = types.FunctionType(original.__code__, original.__globals__, "keep_",
                                       original.__defaults__)
    def _skip(got, want, what, hint="", rtol=1e-7, atol=1e-12, dtype=True):
        if what == "the gradient for logvar":
            return None
        return keep_(got, want, what, hint, rtol, atol, dtype)
    original.__code__ = _skip.__code__
    def reparameterize(mu, logvar, eps):           # right values, no gradient for logvar
        return mu + eps * np.exp(getval(logvar) / 2)
    """


def test_tampering_with_the_checks_earns_nothing(tmp_path):
    loosened = graded(REPARAMETERIZE, tmp_path, LOOSENED, timeout=60)
    assert loosened.points == 0 and loosened.total > 0, loosened.feedback
    skipped = graded(REPARAMETERIZE, tmp_path, SKIPPED, timeout=60)
    failed = [t["test"] for t in skipped.tests if not t["passed"]]
    assert failed == ["test_gradients_for_mu_logvar_and_eps[visible]",
                      "test_gradients_for_mu_logvar_and_eps[hidden]"], skipped.feedback
    assert all("did not compare" in line for line in skipped.feedback), skipped.feedback


def test_grading_as_another_user_refuses_with_one_clear_line(tmp_path):
    """``grade --user`` switches to that user for the students' code only where that
    protects something: the grader must be root, the user must exist, run Python, and be
    unable to read the references (in this checkout it can, so here it always refuses)."""
    import os

    import pytest
    write(tmp_path, KL, render(KL, solutions=True))
    if os.geteuid() != 0:
        with pytest.raises(ValueError, match="needs the grader to run as root"):
            grade(tmp_path, user="nobody", echo=lambda *a: None)
        return
    with pytest.raises(ValueError, match="there is no user 'no-such-user-lpn'"):
        grade(tmp_path, user="no-such-user-lpn", echo=lambda *a: None)
    with pytest.raises(ValueError, match="is root; pass an unprivileged user"):
        grade(tmp_path, user="root", echo=lambda *a: None)
    with pytest.raises(ValueError, match="cannot run this Python|can read .*latent.py"):
        grade(tmp_path, user="nobody", echo=lambda *a: None)
    assert not (tmp_path / "results.json").exists()


def test_a_long_exception_message_is_cut_to_one_short_line(tmp_path):
    result = graded(KL, tmp_path, """\
        def kl_divergence(mu, logvar):
            raise ValueError("shapes " + "(3, 4) " * 2000)
        """, timeout=60)
    assert result.points == 0 and result.total > 0
    for line in result.feedback:
        assert "ex06_kl_divergence.py, line 2: ValueError: shapes (3, 4)" in line, line
        assert line.endswith("[...]") and len(line) < 500, line


def test_what_would_do_the_exercise_for_the_student_is_not_available(tmp_path):
    """Exercise 2 asks for a backward pass by hand: autograd on a forward pass scores 0.
    Exercise 8 asks for one ascent step: the library's search, which takes that step,
    scores 0. Each with the line that says why."""
    backward = graded(by_slug("mlp_backward"), tmp_path, """\
        import autograd.numpy as np
        from autograd import grad

        def mlp_backward(layers, h, dout):
            def forward(layers, h):
                for k, (W, b) in enumerate(layers):
                    h = h @ W + b if k == 0 else np.maximum(h, 0) @ W + b
                return h
            out = lambda a: np.sum(forward(a[0], a[1]) * dout)
            return grad(out)((layers, h))
        """, timeout=60)
    assert backward.total > 0 and backward.points == 0, backward.feedback
    assert all("autograd's differentiation (make_vjp) is not available" in line
               for line in backward.feedback), backward.feedback
    step = graded(by_slug("latent_ascent_step"), tmp_path, """\
        from lpn_mini.latent import search_latents

        def latent_ascent_step(decoder_params, x, y, z, mask, alpha, stop_gradient=True,
                               reduce="sum"):
            return search_latents(decoder_params, x, y, z, mask, num_steps=1, alpha=alpha,
                                  stop_gradient=stop_gradient, reduce=reduce)
        """, timeout=60)
    assert step.total > 0 and step.points == 0, step.feedback
    assert all("search_latents() takes the very steps exercise 8 asks for" in line
               for line in step.feedback), step.feedback


def test_each_exercise_sees_only_the_answers_it_relies_on(tmp_path):
    """The library copy that grades exercise k holds the reference lines of the exercises
    k relies on and of no other (its own included), and every exercise relies only on
    exercises before it, which are graded first: no process running a student's code
    holds an answer that a later exercise's process could use."""
    from lpn_mini.course.editions import (_matcher, copy_for_grading, dependencies,
                                           find_answers, solution_lines)
    needs, owner = dependencies(), _matcher(solution_lines())
    for ex in EXERCISES:
        assert all(j < ex.number for j in needs[ex.number]), (ex.number, needs[ex.number])
        copy_for_grading(ex, tmp_path / ex.slug)
        seen = {owner(line) for _, _, line in find_answers(tmp_path / ex.slug)}
        allowed = {name for j in needs[ex.number] for _, name in EXERCISES[j - 1].functions}
        assert seen <= allowed, (ex.number, seen - allowed)
        assert bool(seen) == bool(allowed), (ex.number, seen, allowed)
