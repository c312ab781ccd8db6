"""The ``lpn-mini`` command: train, evaluate, demo, show."""
import argparse
import dataclasses
import json
import os
import sys
import time


from . import __version__
from .backend import get_module, to_device
from .checkpoint import load_checkpoint
from .config import PRESETS, make_config, with_overrides
from .evaluation import PAPER_TABLE1, eval_tasks, evaluate, markdown_table, training_label
from .training import train

DESCRIPTION = """\
lpn-mini: the Latent Program Network (Macfarlane & Bonnet) in NumPy + autograd.

  lpn-mini demo                          train a small LPN on the Pattern task (a few
                                         minutes on a laptop CPU), evaluate it, write plots
  lpn-mini train --config small          train; writes runs/small/ (checkpoint, metrics)
  lpn-mini evaluate runs/small           leave-one-out scores for Grad K and Sample N
  lpn-mini show runs/small               draw tasks and predictions to PNG
  lpn-mini reproduce table1 --jobs 2     the paper's Table 1 at laptop scale, 3 seeds
                                         (also ood, latent2d, arc; --quick for a smoke run)
  lpn-mini chapters render               execute the read-along chapters to HTML
  lpn-mini exercises build               write the student exercises into exercises/
  lpn-mini grade [exercises/]            grade exercise files with the library's tests

Presets: {presets}. Change any hyperparameter with --set KEY=VALUE (repeatable) or a TOML
file with --toml; `lpn-mini train --list-keys` prints every key with its value.
"""


def _config_args(p):
    p.add_argument("--config", default="small", metavar="PRESET",
                   help=f"named preset: {', '.join(PRESETS)} (default: small)")
    p.add_argument("--toml", metavar="FILE", help="TOML file of KEY = VALUE overrides")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key, e.g. --set steps=500 (repeatable)")
    _device_arg(p)


def _device_arg(p):
    p.add_argument("--device", choices=["cpu", "gpu"],
                   help="where the arrays live: cpu (NumPy, the default) or gpu (CuPy); "
                        "also the environment variable LPN_MINI_DEVICE")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="lpn-mini", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=DESCRIPTION.format(presets=", ".join(PRESETS)))
    parser.add_argument("--version", action="version", version=f"lpn-mini {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train LPN (Algorithm 2) and checkpoint it")
    _config_args(p)
    p.add_argument("--run-dir", help="where to write the run (default: runs/<preset>)")
    p.add_argument("--no-resume", action="store_true",
                   help="start from scratch even if the run directory has a checkpoint")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--list-keys", action="store_true", help="print the config and exit")

    p = sub.add_parser("evaluate", help="leave-one-out evaluation of a trained run")
    p.add_argument("run_dir", help="a directory written by `lpn-mini train`")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override an evaluation key, e.g. --set eval_grad_steps=0,10,100")
    _device_arg(p)

    p = sub.add_parser("demo", help="train, evaluate and plot a small LPN (the README's main job)")
    _config_args(p)
    p.add_argument("--run-dir", default=os.path.join("runs", "demo"))
    p.add_argument("--no-resume", action="store_true")
    p.add_argument("--no-progress", action="store_true")

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
    p.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default: 3 for table1 "
                                              "and ood, 1 otherwise; 1 with --quick)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="training runs in parallel processes (default 1; use the core count)")
    p.add_argument("--out", help="output folder (default: results/<experiment>[-quick])")
    p.add_argument("--runs-dir", help="checkpoints folder (default: runs/reproduce/...)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key of every run, e.g. --set steps=1000")
    _device_arg(p)

    p = sub.add_parser("exercises", help="build the course exercises from the library")
    p.add_argument("action", choices=["build"], help="build: write the student files")
    p.add_argument("--out", default="exercises", help="target folder (default: exercises/)")
    p.add_argument("--solutions", action="store_true",
                   help="write the reference solutions instead of the student stubs")

    p = sub.add_parser("chapters", help="render the read-along chapters to notebooks/HTML")
    p.add_argument("action", choices=["render"], help="render: execute and write each chapter")
    p.add_argument("names", nargs="*", metavar="CHAPTER",
                   help="chapters to render by prefix, e.g. ch03 (default: all)")
    p.add_argument("--to", default="html", choices=["html", "notebook", "both"])
    p.add_argument("--out", default=os.path.join("build", "chapters"),
                   help="target folder (default: build/chapters)")
    p.add_argument("--quick", action="store_true",
                   help="shrink the training in each chapter (LPN_MINI_QUICK=1)")

    p = sub.add_parser("grade", help="grade exercise files with the library's own tests")
    p.add_argument("path", nargs="?", default="exercises",
                   help="a folder of exercise files, one file, or a folder of student folders "
                        "(default: exercises/)")
    p.add_argument("--json", help="where to write the results (default: results.json there)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per exercise (default 120)")

    p = sub.add_parser("show", help="draw evaluation tasks and predictions of a run to PNG")
    p.add_argument("run_dir")
    p.add_argument("--tasks", type=int, default=4, help="how many tasks to draw (default 4)")
    p.add_argument("--out", help="PNG path (default: RUN_DIR/predictions.png)")
    return parser


def run_evaluation(run_dir, overrides=(), echo=print):
    """Evaluate the checkpoint in ``run_dir``; write results.json, results.md and figures."""
    from .plotting import plot_accuracy_vs_steps, plot_predictions
    from .reproduce import environment
    params, _, config, step = load_checkpoint(os.path.join(run_dir, "checkpoint.npz"))
    config = with_overrides(config, overrides)
    params = to_device(params, get_module(config.device))
    t0 = time.perf_counter()
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
              "trained_steps": step, "config": dataclasses.asdict(config), "results": results,
              "eval_seconds": round(time.perf_counter() - t0, 1)}
    record["versions"], record["machine"] = environment()
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(record, f, indent=2)
    with open(os.path.join(run_dir, "results.md"), "w") as f:
        f.write(table + "\n")
    plot_accuracy_vs_steps(results, os.path.join(run_dir, "accuracy_vs_steps.png"),
                           title=f"trained {label}, {step} steps")
    x, y = eval_tasks(config)
    shown = {k: v for k, v in predictions.items() if k.startswith("Grad")}
    plot_predictions(x, y, shown, os.path.join(run_dir, "predictions.png"),
                     title="leave-one-out: pair 0 predicted from the others")
    return results, table


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _dispatch(args)
    except (ValueError, FileNotFoundError, FloatingPointError) as e:
        print(f"lpn-mini {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last checkpoint is intact, run the same command to resume.",
              file=sys.stderr)
        return 130


def _dispatch(args):
    if getattr(args, "device", None):
        args.overrides = [*args.overrides, f"device={args.device}"]
    if args.command in ("train", "demo"):
        config = make_config(args.config, args.toml, args.overrides)
        if getattr(args, "list_keys", False):
            print(config.to_json())
            return 0
        run_dir = args.run_dir or os.path.join("runs", args.config)
        print(f"training {training_label(config)} on {config.grid_size}x{config.grid_size} "
              f"Pattern tasks for {config.steps} steps -> {run_dir}")
        t0 = time.perf_counter()
        train(config, run_dir, resume=not args.no_resume, progress=not args.no_progress)
        print(f"trained in {time.perf_counter() - t0:.0f} s; checkpoint in "
              f"{os.path.join(run_dir, 'checkpoint.npz')}")
        if args.command == "train":
            return 0
        from .plotting import plot_training_curve
        plot_training_curve(os.path.join(run_dir, "metrics.jsonl"),
                            os.path.join(run_dir, "training_curve.png"))
        print(f"evaluating on {config.eval_tasks} fixed tasks (each pair predicted from the others):")
        _, table = run_evaluation(run_dir)
        print("\nexact match % (cell accuracy %):\n" + table)
        print(f"\nfigures: {run_dir}/training_curve.png, accuracy_vs_steps.png, predictions.png")
        return 0
    if args.command == "evaluate":
        print(f"evaluating {args.run_dir}:")
        _, table = run_evaluation(args.run_dir, args.overrides)
        print("\nexact match % (cell accuracy %):\n" + table)
        return 0
    if args.command == "reproduce":
        from .reproduce import reproduce
        reproduce(args.experiment, args.out, args.scale, args.quick, args.seeds, args.jobs,
                  args.overrides, args.runs_dir, command="lpn-mini " + " ".join(sys.argv[1:]))
        return 0
    if args.command == "exercises":
        from .grading.exercises import build
        for path in build(args.out, solutions=args.solutions):
            print(f"wrote {path}")
        return 0
    if args.command == "chapters":
        from .docs import render
        render(args.out, args.names, args.to, args.quick)
        return 0
    if args.command == "grade":
        from .grading.grader import grade
        grade(args.path, args.json, args.timeout)
        return 0
    if args.command == "show":
        from .plotting import plot_latent_plane, plot_predictions
        params, _, config, _ = load_checkpoint(os.path.join(args.run_dir, "checkpoint.npz"))
        x, y = eval_tasks(config)
        x, y = x[:args.tasks], y[:args.tasks]
        methods = [("Grad 0", "grad", 0), (f"Grad {max(config.eval_grad_steps)}", "grad",
                                           max(config.eval_grad_steps))]
        _, preds = evaluate(params, config, x, y, methods=methods)
        out = args.out or os.path.join(args.run_dir, "predictions.png")
        plot_predictions(x, y, preds, out, num_tasks=args.tasks)
        print(f"wrote {out}")
        if config.latent_dim == 2:
            plane = os.path.join(os.path.dirname(out), "latent_plane.png")
            plot_latent_plane(params, x[0, 0], plane)
            print(f"wrote {plane}")
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
