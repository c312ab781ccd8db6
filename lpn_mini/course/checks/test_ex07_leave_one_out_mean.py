"""Exercise 7: leave_one_out_mean."""
import autograd
import numpy as onp

from .compare import ONE, close, copies, fail, function, unchanged, weighted_sum

SLUG = "leave_one_out_mean"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_own_latent_left_out": 5}  # the others only
OTHERS = "z'_i is the mean of the N - 1 *other* latents of the same task."


def loo(z):
    return function(SLUG)(z)


def test_value(fx):
    close(loo(fx["z"]), fx["out"], "z'", OTHERS)


def test_two_pairs_swap(fx):
    close(loo(fx["z2"]), fx["out2"], "z' for N = 2 pairs", "with two pairs, each pair's z' is "
          "the other pair's latent.")


def test_own_latent_left_out(fx):
    z = fx["z"]
    N = z.shape[1]
    for i in range(N):
        jac = autograd.jacobian(lambda z: loo(z)[:, i])(z)      # (B, d, B, N, d)
        if onp.any(jac[:, :, :, i, :] != 0):
            fail(f"d z'_{i} / d z_{i}", f"z'_{i} changes when z_{i} changes.",
                 f"leave pair {i}'s own latent out of its mean.")
    close(loo(z), fx["out"], "z'", OTHERS)  # a point for right answers only


def test_gradient(fx):
    g = autograd.grad(lambda z: weighted_sum(fx["r"], loo(z)))(fx["z"])
    close(g, fx["dz"], "the gradient for z", "each other latent counts 1 / (N - 1).")


def test_needs_two_pairs(fx):
    what = "leave_one_out_mean(z) with N = 1"
    close(loo(fx["z"]), fx["out"], "z'", OTHERS)  # a point for right answers only
    try:
        loo(fx["z"][:, :1])
    except ValueError:
        return
    except Exception as e:
        fail(what, f"raised {type(e).__name__} ({e}) instead of ValueError.",
             "check N before dividing; raise ValueError when N < 2.")
    fail(what, "returned instead of raising ValueError.",
         "a single pair has no others to average: raise ValueError when N < 2.")


def test_float32_in_float32_out(fx):
    close(loo(fx["z32"]), fx["out32"], "z' for float32 z", "a float32 input must give float32 out.",
          rtol=1e-5, atol=1e-6)


def test_input_unchanged(fx):
    before = copies(fx["z"])
    out = loo(fx["z"])
    unchanged((fx["z"],), before, ("z",), "leave_one_out_mean")
    close(out, fx["out"], "z'", OTHERS)  # a point for right answers only


def test_a_batch_of_one(fx):
    close(function(SLUG)(fx["z"][:1]), fx["out_of_one"],
          "the leave-one-out means of one task (B = 1)", ONE)
