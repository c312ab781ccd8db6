"""Bad input to the public functions is one clear sentence (issue 13): what was expected,
what was given, what to do. Each case asserts the exception type and a distinctive part of
the message; valid inputs still work."""
import inspect
import pydoc

import autograd
import numpy as np
import pytest
from autograd.test_util import check_grads

import lpn_mini
from lpn_mini import (decode, encode, infer_latent, init_mlp, init_params, kl_divergence,
                      latent_gradient_ascent, latent_random_search, leave_one_out_mean,
                      leave_one_out_predict, log_likelihood, log_softmax, mlp_backward,
                      mlp_forward, one_hot, pattern_tasks, predict, reparameterize, scores,
                      search_latents, specification_log_likelihood, training_loss)
from lpn_mini.device.backend import pad_range, take_range, to_device
from lpn_mini.device.fake_device import fake_xp
from lpn_mini.losses import grid_log_likelihood, pick_colours, put_colours, sum_colours
from lpn_mini.mlp import dense, relu
from lpn_mini.model import check_batch
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm
from lpn_mini.checks import check_finite, check_grids
from helpers import C, D, H, W, small_problem

SEARCH = dict(num_steps=1, alpha=0.1)


def raises(kind, words, f, *args, **kwargs):
    """Assert that ``f(*args, **kwargs)`` raises ``kind`` with ``words`` in a one-line message."""
    with pytest.raises(kind) as info:
        f(*args, **kwargs)
    message = str(info.value)
    assert words in message, f"{words!r} not in the message {message!r}"
    assert "\n" not in message, f"more than one line: {message!r}"
    return message


# ---- predict: x_test against the specification pairs and the model -------------------

def test_predict_checks_x_test_against_the_pairs_and_the_model():
    _, params, x, y, _ = small_problem(B=3, N=3)
    out = predict(params, x, y, x[:, 0], **SEARCH)
    assert out.shape == (3, H, W) and out.min() >= 0 and out.max() < C
    raises(ValueError, "x_test must have shape (B, H, W) = (3, 3, 3): one test grid per task, of "
           "the specification grids' size; got (3, 1, 3, 3); drop its pair axis with x_test[:, 0]",
           predict, params, x, y, x[:, :1], **SEARCH)           # (3, 1, H, W) gave (3, 3, H, W)
    raises(ValueError, "x_test must have shape (B, H, W) = (3, 3, 3)", predict,
           params, x, y, x[:2, 0], **SEARCH)                    # 2 test inputs for 3 tasks
    raises(ValueError, "x_test must have shape (B, H, W)", predict,
           params, x, y, np.zeros((3, H + 1, W), int), **SEARCH)  # another grid size
    bad = x[:, 0].copy()
    bad[0, 0, 0] = 9                                            # a colour 9 for a 4-colour model
    raises(ValueError, "x_test has colours in [0, 9] but the model has C = 4 colours", predict,
           params, x, y, bad, **SEARCH)


# ---- colours outside [0, C) ---------------------------------------------------------

@pytest.mark.parametrize("colour", [-1, C])
def test_one_hot_rejects_colours_outside_the_range(colour):
    grid = np.zeros((2, H, W), int)
    assert one_hot(grid, C).shape == (2, H * W * C)
    grid[1, 2, 2] = colour
    raises(ValueError, f"grid has colours in [{min(colour, 0)}, {max(colour, 0)}]", one_hot, grid, C)
    raises(ValueError, "every cell must lie in [0, 4)", one_hot, grid, C)


@pytest.mark.parametrize("colour", [-1, C])
def test_log_likelihood_rejects_colours_outside_the_range(colour):
    rng, params, x, y, _ = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    assert np.all(np.isfinite(log_likelihood(params["decoder"], x, y, z)))
    bad = y.copy()
    bad[0, 0, 0, 0] = colour                     # -1 read the last colour, C the next cell's
    raises(ValueError, "y has colours in", log_likelihood, params["decoder"], x, bad, z)
    raises(ValueError, "x has colours in", log_likelihood, params["decoder"], bad, y, z)
    raises(ValueError, "x has colours in", decode, params["decoder"], bad, z)
    raises(ValueError, "y has colours in", encode, params["encoder"], x, bad)


def test_grids_of_the_wrong_kind():
    _, params, x, y, eps = small_problem()
    raises(TypeError, "x must be an integer array of grids, got a list", training_loss,
           params, x.tolist(), y, eps)
    raises(ValueError, "integer colours", training_loss, params, x, y.astype(float), eps)
    raises(ValueError, "a grid needs at least one row and one column", check_grids,
           np.zeros((2, 3, 0, 4), int))


# ---- training_loss -------------------------------------------------------------------

def test_training_loss_needs_eps():
    _, params, x, y, eps = small_problem()
    assert np.isfinite(training_loss(params, x, y, eps, **SEARCH))
    for check in (True, False):
        raises(TypeError, "eps must be an array of standard normal noise shaped like mu, (2, 3, 3), "
               "got None; draw it with rng.standard_normal((2, 3, 3))", training_loss,
               params, x, y, None, check=check, **SEARCH)
    raises(TypeError, "eps must be an array of standard normal noise", training_loss,
           params, x, y, eps.tolist(), **SEARCH)


def test_training_loss_needs_at_least_one_task():
    _, params, x, y, eps = small_problem()
    raises(ValueError, "x holds no tasks (B = 0 in shape (0, 3, 3, 3)); pass at least one task",
           training_loss, params, x[:0], y[:0], eps[:0], **SEARCH)


@pytest.mark.parametrize("missing", ["encoder", "decoder"])
def test_params_need_both_networks(missing):
    _, params, x, y, eps = small_problem()
    partial = {k: v for k, v in params.items() if k != missing}
    raises(ValueError, f'params has no "{missing}" network', training_loss, partial, x, y, eps)
    raises(ValueError, f'params has no "{missing}" network', infer_latent, partial, x, y)
    raises(TypeError, "params must be a dict", training_loss, [params["encoder"]], x, y, eps)
    raises(ValueError, "params[\"encoder\"][0] must be (W, b)", training_loss,
           {"encoder": [(params["encoder"][0][0], np.zeros(2))] + params["encoder"][1:],
            "decoder": params["decoder"]}, x, y, eps)


def test_encoder_and_decoder_must_fit_together():
    _, params, x, y, eps = small_problem()
    other = init_params(np.random.default_rng(1), (H, W), C + 1, D, (5,))
    raises(ValueError, "use an encoder and a decoder made together by init_params", training_loss,
           {"encoder": other["encoder"], "decoder": params["decoder"]}, x, y, eps)


@pytest.mark.parametrize("num_steps, kind, words", [
    (-1, ValueError, "num_steps (the number K of latent search steps) must be at least 0, got -1"),
    (1.5, TypeError, "num_steps (the number K of latent search steps) must be a whole number, "
                     "got the float 1.5"),
    ("2", TypeError, "must be a whole number, got the str '2'"),
])
def test_num_steps_is_a_whole_number(num_steps, kind, words):
    _, params, x, y, eps = small_problem()
    raises(kind, words, training_loss, params, x, y, eps, num_steps=num_steps, alpha=0.1)
    raises(kind, words, infer_latent, params, x, y, num_steps=num_steps, alpha=0.1)


def test_search_options_are_checked():
    rng, params, x, y, eps = small_problem()
    z = rng.standard_normal((2, 1, D))
    mask = np.ones((1, 3))
    dec = params["decoder"]
    raises(TypeError, "alpha (the latent step size) must be a number, got the str '0.1'",
           latent_gradient_ascent, dec, x, y, z, mask, num_steps=1, alpha="0.1")
    raises(ValueError, "clip_norm must be positive", latent_gradient_ascent, dec, x, y, z, mask,
           num_steps=1, alpha=0.1, clip_norm=0.0)
    raises(ValueError, "mask must have shape (M, N) = (1, 3)", latent_gradient_ascent,
           dec, x, y, z, np.ones((1, 2)), num_steps=1, alpha=0.1)
    raises(ValueError, "z must hold M latents for each of the B = 2 tasks", specification_log_likelihood,
           dec, x, y, z[0], mask)
    raises(ValueError, "noise must have shape (B, M, S, d) = (2, 1) + (S,) + (3,)", search_latents,
           dec, x, y, z, mask, method="sample", noise=rng.standard_normal((2, 1, 5, D + 1)))
    raises(ValueError, "noise must have shape (B, M, S, d)", latent_random_search,
           dec, x, y, z, mask, rng.standard_normal((2, 5, D)))
    ok = search_latents(dec, x, y, z, mask, method="sample", noise=rng.standard_normal((2, 1, 5, D)))
    assert ok.shape == z.shape


# ---- randomness, sizes and counts -----------------------------------------------------

def test_an_int_where_a_generator_is_expected():
    raises(TypeError, "rng must be a numpy.random.Generator, got the int 0; pass "
           "np.random.default_rng(0) instead", init_params, 0, (H, W), C, D, (5,))
    raises(TypeError, "pass np.random.default_rng(7) instead", pattern_tasks, 7, 3)
    raises(TypeError, "rng must be a numpy.random.Generator", init_mlp, 0, [3, 2])
    x, y = pattern_tasks(np.random.default_rng(0), 3)
    assert x.shape == y.shape == (3, 4, 10, 10)


@pytest.mark.parametrize("kw, kind, words", [
    (dict(num_colors=0), ValueError, "num_colors (the number C of colours) must be at least 1, got 0"),
    (dict(hidden=(0,)), ValueError, "hidden[0] (a hidden-layer width) must be at least 1, got 0"),
    (dict(hidden=(8, 2.5)), TypeError, "hidden[1] (a hidden-layer width) must be a whole number"),
    (dict(hidden=16), TypeError, "hidden must list the hidden-layer widths, e.g. (256, 256), got 16"),
    (dict(latent_dim=0), ValueError, "latent_dim (the latent size d) must be at least 1"),
    (dict(grid_shape=10), TypeError, "grid_shape must be a pair (H, W), got 10"),
    (dict(dtype=np.int64), TypeError, "dtype must be a floating-point type"),
])
@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_init_params_sizes(kw, kind, words, architecture):
    # Both architectures make the same checks, with the same words (checks.check_model_sizes).
    args = dict(grid_shape=(H, W), num_colors=C, latent_dim=D, hidden=(5,),
                architecture=architecture)
    raises(kind, words, init_params, np.random.default_rng(0), **{**args, **kw})


def test_init_mlp_and_pattern_tasks_counts():
    rng = np.random.default_rng(0)
    raises(ValueError, "sizes[1] (a layer width) must be at least 1, got 0", init_mlp, rng, [3, 0, 2])
    raises(TypeError, "sizes must list the layer widths", init_mlp, rng, [3])
    raises(ValueError, "num_tasks (the number B of tasks) must be at least 1, got 0",
           pattern_tasks, rng, 0)
    raises(TypeError, "num_pairs (the number N of pairs per task) must be a whole number",
           pattern_tasks, rng, 2, 2.0)
    raises(TypeError, "density (the probability that a pattern cell is coloured) must be a number",
           pattern_tasks, rng, 2, density="0.5")


# ---- latents: shapes and NaN ----------------------------------------------------------

def test_leave_one_out_mean_needs_a_pairs_axis():
    assert leave_one_out_mean(np.ones((3, 2))).shape == (3, 2)       # (N, d): one task
    raises(ValueError, "z must hold one latent per pair, shape (B, N, d), got shape (4,)",
           leave_one_out_mean, np.ones(4))


def test_log_softmax_needs_a_colour_axis():
    assert log_softmax(np.zeros(3)).shape == (3,)
    raises(ValueError, "log_softmax needs logits with a last axis of C colours, shape (..., C), "
           "got a single number", log_softmax, np.array(2.0))
    raises(ValueError, "log_softmax needs logits", log_softmax, 2.0)
    raises(ValueError, "sum_colours sums over a last axis", sum_colours, np.array(2.0))


def test_gaussian_shapes_must_match():
    rng = np.random.default_rng(0)
    mu, logvar, eps = (rng.standard_normal((2, 3)) for _ in range(3))
    assert kl_divergence(mu, logvar).shape == (2,)
    assert reparameterize(mu, logvar, eps).shape == (2, 3)
    assert reparameterize(mu, logvar, eps[None, :1]).shape == (1, 2, 3)  # broadcasting eps is fine
    raises(ValueError, "mu and logvar must have the same shape (..., d), got mu (2, 3) and logvar "
           "(2, 4)", kl_divergence, mu, rng.standard_normal((2, 4)))
    raises(ValueError, "mu and logvar must have the same shape", reparameterize,
           mu, logvar[:1, :2], eps)
    raises(ValueError, "eps must have the shape of mu and logvar, (2, 3), got (2, 4)",
           reparameterize, mu, logvar, rng.standard_normal((2, 4)))
    raises(ValueError, "eps must have the shape of mu and logvar, (2, 3), got (3, 3)",
           reparameterize, mu, logvar, rng.standard_normal((3, 3)))


def test_mlp_input_width_must_match_the_first_layer():
    rng = np.random.default_rng(0)
    layers = init_mlp(rng, [5, 4, 2])
    assert mlp_forward(layers, rng.standard_normal((3, 5))).shape == (3, 2)
    raises(ValueError, "a layer with W of shape (5, 4) takes inputs (..., 5), got shape (3, 6)",
           mlp_forward, layers, rng.standard_normal((3, 6)))
    raises(ValueError, "W of shape (3, 2) takes inputs (..., 3), got shape (3, 4)", mlp_forward,
           [layers[0], (rng.standard_normal((3, 2)), np.zeros(2))], rng.standard_normal((3, 5)))
    raises(ValueError, "dout must have the shape of the MLP's output, (3, 2), got (3, 4)",
           mlp_backward, layers, rng.standard_normal((3, 5)), np.ones((3, 4)))


def test_decode_checks_the_latents():
    rng, params, x, y, _ = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    dec = params["decoder"]
    assert decode(dec, x, z).shape == x.shape + (C,)
    raises(ValueError, "the latents have d = 4 values but the decoder takes d = 3", decode,
           dec, x, rng.standard_normal(x.shape[:2] + (D + 1,)))
    raises(ValueError, "do not broadcast", decode, dec, x, rng.standard_normal((5, D)))
    raises(ValueError, "z contains NaN or inf", decode, dec, x, z * np.nan)
    raises(ValueError, "z contains NaN or inf", log_likelihood, dec, x, y, z * np.inf)
    raises(ValueError, "y must hold grids of x's size (3, 3)", log_likelihood, dec, x,
           y[..., :2], z)
    raises(ValueError, "reduce must be 'sum' or 'mean'", log_likelihood, dec, x, y, z, "max")


def test_nan_inputs_do_not_pass_silently():
    rng, params, x, y, eps = small_problem()
    raises(ValueError, "eps contains NaN or inf; draw it with rng.standard_normal((2, 3, 3))",
           training_loss, params, x, y, eps * np.nan)
    raises(ValueError, "eps contains NaN or inf", infer_latent, params, x, y, eps * np.nan)
    broken = {"encoder": params["encoder"],
              "decoder": [(W * np.nan, b) for W, b in params["decoder"]]}
    # NaN logits would give an argmax of colour 0 everywhere: a plausible-looking grid.
    raises(ValueError, "the latent found by the search contains NaN or inf", predict,
           broken, x, y, x[:, 0], **SEARCH)
    raises(ValueError, "the latent found by the search contains NaN or inf",
           leave_one_out_predict, broken, x, y, **SEARCH)


def test_pick_colours_shapes():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, H, W, C))
    y = rng.integers(0, C, (2, H, W))
    assert grid_log_likelihood(logits, y).shape == (2,)
    raises(ValueError, "y of shape (2, 3, 2) does not fit logits of shape (2, 3, 3, 4)",
           grid_log_likelihood, logits, y[..., :2])


# ---- scores and inference -------------------------------------------------------------

def test_scores_of_empty_and_mismatched_arrays():
    grids = np.zeros((2, H, W), int)
    assert scores(grids, grids) == {"exact_match": 1.0, "cell_accuracy": 1.0}
    raises(ValueError, "there is nothing to score: prediction and target of shape (0, 3, 3) hold "
           "no cells", scores, grids[:0], grids[:0])
    raises(ValueError, "prediction and target must have the same shape (..., H, W), one predicted "
           "grid per target grid, got (2, 3, 3) and (2, 3, 2)", scores, grids, grids[..., :2])
    raises(ValueError, "must have the same shape", scores, np.zeros(3), np.zeros(3))
    raises(TypeError, "prediction must be an array", scores, [[0]], grids)


def test_infer_latent_needs_a_specification_pair():
    _, params, x, y, _ = small_problem()
    assert infer_latent(params, x[:, :1], y[:, :1], **SEARCH).shape == (2, D)
    raises(ValueError, "each task needs at least one specification pair to infer its latent from, "
           "got N = 0", infer_latent, params, x[:, :0], y[:, :0], **SEARCH)
    raises(ValueError, "at least 2 pairs (leave-one-out", leave_one_out_predict,
           params, x[:, :1], y[:, :1])


# ---- the optimizer --------------------------------------------------------------------

def test_adam_and_clipping_arguments():
    _, params, *_ = small_problem()
    state = adam_init(params)
    grads = adam_init(params)["m"]
    new, _ = adam_update(params, grads, state, 1e-3)
    raises(ValueError, "the nested structures do not match: a dict with keys ['decoder', "
           "'encoder'] met a dict with keys ['encoder']", adam_update,
           params, {"encoder": grads["encoder"]}, state, 1e-3)
    raises(ValueError, "the nested structures do not match: a list of 3 met a list of 2",
           adam_update, params, {**grads, "decoder": grads["decoder"][:2]}, state, 1e-3)
    raises(ValueError, "state must be Adam's state with keys 'm', 'v' and 't'", adam_update,
           params, grads, grads, 1e-3)
    raises(TypeError, "got a list", adam_update, params, grads, [state], 1e-3)
    raises(ValueError, "lr (the learning rate) must be a finite number >= 0, got -0.1",
           adam_update, params, grads, state, -0.1)
    raises(ValueError, "beta2 must lie in [0, 1), got 1.0", adam_update, params, grads, state,
           1e-3, beta2=1.0)
    raises(ValueError, "max_norm must be positive", clip_by_global_norm, grads, 0.0)


# ---- checks on autograd boxes and on device arrays -------------------------------------

def test_checks_see_through_autograd_boxes_and_keep_second_order_gradients():
    rng, params, x, y, eps = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    # Gradients with respect to params (DictBox, SequenceBox) and z (ArrayBox), second order too.
    g = autograd.grad(lambda p: log_likelihood(p["decoder"], x, y, z).sum())(params)
    assert np.all(np.isfinite(g["decoder"][0][0]))
    check_grads(lambda z: log_likelihood(params["decoder"], x, y, z), modes=["rev"], order=2)(z)
    check_grads(lambda mu: kl_divergence(mu, mu).sum() + reparameterize(mu, mu, eps).sum(),
                modes=["rev"], order=2)(z)
    check_grads(lambda z: leave_one_out_mean(z) ** 2, modes=["rev"], order=2)(z)
    with pytest.raises(ValueError, match="z contains NaN or inf"):
        autograd.grad(lambda z: log_likelihood(params["decoder"], x, y, z).sum())(z * np.nan)


def test_value_checks_run_on_the_device_without_copying_arrays():
    _, params, x, y, eps = small_problem()
    params, x, y, eps = (to_device(t, fake_xp) for t in (params, x, y, eps))
    check_batch(params, x, y, eps)                   # min/max and isfinite on the fake device
    bad = y + 1                                      # colours 1..C: C is out of range
    raises(ValueError, "y has colours in [1, 4] but the model has C = 4 colours", check_batch,
           params, x, bad, eps)
    raises(ValueError, "eps contains NaN or inf", check_batch, params, x, y, eps * np.nan)
    raises(ValueError, "grid has colours in [1, 4]", one_hot, bad, C)
    raises(ValueError, "z contains NaN", check_finite, eps * np.nan, "z")
    raises(ValueError, "x contains NaN or inf", check_grids, eps * np.nan)


# ---- help() and inspect show the real signatures ----------------------------------------

PRIMITIVES = [log_softmax, sum_colours, pick_colours, put_colours, dense, relu, take_range, pad_range]
CHECKED = [reparameterize, kl_divergence, leave_one_out_mean, log_likelihood, mlp_backward,
           adam_update]


@pytest.mark.parametrize("f", PRIMITIVES + CHECKED, ids=lambda f: f.__name__)
def test_help_shows_the_real_signature_and_docstring(f):
    raw = getattr(f, "fun", None) or f.__wrapped__      # what the library wrote
    assert inspect.signature(f) == inspect.signature(raw)
    assert "args" not in str(inspect.signature(f)) and "called_by_autograd" not in str(inspect.signature(f))
    assert f.__doc__ == raw.__doc__ and f.__doc__
    assert f.__module__.startswith("lpn_mini.") and f.__name__ == raw.__name__
    # help() shows the real signature. pydoc lays a long one out over several lines on
    # Python 3.13+ (one parameter a line, a trailing comma), so compare without layout.
    text = pydoc.render_doc(f, renderer=pydoc.plaintext)
    assert f"{f.__name__}{_no_layout(inspect.signature(raw))}" in _no_layout(text)


def _no_layout(text):
    """``text`` without whitespace and without a comma before a closing parenthesis."""
    return "".join(str(text).split()).replace(",)", ")")


def test_no_layout_compares_a_wrapped_signature_with_a_one_line_one():
    one_line = "adam_update(params, grads, state, lr, beta1=0.9)"
    wrapped = "adam_update(\n    params,\n    grads,\n    state,\n    lr,\n    beta1=0.9,\n)"
    assert _no_layout(one_line) == _no_layout(wrapped)
    assert _no_layout(one_line) != _no_layout(wrapped.replace("lr", "*args"))


def test_every_primitive_of_the_library_keeps_its_signature():
    """A new ``@primitive`` in lpn-mini should use ``backend.primitive`` (autograd's, signature
    kept)."""
    import autograd.extend
    found = []
    for module in (lpn_mini.device.backend, lpn_mini.mlp, lpn_mini.losses, lpn_mini.model, lpn_mini.latent):
        for name, f in vars(module).items():
            if getattr(f, "_is_autograd_primitive", False) and getattr(f, "__module__", "") == module.__name__:
                found.append(name)
                assert "called_by_autograd_dispatcher" not in str(inspect.signature(f)), name
    assert {"log_softmax", "sum_colours", "pick_colours", "put_colours", "dense", "relu",
            "take_range", "pad_range"} <= set(found)
    assert autograd.extend.primitive is not lpn_mini.device.backend.primitive


def test_tree_unflatten_and_the_mask_count():
    from lpn_mini.latent import leave_one_out_mask
    from lpn_mini.optim import tree_leaves, tree_unflatten
    _, params, *_ = small_problem()
    leaves = tree_leaves(params)
    assert all(a is b for a, b in zip(tree_leaves(tree_unflatten(params, leaves)), leaves))
    raises(ValueError, "like holds 12 arrays but 11 leaves were given", tree_unflatten,
           params, leaves[:-1])
    raises(ValueError, "like holds 12 arrays but 13 leaves were given", tree_unflatten,
           params, leaves + leaves[:1])
    assert leave_one_out_mask(3).shape == (3, 3)
    raises(ValueError, "N (the number of pairs) must be at least 1, got 0", leave_one_out_mask, 0)


def test_a_one_row_mask_weighs_the_pairs_alike_for_every_latent():
    rng, params, x, y, _ = small_problem()
    z = rng.standard_normal((2, 4, D))
    dec = params["decoder"]
    full = specification_log_likelihood(dec, x, y, z, np.ones((4, 3)))
    assert np.allclose(specification_log_likelihood(dec, x, y, z, np.ones((1, 3))), full)
    noise = rng.standard_normal((2, 4, 5, D))
    assert np.allclose(latent_random_search(dec, x, y, z, np.ones((1, 3)), noise),
                       latent_random_search(dec, x, y, z, np.ones((4, 3)), noise))
