"""Exercise 8: latent_ascent_step, its value and its gradients in both stop-gradient branches."""
import numpy as onp
from autograd import grad

from .compare import ONE, array, close, close_tree, copies, fail, function, unchanged, weighted_sum

SLUG = "latent_ascent_step"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_gradient_with_stop_gradient": 5}  # stop-gradient


def step(fx, decoder, z, stop_gradient=True, reduce="sum"):
    return function(SLUG)(decoder, fx["x"], fx["y"], z, fx["mask"], fx["alpha"],
                          stop_gradient=stop_gradient, reduce=reduce)


def diagnose(got, want, fx):
    """A hint from how the step compares with the right one (called by ``close`` where the
    expected step is known: run by hand, or in the grader's own process)."""
    moved = array(got, float) - fx["z"]
    if moved.shape != onp.shape(want):
        return "the step has z's shape (B, M, d)."
    right = array(want, float) - fx["z"]
    if onp.allclose(moved, -right, rtol=1e-6):
        return "the step went down the gradient: this is gradient *ascent*, step along +grad."
    if onp.allclose(moved, right / fx["alpha"], rtol=1e-6):
        return "the step is the gradient times the step size alpha."
    return ("z + alpha * the gradient for z of the sum of the (B, M) objectives, each weighted "
            "by the mask, with this reduce.")


def test_step(fx):
    for reduce in ("sum", "mean"):
        got = step(fx, fx["decoder"], fx["z"], reduce=reduce)
        want = fx[f"step_{reduce}"]
        close(got, want, f"z after one step (reduce={reduce!r})", diagnose)


def test_same_step_either_way(fx):
    close(step(fx, fx["decoder"], fx["z"], stop_gradient=False), fx["step_sum"],
          "z after one step with stop_gradient=False",
          "stop_gradient changes only what an outer gradient sees, never the step's value.")


def outer_gradients(fx, stop_gradient, reduce):
    f = lambda a: weighted_sum(fx["r"], step(fx, a[0], a[1], stop_gradient, reduce))
    return grad(f)((fx["decoder"], fx["z"]))


def test_gradient_with_stop_gradient(fx):
    for reduce in ("sum", "mean"):
        ddec, dz = outer_gradients(fx, True, reduce)
        want_dec, want_z = fx[f"grad_{reduce}_sg"]
        if any(onp.any(array(w) != 0) for layer in ddec for w in layer):
            fail(f"the outer gradient for decoder (stop_gradient=True, reduce={reduce!r})",
                 "is not 0: with stop_gradient=True the step still depends on the decoder "
                 "parameters for autograd.", "compute the gradient from without_gradient(...) "
                 "copies of the parameters and of z.")
        close_tree(ddec, want_dec, "the outer gradient (stop_gradient=True) for decoder",
                   "the step is a constant for the outer gradient.")
        close(dz, want_z, f"the outer gradient for z (stop_gradient=True, reduce={reduce!r})",
              "the step is a constant, but the z it is added to is not: the result still "
              "moves one for one with z.")
        got = step(fx, fx["decoder"], fx["z"], reduce=reduce)  # a point for right answers only
        close(got, fx[f"step_{reduce}"], f"z after one step (reduce={reduce!r})", diagnose)


def test_gradient_without_stop_gradient(fx):
    for reduce in ("sum", "mean"):
        ddec, dz = outer_gradients(fx, False, reduce)
        want_dec, want_z = fx[f"grad_{reduce}_nosg"]
        hint = ("with stop_gradient=False the outer gradient flows through the step as well "
                "(second order): use the parameters and z as given.")
        close_tree(ddec, want_dec, f"the outer gradient (stop_gradient=False, reduce={reduce!r}) "
                   "for decoder", hint)
        close(dz, want_z, f"the outer gradient for z (stop_gradient=False, reduce={reduce!r})",
              hint)


def test_inputs_unchanged(fx):
    before = copies(fx["decoder"], fx["z"], fx["mask"])
    out = step(fx, fx["decoder"], fx["z"])
    unchanged((fx["decoder"], fx["z"], fx["mask"]), before, ("decoder_params", "z", "mask"),
              "latent_ascent_step")
    close(out, fx["step_sum"], "z after one step", diagnose)  # a point for right answers only


def test_a_batch_of_one(fx):
    close(function(SLUG)(fx["decoder"], fx["x"][:1], fx["y"][:1], fx["z"][:1], fx["mask"],
                         fx["alpha"]), fx["step_of_one"], "the step for one task (B = 1)", ONE)
