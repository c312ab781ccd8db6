"""What each setting of the official code adds: a ladder from the literal algorithms to them.

Chapters 1-8 train Algorithms 1 and 2 read literally (the ``"literal"`` preset); the
official code does more (``config.OFFICIAL``, the ``"small"`` preset). This script trains
the small model (4 x 4 grids, 2 x 2 patterns, 2000 steps of 64 tasks, Grad 1 training) on
a ladder of rows, each adding one setting to the row above it, from ``"literal"`` to
``"small"``:

    python results/official/ablate.py [--seeds 0,1,2,3,4] [--rows ...] [--commit]

Every row is scored on ONE evaluation set: 256 tasks whose programs are held out of
training (``holdout=0.2``, ``eval_programs="unseen"``). Every row trains with that holdout
except the first, which trains on every program (the literal reading) and is scored on the
same 256 tasks, so the holdout row measures what training on the evaluation's own programs
was worth. Each run writes ``results/official/runs/<row>-seed<k>.json`` (config, seed,
exact match and cell accuracy per column, wall and CPU seconds, code commit, machine) the
moment it ends; with ``--commit`` it also commits that one file. A run whose record is
already there with the same config is skipped. Run it on one core, one run at a time:
``OPENBLAS_NUM_THREADS=1 LPN_MINI_THREADS=1``.
"""
import argparse
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

from lpn_mini.config import make_config, with_overrides
from lpn_mini.evaluation import eval_tasks, evaluate
from lpn_mini.experiments.runs import environment, write_json
from lpn_mini.training import train

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = os.path.join(HERE, "runs")

# Every row: the literal preset, the three test-time columns that matter, no quick
# evaluations during training (they do not change the weights).
COMMON = ["eval_grad_steps=0,20,100", "eval_samples=", "eval_every=0"]
# The one evaluation set of every row: held-out programs.
EVAL_SET = ["holdout=0.2", "eval_programs=unseen"]

# (slug, label, the settings this row adds to the row above it). Where a row replaces a
# setting of the row above rather than adding one (global clipping replaces per-latent
# clipping), it says so in its label.
LADDER = [
    ("literal-all-programs", "literal, every program trained", ["holdout=0.0"]),
    ("literal", "literal (holdout 0.2)", ["holdout=0.2"]),
    ("adam", "+ Adam latents (lr 0.1, eps_root 1e-8)",
     ["latent_optimizer=adam", "latent_lr=0.1", "adam_eps_root=1e-8"]),
    ("clip-latent", "+ latent clip 1.0, per latent",
     ["latent_clip=1.0", "latent_clip_mode=latent"]),
    ("clip-global", "latent clip 1.0, global (instead of per latent)",
     ["latent_clip_mode=global"]),
    ("best-of-trajectory", "+ best-of-trajectory (training and test)",
     ["train_best_of_trajectory=true", "best_of_trajectory=true"]),
    ("mean", "+ per-cell mean likelihood", ["likelihood=mean"]),
    ("weight-decay", "+ AdamW weight decay 1e-4", ["weight_decay=1e-4"]),
    ("warm-up", "+ learning-rate warm-up 99 steps", ["lr_warmup=99"]),
    ("official", "+ outer gradient clip 1.0 (= the official settings)",
     ["grad_clip=1.0", "sample_scale=0.5"]),  # sample_scale: only Sample N columns read it
]
SLUGS = [slug for slug, _, _ in LADDER]

# Extra evaluations of the same weights (no retraining): the test-time half of a setting.
# Where a setting changes the test-time search as well as training, the row below it is also
# scored with the setting switched on at test time only, so the two halves can be told apart.
EXTRA_EVALUATIONS = {
    "adam": {"test, clip per latent at test": ["latent_clip=1.0", "latent_clip_mode=latent"],
             "test, clip global at test": ["latent_clip=1.0", "latent_clip_mode=global"]},
    "clip-global": {"test, best-of-trajectory at test": ["best_of_trajectory=true"]},
    "best-of-trajectory": {"test, mean likelihood at test": ["likelihood=mean"]},
    "official": {"test, eps_root 0 at test": ["adam_eps_root=0"]},
}


def row_overrides(slug):
    """The ``key=value`` overrides of the literal preset that make row ``slug``: every
    row's additions down to and including its own."""
    out = list(COMMON)
    for s, _, adds in LADDER:
        out += adds
        if s == slug:
            return out
    raise ValueError(f"no row {slug!r}; the rows are {', '.join(SLUGS)}.")


def row_config(slug, seed, steps=None):
    extra = [f"seed={seed}"] + ([f"steps={steps}"] if steps else [])
    return make_config("literal", overrides=row_overrides(slug) + extra)


def evaluations_of(slug):
    return {"test": [], **EXTRA_EVALUATIONS.get(slug, {})}


def record_path(slug, seed, runs_dir=RUNS):
    return os.path.join(runs_dir, f"{slug}-seed{seed}.json")


def recorded(slug, config, runs_dir=RUNS):
    """The record of this row and seed if it ran with exactly this config, else None."""
    path = record_path(slug, config.seed, runs_dir)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        record = json.load(f)
    same = record.get("config") == json.loads(json.dumps(dataclasses.asdict(config)))
    return record if same and record.get("evaluations") == evaluations_of(slug) else None


def run(slug, seed, steps=None, runs_dir=RUNS):
    """Train row ``slug`` with ``seed``, score it on the held-out evaluation set, write its
    record and return it."""
    config = row_config(slug, seed, steps)
    label = dict((s, l) for s, l, _ in LADDER)[slug]
    scoring = with_overrides(config, EVAL_SET)  # the same tasks for every row
    x, y = eval_tasks(scoring)
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as run_dir:
        params = train(config, run_dir, resume=False, progress=False, echo=lambda *a: None)
        with open(os.path.join(run_dir, "metrics.jsonl")) as f:
            losses = [(m["step"], m["loss"]) for m in map(json.loads, f) if m]
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    results = {}
    for name, overrides in evaluations_of(slug).items():
        results[name], _ = evaluate(params, with_overrides(config, overrides), x, y)
    versions, machine = environment()
    record = dict(
        row=slug, label=label, seed=seed, config=dataclasses.asdict(config),
        evaluations=evaluations_of(slug),
        evaluation_set=f"{len(x)} tasks, eval_seed {config.eval_seed}, programs held out "
                       f"of training at holdout 0.2 (eval_programs=unseen)",
        train_seconds=round(train_wall, 1), train_cpu_seconds=round(train_cpu, 1),
        eval_seconds=round(time.perf_counter() - wall - train_wall, 1),
        blas_threads=os.environ.get("LPN_MINI_THREADS", "load-following"),
        loss_curve=losses,
        results={name: {col: {k: float(v) for k, v in r.items()} for col, r in res.items()}
                 for name, res in results.items()},
        versions=versions, machine=machine,
        finished=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    os.makedirs(runs_dir, exist_ok=True)
    write_json(record_path(slug, seed, runs_dir), record)
    return record


def commit(path, message):
    """Commit one file, and only it (other people work in the same checkout)."""
    for attempt in range(5):  # another commit may hold the index for a moment
        add = subprocess.run(["git", "add", path], capture_output=True, text=True)
        done = subprocess.run(["git", "commit", "-m", message, "--", path],
                              capture_output=True, text=True)
        if add.returncode == 0 and done.returncode == 0:
            return True
        time.sleep(2 + 3 * attempt)
    print(f"could not commit {path}: {done.stderr.strip()}", file=sys.stderr)
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--rows", default=",".join(SLUGS))
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's 2000")
    parser.add_argument("--commit", action="store_true", help="commit each record as it ends")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = args.rows.split(",")
    for slug in rows:
        row_overrides(slug)  # an unknown row fails before anything trains
    # Seed-major order: if time runs out, every row has the same seeds.
    for seed in seeds:
        for slug in rows:
            config = row_config(slug, seed, args.steps)
            if recorded(slug, config):
                print(f"{slug} seed {seed}: recorded already", flush=True)
                continue
            r = run(slug, seed, args.steps)
            em = {c: round(100 * v["exact_match"], 1) for c, v in r["results"]["test"].items()}
            print(f"{slug} seed {seed}: {r['train_seconds']} s training, "
                  f"{r['eval_seconds']} s evaluation, exact match {em}", flush=True)
            if args.commit:
                path = os.path.relpath(record_path(slug, seed))
                commit(path, f"results/official: record of {slug}-seed{seed} (4x4/2x2, "
                             f"{r['config']['steps']} steps; code {r['versions']['git_commit']}, "
                             f"1 core)")


if __name__ == "__main__":
    main()
