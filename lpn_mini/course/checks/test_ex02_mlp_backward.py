"""Exercise 2: mlp_backward, compared with stored gradients of the MLP."""
from .compare import close, close_tree, copies, fail, function, unchanged

SLUG = "mlp_backward"
# The check of the exercise's core lesson carries half its points; the others share the rest.
POINTS = {"test_weight_and_bias_gradients": 5}  # the backward pass itself


def backward(layers, h, dout, what):
    out = function(SLUG)(layers, h, dout)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        fail(what, f"expected a pair (dlayers, dh), got {type(out).__name__}.")
    return out


def test_weight_and_bias_gradients(fx):
    dlayers, _ = backward(fx["layers"], fx["h"], fx["dout"], "mlp_backward's result")
    close_tree(dlayers, fx["dlayers"], "the gradient for layer",
               "dW sums a^T dout over every leading axis, db sums dout over them; behind a "
               "ReLU the gradient passes only where the ReLU's input was > 0.")


def test_input_gradient(fx):
    _, dh = backward(fx["layers"], fx["h"], fx["dout"], "mlp_backward's result")
    close(dh, fx["dh"], "the gradient for the input h",
          "going back through a layer multiplies by W^T; behind a ReLU, keep the gradient only "
          "where that ReLU's input (the previous layer's pre-activation) was > 0.")


def test_one_layer(fx):
    dlayers, dh = backward(fx["one_layer"], fx["h"], fx["dout"], "mlp_backward's result")
    hint = "one layer has no ReLU: dW = a^T dout, db = the sum of dout, dh = dout W^T."
    close_tree(dlayers, fx["one_dlayers"], "the gradient for the 1-layer MLP's layer", hint)
    close(dh, fx["one_dh"], "the gradient for h of a 1-layer MLP", hint)


def test_float32_in_float32_out(fx):
    dlayers, dh = backward(fx["layers32"], fx["h32"], fx["dout32"], "mlp_backward's result")
    hint = "a float32 input must give float32 gradients: no float64 constants or new arrays."
    close_tree(dlayers, fx["dlayers32"], "the float32 gradient for layer", hint, rtol=1e-4,
               atol=1e-5)
    close(dh, fx["dh32"], "the float32 gradient for h", hint, rtol=1e-4, atol=1e-5)


def test_inputs_unchanged(fx):
    args = (fx["layers"], fx["h"], fx["dout"])
    before = copies(*args)
    _, dh = backward(*args, "mlp_backward's result")
    unchanged(args, before, ("layers", "h", "dout"), "mlp_backward")
    close(dh, fx["dh"], "the gradient for the input h", "back through each layer and its ReLU.")  # a point for right answers only
