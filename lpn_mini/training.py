"""Algorithm 2: the training loss of LPN, one function of (params, tasks, noise)."""
import dataclasses
import json
import os
import time

import autograd.numpy as np
import numpy as onp
from autograd import value_and_grad
from tqdm.auto import tqdm

from .allocator import keep_freed_memory
from .backend import get_module, to_device, to_host
from .checkpoint import load_checkpoint, save_checkpoint
from .evaluation import eval_tasks, evaluate, methods_of, search_options
from .latent import LEAVE_ONE_OUT, leave_one_out_mean, reparameterize, search_latents
from .losses import kl_divergence, log_likelihood
from .model import check_batch, encode, init_params
from .optim import adam_init, adam_update, clip_by_global_norm, tree_leaves, tree_unflatten
from .tasks import pattern_tasks


def training_loss(params, x, y, eps, *, num_steps=0, alpha=1.0, beta=1e-4, stop_gradient=True,
                  reduce="sum", check=True, **search_options):
    """The scalar loss L of Algorithm 2 (line 14) for a batch of tasks.

    params: ``{"encoder": [...], "decoder": [...]}`` (see ``model.init_params``).
    x, y:   int ``(B, N, H, W)``: B tasks, N >= 2 pairs each.
    eps:    ``(B, N, d)`` standard normal noise for the reparameterization (passed in, so
            the loss is a deterministic function and ``autograd.grad`` of it is exact).
    num_steps, alpha, stop_gradient: K, the latent step size, and whether the latent
            update is a constant for the outer gradient (lines 9-11).
    beta:   weight of the KL term (eq. 11).
    reduce: ``"sum"`` or ``"mean"`` over cells in the log-likelihood.
    search_options: passed to ``latent.search_latents`` (``method="sample"`` with ``noise``
            for the "Sample N" training row, ``optimizer``, ``clip_norm``,
            ``best_of_trajectory``).
    Returns a scalar: the mean over tasks and pairs of L_i.
    """
    if check:
        check_batch(params, x, y, eps)
    ### BEGIN SOLUTION
    enc, dec = params["encoder"], params["decoder"]
    mu, logvar = encode(enc, x, y)                       # (B, N, d)   line 4: q_phi(z | x_i, y_i)
    z = reparameterize(mu, logvar, eps)                  # (B, N, d)   lines 4-6
    z_prime = leave_one_out_mean(z)                      # (B, N, d)   lines 7-8
    z_prime = search_latents(dec, x, y, z_prime, LEAVE_ONE_OUT, num_steps=num_steps,
                             alpha=alpha, stop_gradient=stop_gradient, reduce=reduce,
                             **search_options)                         # lines 9-11
    rec = -log_likelihood(dec, x, y, z_prime, reduce)    # (B, N)      line 12, eq. 9
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
        search = search_options(config, "sample", config.train_samples, rng, eps.shape)
        search["noise"] = to_device(search["noise"], xp)
    else:
        search = search_options(config, "grad", config.train_steps)
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
                         config.pattern_size, config.density, config.num_colors)


def new_params(config):
    rng = onp.random.default_rng([config.seed, 0])
    return init_params(rng, (config.grid_size, config.grid_size), config.num_colors,
                       config.latent_dim, config.hidden, dtype=onp.dtype(config.dtype))


def _read_metrics(path, up_to_step):
    """Lines of metrics.jsonl logged at or before ``up_to_step`` (drop what a resume redoes)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r["step"] <= up_to_step]


def train(config, run_dir, resume=True, progress=True):
    """Train LPN with ``config``, writing into ``run_dir``:

    - ``config.json``      the full config
    - ``checkpoint.npz``   params, Adam state, config and step (every ``checkpoint_every``)
    - ``metrics.jsonl``    one JSON line per ``log_every`` steps (loss, seconds, evaluations)

    With ``resume`` and an existing checkpoint, training continues from it and repeats
    nothing but the steps since that checkpoint. ``config.device`` chooses where the arrays
    live; checkpoints and metrics are always host data. Returns the trained params (on
    the host).
    """
    xp = get_module(config.device)
    keep_freed_memory()  # reuse the step's freed arrays instead of page-faulting them back
    os.makedirs(run_dir, exist_ok=True)
    ckpt_path = os.path.join(run_dir, "checkpoint.npz")
    metrics_path = os.path.join(run_dir, "metrics.jsonl")
    start = 0
    if resume and os.path.exists(ckpt_path):
        params, opt_state, saved, start = load_checkpoint(ckpt_path, expected_config=config)
        saved = dataclasses.replace(saved, device=config.device)  # a run may move devices
        if saved != config:
            changed = [k for k in dataclasses.asdict(config)
                       if getattr(saved, k) != getattr(config, k)]
            raise ValueError(f"{run_dir} holds a run with a different config ({', '.join(changed)}"
                             f" differ); resume it with the same settings, or pass --no-resume "
                             f"or a new run directory.")
    else:
        params = new_params(config)
        opt_state = adam_init(params)
    params, opt_state = to_device(params, xp), to_device(opt_state, xp)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        f.write(config.to_json())
    rows = _read_metrics(metrics_path, start)
    with open(metrics_path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)

    d = config.latent_dim
    eval_x, eval_y = eval_tasks(config) if config.eval_every else (None, None)
    quick = [m for m in methods_of(config) if m[1] == "grad"][:1] + [("Grad 5", "grad", 5)]
    window, t0 = [], time.perf_counter()
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
        params, opt_state = adam_update(params, grads, opt_state, config.lr,
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
