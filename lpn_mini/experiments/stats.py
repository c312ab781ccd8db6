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

The t quantile is computed exactly (``t_quantile``). With 5 seeds the interval is about
+- 1.24 standard deviations of the per-seed differences,
so a difference of a few points can be "not resolved": that is the honest answer at
laptop scale, not a failure of the code.
"""
import math

import numpy as onp

HOLDS, REVERSES, NOT_RESOLVED = "holds", "reverses", "not resolved at this scale"

def t_quantile(p, df):
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom, computed exactly
    (to 1e-10) from its distribution function, not read from a rounded table.

    For t > 0 the tail beyond t is ``I_x(df/2, 1/2) / 2`` with ``x = df / (df + t^2)``,
    where I is the regularized incomplete beta function (``_incomplete_beta``); the
    quantile is found by bisection on that tail."""
    if df <= 0:
        raise ValueError(f"a t interval needs at least 1 degree of freedom (2 seeds), got {df}.")
    if not 0 < p < 1:
        raise ValueError(f"a quantile needs 0 < p < 1, got {p}.")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    tail = 1 - p                          # we want P(T > t) = tail
    lo, hi = 0.0, 1.0
    while _upper_tail(hi, df) > tail:     # widen until the tail is small enough
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _upper_tail(mid, df) > tail else (lo, mid)
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2


def t_975(df):
    """The 0.975 quantile of Student's t: the multiplier of a two-sided 95% interval."""
    return t_quantile(0.975, df)


def _upper_tail(t, df):
    """P(T > t) for t >= 0."""
    return 0.5 * _incomplete_beta(df / (df + t * t), df / 2, 0.5)


def _incomplete_beta(x, a, b):
    """The regularized incomplete beta function I_x(a, b), by its continued fraction
    (modified Lentz), using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction
    converges slowly."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _incomplete_beta(1 - x, b, a)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f / a


def seeds_needed(diffs, power=0.8, max_seeds=1000):
    """How many seeds a paired comparison needs before its 95% interval excludes 0 with
    probability ``power``, if the true mean difference and its spread are what ``diffs``
    (the per-seed differences measured so far) show.

    The usual approximation: the smallest n with
    ``sqrt(n) * |mean| / sd >= t_{0.975, n-1} + t_{power, n-1}``.
    Returns None when the measured mean is 0 (no number of seeds resolves no difference)
    or more than ``max_seeds`` would be needed."""
    diffs = onp.asarray(diffs, dtype=float)
    if len(diffs) < 2:
        raise ValueError("a power analysis needs the differences of at least 2 seeds.")
    mean, sd = abs(float(diffs.mean())), float(diffs.std(ddof=1))
    if sd == 0:
        return 2 if mean > 0 else None
    if mean == 0:
        return None
    for n in range(2, max_seeds + 1):
        if math.sqrt(n) * mean / sd >= t_975(n - 1) + t_quantile(power, n - 1):
            return n
    return None


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
