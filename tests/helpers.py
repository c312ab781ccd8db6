"""Shared test helpers: small float64 models and a centred-difference gradient check."""
import json
import os
import subprocess
import sys

import numpy as np

from lpn_mini import init_params, pattern_tasks
from lpn_mini.optim import tree_leaves, tree_map

H = W = 3          # grid side
C = 4              # colours
D = 3              # latent size
HIDDEN = (7, 6)    # two hidden layers, different widths so transposes would show


def small_problem(seed=0, B=2, N=3, hidden=HIDDEN, d=D):
    """A random float64 model and a batch of tasks with non-trivial (not all-zero) grids."""
    rng = np.random.default_rng(seed)
    params = init_params(rng, (H, W), C, d, hidden)
    # Non-zero biases so every code path (and every ReLU side) is exercised.
    params = tree_map(lambda p: p + 0.1 * rng.standard_normal(p.shape), params)
    x = rng.integers(0, C, size=(B, N, H, W))
    y = rng.integers(0, C, size=(B, N, H, W))
    eps = rng.standard_normal((B, N, d))
    return rng, params, x, y, eps


def directional_fd(f, params, direction, h=1e-5):
    """Centred difference (f(p + h v) - f(p - h v)) / 2h along ``direction``."""
    plus = tree_map(lambda p, v: p + h * v, params, direction)
    minus = tree_map(lambda p, v: p - h * v, params, direction)
    return (f(plus) - f(minus)) / (2 * h)


def group_directions(rng, params):
    """One random direction per parameter group (each W and each b), zero elsewhere.

    Yields ``(name, direction)`` so that a failing check names the parameter group.
    """
    for net in params:
        for k, (W, b) in enumerate(params[net]):
            for which in ("W", "b"):
                direction = tree_map(np.zeros_like, params)
                dW = rng.standard_normal(W.shape) if which == "W" else np.zeros_like(W)
                db = rng.standard_normal(b.shape) if which == "b" else np.zeros_like(b)
                direction[net][k] = (dW, db)
                yield f"{net}[{k}].{which}", direction


def rel_err(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def check_grad_groups(f, grad_f, params, rng, tol, h=1e-5):
    """Assert that ``grad_f(params)`` matches centred differences of ``f`` in every group."""
    g = grad_f(params)
    for name, v in group_directions(rng, params):
        analytic = sum(float(np.sum(a * b)) for a, b in zip(tree_leaves(g), tree_leaves(v), strict=True))
        numeric = directional_fd(f, params, v, h)
        assert rel_err(analytic, numeric) < tol, (
            f"gradient of {name}: autograd {analytic:.10g} vs finite differences "
            f"{numeric:.10g}, relative error {rel_err(analytic, numeric):.2e} >= {tol:.0e}")


def pattern_batch(seed=0, B=4, N=3, grid=4, pattern=2, C=5):
    return pattern_tasks(np.random.default_rng(seed), B, N, grid, pattern, num_colors=C)


def _show(a):
    a = np.asarray(a, dtype=float)
    if a.size == 1:
        return f"{a.item():.6g}"
    return "[" + ", ".join(f"{v:.4g}" for v in a.ravel()[:3]) + (", ...]" if a.size > 3 else "]")


def close(got, want, what, rtol=1e-7, atol=1e-12, hint=""):
    """Assert ``got`` matches ``want`` with one line of feedback: the quantity, expected vs
    got, the relative error, and a hint at the likely mistake."""
    tail = f" Hint: {hint}" if hint else ""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: expected shape {want.shape}, got shape {got.shape}.{tail}")
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        err = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300)
        raise AssertionError(f"{what}: expected {_show(want)}, got {_show(got)} "
                             f"(relative error {err:.1e}).{tail}")


# --------------------------------------------------------------------------------------
# Comparing two computation paths. The same path repeated on one machine gives the same
# bits (resume is tested bit for bit). Two *different* paths that compute the same
# function -- NumPy vs a device array type, one BLAS thread vs two, a batch split
# differently, an AVX2 vs an AVX-512 kernel -- agree to rounding, not to the bit: a
# matrix product may sum in another order, and alignment picks another kernel. So they
# are compared with a tolerance in units of the dtype's rounding (its machine epsilon)
# relative to the array's scale.
# --------------------------------------------------------------------------------------

def rounding_tolerance(dtype, ulps):
    """``ulps`` units of rounding of ``dtype``: ``ulps * finfo(dtype).eps``."""
    return ulps * float(np.finfo(dtype).eps)


def assert_agree_to_rounding(got, want, what, ulps):
    """Assert that ``got`` equals ``want`` to within ``ulps`` roundings of ``want``'s dtype,
    measured against the array's scale (max |want|, at least 1): rounding differences of
    a matrix product are relative to the sizes of the terms summed, not to each entry, so
    an entry near 0 gets the same absolute error as its neighbours."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        raise AssertionError(f"{what}: expected {want.dtype}{want.shape}, got {got.dtype}{got.shape}.")
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1.0)
    tol = rounding_tolerance(want.dtype, ulps) * scale
    diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)), initial=0.0))
    if not diff <= tol:  # also fails on NaN
        raise AssertionError(f"{what}: the two paths differ by {diff:.3g}, more than {ulps} "
                             f"roundings of {want.dtype} at scale {scale:.3g} ({tol:.3g}).")


def decision_margin(logits):
    """The smallest gap between the largest and second-largest logit of any cell: how far
    an argmax is from a tie. Two paths that agree to rounding make the same argmax
    decisions when this gap is far above their rounding difference."""
    top2 = np.sort(np.asarray(logits), axis=-1)[..., -2:]
    return float(np.min(top2[..., 1] - top2[..., 0]))


def one_blas_thread_reproduction(folder, experiment="ood"):
    """The record of ``lpn-mini reproduce EXPERIMENT --quick`` run in a fresh process with one
    BLAS thread, written under ``folder``: the reference for runs made by worker processes
    (``--jobs``, Dask workers), which use one BLAS thread each. One thread and two are two
    computation paths; with one thread on both sides the runs follow the same path and
    their tables must agree bit for bit."""
    from lpn_mini.experiments.reproduce import BLAS_THREADS
    env = {**os.environ, **{k: "1" for k in BLAS_THREADS}, "MPLBACKEND": "Agg"}
    out = os.path.join(folder, "out")
    subprocess.run([sys.executable, "-m", "lpn_mini", "reproduce", experiment, "--quick",
                    "--out", out, "--runs-dir", os.path.join(folder, "runs")],
                   env=env, check=True, capture_output=True)
    with open(os.path.join(out, "results.json")) as f:
        return json.load(f)


# A submission for exercise 6 that looks for the reference kl_divergence in source code it
# can read and runs the first one that is not a stub. With EVERYWHERE = False it reads only
# through the library it imports (inspect.getsource, the module's file, every folder on
# sys.path): the cheat the grader's copy of the library (this exercise's answer stubbed)
# defeats. With EVERYWHERE = True it also tries every path in its environment, its command
# line and the command lines and environments of the processes that started it (and the
# folder above each):
# on Gradescope, where the grader's command line shows where the zip is, only
# running the student's code as another user defeats that.
SOURCE_THIEF = '''\
import ast, inspect, os, sys
import autograd.numpy as np
import lpn_mini.losses

EVERYWHERE = True

def _texts():
    try:
        yield inspect.getsource(lpn_mini.losses)
    except (OSError, TypeError):
        pass
    places = [os.path.dirname(lpn_mini.losses.__file__), *sys.path]
    words = [*os.environ.values(), *sys.argv] if EVERYWHERE else []
    pid = os.getppid()
    while EVERYWHERE and pid > 1:  # the processes that started this one: the grader's chain
        try:
            for what in ("cmdline", "environ"):  # another user's environ is not readable
                try:
                    words += [w.partition("=")[2] if what == "environ" else w
                              for w in open(f"/proc/{pid}/{what}").read().split("\\0")]
                except OSError:
                    pass
            pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    for word in words:
        for part in word.split(os.pathsep):
            if part.startswith("/"):
                places += [part, os.path.dirname(part)]
    for place in dict.fromkeys(places):
        for path in (os.path.join(place, "losses.py"), os.path.join(place, "lpn_mini", "losses.py"),
                     os.path.join(place, "source", "lpn_mini", "losses.py")):
            try:
                yield open(path).read()
            except OSError:
                pass

def _steal():
    for text in _texts():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "kl_divergence":
                node.decorator_list = []
                space = {"np": np}
                exec(compile(ast.Module([node], []), "stolen", "exec"), space)
                try:
                    space["kl_divergence"](np.ones(2), np.ones(2))
                except Exception:  # a stub, or the reference made unavailable
                    continue
                return space["kl_divergence"]
    return None

STOLEN = _steal()

def kl_divergence(mu, logvar):
    if STOLEN is None:
        return 0.0 * np.sum(mu, axis=-1)
    return STOLEN(mu, logvar)
'''
