import numpy as np
import pytest

from lpn_mini import pattern_tasks


def test_pattern_task_semantics():
    rng = np.random.default_rng(0)
    B, N, G, P = 128, 4, 10, 4
    x, y = pattern_tasks(rng, B, N, G, P)
    assert x.shape == y.shape == (B, N, G, G) and x.dtype.kind == "i"
    # Input: all 0 with a single 1 at the anchor, anchors uniform in 0..G-P.
    assert np.all(x.sum(axis=(2, 3)) == 1) and set(np.unique(x)) == {0, 1}
    r, c = np.nonzero(x.reshape(B * N, G, G))[1:]
    assert r.min() == 0 and r.max() == G - P and c.min() == 0 and c.max() == G - P
    for b in range(B):
        patterns = []
        for n in range(N):
            (rr,), (cc,) = np.nonzero(x[b, n])
            window = y[b, n, rr:rr + P, cc:cc + P]
            patterns.append(window)
            # Output: the pattern at rows rr..rr+P-1, cols cc..cc+P-1, zeros elsewhere.
            outside = y[b, n].copy()
            outside[rr:rr + P, cc:cc + P] = 0
            assert not outside.any()
        # One pattern per task, shared by all its pairs; density 1 colours every cell 1..9.
        assert all(np.array_equal(p, patterns[0]) for p in patterns)
        assert patterns[0].min() >= 1 and patterns[0].max() <= 9


def test_density_sets_the_fraction_of_coloured_cells():
    x, y = pattern_tasks(np.random.default_rng(1), 2000, 2, 6, 4, density=0.5)
    assert abs((y[:, 0] > 0).sum() / (2000 * 16) - 0.5) < 0.01


def test_patterns_differ_across_tasks_and_seeds_reproduce():
    a = pattern_tasks(np.random.default_rng(3), 8, 3, 4, 2)
    b = pattern_tasks(np.random.default_rng(3), 8, 3, 4, 2)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert len({a[1][t].tobytes() for t in range(8)}) > 1


def test_two_d_latent_variant_shapes():
    x, y = pattern_tasks(np.random.default_rng(2), 5, 4, grid_size=4, pattern_size=2)
    assert x.shape == (5, 4, 4, 4)
    assert np.all((y > 0).sum(axis=(2, 3)) == 4)


@pytest.mark.parametrize("kw, message", [(dict(pattern_size=11), "pattern_size"),
                                         (dict(density=1.5), "density"),
                                         (dict(num_colors=2), "num_colors")])
def test_bad_generator_options(kw, message):
    with pytest.raises(ValueError, match=message):
        pattern_tasks(np.random.default_rng(0), 2, 2, **kw)
