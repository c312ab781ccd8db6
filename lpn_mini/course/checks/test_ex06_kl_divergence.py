"""Exercise 6: kl_divergence."""
import numpy as onp
from autograd import grad

from .compare import ONE, array, close, copies, fail, function, same_shape, unchanged, weighted_sum

SLUG = "kl_divergence"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_value": 5}  # eq. 10
VALUE = ("eq. 10 is KL(N(mu, sigma^2) || N(0, 1)) per dimension in closed form, with its "
         "constant factor; sigma^2 = exp(logvar).")


def kl(*args):
    return function(SLUG)(*args)


def test_zero_at_the_prior(fx):
    zeros = onp.zeros_like(fx["mu"])
    close(kl(zeros, zeros), onp.zeros(zeros.shape[:-1]), "KL at mu = 0, logvar = 0",
          "the KL of the prior from itself is 0: at mu = 0, sigma = 1 every dimension's term "
          "must vanish, constant included.", atol=1e-12)
    close(kl(fx["mu"], fx["logvar"]), fx["kl"], "KL", VALUE)  # a point for right answers only


def test_never_negative(fx):
    got = array(kl(fx["mu"], fx["logvar"]), float)
    if got.shape == fx["kl"].shape and onp.any(got < 0):
        fail("KL", f"the KL came out negative ({got.min():.4g}); a KL divergence is never "
             "negative.", "look at the sign of each term of eq. 10, and of the factor in front.")
    close(got, fx["kl"], "KL", VALUE, dtype=False)  # a point for right answers only


def test_dimensions_add_up(fx):
    mu, logvar = fx["mu"], fx["logvar"]
    hint = "the KL of (..., d) inputs has shape (...): sum over the last axis, d."
    whole = same_shape(kl(mu, logvar), fx["kl"], "KL", hint).astype(float)
    parts = array(kl(mu[..., :2], logvar[..., :2]), float) + array(kl(mu[..., 2:], logvar[..., 2:]), float)
    close(whole, parts, "KL over all d dimensions vs the sum of the KLs of two groups of them",
          "the dimensions are independent, so their KLs add up: sum over d, do not average.",
          dtype=False)
    close(whole, fx["kl"], "KL", VALUE, dtype=False)  # a point for right answers only


def test_value(fx):
    close(kl(fx["mu"], fx["logvar"]), fx["kl"], "KL", VALUE)


def test_gradients_for_mu_and_logvar(fx):
    dmu, dlogvar = grad(lambda a: weighted_sum(fx["r"], kl(*a)))((fx["mu"], fx["logvar"]))
    close(dmu, fx["dmu"], "the gradient for mu", "d KL / d mu pulls mu towards 0 in "
          "proportion to mu.")
    close(dlogvar, fx["dlogvar"], "the gradient for logvar",
          "d KL / d logvar is 0 where the variance is 1.")


def test_float32_in_float32_out(fx):
    close(kl(fx["mu32"], fx["logvar32"]), fx["kl32"], "KL for float32 inputs",
          "no float64 constants or arrays in the sum.", rtol=1e-5, atol=1e-6)


def test_inputs_unchanged(fx):
    args = (fx["mu"], fx["logvar"])
    before = copies(*args)
    out = kl(*args)
    unchanged(args, before, ("mu", "logvar"), "kl_divergence")
    close(out, fx["kl"], "KL", VALUE)  # a point for right answers only


def test_a_batch_of_one(fx):
    close(kl(fx["mu"][:1, :1], fx["logvar"][:1, :1]), fx["kl_of_one"],
          "the KL for inputs of shape (1, 1, d)", ONE)
