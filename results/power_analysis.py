"""How many seeds the paper's two contested claims need, from the committed run records.

    python results/power_analysis.py            # every seed recorded for both rows
    python results/power_analysis.py --seeds 5  # only seeds 0-4 (what was committed first)

For Table 1's claim 2 (Grad 1 training beats mean training at Grad 100) and Table 6's
claim 1 (the same at each evaluation density), prints the paired difference over the
seeds used and ``stats.seeds_needed``: the number of seeds at which a 95% interval would
exclude 0 with 80% probability, if the difference and its spread are what these seeds show.
"""
import argparse
import json
import os

from lpn_mini.experiments.tables import compare

HERE = os.path.dirname(os.path.abspath(__file__))


def exact_at(experiment, row, evaluation, column, seeds):
    out = {}
    for s in seeds:
        path = os.path.join(HERE, experiment, "runs", f"{row}-seed{s}.json")
        if os.path.exists(path):
            with open(path) as f:
                out[s] = 100 * json.load(f)["results"][evaluation][column]["exact_match"]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1000, help="use seeds 0..N-1 only")
    seeds = range(parser.parse_args().seeds)
    rows = [("table1", "test", "Table 1, claim 2")] + [
        ("ood", name, f"Table 6, claim 1, {name}")
        for name in ("In-distribution (0.5)", "Weak OOD (0.75)", "Strong OOD (1.0)")]
    for experiment, evaluation, what in rows:
        c = compare(f"{what}: Grad 1 - Grad 0 at Grad 100",
                    exact_at(experiment, "grad-1", evaluation, "Grad 100", seeds),
                    exact_at(experiment, "grad-0", evaluation, "Grad 100", seeds))
        print(f"- {c['evidence']}" + ("" if "seeds_needed" in c else
                                      f"; resolved with {c['n']} seeds ({c['verdict']})"))


if __name__ == "__main__":
    main()
