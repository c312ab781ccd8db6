"""Adam, written out, for the nested ``params`` structure (Algorithm 2, line 15).

Pure functions: ``adam_update`` returns new parameters and a new state and changes
nothing in place, so a training step can be repeated or undone freely.
"""
import numpy as onp

from .checks import check_count, check_number, checked_by


def tree_map(f, *trees):
    """Apply ``f`` leaf-wise to arrays held in matching nested dicts, lists and tuples."""
    first = trees[0]
    if isinstance(first, dict):
        for t in trees[1:]:
            if not isinstance(t, dict) or t.keys() != first.keys():
                raise _mismatch(first, t)
        return {k: tree_map(f, *(t[k] for t in trees)) for k in first}
    if isinstance(first, (list, tuple)):
        for t in trees[1:]:
            if not isinstance(t, (list, tuple)) or len(t) != len(first):
                raise _mismatch(first, t)
        return type(first)(tree_map(f, *leaves) for leaves in zip(*trees))
    return f(*trees)


def _describe(tree):
    if isinstance(tree, dict):
        return f"a dict with keys {sorted(tree)}"
    if isinstance(tree, (list, tuple)):
        return f"a {type(tree).__name__} of {len(tree)}"
    return f"a {type(tree).__name__}"


def _mismatch(first, other):
    return ValueError(f"the nested structures do not match: {_describe(first)} met "
                      f"{_describe(other)}; gradients and optimizer states must be shaped like "
                      "params (autograd.grad and adam_init make them so).")


def tree_leaves(tree):
    """The arrays of a nested structure, in a fixed order."""
    if isinstance(tree, dict):
        return [leaf for k in tree for leaf in tree_leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in tree_leaves(t)]
    return [tree]


def tree_unflatten(like, leaves):
    """The nested structure of ``like`` holding ``leaves`` (in ``tree_leaves`` order) instead."""
    count, used, it = len(leaves), [0], iter(leaves)  # leaves may be an autograd SequenceBox

    def take(_):
        used[0] += 1
        return next(it) if used[0] <= count else None

    tree = tree_map(take, like)
    if used[0] != count:
        raise ValueError(f"like holds {used[0]} arrays but {count} leaves were given; pass "
                         "one leaf per array of like, in tree_leaves order.")
    return tree


def global_norm(tree):
    """sqrt of the sum of squares of every entry of every array in ``tree``."""
    return float(onp.sqrt(sum(float(onp.sum(onp.square(g))) for g in tree_leaves(tree))))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``."""
    if max_norm is None:
        return grads
    check_number(max_norm, "max_norm", meaning="the largest global norm of the gradients")
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive (or None for no clipping), got {max_norm}.")
    norm = global_norm(grads)
    scale = max_norm / max(norm, max_norm)  # 1 when already inside the ball
    return tree_map(lambda g: g * scale, grads)


def warmup_lr(lr, step, warmup_steps):
    """The learning rate of step ``step`` (0-based) under a linear warm-up.

    The official code (``src/train.py``, ``Trainer.init_train_state``) runs
    ``optax.warmup_exponential_decay_schedule(init_value=lr / (w + 1), peak_value=lr,
    warmup_steps=w, decay_rate=1)`` with w = 99: lr / (w + 1) at step 0, rising linearly to
    lr at step w, then constant. That is lr * min(1, (step + 1) / (w + 1)); w = 0 is no warm-up.
    """
    check_count(step, "step", 0, "the 0-based optimizer step")
    check_count(warmup_steps, "warmup_steps", 0, "the steps of linear warm-up")
    return lr * min(1.0, (step + 1) / (warmup_steps + 1))


def adam_init(params):
    """Adam's state: zero first and second moments shaped like ``params``, step count 0."""
    zeros = lambda p: onp.zeros_like(p)
    return {"m": tree_map(zeros, params), "v": tree_map(zeros, params), "t": 0}


def check_adam_arguments(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                         weight_decay=0.0):
    """Adam's state as ``adam_init`` makes it, and hyperparameters in their ranges (the
    structures of params, grads and the moments are compared by ``tree_map``)."""
    if not isinstance(state, dict):
        raise TypeError(f"state must be Adam's state, the dict that adam_init(params) makes (and "
                        f"adam_update returns), got a {type(state).__name__}.")
    if not {"m", "v", "t"} <= state.keys():
        raise ValueError(f"state must be Adam's state with keys 'm', 'v' and 't', as "
                         f"adam_init(params) makes it (and adam_update returns it), got keys "
                         f"{sorted(state)}.")
    check_number(lr, "lr", 0, "the learning rate")
    check_number(eps, "eps", 0, "Adam's epsilon")
    check_number(weight_decay, "weight_decay", 0)
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        check_number(beta, name, 0, "a moment's decay rate")
        if beta >= 1:
            raise ValueError(f"{name} must lie in [0, 1), got {beta}.")


@checked_by(check_adam_arguments)
def adam_update(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """One step of Adam (Kingma & Ba, 2015, Algorithm 1) *descending* the loss.

    m_t = beta1 m_{t-1} + (1 - beta1) g            first moment
    v_t = beta2 v_{t-1} + (1 - beta2) g^2          second moment
    m^_t = m_t / (1 - beta1^t), v^_t = v_t / (1 - beta2^t)    bias correction
    p_t = p_{t-1} - lr (m^_t / (sqrt(v^_t) + eps) + weight_decay p_{t-1})

    ``weight_decay`` > 0 gives AdamW (decoupled decay, Loshchilov & Hutter), the paper's
    outer optimizer. Returns ``(new_params, new_state)``.
    """
    ### BEGIN SOLUTION
    t = state["t"] + 1
    m = tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, state["m"], grads)
    v = tree_map(lambda v, g: beta2 * v + (1 - beta2) * g * g, state["v"], grads)
    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
    new_params = tree_map(
        lambda p, m, v: p - lr * ((m / c1) / (onp.sqrt(v / c2) + eps) + weight_decay * p),
        params, m, v)
    return new_params, {"m": m, "v": v, "t": t}
    ### END SOLUTION
