"""Paired per-seed statistics (lpn_mini/stats.py): the interval and the verdict."""
import math

import pytest

from lpn_mini.stats import HOLDS, NOT_RESOLVED, REVERSES, describe, paired, t_975


def test_interval_is_the_t_interval_of_the_differences():
    p = paired([3.0, 5.0, 4.0, 6.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0])  # diffs 2, 4, 3, 5, 1
    half = 2.776 * math.sqrt(2.5) / math.sqrt(5)                     # t_{0.975, 4} * s / sqrt(n)
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


def test_t_quantiles():
    assert t_975(4) == 2.776 and t_975(1) == 12.706
    assert t_975(22) == t_975(20)           # between table entries: the smaller df, wider
    assert t_975(100) == 1.96
    with pytest.raises(ValueError, match="at least 1 degree of freedom"):
        t_975(0)


def test_describe():
    line = describe(paired([3.0, 5.0, 4.0, 6.0, 2.0], [1.0] * 5))
    assert line.startswith("+3.0 points [95% +1.0, +5.0], higher in 5 of 5 seeds")
    assert describe(paired([5.0], [1.0])) == "+4.0 points, higher in 1 of 1 seed"
