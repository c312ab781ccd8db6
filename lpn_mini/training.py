"""Algorithm 2: the training loss of LPN, one function of (params, tasks, noise)."""
import dataclasses
import json
import os
import time

import autograd.numpy as np
import numpy as onp
from autograd import value_and_grad
from tqdm.auto import tqdm

from .device.allocator import keep_freed_memory
from .device.backend import get_module, to_device, to_host
from .device.blas import blas_threads, chosen_threads
from .checkpoint import load_checkpoint, remove_stale_temporaries, run_lock, save_checkpoint
from .config import RESUMABLE_KEYS
from .evaluation import eval_tasks, evaluate, methods_of, search_options
from .latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from .losses import kl_divergence, log_likelihood
from .architectures import architecture_named, check_batch, encode, init_params, options_of
from .optim import (adam_init, adam_update, clip_by_global_norm, tree_leaves, tree_unflatten,
                    warmup_lr)
from .tasks import pattern_tasks


def training_loss(params, x, y, eps, *, num_steps=0, alpha=1.0, beta=1e-4, stop_gradient=True,
                  reduce="sum", check=True, **search_options):
    """The scalar loss L of Algorithm 2 (line 14) for a batch of tasks.

    params: ``{"encoder": [...], "decoder": [...]}`` (see ``architectures.init_params``).
    x, y:   int ``(B, N, H, W)``: B tasks, N >= 2 pairs each.
    eps:    ``(B, N, d)`` standard normal noise for the reparameterization (passed in, so
            the loss is a deterministic function and ``autograd.grad`` of it is exact).
    num_steps, alpha, stop_gradient: K, the latent step size, and whether the latent
            update is a constant for the outer gradient (lines 9-11).
    beta:   weight of the KL term (eq. 11).
    reduce: ``"sum"`` or ``"mean"`` over cells in the log-likelihood.
    search_options: further options of the latent search, passed on to it unchanged
            (``optimizer``, ``clip_norm``, ``best_of_trajectory``: chapter 9; the library
            also takes ``method="sample"`` with ``noise`` for the "Sample S" training row).
    Returns a scalar: the mean over tasks and pairs of L_i.
    """
    if check:
        check_batch(params, x, y, eps)
    ### BEGIN SOLUTION
    enc, dec = params["encoder"], params["decoder"]      # x, y: checked above (check_batch)
    mu, logvar = encode(enc, x, y, check=False)          # (B, N, d)   line 4: q_phi(z | x_i, y_i)
    z = reparameterize(mu, logvar, eps)                  # (B, N, d)   lines 4-6
    z_prime = leave_one_out_mean(z)                      # (B, N, d)   lines 7-8
    z_prime = search_latents(dec, x, y, z_prime, LEAVE_ONE_OUT, num_steps=num_steps,
                             alpha=alpha, stop_gradient=stop_gradient, reduce=reduce,
                             **search_options)                         # lines 9-11
    rec = -log_likelihood(dec, x, y, z_prime, reduce, check=False)  # (B, N)  line 12, eq. 9
    kl = kl_divergence(mu, logvar)                       # (B, N)      line 12, eq. 10
    return np.mean(rec + beta * kl)                      # line 14: mean over pairs and tasks
    ### END SOLUTION


def loss_and_grad(params, x, y, eps, **options):
    """``training_loss`` and its gradient with respect to every parameter (Algorithm 2, lines
    3-14), as the training loop uses them. Same numbers as
    ``autograd.value_and_grad(training_loss)(params, x, y, eps, **options)``.

    autograd follows indexing into a nested structure one level at a time (dict, list,
    tuple), and at each level builds a zero gradient for the whole structure to add into.
    Differentiating with respect to the flat list of arrays instead, and rebuilding the
    structure from it, leaves one such level: about a tenth of a step at batch 32
    (README, "Speed").
    """
    def loss_of_leaves(leaves):
        return training_loss(tree_unflatten(params, leaves), x, y, eps, **options)

    loss, dleaves = value_and_grad(loss_of_leaves)(tree_leaves(params))
    return loss, tree_unflatten(params, dleaves)


# --------------------------------------------------------------------------------------
# The training loop: Algorithm 2 repeated, with logging, evaluation and checkpoints.
# --------------------------------------------------------------------------------------

def step_randomness(config, step, d, xp=onp):
    """The tasks, eps and (for "Sample N" training) noise of one step, seeded by (seed, step).

    Deriving each step's generator from the step number makes a resumed run draw exactly
    what an uninterrupted one would have drawn. Drawn on the host, then moved to ``xp``'s
    device.
    """
    rng = onp.random.default_rng([config.seed, 1, step])
    x, y = training_tasks(config, rng)
    eps = rng.standard_normal((config.batch_size, config.num_pairs, d)).astype(config.dtype)
    if config.train_method == "sample":
        search = search_options(config, "sample", config.latent_samples, rng, eps.shape)
        search["noise"] = to_device(search["noise"], xp)
    else:
        search = search_options(config, "grad", config.latent_steps, training=True)
    x, y, eps = (to_device(a, xp) for a in (x, y, eps))
    return x, y, eps, search


def training_tasks(config, rng):
    """One batch of training tasks ``x, y`` ``(batch_size, num_pairs, H, W)`` for ``config.task``."""
    if config.task == "arc":
        from .arc import NUM_COLORS, training_sampler
        if config.num_colors != NUM_COLORS:
            raise ValueError(f"ARC grids need num_colors = {NUM_COLORS} (0..9 and the padding "
                             f"colour), got {config.num_colors}; use --config arc.")
        return training_sampler(config.num_pairs, config.grid_size)(rng, config.batch_size)
    return pattern_tasks(rng, config.batch_size, config.num_pairs, config.grid_size,
                         config.pattern_size, config.density, config.num_colors,
                         holdout=config.holdout,  # never a held-out program
                         overhang=config.overhang)


def parameter_count(config):
    """Weights and biases of the encoder and the decoder that ``new_params`` would make."""
    return architecture_named(config.architecture).parameter_count(
        (config.grid_size, config.grid_size), config.num_colors, config.latent_dim,
        config.hidden, **options_of(config))


def _size(num_bytes):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if num_bytes < 1024 or unit == "PiB":
            return f"{num_bytes:.3g} {unit}"
        num_bytes /= 1024


def _memory():
    """The machine's memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_model_fits(config):
    """Refuse, before allocating anything, a model whose weights, gradient and Adam's two
    moments could not fit in this machine's memory (a typo such as hidden=100000000)."""
    count = parameter_count(config)
    need, memory = 4 * count * onp.dtype(config.dtype).itemsize, _memory()
    if config.device == "cpu" and memory and need > memory:
        raise ValueError(f"a model with hidden = {config.hidden}, latent_dim = "
                         f"{config.latent_dim} on {config.grid_size}x{config.grid_size} grids "
                         f"of {config.num_colors} colours has {count:.3g} parameters and needs "
                         f"{_size(need)} (weights, gradient and Adam state in {config.dtype}) "
                         f"but this machine has {_size(memory)}; choose smaller hidden widths, "
                         f"e.g. hidden=256,256.")


def new_params(config):
    """Fresh parameters for ``config`` (``check_model_fits`` first), seeded by its seed."""
    check_model_fits(config)
    rng = onp.random.default_rng([config.seed, 0])
    return init_params(rng, (config.grid_size, config.grid_size), config.num_colors,
                       config.latent_dim, config.hidden, dtype=onp.dtype(config.dtype),
                       architecture=config.architecture, **options_of(config))


def _read_metrics(path, up_to_step):
    """Lines of metrics.jsonl logged at or before ``up_to_step`` (drop what a resume redoes)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r["step"] <= up_to_step]


# What a run leaves in its directory: training (checkpoint, config, metrics), `evaluate` and
# `demo` (results and figures), `show`, and `reproduce` (summary.json).
RUN_FILES = ("checkpoint.npz", "config.json", "metrics.jsonl", "training_curve.png",
             "results.json", "results.md", "accuracy_vs_steps.png", "predictions.png",
             "show_predictions.png", "latent_plane.png", "summary.json")


def _set_aside(run_dir, echo):
    """Move what an earlier run wrote in ``run_dir`` into ``run_dir/previous`` (or
    ``previous-2``, ...), so that a fresh run does not sit beside another run's results."""
    old = [name for name in RUN_FILES if os.path.exists(os.path.join(run_dir, name))]
    if not old:
        return
    target, k = os.path.join(run_dir, "previous"), 1
    while os.path.exists(target):
        k += 1
        target = os.path.join(run_dir, f"previous-{k}")
    os.makedirs(target)
    for name in old:
        os.replace(os.path.join(run_dir, name), os.path.join(target, name))
    echo(f"starting afresh: moved the earlier run's {', '.join(old)} to {target}")


def _check_resumable(saved, config, start, run_dir):
    """A checkpoint may be resumed with more steps, other bookkeeping and other evaluation
    keys (``RESUMABLE_KEYS``), but not with keys that change what was trained."""
    changed = [k for k in dataclasses.asdict(config)
               if k not in RESUMABLE_KEYS and getattr(saved, k) != getattr(config, k)]
    if changed:
        was = ", ".join(f"{k} ({getattr(saved, k)!r} there, {getattr(config, k)!r} asked for)"
                        for k in changed)
        raise ValueError(f"{run_dir} holds a run trained with other values of {was}; these "
                         f"change what is trained, so resume it with the same values, or pass "
                         f"--no-resume or a new run directory.")
    if config.steps < start:
        raise ValueError(f"{run_dir} is trained to step {start} but steps = {config.steps}; "
                         f"ask for steps={start} or more to continue it, or pass --no-resume "
                         f"or a new run directory for a shorter run.")


def train(config, run_dir, resume=True, progress=True, echo=print):
    """Train LPN with ``config``, writing into ``run_dir``:

    - ``config.json``      the full config
    - ``checkpoint.npz``   params, Adam state, config and step (every ``checkpoint_every``)
    - ``metrics.jsonl``    one JSON line per ``log_every`` steps (loss, seconds, evaluations)

    With ``resume`` and an existing checkpoint, training continues from it and repeats
    nothing but the steps since that checkpoint; a larger ``config.steps`` extends a finished
    run, exactly as if it had been trained that long at once. Without ``resume``, what an
    earlier run left in ``run_dir`` is moved into ``run_dir/previous``. ``config.device``
    chooses where the arrays live; checkpoints and metrics are always host data. While it
    trains, ``run_dir/training.lock`` keeps a second training out (``checkpoint.run_lock``),
    and BLAS runs with ``blas.chosen_threads(config)`` threads. Returns the trained params
    (on the host).
    """
    xp = get_module(config.device)
    keep_freed_memory()  # reuse the step's freed arrays instead of page-faulting them back
    check_model_fits(config)
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise ValueError(f"the run directory {run_dir} is a file; pass a folder (new, or one "
                         f"written by `lpn-mini train`) as the run directory.")
    os.makedirs(run_dir, exist_ok=True)
    with run_lock(run_dir, echo), blas_threads(chosen_threads(config)):
        return _train_in(config, run_dir, resume, progress, echo, xp)


def _start(config, run_dir, resume, echo):
    """``(params, opt_state, start step)``: resumed from the run's checkpoint, or fresh."""
    ckpt_path = os.path.join(run_dir, "checkpoint.npz")
    if resume and os.path.exists(ckpt_path):
        params, opt_state, saved, start = load_checkpoint(ckpt_path, expected_config=config)
        _check_resumable(saved, config, start, run_dir)
        if start == config.steps:
            echo(f"{run_dir} is already trained to step {start}: nothing to do (raise steps "
                 f"to train longer, or pass --no-resume to start again)")
        else:
            echo(f"resuming {run_dir} from step {start} of {config.steps}")
        return params, opt_state, start
    if not resume:
        _set_aside(run_dir, echo)
    params = new_params(config)
    return params, adam_init(params), 0


def _train_in(config, run_dir, resume, progress, echo, xp):
    """The body of ``train``, run while ``run_dir`` is locked."""
    remove_stale_temporaries(run_dir)  # left by a checkpoint write that was killed
    ckpt_path = os.path.join(run_dir, "checkpoint.npz")
    metrics_path = os.path.join(run_dir, "metrics.jsonl")
    params, opt_state, start = _start(config, run_dir, resume, echo)
    params, opt_state = to_device(params, xp), to_device(opt_state, xp)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        f.write(config.to_json())
    rows = _read_metrics(metrics_path, start)
    with open(metrics_path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)

    d = config.latent_dim
    eval_x, eval_y = eval_tasks(config) if config.eval_every else (None, None)
    quick = [m for m in methods_of(config) if m[1] == "grad"][:1] + [("Grad 5", "grad", 5)]
    # "seconds" counts training time across resumes: it goes on from the last logged value.
    window, t0 = [], time.perf_counter() - (rows[-1].get("seconds", 0.0) if rows else 0.0)
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not progress,
               desc="train", unit="step", dynamic_ncols=True)
    for step in bar:
        x, y, eps, search = step_randomness(config, step, d, xp)
        loss, grads = loss_and_grad(params, x, y, eps, beta=config.beta,
                                    stop_gradient=config.stop_gradient,
                                    check=step == start, **search)  # Algorithm 2, lines 3-14
        loss = float(loss)  # one number to the host, for logging
        if not onp.isfinite(loss):
            raise FloatingPointError(f"the training loss became {loss} at step {step}; lower lr "
                                     f"(now {config.lr}) or latent_lr (now {config.latent_lr}).")
        grads = clip_by_global_norm(grads, config.grad_clip or None)
        lr = warmup_lr(config.lr, step, config.lr_warmup)
        params, opt_state = adam_update(params, grads, opt_state, lr,
                                        weight_decay=config.weight_decay)  # line 15
        window.append(float(loss))
        done = step + 1
        if done % config.log_every == 0 or done == config.steps:
            row = {"step": done, "loss": float(onp.mean(window)),
                   "seconds": round(time.perf_counter() - t0, 3)}
            if config.eval_every and (done % config.eval_every == 0 or done == config.steps):
                res, _ = evaluate(params, config, eval_x[:64], eval_y[:64], methods=quick)
                row.update({f"{k} exact_match": v["exact_match"] for k, v in res.items()})
            with open(metrics_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            bar.set_postfix(loss=f"{row['loss']:.3f}")
            window = []
        if done % config.checkpoint_every == 0 or done == config.steps:
            save_checkpoint(ckpt_path, to_host(params), to_host(opt_state), config, done)
    bar.close()
    return to_host(params)
