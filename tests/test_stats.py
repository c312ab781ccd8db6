"""Paired per-seed statistics (lpn_mini/experiments/stats.py): the interval and the verdict."""
import math

import pytest

import numpy as onp

from lpn_mini.experiments.stats import (HOLDS, NOT_RESOLVED, REVERSES, describe, paired, seeds_needed,
                            t_975, t_quantile)


def test_interval_is_the_t_interval_of_the_differences():
    p = paired([3.0, 5.0, 4.0, 6.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0])  # diffs 2, 4, 3, 5, 1
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)                     # t_{0.975, 4} * s / sqrt(n)
    assert p["mean"] == pytest.approx(3.0)
    assert (p["low"], p["high"]) == pytest.approx((3.0 - half, 3.0 + half))
    assert p["wins"] == 5 and p["n"] == 5 and p["verdict"] == HOLDS


def test_verdicts():
    assert paired([1, 2, 3], [2, 3, 4.5])["verdict"] == REVERSES
    assert paired([1, 3, 2], [2, 2, 2])["verdict"] == NOT_RESOLVED        # interval contains 0
    assert paired([5.0], [1.0])["verdict"] == NOT_RESOLVED                # one seed: no interval
    assert paired([2, 2], [2, 2])["verdict"] == NOT_RESOLVED              # no difference at all


def test_pairs_by_seed_not_by_position():
    a = {0: 10.0, 1: 20.0, 2: 30.0}
    b = {2: 29.0, 0: 9.0, 1: 19.0, 7: 100.0}  # seed 7 has no partner: left out
    p = paired(a, b)
    assert p["diffs"] == [1.0, 1.0, 1.0] and p["n"] == 3 and p["verdict"] == HOLDS
    # Unpaired, the same numbers would not even be compared.
    with pytest.raises(ValueError, match="share no seed"):
        paired({0: 1.0}, {1: 1.0})
    with pytest.raises(ValueError, match="same seeds on both sides"):
        paired([1.0, 2.0], [1.0])


# Reference quantiles of Student's t (scipy.stats.t.ppf, SciPy 1.17), to 9 digits.
T_REFERENCE = {(0.975, 1): 12.7062047362, (0.975, 2): 4.30265272975, (0.975, 4): 2.77644510520,
               (0.975, 9): 2.26215716280, (0.975, 19): 2.09302405441, (0.975, 100): 1.98397151852,
               (0.8, 1): 1.37638192047, (0.8, 4): 0.940964577235, (0.8, 19): 0.860950550269}


@pytest.mark.parametrize("p, df", sorted(T_REFERENCE))
def test_t_quantiles_are_exact(p, df):
    assert t_quantile(p, df) == pytest.approx(T_REFERENCE[p, df], rel=1e-9)
    assert t_quantile(1 - p, df) == pytest.approx(-T_REFERENCE[p, df], rel=1e-9)


def test_t_975_between_table_entries_and_far_out():
    assert t_975(4) == pytest.approx(2.7764451052, rel=1e-9)
    assert t_975(20) < t_975(19) and t_975(21) < t_975(20)       # no plateau of a table
    assert 1.96 < t_975(1000) < 1.9624                           # tends to the normal's 1.95996
    with pytest.raises(ValueError, match="at least 1 degree of freedom"):
        t_975(0)
    with pytest.raises(ValueError, match="0 < p < 1"):
        t_quantile(1.0, 5)


def test_seeds_needed_gives_about_the_power_it_promises():
    rng = onp.random.default_rng(0)
    measured = onp.array([8.0, -2.0, 5.0, 1.0, 3.0])             # mean 3, sd about 3.8
    n = seeds_needed(measured, power=0.8)
    mean, sd = measured.mean(), measured.std(ddof=1)

    def power(n, reps=4000):   # simulate: how often does a paired interval exclude 0?
        d = rng.normal(mean, sd, size=(reps, n))
        half = t_975(n - 1) * d.std(axis=1, ddof=1) / math.sqrt(n)
        return float(onp.mean(d.mean(axis=1) - half > 0))

    assert 0.77 < power(n) < 0.9
    assert power(max(2, n - 4)) < 0.75
    assert seeds_needed(measured, power=0.95) > n
    assert seeds_needed([1.0, -1.0, 2.0, -2.0]) is None           # mean 0: never resolved
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seeds_needed([1.0])


def test_describe():
    line = describe(paired([3.0, 5.0, 4.0, 6.0, 2.0], [1.0] * 5))
    assert line.startswith("+3.0 points [95% +1.0, +5.0], higher in 5 of 5 seeds")
    assert describe(paired([5.0], [1.0])) == "+4.0 points, higher in 1 of 1 seed"


def test_an_unresolved_comparison_says_how_many_seeds_would_resolve_it():
    from lpn_mini.experiments.tables import compare
    c = compare("x", {0: 8.0, 1: -2.0, 2: 5.0, 3: 1.0, 4: 3.0}, {s: 0.0 for s in range(5)})
    assert c["verdict"] == NOT_RESOLVED and c["seeds_needed"] == seeds_needed([8, -2, 5, 1, 3])
    assert c["evidence"].endswith(f"about {c['seeds_needed']} seeds would resolve it (80% power)")
    resolved = compare("y", {0: 3.0, 1: 5.0, 2: 4.0}, {0: 0.0, 1: 0.0, 2: 0.0})
    assert "seeds_needed" not in resolved and "would resolve" not in resolved["evidence"]
