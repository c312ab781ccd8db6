import autograd
import numpy as np
import pytest

from lpn_mini.mlp import dense, init_mlp, mlp_backward, mlp_forward, mlp_forward_from_first

from helpers import assert_agree_to_rounding, check_grad_groups, close


def test_forward_is_relu_between_layers_and_linear_at_the_end():
    rng = np.random.default_rng(0)
    layers = init_mlp(rng, [5, 4, 3, 2])
    layers = [(W, rng.standard_normal(b.shape)) for W, b in layers]
    h = rng.standard_normal((2, 3, 5))
    expected = h
    for k, (W, b) in enumerate(layers):
        expected = expected @ W + b
        if k < len(layers) - 1:
            expected = np.maximum(expected, 0)
    close(mlp_forward(layers, h), expected, "MLP output", rtol=1e-10,
          hint="h @ W + b for every layer, ReLU between layers and none after the last.")
    assert (mlp_forward(layers, h) < 0).any(), \
        "MLP output: no negative values; the last layer must be linear (no ReLU after it)."



def test_init_shapes_and_he_scale():
    rng = np.random.default_rng(1)
    layers = init_mlp(rng, [400, 300, 7])
    assert [W.shape for W, _ in layers] == [(400, 300), (300, 7)]
    assert [b.shape for _, b in layers] == [(300,), (7,)]
    assert abs(layers[0][0].std() - np.sqrt(2 / 400)) < 0.05 * np.sqrt(2 / 400)


def test_dense_matches_stacked_matmul():
    rng = np.random.default_rng(2)
    h, W, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((5, 6)), rng.standard_normal(6)
    assert_agree_to_rounding(dense(h, W, b), h @ W + b, "dense", ulps=16)


def test_split_first_layer_equals_whole_forward():
    rng = np.random.default_rng(3)
    layers = init_mlp(rng, [6, 5, 4])
    h = rng.standard_normal((3, 6))
    first = dense(h[:, :2], layers[0][0][:2], layers[0][1]) + dense(h[:, 2:], layers[0][0][2:], 0.0)
    close(mlp_forward_from_first(layers, first), mlp_forward(layers, h),
          "MLP output with a split first layer", rtol=1e-10)


def test_mlp_gradient_every_layer():
    rng = np.random.default_rng(4)
    params = {"mlp": [(W, b + 0.1 * rng.standard_normal(b.shape))
                      for W, b in init_mlp(rng, [5, 7, 6, 3])]}
    h = rng.standard_normal((4, 5))
    target = rng.standard_normal((4, 3))
    f = lambda p: np.sum((mlp_forward(p["mlp"], h) - target) ** 2)
    check_grad_groups(f, autograd.grad(f), params, rng, tol=1e-6)


@pytest.mark.parametrize("lead", [(4,), (2, 3)])
def test_hand_written_backward_matches_autograd(lead):
    rng = np.random.default_rng(5)
    layers = [(W, 0.1 * rng.standard_normal(b.shape)) for W, b in init_mlp(rng, [5, 7, 6, 3])]
    h = rng.standard_normal(lead + (5,))
    dout = rng.standard_normal(lead + (3,))
    f = lambda layers, h: np.sum(mlp_forward(layers, h) * dout)
    want_layers, want_h = autograd.grad(f, 0)(layers, h), autograd.grad(f, 1)(layers, h)
    got_layers, got_h = mlp_backward(layers, h, dout)
    assert len(got_layers) == len(layers), \
        f"dlayers: expected {len(layers)} (dW, db) pairs, got {len(got_layers)}."
    for k, ((dW, db), (eW, eb)) in enumerate(zip(got_layers, want_layers, strict=True)):
        close(dW, eW, f"dW of layer {k}", rtol=1e-9,
              hint="dW = a^T dout summed over all leading axes; check the ReLU mask.")
        close(db, eb, f"db of layer {k}", rtol=1e-9, hint="db sums dout over every leading axis.")
    close(got_h, want_h, "dh (gradient w.r.t. the input)", rtol=1e-9,
          hint="da = dout @ W^T, then multiply by (pre-activation > 0) below each hidden layer.")


def test_dense_hand_written_gradients_to_second_order():
    """dense is a primitive with its VJPs written by hand: check all three against finite
    differences, twice differentiated (training without stop-gradient needs that)."""
    import autograd.numpy as anp
    from autograd.test_util import check_grads
    rng = np.random.default_rng(11)
    h, W, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    for argnum in (0, 1, 2):  # check_grads checks one argument at a time
        check_grads(lambda h, W, b: dense(h, W, b) ** 2, argnum=argnum, modes=["rev"],
                    order=2)(h, W, b)
    for argnum in (0, 1):
        check_grads(lambda h, W: anp.tanh(dense(h, W)), argnum=argnum, modes=["rev"],
                    order=2)(h, W)
