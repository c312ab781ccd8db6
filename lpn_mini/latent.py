"""Everything that happens in latent space: Algorithm 2, lines 4-11, and Algorithm 1's search.

- ``reparameterize``            line 4-6: z_i = mu_i + eps_i * sigma_i
- ``leave_one_out_mean``        lines 7-8: z'_i = mean of z_j over j != i
- ``specification_log_likelihood``  the objective searched over: sum_j log p(y_j | x_j, z)
- ``latent_gradient_ascent``    lines 9-11 (and Algorithm 1's search): K ascent steps
- ``latent_random_search``      the "Sample N" alternative: try N latents, keep the best

All of them are batched over tasks and over the latents being searched: there is no Python
loop over tasks or pairs, only over the K steps (which are sequential by nature).
"""
import autograd.numpy as np
import numpy as onp
from autograd import grad, grad_and_aux
from autograd.tracer import getval

from .device.backend import array_module, take_range
from .losses import grid_log_likelihood, log_likelihood
from .architectures import decoder_first_layer, decoder_logits
from .checks import (check_array, check_count, check_grids, check_number, check_pairs_axis,
                     check_reparameterization, checked_by)

OPTIMIZERS = ("sgd", "adam")


@checked_by(check_reparameterization)
def reparameterize(mu, logvar, eps):
    """Algorithm 2, lines 4-6: a sample of q_phi(z | x, y) that is differentiable in phi.

    mu, logvar, eps: ``(..., d)``; eps ~ N(0, I) is passed in, so this is a pure function.
    """
    ### BEGIN SOLUTION
    return mu + eps * np.exp(0.5 * logvar)  # sigma = exp(logvar / 2)
    ### END SOLUTION


@checked_by(check_pairs_axis)
def leave_one_out_mean(z):
    """Algorithm 2, lines 7-8: z'_i = (1 / (N - 1)) sum_{j != i} z_j.

    Pair i's own latent never reaches its own reconstruction; otherwise the encoder could
    copy y_i through z_i and the decoder would learn nothing about programs.
    z: ``(B, N, d)`` with N >= 2. Returns ``(B, N, d)``.
    """
    ### BEGIN SOLUTION
    N = z.shape[-2]
    if N < 2:
        raise ValueError(f"the leave-one-out mean needs at least 2 pairs per task, got N = {N}.")
    total = np.sum(z, axis=-2, keepdims=True)  # (B, 1, d)
    return (total - z) / (N - 1)               # (B, N, d): the sum of the others, averaged
    ### END SOLUTION


def without_gradient(tree):
    """The same values with every autograd box removed: a constant for the outer gradient.

    Works on arrays and on nested dicts, lists and tuples of arrays (like ``params``).
    """
    if isinstance(tree, dict):
        return {k: without_gradient(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(without_gradient(v) for v in tree)
    return getval(tree)


def leave_one_out_mask(N, dtype=np.float64, like=None):
    """``(N, N)`` weights: row i is 1 on every pair j != i and 0 on pair i itself.

    like: an array whose module (host or device) the mask is made by.
    """
    check_count(N, "N", 1, "the number of pairs")
    return 1.0 - array_module(like).eye(N, dtype=dtype)


# The mask of training, given by name: latent i is scored on the pairs j != i (M = N). It
# means the same as ``leave_one_out_mask(N)``, but the pairs that mask would multiply by
# zero are never decoded: with N = 4 that is a quarter of the latent search's work.
LEAVE_ONE_OUT = "leave-one-out"


def other_pairs(N, like=None):
    """``(N, N - 1)`` ints: row i lists the pairs j != i, in order (``[[1, 2], [0, 2], [0, 1]]``
    for N = 3). like: an array whose module (host or device) the index is made by."""
    xp = array_module(like)
    j = xp.arange(N - 1)
    i = xp.arange(N)[:, None]
    return j + (j >= i)  # skip over i itself


def off_diagonal(a):
    """``(B, N, N, ...)`` -> ``(B, N, N - 1, ...)``: row i keeps the entries j != i, in order
    (the pairs ``other_pairs(N)`` lists).

    Flattened, an N x N block has its diagonal every N + 1 places, starting at 0. Dropping
    the first entry and reshaping the N^2 - 1 others to (N - 1, N + 1) lines the rest of the
    diagonal up in the last column, which is dropped too. Only reshapes and slices, so it
    differentiates (twice) on any device.
    """
    B, N, rest = a.shape[0], a.shape[1], a.shape[3:]
    flat = take_range(np.reshape(a, (B, N * N) + rest), 1, N * N, axis=1)        # drop (0, 0)
    rows = take_range(np.reshape(flat, (B, N - 1, N + 1) + rest), 0, N, axis=2)  # drop the diagonal
    return np.reshape(rows, (B, N, N - 1) + rest)


def check_search_inputs(x, y, z, mask):
    """Shapes only (no values are read: this runs on every step of a search): x, y int
    ``(B, N, H, W)``, z ``(B, M, d)`` for the same B, mask ``(M, N)`` (or ``(1, N)``) or
    ``LEAVE_ONE_OUT``."""
    check_grids(x, y, min_pairs=1)
    check_array(z, "z", "latents (B, M, d)")
    z_shape = getval(z).shape  # a box's own .shape is a traced call; its value's is not
    if len(z_shape) != 3 or z_shape[0] != x.shape[0]:
        raise ValueError(f"z must hold M latents for each of the B = {x.shape[0]} tasks, shape "
                         f"(B, M, d), got {z_shape}; for one latent per task pass z[:, None].")
    M, N = z_shape[1], x.shape[1]
    if not isinstance(mask, str):
        shape = onp.shape(mask)
        if len(shape) != 2 or shape[1] != N or shape[0] not in (1, M):
            raise ValueError(f"mask must have shape (M, N) = {(M, N)} (M latents, N pairs), or "
                             f"(1, N) to weigh the pairs alike for every latent, got {shape}.")


def specification_log_likelihood(decoder_params, x, y, z, mask, reduce="sum"):
    """How well each latent explains the specification pairs: sum_j mask_mj log p(y_j | x_j, z_m).

    x, y: int ``(B, N, H, W)``, the pairs of each task.
    z:    ``(B, M, d)``, M latents per task to score.
    mask: ``(M, N)`` weights, all ones for test-time search over all specification pairs;
          or ``LEAVE_ONE_OUT`` for training (M = N, latent i is scored on the pairs j != i:
          the numbers of ``leave_one_out_mask(N)``, with a quarter less work at N = 4).
    Returns ``(B, M)``.
    """
    check_search_inputs(x, y, z, mask)
    if isinstance(mask, str):
        if mask != LEAVE_ONE_OUT:
            raise ValueError(f"mask must be an (M, N) array or LEAVE_ONE_OUT, got {mask!r}.")
        if z.shape[1] != x.shape[1]:
            raise ValueError(f"the leave-one-out mask scores one latent per pair: z has "
                             f"{z.shape[1]} latents per task for {x.shape[1]} pairs.")
        first = decoder_first_layer(decoder_params, x[:, None], np.expand_dims(z, 2))  # (B, N, N, h)
        logits = decoder_logits(decoder_params, off_diagonal(first), x.shape[-2:])      # pairs j != i only
        y_others = y[:, other_pairs(x.shape[1], like=x)]                                # (B, N, N - 1, H, W)
        return np.sum(grid_log_likelihood(logits, y_others, reduce), axis=-1)          # (B, N)
    ll = log_likelihood(decoder_params, x[:, None], y[:, None], np.expand_dims(z, 2),
                        reduce, check=False)                     # (B, M, N): x (B,1,N), z (B,M,1)
    return np.sum(ll * mask, axis=-1)


def latent_ascent_step(decoder_params, x, y, z, mask, alpha, stop_gradient=True, reduce="sum"):
    """One plain step of Algorithm 2, line 10: z + alpha * grad_z sum_j mask_mj log p(y_j | x_j, z).

    The single-step, plain-gradient case of ``latent_gradient_ascent`` (which adds Adam,
    clipping and best-of-trajectory), written out for reading and for the exercises.
    z: ``(B, M, d)``; mask: ``(M, N)``. With ``stop_gradient`` the step is computed from
    values stripped of autograd boxes, so an outer gradient sees it as a constant.
    Returns ``(B, M, d)``.
    """
    ### BEGIN SOLUTION
    params_for_step, z_for_step = decoder_params, z
    if stop_gradient:
        params_for_step, z_for_step = without_gradient(decoder_params), without_gradient(z)
    objective = lambda z: np.sum(specification_log_likelihood(params_for_step, x, y, z, mask,
                                                              reduce))
    dz = grad(objective)(z_for_step)  # (B, M, d): each latent's own gradient
    return z + alpha * dz             # ascent: towards higher likelihood
    ### END SOLUTION


CLIP_MODES = ("latent", "global")


def check_ascent_options(num_steps, alpha, optimizer, clip_norm, clip_mode="latent",
                         adam_eps_root=0.0):
    """The options of a gradient-ascent search: K >= 0 steps, a finite step size, a known
    optimizer, a positive clipping norm (or None), a known clipping mode, eps_root >= 0."""
    check_count(num_steps, "num_steps", 0, "the number K of latent search steps")
    check_number(alpha, "alpha", meaning="the latent step size")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}.")
    if clip_mode not in CLIP_MODES:
        raise ValueError(f"clip_mode must be one of {CLIP_MODES}, got {clip_mode!r}.")
    check_number(adam_eps_root, "adam_eps_root", 0, "Adam's epsilon inside the square root")
    if clip_norm is not None:
        check_number(clip_norm, "clip_norm", meaning="the largest norm of a latent's gradient")
        if clip_norm <= 0:
            raise ValueError(f"clip_norm must be positive (or None for no clipping), got "
                             f"{clip_norm}.")


def safe_sqrt(a):
    """sqrt(a) for a >= 0 whose derivative is finite (0) where a = 0.

    d sqrt(a) / da = 1 / (2 sqrt(a)) is infinite at 0, and the chain rule multiplies it by
    the zero derivative of what made a = 0 (a squared gradient coordinate that is exactly 0):
    inf * 0 = NaN in every outer gradient of a search without stop-gradient. The values are
    those of ``np.sqrt``; only the derivative at 0 changes (0, a subgradient of |g| at 0).
    Written with a constant 0/1 mask rather than ``np.where``, whose gradient autograd builds
    with a host ``zeros`` (not device-safe).
    """
    value = getval(a)
    positive = (value > 0).astype(value.dtype)          # a constant for the outer gradient
    return np.sqrt(a * positive + (1.0 - positive)) * positive  # sqrt(1) * 0 where a = 0


def _clip_by_norm(g, clip_norm, mode="latent"):
    """Scale gradients down to norm at most ``clip_norm``: each latent's own (last axis,
    ``mode="latent"``), or one norm over the whole batch of latents (``mode="global"``, the
    official code: ``optax.clip_by_global_norm(1.0)`` in ``src/models/lpn.py``,
    ``LPN._get_gradient_ascent_context``). A safe norm: an all-zero gradient stays 0 with a
    finite derivative."""
    if clip_norm is None:
        return g
    if mode == "global":
        norm = safe_sqrt(np.sum(g ** 2))                      # one number for the batch
    else:
        norm = safe_sqrt(np.sum(g ** 2, axis=-1, keepdims=True))  # (..., 1)
    return g * (clip_norm / np.maximum(norm, clip_norm))


def _trajectory(decoder_params, x, y, z, mask, num_steps, alpha, optimizer, clip_norm,
                beta1, beta2, adam_eps, reduce, need_last_value, clip_mode="latent",
                adam_eps_root=0.0):
    """Run the K ascent steps; return the list of latents visited and their objective values.

    Works on plain arrays and on autograd boxes alike (the caller decides which), so the
    same lines serve the stop-gradient and the second-order version.
    """
    def objective(z):
        values = specification_log_likelihood(decoder_params, x, y, z, mask, reduce)  # (B, M)
        # Each latent only affects its own value, so the gradient of the sum is the
        # gradient of every latent's own objective, all in one backward pass.
        return np.sum(values), values

    grad_z = grad_and_aux(objective)  # z -> (d sum / dz, per-latent values)
    zs, values = [z], []
    m = v = 0.0
    for t in range(1, num_steps + 1):
        dz, value = grad_z(z)                             # (B, M, d), (B, M)
        values.append(value)
        dz = _clip_by_norm(dz, clip_norm, clip_mode)
        if optimizer == "sgd":
            step = alpha * dz                             # Algorithm 2, line 10
        else:                                             # Adam, as the official code runs
            m = beta1 * m + (1.0 - beta1) * dz
            v = beta2 * v + (1.0 - beta2) * dz ** 2
            m_hat = m / (1.0 - beta1 ** t)
            v_hat = v / (1.0 - beta2 ** t)
            # optax.adam(eps_root=1e-8) in the official code (src/models/lpn.py,
            # LPN._get_gradient_ascent_context): sqrt(v_hat + eps_root). With eps_root = 0,
            # safe_sqrt keeps the derivative finite where a coordinate's gradient is 0.
            root = (np.sqrt(v_hat + adam_eps_root) if adam_eps_root > 0
                    else safe_sqrt(v_hat))
            step = alpha * m_hat / (root + adam_eps)
        z = z + step                                      # ascent: towards higher likelihood
        zs.append(z)
    if need_last_value:  # the end point's value, for best-of-trajectory
        values.append(objective(z)[1])
    return zs, values


def _select_best(zs, values):
    """Per latent, the point of the trajectory with the highest objective (best-of-trajectory)."""
    xp = array_module(values[0])
    scores = xp.stack([getval(v) for v in values], axis=-1)        # (B, M, K + 1)
    best = xp.argmax(scores, axis=-1)                               # (B, M)
    pick = (best[..., None] == xp.arange(len(zs))).astype(scores.dtype)  # (B, M, K + 1)
    # A weighted sum with one-hot weights: differentiable in every z_t, no indexing needed.
    return sum(z_t * pick[..., t:t + 1] for t, z_t in enumerate(zs))


def latent_gradient_ascent(decoder_params, x, y, z_prime, mask, *, num_steps, alpha,
                           optimizer="sgd", stop_gradient=True, best_of_trajectory=False,
                           clip_norm=None, beta1=0.9, beta2=0.9, adam_eps=1e-8, reduce="sum",
                           clip_mode="latent", adam_eps_root=0.0):
    """Algorithm 2, lines 9-11 (and the search of Algorithm 1): K steps of gradient ascent.

    z'_m <- z'_m + alpha * grad_z sum_j mask_mj log p_theta(y_j | x_j, z) at z = z'_m

    x, y:    int ``(B, N, H, W)``.
    z_prime: ``(B, M, d)`` starting latents. mask: ``(M, N)`` (see
             ``specification_log_likelihood``).
    optimizer: ``"sgd"`` (the pseudo-code: ``alpha * grad``) or ``"adam"`` (the official
             code: Adam with learning rate ``alpha``, ``beta1``, ``beta2``), each after optional
             gradient-norm clipping at ``clip_norm``: per latent (``clip_mode="latent"``) or
             one norm over the batch (``"global"``, the official code).
    adam_eps_root: Adam's epsilon inside the square root, sqrt(v_hat + eps_root) (the
             official code: 1e-8); 0 takes a square root whose derivative at 0 is 0.
    stop_gradient: if True (the paper's default), the updates are constants for the
             outer gradient: the loss is evaluated at z' + delta, but the step's Jacobian
             is the identity (the gradient reaches z' unchanged) and theta gets no
             second-order term. If False, autograd differentiates through the inner
             gradients (second order; slower).
    best_of_trajectory: return, per latent, the visited point (start included) with the
             highest objective rather than the last one.
    Returns ``(B, M, d)``.
    """
    check_ascent_options(num_steps, alpha, optimizer, clip_norm, clip_mode, adam_eps_root)
    if num_steps == 0:
        return z_prime
    run = lambda params, z: _trajectory(params, x, y, z, mask, num_steps, alpha, optimizer,
                                        clip_norm, beta1, beta2, adam_eps, reduce,
                                        best_of_trajectory, clip_mode, adam_eps_root)
    if stop_gradient:
        # Run the whole search on constants (no autograd boxes, so no second-order trace),
        # then add the total displacement to z' as a constant.
        z0 = without_gradient(z_prime)
        zs, values = run(without_gradient(decoder_params), z0)
        z_end = _select_best(zs, values) if best_of_trajectory else zs[-1]
        return z_prime + (z_end - z0)
    zs, values = run(decoder_params, z_prime)
    return _select_best(zs, values) if best_of_trajectory else zs[-1]


def ascent_path(decoder_params, x, y, z_start, mask, *, num_steps, alpha, optimizer="sgd",
                clip_norm=None, beta1=0.9, beta2=0.9, adam_eps=1e-8, reduce="sum",
                clip_mode="latent", adam_eps_root=0.0):
    """Every latent that ``latent_gradient_ascent`` visits, and its objective, for plotting.

    Returns ``zs`` ``(K + 1, B, M, d)`` (the start first) and ``values`` ``(K + 1, B, M)``.
    Constants only: no gradient flows out of a path.
    """
    check_ascent_options(num_steps, alpha, optimizer, clip_norm, clip_mode, adam_eps_root)
    zs, values = _trajectory(without_gradient(decoder_params), x, y, without_gradient(z_start),
                             mask, num_steps, alpha, optimizer, clip_norm, beta1, beta2,
                             adam_eps, reduce, True, clip_mode, adam_eps_root)
    xp = array_module(zs[0])
    return xp.stack(zs), xp.stack(values)


def latent_random_search(decoder_params, x, y, z_prime, mask, noise, *, scale=1.0, reduce="sum"):
    """The "Sample N" alternative to gradient ascent: try latents around z', keep the best.

    z_prime: ``(B, M, d)``; noise: ``(B, M, S, d)`` standard normal samples (passed in).
    Candidates are z' itself and z' + scale * noise; each latent keeps the candidate with
    the highest ``specification_log_likelihood``. Returns ``(B, M, d)``.
    """
    check_array(noise, "noise", "standard normal samples (B, M, S, d)")
    shape = onp.shape(z_prime)  # (B, M, d)
    if len(shape) != 3 or noise.ndim != 4 or noise.shape[:2] + noise.shape[-1:] != shape:
        raise ValueError(f"noise must have shape (B, M, S, d) = {shape[:2]} + (S,) + "
                         f"{shape[-1:]} (S samples around each latent of z' {shape}), got "
                         f"{noise.shape}.")
    check_number(scale, "sample_scale", meaning="the spread of the samples around z'")
    B, M, d = z_prime.shape
    S = noise.shape[-2]
    xp = array_module(noise)
    offsets = xp.concatenate([xp.zeros_like(noise[:, :, :1]), scale * noise], axis=2)  # (B, M, S + 1, d)
    cand = np.expand_dims(z_prime, 2) + offsets                            # z' itself comes first
    if isinstance(mask, str):  # LEAVE_ONE_OUT as the array it stands for
        mask = leave_one_out_mask(x.shape[1], noise.dtype, like=noise)
    mask = xp.broadcast_to(mask, (M, x.shape[1]))                          # (1, N) -> (M, N)
    flat_mask = xp.repeat(mask, S + 1, axis=0)                             # (M * (S + 1), N)
    values = specification_log_likelihood(without_gradient(decoder_params), x, y,
                                          without_gradient(np.reshape(cand, (B, M * (S + 1), d))),
                                          flat_mask, reduce)
    best = xp.argmax(xp.reshape(values, (B, M, S + 1)), axis=-1)           # (B, M)
    pick = (best[..., None] == xp.arange(S + 1)).astype(values.dtype)      # (B, M, S + 1)
    return np.sum(cand * pick[..., None], axis=2)                          # (B, M, d)


SEARCH_METHODS = ("grad", "sample")


def search_latents(decoder_params, x, y, z_prime, mask, *, method="grad", num_steps=0, alpha=1.0,
                   noise=None, sample_scale=1.0, reduce="sum", **ascent_options):
    """Refine starting latents by gradient ascent (``"grad"``) or random search (``"sample"``).

    The one entry point that training (Algorithm 2) and test-time inference (Algorithm 1)
    share. ``"grad"`` runs ``latent_gradient_ascent`` for ``num_steps`` steps with
    ``ascent_options``; ``"sample"`` runs ``latent_random_search`` with ``noise``
    ``(B, M, S, d)``, whose S is the number of samples. Returns ``(B, M, d)``.
    """
    if method == "grad":
        return latent_gradient_ascent(decoder_params, x, y, z_prime, mask, num_steps=num_steps,
                                      alpha=alpha, reduce=reduce, **ascent_options)
    if method == "sample":
        if noise is None:
            raise ValueError("method='sample' needs noise of shape (B, M, S, d): S standard normal "
                             "samples per latent, e.g. rng.standard_normal((B, M, S, d)).")
        return latent_random_search(decoder_params, x, y, z_prime, mask, noise,
                                    scale=sample_scale, reduce=reduce)
    raise ValueError(f"method must be one of {SEARCH_METHODS}, got {method!r}.")
