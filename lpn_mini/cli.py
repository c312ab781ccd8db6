"""The ``lpn-mini`` command: train, evaluate, demo, show."""
import argparse
import contextlib
import dataclasses
import difflib
import json
import os
import re
import sys
import time


from . import __version__
from .device.backend import get_module, to_device
from .device.blas import ENV as THREADS_ENV, blas_threads, chosen_threads, describe, parse_threads
from .checkpoint import checkpoint_step, find_checkpoint, load_checkpoint, run_lock
from .config import (EVALUATION_OVERRIDES, PRESETS, RENAMED, describe_keys, make_config,
                     refuse_ambiguous, warnings_of, with_overrides)
from .evaluation import PAPER_TABLE1, eval_tasks, evaluate, markdown_table, training_label
from .training import check_model_fits, train

DESCRIPTION = """\
lpn-mini: the Latent Program Network (Macfarlane & Bonnet) in NumPy + autograd.

  lpn-mini demo                          train a small LPN on the Pattern task (about a
                                         minute on a laptop CPU), evaluate it, write plots
  lpn-mini train --config small          train; writes runs/small/ (checkpoint, metrics)
  lpn-mini evaluate runs/small           leave-one-out scores for Grad K and Sample N
  lpn-mini show runs/small               draw tasks and predictions to PNG
  lpn-mini reproduce table1 --jobs 2     the paper's Table 1 at laptop scale, 5 seeds
                                         (also ood, latent2d, arc; --quick for a smoke run)
  lpn-mini chapters render               execute the read-along chapters to HTML
  lpn-mini exercises build               write the student exercises into exercises/
  lpn-mini exercises handout OUT         the student edition: a folder with no solutions
  lpn-mini exercises autograder OUT.zip  the Gradescope autograder
  lpn-mini grade [exercises/]            grade exercise files with the graded checks
                                         (needs pytest: pip install -e ".[grade]")

Presets: {presets}. Change any hyperparameter with --set KEY=VALUE (repeatable) or a TOML
file with --toml; `lpn-mini train --list-keys` prints every key with its value, what it
allows and what it means. `steps` is how long to train; `latent_steps` is K, the latent
gradient steps inside every training step.

Threads: train, demo, evaluate and show pick the BLAS thread count by the machine's load:
one per core when other programs keep less than half a core busy, else 1, the faster
choice in every condition measured on a 2-core machine (docs/threads.md). Change it with --threads N or {threads_env}=N; where
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS is set, lpn-mini leaves BLAS
alone. A run directory is locked while it trains: a second training into it is refused.
"""


SHOW_FIGURE = "show_predictions.png"  # `evaluate` writes predictions.png: another figure


def _config_args(p):
    p.add_argument("--config", default="small", metavar="PRESET",
                   help=f"named preset: {', '.join(PRESETS)} (default: small)")
    p.add_argument("--toml", metavar="FILE", help="TOML file of KEY = VALUE overrides")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set steps=500 (repeatable)")
    _device_arg(p)
    _threads_arg(p)


def _threads_arg(p):
    p.add_argument("--threads", metavar="N",
                   help=f"BLAS threads for the matrix products (default: one per core on an "
                        f"idle machine, else 1: docs/threads.md); also the environment variable "
                        f"{THREADS_ENV}")


def _fresh_args(p):
    p.add_argument("--no-resume", action="store_true",
                   help="start from scratch even if the run directory has a checkpoint (what "
                        "the earlier run wrote is moved into its previous/ folder)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _device_arg(p):
    p.add_argument("--device", choices=["cpu", "gpu"],
                   help="where the arrays live: cpu (NumPy, the default) or gpu (CuPy); "
                        "also the environment variable LPN_MINI_DEVICE")


class Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command or choice (``lpn-mini trian``).
    The subcommands' parsers are of this class too (argparse makes them like their parent)."""

    def error(self, message):
        wrong = re.match(r"argument .*: invalid choice: '(.*?)' \(choose from (.*)\)", message)
        if wrong:
            choices = [c.strip(" '") for c in wrong.group(2).split(",")]
            close = difflib.get_close_matches(wrong.group(1), choices, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
        super().error(message)


def build_parser():
    parser = Parser(
        prog="lpn-mini", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=DESCRIPTION.format(presets=", ".join(PRESETS), threads_env=THREADS_ENV))
    parser.add_argument("--version", action="version", version=f"lpn-mini {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train LPN (Algorithm 2) and checkpoint it")
    _config_args(p)
    p.add_argument("--run-dir", help="where to write the run (default: runs/<preset>)")
    _fresh_args(p)
    p.add_argument("--list-keys", action="store_true",
                   help="print every config key (with --config, --toml and --set applied), "
                        "what it allows and what it means, and exit")

    p = sub.add_parser("evaluate", help="leave-one-out evaluation of a trained run")
    p.add_argument("run_dir", metavar="RUN",
                   help="a directory written by `lpn-mini train`, or a checkpoint file in one")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override an evaluation key, e.g. --set eval_grad_steps=0,10,100 "
                        "(repeatable)")
    p.add_argument("--out", metavar="DIR",
                   help="folder for results.json, results.md and the figures "
                        "(default: the run directory)")
    _device_arg(p)
    _threads_arg(p)

    p = sub.add_parser("demo", help="train, evaluate and plot a small LPN (the README's main job)")
    _config_args(p)
    p.add_argument("--run-dir", help="where to write the run (default: runs/demo for the "
                                     "small preset, runs/demo-<preset> for another)")
    _fresh_args(p)

    p = sub.add_parser("reproduce", help="the paper's experiments at small scale, to results/",
                       description="Train and evaluate every run of an experiment and write "
                                   "results.json, results.md and figures to results/<experiment>/.")
    p.add_argument("experiment", choices=["table1", "ood", "latent2d", "arc"],
                   help="table1: Table 1 (training rows x inference columns); ood: Table 6; "
                        "latent2d: the 2-D latent space; arc: real ARC-AGI-1 tasks")
    p.add_argument("--quick", action="store_true",
                   help="a tiny model and a few steps: checks the whole pipeline in seconds")
    p.add_argument("--scale", choices=["laptop", "paper"], default="laptop",
                   help="laptop (default): 4x4 grids, 2x2 patterns, about an hour for table1 "
                        "on 2 cores; paper: 10x10 grids, 4x4 patterns, 20k steps x 128 tasks "
                        "(meant for a GPU: add --device gpu)")
    p.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default 5, enough for "
                                              "a paired 95%% interval; 1 with --quick); a row "
                                              "with more seeds recorded uses them all")
    p.add_argument("--rows", metavar="LABELS",
                   help="train only these rows, comma-separated: grad-0, grad-1, "
                        "grad-1-no-stop-grad, grad-5, sample-5 (table1; grad-0, grad-1 for "
                        "ood). Default: all. The tables show every row whose seeds are all "
                        "recorded, so a later run can add the others")
    p.add_argument("--train-seeds", metavar="K,K",
                   help="train only these seeds now, comma-separated, e.g. 1,2 (default: "
                        "every seed not yet recorded): two machines or sessions can then "
                        "share one table's runs")
    p.add_argument("--settings", choices=["official", "pseudocode"], default="official",
                   help="official (default): the official code's settings (config.OFFICIAL); "
                        "pseudocode: Algorithm 2 as the paper's pseudo-code writes it; both "
                        "evaluate on held-out programs")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="training runs in parallel processes (default 1; use the core count)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="send the runs to the Dask cluster whose scheduler is at ADDRESS "
                        "(tcp://HOST:8786) instead of local processes; finished runs come back "
                        "into --runs-dir (needs pip install -e '.[cluster]'; not with --jobs)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: results/<experiment>[-quick])")
    p.add_argument("--runs-dir", metavar="DIR",
                   help="checkpoints folder (default: runs/reproduce/...)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key of every run, e.g. --set steps=1000")
    _device_arg(p)

    p = sub.add_parser("exercises", help="build the course exercises from the library",
                       description="build: the student files; handout OUT: the student edition "
                                   "(a folder to hand out, no solutions in it); autograder "
                                   "OUT.zip: the Gradescope autograder (hidden checks included).")
    p.add_argument("action", choices=["build", "handout", "autograder"],
                   help="build: write the student files; handout: write the student edition "
                        "into OUT; autograder: write the Gradescope autograder zip OUT")
    p.add_argument("target", nargs="?", metavar="OUT",
                   help="handout: the folder to write (new or empty); autograder: the .zip "
                        "file to write")
    p.add_argument("--out", metavar="DIR",
                   help="build's target folder (default: exercises/, build/solutions/ for "
                        "--solutions)")
    p.add_argument("--solutions", action="store_true",
                   help="write the reference solutions instead of the student stubs")
    p.add_argument("--force", action="store_true",
                   help="overwrite files that were edited since they were built, and allow "
                        "--solutions into an exercises/ folder; handout: write into a folder "
                        "that is not empty; autograder: replace an existing zip")

    p = sub.add_parser("chapters", help="render the read-along chapters to notebooks/HTML")
    p.add_argument("action", choices=["render"], help="render: execute and write each chapter")
    p.add_argument("names", nargs="*", metavar="CHAPTER",
                   help="chapters to render by prefix, e.g. ch03 (default: all)")
    p.add_argument("--to", default="html", choices=["html", "notebook", "both"],
                   help="write HTML pages, executed notebooks (.ipynb), or both (default: html)")
    p.add_argument("--out", metavar="DIR", default=os.path.join("build", "chapters"),
                   help="target folder (default: build/chapters)")
    p.add_argument("--quick", action="store_true",
                   help="shrink the training in each chapter (LPN_MINI_QUICK=1)")

    p = sub.add_parser("grade", help="grade exercise files with the graded checks "
                                          "(lpn_mini/course/checks/)")
    p.add_argument("path", nargs="?", default="exercises",
                   help="a folder of exercise files, one file, or a folder of student folders "
                        "(default: exercises/)")
    p.add_argument("--json", metavar="FILE",
                   help="where to write the results (default: results.json in PATH's folder, "
                        "summary.json for a class)")
    p.add_argument("--timeout", type=int, default=120, metavar="S",
                   help="seconds per exercise before it counts as failed (default 120)")
    p.add_argument("--memory", type=int, metavar="MB",
                   help="address space per exercise, in MiB (default 4096)")
    p.add_argument("--user", metavar="NAME",
                   help="run the students' code as this unprivileged user (the grader must "
                        "run as root, and NAME must not be able to read this checkout)")

    p = sub.add_parser("show", help="draw evaluation tasks and predictions of a run to PNG")
    p.add_argument("run_dir", metavar="RUN",
                   help="a directory written by `lpn-mini train`, or a checkpoint file in one")
    p.add_argument("--tasks", type=int, default=4, metavar="N",
                   help="how many evaluation tasks to draw (default 4)")
    p.add_argument("--out", metavar="FILE",
                   help=f"PNG path (default: RUN/{SHOW_FIGURE}; a folder: {SHOW_FIGURE} in "
                        f"it; .png is added to a name without an extension; the latent plane "
                        f"of a 2-D latent goes next to it)")
    _threads_arg(p)
    return parser


def _evaluation_overrides(overrides):
    """``evaluate --set`` may change evaluation and test-time search keys, never the model."""
    for item in overrides:
        name = item.split("=", 1)[0].strip()
        refuse_ambiguous(name)
        name = RENAMED.get(name, name)
        if "=" in item and name not in EVALUATION_OVERRIDES:
            raise ValueError(f"evaluate --set can change only evaluation and search keys "
                             f"({', '.join(EVALUATION_OVERRIDES)}), got {name}; {name} is "
                             f"fixed by the trained run (train another with --set {name}=...).")
    return overrides


def run_evaluation(path, overrides=(), out_dir=None, echo=print):
    """Evaluate the checkpoint of ``path`` (a run directory or a checkpoint file); write
    results.json, results.md and figures into ``out_dir`` (default: the run directory)."""
    from .experiments.plotting import plot_accuracy_vs_steps, plot_predictions
    from .experiments.runs import environment
    overrides = _evaluation_overrides(overrides)  # before reading anything: a typo is cheap
    ckpt, run_dir = find_checkpoint(path)
    params, _, config, step = load_checkpoint(ckpt)
    config = with_overrides(config, overrides)
    if step < config.steps:
        echo(f"  scoring the checkpoint of step {step} of {config.steps}: the run is not "
             f"finished (still training, or stopped early)")
    out_dir = out_dir or run_dir
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out {out_dir} is a file; pass a folder for the results.")
    os.makedirs(out_dir, exist_ok=True)
    params = to_device(params, get_module(config.device))
    t0 = time.perf_counter()
    with blas_threads(chosen_threads(config)):
        results, predictions = evaluate(
            params, config, progress=lambda name, r: echo(
                f"  {name:>10}: exact match {100 * r['exact_match']:5.1f}%, "
                f"cell accuracy {100 * r['cell_accuracy']:5.1f}%"))
    label = training_label(config)
    table = markdown_table({label: results})
    reference = PAPER_TABLE1.get(label)
    if reference:
        cols = list(results)
        table += ("\n| paper (10x10, 20k x 128) | "
                  + " | ".join(str(reference.get(c, "")) for c in cols) + " |")
    record = {"command": "lpn-mini " + " ".join(sys.argv[1:]), "training": label,
              "checkpoint": ckpt, "trained_steps": step, "config": dataclasses.asdict(config),
              "results": results, "eval_seconds": round(time.perf_counter() - t0, 1)}
    record["versions"], record["machine"] = environment()
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(record, f, indent=2)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(table + "\n")
    plot_accuracy_vs_steps(results, os.path.join(out_dir, "accuracy_vs_steps.png"),
                           title=f"trained {label}, {step} steps")
    x, y = eval_tasks(config)
    shown = {k: v for k, v in predictions.items() if k.startswith("Grad")}
    plot_predictions(x, y, shown, os.path.join(out_dir, "predictions.png"),
                     title="leave-one-out: pair 0 predicted from the others")
    return results, table


def _interrupted(args):
    """What a Ctrl-C left behind, honestly, for each command."""
    command = args.command
    if command in ("train", "demo") and getattr(args, "phase", "") == "evaluating":
        return (f"interrupted while evaluating; training is finished and its checkpoint in "
                f"{args.run_dir} is intact, run the same command to evaluate again.")
    if command in ("train", "demo"):
        ckpt = os.path.join(args.run_dir or "", "checkpoint.npz")
        if args.run_dir and os.path.exists(ckpt):
            return (f"interrupted; the last checkpoint ({ckpt}) is intact, run the same "
                    f"command to resume from it.")
        return ("interrupted before the first checkpoint was written; nothing to resume, run "
                "the same command to start again.")
    if command == "reproduce" and args.scheduler:
        return ("interrupted; the cluster's unfinished runs are cancelled and the finished ones "
                "are in the runs folder, run the same command to run the rest.")
    return {
        "evaluate": "interrupted; the evaluation did not finish and its results were not "
                    "(all) written, run the same command to evaluate again.",
        "show": "interrupted; the figure was not written, run the same command to draw it.",
        "reproduce": "interrupted; finished runs and the last checkpoints of unfinished ones "
                     "are kept, run the same command to resume.",
        "chapters": "interrupted; the chapters rendered before this one are written, run the "
                    "same command to render again.",
        "exercises": "interrupted; some exercise files may not have been written, run the "
                     "same command again.",
        "grade": "interrupted; grading stopped and the results of the submission being graded "
                 "were not written, run the same command to grade again.",
    }[command]


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if (getattr(args, "command", None) == "exercises" and args.target is None and len(extra) == 1
            and not extra[0].startswith("-")):
        # `exercises build --solutions --force OUT`: argparse fills the optional positional
        # OUT before it reads the options, and would call the path unrecognized.
        args.target, extra = extra[0], []
    if getattr(args, "command", None) == "chapters" and not any(a.startswith("-") for a in extra):
        # `chapters render --quick ch03`: argparse fills CHAPTER (any number of them) with
        # nothing when an option comes first, and would call ch03 unrecognized.
        args.names, extra = [*args.names, *extra], []
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    error = f"lpn-mini {args.command}: error:"
    try:
        with _threads_option(args):
            code = _dispatch(args)
        sys.stdout.flush()  # a reader that has gone (`| head`) shows up here, not at exit
        return code
    except BrokenPipeError:
        # `lpn-mini grade | head`: the reader stopped reading. Stop quietly, as Unix tools
        # do, and point stdout at /dev/null so that Python's final flush cannot complain.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a real file (e.g. under pytest)
            pass
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
    except MemoryError:
        print(f"{error} out of memory; use a smaller model or batch (hidden, latent_dim, "
              f"batch_size, eval_tasks) or a machine with more memory.", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, FloatingPointError) as e:
        print(f"{error} {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, a missing permission, a path that is a file
        where = f" ({e.filename})" if e.filename else ""
        print(f"{error} {e.strerror or e}{where}; check the path, its permissions and the "
              f"free space.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n" + _interrupted(args), file=sys.stderr)
        return 130


@contextlib.contextmanager
def _threads_option(args):
    """``--threads N`` as the environment variable the library reads (``blas.ENV``), while
    the command runs; processes it starts inherit it."""
    if getattr(args, "threads", None) is None:
        yield
        return
    saved = os.environ.get(THREADS_ENV)
    os.environ[THREADS_ENV] = str(parse_threads(args.threads, "--threads"))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(THREADS_ENV, None)
        else:
            os.environ[THREADS_ENV] = saved


def _train_and_maybe_evaluate(args):
    config = make_config(args.config, args.toml, args.overrides)
    if getattr(args, "list_keys", False):
        print(describe_keys(config))
        return 0
    if args.run_dir is None:
        if args.command == "train":
            args.run_dir = os.path.join("runs", args.config)
        else:  # one demo folder per preset: a tiny demo never resumes into the small one
            args.run_dir = os.path.join("runs", "demo" if args.config == "small"
                                        else f"demo-{args.config}")
    for warning in warnings_of(config):
        print(f"lpn-mini {args.command}: warning: {warning}", file=sys.stderr)
    if os.path.isfile(args.run_dir):
        return _train_then_evaluate(args, config)  # train() says it must be a folder
    check_model_fits(config)  # before the folder is made
    os.makedirs(args.run_dir, exist_ok=True)
    with run_lock(args.run_dir):  # before the first line; a demo holds it to the figures
        return _train_then_evaluate(args, config)


def _train_then_evaluate(args, config):
    run_dir = args.run_dir
    kind = "ARC" if config.task == "arc" else "Pattern"
    print(f"training {training_label(config)} on {config.grid_size}x{config.grid_size} {kind} "
          f"tasks for {config.steps} steps ({describe(config)}) -> {run_dir}")
    ckpt = os.path.join(run_dir, "checkpoint.npz")
    before = None if args.no_resume else checkpoint_step(ckpt)
    t0 = time.perf_counter()
    train(config, run_dir, resume=not args.no_resume, progress=not args.no_progress)
    if before != config.steps:  # else train() said there was nothing to do
        print(f"trained in {time.perf_counter() - t0:.0f} s; checkpoint in {ckpt}")
    if args.command == "train":
        return 0
    args.phase = "evaluating"
    from .experiments.plotting import plot_training_curve
    plot_training_curve(os.path.join(run_dir, "metrics.jsonl"),
                        os.path.join(run_dir, "training_curve.png"))
    print(f"evaluating on {config.eval_tasks} fixed tasks (each pair predicted from the others):")
    _, table = run_evaluation(run_dir)
    print("\nexact match % (cell accuracy %):\n" + table)
    print(f"\nfigures: {run_dir}/training_curve.png, accuracy_vs_steps.png, predictions.png")
    return 0


def _figure_path(out, run_dir):
    """Where ``show --out`` writes: RUN/show_predictions.png without it, that name inside a
    folder, and a name without an extension with .png added (as matplotlib would)."""
    if out is None:
        return os.path.join(run_dir, SHOW_FIGURE)
    if os.path.isdir(out) or out.endswith(("/", os.sep)):
        os.makedirs(out, exist_ok=True)
        return os.path.join(out, SHOW_FIGURE)
    return out if os.path.splitext(out)[1] else out + ".png"


def _show(args):
    from .experiments.plotting import plot_latent_plane, plot_predictions
    if args.tasks < 1:
        raise ValueError(f"--tasks must be at least 1 (how many evaluation tasks to draw), "
                         f"got {args.tasks}; e.g. --tasks 4.")
    ckpt, run_dir = find_checkpoint(args.run_dir)
    params, _, config, _ = load_checkpoint(ckpt)
    x, y = eval_tasks(config)
    x, y = x[:args.tasks], y[:args.tasks]
    top = max(config.eval_grad_steps, default=0)
    methods = [("Grad 0", "grad", 0)] + ([(f"Grad {top}", "grad", top)] if top else [])
    with blas_threads(chosen_threads(config)):
        _, preds = evaluate(params, config, x, y, methods=methods)
    out = _figure_path(args.out, run_dir)
    plot_predictions(x, y, preds, out, num_tasks=args.tasks)
    print(f"wrote {out}")
    if config.latent_dim == 2:
        plane = os.path.join(os.path.dirname(out), "latent_plane.png")
        plot_latent_plane(params, x[0, 0], plane)
        print(f"wrote {plane}")
    return 0


def _seed_list(text):
    """``--train-seeds 1,2`` as ``[1, 2]``; None when the option is not given."""
    if text is None:
        return None
    try:
        return [int(k) for k in text.split(",")]
    except ValueError:
        raise ValueError(f"--train-seeds takes seed numbers, comma-separated (e.g. 1,2), "
                         f"not {text!r}.") from None


def _dispatch(args):
    if getattr(args, "device", None):
        args.overrides = [*args.overrides, f"device={args.device}"]
    if args.command in ("train", "demo"):
        return _train_and_maybe_evaluate(args)
    if args.command == "evaluate":
        print(f"evaluating {args.run_dir}:")
        _, table = run_evaluation(args.run_dir, args.overrides, args.out)
        print("\nexact match % (cell accuracy %):\n" + table)
        return 0
    if args.command == "reproduce":
        from .experiments.reproduce import reproduce
        reproduce(args.experiment, args.out, args.scale, args.quick, args.seeds, args.jobs,
                  args.overrides, args.runs_dir, command="lpn-mini " + " ".join(sys.argv[1:]),
                  scheduler=args.scheduler, settings=args.settings,
                  rows=[r.strip() for r in args.rows.split(",")] if args.rows else None,
                  train_seeds=_seed_list(args.train_seeds))
        return 0
    if args.command == "exercises":
        from .course import editions, gradescope
        from .course.exercises import build
        if args.action in ("handout", "autograder"):
            example = ("lpn-mini exercises handout handout/" if args.action == "handout"
                       else "lpn-mini exercises autograder autograder.zip")
            if not args.target:
                raise ValueError(f"exercises {args.action} needs the path to write, e.g. "
                                 f"{example}.")
            if args.out or args.solutions:
                raise ValueError(f"exercises {args.action} takes its path without --out and "
                                 f"has no --solutions, e.g. {example}.")
            make = editions.build_handout if args.action == "handout" else gradescope.build_autograder
            make(args.target, force=args.force)
            return 0
        if args.target:
            raise ValueError(f"exercises build takes no path ({args.target}); pass the folder "
                             f"with --out {args.target}.")
        if args.solutions and not editions.has_solutions():
            raise ValueError("this is the student edition of lpn-mini: there are no reference "
                             "solutions to write (only the instructor's checkout has them).")
        out = args.out or (os.path.join("build", "solutions") if args.solutions else "exercises")
        for path in build(out, solutions=args.solutions, force=args.force):
            print(f"wrote {path}")
        return 0
    if args.command == "chapters":
        from .course.docs import render
        render(args.out, args.names, args.to, args.quick)
        return 0
    if args.command == "grade":
        from .course.grader import grade, graded_anything
        if not graded_anything(grade(args.path, args.json, args.timeout, memory_mb=args.memory,
                                     user=args.user)):
            print("lpn-mini grade: error: nothing could be graded: no exercise ran its tests "
                  "(see the lines above).", file=sys.stderr)
            return 1
        return 0
    if args.command == "show":
        return _show(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
