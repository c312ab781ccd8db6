"""Paired per-seed statistics: how the reproductions judge a claim of the paper.

Two training methods (or two test-time budgets) run with the same seeds see the same
initial weights, the same training tasks and the same evaluation set, so the fair question
is how much each *seed* changes, not whether two means differ. For a claim "a > b":

    d_s = a_s - b_s                      for every seed s
    mean(d) +- t_{0.975, n-1} * std(d) / sqrt(n)     the 95% interval of the mean difference

and the verdict is computed, never written by hand:

- **holds**      the whole interval is above 0;
- **reverses**   the whole interval is below 0 (the data say the opposite);
- **not resolved at this scale**   the interval contains 0 (or there is one seed only).

With 5 seeds the interval is about +- 1.24 standard deviations of the per-seed differences,
so a difference of a few points can be "not resolved": that is the honest answer at
laptop scale, not a failure of the code.
"""
import math

import numpy as onp

HOLDS, REVERSES, NOT_RESOLVED = "holds", "reverses", "not resolved at this scale"

# Student t quantiles for a two-sided 95% interval, by degrees of freedom (n - 1); above 30
# the normal quantile is within 4% of them.
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
         16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042}


def t_975(df):
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (table above)."""
    if df < 1:
        raise ValueError(f"a t interval needs at least 1 degree of freedom (2 seeds), got {df}.")
    if df in T_975:
        return T_975[df]
    below = max(k for k in T_975 if k < df)  # conservative: the next smaller df in the table
    return T_975[below] if df < 30 else 1.96


def paired(a, b):
    """Judge "a > b" on paired values (``{seed: value}`` dicts, or equal-length sequences).

    Returns a dict: ``diffs`` (per seed, in seed order), ``mean``, ``low``, ``high`` (the 95%
    interval; NaN with one seed), ``wins`` (seeds where a > b), ``n`` and ``verdict``."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            raise TypeError("pass both sides as {seed: value} dicts, or both as sequences.")
        seeds = sorted(set(a) & set(b))
        if not seeds:
            raise ValueError("the two sides share no seed, so there is nothing to pair; "
                             "run both with the same --seeds.")
        a, b = [a[s] for s in seeds], [b[s] for s in seeds]
    elif len(a) != len(b):
        raise ValueError(f"paired values need the same seeds on both sides, got {len(a)} and "
                         f"{len(b)} values.")
    diffs = onp.asarray(a, dtype=float) - onp.asarray(b, dtype=float)
    n = len(diffs)
    if n == 0:
        raise ValueError("no values to compare.")
    mean = float(diffs.mean())
    if n > 1:
        half = t_975(n - 1) * float(diffs.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low = high = float("nan")
    verdict = HOLDS if low > 0 else REVERSES if high < 0 else NOT_RESOLVED
    return dict(diffs=diffs.tolist(), mean=mean, low=low, high=high,
                wins=int((diffs > 0).sum()), n=n, verdict=verdict)


def describe(p, unit=" points"):
    """One line for a ``paired`` result: '+6.1 points [95% +2.0, +10.2], higher in 5 of 5
    seeds'."""
    interval = ("" if p["n"] < 2 or math.isnan(p["low"]) else
                f" [95% {p['low']:+.1f}, {p['high']:+.1f}]")
    return (f"{p['mean']:+.1f}{unit}{interval}, higher in {p['wins']} of {p['n']} seed"
            + ("s" if p["n"] != 1 else ""))
