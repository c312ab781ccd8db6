"""How much do the demo's numbers depend on the machine? Reads the evaluations in this
folder (``avx2/seed*.json``, ``avx512/seed*.json``: the ``results.json`` that
``lpn-mini evaluate`` wrote for the demo's settings, one per seed and kernel family) and
writes ``results.md``: each seed's row, mean and spread per kernel family, and the paired
per-seed difference between the two families with a 95% interval.

    python results/demo-machines/summarize.py          # run.sh makes the inputs
"""
import glob
import json
import os
import statistics

from lpn_mini.experiments.stats import paired

HERE = os.path.dirname(os.path.abspath(__file__))
FAMILIES = {"avx2": "AVX2 kernels", "avx512": "AVX-512 kernels"}


def load(family):
    """{seed: {column: exact match %}} for one kernel family."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(HERE, family, "seed*.json"))):
        with open(path) as f:
            record = json.load(f)
        runs[record["config"]["seed"]] = {name: 100 * r["exact_match"]
                                          for name, r in record["results"].items()}
    return runs


def machine_line(runs):
    """Where the evaluations ran, from their own records (and commit.txt: run.sh notes the
    commit there, since a run from an exported copy records none)."""
    path = sorted(glob.glob(os.path.join(HERE, "avx512", "seed*.json")))[0]
    with open(path) as f:
        record = json.load(f)
    m, v = record["machine"], record["versions"]
    with open(os.path.join(HERE, "commit.txt")) as f:
        commit = f.read().strip()
    return (f"Machine: {m['cores']} cores, {m['cpu']} with AVX-512, {m['platform']}; Python "
            f"{v['python']}, NumPy {v['numpy']} (OpenBLAS), autograd {v['autograd']}; code of "
            f"commit {commit}. AVX2 kernels: the same machine with "
            "`NPY_DISABLE_CPU_FEATURES=\"X86_V4 AVX512_ICL AVX512_SPR\" OPENBLAS_CORETYPE=Haswell`.")


def interval(diffs):
    """Mean and half-width of a 95% t interval of paired differences (lpn_mini.experiments.stats)."""
    p = paired(diffs, [0.0] * len(diffs))
    return p["mean"], p["mean"] - p["low"]


def main():
    runs = {family: load(family) for family in FAMILIES}
    seeds = sorted(set.intersection(*(set(r) for r in runs.values())))
    if len(seeds) < 2:
        raise SystemExit("need evaluations of at least 2 seeds in both avx2/ and avx512/; run run.sh.")
    columns = list(runs["avx2"][seeds[0]])
    head = "| | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns) + "\n"
    lines = ["# The demo on two kernel families, seeds " + ", ".join(map(str, seeds)), "",
             "Exact match % of `lpn-mini train --config small --set seed=S` then "
             "`lpn-mini evaluate` (the demo's settings), float32. Made by `run.sh` in this "
             "folder; this file by `python summarize.py`.", "", machine_line(runs), ""]
    for family, title in FAMILIES.items():
        lines += [f"## {title}", "", head.rstrip("\n")]
        for s in seeds:
            lines.append(f"| seed {s} | " + " | ".join(f"{runs[family][s][c]:.1f}" for c in columns) + " |")
        values = {c: [runs[family][s][c] for s in seeds] for c in columns}
        lines.append("| mean (std) | " + " | ".join(
            f"{statistics.mean(v):.1f} ({statistics.stdev(v):.1f})" for v in values.values()) + " |")
        lines.append("| range | " + " | ".join(f"{min(v):.1f}-{max(v):.1f}" for v in values.values()) + " |")
        lines.append("")
    lines += ["## AVX-512 minus AVX2, the same seed", "", head.rstrip("\n")]
    diffs = {c: [runs["avx512"][s][c] - runs["avx2"][s][c] for s in seeds] for c in columns}
    lines.append("| mean [95% interval] | " + " | ".join(
        "{:+.1f} [{:+.1f}, {:+.1f}]".format(m, m - h, m + h)
        for m, h in (interval(d) for d in diffs.values())) + " |")
    lines.append("| largest \\|difference\\| | " + " | ".join(
        f"{max(abs(x) for x in d):.1f}" for d in diffs.values()) + " |")
    lines.append("")
    widest = max(h for _, h in (interval(d) for d in diffs.values()))
    shift = [c for c, d in diffs.items() if not (lambda m, h: m - h <= 0 <= m + h)(*interval(d))]
    largest = max(abs(x) for d in diffs.values() for x in d)
    stds = [statistics.stdev([runs[f][s][c] for s in seeds]) for f in FAMILIES for c in columns]
    lines.append("Verdict (computed): " + (
        f"the kernel family shifts {', '.join(shift)} (the interval excludes 0)." if shift else
        f"no shift detected: every interval contains 0 (a shift of up to {widest:.1f} points "
        f"could hide in them at {len(seeds)} seeds).") +
        f" The same seed differs between the two families by up to {largest:.1f} points; "
        f"seeds differ from each other by a standard deviation of {min(stds):.1f} to "
        f"{max(stds):.1f} points.")
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
