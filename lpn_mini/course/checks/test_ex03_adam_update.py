"""Exercise 3: adam_update, one case per thing that can go wrong."""
import numpy as onp

from .compare import close_tree, copies, fail, function, same, unchanged

SLUG = "adam_update"
# Two lessons, 5 points each. eps outside the square root: the eps = 0.5 step is in
# test_new_params, the float32 step and test_inputs_unchanged (3.5 + 0.75 + 0.75). A step
# counter that moves: test_new_state and test_two_steps_in_a_row (1.5 + 3.5).
POINTS = {"test_new_state": 1.5, "test_two_steps_in_a_row": 3.5, "test_new_params": 3.5,
          "test_float32_in_float32_out": 0.75, "test_inputs_unchanged": 0.75}
HINTS = {
    "the first step": "at t = 1 the bias corrections divide m by 1 - beta1 and v by 1 - beta2, "
                      "so the first step is about lr * sign(g); use the new t.",
    "a later step with beta1 = 0.8, beta2 = 0.99": "use the beta1 and beta2 given, in the "
                      "moments and in the bias corrections 1 - beta^t at the new t.",
    "a step with eps = 0.5": "eps is added to sqrt(v_hat), outside the square root.",
    "a step with weight_decay = 0.3": "AdamW decouples the decay: lr * weight_decay * p is "
                      "subtracted from the old p, next to the Adam step; it is not added to the "
                      "gradient (that would be L2 through the moments).",
}


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def new_params_hint(got, want, fx):
    """The hint for one parameter after one case's step: that the step went up the
    gradient where it did, else the case's own hint (the case is found by its numbers)."""
    got, want = onp.asarray(got, float), onp.asarray(want, float)
    for case in fx["cases"]:
        for old, new in zip(_leaves(fx["params"]), _leaves(case["params"])):
            if onp.shape(new) == want.shape and onp.array_equal(onp.asarray(new, float), want):
                moved, expected = got - onp.asarray(old, float), want - onp.asarray(old, float)
                if got.shape != want.shape:
                    return HINTS[case["name"]]
                if onp.mean(moved * expected < 0) > 0.5:
                    return ("the parameters moved the wrong way: a step of gradient descent "
                            "goes against the gradient, subtracting the Adam step from p.")
                if onp.max(onp.abs(got - want)) < 1e-5 * onp.max(onp.abs(want)):
                    return (f"right but for a tiny difference, the size of eps: use the eps "
                            f"given (here {case['eps']:g}), added to sqrt(v_hat).")
                return HINTS[case["name"]]
    return ""


def update(fx, case, params=None, grads=None, state=None, copy=True):
    options = {k: case[k] for k in ("lr", "beta1", "beta2", "eps", "weight_decay") if k in case}
    # Copies, so that each case starts from its own inputs even if the function changes
    # them in place (which test_inputs_unchanged reports, once).
    inputs = (params or fx["params"], grads or fx["grads"], state or case["state"])
    inputs = copies(*inputs) if copy else inputs
    out = function(SLUG)(*inputs, **options)
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], dict)):
        fail(f"adam_update for {case['name']}", "expected (new_params, new_state) with "
             f"new_state a dict, got {type(out).__name__}.")
    return out


def test_new_state(fx):
    for case in fx["cases"][:2]:
        _, state = update(fx, case)
        if set(state) != {"m", "v", "t"}:
            fail(f"the new state for {case['name']}", f"has keys {sorted(state)}, expected "
                 "['m', 't', 'v'].")
        same(state["t"], case["new_state"]["t"], f"t after {case['name']}",
             "each step counts one more: t + 1.")
        close_tree(state["m"], case["new_state"]["m"], f"m after {case['name']}:",
                   "m is the running average beta1 m + (1 - beta1) g, before bias correction.")
        close_tree(state["v"], case["new_state"]["v"], f"v after {case['name']}:",
                   "v is the running average of g^2 with beta2, before bias correction.")


def test_new_params(fx):
    for case in fx["cases"]:
        params, _ = update(fx, case)
        close_tree(params, case["params"], f"the parameters after {case['name']}:",
                   new_params_hint)


def test_two_steps_in_a_row(fx):
    case = dict(name="two steps in a row", lr=0.1, eps=1e-12)
    params, state = update(fx, case, state=fx["cases"][0]["state"])
    params, _ = update(fx, case, params=params, grads=fx["grads2"], state=state)
    close_tree(params, fx["two_steps_params"], "the parameters after two steps in a row, the "
               "second from the state the first returned:", "the new state is the next step's "
               "state: its t must count every step taken (t = 2 after two), so that the bias "
               "corrections of the second step use t = 2.")


def float32_hint(got, want, fx):
    if onp.asarray(got).dtype != onp.asarray(want).dtype:
        return "float32 parameters must stay float32: no float64 constants or arrays."
    return HINTS["a step with eps = 0.5"]


def test_float32_in_float32_out(fx):
    case = dict(name="a float32 step", lr=0.05, eps=0.5, weight_decay=0.3)
    params, _ = update(fx, case, fx["params32"], fx["grads32"], fx["state32"])
    close_tree(params, fx["out32"], "the float32 parameters after a step (eps = 0.5):",
               float32_hint, rtol=1e-5, atol=1e-6)


def test_inputs_unchanged(fx):
    case = fx["cases"][2]
    before = copies(fx["params"], fx["grads"], case["state"])
    params, _ = update(fx, case, copy=False)
    unchanged((fx["params"], fx["grads"], case["state"]), before, ("params", "grads", "state"),
              "adam_update")
    close_tree(params, case["params"], f"the parameters after {case['name']}:",
               HINTS[case["name"]])  # a point for right answers only
