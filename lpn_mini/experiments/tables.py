"""Summaries of ``lpn-mini reproduce``'s runs: mean (std) over seeds, the tables, and the
paper's claims judged by paired comparisons over seeds (``stats.paired``).
"""
import numpy as onp

from ..evaluation import PAPER_TABLE1
from .plan import OOD_DENSITIES, PAPER_TABLE6, SEEN
from .stats import HOLDS, NOT_RESOLVED, REVERSES, describe, paired, seeds_needed

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


def format_mean_std(ms, seeds):
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
        cells = [format_mean_std(row[c]["exact_match"], seeds)
                 + (f" [{paper[c]}]" if c in paper else "") for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {cost[label]:.3f} |")
    if baseline is not None:
        lines.append("| Readout, no parameters | " + " | ".join(
            f"{baseline['exact_match']:.1f}" for _ in columns) + " | 0 |")
    lines += ["", "Cell accuracy %, " + ("mean (std) over seeds." if seeds > 1 else "one seed."),
              "", "| Training | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for label, row in agg.items():
        lines.append(f"| {label} | " + " | ".join(format_mean_std(row[c]["cell_accuracy"], seeds)
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
            lines.append(f"| {label} | " + " | ".join(format_mean_std(row[c]["exact_match"], seeds)
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
    if p["verdict"] == NOT_RESOLVED and p["n"] >= 2 and round(p["mean"], 1) == 0:
        evidence += "; the mean difference rounds to 0"      # nothing worth more seeds
    elif p["verdict"] == NOT_RESOLVED and p["n"] >= 2:
        # A power analysis: how many seeds would settle it, if the difference and its
        # spread are what these seeds show.
        p["seeds_needed"] = seeds_needed(p["diffs"])
        evidence += ("; about {} seeds would resolve it (80% power)".format(p["seeds_needed"])
                     if p["seeds_needed"] else "; the mean difference is about 0: more "
                     "than 1000 seeds would not resolve it")
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


def grad_columns(summaries, evaluation="test"):
    return [c for c in summaries[0]["results"][evaluation] if c.startswith("Grad ")]


def row_labels(summaries):
    """The training rows, in plan order."""
    return list(dict.fromkeys(s["label"] for s in summaries))


def more_steps(summaries, a, b, evaluation="test", where=""):
    """Per training row, exact match with ``b`` test-time steps against ``a`` (e.g. "Grad 0"
    -> "Grad 20"), paired by seed."""
    return [compare(f"{where}{r}: {a} -> {b}", per_seed(summaries, r, b, evaluation),
                    per_seed(summaries, r, a, evaluation)) for r in row_labels(summaries)]


def search_steps(summaries, evaluation="test"):
    """Claim 1 over the whole range of K, row by row: each step from one Grad column to the
    next as a paired comparison, and where the row peaks (the column with the highest mean)."""
    grads = grad_columns(summaries, evaluation)
    steps = [more_steps(summaries, a, b, evaluation) for a, b in zip(grads, grads[1:])]
    out = {}
    for i, label in enumerate(row_labels(summaries)):
        means = {c: onp.mean(list(per_seed(summaries, label, c, evaluation).values()))
                 for c in grads}
        out[label] = dict(peak=max(means, key=means.get), steps=[step[i] for step in steps])
    return out


def table1_claims(summaries, evaluation="test"):
    """The paper's claims of Table 1, each judged on paired per-seed differences."""
    grads = grad_columns(summaries, evaluation)
    top = grads[-1]
    mid = "Grad 20" if "Grad 20" in grads else grads[-2]
    labels = row_labels(summaries)
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
    column = column or grad_columns(summaries, evaluation)[-1]
    return [compare(f"{r}: seen - unseen at {column}",
                    per_seed(summaries, r, column, seen), per_seed(summaries, r, column, evaluation))
            for r in row_labels(summaries)]


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
    grads = grad_columns(summaries, next(iter(OOD_DENSITIES)))
    top, mid = grads[-1], grads[-2]
    labels = row_labels(summaries)
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
            cells = [" / ".join(format_mean_std(v["exact_match"], seeds)
                                for v in aggs[n + suffix][label].values()) for n in names]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
            paper = PAPER_TABLE6.get(label)
            if paper and not suffix:
                lines.append(f"| paper {label} | " + " | ".join(" / ".join(map(str, paper[n]))
                                                                for n in names) + " |")
        lines.append("")
    return "\n".join(lines).rstrip()
