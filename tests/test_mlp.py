import autograd
import numpy as np

from lpn_mini.mlp import dense, init_mlp, mlp_forward, mlp_forward_from_first

from helpers import check_grad_groups


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
    np.testing.assert_allclose(mlp_forward(layers, h), expected, rtol=1e-12)
    # The output layer is linear: negative outputs must survive.
    assert (mlp_forward(layers, h) < 0).any()


def test_init_shapes_and_he_scale():
    rng = np.random.default_rng(1)
    layers = init_mlp(rng, [400, 300, 7])
    assert [W.shape for W, _ in layers] == [(400, 300), (300, 7)]
    assert [b.shape for _, b in layers] == [(300,), (7,)]
    assert abs(layers[0][0].std() - np.sqrt(2 / 400)) < 0.05 * np.sqrt(2 / 400)


def test_dense_matches_stacked_matmul():
    rng = np.random.default_rng(2)
    h, W, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((5, 6)), rng.standard_normal(6)
    np.testing.assert_allclose(dense(h, W, b), h @ W + b, rtol=1e-12)


def test_split_first_layer_equals_whole_forward():
    rng = np.random.default_rng(3)
    layers = init_mlp(rng, [6, 5, 4])
    h = rng.standard_normal((3, 6))
    first = dense(h[:, :2], layers[0][0][:2], layers[0][1]) + dense(h[:, 2:], layers[0][0][2:], 0.0)
    np.testing.assert_allclose(mlp_forward_from_first(layers, first), mlp_forward(layers, h),
                               rtol=1e-12)


def test_mlp_gradient_every_layer():
    rng = np.random.default_rng(4)
    params = {"mlp": [(W, b + 0.1 * rng.standard_normal(b.shape))
                      for W, b in init_mlp(rng, [5, 7, 6, 3])]}
    h = rng.standard_normal((4, 5))
    target = rng.standard_normal((4, 3))
    f = lambda p: np.sum((mlp_forward(p["mlp"], h) - target) ** 2)
    check_grad_groups(f, autograd.grad(f), params, rng, tol=1e-6)
