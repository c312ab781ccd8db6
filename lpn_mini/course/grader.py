"""The autograder: the graded checks (``lpn_mini/course/checks/``), run on a student's files.

Each exercise is graded in its own ``pytest`` process, so that a student's exception,
infinite loop or wrong shape costs that exercise's points and never the grader. Each check
carries the points its check file gives it by name (``POINTS``: the check of the
exercise's core lesson carries at least half), the rest shared equally among the others;
a check's points are split equally between the fixture sets it runs on. The feedback is
one line per wrong thing: failed checks whose hints are the same (one wrong value, found
by several checks) make one line, naming every check in it and the points they carried. In the instructor's edition every check runs on
the visible and on the hidden fixtures, and each result says which; in the student edition
(``edition.py``) only the visible ones run, and a check that fails in a function an earlier
exercise provides says which exercise to finish first.

The student's code runs with the rights of whoever runs the grader, unless the grader runs
as root and is given another user (``grade --user``; the Gradescope zip does it by itself):
then it runs as that user, who must not be able to read the answers (``child_account``).
The other limits here keep an honest mistake (or a casual cheat) from costing more than its
points; they are not a sandbox (exercises/README.md shows how to grade in a container):

- only functions the file defines itself earn points: each required function must be a
  ``def`` in the file (checked here, with ``ast``) and the loaded function's code must come
  from the file (checked in the child); the library's own function raises while the
  student's code runs;
- the child imports its own copy of the library (``editions.copy_for_grading``), in which
  the bodies this exercise asks for are stubs, so the answer cannot be read out of the
  library it imports either;
- the child never has the expected outputs: its fixtures are the inputs, with a
  placeholder (place, shape, dtype) where each expected output belongs (``fixtures.py``).
  It sends back, per check, what the student's function gave (values and gradients as
  float64 lists with shape and dtype) and the outcome of the checks that need no
  reference; this process loads the expected outputs (before the child starts, from a
  folder the child is not told about: not on its command line, not in its environment),
  replays each comparison (``compare.replay``: the same feedback lines, with no tolerance
  looser than the checks' own), and a check passes only if every comparison it recorded
  does, it recorded at least one, and it compared every output the reference's run of it
  compares (listed in the expected files by ``makers.write_compared``);
- the child never sees where the report goes: it sends its per-test outcomes back over a
  pipe, each message led by a random token written on its stdin, and this process checks
  the token, computes the points and writes every report after the last child has ended;
- the child's address space is limited (``RLIMIT_AS``, ``memory_mb``), its wall-clock time
  is limited (``timeout``, then its whole process group is killed), and only the last
  ``OUTPUT_TAIL`` bytes of what it prints are kept, read as it comes.
"""
import ast
import importlib.util
import json
import os
import pwd
import re
import resource
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import edition, editions, fixtures
from .checks.compare import compared, replay
from .exercises import EXERCISES, POINTS, by_slug

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
MEMORY_MB = 4096       # address space per exercise; the reference solutions pass with 1024
OUTPUT_TAIL = 64 * 1024  # bytes of the child's output kept (the last ones)
MESSAGES_MAX = 16 << 20  # bytes of results a child may send (what its functions gave)
COMPARED = "__compared__"  # in an expected file: {check id: the outputs it compares}
NOTHING_COMPARED = ("this check compared nothing with the reference numbers (did the code "
                    "change the checks?); it earns no points.")


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
    tests: list = field(default_factory=list)     # {"test", "passed", "visibility", "message", "uses"}

    @property
    def done(self):
        return self.total > 0 and self.passed == self.total


def _exercise_of(path):
    name = Path(path).name
    for ex in EXERCISES:
        if ex.filename == name:
            return ex
    raise ValueError(f"{path} is not an exercise file; names are like {EXERCISES[0].filename} "
                     f"(see exercises/).")


def has_pytest():
    return importlib.util.find_spec("pytest") is not None


def _where(node):
    return f"line {node.lineno}"


def static_check(path, names):
    """None if the file defines every function in ``names`` with a top-level ``def`` and
    never rebinds it; else the one line that says why it earns no points."""
    try:
        tree = ast.parse(Path(path).read_text(), filename=str(path))
    except SyntaxError as e:
        return f"{path} could not be imported (SyntaxError at line {e.lineno}: {e})"
    except (UnicodeDecodeError, ValueError) as e:
        return f"{path} could not be read as Python source ({e})"
    defined, rebound = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
            rebound.pop(node.name, None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            source = getattr(node, "module", None) or "a module"
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                rebound[bound] = f"imports {bound} from {source} ({_where(node)})"
        else:
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    rebound[target.id] = f"assigns {target.id} ({_where(target)})"
    for name in names:
        if name in rebound:
            return (f"{path} {rebound[name]} instead of defining it: only functions the file "
                    f"defines itself, with `def {name}(...)`, earn points.")
        if name not in defined:
            return (f"{path} defines no function {name}(); keep the name and the signature "
                    "of the template.")
    return None


def check_file(exercise):
    """The file of checks that grades ``exercise``."""
    return CHECKS_DIR / f"test_ex{exercise.number:02d}_{exercise.slug}.py"


def visibilities(which=None):
    """The fixture sets graded in an edition: visible and hidden, or visible only."""
    return ("visible",) if (which or edition.EDITION) == "student" else ("visible", "hidden")


def _limit_memory(memory_mb):
    """What the child runs before Python starts: its address space limited to ``memory_mb``
    (a NumPy allocation beyond it raises MemoryError, which the plugin reports)."""
    limit = int(memory_mb * 2**20)

    def preexec():
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return preexec


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(cmd, token, timeout, memory_mb, cwd, env, account=None):
    """Run the grading child (as ``account``'s user where one is given); return (messages,
    output tail, bytes printed, timed out, return code). Its output and its messages are
    read as they come, so the grader's memory stays bounded whatever the child prints."""
    read_fd, write_fd = os.pipe()
    cmd = [*cmd, "--grading-fd", str(write_fd)]
    as_user = dict(user=account.uid, group=account.gid, extra_groups=[]) if account else {}
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                pass_fds=(write_fd,), start_new_session=True,
                                preexec_fn=_limit_memory(memory_mb), **as_user)
    finally:
        os.close(write_fd)
    try:
        proc.stdin.write(token.encode() + b"\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass
    tail, messages, printed, timed_out, ended = bytearray(), bytearray(), 0, False, None
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, "out")
    selector.register(read_fd, selectors.EVENT_READ, "messages")
    open_streams = 2
    try:
        while open_streams:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            # A process the student's code started may hold the pipes open after the child
            # itself has ended: read what is there for a second more, then stop waiting.
            if ended is None and proc.poll() is not None:
                ended = time.monotonic()
            if ended is not None and time.monotonic() - ended > 1.0:
                break
            for key, _ in selector.select(timeout=min(left, 0.25)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                elif key.data == "out":
                    printed += len(chunk)
                    tail += chunk
                    del tail[:-OUTPUT_TAIL]
                elif len(messages) < MESSAGES_MAX:
                    messages += chunk[:MESSAGES_MAX - len(messages)]
        if not timed_out:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        _kill_group(proc)  # also whatever the student's code started
        proc.wait()
        selector.close()
        proc.stdout.close()
        os.close(read_fd)
    return bytes(messages), bytes(tail), printed, timed_out, proc.returncode


def _valid_message(data, token):
    """The first message led by ``token`` that has the shape the plugin sends, else None."""
    for line in data.decode(errors="replace").splitlines():
        head, _, body = line.partition(" ")
        if not secrets.compare_digest(head, token):
            continue
        try:
            message = json.loads(body)
        except ValueError:
            continue
        if isinstance(message, dict) and isinstance(message.get("import_error"), str):
            return message
        tests = message.get("tests") if isinstance(message, dict) else None
        if isinstance(tests, list) and all(
                isinstance(t, dict) and isinstance(t.get("test"), str)
                and isinstance(t.get("passed"), bool) and isinstance(t.get("message"), str)
                and t.get("visibility") in ("visible", "hidden")
                and isinstance(t.get("uses"), list)
                and isinstance(t.get("records", []), list) for t in tests):
            return message
    return None


def load_references(exercise, sets, expected_dir=None):
    """{visibility: (expected outputs, full fixture dict)} for ``exercise``, read in this
    process only."""
    out = {}
    for v in sets:
        expected = fixtures.load_expected(exercise.slug, v, expected_dir)
        out[v] = (expected, fixtures.fill(fixtures.load(exercise.slug, v), expected))
    return out


def judge(test, references, collect=None):
    """``test`` (a child's result) with its recorded comparisons replayed against the
    expected outputs: the first failing one is its feedback line. A check that passed in the
    child fails if it compared nothing with a reference, or (where the expected file lists
    what each check compares, ``COMPARED``) left out an output the reference's run compares.
    ``collect``: a dict that receives, per check, the outputs it compared (``makers``)."""
    if test["visibility"] not in references:
        return {**test, "passed": False, "message": "not a check of this edition."}
    expected, fx = references[test["visibility"]]
    records = test.get("records", [])
    for record in records:
        line = (replay(record, expected, fx) if isinstance(record, dict) else
                "the grader could not read what this check recorded; it earns no points.")
        if line:
            return {**test, "passed": False, "message": line}
    done = {compared(r) for r in records}
    if collect is not None:
        collect[test["test"]] = sorted(done)
    if test["passed"] and not records:
        return {**test, "passed": False, "message": NOTHING_COMPARED}
    missing = set(expected.get(COMPARED, {}).get(test["test"], ())) - done
    if test["passed"] and missing and collect is None:
        return {**test, "passed": False, "message": NOTHING_COMPARED.replace(
            "compared nothing", f"did not compare {len(missing)} of its quantities")}
    return test


def _check_names(exercise):
    tree = ast.parse(check_file(exercise).read_text())
    return tree, [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                  and n.name.startswith("test_")]


def expected_tests(exercise, sets):
    """The ids of the checks that grade ``exercise``: each test function of its check file,
    once per set (``test_sample[visible]``, ...)."""
    _, names = _check_names(exercise)
    return [f"{name}[{v}]" for name in names for v in sets]


def check_points(exercise):
    """``{check name: its points}`` for ``exercise``, summing to ``POINTS``: the points its
    check file gives by name in a literal dict ``POINTS`` (the checks of the exercise's
    core lesson), the rest shared equally among its other checks."""
    tree, names = _check_names(exercise)
    given = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "POINTS"
                                                for t in node.targets):
            given = ast.literal_eval(node.value)
    rest = [name for name in names if name not in given]
    left = POINTS - sum(given.values())
    if set(given) - set(names) or left < -1e-9 or (rest and left <= 0) or (
            not rest and abs(left) > 1e-9):
        raise ValueError(f"{check_file(exercise).name}: POINTS {given} must name its checks "
                         f"and leave a share of the {POINTS} points for each other check.")
    return {name: given[name] if name in given else left / len(rest) for name in names}


def _hint_of(message):
    """What groups failed checks into one line: the hint of a feedback line (the same hint
    is the same lesson), or the whole line where it has none (an exception)."""
    head, sep, hint = message.partition(" Hint: ")
    return hint if sep else message


def grouped_feedback(tests, total=POINTS):
    """One line per group of failed ``tests`` with the same hint, in the checks' order:
    the names of the checks (with the sets they failed on; "every check" when all failed
    alike), the points they carried, and the first check's message (a visible one where
    there is one)."""
    groups = {}
    for t in tests:
        if not t["passed"]:
            groups.setdefault(_hint_of(t["message"]), []).append(t)
    lines = []
    for group in groups.values():
        sets = {}
        for t in group:
            name, bracket, which = t["test"].rpartition("[")
            sets.setdefault(name if bracket else t["test"], []).append(which.rstrip("]"))
        if len(group) == len(tests):  # one thing wrong everywhere: no list of every name
            names = "every check"
        else:
            names = ", ".join(f"{name}[{', '.join(v for v in which if v)}]" if any(which)
                              else name for name, which in sets.items())
        lost = sum(t.get("points", 0.0) for t in group)
        carried = f" ({round(lost, 2):g} of the {total:g} points)" if lost else ""
        lines.append(f"{names}{carried}: {group[0]['message']}")
    return lines


def _complete(tests, exercise, sets):
    """The child's results, one per expected check (the first it sent for each id); a check
    it did not report fails."""
    sent = {}
    for t in tests:
        sent.setdefault(t["test"], t)
    return [sent.get(i) or {"test": i, "passed": False, "visibility": i[:-1].rpartition("[")[2],
                            "message": "the grader got no result for this check.", "uses": [],
                            "records": []}
            for i in expected_tests(exercise, sets)]


@dataclass(frozen=True)
class Account:
    """The user a student's code runs as (``grade --user``), and the folders under
    ``SHARED_FOLDERS`` that user may write to (``writable_folders``), which ``sweep`` empties
    of what it left there after each exercise."""
    name: str
    uid: int
    gid: int
    writable: tuple = ()


READABLE_BY = """\
import sys
for path in sys.argv[1:]:
    try:
        open(path, "rb").close()
        print(path)
    except OSError:
        pass
"""


def child_account(name):
    """The unprivileged user ``name`` to run students' code as; one clear error if the
    grader cannot switch to it, or if that user could read the reference solutions or the
    expected outputs (then running as it would protect nothing)."""
    if os.geteuid() != 0:
        raise ValueError(f"--user {name} needs the grader to run as root (it switches to that "
                         "user for each student's code); run it as root, e.g. in a container, "
                         "or grade without --user.")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ValueError(f"there is no user {name!r} on this machine; pass an existing "
                         "unprivileged user (e.g. nobody) or create one with useradd.") from None
    if entry.pw_uid == 0:
        raise ValueError(f"--user {name} is root; pass an unprivileged user such as nobody.")
    account = Account(name, entry.pw_uid, entry.pw_gid,
                      writable_folders(entry.pw_uid, entry.pw_gid))
    secrets_ = [editions.LIBRARY / "latent.py",
                Path(fixtures.expected_folder()) / "expected-visible" / "reparameterize.json"]
    try:
        probe = subprocess.run([sys.executable, "-S", "-c", READABLE_BY, *map(str, secrets_)],
                               capture_output=True, text=True, timeout=60, cwd="/",
                               user=account.uid, group=account.gid, extra_groups=[])
    except (OSError, subprocess.SubprocessError) as e:
        raise ValueError(f"user {name} cannot run this Python ({sys.executable}: {e}); make it "
                         "readable to that user, or grade without --user.") from None
    if probe.returncode != 0:
        raise ValueError(f"user {name} cannot run this Python ({sys.executable}); make it "
                         "readable to that user, or grade without --user.")
    readable = probe.stdout.split()
    if readable:
        raise ValueError(f"user {name} can read {readable[0]}, so a student's code could copy "
                         f"the answers from it; make the grader's files unreadable to that user "
                         f"(chmod -R go-rwx {Path(readable[0]).parent}) and grade again.")
    return account


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # where every user may write
KILL_ALL = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"


def writable_folders(uid, gid):
    """Every folder under ``SHARED_FOLDERS`` (at any depth, links not followed) that the
    user ``uid`` of group ``gid`` may write to: the only places where that user's code can
    leave something for code that runs after it (besides folders it makes there itself)."""
    found = []
    for top in SHARED_FOLDERS:
        for folder, dirs, _ in os.walk(top):
            try:
                st = os.lstat(folder)
            except OSError:
                continue
            if (st.st_mode & stat.S_IWOTH or (st.st_uid == uid and st.st_mode & stat.S_IWUSR)
                    or (st.st_gid == gid and st.st_mode & stat.S_IWGRP)):
                found.append(folder)
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return tuple(found)


def live_processes(uid):
    """The pids of the processes of user ``uid`` that are still alive. A zombie (state Z, or
    X on its way out) is not: it has ended, holds no memory and no files, and waits only for
    its parent (often PID 1, which may take seconds) to read its exit status. Empty where
    there is no /proc to read."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
        except OSError:  # the process ended while we looked
            continue
        if (int(fields["Uid"].split()[0]) == uid
                and fields["State"].split()[0] not in ("Z", "X")):
            pids.append(int(status.parent.name))
    return tuple(pids)


def _end_processes(account, deadline_s=10.0):
    """Kill every process of ``account``'s user (``kill(-1)`` from a process of that user
    reaches all of them at once, so none can fork away from it), and return only once none
    is alive: a dying process could still write a file after the sweep removed them. The
    kill is repeated each second until the deadline, then the grader stops."""
    end = time.monotonic() + deadline_s
    while True:
        subprocess.run([sys.executable, "-S", "-c", KILL_ALL], user=account.uid,
                       group=account.gid, extra_groups=[], cwd="/", capture_output=True,
                       timeout=60)
        again = min(time.monotonic() + 1.0, end)
        while (left := live_processes(account.uid)) and time.monotonic() < again:
            time.sleep(0.01)
        if not left:
            return
        if time.monotonic() >= end:
            raise RuntimeError(
                f"processes {', '.join(map(str, left))} of user {account.name} were still "
                f"alive {deadline_s:.0f} s after SIGKILL, so they could hand something to the "
                f"next exercise; grading stopped: end them (kill -9 {left[0]}) and grade again.")


def sweep(account, deadline_s=10.0):
    """After a student's code ran as ``account``'s user: end every process of that user
    (one that escaped the process group) and remove every file and folder that user owns
    in the folders it may write to (``account.writable``), so that nothing is handed from
    one exercise's process (or one student's) to the next."""
    _end_processes(account, deadline_s)
    for folder in account.writable:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != account.uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def _hand_over(path, which, folder, account):
    """A copy of the student's file (and, in the student edition, of the other exercise
    files beside it) in ``folder``, owned by ``account``'s user, which may not be able to
    read the original; the copy's path."""
    names = [Path(path).name] + ([ex.filename for ex in EXERCISES] if which == "student" else [])
    for name in dict.fromkeys(names):
        source = Path(path).parent / name
        if source.is_file():
            shutil.copyfile(source, folder / name)
            os.chown(folder / name, account.uid, account.gid)
    os.chown(folder, account.uid, account.gid)
    return folder / Path(path).name


def child_environment(library, work):
    """The environment of the process that runs the student's code: the grader's, less
    what says where the expected outputs are, with ``library`` (the copy made for this
    exercise) first on the import path and nothing else that holds lpn_mini."""
    env = {k: v for k, v in os.environ.items() if k not in (fixtures.EXPECTED_ENV, "OLDPWD")}
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
             if p and not (Path(p) / "lpn_mini").exists()]
    env.update(PYTHONPATH=os.pathsep.join([str(library), *paths]), MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", PWD=str(work), HOME=str(work),
               MPLCONFIGDIR=str(work))
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(threads, "1")  # fewer BLAS buffers under the memory limit
    return env


def grade_file(exercise, path, timeout=120, memory_mb=MEMORY_MB, edition_name=None,
               expected_dir=None, collect=None, account=None):
    """Grade one student file for one exercise (in the student edition, with the student's
    other files in the same folder for the functions of other exercises it relies on).
    ``expected_dir``: where the expected-<set>/ folders are (else $LPN_MINI_EXPECTED, else
    the package's fixtures folder). ``account``: run the student's code as that user
    (``child_account``), on a copy of the file.

    The child imports its own copy of the library (``editions.copy_for_grading``): this
    exercise's bodies stubbed, no expected outputs, removed when it ends."""
    which = edition_name or edition.EDITION
    result = ExerciseResult(exercise.number, exercise.slug, exercise.title, 0.0, POINTS)
    if not os.path.exists(path):
        result.feedback.append(f"no file {path}: nothing to grade.")
        return result
    refused = static_check(path, [name for _, name in exercise.functions])
    if refused:
        result.feedback.append(refused)
        return result
    references = load_references(exercise, visibilities(which), expected_dir)  # before the child
    token = secrets.token_hex(16)
    submission = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="lpn-grading-") as tmp:
        library, work = Path(tmp) / "library", Path(tmp) / "work"
        editions.copy_for_grading(exercise, library)
        work.mkdir()
        if account:
            os.chmod(tmp, 0o755)  # the child's user may enter; the library copy is read-only
            submission = _hand_over(path, which, work, account)
        checks = library / CHECKS_DIR.relative_to(editions.ROOT)
        cmd = [sys.executable, "-m", "pytest", str(checks / check_file(exercise).name), "-q",
               "-s", "--tb=no", "-rN", "-p", "no:cacheprovider", "-p", "lpn_mini.course.plugin",
               "--rootdir", str(checks), "--exercise", exercise.slug, "--submission",
               str(submission), "--edition", which, "--library", str(library)]
        try:
            run = run_child(cmd, token, timeout, memory_mb, work,
                            child_environment(library, work), account)
        finally:
            if account:
                sweep(account)
    _read_child(result, run, token, references, exercise, which, collect, timeout, memory_mb)
    if account:  # the lines name the copy; the student knows the file by its own path
        result.feedback = [line.replace(str(submission.parent), str(Path(path).resolve().parent))
                           for line in result.feedback]
    return result


def _read_child(result, run, token, references, exercise, which, collect, timeout, memory_mb):
    """Fill ``result`` from what the child sent (``run``, what ``run_child`` returned)."""
    messages, tail, printed, timed_out, code = run
    if printed > OUTPUT_TAIL:
        result.feedback.append(f"the code printed {printed / 2**20:.1f} MiB; the grader kept only "
                               f"the last {OUTPUT_TAIL // 1024} KiB of the output.")
    if timed_out:
        result.feedback.append(f"timed out after {timeout} s: is there an infinite loop?")
        return
    data = _valid_message(messages, token)
    if data is None:
        text = tail.decode(errors="replace")
        if "MemoryError" in text or code == -signal.SIGKILL:
            result.feedback.append(f"memory limit: the tests stopped without a result, out of "
                                   f"the {memory_mb:g} MiB the grader gives each exercise.")
        last = next((l.strip() for l in reversed(text.splitlines()) if l.strip()), "")
        result.feedback.append("the tests could not run on this file (the grader got no "
                               f"result, exit status {code}); run it with python to see the "
                               "error." + (f" Its last output: {last[:200]}" if last else ""))
        return
    if "import_error" in data:
        result.feedback.append(data["import_error"])
        return
    sets = visibilities(which)
    weights = check_points(exercise)
    result.tests = [{**{k: t[k] for k in ("test", "passed", "visibility", "message", "uses")},
                     "points": weights[t["test"].rpartition("[")[0]] / len(sets)}
                    for t in (judge(t, references, collect) for t in
                              _complete(data["tests"], exercise, sets))]
    result.total = len(result.tests)
    result.passed = sum(t["passed"] for t in result.tests)
    result.points = round(sum(t["points"] for t in result.tests if t["passed"]), 2)
    result.feedback += grouped_feedback(result.tests, POINTS)


def _provider(name):
    """The exercise whose student file provides the function ``name``."""
    return next(ex for ex in EXERCISES for _, f in ex.functions if f == name)


def explain_dependencies(results, folder, timeout, memory_mb, grade=None):
    """Student edition: after each exercise whose failed checks called a function of another
    exercise that is not done (or fails its own checks), a line that says which to finish
    first. ``results`` are what was graded; other exercises are graded here when needed."""
    grade = grade or (lambda ex: grade_file(ex, Path(folder) / ex.filename, timeout, memory_mb,
                                            "student"))
    known = {r.slug: r for r in results}
    for r in results:
        used = sorted({name for t in r.tests if not t["passed"] for name in t["uses"]},
                      key=lambda name: _provider(name).number)
        for name in used:
            ex = _provider(name)
            if ex.slug not in known:
                known[ex.slug] = grade(ex)
            if not known[ex.slug].done:
                r.feedback.append(f"exercise {r.number} uses {name} from exercise {ex.number}, "
                                  "which is not done yet (or fails its checks): finish "
                                  f"ex{ex.number:02d} first.")
    return results


def grade_submission(path, timeout=120, only=None, memory_mb=MEMORY_MB, edition_name=None,
                     account=None):
    """Grade a folder of exercise files (or one file). Returns a list of ExerciseResult."""
    which = edition_name or edition.EDITION
    path = Path(path)
    if path.is_file():
        exercises, folder = [_exercise_of(path)], path.parent
    else:
        exercises, folder = ([by_slug(s) for s in only] if only else EXERCISES), path
    results = [grade_file(ex, folder / ex.filename, timeout, memory_mb, which, account=account)
               for ex in exercises]
    if which == "student":
        explain_dependencies(results, folder, timeout, memory_mb, grade=lambda ex: grade_file(
            ex, folder / ex.filename, timeout, memory_mb, "student", account=account))
    return results


def is_submission(folder):
    return any((Path(folder) / ex.filename).exists() for ex in EXERCISES)


def gradescope_json(results, which=None):
    """The results in the shape Gradescope's autograder reads from results.json: one entry
    per exercise and visibility ("visible", or "hidden" in the instructor's edition), each
    worth its share of the exercise's points (every check runs once per visibility)."""
    sets = visibilities(which)
    tests = []
    for r in results:
        names = {t["test"].rpartition("[")[0] or t["test"] for t in r.tests}
        general = [line for line in r.feedback
                   if not any(line.startswith((name + "[", name + ": ")) for name in names)]
        for v in sets:
            mine = [t for t in r.tests if t["visibility"] == v]
            lines = general + grouped_feedback(mine, r.max_points)
            share = r.max_points / len(sets)
            if mine and all("points" in t for t in mine):
                score = round(sum(t["points"] for t in mine if t["passed"]), 2)
            else:
                score = round(share * sum(t["passed"] for t in mine) / len(mine), 2) if mine else 0.0
            tests.append({"name": f"Exercise {r.number:02d}: {r.title}"
                                  + (f" ({v} checks)" if len(sets) > 1 else ""),
                          "score": score, "max_score": share, "visibility": v,
                          "output": "\n".join(lines) or "all checks pass"})
    return {"score": round(sum(r.points for r in results), 2),
            "max_score": sum(r.max_points for r in results), "tests": tests}


# The message of a student stub's NotImplementedError (exercises.strip_solution writes it).
STUB = re.compile(r"NotImplementedError: (\w+) is not implemented yet")


def not_started(result):
    """The stubbed functions of an exercise whose every check failed on the stub's
    NotImplementedError (the student has not started it); None otherwise."""
    failed = [t for t in result.tests if not t["passed"]]
    names = [STUB.search(t.get("message") or "") for t in failed]
    if result.passed or not failed or not all(names):
        return None
    return sorted({m.group(1) for m in names})


def print_results(results, echo=print):
    for r in results:
        status = "PASS" if r.passed == r.total and r.total else "FAIL"
        stubs = not_started(r)
        if stubs:  # one line, not one per check: nothing has been tried yet
            echo(f"TODO  ex{r.number:02d} {r.title:<48} {r.points:5.1f} / {r.max_points:g}   "
                 f"not started ({', '.join(stubs)} still raises NotImplementedError)")
            continue
        echo(f"{status}  ex{r.number:02d} {r.title:<48} {r.points:5.1f} / {r.max_points:g}"
             + (f"   ({r.passed}/{r.total} checks)" if r.total else ""))
        for line in r.feedback:
            echo(f"        - {line}")
    total = sum(r.points for r in results)
    echo(f"total: {total:.1f} / {sum(r.max_points for r in results):g}")


def _write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def graded_anything(everything):
    """Whether any exercise of any submission ran its tests (``grade``'s return value)."""
    return any(r.total for results in everything.values() for r in results)


def grade(path, json_path=None, timeout=120, echo=print, memory_mb=None, user=None):
    """``lpn-mini grade``: one submission (a folder of exercise files, or one file) or a
    folder of submissions (one sub-folder per student), with a summary table for several.
    Every report is written after the last student's code has finished running.
    ``user``: run the students' code as that user (``child_account``)."""
    if not timeout > 0:  # also refuses NaN
        raise ValueError(f"the timeout must be a positive number of seconds per exercise, got "
                         f"{timeout}; e.g. --timeout 120.")
    memory_mb = MEMORY_MB if memory_mb is None else memory_mb
    if not memory_mb >= 64:
        raise ValueError(f"the memory limit must be at least 64 MiB per exercise, got "
                         f"{memory_mb}; e.g. --memory {MEMORY_MB}.")
    if not has_pytest():
        raise ValueError("the grader runs its checks with pytest, which is not "
                         "installed; install it with `pip install -e '.[grade]'`.")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; pass a folder of exercise files, one "
                                "exercise file, or a folder of student folders.")
    account = child_account(user) if user else None
    if path.is_file() or is_submission(path):
        results = grade_submission(path, timeout, memory_mb=memory_mb, account=account)
        print_results(results, echo)
        out = json_path or (path.parent if path.is_file() else path) / "results.json"
        _write_json(out, gradescope_json(results))
        echo(f"wrote {out}")
        return {str(path): results}
    students = sorted(p for p in path.iterdir() if p.is_dir() and is_submission(p))
    if not students:
        raise ValueError(f"{path} holds no exercise files (ex01_mlp_forward.py, ...) and no "
                         "student folders that do.")
    everything = {}
    for student in students:
        echo(f"== {student.name}")
        results = grade_submission(student, timeout, memory_mb=memory_mb, account=account)
        print_results(results, echo)
        everything[student.name] = results
    echo("\n| student | " + " | ".join(f"ex{e.number:02d}" for e in EXERCISES) + " | total |")
    echo("|---|" + "---|" * (len(EXERCISES) + 1))
    for name, results in everything.items():
        echo(f"| {name} | " + " | ".join(f"{r.points:g}" for r in results)
             + f" | {sum(r.points for r in results):g} |")
    for name, results in everything.items():  # after every student's code has run
        _write_json(path / name / "results.json", gradescope_json(results))
    summary = json_path or path / "summary.json"
    _write_json(summary, {k: [asdict(r) for r in v] for k, v in everything.items()})
    echo(f"wrote {summary} and a results.json in each student folder")
    return everything
