"""Exercise 4: reparameterize."""
import numpy as onp
from autograd import grad

from .compare import ONE, close, copies, function, unchanged, weighted_sum

SLUG = "reparameterize"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_sample": 5}  # z = mu + eps * sigma
SIGMA = ("z is mu plus eps times the standard deviation sigma; logvar is the log of the "
         "variance, not of sigma: work out sigma from it.")


def reparameterize(*args):
    return function(SLUG)(*args)


def sample_hint(got, want, fx):
    """Which part of z is off: z that does not move with the eps given (fresh noise drawn
    inside, say) gets a line about eps; else the line about sigma."""
    got, eps, mu = (onp.asarray(a, float).ravel() for a in (got, fx["eps"], fx["mu"]))
    if got.shape == eps.shape:
        with onp.errstate(all="ignore"):
            follows = [abs(onp.corrcoef(a, eps)[0, 1]) for a in (got - mu, got)]
        if all(onp.isfinite(c) and c < 0.5 for c in follows):
            return ("z does not move with the eps given: the noise is an input (so that z is "
                    "a deterministic, differentiable function); use it, and draw none.")
    return SIGMA


def test_sample(fx):
    close(reparameterize(fx["mu"], fx["logvar"], fx["eps"]), fx["z"], "z", sample_hint)


def test_gradients_for_mu_logvar_and_eps(fx):
    f = lambda a: weighted_sum(fx["r"], reparameterize(*a))
    got = grad(f)((fx["mu"], fx["logvar"], fx["eps"]))
    hints = ("z moves one for one with mu.",
             "logvar reaches z only through sigma (the chain rule through sigma's formula); "
             "use autograd.numpy so that autograd can follow it.",
             "z moves with eps in proportion to the standard deviation.")
    for name, g, want, hint in zip(("mu", "logvar", "eps"), got, (fx["dmu"], fx["dlogvar"],
                                                                  fx["deps"]), hints):
        close(g, want, f"the gradient for {name}", hint)


def test_float32_in_float32_out(fx):
    close(reparameterize(fx["mu32"], fx["logvar32"], fx["eps32"]), fx["z32"], "z for float32 inputs",
          SIGMA, rtol=1e-5, atol=1e-6)


def test_inputs_unchanged(fx):
    args = (fx["mu"], fx["logvar"], fx["eps"])
    before = copies(*args)
    z = reparameterize(*args)
    unchanged(args, before, ("mu", "logvar", "eps"), "reparameterize")
    close(z, fx["z"], "z", SIGMA)  # a point for right answers only


def test_a_batch_of_one(fx):
    close(reparameterize(fx["mu"][:1, :1], fx["logvar"][:1, :1], fx["eps"][:1, :1]),
          fx["z_of_one"], "z for inputs of shape (1, 1, d)", ONE)
