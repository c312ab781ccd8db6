"""The reference numbers the graded checks compare with, made once from the library
(instructor's edition only: the handout leaves this file out, with its seeds and shapes).

The checks in ``lpn_mini/course/checks/`` never run code that computes an answer: they
call the student's function on stored inputs, and the grader compares what comes back with
stored outputs and stored gradients. This module makes those numbers with the library's own
(reference) functions and writes them as JSON, one file per exercise and set, split in two
(``fixtures.py`` reads them):

- ``fixtures/{visible,hidden}/SLUG.json``: the **inputs**, what the grading child (the
  process that runs the student's code) loads; each expected output in them is only a
  placeholder with its shape and dtype;
- ``fixtures/expected-{visible,hidden}/SLUG.json``: the **expected outputs**, which only the
  grader's own process loads (``OUTPUTS`` below says which entries they are).

The visible set is what students may see; the hidden set (other seeds, other shapes) is
kept for the instructor's grading.

    python -m lpn_mini.course.makers            # rewrite both sets in place

Regenerate after changing a reference solution or a maker below; ``tests/test_grading_checks.py``
fails when the committed files no longer agree (to rounding) with what the library makes.

Every gradient is that of ``sum(r * f(...))`` for a stored random cotangent ``r`` (the
scalar itself where f is a scalar), with respect to every differentiable argument.
Values are chosen so that plausible wrong formulas cannot coincide with the right one:
logvar away from 0 (so exp(logvar) and exp(logvar / 2) differ), means far from 0, masks
with unequal weights, non-default Adam hyperparameters, a weight decay where coupled L2
and decoupled decay differ, a search whose best latent is not its last.
"""
import json
import os
import sys

import autograd.numpy as np
import numpy as onp
from autograd import grad

from lpn_mini import init_params
from lpn_mini.inference import infer_latent
from lpn_mini.latent import latent_ascent_step, leave_one_out_mean, reparameterize
from lpn_mini.losses import grid_log_likelihood, kl_divergence, log_likelihood, log_softmax
from lpn_mini.mlp import mlp_backward, mlp_forward
from lpn_mini.optim import adam_update, tree_map
from lpn_mini.training import training_loss

from .exercises import by_slug
from .fixtures import FOLDER, encode, split

VISIBILITIES = ("visible", "hidden")
SEEDS = {"visible": 1000, "hidden": 2000}  # + the exercise's offset below
# Fixed per exercise (the numbers they had when the fixtures were first made), so that
# renumbering the exercises does not change their fixtures.
SEED_OFFSETS = {"mlp_forward": 1, "mlp_backward": 2, "reparameterize": 3, "kl_divergence": 4,
                "log_likelihood": 5, "leave_one_out_mean": 6, "latent_ascent_step": 7,
                "training_loss": 8, "adam_update": 9, "infer_latent": 10}
# The sizes of each set: the hidden set also differs in shape, so that an answer shaped
# to the visible inputs does not carry over.
SIZES = {"visible": dict(B=2, N=3, H=3, W=3, C=4, d=3, hidden=(7, 6)),
         "hidden": dict(B=3, N=4, H=2, W=3, C=5, d=2, hidden=(5, 8))}


# ---------------------------------------------------------------------------------------
# Helpers for the makers below.
# ---------------------------------------------------------------------------------------

def vjp(f, args, r):
    """The gradient of sum(r * f(args)) with respect to ``args`` (a tuple, list or dict)."""
    return grad(lambda a: np.sum(r * f(a)))(args)


def model(rng, s, dtype=onp.float64):
    """A small random model with non-zero biases (every ReLU side is exercised)."""
    params = init_params(rng, (s["H"], s["W"]), s["C"], s["d"], s["hidden"], dtype=dtype)
    return tree_map(lambda p: (p + 0.1 * rng.standard_normal(p.shape)).astype(dtype), params)


def grids(rng, s, shape):
    return rng.integers(0, s["C"], size=shape + (s["H"], s["W"]))


def layers_of(rng, widths, dtype=onp.float64):
    return [(rng.standard_normal((a, b)).astype(dtype) / onp.sqrt(a),
             rng.standard_normal(b).astype(dtype)) for a, b in zip(widths[:-1], widths[1:])]


def f32(tree):
    return tree_map(lambda a: onp.asarray(a, onp.float32), tree)


# ---------------------------------------------------------------------------------------
# One maker per exercise: (rng, sizes) -> the dict its checks read.
# ---------------------------------------------------------------------------------------

def make_mlp_forward(rng, s):
    widths = (5, *s["hidden"], 4)
    layers, h = layers_of(rng, widths), rng.standard_normal((2, 3, widths[0]))
    r = rng.standard_normal((2, 3, widths[-1]))
    dlayers, dh = vjp(lambda a: mlp_forward(*a), (layers, h), r)
    one = layers_of(rng, (5, 4))
    l32, h32 = f32(layers), h.astype(onp.float32)
    return dict(layers=layers, h=h, out=mlp_forward(layers, h), r=r, dlayers=dlayers, dh=dh,
                one_layer=one, one_out=mlp_forward(one, h),
                layers32=l32, h32=h32, out32=mlp_forward(l32, h32),
                out_of_one=mlp_forward(layers, h[:1, :1]))                   # (1, 1, fan_out)


def make_mlp_backward(rng, s):
    widths = (5, *s["hidden"], 4)
    layers, h = layers_of(rng, widths), rng.standard_normal((2, 3, widths[0]))
    dout = rng.standard_normal((2, 3, widths[-1]))
    dlayers, dh = mlp_backward(layers, h, dout)
    one = layers_of(rng, (5, 4))
    one_dlayers, one_dh = mlp_backward(one, h, dout)
    l32, h32, d32 = f32(layers), h.astype(onp.float32), dout.astype(onp.float32)
    dl32, dh32 = mlp_backward(l32, h32, d32)
    return dict(layers=layers, h=h, dout=dout, dlayers=dlayers, dh=dh, one_layer=one,
                one_dlayers=one_dlayers, one_dh=one_dh, layers32=l32, h32=h32, dout32=d32,
                dlayers32=dl32, dh32=dh32)


def make_reparameterize(rng, s):
    shape = (s["B"], s["N"], s["d"])
    mu = 2.0 + rng.standard_normal(shape)
    logvar = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)  # |logvar| >= 0.5
    eps = rng.standard_normal(shape)
    r = rng.standard_normal(shape)
    dmu, dlogvar, deps = vjp(lambda a: reparameterize(*a), (mu, logvar, eps), r)
    m32, l32, e32 = (a.astype(onp.float32) for a in (mu, logvar, eps))
    return dict(mu=mu, logvar=logvar, eps=eps, z=reparameterize(mu, logvar, eps), r=r, dmu=dmu,
                dlogvar=dlogvar, deps=deps, mu32=m32, logvar32=l32, eps32=e32,
                z32=reparameterize(m32, l32, e32),
                z_of_one=reparameterize(mu[:1, :1], logvar[:1, :1], eps[:1, :1]))  # (1, 1, d)


def make_kl_divergence(rng, s):
    shape = (s["B"], s["N"], s["d"] + 2)
    mu = 1.0 + rng.standard_normal(shape)
    logvar = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    r = rng.standard_normal(shape[:-1])
    dmu, dlogvar = vjp(lambda a: kl_divergence(*a), (mu, logvar), r)
    m32, l32 = mu.astype(onp.float32), logvar.astype(onp.float32)
    return dict(mu=mu, logvar=logvar, kl=kl_divergence(mu, logvar), r=r, dmu=dmu,
                dlogvar=dlogvar, mu32=m32, logvar32=l32, kl32=kl_divergence(m32, l32),
                kl_of_one=kl_divergence(mu[:1, :1], logvar[:1, :1]))               # (1, 1)


def make_log_likelihood(rng, s):
    B, N, H, W, C = s["B"], s["N"], s["H"], s["W"], s["C"]
    logits = 3.0 * rng.standard_normal((B, H, W, C))
    r = rng.standard_normal(logits.shape)
    huge = 1e4 * (1.0 + rng.uniform(size=(2, C)))      # exp(1e4) overflows without the shift
    y = rng.integers(0, C, size=(B, H, W))
    out = dict(logits=logits, log_softmax=log_softmax(logits), r=r,
               dlog_softmax=vjp(log_softmax, logits, r), huge=huge, huge_out=log_softmax(huge),
               logits32=logits.astype(onp.float32),
               log_softmax32=log_softmax(logits.astype(onp.float32)), y=y, rb=rng.standard_normal(B))
    dec = model(rng, s)["decoder"]
    x, yy, z = grids(rng, s, (B, N)), grids(rng, s, (B, N)), rng.standard_normal((B, N, s["d"]))
    out.update(decoder=dec, x=x, yy=yy, z=z, rl=rng.standard_normal((B, N)))
    for reduce in ("sum", "mean"):
        out[f"grid_{reduce}"] = grid_log_likelihood(logits, y, reduce)
        out[f"dgrid_{reduce}"] = vjp(lambda a: grid_log_likelihood(a, y, reduce), logits, out["rb"])
        out[f"ll_{reduce}"] = log_likelihood(dec, x, yy, z, reduce)
        out[f"dll_{reduce}"] = vjp(lambda a: log_likelihood(a[0], x, yy, a[1], reduce), (dec, z),
                                   out["rl"])
    out["grid_of_one"] = grid_log_likelihood(logits[:1], y[:1], "sum")         # (1,)
    out["ll_of_one"] = log_likelihood(dec, x[:1], yy[:1], z[:1], "sum")       # (1, N)
    return out


def make_leave_one_out_mean(rng, s):
    z = 1.0 + rng.standard_normal((s["B"], s["N"] + 1, s["d"]))
    r = rng.standard_normal(z.shape)
    z2 = rng.standard_normal((s["B"], 2, s["d"]))
    return dict(z=z, out=leave_one_out_mean(z), r=r, dz=vjp(leave_one_out_mean, z, r), z2=z2,
                out2=leave_one_out_mean(z2), z32=z.astype(onp.float32),
                out32=leave_one_out_mean(z.astype(onp.float32)),
                out_of_one=leave_one_out_mean(z[:1]))                             # (1, N + 1, d)


def make_latent_ascent_step(rng, s):
    B, N, M, d = s["B"], s["N"], 2, s["d"]
    dec = model(rng, s)["decoder"]
    x, y = grids(rng, s, (B, N)), grids(rng, s, (B, N))
    z = rng.standard_normal((B, M, d))
    mask = rng.uniform(0.2, 2.0, (M, N))               # unequal weights: not a plain mean
    r = rng.standard_normal(z.shape)
    alpha = 0.3
    out = dict(decoder=dec, x=x, y=y, z=z, mask=mask, alpha=alpha, r=r)
    for reduce in ("sum", "mean"):
        out[f"step_{reduce}"] = latent_ascent_step(dec, x, y, z, mask, alpha, reduce=reduce)
        for sg in (True, False):
            step = lambda a: latent_ascent_step(a[0], x, y, a[1], mask, alpha, stop_gradient=sg,
                                                reduce=reduce)
            out[f"grad_{reduce}_{'sg' if sg else 'nosg'}"] = vjp(step, (dec, z), r)
    out["step_of_one"] = latent_ascent_step(dec, x[:1], y[:1], z[:1], mask, alpha)  # (1, M, d)
    return out


def make_training_loss(rng, s):
    B, N = s["B"], s["N"]
    params = model(rng, s)
    x, y = grids(rng, s, (B, N)), grids(rng, s, (B, N))
    eps = rng.standard_normal((B, N, s["d"]))
    cases = [dict(num_steps=0, beta=0.0),                                         # reconstruction
             dict(num_steps=0, beta=1.5),                                         # with the KL
             dict(num_steps=2, alpha=0.3, beta=0.5),                              # search, sg
             dict(num_steps=2, alpha=0.3, beta=0.5, stop_gradient=False),
             dict(num_steps=1, alpha=0.5, beta=0.5, reduce="mean", stop_gradient=False),
             dict(num_steps=1, alpha=0.5, beta=0.5, reduce="mean"),
             # the official search's options, which training_loss passes on to search_latents
             dict(num_steps=2, alpha=0.3, beta=0.5, search=dict(
                 optimizer="adam", clip_norm=0.5, clip_mode="global", best_of_trajectory=True))]
    for case in cases:
        options = {k: v for k, v in case.items() if k != "search"}
        options.update(case.get("search", {}))
        f = lambda a: training_loss(a[0], x, y, a[1], **options)
        case["loss"] = onp.asarray(f((params, eps)))
        case["dparams"], case["deps"] = vjp(f, (params, eps), 1.0)
    p32, e32 = f32(params), eps.astype(onp.float32)
    return dict(params=params, x=x, y=y, eps=eps, cases=cases, params32=p32, eps32=e32,
                loss32=onp.asarray(training_loss(p32, x, y, e32, num_steps=1, alpha=0.3)))


def make_adam_update(rng, s):
    shapes = {"w": [(3, 4), (4,)], "b": (s["d"] + 2,)}
    draw = lambda: {"w": [rng.standard_normal(shapes["w"][0]), rng.standard_normal(shapes["w"][1])],
                    "b": (rng.standard_normal(shapes["b"]),)}
    params, grads = draw(), tree_map(lambda g: onp.sign(g) * (0.5 + onp.abs(g)), draw())
    fresh = {"m": tree_map(onp.zeros_like, params), "v": tree_map(onp.zeros_like, params), "t": 0}
    later = {"m": tree_map(lambda p: 0.3 * p, draw()), "v": tree_map(lambda p: 0.5 * p * p, draw()),
             "t": 3}
    # eps = 1e-12 where eps is not what the case is about (|g| >= 0.5): where it sits, inside
    # or outside the square root, then changes nothing at the checks' tolerance.
    cases = [dict(name="the first step", state=fresh, lr=0.1, eps=1e-12),
             dict(name="a later step with beta1 = 0.8, beta2 = 0.99", state=later, lr=0.05,
                  beta1=0.8, beta2=0.99, eps=1e-12),
             dict(name="a step with eps = 0.5", state=later, lr=0.05, eps=0.5),
             dict(name="a step with weight_decay = 0.3", state=later, lr=0.05, eps=1e-12,
                  weight_decay=0.3)]
    for case in cases:
        options = {k: v for k, v in case.items() if k not in ("name", "state")}
        case["params"], case["new_state"] = adam_update(params, grads, case["state"], **options)
    p32, g32, s32 = f32(params), f32(grads), {"m": f32(later["m"]), "v": f32(later["v"]), "t": 3}
    # Two steps in a row, the second from the state the first returned (drawn last, so that
    # the numbers above stay those of the first fixtures).
    grads2 = tree_map(lambda g: onp.sign(g) * (0.5 + onp.abs(g)), draw())
    first, state = adam_update(params, grads, fresh, 0.1, eps=1e-12)
    return dict(params=params, grads=grads, cases=cases, params32=p32, grads32=g32, state32=s32,
                out32=adam_update(p32, g32, s32, 0.05, eps=0.5, weight_decay=0.3)[0],
                grads2=grads2,
                two_steps_params=adam_update(first, grads2, state, 0.1, eps=1e-12)[0])


def make_infer_latent(rng, s):
    B, N = s["B"], s["N"]
    params = model(rng, s)
    x, y = grids(rng, s, (B, N)), grids(rng, s, (B, N))
    eps = rng.standard_normal((B, N, s["d"]))
    cases = [dict(name="eps=None, num_steps=0", eps=None),
             dict(name="with eps, num_steps=0", eps=eps),
             dict(name="with eps, num_steps=2, alpha=0.3", eps=eps, num_steps=2, alpha=0.3),
             dict(name="best_of_trajectory=True", eps=eps, num_steps=3, alpha=4.0,
                  best_of_trajectory=True),
             dict(name="best_of_trajectory=False", eps=eps, num_steps=3, alpha=4.0,
                  best_of_trajectory=False)]
    for case in cases:
        options = {k: v for k, v in case.items() if k not in ("name", "eps")}
        case["z"] = infer_latent(params, x, y, case["eps"], **options)
    best, last = cases[-2]["z"], cases[-1]["z"]
    assert onp.abs(best - last).max() > 1e-3, "choose a search whose best latent is not its last"
    r = rng.standard_normal((B, s["d"]))
    f = lambda a: infer_latent(a[0], x, y, a[1], num_steps=1, alpha=0.3)
    dparams, deps = vjp(f, (params, eps), r)
    p32, e32 = f32(params), eps.astype(onp.float32)
    one = infer_latent(params, x[:1], y[:1], eps[:1], num_steps=2, alpha=0.3)  # B = 1: (1, d)
    return dict(params=params, x=x, y=y, eps=eps, cases=cases, r=r, dparams=dparams, deps=deps,
                params32=p32, eps32=e32, z32=infer_latent(p32, x, y, e32, num_steps=2, alpha=0.3),
                z_one=one)


MAKERS = {"mlp_forward": make_mlp_forward, "mlp_backward": make_mlp_backward,
          "reparameterize": make_reparameterize, "kl_divergence": make_kl_divergence,
          "log_likelihood": make_log_likelihood, "leave_one_out_mean": make_leave_one_out_mean,
          "latent_ascent_step": make_latent_ascent_step, "training_loss": make_training_loss,
          "adam_update": make_adam_update, "infer_latent": make_infer_latent}


def make(slug, visibility):
    """The fixture dict of one exercise and visibility, computed now from the library."""
    rng = onp.random.default_rng(SEEDS[visibility] + SEED_OFFSETS[slug])
    return MAKERS[slug](rng, SIZES[visibility])


# The entries of each maker's dict that are expected outputs (the rest are inputs); "*"
# stands for any list index.
OUTPUTS = {
    "mlp_forward": ("out", "dlayers", "dh", "one_out", "out32", "out_of_one"),
    "mlp_backward": ("dlayers", "dh", "one_dlayers", "one_dh", "dlayers32", "dh32"),
    "reparameterize": ("z", "dmu", "dlogvar", "deps", "z32", "z_of_one"),
    "kl_divergence": ("kl", "dmu", "dlogvar", "kl32", "kl_of_one"),
    "log_likelihood": ("log_softmax", "dlog_softmax", "huge_out", "log_softmax32", "grid_sum",
                       "grid_mean", "dgrid_sum", "dgrid_mean", "ll_sum", "ll_mean", "dll_sum",
                       "dll_mean", "grid_of_one", "ll_of_one"),
    "leave_one_out_mean": ("out", "dz", "out2", "out32", "out_of_one"),
    "latent_ascent_step": ("step_sum", "step_mean", "grad_sum_sg", "grad_sum_nosg",
                           "grad_mean_sg", "grad_mean_nosg", "step_of_one"),
    "training_loss": ("cases/*/loss", "cases/*/dparams", "cases/*/deps", "loss32"),
    "adam_update": ("cases/*/params", "cases/*/new_state", "out32", "two_steps_params"),
    "infer_latent": ("cases/*/z", "dparams", "deps", "z32", "z_one"),
}


def write_fixtures(folder=FOLDER, which=VISIBILITIES, slugs=None):
    """Compute and write every fixture file, inputs and expected outputs apart; return the
    paths written."""
    paths = []
    for visibility in which:
        for slug in slugs or MAKERS:
            inputs, expected = split(make(slug, visibility), OUTPUTS[slug])
            for sub, data in ((visibility, inputs), (f"expected-{visibility}", expected)):
                os.makedirs(os.path.join(folder, sub), exist_ok=True)
                path = os.path.join(folder, sub, f"{slug}.json")
                with open(path, "w") as f:
                    json.dump(encode(data), f, separators=(",", ":"))
                    f.write("\n")
                paths.append(path)
    return paths


def write_compared(folder=FOLDER, which=VISIBILITIES, slugs=None):
    """Grade each reference solution on the fixtures in ``folder`` and store, in each
    expected file, which outputs each check compares (``grader.COMPARED``): a check that
    leaves one out (code that tampers with the checks) earns nothing."""
    import tempfile
    from pathlib import Path

    from .exercises import render
    from .grader import COMPARED, grade_file
    for slug in slugs or MAKERS:
        exercise = by_slug(slug)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / exercise.filename
            path.write_text(render(exercise, solutions=True))
            seen = {}
            result = grade_file(exercise, path, edition_name="instructor", expected_dir=folder,
                                collect=seen)
        assert result.total and result.passed == result.total, (slug, result.feedback)
        for visibility in which:
            file = os.path.join(folder, f"expected-{visibility}", f"{slug}.json")
            with open(file) as f:
                data = json.load(f)
            data[COMPARED] = {k: v for k, v in seen.items() if k.endswith(f"[{visibility}]")}
            with open(file, "w") as f:
                json.dump(data, f, separators=(",", ":"))
                f.write("\n")


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else FOLDER
    for written in write_fixtures(where):
        print("wrote", written)
    write_compared(where)
    print("wrote which outputs each check compares")
