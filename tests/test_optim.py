import numpy as np

from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, global_norm


def test_adam_first_two_steps_by_hand():
    params = {"encoder": [(np.array([[1.0, -2.0]]), np.array([0.5, 0.0]))], "decoder": []}
    g1 = {"encoder": [(np.array([[0.1, -0.4]]), np.array([2.0, 0.0]))], "decoder": []}
    g2 = {"encoder": [(np.array([[0.3, 0.2]]), np.array([-1.0, 0.0]))], "decoder": []}
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p1, s1 = adam_update(params, g1, adam_init(params), lr, b1, b2, eps)
    # Step 1: m^ = g, v^ = g^2, so each coordinate moves by lr * sign(g) (or not at all).
    np.testing.assert_allclose(p1["encoder"][0][0], [[1.0 - lr, -2.0 + lr]], rtol=1e-6)
    np.testing.assert_allclose(p1["encoder"][0][1], [0.5 - lr, 0.0], rtol=1e-6)
    p2, s2 = adam_update(p1, g2, s1, lr, b1, b2, eps)
    # Step 2 by hand for W[0, 0]: g = 0.1 then 0.3.
    m = b1 * (1 - b1) * 0.1 + (1 - b1) * 0.3
    v = b2 * (1 - b2) * 0.01 + (1 - b2) * 0.09
    step1 = lr * 0.1 / (np.sqrt(0.01) + eps)
    step2 = lr * (m / (1 - b1 ** 2)) / (np.sqrt(v / (1 - b2 ** 2)) + eps)
    np.testing.assert_allclose(p2["encoder"][0][0][0, 0], 1.0 - step1 - step2, rtol=1e-12)
    assert s2["t"] == 2
    # Pure: the inputs are untouched.
    assert params["encoder"][0][0][0, 0] == 1.0


def test_weight_decay_is_decoupled():
    params = {"w": np.array([2.0])}
    zero = {"w": np.array([0.0])}
    p, _ = adam_update(params, zero, adam_init(params), lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(p["w"], [2.0 - 0.1 * 0.5 * 2.0])


def test_clip_by_global_norm():
    g = {"a": np.array([3.0]), "b": [np.array([4.0])]}
    assert global_norm(g) == 5.0
    clipped = clip_by_global_norm(g, 1.0)
    np.testing.assert_allclose(global_norm(clipped), 1.0)
    np.testing.assert_allclose(clipped["a"] / clipped["b"][0], 0.75)
    assert clip_by_global_norm(g, 10.0)["a"][0] == 3.0
