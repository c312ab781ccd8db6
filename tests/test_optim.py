import numpy as np

from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm, global_norm

from helpers import close


def test_adam_first_two_steps_by_hand():
    params = {"encoder": [(np.array([[1.0, -2.0]]), np.array([0.5, 0.0]))], "decoder": []}
    g1 = {"encoder": [(np.array([[0.1, -0.4]]), np.array([2.0, 0.0]))], "decoder": []}
    g2 = {"encoder": [(np.array([[0.3, 0.2]]), np.array([-1.0, 0.0]))], "decoder": []}
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p1, s1 = adam_update(params, g1, adam_init(params), lr, b1, b2, eps)
    # Step 1: m^ = g, v^ = g^2, so each coordinate moves by lr * sign(g) (or not at all).
    close(p1["encoder"][0][0], np.array([[1.0 - lr, -2.0 + lr]]), "W after Adam's first step",
          rtol=1e-6, hint="the first step moves each parameter by about lr; did you apply the "
                          "bias corrections m / (1 - beta1^t) and v / (1 - beta2^t)?")
    close(p1["encoder"][0][1], np.array([0.5 - lr, 0.0]), "b after Adam's first step", rtol=1e-6,
          hint="a zero gradient must leave its parameter unchanged.")
    p2, s2 = adam_update(p1, g2, s1, lr, b1, b2, eps)
    # Step 2 by hand for W[0, 0]: g = 0.1 then 0.3.
    m = b1 * (1 - b1) * 0.1 + (1 - b1) * 0.3
    v = b2 * (1 - b2) * 0.01 + (1 - b2) * 0.09
    step1 = lr * 0.1 / (np.sqrt(0.01) + eps)
    step2 = lr * (m / (1 - b1 ** 2)) / (np.sqrt(v / (1 - b2 ** 2)) + eps)
    close(p2["encoder"][0][0][0, 0], 1.0 - step1 - step2, "W[0, 0] after Adam's second step",
          rtol=1e-12, hint="m and v are running averages: keep them in the state between steps.")
    assert s2["t"] == 2, f"the state's step count t should be 2 after two steps, got {s2['t']}."

    assert params["encoder"][0][0][0, 0] == 1.0, \
        "adam_update changed the params it was given: return new arrays instead." 


def test_weight_decay_is_decoupled():
    params = {"w": np.array([2.0])}
    zero = {"w": np.array([0.0])}
    p, _ = adam_update(params, zero, adam_init(params), lr=0.1, weight_decay=0.5)
    close(p["w"], np.array([2.0 - 0.1 * 0.5 * 2.0]), "w after one AdamW step with zero gradient",
          hint="decoupled weight decay subtracts lr * weight_decay * p.")


def test_clip_by_global_norm():
    g = {"a": np.array([3.0]), "b": [np.array([4.0])]}
    assert global_norm(g) == 5.0
    clipped = clip_by_global_norm(g, 1.0)
    np.testing.assert_allclose(global_norm(clipped), 1.0)
    np.testing.assert_allclose(clipped["a"] / clipped["b"][0], 0.75)
    assert clip_by_global_norm(g, 10.0)["a"][0] == 3.0
