"""``lpn-mini reproduce``: the paper's experiments at a scale one CPU can run.

Each experiment is a list of training runs (one per training method and seed), each trained
with ``training.train`` and evaluated in the same worker, then summarised into
``results/<experiment>/``:

- ``results.json``  every number, the command, seeds, configs, versions, machine, wall time
- ``results.md``    the tables (printed too), next to the paper's numbers
- ``*.png``         the figures

- ``runs/*.json``   one file per finished run (its evaluations, loss curve, time, commit and
                    machine), written the moment the run finishes

Checkpoints go to ``runs/reproduce/<experiment>-<scale>/``. A run is never done twice: one
whose record in ``results/<experiment>/runs/`` has the same config and evaluations is
reused (so a reproduction committed piece by piece fills in over several sessions or
machines), and so is one whose ``summary.json`` is in its checkpoint folder. Independent
runs go to ``--jobs`` worker processes, each with one BLAS thread.

Every run uses the official code's settings (``config.OFFICIAL``) and evaluates on programs
held out of training, beside the same numbers on training-side programs; ``--settings
pseudocode`` trains with the paper's pseudo-code instead (``config.PSEUDOCODE``). Every
claim of the paper is judged by ``stats.paired`` on per-seed differences.

Experiments: ``table1`` (Table 1), ``ood`` (Table 6), ``latent2d`` (the 2-D latent space),
``arc`` (real ARC-AGI-1 tasks that fit in 10 x 10).
"""
import contextlib
import dataclasses
import datetime
import json
import multiprocessing
import os
import platform
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as onp
from tqdm.auto import tqdm

from .. import __version__
from ..device.backend import get_module, to_device
from ..config import (PRESETS, PSEUDOCODE, Config, config_from_dict, make_config, renamed,
                     with_overrides)
from ..evaluation import PAPER_TABLE1, evaluate
from .stats import HOLDS, NOT_RESOLVED, REVERSES, describe, paired, seeds_needed

EXPERIMENTS = ("table1", "ood", "latent2d", "arc")
SCALES = ("laptop", "paper")
# "official": the official code's settings (config.OFFICIAL, in every preset reproduce uses);
# "pseudocode": Algorithm 2 as the paper's pseudo-code writes it (config.PSEUDOCODE).
SETTINGS = ("official", "pseudocode")

# Table 1's training rows: label -> config overrides. The same budget of steps x tasks each.
TABLE1_ROWS = {
    "Grad 0": ["latent_steps=0"],
    "Grad 1": ["latent_steps=1"],
    "Grad 1, no stop-grad": ["latent_steps=1", "stop_gradient=false"],
    "Grad 5": ["latent_steps=5"],
    "Sample 5": ["train_method=sample", "latent_samples=5"],
}
OOD_ROWS = {"Grad 0": ["latent_steps=0"], "Grad 1": ["latent_steps=1"]}
OOD_DENSITIES = {"In-distribution (0.5)": 0.5, "Weak OOD (0.75)": 0.75, "Strong OOD (1.0)": 1.0}
PAPER_TABLE6 = {  # exact match %, inference Grad 0 / 10 / 100 (paper, Table 6)
    "Grad 0": {"In-distribution (0.5)": (30.2, 72.8, 82.2), "Weak OOD (0.75)": (7.6, 51.3, 62.8),
               "Strong OOD (1.0)": (0.3, 18.8, 41.1)},
    "Grad 1": {"In-distribution (0.5)": (26.6, 98.0, 99.2), "Weak OOD (0.75)": (7.4, 93.1, 97.7),
               "Strong OOD (1.0)": (0.0, 59.9, 88.0)},
}

# What --quick shrinks every run to: seconds per run, same code paths.
QUICK = ["grid_size=3", "pattern_size=2", "num_colors=4", "latent_dim=4", "hidden=32,32",
         "steps=150", "batch_size=16", "eval_tasks=32", "log_every=10", "checkpoint_every=20",
         "eval_every=0"]


# --------------------------------------------------------------------------------------
# The plan: which runs an experiment needs
# --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Job:
    """One training run and the evaluations to run on it, in a worker process."""
    experiment: str
    label: str                  # training method, e.g. "Grad 1"
    seed: int
    config: dict                # a Config as a dict (picklable across processes)
    run_dir: str
    evaluations: dict           # name -> config overrides for that evaluation
    progress: bool = False

    @property
    def cost(self):             # rough relative cost, to start the longest runs first
        c = self.config
        inner = c["latent_samples"] / 4 if c["train_method"] == "sample" else c["latent_steps"]
        return c["steps"] * c["batch_size"] * (1 + inner * (1 if c["stop_gradient"] else 2))


def _slug(label):
    return label.lower().replace(", ", "-").replace(" ", "-")


def base_config(experiment, scale="laptop", quick=False, overrides=(), settings="official"):
    """The config every run of ``experiment`` starts from."""
    if settings not in SETTINGS:
        raise ValueError(f"unknown settings {settings!r}; choose one of {', '.join(SETTINGS)}.")
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
    if quick and scale == "paper":
        raise ValueError("--quick and --scale paper cannot be combined (--quick shrinks every "
                         "run to the same tiny model at any scale); drop --quick, or shrink "
                         "the paper scale with --set steps=N.")
    if experiment == "arc":
        config = make_config("arc")
        quick_set = ["steps=30", "batch_size=16", "hidden=64,64", "latent_dim=8",
                     "checkpoint_every=30", "eval_grad_steps=0,2"]
    else:
        preset = {"table1": "paper" if scale == "paper" else "small", "ood": "ood",
                  "latent2d": "latent2d"}[experiment]
        config = make_config(preset)
        if experiment == "ood" and scale == "paper":  # the paper preset with the ood keys
            config = make_config("paper", overrides=[
                f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
                for k, v in PRESETS["ood"].items()])
        quick_set = QUICK + (["latent_dim=2"] if experiment == "latent2d" else [])
        if experiment == "table1":
            quick_set = quick_set + ["eval_samples=50"]
    config = with_overrides(config, ["eval_every=0"])  # the reproduction evaluates at the end
    if settings == "pseudocode":
        config = dataclasses.replace(config, **PSEUDOCODE)
    if quick:
        config = with_overrides(config, quick_set)
    return with_overrides(config, overrides)


def plan(experiment, scale="laptop", quick=False, seeds=None, overrides=(), runs_dir=None,
         settings="official", rows=None):
    """The list of ``Job`` for an experiment. rows: None (every training row), or the rows
    to run, by label or its slug (``["Grad 0", "grad-1"]``; ``"grad-1-no-stop-grad"``):
    a table can fill in row by row."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; choose one of "
                         f"{', '.join(EXPERIMENTS)}.")
    only = rows
    seeds = default_seeds(experiment, quick) if seeds is None else seeds
    if seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {seeds}.")
    base = base_config(experiment, scale, quick, overrides, settings)
    runs_dir = runs_dir or os.path.join("runs", "reproduce", experiment + (
        "-quick" if quick else f"-{scale}") + ("-pseudocode" if settings == "pseudocode" else ""))
    # With programs held out, every evaluation is also run on training-side programs
    # (eval_programs = "seen"), under the same name + SEEN.
    seen = base.holdout > 0

    def with_seen(evaluations):
        if not seen:
            return evaluations
        return {**evaluations, **{name + SEEN: [*o, "eval_programs=seen"]
                                  for name, o in evaluations.items()}}

    if experiment == "table1":
        rows, evaluations = TABLE1_ROWS, with_seen({"test": []})
    elif experiment == "ood":
        rows = OOD_ROWS
        evaluations = with_seen({name: [f"eval_density={d}"]
                                 for name, d in OOD_DENSITIES.items()})
    elif experiment == "latent2d":
        rows, evaluations = {"Grad 1": []}, with_seen({"test": []})
    else:
        rows, evaluations = {"Grad 1": []}, {}  # ARC is scored by arc.evaluate_arc
    if only is not None:
        slugs = {_slug(r) for r in only}
        unknown = sorted(slugs - {_slug(label) for label in rows})
        if unknown or not slugs:
            raise ValueError(f"--rows: {', '.join(map(repr, unknown)) or 'none given'} is not a "
                             f"training row of {experiment}; choose from "
                             f"{', '.join(_slug(label) for label in rows)}, comma-separated.")
        rows = {label: o for label, o in rows.items() if _slug(label) in slugs}
    jobs = []
    for label, row_overrides in rows.items():
        for seed in range(seeds):
            config = with_overrides(base, [*row_overrides, f"seed={seed}"])
            run_dir = os.path.join(runs_dir, f"{_slug(label)}-seed{seed}")
            jobs.append(Job(experiment, label, seed, dataclasses.asdict(config), run_dir,
                            evaluations))
    return jobs


SEEN = ", seen"  # suffix of an evaluation on training-side programs


def default_seeds(experiment, quick=False):
    """5 seeds for every table (1 with --quick): enough for a paired 95% interval."""
    return 1 if quick else 5


# --------------------------------------------------------------------------------------
# One run, in a worker: train, evaluate, remember
# --------------------------------------------------------------------------------------

def _same_job(done, job):
    """Whether a finished run ``done`` is ``job``: the same config and evaluations. A key the
    record lacks (one added to Config after the run) counts as its default, so a run never
    has to be repeated because the code grew an option it did not use."""
    config = {**dataclasses.asdict(Config()), **renamed(done.get("config", {}))}
    return json.loads(json.dumps(config)) == json.loads(json.dumps(job.config)) and \
        done.get("evaluations") == job.evaluations


def finished_run(job):
    """The summary of ``job`` if this exact job (same config, same evaluations) finished
    before in ``job.run_dir``, marked ``reused``; otherwise None."""
    summary_path = os.path.join(job.run_dir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            done = json.load(f)
        if _same_job(done, job):
            done["reused"] = True
            return done
    return None


def record_path(out_dir, job):
    """Where the record of one finished run goes: ``<out_dir>/runs/<row>-seed<k>.json``."""
    return os.path.join(out_dir, "runs", f"{_slug(job.label)}-seed{job.seed}.json")


def committed_run(job, out_dir, needs_checkpoint=False):
    """The record of ``job`` in ``out_dir/runs/`` (committed by an earlier session, perhaps on
    another machine) if it is this exact job, marked ``reused``; otherwise None. With
    ``needs_checkpoint`` (a run whose weights the figures need) only if its checkpoint is
    here too."""
    path = record_path(out_dir, job)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            done = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable run record ({e}); delete it to run that "
                         "run again.") from None
    if not _same_job(done, job):
        return None
    if needs_checkpoint and not os.path.exists(os.path.join(job.run_dir, "checkpoint.npz")):
        return None
    done.update(reused=True, run_dir=job.run_dir)
    return done


def more_seeds_recorded(job_list, out_dir):
    """``[(job, record)]`` for the runs of ``job_list``'s rows recorded in ``out_dir/runs/``
    with a seed beyond those planned (seeds N, N + 1, ... of a row that has them), in seed
    order. A record whose config is not the row's (another preset, say) is not taken."""
    planned = {(j.label, j.seed) for j in job_list}
    first = {}
    for j in job_list:
        first.setdefault(j.label, j)
    found = []
    for label, job in first.items():
        seed = max(k for lbl, k in planned if lbl == label) + 1
        while True:
            config = config_from_dict(job.config)
            extra = dataclasses.replace(job, seed=seed, config=dataclasses.asdict(
                dataclasses.replace(config, seed=seed)),
                run_dir=job.run_dir.rsplit("-seed", 1)[0] + f"-seed{seed}")
            if not os.path.exists(record_path(out_dir, extra)):
                break
            record = committed_run(extra, out_dir)
            if record is None:
                break
            found.append((extra, record))
            seed += 1
    return found


def write_record(out_dir, job, summary):
    """Write one finished run's record (atomically: a record is whole or absent)."""
    os.makedirs(os.path.join(out_dir, "runs"), exist_ok=True)
    _write_json(record_path(out_dir, job), {k: v for k, v in summary.items() if k != "reused"})


def run_job(job):
    """Train and evaluate one run; reuse ``summary.json`` if this exact job finished before."""
    from ..training import train
    config = config_from_dict(job.config)
    summary_path = os.path.join(job.run_dir, "summary.json")
    done = finished_run(job)
    if done is not None:
        return done
    # A checkpoint from a different config (an earlier plan) is stale: start that run afresh.
    saved_path = os.path.join(job.run_dir, "config.json")
    resume = True
    if os.path.exists(saved_path):
        with open(saved_path) as f:
            resume = renamed(json.load(f)) == json.loads(json.dumps(job.config))
    t0 = time.perf_counter()
    params = train(config, job.run_dir, resume=resume, progress=job.progress)
    train_seconds = time.perf_counter() - t0
    with open(os.path.join(job.run_dir, "metrics.jsonl")) as f:
        metrics = [json.loads(line) for line in f if line.strip()]
    t1 = time.perf_counter()
    results = {}
    device_params = to_device(params, get_module(config.device))  # evaluate where it trained
    for name, eval_overrides in job.evaluations.items():
        results[name], _ = evaluate(device_params, with_overrides(config, eval_overrides))
    extra = {}
    if job.experiment == "arc":
        extra = _arc_evaluation(params, config)
    versions, machine = environment()  # of the worker: on a cluster, the machine it ran on
    summary = dict(label=job.label, seed=job.seed, run_dir=job.run_dir, config=job.config,
                   evaluations=job.evaluations, train_seconds=round(train_seconds, 1),
                   eval_seconds=round(time.perf_counter() - t1, 1),
                   loss_curve=[(m["step"], m["loss"]) for m in metrics], results=results,
                   versions=versions, machine=machine,
                   finished=datetime.datetime.now(datetime.timezone.utc).isoformat(
                       timespec="seconds"), **extra)
    tmp = summary_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f)
    os.replace(tmp, summary_path)
    summary["reused"] = False
    return summary


def _arc_evaluation(params, config):
    from ..arc import copy_baseline, evaluate_arc
    rows, _, groups = evaluate_arc(params, config, steps=config.eval_grad_steps, seed=config.seed)
    return dict(problems=rows, copy_baseline=copy_baseline(groups))


BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _one_blas_thread():
    """Worker processes inherit the environment at start: one BLAS thread each, so N jobs
    on N cores do not fight over them."""
    saved = {k: os.environ.get(k) for k in BLAS_THREADS}
    os.environ.update({k: "1" for k in BLAS_THREADS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_jobs(jobs, num_workers=1, scheduler=None, on_finished=None):
    """Run every job (longest first), ``num_workers`` at a time, or on the Dask cluster whose
    scheduler is at ``scheduler`` (``cluster.run_on_cluster``); summaries in plan order.
    ``on_finished(job, summary)`` is called as each run finishes."""
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].cost)
    if scheduler:  # connect and submit before the bar starts: a failure is one clear line
        from .cluster import run_on_cluster
        on_cluster = run_on_cluster(scheduler, [(i, jobs[i]) for i in order])
    summaries = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc="runs", unit="run", dynamic_ncols=True)

    def finished(i, s):
        summaries[i] = s
        if on_finished is not None:
            on_finished(jobs[i], s)
        bar.update(1)
        how = "reused" if s["reused"] else f"trained in {s['train_seconds']:.0f} s"
        bar.write(f"  {jobs[i].label}, seed {jobs[i].seed}: {how}")

    if scheduler:
        try:
            for i, s in on_cluster:
                finished(i, s)
        finally:  # close the bar before an error or Ctrl-C message, not redrawn after it
            bar.close()
    elif num_workers == 1:
        for i in order:
            jobs[i].progress = len(jobs) == 1
            finished(i, run_job(jobs[i]))
    else:
        with _one_blas_thread(), ProcessPoolExecutor(
                num_workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_job, jobs[i]): i for i in order}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    bar.close()
    return summaries


# --------------------------------------------------------------------------------------
# Summaries: mean (std) over seeds, tables, the paper's claims
# --------------------------------------------------------------------------------------

def mean_std(values):
    values = onp.asarray(values, dtype=float)
    std = float(onp.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(onp.mean(values)), "std": std, "values": values.tolist()}


def aggregate(summaries, evaluation="test"):
    """``{label: {column: {"exact_match": mean_std, "cell_accuracy": mean_std}}}`` (percent)."""
    out = {}
    for s in summaries:
        for column, r in s["results"][evaluation].items():
            cell = out.setdefault(s["label"], {}).setdefault(column, {"exact_match": [],
                                                                      "cell_accuracy": []})
            cell["exact_match"].append(100 * r["exact_match"])
            cell["cell_accuracy"].append(100 * r["cell_accuracy"])
    return {label: {c: {k: mean_std(v) for k, v in cols.items()} for c, cols in row.items()}
            for label, row in out.items()}


def _fmt(ms, seeds):
    return f"{ms['mean']:.1f}" + (f" ({ms['std']:.1f})" if seeds > 1 else "")


def table1_markdown(agg, seeds, cost, agg_seen=None, baseline=None, seen_share=None):
    """Table 1 as Markdown: exact match next to the paper's numbers, cell accuracy, and
    (with a holdout) exact match on the training-side programs. ``baseline``: the
    zero-parameter readout's ``{"exact_match", "cell_accuracy"}`` (percent), a last row
    with the same number in every column (it does no search). ``seen_share``: the share
    of the training-side programs trained on, said where it is small."""
    columns = list(next(iter(agg.values())))
    head = "| Training | " + " | ".join(columns) + " | s / step |\n|---|" + "---|" * (len(columns) + 1)
    lines = ["Exact match %, " + ("mean (std) over seeds" if seeds > 1 else "one seed")
             + "; [the paper's number, 10x10, 20k steps x 128 tasks].", "", head]
    for label, row in agg.items():
        paper = PAPER_TABLE1.get(label, {})
        cells = [_fmt(row[c]["exact_match"], seeds)
                 + (f" [{paper[c]}]" if c in paper else "") for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {cost[label]:.3f} |")
    if baseline is not None:
        lines.append("| Readout, no parameters | " + " | ".join(
            f"{baseline['exact_match']:.1f}" for _ in columns) + " | 0 |")
    lines += ["", "Cell accuracy %, " + ("mean (std) over seeds." if seeds > 1 else "one seed."),
              "", "| Training | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for label, row in agg.items():
        lines.append(f"| {label} | " + " | ".join(_fmt(row[c]["cell_accuracy"], seeds)
                                                  for c in columns) + " |")
    if baseline is not None:
        lines.append("| Readout, no parameters | " + " | ".join(
            f"{baseline['cell_accuracy']:.1f}" for _ in columns) + " |")
    if agg_seen:
        seen_label = ("training-side (seen) programs" if seen_share is None or seen_share >= 0.5
                      else f"training-side programs (a second sample of programs never trained "
                           f"on: the runs saw about {100 * seen_share:.2g}% of that side)")
        lines += ["", f"Exact match % on {seen_label}, "
                  + ("mean (std) over seeds." if seeds > 1 else "one seed."), "",
                  "| Training | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for label, row in agg_seen.items():
            lines.append(f"| {label} | " + " | ".join(_fmt(row[c]["exact_match"], seeds)
                                                      for c in columns) + " |")
    return "\n".join(lines)


def per_seed(summaries, label, column, evaluation="test", metric="exact_match"):
    """``{seed: percent}`` of one cell of the table: the values ``stats.paired`` pairs."""
    return {s["seed"]: 100 * s["results"][evaluation][column][metric]
            for s in summaries if s["label"] == label}


def ms_per_step(summaries, label):
    """``{seed: training milliseconds per step}`` of one training row."""
    return {s["seed"]: 1000 * s["train_seconds"] / s["config"]["steps"]
            for s in summaries if s["label"] == label}


def compare(what, a, b, unit=" points"):
    """One paired comparison "a > b" (``{seed: value}`` each), with its line of evidence."""
    p = paired(a, b)
    evidence = f"{what}: {describe(p, unit)}"
    if p["verdict"] == NOT_RESOLVED and p["n"] >= 2:
        # A power analysis: how many seeds would settle it, if the difference and its
        # spread are what these seeds show.
        p["seeds_needed"] = seeds_needed(p["diffs"])
        evidence += ("; about {} seeds would resolve it (80% power)".format(p["seeds_needed"])
                     if p["seeds_needed"] else "; no number of seeds would (mean 0 or "
                     "over 1000 needed)")
    return dict(what=what, **p, evidence=evidence)


def combined(comparisons):
    """One verdict for a claim judged by several comparisons (one per row, say): holds
    (reverses) only if every comparison holds (reverses); otherwise not resolved, with the
    counts."""
    verdicts = [c["verdict"] for c in comparisons]
    if len(verdicts) == 1:
        return verdicts[0]
    if all(v == HOLDS for v in verdicts):
        return HOLDS
    if all(v == REVERSES for v in verdicts):
        return REVERSES
    counts = ", ".join(f"{word} in {verdicts.count(v)}" for v, word in
                       ((HOLDS, "holds"), (REVERSES, "reverses"), (NOT_RESOLVED, "not resolved"))
                       if verdicts.count(v))
    return f"{NOT_RESOLVED} ({counts} of {len(verdicts)} comparisons)"


def claim(text, comparisons):
    return dict(claim=text, verdict=combined(comparisons), comparisons=comparisons)


def _grad_columns(summaries, evaluation="test"):
    return [c for c in summaries[0]["results"][evaluation] if c.startswith("Grad ")]


def _labels(summaries):
    """The training rows, in plan order."""
    return list(dict.fromkeys(s["label"] for s in summaries))


def more_steps(summaries, a, b, evaluation="test", where=""):
    """Per training row, exact match with ``b`` test-time steps against ``a`` (e.g. "Grad 0"
    -> "Grad 20"), paired by seed."""
    return [compare(f"{where}{r}: {a} -> {b}", per_seed(summaries, r, b, evaluation),
                    per_seed(summaries, r, a, evaluation)) for r in _labels(summaries)]


def search_steps(summaries, evaluation="test"):
    """Claim 1 over the whole range of K, row by row: each step from one Grad column to the
    next as a paired comparison, and where the row peaks (the column with the highest mean)."""
    grads = _grad_columns(summaries, evaluation)
    steps = [more_steps(summaries, a, b, evaluation) for a, b in zip(grads, grads[1:])]
    out = {}
    for i, label in enumerate(_labels(summaries)):
        means = {c: onp.mean(list(per_seed(summaries, label, c, evaluation).values()))
                 for c in grads}
        out[label] = dict(peak=max(means, key=means.get), steps=[step[i] for step in steps])
    return out


def table1_claims(summaries, evaluation="test"):
    """The paper's claims of Table 1, each judged on paired per-seed differences."""
    grads = _grad_columns(summaries, evaluation)
    top = grads[-1]
    mid = "Grad 20" if "Grad 20" in grads else grads[-2]
    labels = _labels(summaries)
    em = lambda label, column: per_seed(summaries, label, column, evaluation)
    claims = []
    # 1. Test-time scaling: more gradient steps, higher exact match, up to the largest K.
    claims.append(claim(f"1a. More test-time gradient steps help: {grads[0]} -> {mid}",
                        more_steps(summaries, grads[0], mid, evaluation)))
    claims.append(claim(f"1b. ... and keep helping: {mid} -> {top}",
                        more_steps(summaries, mid, top, evaluation)))
    # 2. Grad 1 training beats mean training at a high test budget.
    if {"Grad 0", "Grad 1"} <= set(labels):
        claims.append(claim(f"2. Training with Grad 1 beats mean training (Grad 0) at {top}",
                            [compare(f"{top}: Grad 1 - Grad 0", em("Grad 1", top),
                                     em("Grad 0", top))]))
    # 3. Gradient search beats random search: at test time (every training row), and as the
    # training method (the Grad 1 row against the Sample 5 row).
    sample_col = next((c for c in summaries[0]["results"][evaluation]
                       if c.startswith("Sample ")), None)
    if sample_col:
        claims.append(claim(f"3a. At test time, {mid} beats {sample_col}",
                            [compare(f"{r}: {mid} - {sample_col}", em(r, mid), em(r, sample_col))
                             for r in labels]))
    if {"Grad 1", "Sample 5"} <= set(labels):
        claims.append(claim(f"3b. In training, Grad 1 beats Sample 5 (at {top})",
                            [compare(f"{top}: Grad 1 - Sample 5", em("Grad 1", top),
                                     em("Sample 5", top))]))
    # 4. Stop-gradient is better (exact match at the top budget) and cheaper (time per step).
    if {"Grad 1", "Grad 1, no stop-grad"} <= set(labels):
        claims.append(claim(f"4a. Stop-gradient training is better than differentiating through "
                            f"the latent step (at {top})",
                            [compare(f"{top}: Grad 1 - Grad 1, no stop-grad", em("Grad 1", top),
                                     em("Grad 1, no stop-grad", top))]))
        claims.append(claim("4b. ... and cheaper (training time per step; depends on the "
                            "machine and its load)",
                            [compare("no stop-grad - stop-grad",
                                     ms_per_step(summaries, "Grad 1, no stop-grad"),
                                     ms_per_step(summaries, "Grad 1"), unit=" ms / step")]))
    return claims


def seen_vs_unseen(summaries, evaluation="test", column=None):
    """Per training row, exact match on training-side (seen) programs minus held-out
    (unseen) ones, paired by seed: what recall adds to generalisation."""
    seen = evaluation + SEEN
    if seen not in summaries[0]["results"]:
        return []
    column = column or _grad_columns(summaries, evaluation)[-1]
    return [compare(f"{r}: seen - unseen at {column}",
                    per_seed(summaries, r, column, seen), per_seed(summaries, r, column, evaluation))
            for r in _labels(summaries)]


def claims_markdown(claims):
    lines = []
    for c in claims:
        lines.append(f"- **{c['claim']}**: {c['verdict']}.")
        lines += [f"  - {x['evidence']}" for x in c["comparisons"]]
    return "\n".join(lines)


def _interval(c):
    """'[-7.2, +25.0]', or '(1 seed, no interval)' where one seed gives no spread to judge."""
    if c["n"] < 2:
        return "(1 seed, no interval)"
    return f"[{c['low']:+.1f}, {c['high']:+.1f}]"


def steps_markdown(steps):
    """Claim 1 step by step: one row per training row, one column per step of K."""
    first = next(iter(steps.values()))["steps"]
    names = [c["what"].split(": ", 1)[1] for c in first]
    short = {HOLDS: "holds", REVERSES: "**reverses**", NOT_RESOLVED: "n.r."}
    lines = ["| Training | " + " | ".join(names) + " | peak |", "|---|" + "---|" * (len(names) + 1)]
    for label, row in steps.items():
        cells = [f"{c['mean']:+.1f} {_interval(c)} {short[c['verdict']]}" for c in row["steps"]]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {row['peak']} |")
    return "\n".join(lines)


def ood_claims(summaries):
    """Table 6's claims at every evaluation density, on paired per-seed differences."""
    grads = _grad_columns(summaries, next(iter(OOD_DENSITIES)))
    top, mid = grads[-1], grads[-2]
    labels = _labels(summaries)
    em = lambda label, column, name: per_seed(summaries, label, column, name)
    claims = []
    if {"Grad 0", "Grad 1"} <= set(labels):
        claims.append(claim(f"1. Training with Grad 1 generalises better than mean training "
                            f"(at {top}), at every density",
                            [compare(f"{name}: Grad 1 - Grad 0", em("Grad 1", top, name),
                                     em("Grad 0", top, name)) for name in OOD_DENSITIES]))
    claims.append(claim(f"2. Test-time search recovers accuracy out of distribution "
                        f"({grads[0]} -> {top})",
                        [c for name in OOD_DENSITIES for c in more_steps(
                            summaries, grads[0], top, name, where=f"{name}, trained ")]))
    claims.append(claim(f"3. ... and more steps keep helping ({mid} -> {top})",
                        [c for name in OOD_DENSITIES for c in more_steps(
                            summaries, mid, top, name, where=f"{name}, trained ")]))
    return claims


def ood_markdown(aggs, seeds):
    """aggs: ``{evaluation name: aggregate}``. Cells "Grad 0 / 10 / 100" like Table 6."""
    names = [n for n in aggs if not n.endswith(SEEN)]
    labels = list(aggs[names[0]])
    columns = list(aggs[names[0]][labels[0]])
    spread = " (std)" if seeds > 1 else ""
    lines = []
    for title, suffix in (("held-out (unseen) programs", ""), ("training-side (seen) programs",
                                                               SEEN)):
        if names[0] + suffix not in aggs:
            continue
        lines += [f"Exact match % on {title}, inference " + " / ".join(columns)
                  + (f", mean{spread} over {seeds} seeds" if seeds > 1 else ", one seed")
                  + ("; the paper's row below each." if not suffix else "."), "",
                  "| Training | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for label in labels:
            cells = [" / ".join(_fmt(v["exact_match"], seeds)
                                for v in aggs[n + suffix][label].values()) for n in names]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
            paper = PAPER_TABLE6.get(label)
            if paper and not suffix:
                lines.append(f"| paper {label} | " + " | ".join(" / ".join(map(str, paper[n]))
                                                                for n in names) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


# --------------------------------------------------------------------------------------
# The record of a run: command, versions, machine, wall time
# --------------------------------------------------------------------------------------

def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu():
    try:
        import cupy
        count = cupy.cuda.runtime.getDeviceCount()
        return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode() if count else None
    except Exception:  # no CuPy, no driver, no device: no GPU to report
        return None


def _git_commit():
    """The commit of this copy of lpn_mini, "+changes" if its library files (the grader
    aside: it never touches a run) differ from it; None outside a git checkout."""
    here = os.path.dirname(os.path.dirname(__file__))  # lpn_mini/
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=here)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)course"], capture_output=True, text=True,
                               timeout=5, cwd=here)
        return (out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


# Read once, when the code is imported: a run records the commit of the code it ran, even
# if the checkout moves on while it trains (a worker process imports it when it starts).
CODE_COMMIT = _git_commit()


def environment():
    from importlib.metadata import PackageNotFoundError, version

    import matplotlib
    try:
        autograd_version = version("autograd")
    except PackageNotFoundError:
        autograd_version = "unknown"
    versions = {"python": platform.python_version(), "numpy": onp.__version__,
                "autograd": autograd_version,
                "matplotlib": matplotlib.__version__, "lpn_mini": __version__,
                "git_commit": CODE_COMMIT}
    machine = {"cpu": _cpu_model(), "cores": os.cpu_count(), "gpu": _gpu(),
               "platform": platform.platform()}
    return versions, machine


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------

def reproduce(experiment, out_dir=None, scale="laptop", quick=False, seeds=None, jobs=None,
              overrides=(), runs_dir=None, command=None, echo=print, scheduler=None,
              settings="official", rows=None, train_seeds=None):
    """Run ``experiment`` and write ``results.json``, ``results.md`` and figures to
    ``out_dir`` (default ``results/<experiment>``, ``results/<experiment>-quick`` with
    ``quick``). The runs go to ``jobs`` local processes (default 1), or to the Dask cluster
    whose scheduler is at ``scheduler``. ``rows`` and ``train_seeds`` (None: all) pick which
    of the runs not yet recorded to train now, so that several machines or sessions can
    fill in one table without training the same run twice. Returns the record written to
    ``results.json``, or None while no row has all its seeds recorded."""
    if scheduler and jobs is not None:
        raise ValueError("--jobs and --scheduler do not combine (--jobs N runs N local "
                         "processes, --scheduler sends every run to the Dask cluster); pass one.")
    jobs = 1 if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}.")
    out_dir = out_dir or os.path.join("results", experiment + ("-quick" if quick else "")
                                      + ("-paper" if scale == "paper" else "")
                                      + ("-pseudocode" if settings == "pseudocode" else ""))
    job_list = plan(experiment, scale, quick, seeds, overrides, runs_dir, settings)
    wanted = {j.label for j in plan(experiment, scale, quick, seeds, overrides, runs_dir,
                                    settings, rows)}  # --rows: which rows to train now
    seeds = len({j.seed for j in job_list})
    if train_seeds is not None:
        train_seeds = sorted(set(train_seeds))
        if not train_seeds or not all(0 <= k < seeds for k in train_seeds):
            raise ValueError(f"--train-seeds {','.join(map(str, train_seeds)) or '(none)'}: "
                             f"pick seeds among 0..{seeds - 1} (the table has --seeds "
                             f"{seeds}), comma-separated, e.g. --train-seeds {seeds - 1}.")
    os.makedirs(out_dir, exist_ok=True)
    base = config_from_dict(job_list[0].config)
    echo(f"reproduce {experiment}: {len(job_list)} training run(s) of {base.steps} steps x "
         f"{base.batch_size} tasks, {base.grid_size}x{base.grid_size} grids, {seeds} seed(s), "
         f"{f'the Dask cluster at {scheduler}' if scheduler else f'{jobs} worker(s)'} -> "
         f"{out_dir}")
    t0 = time.perf_counter()
    # Runs recorded in out_dir/runs/ are not run again (the figures of latent2d and arc need
    # seed 0's weights, so that one only if its checkpoint is here).
    summaries = [committed_run(j, out_dir, experiment in ("latent2d", "arc") and j.seed == 0)
                 for j in job_list]
    # A row may have more seeds recorded than --seeds asks for (a contested claim run to
    # the seeds its power analysis asks for): the tables and verdicts use them all.
    extra = more_seeds_recorded(job_list, out_dir)
    job_list, summaries = job_list + [j for j, _ in extra], summaries + [s for _, s in extra]
    todo = [i for i, s in enumerate(summaries) if s is None and job_list[i].label in wanted
            and (train_seeds is None or job_list[i].seed in train_seeds)]
    reused = sum(s is not None for s in summaries)
    if reused:
        echo(f"  {reused} run(s) reused from {os.path.join(out_dir, 'runs')}")
    if rows is not None or train_seeds is not None:
        picked = ([f"--rows {', '.join(sorted(wanted))}"] if rows is not None else []) + (
            [f"--train-seeds {','.join(map(str, train_seeds))}"] if train_seeds is not None
            else [])
        echo(f"  {len(todo)} run(s) to train now ({'; '.join(picked)}); "
             f"{len(summaries) - reused - len(todo)} left for another time")
    done = run_jobs([job_list[i] for i in todo], jobs, scheduler,
                    on_finished=lambda job, s: write_record(out_dir, job, s)) if todo else []
    for i, s in zip(todo, done):
        summaries[i] = s
    # The tables hold the rows whose every seed has finished (here or in a committed
    # record); a row left out by --rows and not recorded yet is named, not guessed.
    missing = list(dict.fromkeys(j.label for j, s in zip(job_list, summaries) if s is None))
    kept = [(j, s) for j, s in zip(job_list, summaries) if j.label not in missing]
    if not kept:
        echo(f"no training row of {experiment} has all {seeds} seeds recorded in "
             f"{os.path.join(out_dir, 'runs')} yet; run the command without --rows, or with "
             "the rows to train.")
        return None
    job_list, summaries = [j for j, _ in kept], [s for _, s in kept]
    versions, machine = environment()
    record = dict(experiment=experiment, scale=scale, settings=settings, quick=quick,
                  command=command or f"lpn-mini reproduce {experiment}", seeds=list(range(seeds)),
                  jobs=None if scheduler else jobs, scheduler=scheduler,
                  started=datetime.datetime.now(datetime.timezone.utc).isoformat(
                      timespec="seconds"),
                  budget=dict(steps=base.steps, batch_size=base.batch_size,
                              pairs_seen=base.steps * base.batch_size * base.num_pairs),
                  configs={j.label: {k: v for k, v in j.config.items() if k != "seed"}
                           for j in job_list},
                  runs=[{k: v for k, v in s.items()  # each run's whole record is in runs/
                         if k not in ("config", "loss_curve", "problems", "copy_baseline",
                                      "versions")}
                        for s in summaries],
                  versions=versions, machine=machine)
    table = WRITERS[experiment](record, summaries, out_dir, seeds)
    record["wall_seconds"] = round(time.perf_counter() - t0, 1)
    record["train_seconds_total"] = round(sum(s["train_seconds"] for s in summaries
                                              if not s["reused"]), 1)
    per_row = {}
    for j in job_list:
        per_row[j.label] = per_row.get(j.label, 0) + 1
    record["seeds_per_row"] = per_row
    seeds_said = (f"{seeds} seed(s)" if len(set(per_row.values())) == 1 else
                  "seeds per row: " + ", ".join(f"{label} {n}" for label, n in per_row.items()))
    footer = (f"\n\n{len(job_list)} run(s), {seeds_said}, {base.steps} steps x "
              f"{base.batch_size} tasks each; wall time {record['wall_seconds']:.0f} s on "
              + (f"the Dask cluster at {scheduler}; " if scheduler else
                 f"{machine['cores']} cores ({machine['cpu']}), {jobs} worker(s); ") +
              f"`{record['command']}`.")
    reused = sum(s["reused"] for s in summaries)
    if missing:
        footer += (f" Rows not run yet (no record for every seed): {', '.join(missing)}; "
                   f"add them with `--rows {','.join(map(_slug, missing))}`.")
    if reused:
        footer += (f" {reused} of the runs were reused from an earlier invocation (their "
                   "records say when and where they trained).")
    footer += (f" Training took {sum(s['train_seconds'] for s in summaries):.0f} s of worker "
               f"time in all, evaluation {sum(s['eval_seconds'] for s in summaries):.0f} s.")
    cpus = sorted({(s.get("machine") or {}).get("cpu") or "not recorded" for s in summaries})
    commits = sorted({(s.get("versions") or {}).get("git_commit") or "not recorded"
                      for s in summaries})
    footer += (f" Runs trained on {'; '.join(cpus)}, code of commit {', '.join(commits)} "
               f"(each run's record: {os.path.join(out_dir, 'runs')}/). Settings: {settings}.")
    table += footer
    _write_json(os.path.join(out_dir, "results.json"), record)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(f"# {experiment} ({'quick' if quick else scale} scale)\n\n{table}\n")
    echo("\n" + table)
    return record


def _write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def _cost(summaries):
    """Measured training seconds per step, median over the seeds of each row."""
    per = {}
    for s in summaries:
        per.setdefault(s["label"], []).append(s["train_seconds"] / s["config"]["steps"])
    return {label: float(onp.median(v)) for label, v in per.items()}


CLAIMS_INTRO = ("The paper's claims at this scale. Each comparison is the mean of the per-seed "
                "differences (same seed: same initial weights, training tasks and evaluation "
                "set) with its 95% t interval; the verdict is computed by `lpn_mini/experiments/stats.py`: "
                "*holds* (interval above 0), *reverses* (below 0), *not resolved at this scale* "
                "(contains 0); a claim judged by several comparisons holds only if every one "
                "does.")


def seen_share_trained(config):
    """About what share of the training-side programs a run trained on: with S = that many
    programs and steps x batch tasks drawn uniformly, 1 - exp(-tasks / S). Near 1 at laptop
    scale (6561 programs), near 0 at the paper's (9^16): there a "seen" program is only
    another unseen one."""
    C, P, density = config.num_colors, config.pattern_size, config.density
    programs = (C if density < 1 else C - 1) ** (P * P) * (1 - config.holdout)
    return float(-onp.expm1(-config.steps * config.batch_size / programs))


CEILING_NOTE = (
    "**What this table does and does not test.** The conv model's encoder reads the "
    "co-occurrence table of each pair, and on the Pattern task the table's rows for the "
    "anchor colour *are* the program, in place (`lpn_mini/experiments/readout.py`). The row *Readout, no "
    "parameters* reads them off one other pair and pastes them at the test anchor, with no "
    "training and no search, scored by the same leave-one-out evaluation. Where it scores "
    "100%, the table is a ceiling: it shows that training and search reach what the input "
    "already holds, not that search beats no search as in the paper, whose transformer must "
    "learn to find the program. The paper's claims below are computed as at every scale, "
    "but a claim decided at 100% is decided by the ceiling.")


def _write_table1(record, summaries, out_dir, seeds):
    from .plotting import plot_loss_curves, plot_rows_vs_steps
    config = config_from_dict(summaries[0]["config"])
    baseline = None
    if config.architecture == "conv" and config.task == "pattern":
        from .readout import readout_scores
        baseline = {k: 100 * v for k, v in readout_scores(config).items()}
        record["readout_baseline"] = baseline
    agg = aggregate(summaries)
    agg_seen = aggregate(summaries, "test" + SEEN) if "test" + SEEN in summaries[0]["results"] \
        else None
    cost = _cost(summaries)
    if any(s["reused"] for s in summaries):  # a reused run's time is from its first invocation
        record["note"] = "s / step of reused runs is from the invocation that trained them"
    claims, steps, seen = table1_claims(summaries), search_steps(summaries), \
        seen_vs_unseen(summaries)
    record.update(table=agg, table_seen=agg_seen, seconds_per_step=cost, claims=claims,
                  search_steps=steps, seen_vs_unseen=seen)
    plot_rows_vs_steps(agg, os.path.join(out_dir, "exact_match_vs_steps.png"),
                       title=f"Table 1 at {record['scale']} scale, {seeds} seed(s), unseen programs")
    plot_loss_curves(summaries, os.path.join(out_dir, "training_curves.png"))
    share = seen_share_trained(config) if agg_seen else None
    if share is not None:
        record["seen_share_trained"] = share
    text = [table1_markdown(agg, seeds, cost, agg_seen, baseline, share), "", CLAIMS_INTRO, "",
            claims_markdown(claims), "", "Claim 1 over the whole range of K: the change of exact "
            "match from each number of test-time steps to the next (mean [95% interval], "
            "verdict; n.r.: not resolved at this scale), and the column where each row's mean "
            "peaks.", "", steps_markdown(steps)]
    if seen and share >= 0.5:
        text += ["", "Seen against unseen programs (what recall adds):", ""] + \
            [f"- {c['evidence']}" for c in seen]
    elif seen:
        text += ["", f"No seen-against-unseen comparison: the runs trained on about "
                 f"{100 * share:.2g}% of the training-side programs, so both sides are "
                 "programs the model never saw."]
    if baseline is not None:
        text = [CEILING_NOTE, ""] + text
    return "\n".join(text)


def _write_ood(record, summaries, out_dir, seeds):
    from .plotting import plot_ood
    aggs = {name: aggregate(summaries, name) for name in summaries[0]["results"]}
    claims = ood_claims(summaries)
    record.update(table=aggs, claims=claims)
    plot_ood({n: a for n, a in aggs.items() if not n.endswith(SEEN)},
             os.path.join(out_dir, "ood_exact_match.png"))
    return "\n".join([ood_markdown(aggs, seeds), "", CLAIMS_INTRO, "", claims_markdown(claims)])


def mean_table(aggs, seeds):
    """``{title: aggregate}`` -> one Markdown table per title, cells "exact match (cell
    accuracy)", each mean (std) over the seeds."""
    lines = []
    for title, agg in aggs.items():
        columns = list(next(iter(agg.values())))
        lines += [f"{title}: exact match % / cell accuracy %, "
                  + (f"mean (std) over {seeds} seeds." if seeds > 1 else "one seed."), "",
                  "| Training | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for label, row in agg.items():
            lines.append(f"| {label} | " + " | ".join(
                f"{_fmt(row[c]['exact_match'], seeds)} / {_fmt(row[c]['cell_accuracy'], seeds)}"
                for c in columns) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


def _write_latent2d(record, summaries, out_dir, seeds):
    from ..evaluation import eval_tasks, search_options
    from ..architectures import encode
    from .plotting import plot_landscapes, plot_latent_plane
    params, config = _params_of(summaries[0])  # the figures: seed 0
    x, y = eval_tasks(config)
    # Draw the part of the plane where the encoder puts the evaluation tasks.
    mu, _ = encode(params["encoder"], x, y)
    extent = float(onp.ceil(onp.percentile(onp.abs(mu.mean(axis=1)), 98)))
    plot_latent_plane(params, x[0, 0], os.path.join(out_dir, "latent_plane.png"),
                      extent=max(extent, 1.0))
    paths = plot_landscapes(params, config, x[:3], y[:3], os.path.join(out_dir, "landscapes.png"))
    aggs = {"Held-out (unseen) programs": aggregate(summaries)}
    if "test" + SEEN in summaries[0]["results"]:
        aggs["Training-side (seen) programs"] = aggregate(summaries, "test" + SEEN)
    grads = _grad_columns(summaries)
    claims = [claim(f"Test-time search in the 2-D latent space helps ({grads[0]} -> {grads[-1]})",
                    [compare(f"{m.replace('_', ' ')}: {grads[0]} -> {grads[-1]}",
                             per_seed(summaries, "Grad 1", grads[-1], "test", m),
                             per_seed(summaries, "Grad 1", grads[0], "test", m),
                             unit=" points") for m in ("exact_match", "cell_accuracy")])]
    record.update(table=aggs["Held-out (unseen) programs"], tables=aggs, claims=claims,
                  ascent=paths)
    options = search_options(config, "grad", paths[0]["steps"])
    lines = [mean_table(aggs, seeds), "", CLAIMS_INTRO, "", claims_markdown(claims), "",
             f"Gradient ascent on the specification log-likelihood of 3 evaluation tasks, seed 0 "
             f"({options['optimizer']}, lr {options['alpha']}, clip {options['clip_mode']}, "
             f"{paths[0]['steps']} steps; `landscapes.png`):", ""]
    for p in paths:
        lines.append(f"- task {p['task']}: from the encoder's guess {p['start']:.2f} -> "
                     f"{p['end']:.2f}; from z = 0 {p['from_zero'][0]:.2f} -> "
                     f"{p['from_zero'][1]:.2f}; from elsewhere {p['from_elsewhere'][0]:.2f} -> "
                     f"{p['from_elsewhere'][1]:.2f}")
    return "\n".join(lines)


def _arc_overall(problems, methods):
    """Percent of test pairs: top-1 / top-2 exact, cell accuracy and shape, per method."""
    return {m: {k: 100 * float(onp.mean([p[m][k] for p in problems]))
                for k in ("top1", "top2", "cell_accuracy", "shape")} for m in methods}


ARC_NAMES = {"top1": "top-1 exact", "top2": "top-2 exact", "cell_accuracy": "cell accuracy",
             "shape": "shape right"}


def _write_arc(record, summaries, out_dir, seeds):
    from .plotting import plot_arc_examples, plot_arc_scores
    s0 = summaries[0]  # the per-pair table and the figure of examples: seed 0
    problems, baseline = s0["problems"], s0["copy_baseline"]
    methods = [k for k in problems[0] if k.startswith("Grad ")]
    per = {s["seed"]: _arc_overall(s["problems"], methods) for s in summaries}
    overall = {m: {k: mean_std([per[sd][m][k] for sd in sorted(per)])
                   for k in ("top1", "top2", "cell_accuracy", "shape")} for m in methods}
    copy = {"top1": 100 * onp.mean([b["top1"] for b in baseline]),
            "cell_accuracy": 100 * onp.mean([b["cell_accuracy"] for b in baseline]),
            "shape": 100 * onp.mean([b["shape"] for b in baseline])}
    first, last = methods[0], methods[-1]
    best = max(methods, key=lambda m: overall[m]["cell_accuracy"]["mean"])
    of = lambda m, k: {sd: per[sd][m][k] for sd in per}
    claims = [claim(f"Test-time search helps on ARC ({first} -> {last})",
                    [compare(f"{ARC_NAMES[k]}: {first} -> {last}", of(last, k), of(first, k))
                     for k in ("cell_accuracy", "top2")]),
              claim(f"LPN's cell accuracy ({best}) beats copying the input",
                    [compare(f"cell accuracy: {best} - copy the input", of(best, "cell_accuracy"),
                             {sd: copy["cell_accuracy"] for sd in per})])]
    better = sum(p[last]["cell_accuracy"] > p[first]["cell_accuracy"] + 1e-9 for p in problems)
    worse = sum(p[last]["cell_accuracy"] < p[first]["cell_accuracy"] - 1e-9 for p in problems)
    tasks = sorted({p["task"] for p in problems})
    record.update(overall=overall, per_seed=per, copy_baseline_overall=copy, claims=claims,
                  problems=problems, search_effect={"better": better, "worse": worse,
                                                    "same": len(problems) - better - worse})
    plot_arc_scores({m: {k: v["mean"] for k, v in o.items()} for m, o in overall.items()}, copy,
                    os.path.join(out_dir, "arc_scores.png"))
    plot_arc_examples(_params_of(s0), s0, problems, os.path.join(out_dir, "arc_examples.png"))
    lines = [f"{len(problems)} test pairs of {len(tasks)} ARC-AGI-1 evaluation tasks whose grids "
             "all fit in 10 x 10 (padded with a padding colour, so the output shape is predicted "
             "too). Percent of test pairs, " + (f"mean (std) over {seeds} seeds." if seeds > 1
                                                 else "one seed."), "",
             "| Inference | top-1 exact | top-2 exact | cell accuracy | shape right |",
             "|---|---|---|---|---|"]
    for m, o in overall.items():
        lines.append(f"| {m} | " + " | ".join(_fmt(o[k], seeds) for k in
                                             ("top1", "top2", "cell_accuracy", "shape")) + " |")
    lines.append(f"| copy the input (baseline) | {copy['top1']:.1f} | - | "
                 f"{copy['cell_accuracy']:.1f} | {copy['shape']:.1f} |")
    lines += ["", CLAIMS_INTRO, "", claims_markdown(claims), "",
              f"Seed 0, {last} vs {first}, cell accuracy per test pair: better on {better}, "
              f"worse on {worse}, the same on {len(problems) - better - worse}.", "",
              "Per test pair, seed 0 (top-1 exact / top-2 exact / cell accuracy %):", "",
              "| Task | test | spec pairs | " + " | ".join(methods) + " |",
              "|---|---|---|" + "---|" * len(methods)]
    for p in problems:
        cells = [f"{'Y' if p[m]['top1'] else '-'} / {'Y' if p[m]['top2'] else '-'} / "
                 f"{100 * p[m]['cell_accuracy']:.0f}" for m in methods]
        lines.append(f"| {p['task']} | {p['test_index']} | {p['spec_pairs']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def _params_of(summary):
    from ..checkpoint import load_checkpoint
    params, _, config, _ = load_checkpoint(os.path.join(summary["run_dir"], "checkpoint.npz"))
    return params, config


WRITERS = {"table1": _write_table1, "ood": _write_ood, "latent2d": _write_latent2d,
           "arc": _write_arc}
