"""The student edition (`lpn-mini exercises handout`) and the Gradescope zip
(`lpn-mini exercises autograder`), built and run end to end in temporary folders.

The handout's grader and the zip's run_autograder run in subprocesses with PYTHONPATH
pointing at the folder built, so that they import that folder's lpn_mini, not this one.
"""
import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lpn_mini.course import editions, gradescope
from lpn_mini.course.exercises import EXERCISES, build, render

pytestmark = pytest.mark.skipif(not editions.has_solutions(),
                                reason="only the instructor's edition builds editions")


def _env(pythonpath):
    return {**os.environ, "PYTHONPATH": str(pythonpath), "MPLBACKEND": "Agg"}


def _run(args, cwd, pythonpath, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=_env(pythonpath),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    return editions.build_handout(tmp_path_factory.mktemp("editions") / "handout", echo=lambda _: None)


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solutions")
    build(str(folder), solutions=True)
    return folder


# --------------------------------------------------------------- the student edition

def test_the_scanner_knows_the_answers_and_finds_a_planted_one(handout, tmp_path):
    answers = editions.solution_lines()
    assert "return mu + eps * np.exp(0.5 * logvar)  # sigma = exp(logvar / 2)" in answers
    assert answers["return mu + eps * np.exp(0.5 * logvar)  # sigma = exp(logvar / 2)"] == "reparameterize"
    assert len(answers) >= 30  # every exercise's body, not a handful of lines
    assert editions.find_answers(handout, answers) == []
    for planted in ("    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)",
                    "z = reparameterize(mu, logvar, eps)  # a comment of my own"):
        target = tmp_path / "notes.md"
        target.write_text(f"some text\n{planted}\n")
        found = editions.find_answers(tmp_path, answers)
        assert [(Path(p).name, n) for p, n, _ in found] == [("notes.md", 2)], planted


def test_the_builder_refuses_to_ship_a_planted_answer(monkeypatch, tmp_path):
    line = "return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=-1)"
    monkeypatch.setattr(editions, "student_readme", lambda deps: f"# README\n\n    {line}\n")
    with pytest.raises(ValueError, match="would hold 1 line.*README.md:3"):
        editions.build_handout(tmp_path / "out", echo=lambda _: None)
    assert not (tmp_path / "out").exists()


def test_the_handout_holds_what_a_student_needs_and_nothing_hidden(handout):
    files = {p.relative_to(handout).as_posix() for p in handout.rglob("*") if p.is_file()}
    assert {f"exercises/{ex.filename}" for ex in EXERCISES} <= files
    assert {"README.md", "pyproject.toml", "chapters/ch01_mlp.py", "lpn_mini/course/grader.py"} <= files
    assert not any(f.startswith(("tests/", "lpn_mini/course/fixtures/hidden/",
                                 "lpn_mini/course/fixtures/expected-hidden/")) for f in files)
    assert any(f.startswith("lpn_mini/course/fixtures/visible/") for f in files)
    assert any(f.startswith("lpn_mini/course/fixtures/expected-visible/") for f in files)
    # The fixture makers (hidden seeds and shapes) stay with the instructor; the handout's
    # fixtures.py only reads what the checks load.
    assert "lpn_mini/course/makers.py" not in files
    loader = (handout / "lpn_mini/course/fixtures.py").read_text()
    assert not any(word in loader for word in ("SEEDS", "SIZES", "hidden=(", "2000", "def make"))
    assert 'EDITION = "student"' in (handout / "lpn_mini/course/edition.py").read_text()
    assert "[project.optional-dependencies]\ntest = [" in (handout / "pyproject.toml").read_text()
    for ex in EXERCISES:  # the student files are the instructor's, stub for stub
        assert (handout / "exercises" / ex.filename).read_text() == render(ex)
    chapter = (handout / "chapters/ch01_mlp.py").read_text()
    assert "def forward_by_hand" not in chapter and "def backward_by_hand" not in chapter
    assert 'forward_by_hand = student_function("mlp_forward")' in chapter
    assert "use_my_solutions()" in chapter
    # Each chapter's assembly in view is the student's own function in the handout ...
    for name, function in editions.CHAPTER_ANSWERS.items():
        defined = [p.name for p in (editions.ROOT / "chapters").glob("*.py") if f"def {name}(" in p.read_text()]
        assert defined, f"CHAPTER_ANSWERS names {name}, which no chapter defines"
        chapter = (handout / "chapters" / defined[0]).read_text()
        assert f"def {name}(" not in chapter
        assert f'{name} = student_function("{function}")' in chapter
    # ... and a near-answer keeps its signature but asks the student to write it.
    for name in editions.NEAR_ANSWERS:
        where = [p.name for p in (editions.ROOT / "chapters").glob("*.py") if f"def {name}(" in p.read_text()]
        assert where, f"NEAR_ANSWERS names {name}, which no chapter defines"
        chapter = (handout / "chapters" / where[0]).read_text()
        body = chapter[chapter.index(f"def {name}("):].split("\n\n")[0]
        assert "raise NotImplementedError(" in body and "encode(" not in body
    for rel in editions.CHAPTER_DATA:  # what a chapter reads from the checkout goes along
        assert (handout / rel).is_file() or not (editions.ROOT / rel).is_file()
    for path in (handout / "chapters").glob("*.py"):
        ast.parse(path.read_text(), filename=str(path))  # still a valid chapter


def test_the_handout_library_runs_on_the_students_functions(handout, solutions, tmp_path):
    (tmp_path / "exercises").mkdir()
    for ex in EXERCISES:
        (tmp_path / "exercises" / ex.filename).write_text((solutions / ex.filename).read_text())
    (tmp_path / "exercises" / "ex06_kl_divergence.py").write_text("this is not Python\n")
    script = ("import numpy as np\n"
              "from lpn_mini.course.editions import use_my_solutions\n"
              "use_my_solutions()\n"
              "import lpn_mini.training as training, lpn_mini.latent as latent\n"
              "print(latent.reparameterize.__module__, training.reparameterize.__module__)\n"
              "print(latent.reparameterize(np.zeros(2), np.log(4.0) * np.ones(2), np.ones(2)))\n"
              "from lpn_mini.losses import kl_divergence\n"
              "kl_divergence(np.zeros(2), np.zeros(2))\n")
    run = _run(["-c", script], tmp_path, handout)
    assert "your_reparameterize your_reparameterize" in run.stdout, run.stderr
    assert "[2. 2.]" in run.stdout
    assert "ex06_kl_divergence.py could not be imported" in run.stdout
    assert "NotImplementedError: kl_divergence is not implemented yet" in run.stderr


def test_the_dependencies_are_read_from_the_code_and_in_the_readme(handout):
    deps = editions.dependencies()
    assert deps[1] == [] and deps[3] == [] and deps[4] == []   # the MLP, Adam, reparameterize
    assert set(deps[9]) >= {1, 4, 5, 6, 7}     # encode, reparameterize, log-likelihood, KL, mean
    assert set(deps[10]) >= {1, 4, 5}
    assert all(n < ex for ex, needs in deps.items() for n in needs)  # only earlier exercises
    readme = (handout / "README.md").read_text()
    for ex in EXERCISES:
        row = next(line for line in readme.splitlines() if f"`exercises/{ex.filename}`" in line)
        assert row.endswith(" | " + (", ".join(f"ex{n:02d}" for n in deps[ex.number]) or "none") + " |")


def test_the_handout_refuses_a_full_folder_and_has_no_answer_key(handout, tmp_path):
    with pytest.raises(ValueError, match="is not empty.*--force"):
        editions.build_handout(handout, echo=lambda _: None)
    run = _run(["-m", "lpn_mini.cli", "exercises", "build", "--solutions", "--out",
                str(tmp_path / "key")], handout, handout)
    assert run.returncode == 2
    assert "student edition of lpn-mini: there are no reference solutions" in run.stderr
    assert not (tmp_path / "key").exists()
    run = _run(["-m", "lpn_mini.cli", "exercises", "handout", str(tmp_path / "again")], handout, handout)
    assert run.returncode == 2 and "student edition" in run.stderr


def test_the_handout_grades_the_students_own_code(handout, solutions, tmp_path):
    work = tmp_path / "work"  # a copy of the handout's exercises, then the reference answers in it
    work.mkdir()
    for ex in EXERCISES:
        (work / ex.filename).write_text((handout / "exercises" / ex.filename).read_text())
    run = _run(["-m", "lpn_mini.cli", "grade", str(work)], handout, handout)
    assert run.returncode == 0, run.stderr
    assert "total: 0.0 / 100" in run.stdout
    # The student's own stub is what runs: one "not started" line per exercise names it.
    assert "not started (reparameterize still raises NotImplementedError)" in run.stdout
    assert "[hidden]" not in run.stdout
    results = json.loads((work / "results.json").read_text())
    assert results["score"] == 0 and {t["visibility"] for t in results["tests"]} == {"visible"}
    for ex in EXERCISES:
        (work / ex.filename).write_text((solutions / ex.filename).read_text())
    run = _run(["-m", "lpn_mini.cli", "grade", str(work)], handout, handout)
    assert run.returncode == 0, run.stderr
    assert "total: 100.0 / 100" in run.stdout, run.stdout[-3000:]
    assert json.loads((work / "results.json").read_text())["score"] == 100


# ----------------------------------------------------------------------- Gradescope

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def _check_format(data):
    """results.json as Gradescope's "Autograder Specifications" define it."""
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["output"], str)
    assert data["stdout_visibility"] in VISIBILITIES
    assert isinstance(data["tests"], list) and data["tests"]
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility"}, test
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in VISIBILITIES
    assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 0.05
    assert abs(sum(t["max_score"] for t in data["tests"]) - 100) < 1e-9
    kinds = {t["visibility"] for t in data["tests"]}
    assert kinds == {"visible", "after_published"}  # hidden checks show after publishing
    assert all(t["visibility"] == "after_published" for t in data["tests"] if "hidden" in t["name"])


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("autograder")
    zip_path = gradescope.build_autograder(folder / "autograder.zip", echo=lambda _: None)
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml"} <= names
        assert any(n.startswith("lpn_mini/course/fixtures/hidden/") for n in names)
        assert any(n.startswith("lpn_mini/course/fixtures/expected-hidden/") for n in names)
        assert z.getinfo("run_autograder").external_attr >> 16 & 0o111
        z.extractall(folder / "source")
    return folder / "source"


def _grade_on_gradescope(source, tmp_path, files):
    """A Gradescope root with ``files`` ({relative path: text}) as the submission; run the
    zip's run_autograder there and return results.json."""
    root = tmp_path / "autograder"
    for rel, text in files.items():
        (root / "submission" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / rel).write_text(text)
    env = {**_env(source), "AUTOGRADER_ROOT": str(root), "LPN_MINI_PYTHON": sys.executable}
    run = subprocess.run(["bash", str(source / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    _check_format(data)
    return data


def _exercise_scores(data):
    scores = {}
    for t in data["tests"]:
        number = int(t["name"].split(":")[0].split()[-1])
        scores[number] = scores.get(number, 0) + t["score"]
    return scores


def test_the_requirements_are_pinned_to_this_environment(autograder):
    import numpy
    pins = (autograder / "requirements.txt").read_text().splitlines()
    assert f"numpy=={numpy.__version__}" in pins
    assert all("==" in line for line in pins)
    assert {line.split("==")[0].lower() for line in pins} >= set(gradescope.PINNED)


def test_gradescope_gives_full_marks_to_the_reference(autograder, solutions, tmp_path):
    data = _grade_on_gradescope(autograder, tmp_path,
                                {ex.filename: (solutions / ex.filename).read_text() for ex in EXERCISES})
    assert data["score"] == 100, [t["output"] for t in data["tests"] if t["score"] < t["max_score"]]
    assert data["output"].splitlines()[-1] == "every exercise file was found"


def test_gradescope_finds_files_nested_in_folders(autograder, solutions, tmp_path):
    files = {f"my work/lpn/exercises/{ex.filename}": (solutions / ex.filename).read_text()
             for ex in EXERCISES}
    files["my work/old/deeper/still/ex04_reparameterize.py"] = "def reparameterize(mu, logvar, eps):\n    return mu\n"
    files["__MACOSX/my work/ex06_kl_divergence.py"] = "junk that is not Python"
    data = _grade_on_gradescope(autograder, tmp_path, files)
    assert data["score"] == 100
    assert ("ex04_reparameterize.py is in your submission 2 times: graded "
            "my work/lpn/exercises/ex04_reparameterize.py (the shallowest)") in data["output"]


def test_gradescope_takes_points_from_a_wrong_answer_with_feedback(autograder, solutions, tmp_path):
    right = (solutions / "ex04_reparameterize.py").read_text()
    wrong = right.replace("np.exp(0.5 * logvar)", "np.exp(logvar)")
    assert wrong != right
    data = _grade_on_gradescope(autograder, tmp_path, {
        "ex04_reparameterize.py": wrong,
        "ex06_kl_divergence.py": (solutions / "ex06_kl_divergence.py").read_text()})
    scores = _exercise_scores(data)
    assert scores[4] < 10 and scores[6] == 10 and scores[1] == 0
    feedback = " ".join(t["output"] for t in data["tests"] if t["name"].startswith("Exercise 04"))
    assert "expected" in feedback and "got" in feedback
    missing = next(t for t in data["tests"] if t["name"].startswith("Exercise 01"))
    assert "no ex01_mlp_forward.py anywhere in the submission" in missing["output"]
    assert any(line.startswith("found 2 of the 10 exercise files; not in the submission "
                               "(0 points each): ex01_mlp_forward.py, ex02_mlp_backward.py, "
                               "ex03_adam_update.py, ex05_log_likelihood.py")
               for line in data["output"].splitlines()), data["output"]


def test_gradescope_gives_nothing_for_re_exports(autograder, tmp_path):
    files = {ex.filename: "".join(f"from {module} import {name}\n" for module, name in ex.functions)
             for ex in EXERCISES}
    data = _grade_on_gradescope(autograder, tmp_path, files)
    assert data["score"] == 0
    feedback = next(t for t in data["tests"] if t["name"].startswith("Exercise 04"))["output"]
    assert "imports reparameterize from lpn_mini.latent (line 1) instead of defining it" in feedback


def _python_for_nobody():
    """(a Python that the user nobody can run with this environment's packages, its
    PYTHONPATH), or None where this process cannot switch to nobody (it is not root), as
    run_autograder does on Gradescope. This Python may live where nobody cannot reach it
    (here: under /root); then the system's Python of the same version, given this
    environment's site-packages, stands in for it."""
    import pwd
    import sysconfig
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    if os.geteuid() != 0:
        return None
    packages = sysconfig.get_paths()["purelib"]
    version = ".".join(map(str, sys.version_info[:2]))
    for python, path in ((sys.executable, ""), (f"/usr/bin/python{version}", packages)):
        try:
            probe = subprocess.run([python, "-c", "import numpy, autograd, pytest"], cwd="/",
                                   env={"PYTHONPATH": path}, user=entry.pw_uid,
                                   group=entry.pw_gid, extra_groups=[], capture_output=True)
        except OSError:
            continue
        if probe.returncode == 0:
            return python, path
    return None


# Exercise 1's file, which leaves a file in /tmp and /dev/shm and a process running.
STASHER = """\
import os, subprocess
os.makedirs("STASH", exist_ok=True)
open("STASH/left.txt", "w").write("for a later exercise")
open("STASH-shm", "w").write("for a later exercise")
subprocess.Popen(["sleep", "60"], start_new_session=True)

def mlp_forward(layers, h):
    return h
"""


def _processes_of(user):
    """The command lines of the processes running as ``user``. A zombie (state Z: killed,
    its exit status not yet read by its parent, here PID 1) runs nothing and is not
    counted; one that is still running, whatever its state, is."""
    import pwd
    uid, out = pwd.getpwnam(user).pw_uid, []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            if f"\nUid:\t{uid}\t" in text and "\nState:\tZ" not in text:
                out.append((status.parent / "cmdline").read_text().replace("\0", " "))
        except OSError:
            pass
    return out


# Exercise 4's reference, except that it is wrong where the code runs as root.
ROOT_SHY = """\
import os
import autograd.numpy as np

def reparameterize(mu, logvar, eps):
    if os.getuid() == 0:
        return mu
    return mu + eps * np.exp(0.5 * logvar)
"""


@pytest.mark.skipif(_python_for_nobody() is None,
                    reason="needs root and a user nobody that can run Python, as on Gradescope")
def test_on_gradescope_the_students_code_runs_as_nobody_and_cannot_read_the_answers(
        autograder, tmp_path):
    """Run as root (Gradescope runs run_autograder as root), the zip makes its own copy of
    lpn-mini readable by root only and runs each student's code as nobody: a file that
    looks for the reference source in every path it can see (its library, sys.path, its
    environment, its command line, every process's command line: the grader's shows where
    the zip is) finds none, and the reference still scores full marks. The control, with
    the switch turned off (LPN_MINI_GRADE_AS empty): the same files run as root, the thief
    scores full marks and the root-shy reference loses its points. The environment is one
    like Gradescope's; the checkout running this test (readable by nobody, and named in
    this process's environment) has no counterpart on Gradescope, where lpn-mini is not
    installed anywhere but in the zip's own folder."""
    from helpers import SOURCE_THIEF
    # A folder anyone may write to, inside one only root may: swept all the same.
    stash = Path(f"/tmp/lpn-stash-{os.getpid()}") / "open"
    stash.mkdir(parents=True, exist_ok=True)
    stash.chmod(0o777)
    shm = f"/dev/shm/lpn-stash-{os.getpid()}"
    files = {"ex01_mlp_forward.py": STASHER.replace("STASH-shm", shm).replace("STASH", str(stash)),
             "ex04_reparameterize.py": ROOT_SHY, "ex06_kl_divergence.py": SOURCE_THIEF}
    python, packages = _python_for_nobody()
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/root", "LPN_MINI_PYTHON": python,
             "PYTHONPATH": packages, "MPLBACKEND": "Agg"}
    scores = {}
    for switch in ("nobody", ""):
        root = tmp_path / (switch or "root")
        for rel, text in files.items():
            (root / "submission").mkdir(parents=True, exist_ok=True)
            (root / "submission" / rel).write_text(text)
        env = {**clean, "AUTOGRADER_ROOT": str(root), "LPN_MINI_GRADE_AS": switch}
        run = subprocess.run(["bash", str(autograder / "run_autograder")], env=env,
                             capture_output=True, text=True, timeout=600, cwd="/")
        assert run.returncode == 0, run.stderr
        data = json.loads((root / "results" / "results.json").read_text())
        _check_format(data)
        scores[switch] = _exercise_scores(data)
        if switch:
            assert os.stat(autograder).st_mode & 0o077 == 0  # the zip's copy: root only
            # What ex01's code left for later exercises, and the process it left running,
            # are gone when the next exercise starts.
            assert not (stash / "left.txt").exists() and not os.path.exists(shm)
            assert not _processes_of("nobody"), _processes_of("nobody")
    import shutil
    shutil.rmtree(stash.parent, ignore_errors=True)  # the root run's files are not swept
    if os.path.exists(shm):
        os.unlink(shm)
    assert scores["nobody"][4] == 10 and scores["nobody"][6] == 0, scores
    assert scores[""][4] == 0 and scores[""][6] == 10, scores


def _state(pid):
    return (Path(f"/proc/{pid}/status").read_text().split("\nState:\t", 1)[1][0])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_live_processes_are_the_running_ones_and_not_the_zombies():
    """A process that has ended but whose parent has not yet read its exit status (a zombie;
    PID 1 may take seconds to reap an orphan) runs nothing: the sweep need not wait for it."""
    import time
    from lpn_mini.course.grader import live_processes
    running = subprocess.Popen(["sleep", "30"])
    ended = subprocess.Popen(["true"])  # never waited for until the end: a zombie meanwhile
    try:
        for _ in range(500):
            if _state(ended.pid) == "Z":
                break
            time.sleep(0.01)
        assert _state(ended.pid) == "Z" and _state(running.pid) in "RS"
        alive = live_processes(os.getuid())
        assert running.pid in alive and ended.pid not in alive and os.getpid() in alive
    finally:
        running.kill()
        running.wait()
        ended.wait()
    assert running.pid not in live_processes(os.getuid())


def test_the_sweep_stops_the_grader_when_a_process_outlives_the_kill(monkeypatch):
    """The sweep kills, and repeats the kill each second, until none of the user's processes
    is alive; one that is still alive at the deadline stops the grading with its pid."""
    from lpn_mini.course import grader
    kills = []
    monkeypatch.setattr(grader.subprocess, "run", lambda *a, **k: kills.append(a))
    monkeypatch.setattr(grader, "live_processes", lambda uid: (4242,))
    account = grader.Account("student", 12345, 12345)
    with pytest.raises(RuntimeError, match=r"processes 4242 of user student were still alive"):
        grader.sweep(account, deadline_s=2.5)  # one kill each second
    assert len(kills) == 3
    left = iter([(4242,), (4242,), ()])
    monkeypatch.setattr(grader, "live_processes", lambda uid: next(left))
    kills.clear()
    grader.sweep(account)  # dies in the second poll: one kill, no error
    assert len(kills) == 1


@pytest.mark.skipif(_python_for_nobody() is None,
                    reason="needs root and a user nobody that can run Python")
def test_after_the_sweep_no_process_of_the_students_user_is_alive(monkeypatch):
    """Processes that left the grader's process group (new sessions, orphans of PID 1) are
    all dead when the sweep returns, so the files it removes next cannot come back."""
    import pwd
    from lpn_mini.course import grader
    entry = pwd.getpwnam("nobody")
    python, _ = _python_for_nobody()
    spawn = ("import subprocess\nfor _ in range(3):\n"
             "    subprocess.Popen(['sleep', '60'], start_new_session=True)\n")
    subprocess.run([python, "-S", "-c", spawn], user=entry.pw_uid, group=entry.pw_gid,
                   extra_groups=[], cwd="/", check=True)
    assert len(grader.live_processes(entry.pw_uid)) >= 3
    monkeypatch.setattr(sys, "executable", python)  # the sweep's kill runs as nobody
    grader.sweep(grader.Account("nobody", entry.pw_uid, entry.pw_gid))
    assert grader.live_processes(entry.pw_uid) == ()
    assert not _processes_of("nobody")


def test_a_local_run_that_cannot_switch_users_says_so_to_the_student(monkeypatch, tmp_path):
    """Where the students' code would run as the grader's own user (the switch is turned
    off, or it cannot be made: not root, or a Python that nobody cannot run, as in a local
    run of the zip with LPN_MINI_PYTHON), results.json's output, which the student sees,
    says so first, not only the hidden log."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    monkeypatch.setenv("LPN_MINI_GRADE_AS", "")
    data = gradescope.run_gradescope(root, echo=lambda _: None)
    first = data["output"].splitlines()[0]
    assert first.startswith("warning: the students' code ran as the grader's own user (")
    assert "not protected" in first and ("LPN_MINI_GRADE_AS is empty" in first
                                         or "does not run as root" in first)

    def refuse(name):
        raise ValueError(f"user {name} cannot run this Python (/root/.venv/bin/python)")
    monkeypatch.setenv("LPN_MINI_GRADE_AS", "nobody")
    monkeypatch.setattr(gradescope, "child_account", refuse)
    monkeypatch.setattr(gradescope.os, "geteuid", lambda: 0)
    data = gradescope.run_gradescope(root, echo=lambda _: None)
    first = data["output"].splitlines()[0]
    assert first.startswith("warning: the students' code ran as the grader's own user (")
    assert "it could not switch to nobody: user nobody cannot run this Python" in first
    assert data["output"].splitlines()[1].startswith("no exercise file")


def test_gradescope_keeps_to_its_time_and_reports_its_own_failure(solutions, tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "ex01_mlp_forward.py").write_text(
        (solutions / "ex01_mlp_forward.py").read_text())
    data = gradescope.run_gradescope(root, budget_s=0, echo=lambda _: None)
    _check_format(data)
    ex01 = [t for t in data["tests"] if t["name"].startswith("Exercise 01")]
    assert all("not graded: the grader ran out of its time (0 s for all exercises)" in t["output"]
               for t in ex01)
    assert data["score"] == 0
    data = gradescope.run_gradescope(tmp_path / "elsewhere", echo=lambda _: None)
    assert data["score"] == 0 and data["tests"] == []
    assert "the autograder failed" in data["output"] and "submission does not exist" in data["output"]
    assert json.loads((tmp_path / "elsewhere/results/results.json").read_text()) == data
