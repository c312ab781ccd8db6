"""The official code's settings as options (issue 15): the NaN-free latent Adam and clip,
global clipping, eps_root, best-of-trajectory in training, the per-cell mean likelihood,
the learning-rate warm-up, the ARC test-time latent learning rate, and the presets."""
import autograd
import numpy as np
import pytest

from lpn_mini import latent_gradient_ascent, training_loss
from lpn_mini.config import OFFICIAL, PSEUDOCODE, make_config
from lpn_mini.evaluation import search_options
from lpn_mini.latent import safe_sqrt
from lpn_mini.optim import tree_leaves, warmup_lr

from helpers import C, H, W, check_grad_groups, small_problem
from test_training import loss_with_frozen_update


def zero_latent_weights(params, coords):
    """params whose decoder ignores the latent coordinates ``coords``: their rows of the first
    layer's weight are 0, so the latent gradient of those coordinates is exactly 0."""
    W0, b0 = params["decoder"][0]
    W0 = W0.copy()
    W0[H * W * C + np.asarray(coords)] = 0.0  # the rows after the one-hot grid are z's
    return {**params, "decoder": [(W0, b0)] + list(params["decoder"][1:])}


@pytest.mark.parametrize("coords", [[0], [0, 1, 2]], ids=["one coordinate", "all coordinates"])
@pytest.mark.parametrize("options", [
    dict(),                                        # lpn-mini's defaults: per-latent clip, eps outside
    dict(clip_mode="global"),
    dict(adam_eps_root=1e-8),                      # the official setting
    dict(clip_mode="global", adam_eps_root=1e-8, best_of_trajectory=True),
], ids=["per-latent", "global", "eps_root", "official"])
def test_outer_gradient_is_finite_where_a_latent_gradient_coordinate_is_zero(coords, options):
    """Training without stop-gradient differentiates through Adam's sqrt(v) and the clip's
    norm. Where a latent-gradient coordinate is exactly 0 (or a whole latent's gradient),
    d sqrt / dv = inf meets dv / dz = 0: NaN in every outer gradient unless the square roots
    are safe at 0 (``safe_sqrt``, or eps_root inside the root as optax does)."""
    _, params, x, y, eps = small_problem(seed=7)
    params = zero_latent_weights(params, coords)
    f = lambda p: training_loss(p, x, y, eps, num_steps=2, alpha=0.3, beta=0.5,
                                stop_gradient=False, optimizer="adam", clip_norm=1.0, **options)
    for g in tree_leaves(autograd.grad(f)(params)):
        assert np.all(np.isfinite(g)), (
            f"outer gradient has {np.sum(~np.isfinite(g))} non-finite entries with the latent "
            f"coordinates {coords} ignored by the decoder (options {options}).")


def test_safe_sqrt_has_the_values_of_sqrt_and_a_finite_derivative_at_zero():
    a = np.array([0.0, 1e-300, 0.25, 4.0])
    assert np.array_equal(safe_sqrt(a), np.sqrt(a))
    d = autograd.elementwise_grad(lambda a: safe_sqrt(a))(a)
    assert d[0] == 0.0 and np.all(np.isfinite(d))
    assert np.allclose(d[2:], 0.5 / np.sqrt(a[2:]))


# Every new option that changes a differentiated path, first order (stop-gradient: the loss
# with the update held constant) and second order (through the inner loop).
NEW_PATHS = {
    "global clip": dict(optimizer="adam", clip_norm=0.05, clip_mode="global"),
    "per-latent clip": dict(optimizer="adam", clip_norm=0.05),
    "eps_root": dict(optimizer="adam", adam_eps_root=1e-3),
    "best-of-trajectory": dict(optimizer="sgd", best_of_trajectory=True),
    "mean likelihood": dict(optimizer="adam", reduce="mean"),
    "all official": dict(optimizer="adam", clip_norm=1.0, clip_mode="global", adam_eps_root=1e-8,
                         best_of_trajectory=True, reduce="mean"),
}


@pytest.mark.parametrize("stop_gradient", [True, False], ids=["stop-gradient", "second order"])
@pytest.mark.parametrize("name", list(NEW_PATHS))
def test_training_gradient_of_each_official_option(name, stop_gradient):
    options = dict(NEW_PATHS[name])
    reduce = options.pop("reduce", "sum")
    rng, params, x, y, eps = small_problem(seed=3)
    f = lambda p: training_loss(p, x, y, eps, num_steps=2, alpha=0.3, beta=0.5, reduce=reduce,
                                stop_gradient=stop_gradient, **options)
    reference = (loss_with_frozen_update(params, x, y, eps, 0.5, reduce, num_steps=2, alpha=0.3,
                                         **options) if stop_gradient else f)
    check_grad_groups(reference, autograd.grad(f), params, rng, tol=1e-6)


def test_global_clip_uses_one_norm_for_the_batch():
    """One latent with a large gradient scales every latent's step down (global), not only its
    own (per latent). Plain steps, so a step is the clipped gradient times alpha."""
    _, params, x, y, eps = small_problem(seed=2)
    z = np.random.default_rng(0).standard_normal((x.shape[0], 1, 3))
    mask = np.ones((1, x.shape[1]))
    step = lambda **kw: latent_gradient_ascent(params["decoder"], x, y, z, mask, num_steps=1,
                                               alpha=1.0, clip_norm=1e-3, **kw) - z
    per_latent, whole = step(), step(clip_mode="global")
    assert np.allclose(np.linalg.norm(per_latent, axis=-1), 1e-3)      # each latent at the bound
    assert np.isclose(np.linalg.norm(whole), 1e-3)                     # the batch at the bound
    cos = np.sum(per_latent * whole, axis=-1) / np.linalg.norm(per_latent, axis=-1) \
        / np.linalg.norm(whole, axis=-1)
    assert np.allclose(cos, 1.0)                                       # same directions


def test_warmup_is_the_official_linear_schedule():
    """optax.warmup_exponential_decay_schedule(lr / 100, lr, 99, decay_rate=1): lr / 100 at
    step 0, lr at step 99 and after; no warm-up gives lr itself."""
    assert warmup_lr(4e-4, 0, 99) == pytest.approx(4e-6)
    assert warmup_lr(4e-4, 49, 99) == pytest.approx(2e-4)
    assert warmup_lr(4e-4, 99, 99) == warmup_lr(4e-4, 5000, 99) == 4e-4
    assert warmup_lr(2e-3, 0, 0) == 2e-3


def test_presets_use_the_official_settings_and_the_pseudocode_ones_do_not():
    for name in ("paper", "official", "small", "latent2d", "ood", "arc"):
        config = make_config(name)
        for k, v in OFFICIAL.items():
            want = 0.0 if (name, k) == ("arc", "holdout") else v  # ARC: its own evaluation set
            assert getattr(config, k) == want, f"preset {name}: {k} = {getattr(config, k)}"
    assert make_config("arc").eval_latent_lr == 0.05                # paper, Table 16
    for name in ("small-pseudocode", "tiny"):  # the pseudo-code's settings (Config defaults)
        config = make_config(name)
        assert all(getattr(config, k) == v for k, v in PSEUDOCODE.items()), name
    assert make_config("small-pseudocode").holdout == OFFICIAL["holdout"]
    assert PSEUDOCODE == dict(sample_scale=1.0, likelihood="sum", train_best_of_trajectory=False,
                              latent_clip_mode="latent", adam_eps_root=0.0, lr_warmup=0,
                              weight_decay=0.0)
    assert make_config("official") == make_config("small")


def test_eval_latent_lr_is_for_test_time_search_only():
    config = make_config("small-pseudocode", overrides=["eval_latent_lr=0.05"])
    assert search_options(config, "grad", 5)["alpha"] == 0.05
    train = search_options(config, "grad", 1, training=True)
    assert train["alpha"] == config.latent_lr == 0.1
    assert train["best_of_trajectory"] is False
    assert search_options(make_config("small"), "grad", 5)["alpha"] == 0.1   # -1: latent_lr
    official = search_options(make_config("official"), "grad", 1, training=True)
    assert official["best_of_trajectory"] and official["clip_mode"] == "global"
    assert official["adam_eps_root"] == 1e-8


@pytest.mark.parametrize("override, message", [
    ("holdout=1", "'holdout' must be a fraction in [0, 1)"),
    ("holdout=-0.1", "'holdout' must be a fraction in [0, 1)"),
    ("latent_clip_mode=batch", "'latent_clip_mode' must be one of 'latent', 'global'"),
    ("adam_eps_root=-1e-8", "'adam_eps_root' must be a finite number >= 0"),
    ("lr_warmup=-1", "'lr_warmup' must be an integer >= 0"),
    ("eval_latent_lr=0", "'eval_latent_lr' must be a finite number > 0, or -1"),
])
def test_new_keys_refuse_bad_values(override, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        make_config("small", overrides=[override])


def test_holdout_needs_the_pattern_task():
    with pytest.raises(ValueError, match="holdout = 0.2 holds out Pattern programs"):
        make_config("arc", overrides=["holdout=0.2"])
