"""Exercise 10: infer_latent (Algorithm 1)."""
import numpy as onp
from autograd import grad

from .compare import close, close_tree, copies, function, unchanged, weighted_sum

SLUG = "infer_latent"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_latent": 5}  # Algorithm 1
HINTS = {
    "eps=None, num_steps=0": "without search, the latent is the task's mean over its pairs of "
                             "mu (eps is None: no sampling).",
    "with eps, num_steps=0": "with eps, sample z_i = mu_i + eps_i * sigma_i for every pair, "
                             "then start from their mean.",
    "with eps, num_steps=2, alpha=0.3": "refine the starting latent with latent_gradient_ascent on "
                                        "*all* the specification pairs (a (1, N) mask of ones), "
                                        "passing the search options on.",
    "best_of_trajectory=True": "pass every search option on: with best_of_trajectory the search "
                               "returns the best latent it visited, not its last.",
    "best_of_trajectory=False": "pass every search option on, as given: with "
                                "best_of_trajectory=False the search returns its last latent.",
}


def infer(fx, params, eps, **options):
    return function(SLUG)(params, fx["x"], fx["y"], eps, **options)


def test_latent(fx):
    for case in fx["cases"]:
        options = {k: v for k, v in case.items() if k not in ("name", "eps", "z")}
        close(infer(fx, fx["params"], case["eps"], **options), case["z"],
              f"the latent ({case['name']})", HINTS[case["name"]])


def test_one_task(fx):
    z = function(SLUG)(fx["params"], fx["x"][:1], fx["y"][:1], fx["eps"][:1], num_steps=2,
                       alpha=0.3)
    close(z, fx["z_one"], "the latent of a batch of one task (B = 1)", "a batch of one task is "
          "still a batch: the latents keep their shape (B, d), here (1, d).")


def test_gradients_for_params_and_eps(fx):
    f = lambda a: weighted_sum(fx["r"], infer(fx, a[0], a[1], num_steps=1, alpha=0.3))
    dparams, deps = grad(f)((fx["params"], fx["eps"]))
    hint = "use autograd.numpy throughout, so that the latent is differentiable in params and eps."
    close_tree(dparams, fx["dparams"], "the gradient of the latent (num_steps=1) for params", hint)
    close(deps, fx["deps"], "the gradient of the latent (num_steps=1) for eps", hint)


def float32_hint(got, want, fx):
    """The float32 check: its dtype where that is wrong, else the values, as the float64
    checks see them."""
    if onp.asarray(got).dtype != onp.asarray(want).dtype:
        return "a float32 model gives a float32 latent: make the mask in z's dtype."
    return ("the latent is float32, but its values are wrong: the float64 checks of this "
            "exercise say where.")


def test_float32_in_float32_out(fx):
    close(infer(fx, fx["params32"], fx["eps32"], num_steps=2, alpha=0.3), fx["z32"],
          "the latent of a float32 model", float32_hint, rtol=1e-4, atol=1e-5)


def test_inputs_unchanged(fx):
    before = copies(fx["params"], fx["x"], fx["y"], fx["eps"])
    case = fx["cases"][2]
    z = infer(fx, fx["params"], fx["eps"], num_steps=2, alpha=0.3)
    unchanged((fx["params"], fx["x"], fx["y"], fx["eps"]), before, ("params", "x_spec",
              "y_spec", "eps"), "infer_latent")
    close(z, case["z"], f"the latent ({case['name']})", HINTS[case["name"]])  # right answers only
