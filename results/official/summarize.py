"""What each official setting adds, judged seed by seed: results/official/runs/ -> tables.

    python results/official/summarize.py

reads the records that ``ablate.py`` writes (one per row of the ladder and seed), and for
every setting compares the row that adds it with the row without it, paired by seed (the
same seed gives both the same initial weights, training tasks and evaluation tasks), at the
test-time columns Grad 0, Grad 20 and Grad 100. The difference "with - without" gets a 95%
interval and a verdict computed by ``lpn_mini/experiments/stats.py``: *holds* (the setting
raises exact match: the interval is above 0), *reverses* (it lowers it: below 0), or *not
resolved at this scale*. Writes results.json, results.md and ladder.png beside this file.
"""
import glob
import json
import os

from lpn_mini.experiments.stats import HOLDS, NOT_RESOLVED, REVERSES, describe, paired

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ("Grad 0", "Grad 20", "Grad 100")
ROWS = ("literal-all-programs", "literal", "adam", "clip-latent", "clip-global",
        "best-of-trajectory", "mean", "weight-decay", "warm-up", "official")

TEST = "test"
BOT_AT_TEST = "test, best-of-trajectory at test"
NO_EPS_ROOT = "test, eps_root 0 at test"
CLIP_LATENT_AT_TEST = "test, clip per latent at test"
CLIP_GLOBAL_AT_TEST = "test, clip global at test"
MEAN_AT_TEST = "test, mean likelihood at test"
EXTRA = (("adam", CLIP_LATENT_AT_TEST), ("adam", CLIP_GLOBAL_AT_TEST),
         ("clip-global", BOT_AT_TEST), ("best-of-trajectory", MEAN_AT_TEST),
         ("official", NO_EPS_ROOT))

# (key, the chapter's section, what is compared, (row, evaluation) with, (row, evaluation)
# without). Each "with" side is its "without" side plus one setting, everything else equal:
# a row of the ladder against the row above it, or the same weights searched two ways.
COMPARISONS = [
    ("adam", "a", "Adam for the latent search (lr 0.1) instead of plain steps of 0.05",
     ("adam", TEST), ("literal", TEST)),
    ("eps_root", "a", "eps_root 1e-8 instead of 0, at test time (same weights)",
     ("official", TEST), ("official", NO_EPS_ROOT)),
    ("weight_decay", "b", "AdamW weight decay 1e-4 for the parameters",
     ("weight-decay", TEST), ("mean", TEST)),
    ("warm_up", "b", "a 99-step learning-rate warm-up",
     ("warm-up", TEST), ("weight-decay", TEST)),
    ("outer_clip", "b", "the outer gradient clipped to global norm 1.0",
     ("official", TEST), ("warm-up", TEST)),
    ("best_of_trajectory", "c", "best-of-trajectory, in training and at test time",
     ("best-of-trajectory", TEST), ("clip-global", TEST)),
    ("best_at_test", "c", "best-of-trajectory at test time only (same weights)",
     ("clip-global", BOT_AT_TEST), ("clip-global", TEST)),
    ("best_in_training", "c", "best-of-trajectory in training (best-of at test on both sides)",
     ("best-of-trajectory", TEST), ("clip-global", BOT_AT_TEST)),
    ("clip_global", "d", "the latent gradient clipped to one global norm 1.0, in training "
     "and at test, against no clip", ("clip-global", TEST), ("adam", TEST)),
    ("global_vs_per_latent", "d", "one global norm instead of one per latent, in training "
     "and at test", ("clip-global", TEST), ("clip-latent", TEST)),
    ("clip_global_at_test", "d", "a global latent clip 1.0 at test time only, against no "
     "clip (same weights)", ("adam", CLIP_GLOBAL_AT_TEST), ("adam", TEST)),
    ("clip_per_latent_at_test", "d", "a per-latent clip 1.0 at test time only, against no "
     "clip (same weights)", ("adam", CLIP_LATENT_AT_TEST), ("adam", TEST)),
    ("global_vs_per_latent_at_test", "d", "global instead of per-latent clip, at test time "
     "only (same weights)", ("adam", CLIP_GLOBAL_AT_TEST), ("adam", CLIP_LATENT_AT_TEST)),
    ("mean_likelihood", "e", "the per-cell mean log-likelihood instead of the sum, in "
     "training and at test", ("mean", TEST), ("best-of-trajectory", TEST)),
    ("mean_at_test", "e", "the mean instead of the sum at test time only (same weights)",
     ("best-of-trajectory", MEAN_AT_TEST), ("best-of-trajectory", TEST)),
    ("mean_in_training", "e", "the mean instead of the sum in training (mean at test on "
     "both sides)", ("mean", TEST), ("best-of-trajectory", MEAN_AT_TEST)),
    ("holdout", "f", "a fifth of the programs held out of training (scored on those programs)",
     ("literal", TEST), ("literal-all-programs", TEST)),
    ("all", "", "all the official settings against the literal algorithms",
     ("official", TEST), ("literal", TEST)),
]


def load_records(runs_dir=os.path.join(HERE, "runs")):
    """Every record of ``runs_dir``, as ``[record]`` in file-name order."""
    out = []
    for path in sorted(glob.glob(os.path.join(runs_dir, "*-seed*.json"))):
        with open(path) as f:
            out.append(json.load(f))
    return out


def exact_match(records, row, evaluation, column):
    """``{seed: exact match %}`` of one row, evaluation and column."""
    return {r["seed"]: 100 * r["results"][evaluation][column]["exact_match"]
            for r in records if r["row"] == row and evaluation in r["results"]}


def compare_all(records, comparisons=COMPARISONS, columns=COLUMNS):
    """Every comparison at every column whose two sides share at least 2 seeds: a list of
    dicts (``key``, ``section``, ``what``, ``column``, the ``paired`` numbers, ``verdict``,
    ``evidence``)."""
    out = []
    for key, section, what, (row_a, ev_a), (row_b, ev_b) in comparisons:
        for column in columns:
            a = exact_match(records, row_a, ev_a, column)
            b = exact_match(records, row_b, ev_b, column)
            if len(set(a) & set(b)) < 2:
                continue
            p = paired(a, b)
            out.append(dict(key=key, section=section, what=what, column=column,
                            with_=[row_a, ev_a], without=[row_b, ev_b],
                            seeds=sorted(set(a) & set(b)), **p,
                            evidence=describe(p)))
    return out


def verdicts(comparisons):
    """``{key: {column: verdict}}``, the shape the chapter reads."""
    out = {}
    for c in comparisons:
        out.setdefault(c["key"], {})[c["column"]] = c["verdict"]
    return out


def row_means(records, evaluation=TEST, columns=COLUMNS):
    """``{row: {column: (mean, std, seeds)}}`` of exact match %."""
    import numpy as onp
    out = {}
    for row in ROWS:
        for column in columns:
            values = list(exact_match(records, row, evaluation, column).values())
            if values:
                out.setdefault(row, {})[column] = (float(onp.mean(values)),
                                                   float(onp.std(values, ddof=1))
                                                   if len(values) > 1 else 0.0, len(values))
    return out


def markdown(records, comparisons):
    labels = {r["row"]: r["label"] for r in records}
    seeds = sorted({r["seed"] for r in records})
    first = records[0]
    walls = [r["train_seconds"] + r["eval_seconds"] for r in records]
    commits = sorted({r["versions"]["git_commit"] for r in records})
    lines = [
        "# What the official code adds, one setting at a time",
        "",
        "The small model (4 x 4 grids, 2 x 2 patterns, Grad 1 training, 2000 steps of 64 "
        "tasks), trained on a ladder from the literal algorithms (preset `literal`) to the "
        "official code's settings (preset `small`): each row adds one setting to the row "
        "above it. Every row is scored on the same 256 evaluation tasks, whose programs are "
        "held out of training (`holdout=0.2`, `eval_programs=unseen`); every row trains "
        "with that holdout except the first, which trains on every program.",
        "",
        "Commands (one core, one run at a time):",
        "",
        "    OPENBLAS_NUM_THREADS=1 LPN_MINI_THREADS=1 python results/official/ablate.py "
        "--commit",
        "    python results/official/summarize.py",
        "",
        f"Seeds {', '.join(map(str, seeds))}; {len(records)} runs, "
        f"{sum(walls) / 60:.0f} minutes of one core in all ({min(walls):.0f}-"
        f"{max(walls):.0f} s a run, training and evaluation); machine: "
        f"{first['machine']['cpu']}, {first['machine']['cores']} cores, 1 BLAS thread; "
        f"code {', '.join(commits)}. Verdicts by `lpn_mini/experiments/stats.py`.",
        "",
        "## Exact match % on held-out programs, mean (std) over seeds",
        "",
        "| row | " + " | ".join(COLUMNS) + " | seeds |",
        "|---|" + "---|" * (len(COLUMNS) + 1),
    ]
    for row, cols in row_means(records).items():
        cells = [f"{m:.1f} ({s:.1f})" for m, s, _ in cols.values()]
        n = max(k for _, _, k in cols.values())
        lines.append(f"| {labels.get(row, row)} | " + " | ".join(cells) + f" | {n} |")
    lines += ["", "Extra evaluations of the same weights:", ""]
    for row, ev in EXTRA:
        cols = row_means(records, ev).get(row)
        if cols:
            lines.append(f"- {labels.get(row, row)}, {ev}: " + ", ".join(
                f"{c} {m:.1f}" for c, (m, _, _) in cols.items()))
    lines += ["", "## What each setting adds: with - without, paired by seed", "",
              "| section | setting | column | with - without, exact match points | verdict |",
              "|---|---|---|---|---|"]
    for c in comparisons:
        lines.append(f"| {c['section'] or '-'} | {c['what']} | {c['column']} | "
                     f"{c['evidence']} | {c['verdict']} |")
    lines += ["", "![the ladder](ladder.png)", ""]
    return "\n".join(lines)


def plot(records, comparisons, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = {r["row"]: r["label"] for r in records}
    means = row_means(records)
    rows = [r for r in ROWS if r in means]
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1, 1.25]})
    for i, column in enumerate(COLUMNS):
        a.plot([means[r][column][0] for r in rows], range(len(rows)), "o-", color=f"C{i}",
               label=column)
        for j, r in enumerate(rows):
            values = exact_match(records, r, TEST, column).values()
            a.plot(list(values), [j] * len(values), ".", color=f"C{i}", alpha=0.35)
    a.set_yticks(range(len(rows)), [labels.get(r, r) for r in rows], fontsize=7)
    a.invert_yaxis()
    a.set_xlabel("exact match % on held-out programs")
    a.legend(fontsize=8)
    a.set_title("the ladder (dots: seeds)", fontsize=10)
    keys = list(dict.fromkeys(c["key"] for c in comparisons))
    for i, column in enumerate(COLUMNS):
        for j, key in enumerate(keys):
            c = [c for c in comparisons if c["key"] == key and c["column"] == column]
            if c:
                c = c[0]
                y = j + (i - 1) * 0.22
                b.errorbar(c["mean"], y, xerr=[[c["mean"] - c["low"]], [c["high"] - c["mean"]]],
                           fmt="o", color=f"C{i}", capsize=2, markersize=4,
                           label=column if j == 0 else None)
    b.axvline(0, color="grey", linewidth=0.8)
    b.set_yticks(range(len(keys)), [k.replace("_", " ") for k in keys], fontsize=7)
    b.invert_yaxis()
    b.set_xlabel("with - without, exact match points (95% interval, paired by seed)")
    b.legend(fontsize=8)
    b.set_title("what each setting adds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summarize(runs_dir=os.path.join(HERE, "runs"), out_dir=HERE):
    records = load_records(runs_dir)
    if not records:
        raise SystemExit(f"no run records in {runs_dir}; run results/official/ablate.py first.")
    comparisons = compare_all(records)
    result = dict(
        command="python results/official/summarize.py",
        seeds=sorted({r["seed"] for r in records}), runs=len(records),
        labels={r["row"]: r["label"] for r in records},
        run_seconds=round(sum(r["train_seconds"] + r["eval_seconds"] for r in records), 1),
        rows={row: {c: m for c, (m, _, _) in cols.items()}
              for row, cols in row_means(records).items()},
        comparisons=comparisons, verdicts=verdicts(comparisons))
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(markdown(records, comparisons))
    plot(records, comparisons, os.path.join(out_dir, "ladder.png"))
    return result


if __name__ == "__main__":
    out = summarize()
    for key, cols in out["verdicts"].items():
        print(f"{key:>22}: " + "; ".join(f"{c} {v}" for c, v in cols.items()))
