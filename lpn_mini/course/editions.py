"""The student edition (the handout), and the scan that keeps answers out of it.

    lpn-mini exercises handout OUT          # a folder students get as is

(The Gradescope zip, the other thing an instructor hands over, is ``gradescope.py``.)

**The student edition** (``build_handout``) is this project with every answer taken out:
the library with each body marked ``### BEGIN SOLUTION`` / ``### END SOLUTION`` replaced by
its stub (``exercises.strip_solution``), ``edition.py`` set to ``"student"``, the exercise
files, the graded checks with their visible fixtures only, the chapters with every cell
that shows an answer replaced by a call of the student's own function, a pyproject and a
student README. Nothing else from the checkout goes in (no ``tests/``: the library's unit
tests rebuild answers by hand). Before it returns, ``build_handout`` scans every file it
wrote for the reference solutions' lines (``solution_lines``) and fails if one is there.

In the student edition, ``use_my_solutions()`` (the first cell of every handout chapter)
puts the student's own functions from ``exercises/`` in place of the library's stubs, so
the chapters run on the student's code.
"""
import ast
import fnmatch
import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from . import edition
from .exercises import BEGIN, END, EXERCISES, build, strip_solution

ROOT = Path(__file__).resolve().parents[2]       # the checkout: lpn_mini/, chapters/, ...
LIBRARY = ROOT / "lpn_mini"

# What of lpn_mini/ the student edition leaves out, as the checks' rule says
# (lpn_mini/course/checks/__init__.py): the hidden fixtures (their inputs and their expected
# outputs) and the fixture makers (makers.py: the hidden seeds and shapes). The handout's
# fixtures.py only reads the inputs (and the grader the visible expected outputs).
HIDDEN = ("lpn_mini/course/fixtures/hidden", "lpn_mini/course/fixtures/expected-hidden",
          "lpn_mini/course/makers.py")
NEVER_COPIED = ("__pycache__", "*.pyc", "*.egg-info", ".generated.json", "results.json",
                "summary.json")

# Functions the chapters write out by hand that are an exercise's answer in other words
# (chapter 1 builds the MLP's passes with NumPy before the library's versions): in the
# handout each becomes the student's own function. Cells holding a line of a reference
# solution word for word are found by the scanner, not listed here.
CHAPTER_ANSWERS = {"forward_by_hand": "mlp_forward", "backward_by_hand": "mlp_backward",
                   "adam_by_hand": "adam_update",                  # chapter 1
                   "latent_step_by_hand": "latent_ascent_step",    # chapter 6
                   "training_loss_by_hand": "training_loss",       # chapter 7
                   "infer_latent_by_hand": "infer_latent"}         # chapter 8

# Functions of the chapters that hold part of an exercise's answer without being it (the
# loss with K = 0 of chapters 4 and 5, chapter 6's loss with the step frozen): in the
# handout their bodies ask the student to write them, as for a line the scanner finds.
NEAR_ANSWERS = {"vae_loss": "training_loss", "own_latent_loss": "training_loss",
                "mean_training_loss": "training_loss", "loss_with_frozen_step": "training_loss"}

# Files of the checkout a chapter reads (chapter 9 quotes and shows the committed Table 1
# and the ladder of official settings).
CHAPTER_DATA = ("results/table1/results.json", "results/table1/results.md",
                "results/table1/exact_match_vs_steps.png", "results/official/results.json",
                "results/official/ladder.png")

MIN_LINE = 12  # a shorter line ("return h", "else:") says nothing about the answer
# Lines of a solution that are scaffolding the statement itself describes, not the answer:
# the loop over the (W, b) pairs of `layers` (chapter 1's gradient check loops the same way).
GENERIC_LINES = {"for k, (W, b) in enumerate(layers):"}


# --------------------------------------------------------------------------- the scanner

def _library_files(root=ROOT):
    return sorted(p for p in (Path(root) / "lpn_mini").rglob("*.py") if "__pycache__" not in p.parts)


def _marked_lines(text):
    """[(line, marked?)] of a source file, stripped, without the marker lines themselves."""
    out, marked = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            marked = True
        elif stripped == END:
            marked = False
        else:
            out.append((stripped, marked))
    return out


def solution_lines(root=ROOT):
    """``{line: the function whose answer it is}`` for every line of a reference solution
    that would give part of an answer away: a line inside the markers anywhere in
    ``root/lpn_mini``, stripped, at least ``MIN_LINE`` characters, not a comment, and
    whose code (without its comment) is not also a line of the library outside the markers
    (an input check or a call the library makes elsewhere too). The grading package does
    not count as "outside": an answer line in a check or a fixture maker is a leak, not an
    excuse. Empty in the student edition, whose marked bodies are the stubs."""
    inside, outside = {}, set()
    for path in _library_files(root):
        text = path.read_text()
        owners = _owners(text, path) if BEGIN in text else {}
        grading = "grading" in path.relative_to(root).parts
        for line, marked in _marked_lines(text):
            if marked:
                inside.setdefault(line, owners.get(line, "?"))
            elif not grading:
                outside.add(_code_of(line))
    return {line: name for line, name in inside.items()
            if len(line) >= MIN_LINE and not line.startswith("#") and line not in GENERIC_LINES
            and not line.startswith("raise NotImplementedError(") and _code_of(line) not in outside}


def _owners(text, path):
    """``{stripped line: name of the function it is in}`` for the marked lines of a file."""
    tree = ast.parse(text, filename=str(path))
    lines = text.splitlines()
    owners = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for line in lines[node.lineno - 1:node.end_lineno]:
                owners.setdefault(line.strip(), node.name)
    return owners


def _code_of(line):
    """A line without its end-of-line comment, so that a copy with the comment changed
    still counts (a '#' inside a string is rare enough in these bodies)."""
    return line.split("  #", 1)[0].strip()


def _matcher(answers):
    """A function: a line of text -> the function whose answer it repeats, or None. A line
    matches whole, or by its code alone (either side's comment changed or dropped)."""
    index = dict(answers)
    index.update({_code_of(line): name for line, name in answers.items()
                  if len(_code_of(line)) >= MIN_LINE})

    def match(line):
        return index.get(line.strip()) or index.get(_code_of(line))
    return match


def find_answers(folder, answers=None):
    """``[(path, line number, line)]`` for every line of a file under ``folder`` that is a
    line of a reference solution (``solution_lines``), whole or without its comment."""
    match = _matcher(solution_lines() if answers is None else answers)
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue  # a binary file (a zip, an image) holds no source line
        for number, line in enumerate(text.splitlines(), 1):
            if match(line):
                found.append((str(path), number, line.strip()))
    return found


def has_solutions():
    """Whether this is the instructor's edition: reference bodies present in the library."""
    return edition.EDITION != "student" and bool(solution_lines())


def need_solutions(what):
    """Refuse, with one sentence, to do ``what`` in the student edition (no solutions here)."""
    if not has_solutions():
        raise ValueError(f"this is the student edition of lpn-mini: it holds no reference "
                         f"solutions, so it cannot {what}; run it in the instructor's checkout.")


# ----------------------------------------------------------- which exercise needs which

def _innermost(function):
    """The plain function under an autograd primitive (``.fun``) or a decorator."""
    return inspect.unwrap(getattr(function, "fun", function))


def _calls(function):
    """The lpn_mini functions ``function``'s code refers to by a global name (its nested
    functions and lambdas included), each as its innermost plain function."""
    function = _innermost(function)
    code = getattr(function, "__code__", None)
    if code is None:
        return set()
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if inspect.iscode(k))
    values = [function.__globals__.get(name) for name in names]
    # A call through a module the code's own module imported: ``architectures.encode`` hands
    # its parameters to ``model.encode`` or ``conv.encode``, found by the attribute's name.
    modules = [v for v in function.__globals__.values() if inspect.ismodule(v)
               and v.__name__.startswith("lpn_mini")]
    values += [getattr(m, name, None) for m in modules for name in names]
    return {_innermost(v) for v in values
            if callable(v) and getattr(v, "__module__", "").startswith("lpn_mini")}


def dependencies():
    """``{exercise number: sorted numbers of the other exercises it relies on}``, read from
    the library: every exercise function the reference code of this exercise reaches
    through the library's calls (``training_loss`` -> ``search_latents`` -> ... ->
    ``log_likelihood`` -> ``decode`` -> ``mlp_forward``). Needs the instructor's edition,
    where the marked bodies hold the reference code."""
    need_solutions("tell which exercise relies on which")
    provider = {_innermost(getattr(importlib.import_module(module), name)): ex.number
                for ex in EXERCISES for module, name in ex.functions}
    out = {}
    for ex in EXERCISES:
        frontier = [_innermost(getattr(importlib.import_module(m), n)) for m, n in ex.functions]
        seen = set(frontier)
        while frontier:
            for called in _calls(frontier.pop()) - seen:
                seen.add(called)
                frontier.append(called)
        out[ex.number] = sorted({provider[f] for f in seen if f in provider} - {ex.number})
    return out


# ------------------------------------------------------ the student's own functions

def _handout_root(folder=None):
    """The folder that holds ``exercises/``: the given one, the current one or one above
    it, or the one above the installed library."""
    candidates = [Path(folder)] if folder else [Path.cwd(), *Path.cwd().parents, ROOT]
    for c in candidates:
        if (c / "exercises").is_dir():
            return c / "exercises"
    raise FileNotFoundError("no exercises/ folder here or above; run this from the folder "
                            "you were given (the one with exercises/ and chapters/ in it).")


def _load_exercise(ex, exercises_dir):
    path = Path(exercises_dir) / ex.filename
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; it is where you write exercise {ex.number} "
                                "(`lpn-mini exercises build` writes a fresh template).")
    spec = importlib.util.spec_from_file_location(f"your_{ex.slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def student_function(name, folder=None):
    """Your own ``name`` from your exercise file (e.g. ``student_function("mlp_forward")``
    loads ``exercises/ex01_mlp_forward.py`` and returns its ``mlp_forward``)."""
    ex = next((e for e in EXERCISES if any(f == name for _, f in e.functions)), None)
    if ex is None:
        raise ValueError(f"no exercise asks for {name}(); the exercise functions are "
                         f"{', '.join(f for e in EXERCISES for _, f in e.functions)}.")
    return getattr(_load_exercise(ex, _handout_root(folder)), name)


def use_my_solutions(folder=None, echo=print):
    """Put your functions from ``exercises/`` in place of the library's, everywhere the
    library refers to them, so that the library (and a chapter) runs on your code. A
    function you have not written yet still raises NotImplementedError when called."""
    exercises_dir = _handout_root(folder)
    import lpn_mini  # noqa: F401  (load the library before swapping)
    for mod in ("training", "inference", "evaluation"):
        importlib.import_module(f"lpn_mini.{mod}")
    done = []
    for ex in EXERCISES:
        try:
            module = _load_exercise(ex, exercises_dir)
        except Exception as e:  # one broken file must not stop a chapter using the others
            echo(f"exercises/{ex.filename} could not be imported ({type(e).__name__}: {e}); "
                 "the library's stub stays in its place.")
            continue
        for module_name, name in ex.functions:
            original = getattr(importlib.import_module(module_name), name)
            mine = getattr(module, name)
            for mod in list(sys.modules.values()):
                if getattr(mod, "__name__", "").startswith("lpn_mini"):
                    for attr, value in list(vars(mod).items()):
                        if value is original:
                            setattr(mod, attr, mine)
        done.append(f"ex{ex.number:02d}")
    echo(f"running on your functions from {exercises_dir} ({', '.join(done)})")


# --------------------------------------------------------------- the student edition

def _skipped(rel, left_out=HIDDEN):
    """Whether ``rel`` (a path in the checkout) stays out of a copy that leaves out the
    paths ``left_out`` (and what is never copied: caches, generated reports)."""
    rel = rel.as_posix()
    return (any(rel == h or rel.startswith(h + "/") for h in left_out)
            or any(fnmatch.fnmatch(part, pattern) for part in rel.split("/") for pattern in NEVER_COPIED))


def _copy_library(out):
    """lpn_mini/ into ``out``, every solution body a stub, edition.py set to student."""
    for path in sorted(LIBRARY.rglob("*")):
        rel = path.relative_to(ROOT)
        if path.is_dir() or _skipped(rel):
            continue
        target = Path(out) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix != ".py":
            shutil.copyfile(path, target)
            continue
        text = path.read_text()
        if BEGIN in text:
            text = _stub_every_body(text, path)
        if rel.as_posix() == "lpn_mini/course/edition.py":
            text, n = re.subn(r'^EDITION = "instructor"$', 'EDITION = "student"', text, flags=re.M)
            if n != 1:
                raise ValueError(f"{path} has no line `EDITION = \"instructor\"` to switch; "
                                 "the handout builder sets the edition there.")
        target.write_text(text)


def _stub_every_body(text, path, only=None, raises=None):
    """Each marked body replaced by the stub of the function it is in; the markers stay
    around the stub, so that ``lpn-mini exercises build`` still works in the handout.
    only: a set of function names; then only the bodies inside those functions.
    raises: a function name -> the exception text its stub raises (``strip_solution``)."""
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text, filename=str(path))
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

    def owners(lineno):  # the functions around a line, innermost last
        inside = sorted((f for f in functions if f.lineno <= lineno <= f.end_lineno),
                        key=lambda f: f.lineno)
        if not inside:
            raise ValueError(f"{path}, line {lineno}: a solution block outside any function.")
        return [f.name for f in inside]

    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() != BEGIN:
            out.append(lines[i])
            i += 1
            continue
        j = next(k for k in range(i, len(lines)) if lines[k].strip() == END)
        names = owners(i + 1)
        if only is not None and not only.intersection(names):
            out += lines[i:j + 1]
            i = j + 1
            continue
        block = "".join(lines[i:j + 1])
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        stub = strip_solution(block, names[-1], raises and raises(names[-1]))
        out += [lines[i], *stub.splitlines(keepends=True), f"{indent}{END}\n"]
        i = j + 1
    return "".join(out)


# What the process that runs a student's code never gets in its copy of the library: the
# expected outputs and the fixture makers (which compute them with the references).
GRADER_ONLY = ("lpn_mini/course/fixtures/expected-visible",
               "lpn_mini/course/fixtures/expected-hidden", "lpn_mini/course/makers.py")


def copy_for_grading(exercise, out):
    """The library as the process that grades ``exercise`` sees it, into ``out/lpn_mini``:
    the bodies that exercise asks for stubbed (so its reference cannot be read there, with
    ``inspect.getsource`` or from the files), the reference of every exercise it relies on
    (``dependencies``: the instructor's edition grades each exercise on its own), every
    other exercise's body a line that raises (so that no answer is there to be carried
    from one exercise's process to a later one's: every exercise relies only on exercises
    before it, which are graded first), no expected outputs, no makers. Directories 0755
    and files 0644, so that another user can read but not change it."""
    keep = set(dependencies()[exercise.number]) if has_solutions() else set()
    number = {name: ex.number for ex in EXERCISES for _, name in ex.functions}
    asked = {}
    for ex in EXERCISES:
        if ex.number not in keep:
            for module_name, name in ex.functions:  # not "module": the CuPy scan's name
                rel = Path(*module_name.split(".")).with_suffix(".py").as_posix()
                asked.setdefault(rel, set()).add(name)

    def raises(name):
        if number.get(name, exercise.number) == exercise.number:
            return None  # the exercise's own stub, as the student's template has it
        return (f"RuntimeError(\"{name}() (exercise {number[name]}) is not available while "
                f"exercise {exercise.number} is graded: its reference does not use it\")")

    for path in sorted(LIBRARY.rglob("*")):
        rel = path.relative_to(ROOT)
        if path.is_dir() or _skipped(rel, GRADER_ONLY):
            continue
        target = Path(out) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text() if rel.as_posix() in asked else ""
        if BEGIN in text:
            target.write_text(_stub_every_body(text, path, only=asked[rel.as_posix()],
                                               raises=raises))
        else:
            shutil.copyfile(path, target)
        os.chmod(target, 0o644)
    for folder in [Path(out) / "lpn_mini", *(Path(out) / "lpn_mini").rglob("*")]:
        if folder.is_dir():
            os.chmod(folder, 0o755)


USE_MINE_CELL = '''# %%
# The student edition: the library's exercise functions are stubs. This runs the chapter on
# your own functions from exercises/ (a function you have not written yet raises
# NotImplementedError when the chapter calls it).
from lpn_mini.course.editions import student_function, use_my_solutions

use_my_solutions()

'''


def _cells(text):
    """A jupytext percent-format chapter as [(header line, body)], the preamble first."""
    cells, header, body = [], "", []
    for line in text.splitlines(keepends=True):
        if line.startswith("# %%"):
            cells.append((header, "".join(body)))
            header, body = line, []
        else:
            body.append(line)
    cells.append((header, "".join(body)))
    return cells


def _exercise_providing(name):
    return next(e for e in EXERCISES if any(f == name for _, f in e.functions))


def _exercises_named(functions):
    numbers = sorted({_exercise_providing(f).number for f in functions
                      if any(f == g for e in EXERCISES for _, g in e.functions)})
    return " and ".join(f"exercise {n}" for n in numbers) or "an exercise"


def student_chapter(text, name, answers):
    """A chapter for the handout. A first code cell runs it on the student's functions
    (``use_my_solutions``). A function of ``CHAPTER_ANSWERS`` becomes the student's own. A
    function with a line of a reference solution in it keeps its signature, and its body
    becomes a line that asks the student to write it; any other cell with such a line is
    left out, with a note."""
    match = _matcher(answers)
    tree = ast.parse(text, filename=name)
    lines = text.splitlines(keepends=True)
    for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef)),
                       key=lambda n: -n.lineno):
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        if node.name in CHAPTER_ANSWERS:
            ex = _exercise_providing(CHAPTER_ANSWERS[node.name])
            lines[start:node.end_lineno] = [
                f"# This is exercise {ex.number}: write it in exercises/{ex.filename}; the "
                "chapter runs yours.\n",
                f'{node.name} = student_function("{CHAPTER_ANSWERS[node.name]}")\n']
            continue
        shown = [match(line) for line in lines[start:node.end_lineno] if match(line)]
        if node.name in NEAR_ANSWERS:
            shown.append(NEAR_ANSWERS[node.name])
        if shown:
            body_start = node.body[0].lineno - 1
            if isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
                body_start = node.body[0].end_lineno  # keep the docstring
            indent = " " * node.body[0].col_offset
            why = (f"{node.name} is left out of the student edition: it shows part of the answer "
                   f"of {_exercises_named(shown)}; write it yourself (the text above says what "
                   "it does) to run the cells that use it")
            lines[body_start:node.end_lineno] = [f"{indent}raise NotImplementedError({why!r})\n"]
    out, first_code = [], True
    for header, body in _cells("".join(lines)):
        shown = [match(line) for line in body.splitlines() if match(line)]
        if shown:
            out.append(("# %% [markdown]\n", "# *A cell is left out of the student edition "
                        f"here: it shows part of the answer of {_exercises_named(shown)}.*\n\n"))
            continue
        if first_code and header.startswith("# %%") and "[markdown]" not in header:
            out.append(("", USE_MINE_CELL))
            first_code = False
        out.append((header, body))
    return "".join(h + b for h, b in out)


def _pyproject(root=ROOT):
    """The handout's pyproject.toml: the instructor's dependencies, the visible fixtures."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    project = tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]
    dependencies = ",\n    ".join(json.dumps(d) for d in project["dependencies"])
    docs = ", ".join(json.dumps(d) for d in project.get("optional-dependencies", {}).get("docs", []))
    from .. import __version__
    return f'''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "lpn-mini"
version = "{__version__}"
description = "lpn-mini, student edition: the Latent Program Network exercises (see README.md)."
readme = "README.md"
requires-python = "{project.get("requires-python", ">=3.10")}"
dependencies = [
    {dependencies},
]

[project.optional-dependencies]
test = ["pytest>=7"]
grade = ["pytest>=7"]
docs = [{docs}]

[project.scripts]
lpn-mini = "lpn_mini.cli:main"

[tool.setuptools.packages.find]
include = ["lpn_mini*"]

[tool.setuptools.package-data]
"lpn_mini.course" = ["fixtures/visible/*.json", "fixtures/expected-visible/*.json"]
'''


def chapter_of(slug):
    """The number of the chapter that builds exercise ``slug`` (``syllabus.CHAPTERS``)."""
    from .syllabus import CHAPTERS
    for number, row in enumerate(CHAPTERS):
        if slug in row.exercises:
            return number
    raise ValueError(f"no chapter of the syllabus builds exercise {slug!r}.")


def student_readme(deps):
    rows = []
    for ex in EXERCISES:
        needs = deps.get(ex.number, [])
        rows.append(f"| `exercises/{ex.filename}` | {chapter_of(ex.slug)} | {ex.title} | "
                    + (", ".join(f"ex{n:02d}" for n in needs) if needs else "none") + " |")
    table = "\n".join(rows)
    return f"""# lpn-mini exercises (student edition)

Ten exercises that rebuild the Latent Program Network of *Searching Latent Program Spaces*
(Macfarlane & Bonnet) in NumPy and autograd, numbered in the order of the chapters that
build them (`chapters/`; each chapter ends with its exercises). Each is one file in
`exercises/` with the statement at the top: which chapter builds it, what to implement, the
shapes, the equation and a hint. Replace each `raise NotImplementedError(...)` with your
code; keep the names and the signatures.

## Install

With Python 3.10 or newer, in a virtual environment:

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install -e ".[grade]"         # the library, and pytest, which the grader needs
```

## Check your work

```bash
lpn-mini grade                                 # every exercise in exercises/
lpn-mini grade exercises/ex06_kl_divergence.py # just one
```

prints, per exercise, the points (10 each) and one line per thing that is wrong: the checks
that found it and the points they carried (the check of an exercise's main lesson carries
at least half), the quantity, what was expected and what came back, and a hint. These are
the *visible* checks; your
instructor grades with more (other seeds and shapes), so code that only fits these numbers
will lose points.

## Which exercise relies on which

Here, an exercise runs on your own code for everything it uses, so a mistake in an
earlier exercise can make a later one fail; the grader then says which exercise to finish
first. Read from the library's code (every exercise function the reference reaches):

| file | chapter | exercise | relies on your |
|---|---|---|---|
{table}

A good order is the numbers' order, each exercise after reading its chapter.

## The chapters

`chapters/` holds the read-along chapters (`ch00_...py`, Jupytext percent format: open them
in Jupyter with `jupytext`, or run one with `python chapters/ch01_mlp.py` from this folder).
Each starts by putting your functions from `exercises/` in place of the library's, so a
chapter runs once the exercises it uses are done. `pip install -e ".[docs]"` adds Jupyter
support; `lpn-mini chapters render` writes them as HTML pages.

`lpn-mini grade` writes `results.json` next to your files; `.gitignore` leaves it out.
"""


GITIGNORE = "results.json\nsummary.json\n__pycache__/\n*.egg-info/\n.venv/\nbuild/\n"


def build_handout(out, force=False, echo=print):
    """Write the student edition into ``out``; return its path. Refuses a folder that is
    not empty unless ``force``, and fails without leaving a half-built folder behind when a
    line of a reference solution would end up in it."""
    need_solutions("build a handout")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; pass a folder for the handout.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"{out} is not empty; pass an empty or new folder, or --force to "
                         "replace what is in it.")
    answers = solution_lines()
    deps = dependencies()
    staging = Path(tempfile.mkdtemp(prefix="handout-", dir=out.parent if out.parent.is_dir() else None))
    try:
        _copy_library(staging)
        build(str(staging / "exercises"))
        (staging / "chapters").mkdir()
        for chapter in sorted((ROOT / "chapters").glob("ch*.py")):
            (staging / "chapters" / chapter.name).write_text(
                student_chapter(chapter.read_text(), chapter.name, answers))
        for rel in CHAPTER_DATA:
            if (ROOT / rel).is_file():
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / rel, staging / rel)
        (staging / "pyproject.toml").write_text(_pyproject())
        (staging / "README.md").write_text(student_readme(deps))
        (staging / ".gitignore").write_text(GITIGNORE)
        leaks = find_answers(staging, answers)
        if leaks:
            where = "; ".join(f"{Path(p).relative_to(staging)}:{n}: {line}" for p, n, line in leaks[:5])
            raise ValueError(f"the handout would hold {len(leaks)} line(s) of the reference "
                             f"solutions ({where}); nothing was written to {out}.")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    echo(f"wrote the student edition to {out} ({sum(1 for p in out.rglob('*') if p.is_file())} files); "
         f"students install it with pip install -e \"{out}[grade]\"")
    return out
