"""Exercise 5: log_softmax, grid_log_likelihood and log_likelihood."""
import numpy as onp
from autograd import grad

from .compare import ONE, array, close, close_tree, copies, fail, function, unchanged, weighted_sum

SLUG = "log_likelihood"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_log_softmax_of_huge_logits": 5}  # numerical stability
REDUCES = ("sum", "mean")
AXIS = "log-softmax normalizes over the colours, the last axis, and nothing else."


def log_softmax(logits):
    return function(SLUG, "log_softmax")(logits)


def log_softmax_hint(got, want, fx):
    """Which part of log_softmax is off: where every colour of a cell is off by the same
    amount it is the normalizer (the log-sum-exp term), else the normalization itself."""
    g, w = onp.asarray(got, float), onp.asarray(want, float)
    if g.dtype != w.dtype or g.shape != w.shape:
        return AXIS
    off = g - w
    if onp.allclose(off, off[..., :1], atol=1e-6 * (1.0 + onp.abs(w).max())):
        return ("every colour of a cell is off by the same amount: the normalizer, the log of "
                "the sum of the exponentials over the colours, is wrong (a shift by the maximum "
                "must be applied to the logits inside it and outside it alike).")
    return AXIS


def log_softmax32_hint(got, want, fx):
    """The float32 check: its dtype where that is wrong, else which part of the values."""
    if onp.asarray(got).dtype != onp.asarray(want).dtype:
        return "a float32 input must give float32 out: no float64 constants or new arrays."
    return log_softmax_hint(got, want, fx)


def test_log_softmax_value(fx):
    close(log_softmax(fx["logits"]), fx["log_softmax"], "log_softmax(logits)", log_softmax_hint)


def test_log_softmax_is_normalized(fx):
    p = onp.exp(array(log_softmax(fx["logits"]), float))
    if p.shape == fx["logits"].shape:
        close(p.sum(axis=-1), onp.ones(p.shape[:-1]), "the sum of exp(log_softmax) over colours",
              "the probabilities of the C colours of a cell must sum to 1: " + AXIS)
    close(log_softmax(fx["logits"]), fx["log_softmax"], "log_softmax(logits)", AXIS)  # right answers only


def test_log_softmax_of_huge_logits(fx):
    got = array(log_softmax(fx["huge"]), float)
    if got.shape == fx["huge"].shape and not onp.all(onp.isfinite(got)):
        # Which cause: no shift at all, or one maximum shared by every cell (then each cell
        # on its own comes out finite, and a cell far below the shared maximum does not).
        alone = [array(log_softmax(fx["huge"][i:i + 1]), float) for i in range(len(fx["huge"]))]
        if all(a.shape == (1,) + fx["huge"].shape[1:] and onp.all(onp.isfinite(a)) for a in alone):
            fail("log_softmax of logits near 1e4", "got inf or nan for the cells together but "
                 "finite values for each cell on its own.",
                 "the maximum you subtract must be each cell's own, over the colours: a cell "
                 "far below one shared maximum has every exp underflow to 0.")
        fail("log_softmax of logits near 1e4", "got inf or nan: exp(1e4) overflowed.",
             "subtract the maximum logit before exponentiating (it cancels).")
    close(got, fx["huge_out"], "log_softmax of logits near 1e4", AXIS)


def test_log_softmax_gradient(fx):
    g = grad(lambda a: weighted_sum(fx["r"], log_softmax(a)))(fx["logits"])
    close(g, fx["dlog_softmax"], "the gradient of log_softmax for the logits",
          "the maximum you subtract cancels, so its own gradient cancels too: plain np.max is "
          "right; the rest must be autograd.numpy operations on the logits.")


def test_log_softmax_float32(fx):
    close(log_softmax(fx["logits32"]), fx["log_softmax32"], "log_softmax of float32 logits",
          log_softmax32_hint, rtol=1e-5, atol=1e-5)


def test_grid_log_likelihood(fx):
    f = function(SLUG, "grid_log_likelihood")
    for reduce in REDUCES:
        close(f(fx["logits"], fx["y"], reduce), fx[f"grid_{reduce}"],
              f"grid_log_likelihood(reduce={reduce!r})",
              f"log_softmax at each cell's true colour, then the {reduce} over the H x W cells.")
        g = grad(lambda a: weighted_sum(fx["rb"], f(a, fx["y"], reduce)))(fx["logits"])
        close(g, fx[f"dgrid_{reduce}"], f"the gradient of grid_log_likelihood(reduce={reduce!r})",
              "only the true colour's log-probability of each cell counts.")


def test_log_likelihood_of_the_decoder(fx):
    f = function(SLUG, "log_likelihood")
    for reduce in REDUCES:
        close(f(fx["decoder"], fx["x"], fx["yy"], fx["z"], reduce), fx[f"ll_{reduce}"],
              f"log_likelihood(reduce={reduce!r})",
              "grid_log_likelihood of the decoder's logits for (x, z), with the same reduce.")


def test_log_likelihood_gradients_for_decoder_and_z(fx):
    f = function(SLUG, "log_likelihood")
    for reduce in REDUCES:
        loss = lambda a: weighted_sum(fx["rl"], f(a[0], fx["x"], fx["yy"], a[1], reduce))
        ddec, dz = grad(loss)((fx["decoder"], fx["z"]))
        hint = "decode the logits with autograd-traceable code, and pass reduce on."
        close_tree(ddec, fx[f"dll_{reduce}"][0], f"the gradient (reduce={reduce!r}) for decoder",
                   hint)
        close(dz, fx[f"dll_{reduce}"][1], f"the gradient (reduce={reduce!r}) for z", hint)


def test_inputs_unchanged(fx):
    before = copies(fx["logits"], fx["y"])
    out = function(SLUG, "grid_log_likelihood")(fx["logits"], fx["y"], "mean")
    unchanged((fx["logits"], fx["y"]), before, ("logits", "y"), "log_softmax or grid_log_likelihood")
    close(out, fx["grid_mean"], "grid_log_likelihood(reduce='mean')",
          "log_softmax at each cell's true colour, then the mean over the H x W cells.")  # right answers only


def test_a_batch_of_one(fx):
    close(function(SLUG, "grid_log_likelihood")(fx["logits"][:1], fx["y"][:1], "sum"),
          fx["grid_of_one"], "grid_log_likelihood of one grid (B = 1)", ONE)
    close(function(SLUG, "log_likelihood")(fx["decoder"], fx["x"][:1], fx["yy"][:1], fx["z"][:1],
                                           "sum"),
          fx["ll_of_one"], "log_likelihood of one task (B = 1)", ONE)
