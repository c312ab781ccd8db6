"""Why does Grad 20 -> Grad 100 lose accuracy? Measure it instead of asserting it.

For every trained run of Table 1 (laptop scale) whose checkpoint is at hand, on the same
256 held-out evaluation tasks and with the same noise, chunks and search settings as the
table (``evaluation.evaluate``), this follows the test-time search step by step, K = 0..100,
and records for each K, averaged over tasks and pairs:

- ``spec``: the specification log-likelihood per cell, (1 / (N-1)) sum_{j != i}
  log p(y_j | x_j, z'_i) / (H W): what the search climbs (the pairs it is given);
- ``held``: log p(y_i | x_i, z'_i) / (H W): the pair it must predict (never seen by it);
- ``exact``: exact match of the predicted held-out grid (the table's number).

With best-of-trajectory (the official setting), z'_i after K steps is the best point of the
first K + 1, so one path of 100 steps gives every K. The script checks that its exact match
at the table's K equals the run's record. If "the latent fits the given pairs at the
expense of the pair it must predict", spec rises from K = 20 to 100 while held falls.

    python results/mechanisms/measure.py --runs-dir runs/reproduce/table1-laptop

writes results/mechanisms/{results.json, results.md, reversal.png}.
"""
import argparse
import glob
import json
import os

import numpy as onp

from lpn_mini.checkpoint import load_checkpoint
from lpn_mini.evaluation import eval_tasks, search_options, training_label
from lpn_mini.latent import (LEAVE_ONE_OUT, ascent_path, leave_one_out_mean,
                             reparameterize, specification_log_likelihood)
from lpn_mini.losses import log_likelihood
from lpn_mini.architectures import decode, encode, latent_dim_of
from lpn_mini.experiments.tables import compare

HERE = os.path.dirname(os.path.abspath(__file__))
K_MAX = 100


def follow_search(params, config, chunk=64):
    """``{"spec", "held", "exact"}``: arrays ``(K_MAX + 1,)``, means over the evaluation set
    after K = 0..K_MAX test-time steps (best of trajectory, as the table searches)."""
    x, y = eval_tasks(config)
    rng = onp.random.default_rng([config.eval_seed, 1])      # as evaluation.evaluate draws it
    dec = params["decoder"]
    sums = {k: onp.zeros(K_MAX + 1) for k in ("spec", "held", "exact")}
    for start in range(0, len(x), chunk):
        xs, ys = x[start:start + chunk], y[start:start + chunk]
        B, N = xs.shape[:2]
        eps = rng.standard_normal((B, N, latent_dim_of(params))).astype(config.dtype)
        mu, logvar = encode(params["encoder"], xs, ys)
        z_start = leave_one_out_mean(reparameterize(mu, logvar, eps))
        opts = search_options(config, "grad", K_MAX)
        opts = {k: v for k, v in opts.items() if k not in ("method", "num_steps")}
        zs, values = ascent_path(dec, xs, ys, z_start, LEAVE_ONE_OUT, num_steps=K_MAX, **opts)
        z_best, v_best = zs[0], values[0]     # the best point so far (best of trajectory)
        for K in range(K_MAX + 1):
            better = values[K] > v_best        # strictly: on a tie the earlier point stays
            z_best = onp.where(better[..., None], zs[K], z_best)
            v_best = onp.maximum(values[K], v_best)
            z = z_best if config.best_of_trajectory else zs[K]
            # As latent_gradient_ascent returns it (stop-gradient: start + displacement), so
            # the latents, not only the scores, are the evaluation's to the bit.
            z = z_start if K == 0 else z_start + (z - z_start)
            spec = specification_log_likelihood(dec, xs, ys, z, LEAVE_ONE_OUT, "mean") / (N - 1)
            held = log_likelihood(dec, xs, ys, z, "mean")                 # (B, N): pair i, z'_i
            pred = decode(dec, xs, z).argmax(axis=-1)
            sums["spec"][K] += float(spec.sum())
            sums["held"][K] += float(held.sum())
            sums["exact"][K] += float(onp.all(pred == ys, axis=(-2, -1)).sum())
    return {k: v / (len(x) * x.shape[1]) for k, v in sums.items()}


def measure(runs_dir, records_dir, seeds=None):
    runs = {}
    for path in sorted(glob.glob(os.path.join(runs_dir, "*-seed*", "checkpoint.npz"))):
        name = os.path.basename(os.path.dirname(path))
        if seeds is not None and int(name.rsplit("seed", 1)[1]) not in seeds:
            continue
        params, _, config, step = load_checkpoint(path)
        if step < config.steps:
            print(f"{name}: still training (step {step} of {config.steps}); skipped")
            continue
        curves = follow_search(params, config)
        with open(os.path.join(records_dir, f"{name}.json")) as f:
            record = json.load(f)["results"]["test"]
        for column, r in record.items():   # the table's numbers, recomputed: a check
            if column.startswith("Grad "):
                K = int(column.split()[1])
                assert abs(curves["exact"][K] - r["exact_match"]) < 1e-9, (name, column)
        runs[name] = dict(label=training_label(config), seed=config.seed,
                          **{k: v.tolist() for k, v in curves.items()})
        print(f"{name}: spec {curves['spec'][20]:.4f} -> {curves['spec'][100]:.4f}, held "
              f"{curves['held'][20]:.4f} -> {curves['held'][100]:.4f}, exact "
              f"{100 * curves['exact'][20]:.1f} -> {100 * curves['exact'][100]:.1f}")
    return runs


def parse_seeds(text):
    """"5-9" -> {5, ..., 9}; "0,2" -> {0, 2}; None -> None."""
    if text is None:
        return None
    if "-" in text:
        first, last = text.split("-")
        return set(range(int(first), int(last) + 1))
    return {int(k) for k in text.split(",")}


def claims(runs, a=20, b=100):
    by_label = {}
    for r in runs.values():
        by_label.setdefault(r["label"], []).append(r)
    out = []
    for label, rs in by_label.items():
        for key, unit, scale in (("spec", " millinats / cell", 1000),
                                 ("held", " millinats / cell", 1000), ("exact", " points", 100)):
            c = compare(f"{label}: {key} at Grad {b} - Grad {a}",
                        {r["seed"]: scale * r[key][b] for r in rs},
                        {r["seed"]: scale * r[key][a] for r in rs}, unit=unit)
            out.append(c)
    return by_label, out


def plot(by_label, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    Ks = onp.arange(K_MAX + 1)
    for i, (label, rs) in enumerate(sorted(by_label.items())):
        for ax, key, scale in zip(axes, ("spec", "held", "exact"), (1, 1, 100)):
            values = scale * onp.array([r[key] for r in rs])
            mean, std = values.mean(axis=0), values.std(axis=0)
            ax.plot(Ks[1:], mean[1:], color=f"C{i}", label=f"trained {label} ({len(rs)} seeds)")
            ax.fill_between(Ks[1:], (mean - std)[1:], (mean + std)[1:], color=f"C{i}", alpha=0.15)
    titles = ("specification pairs: log p per cell\n(what the search climbs)",
              "held-out pair: log p per cell\n(what it must predict)",
              "held-out pair: exact match %")
    for ax, title in zip(axes, titles):
        ax.set_xscale("log")
        ax.set_xlabel("test-time gradient steps K")
        ax.set_title(title, fontsize=10)
        ax.axvline(20, color="grey", linewidth=0.8, linestyle=":")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-dir", default="runs/reproduce/table1-laptop",
                        help="folder of the runs' checkpoints (<row>-seed<k>/checkpoint.npz)")
    parser.add_argument("--records", default=os.path.join(HERE, "..", "table1", "runs"),
                        help="the runs' committed records, to check the table's numbers")
    parser.add_argument("--out", default=HERE)
    parser.add_argument("--seeds", default=None,
                        help="only these seeds, e.g. 5-9 or 0,1,2 (default: every checkpoint)")
    parser.add_argument("--redraw", action="store_true",
                        help="redraw the verdicts and the figure from results.json, measuring "
                             "nothing")
    args = parser.parse_args()
    if args.redraw:
        with open(os.path.join(args.out, "results.json")) as f:
            saved = json.load(f)
        runs, args.seeds = saved["runs"], saved.get("seeds")
    else:
        runs = measure(args.runs_dir, args.records, parse_seeds(args.seeds))
    if not runs:
        raise SystemExit(f"no finished checkpoint under {args.runs_dir}; train with "
                         f"`lpn-mini reproduce table1` first.")
    by_label, found = claims(runs)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(dict(runs=runs, claims=found, seeds=args.seeds), f)
    plot(by_label, os.path.join(args.out, "reversal.png"))
    lines = ["# What the search climbs, and what it must predict", "",
             "Each Table 1 row (laptop scale), on the same 256 held-out tasks, noise and "
             "search as the table; K = 0..100 test-time steps of the official search (Adam, "
             "best of trajectory). Paired over seeds, Grad 100 minus Grad 20 (verdicts by "
             "`lpn_mini/experiments/stats.py`):", ""]
    lines += [f"- {c['evidence']} ({c['verdict']})" for c in found]
    verdict = {(c["what"].split(":")[0], c["what"].split(": ")[1].split()[0]): c["verdict"]
               for c in found}
    both = [label for label in by_label
            if verdict[label, "spec"] == "holds" and verdict[label, "held"] == "reverses"]
    lines += ["", f"In {len(both)} of {len(by_label)} rows ({', '.join(both) or 'none'}) the "
              "specification log-likelihood rises from Grad 20 to Grad 100 while the held-out "
              "pair's falls, both resolved: past 20 steps the latent fits the given pairs at "
              "the expense of the pair it must predict."]
    lines += ["", "![spec and held-out log-likelihood against K](reversal.png)", "",
              f"Runs: {', '.join(sorted(runs))}. Command: `python results/mechanisms/measure.py"
              + (f" --seeds {args.seeds}" if args.seeds else "") + "` "
              "on the checkpoints `lpn-mini reproduce table1` leaves in "
              "runs/reproduce/table1-laptop (the same code and seeds as the records in "
              "results/table1/runs/)."]
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
