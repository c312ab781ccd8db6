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

The command in four modules: ``plan`` (which runs), ``runs`` (one run in a worker, and its
record), ``tables`` (the tables and the paper's claims), and this one (the runs on local
processes or a Dask cluster, then the files of ``results/<experiment>/``).
"""
import contextlib
import datetime
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as onp
from tqdm.auto import tqdm

from ..config import config_from_dict
from .plan import SEEN, plan, slug
from .runs import (committed_run, environment, more_seeds_recorded, run_job, write_json,
                   write_record)
from .tables import (aggregate, claim, claims_markdown, compare, format_mean_std, grad_columns,
                     mean_std, ood_claims, ood_markdown, per_seed, search_steps, seen_vs_unseen,
                     steps_markdown, table1_claims, table1_markdown)


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
                   f"add them with `--rows {','.join(map(slug, missing))}`.")
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
    write_json(os.path.join(out_dir, "results.json"), record)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(f"# {experiment} ({'quick' if quick else scale} scale)\n\n{table}\n")
    echo("\n" + table)
    return record


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
                f"{format_mean_std(row[c]['exact_match'], seeds)} / {format_mean_std(row[c]['cell_accuracy'], seeds)}"
                for c in columns) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()


def _write_latent2d(record, summaries, out_dir, seeds):
    from ..evaluation import eval_tasks, search_options
    from ..architectures import encode
    from .plotting import plot_landscapes, plot_latent_plane
    params, config = params_of(summaries[0])  # the figures: seed 0
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
    grads = grad_columns(summaries)
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
    plot_arc_examples(params_of(s0), s0, problems, os.path.join(out_dir, "arc_examples.png"))
    lines = [f"{len(problems)} test pairs of {len(tasks)} ARC-AGI-1 evaluation tasks whose grids "
             "all fit in 10 x 10 (padded with a padding colour, so the output shape is predicted "
             "too). Percent of test pairs, " + (f"mean (std) over {seeds} seeds." if seeds > 1
                                                 else "one seed."), "",
             "| Inference | top-1 exact | top-2 exact | cell accuracy | shape right |",
             "|---|---|---|---|---|"]
    for m, o in overall.items():
        lines.append(f"| {m} | " + " | ".join(format_mean_std(o[k], seeds) for k in
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


def params_of(summary):
    from ..checkpoint import load_checkpoint
    params, _, config, _ = load_checkpoint(os.path.join(summary["run_dir"], "checkpoint.npz"))
    return params, config


WRITERS = {"table1": _write_table1, "ood": _write_ood, "latent2d": _write_latent2d,
           "arc": _write_arc}
