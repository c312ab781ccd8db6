"""``lpn-mini reproduce``: the paper's experiments at a scale one CPU can run.

Each experiment is a list of training runs (one per training method and seed), each trained
with ``training.train`` and evaluated in the same worker, then summarised into
``results/<experiment>/``:

- ``results.json``  every number, the command, seeds, configs, versions, machine, wall time
- ``results.md``    the tables (printed too), next to the paper's numbers
- ``*.png``         the figures

Checkpoints go to ``runs/reproduce/<experiment>/``; a run that finished before (same config,
same evaluation) is not trained or evaluated again, so an interrupted reproduction resumes.
Independent runs go to ``--jobs`` worker processes, each with one BLAS thread.

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

from . import __version__
from .backend import get_module, to_device
from .config import PRESETS, config_from_dict, make_config, renamed, with_overrides
from .evaluation import PAPER_TABLE1, evaluate

EXPERIMENTS = ("table1", "ood", "latent2d", "arc")
SCALES = ("laptop", "paper")

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


def base_config(experiment, scale="laptop", quick=False, overrides=()):
    """The config every run of ``experiment`` starts from."""
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
    if quick:
        config = with_overrides(config, quick_set)
    return with_overrides(config, overrides)


def plan(experiment, scale="laptop", quick=False, seeds=None, overrides=(), runs_dir=None):
    """The list of ``Job`` for an experiment."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; choose one of "
                         f"{', '.join(EXPERIMENTS)}.")
    seeds = default_seeds(experiment, quick) if seeds is None else seeds
    if seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {seeds}.")
    base = base_config(experiment, scale, quick, overrides)
    runs_dir = runs_dir or os.path.join("runs", "reproduce",
                                        experiment + ("-quick" if quick else f"-{scale}"))
    if experiment == "table1":
        rows, evaluations = TABLE1_ROWS, {"test": []}
    elif experiment == "ood":
        rows = OOD_ROWS
        evaluations = {name: [f"eval_density={d}"] for name, d in OOD_DENSITIES.items()}
    elif experiment == "latent2d":
        rows, evaluations = {"Grad 1": []}, {"test": []}
    else:
        rows, evaluations = {"Grad 1": []}, {}  # ARC is scored by arc.evaluate_arc
    jobs = []
    for label, row_overrides in rows.items():
        for seed in range(seeds):
            config = with_overrides(base, [*row_overrides, f"seed={seed}"])
            run_dir = os.path.join(runs_dir, f"{_slug(label)}-seed{seed}")
            jobs.append(Job(experiment, label, seed, dataclasses.asdict(config), run_dir,
                            evaluations))
    return jobs


def default_seeds(experiment, quick=False):
    if quick:
        return 1
    return 3 if experiment in ("table1", "ood") else 1


# --------------------------------------------------------------------------------------
# One run, in a worker: train, evaluate, remember
# --------------------------------------------------------------------------------------

def finished_run(job):
    """The summary of ``job`` if this exact job (same config, same evaluations) finished
    before in ``job.run_dir``, marked ``reused``; otherwise None."""
    summary_path = os.path.join(job.run_dir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            done = json.load(f)
        if renamed(done.get("config", {})) == json.loads(json.dumps(job.config)) and \
                done.get("evaluations") == job.evaluations:
            done["reused"] = True
            return done
    return None


def run_job(job):
    """Train and evaluate one run; reuse ``summary.json`` if this exact job finished before."""
    from .training import train
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
    summary = dict(label=job.label, seed=job.seed, run_dir=job.run_dir, config=job.config, evaluations=job.evaluations,
                   train_seconds=round(train_seconds, 1),
                   eval_seconds=round(time.perf_counter() - t1, 1),
                   loss_curve=[(m["step"], m["loss"]) for m in metrics], results=results, **extra)
    tmp = summary_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f)
    os.replace(tmp, summary_path)
    summary["reused"] = False
    return summary


def _arc_evaluation(params, config):
    from .arc import copy_baseline, evaluate_arc
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


def run_jobs(jobs, num_workers=1, scheduler=None):
    """Run every job (longest first), ``num_workers`` at a time, or on the Dask cluster whose
    scheduler is at ``scheduler`` (``cluster.run_on_cluster``); summaries in plan order."""
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].cost)
    if scheduler:  # connect and submit before the bar starts: a failure is one clear line
        from .cluster import run_on_cluster
        on_cluster = run_on_cluster(scheduler, [(i, jobs[i]) for i in order])
    summaries = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc="runs", unit="run", dynamic_ncols=True)

    def finished(i, s):
        summaries[i] = s
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


def table1_markdown(agg, seeds, cost):
    columns = list(next(iter(agg.values())))
    head = "| Training | " + " | ".join(columns) + " | s / step |\n|---|" + "---|" * (len(columns) + 1)
    lines = ["Exact match %, " + ("mean (std) over seeds" if seeds > 1 else "one seed")
             + "; [the paper's number, 10x10, 20k steps x 128 tasks].", "", head]
    for label, row in agg.items():
        paper = PAPER_TABLE1.get(label, {})
        cells = [_fmt(row[c]["exact_match"], seeds)
                 + (f" [{paper[c]}]" if c in paper else "") for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {cost[label]:.3f} |")
    lines += ["", "Cell accuracy %, " + ("mean (std) over seeds." if seeds > 1 else "one seed."),
              "", "| Training | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for label, row in agg.items():
        lines.append(f"| {label} | " + " | ".join(_fmt(row[c]["cell_accuracy"], seeds)
                                                  for c in columns) + " |")
    return "\n".join(lines)


def _compare(a, b):
    """Verdict on "a > b" for two mean_std cells: clear, within the seeds' spread, or not."""
    diff = a["mean"] - b["mean"]
    spread = max(a["std"], b["std"])
    if diff > spread and diff > 0:
        return "holds", diff
    if diff > 0:
        return "holds, within the spread of the seeds", diff
    return "does not hold", diff


def table1_claims(agg, cost):
    """The paper's four claims, judged on the measured table. Each: claim, verdict, evidence."""
    em = lambda row, col: agg[row][col]["exact_match"]
    grads = [c for c in next(iter(agg.values())) if c.startswith("Grad ")]
    top, mid = grads[-1], grads[-2]
    claims = []
    # 1. Test-time scaling: more ascent steps, higher exact match (Grad 0 -> Grad 20/100).
    rows_up = [r for r in agg if em(r, grads[-2])["mean"] > em(r, grads[0])["mean"]]
    steady = [r for r in agg if all(em(r, a)["mean"] <= em(r, b)["mean"] + max(em(r, a)["std"], 1.0)
                                    for a, b in zip(grads, grads[1:]))]
    verdict = ("holds" if len(rows_up) == len(agg) and len(steady) == len(agg) else
               "holds for some rows" if rows_up else "does not hold")
    claims.append(dict(claim="1. Test-time gradient ascent improves exact match steadily with steps",
                       verdict=verdict, evidence="; ".join(
                           f"{r}: " + " -> ".join(f"{em(r, c)['mean']:.1f}" for c in grads)
                           for r in agg)))
    # 2. Grad 1 training beats mean training at a high test budget.
    v, diff = _compare(em("Grad 1", top), em("Grad 0", top))
    claims.append(dict(claim=f"2. Training with Grad 1 beats mean training (Grad 0) at {top}",
                       verdict=v, evidence=f"{top}: Grad 1 {em('Grad 1', top)['mean']:.1f} vs "
                       f"Grad 0 {em('Grad 0', top)['mean']:.1f} ({diff:+.1f} points)"))
    # 3. Gradient search beats sampling: at test time (Grad 20 vs Sample N, every row) and in
    # training (Grad 1 vs Sample 5 rows, at the top budget).
    sample_col = next((c for c in agg["Grad 1"] if c.startswith("Sample ")), None)
    parts, verdicts = [], []
    if sample_col:
        for r in agg:
            v, diff = _compare(em(r, mid), em(r, sample_col))
            verdicts.append(v)
            parts.append(f"{r}: {mid} {em(r, mid)['mean']:.1f} vs {sample_col} "
                         f"{em(r, sample_col)['mean']:.1f}")
    if "Sample 5" in agg:
        v, diff = _compare(em("Grad 1", top), em("Sample 5", top))
        verdicts.append(v)
        parts.append(f"training Grad 1 vs Sample 5 at {top}: {em('Grad 1', top)['mean']:.1f} vs "
                     f"{em('Sample 5', top)['mean']:.1f}")
    verdict = ("holds" if all(v == "holds" for v in verdicts) else
               "does not hold" if all(v == "does not hold" for v in verdicts) else
               f"holds in {sum(v.startswith('holds') for v in verdicts)} of {len(verdicts)} comparisons")
    claims.append(dict(claim=f"3. Gradient search beats sampling ({mid} vs {sample_col} at test "
                       "time; Grad 1 vs Sample 5 in training)", verdict=verdict,
                       evidence="; ".join(parts)))
    # 4. Stop-gradient is better (exact match at the top budget) and cheaper (s / step).
    if "Grad 1, no stop-grad" in agg:
        v, diff = _compare(em("Grad 1", top), em("Grad 1, no stop-grad", top))
        cheaper = cost["Grad 1"] < cost["Grad 1, no stop-grad"]
        verdict = (v if cheaper else v + "; not cheaper")
        claims.append(dict(
            claim="4. Stop-gradient training is better and cheaper than differentiating through "
                  "the latent step", verdict=verdict,
            evidence=f"{top}: {em('Grad 1', top)['mean']:.1f} vs "
                     f"{em('Grad 1, no stop-grad', top)['mean']:.1f} ({diff:+.1f} points); "
                     f"{cost['Grad 1']:.3f} vs {cost['Grad 1, no stop-grad']:.3f} s / step"))
    return claims


def claims_markdown(claims):
    return "\n".join(f"- **{c['claim']}**: {c['verdict']}. {c['evidence']}." for c in claims)


def ood_markdown(aggs, seeds):
    """aggs: ``{density name: aggregate}``. Cells "Grad 0 / 10 / 100" like Table 6."""
    names = list(aggs)
    labels = list(next(iter(aggs.values())))
    lines = ["Exact match %, inference " + " / ".join(next(iter(next(iter(aggs.values())).values())))
             + (", mean over seeds (std in results.json)" if seeds > 1 else ", one seed")
             + "; the paper's row below each.", "",
             "| Training | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label in labels:
        cells = [" / ".join(f"{v['exact_match']['mean']:.1f}" for v in aggs[n][label].values())
                 for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        paper = PAPER_TABLE6.get(label)
        if paper:
            lines.append(f"| paper {label} | " + " | ".join(" / ".join(map(str, paper[n]))
                                                            for n in names) + " |")
    return "\n".join(lines)


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
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=os.path.dirname(__file__))
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5,
                               cwd=os.path.dirname(__file__))
        return (out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


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
                "git_commit": _git_commit()}
    machine = {"cpu": _cpu_model(), "cores": os.cpu_count(), "gpu": _gpu(),
               "platform": platform.platform()}
    return versions, machine


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------

def reproduce(experiment, out_dir=None, scale="laptop", quick=False, seeds=None, jobs=None,
              overrides=(), runs_dir=None, command=None, echo=print, scheduler=None):
    """Run ``experiment`` and write ``results.json``, ``results.md`` and figures to
    ``out_dir`` (default ``results/<experiment>``, ``results/<experiment>-quick`` with
    ``quick``). The runs go to ``jobs`` local processes (default 1), or to the Dask cluster
    whose scheduler is at ``scheduler``. Returns the record written to ``results.json``."""
    if scheduler and jobs is not None:
        raise ValueError("--jobs and --scheduler do not combine (--jobs N runs N local "
                         "processes, --scheduler sends every run to the Dask cluster); pass one.")
    jobs = 1 if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}.")
    out_dir = out_dir or os.path.join("results", experiment + ("-quick" if quick else "")
                                      + ("-paper" if scale == "paper" else ""))
    job_list = plan(experiment, scale, quick, seeds, overrides, runs_dir)
    seeds = len({j.seed for j in job_list})
    os.makedirs(out_dir, exist_ok=True)
    base = config_from_dict(job_list[0].config)
    echo(f"reproduce {experiment}: {len(job_list)} training run(s) of {base.steps} steps x "
         f"{base.batch_size} tasks, {base.grid_size}x{base.grid_size} grids, {seeds} seed(s), "
         f"{f'the Dask cluster at {scheduler}' if scheduler else f'{jobs} worker(s)'} -> "
         f"{out_dir}")
    t0 = time.perf_counter()
    summaries = run_jobs(job_list, jobs, scheduler)
    versions, machine = environment()
    record = dict(experiment=experiment, scale=scale, quick=quick,
                  command=command or f"lpn-mini reproduce {experiment}", seeds=list(range(seeds)),
                  jobs=None if scheduler else jobs, scheduler=scheduler,
                  started=datetime.datetime.now(datetime.timezone.utc).isoformat(
                      timespec="seconds"),
                  budget=dict(steps=base.steps, batch_size=base.batch_size,
                              pairs_seen=base.steps * base.batch_size * base.num_pairs),
                  configs={j.label: {k: v for k, v in j.config.items() if k != "seed"}
                           for j in job_list},
                  runs=[{k: v for k, v in s.items()  # the per-problem ARC rows go in once, below
                         if k not in ("config", "loss_curve", "problems", "copy_baseline")}
                        for s in summaries],
                  versions=versions, machine=machine)
    table = WRITERS[experiment](record, summaries, out_dir, seeds)
    record["wall_seconds"] = round(time.perf_counter() - t0, 1)
    record["train_seconds_total"] = round(sum(s["train_seconds"] for s in summaries
                                              if not s["reused"]), 1)
    footer = (f"\n\n{len(job_list)} run(s), {seeds} seed(s), {base.steps} steps x "
              f"{base.batch_size} tasks each; wall time {record['wall_seconds']:.0f} s on "
              + (f"the Dask cluster at {scheduler}; " if scheduler else
                 f"{machine['cores']} cores ({machine['cpu']}), {jobs} worker(s); ") +
              f"`{record['command']}`.")
    if any(s["reused"] for s in summaries):
        footer += " Some runs were reused from an earlier invocation (see results.json)."
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


def _write_table1(record, summaries, out_dir, seeds):
    from .plotting import plot_loss_curves, plot_rows_vs_steps
    agg = aggregate(summaries)
    cost = _cost(summaries)
    if any(s["reused"] for s in summaries):  # a reused run's time is from its first invocation
        record["note"] = "s / step of reused runs is from the invocation that trained them"
    claims = table1_claims(agg, cost)
    record.update(table=agg, seconds_per_step=cost, claims=claims)
    plot_rows_vs_steps(agg, os.path.join(out_dir, "exact_match_vs_steps.png"),
                       title=f"Table 1 at {record['scale']} scale, {seeds} seed(s)")
    plot_loss_curves(summaries, os.path.join(out_dir, "training_curves.png"))
    return table1_markdown(agg, seeds, cost) + "\n\nThe paper's claims at this scale:\n\n" \
        + claims_markdown(claims)


def _write_ood(record, summaries, out_dir, seeds):
    from .plotting import plot_ood
    aggs = {name: aggregate(summaries, name) for name in OOD_DENSITIES}
    record.update(table=aggs)
    plot_ood(aggs, os.path.join(out_dir, "ood_exact_match.png"))
    return ood_markdown(aggs, seeds)


def _write_latent2d(record, summaries, out_dir, seeds):
    from .evaluation import eval_tasks, markdown_table
    from .plotting import plot_landscapes, plot_latent_plane
    params, config = _params_of(summaries[0])
    from .model import encode
    x, y = eval_tasks(config)
    # Draw the part of the plane where the encoder puts the evaluation tasks.
    mu, _ = encode(params["encoder"], x, y)
    extent = float(onp.ceil(onp.percentile(onp.abs(mu.mean(axis=1)), 98)))
    plot_latent_plane(params, x[0, 0], os.path.join(out_dir, "latent_plane.png"),
                      extent=max(extent, 1.0))
    paths = plot_landscapes(params, config, x[:3], y[:3], os.path.join(out_dir, "landscapes.png"))
    record.update(table=aggregate(summaries), ascent=paths)
    lines = [markdown_table({summaries[0]["label"]: summaries[0]["results"]["test"]}), "",
             "Gradient ascent on the specification log-likelihood of 3 evaluation tasks "
             f"({config.latent_optimizer}, lr {config.latent_lr}, {paths[0]['steps']} steps):", ""]
    for p in paths:
        lines.append(f"- task {p['task']}: from the encoder's guess {p['start']:.2f} -> "
                     f"{p['end']:.2f}; from z = 0 {p['from_zero'][0]:.2f} -> "
                     f"{p['from_zero'][1]:.2f}; from elsewhere {p['from_elsewhere'][0]:.2f} -> "
                     f"{p['from_elsewhere'][1]:.2f}")
    return "\n".join(lines)


def _write_arc(record, summaries, out_dir, seeds):
    from .plotting import plot_arc_examples, plot_arc_scores
    s = summaries[0]
    problems, baseline = s["problems"], s["copy_baseline"]
    methods = [k for k in problems[0] if k.startswith("Grad ")]
    overall = {m: {"top1": 100 * onp.mean([p[m]["top1"] for p in problems]),
                   "top2": 100 * onp.mean([p[m]["top2"] for p in problems]),
                   "cell_accuracy": 100 * onp.mean([p[m]["cell_accuracy"] for p in problems]),
                   "shape": 100 * onp.mean([p[m]["shape"] for p in problems])} for m in methods}
    copy = {"top1": 100 * onp.mean([b["top1"] for b in baseline]),
            "cell_accuracy": 100 * onp.mean([b["cell_accuracy"] for b in baseline]),
            "shape": 100 * onp.mean([b["shape"] for b in baseline])}
    first, last = methods[0], methods[-1]
    better = sum(p[last]["cell_accuracy"] > p[first]["cell_accuracy"] + 1e-9 for p in problems)
    worse = sum(p[last]["cell_accuracy"] < p[first]["cell_accuracy"] - 1e-9 for p in problems)
    tasks = sorted({p["task"] for p in problems})
    record.update(overall=overall, copy_baseline_overall=copy, problems=problems,
                  search_effect={"better": better, "worse": worse,
                                 "same": len(problems) - better - worse})
    plot_arc_scores(overall, copy, os.path.join(out_dir, "arc_scores.png"))
    plot_arc_examples(_params_of(s), s, problems, os.path.join(out_dir, "arc_examples.png"))
    lines = [f"{len(problems)} test pairs of {len(tasks)} ARC-AGI-1 evaluation tasks whose grids "
             "all fit in 10 x 10 (padded with a padding colour, so the output shape is predicted "
             "too). Percent of test pairs.", "",
             "| Inference | top-1 exact | top-2 exact | cell accuracy | shape right |",
             "|---|---|---|---|---|"]
    for m, o in overall.items():
        lines.append(f"| {m} | {o['top1']:.1f} | {o['top2']:.1f} | {o['cell_accuracy']:.1f} | "
                     f"{o['shape']:.1f} |")
    lines.append(f"| copy the input (baseline) | {copy['top1']:.1f} | - | "
                 f"{copy['cell_accuracy']:.1f} | {copy['shape']:.1f} |")
    lines += ["", f"{last} vs {first}, cell accuracy per test pair: better on {better}, worse on "
              f"{worse}, the same on {len(problems) - better - worse}.", "",
              "Per test pair (top-1 exact / top-2 exact / cell accuracy %):", "",
              "| Task | test | spec pairs | " + " | ".join(methods) + " |",
              "|---|---|---|" + "---|" * len(methods)]
    for p in problems:
        cells = [f"{'Y' if p[m]['top1'] else '-'} / {'Y' if p[m]['top2'] else '-'} / "
                 f"{100 * p[m]['cell_accuracy']:.0f}" for m in methods]
        lines.append(f"| {p['task']} | {p['test_index']} | {p['spec_pairs']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def _params_of(summary):
    from .checkpoint import load_checkpoint
    params, _, config, _ = load_checkpoint(os.path.join(summary["run_dir"], "checkpoint.npz"))
    return params, config


WRITERS = {"table1": _write_table1, "ood": _write_ood, "latent2d": _write_latent2d,
           "arc": _write_arc}
