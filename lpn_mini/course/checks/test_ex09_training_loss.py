"""Exercise 9: training_loss, piece by piece (reconstruction, KL, search), and its gradients."""
from autograd import grad

from .compare import close, close_tree, function

SLUG = "training_loss"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_stop_gradient": 5}  # stop-gradient through the K steps
REC = ("-log p(y_i | x_i, z'_i) with z'_i the leave-one-out mean of the other pairs' sampled "
       "latents, averaged (not summed) over tasks and pairs.")


KEYS = ("num_steps", "alpha", "beta", "stop_gradient", "reduce")
SEARCH = ("pass the other options (**search_options: optimizer, clip_norm, clip_mode, "
          "best_of_trajectory) on to latent_gradient_ascent, untouched.")


def loss(fx, params, eps, case):
    options = {k: case[k] for k in KEYS if k in case}
    return function(SLUG)(params, fx["x"], fx["y"], eps, **options, **case.get("search", {}))


def describe(case):
    options = {**{k: case[k] for k in KEYS if k in case}, **case.get("search", {})}
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def test_reconstruction_term(fx):
    case = fx["cases"][0]                                     # K = 0, beta = 0
    close(loss(fx, fx["params"], fx["eps"], case), case["loss"], f"the loss ({describe(case)})", REC)


def test_kl_term(fx):
    rec, with_kl = fx["cases"][0], fx["cases"][1]             # beta = 0 and beta = 1.5
    got = float(loss(fx, fx["params"], fx["eps"], with_kl)) - float(loss(fx, fx["params"], fx["eps"], rec))
    close(got, with_kl["loss"] - rec["loss"], "the loss at beta = 1.5 minus the loss at beta = 0",
          "the KL term is beta times each pair's KL_i, averaged over tasks and pairs like the "
          "reconstruction.", dtype=False)


def test_with_latent_search(fx):
    for case in fx["cases"][2:]:
        close(loss(fx, fx["params"], fx["eps"], case), case["loss"], f"the loss ({describe(case)})",
              SEARCH if "search" in case else
              "refine z' with K steps of latent_gradient_ascent (LEAVE_ONE_OUT, the given alpha, "
              "stop_gradient and reduce) before the reconstruction, and use the same reduce in "
              "the log-likelihood.")


def searched(case):
    """Whether ``case`` is one of the plain searches whose gradient is stop-gradient's lesson."""
    return case["num_steps"] > 0 and "search" not in case


def gradients(fx, case, hint):
    dparams, deps = grad(lambda a: loss(fx, a[0], a[1], case))((fx["params"], fx["eps"]))
    close_tree(dparams, case["dparams"], f"the gradient ({describe(case)}) for params", hint)
    close(deps, case["deps"], f"the gradient ({describe(case)}) for eps", hint)


def test_gradients_for_every_parameter_and_eps(fx):
    for case in fx["cases"]:
        if searched(case):
            continue  # test_stop_gradient
        gradients(fx, case, SEARCH if "search" in case else
                  "with K = 0 the gradient follows from the loss itself: params reach it "
                  "through the encoder and the decoder, eps through the sampled latents.")


def test_stop_gradient(fx):
    """The outer gradient with K > 0, stop_gradient on and off: the same loss, two gradients."""
    for case in filter(searched, fx["cases"]):
        gradients(fx, case, "with stop_gradient=True the search's update is a constant for the "
                            "outer gradient (pass stop_gradient on)."
                  if case.get("stop_gradient", True) else
                  "with stop_gradient=False the gradient flows through the search steps "
                  "(pass stop_gradient on).")


def test_float32_in_float32_out(fx):
    got = function(SLUG)(fx["params32"], fx["x"], fx["y"], fx["eps32"], num_steps=1, alpha=0.3)
    close(got, fx["loss32"], "the loss of a float32 model", "a float32 model must give a "
          "float32 loss: no float64 constants or arrays (a mask from leave_one_out_mask(N) is "
          "float64 unless you pass dtype=z.dtype).", rtol=1e-4, atol=1e-6)
