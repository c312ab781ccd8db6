"""Exercise 1: mlp_forward."""
from autograd import grad

from .compare import ONE, close, close_tree, copies, unchanged, function, weighted_sum

SLUG = "mlp_forward"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_output": 5}  # a ReLU between layers, none after the last
BETWEEN = "a ReLU goes between layers: after every layer but the last, and never on the input."


def forward(*args):
    return function(SLUG)(*args)


def test_output(fx):
    close(forward(fx["layers"], fx["h"]), fx["out"], "the output for 3 layers", BETWEEN)


def test_one_layer_is_affine(fx):
    close(forward(fx["one_layer"], fx["h"]), fx["one_out"], "the output of a 1-layer MLP",
          "one layer has nothing between layers: it is h @ W + b, with no ReLU.")


def test_gradient_for_every_weight_bias_and_input(fx):
    f = lambda a: weighted_sum(fx["r"], forward(*a))
    dlayers, dh = grad(f)((fx["layers"], fx["h"]))
    hint = ("autograd differentiates what you wrote; use autograd.numpy and no in-place "
            "assignment, and check the forward pass first.")
    close_tree(dlayers, fx["dlayers"], "the gradient for layer", hint)
    close(dh, fx["dh"], "the gradient for the input h", hint)


def test_float32_in_float32_out(fx):
    close(forward(fx["layers32"], fx["h32"]), fx["out32"], "the float32 output", BETWEEN,
          rtol=1e-5, atol=1e-6)


def test_inputs_unchanged(fx):
    before = copies(fx["layers"], fx["h"])
    out = forward(fx["layers"], fx["h"])
    unchanged((fx["layers"], fx["h"]), before, ("layers", "h"), "mlp_forward")
    close(out, fx["out"], "the output for 3 layers", BETWEEN)  # a point for right answers only


def test_a_batch_of_one(fx):
    close(function(SLUG)(fx["layers"], fx["h"][:1, :1]), fx["out_of_one"],
          "the output for h of shape (1, 1, fan_in)", ONE)
