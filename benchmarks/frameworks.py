"""lpn-mini's model and ``training_loss`` re-expressed in JAX (jit) and PyTorch (eager).

Same parameter layout (``{"encoder": [(W, b), ...], "decoder": [...]}``), same one-hot order
(row-major over H, W, C), same inputs ``[one_hot(x), one_hot(y)]`` and ``[one_hot(x), z]``,
same loss (Algorithm 2 with K plain latent steps ``z + alpha * grad``, leave-one-out latents,
sum log-likelihood, closed-form KL), so the three give the same loss and gradients for the
same parameters and inputs; ``check_equivalence`` asserts it before anything is timed.

Each is written the way a careful user of that framework would write it: concatenated
inputs, broadcasting every pair against every latent, the framework's own log-softmax and
one-hot. The frameworks are imported lazily: they are benchmark extras
(``pip install -e ".[bench]"``), never dependencies of lpn-mini.

The conv model (``lpn_mini/conv.py``: the encoder reads the co-occurrence table of x's
k x k windows against y, the decoder turns z into a k x k x C x C kernel convolved with x)
has a JAX twin too, ``jax_conv_loss_and_grad``, checked by ``check_conv_equivalence``.
"""
import functools

import numpy as onp


# --------------------------------------------------------------------------------------
# JAX
# --------------------------------------------------------------------------------------

def jax_loss_and_grad(num_colors, num_steps, alpha, beta, stop_gradient):
    """A jitted ``(params, x, y, eps) -> (loss, grads)`` for JAX arrays."""
    import jax
    import jax.numpy as jnp
    C = num_colors

    def one_hot(g, dtype):
        return jax.nn.one_hot(g, C, dtype=dtype).reshape(g.shape[:-2] + (-1,))

    def mlp(layers, h):
        for k, (W, b) in enumerate(layers):
            if k:
                h = jax.nn.relu(h)
            h = h @ W + b
        return h

    def encode(enc, x, y):
        dtype = enc[0][0].dtype
        out = mlp(enc, jnp.concatenate([one_hot(x, dtype), one_hot(y, dtype)], axis=-1))
        d = out.shape[-1] // 2
        return out[..., :d], out[..., d:]

    def log_likelihood(dec, x, y, z):
        """x, y ``(..., H, W)`` and z ``(..., d)`` broadcast; returns ``(...)``."""
        hx = one_hot(x, z.dtype)
        lead = jnp.broadcast_shapes(hx.shape[:-1], z.shape[:-1])
        h = jnp.concatenate([jnp.broadcast_to(hx, lead + hx.shape[-1:]),
                             jnp.broadcast_to(z, lead + z.shape[-1:])], axis=-1)
        logits = mlp(dec, h).reshape(lead + x.shape[-2:] + (C,))
        log_p = jax.nn.log_softmax(logits, axis=-1)
        picked = jnp.take_along_axis(log_p, jnp.broadcast_to(y, lead + y.shape[-2:])[..., None],
                                     axis=-1)[..., 0]
        return picked.sum(axis=(-2, -1))

    def loss(params, x, y, eps):
        enc, dec = params["encoder"], params["decoder"]
        N = x.shape[1]
        mu, logvar = encode(enc, x, y)
        z = mu + eps * jnp.exp(0.5 * logvar)
        z_prime = (z.sum(axis=1, keepdims=True) - z) / (N - 1)
        mask = 1.0 - jnp.eye(N, dtype=z.dtype)

        def spec(dec, z):   # (B, M) = sum_j mask_mj log p(y_j | x_j, z_m)
            ll = log_likelihood(dec, x[:, None], y[:, None], z[:, :, None])
            return (ll * mask).sum(axis=-1)

        if num_steps:
            inner = jax.lax.stop_gradient(dec) if stop_gradient else dec
            zk = jax.lax.stop_gradient(z_prime) if stop_gradient else z_prime
            for _ in range(num_steps):
                zk = zk + alpha * jax.grad(lambda z: spec(inner, z).sum())(zk)
            z_prime = (z_prime + jax.lax.stop_gradient(zk - z_prime)) if stop_gradient else zk
        rec = -log_likelihood(dec, x, y, z_prime)
        kl = 0.5 * (jnp.exp(logvar) + mu ** 2 - 1.0 - logvar).sum(axis=-1)
        return (rec + beta * kl).mean()

    return jax.jit(jax.value_and_grad(loss))


def jax_conv_loss_and_grad(num_colors, window, num_steps, alpha, beta, stop_gradient,
                           rows=None):
    """A jitted ``(params, x, y, eps) -> (loss, grads)`` for the conv model's parameters
    (``conv.init_params``'s layout) as JAX arrays: the loss of ``jax_loss_and_grad`` with
    the conv encoder and decoder, written from the definitions in jax.numpy.

    window: the kernel's side k. rows: None (every window entry ``(o, a)``, k k C of them)
    or the entries to keep, ``present_entries(x, C, k)``: the entries no cell of the batch
    has contribute 0 to the table and to every logit, so dropping them changes no number
    (lpn-mini does the same, ``conv.present_windows``). They are a constant of the compiled
    function: a batch with other entries needs a new ``jax_conv_loss_and_grad``.

    The same arguments give the same jitted function (remembered), so that the benchmark's
    timing reuses what its equivalence check compiled.
    """
    rows = None if rows is None else tuple(int(r) for r in rows)
    return _jax_conv_loss_and_grad(num_colors, window, num_steps, alpha, beta, stop_gradient,
                                   rows)


@functools.lru_cache(maxsize=None)
def _jax_conv_loss_and_grad(num_colors, window, num_steps, alpha, beta, stop_gradient, rows):
    import jax
    import jax.numpy as jnp
    C, k = num_colors, window
    keep = None if rows is None else onp.asarray(rows)

    def unfold(x, dtype):
        """int ``(..., H, W)`` -> ``(..., H W, k k C)``: cell q's one-hot k x k window, entry
        ``(i, j, a)`` = [x at offset (i - k // 2, j - k // 2) from q is a]; 0 off the grid."""
        H, W = x.shape[-2:]
        p = k // 2
        hot = jax.nn.one_hot(x, C, dtype=dtype)                                # (..., H, W, C)
        padded = jnp.pad(hot, [(0, 0)] * (hot.ndim - 3) + [(p, p), (p, p), (0, 0)])
        # Cell (r, c)'s window is padded[r:r + k, c:c + k]: one gather of fixed positions.
        r, c = onp.divmod(onp.arange(H * W), W)
        i, j = onp.divmod(onp.arange(k * k), k)
        windows = padded[..., r[:, None] + i, c[:, None] + j, :]               # (..., H W, k k, C)
        windows = windows.reshape(x.shape[:-2] + (H * W, k * k * C))
        return windows if keep is None else windows[..., keep]               # (..., H W, R)

    def mlp(layers, h):
        for i, (W, b) in enumerate(layers):
            if i:
                h = jax.nn.relu(h)
            h = h @ W + b
        return h

    def encode(enc, x, y):
        W_t, b_t = enc["table"]                                                # (k, k, C, C, h1)
        windows = unfold(x, W_t.dtype)                                         # (B, N, H W, R)
        hot_y = jax.nn.one_hot(y, C, dtype=W_t.dtype).reshape(y.shape[:-2] + (-1, C))
        counts = jnp.einsum("...qr,...qc->...rc", windows, hot_y)             # (B, N, R, C)
        table = counts / jnp.maximum(counts.sum(axis=-1, keepdims=True), 1)   # T[o, a, c]
        W_t = W_t.reshape(k * k * C, C, -1)
        W_t = W_t if keep is None else W_t[keep]                               # (R, C, h1)
        first = (table.reshape(table.shape[:-2] + (-1,)) @ W_t.reshape(-1, W_t.shape[-1])
                 + b_t)
        out = mlp(enc["layers"], jax.nn.relu(first))                          # (B, N, 2 d)
        d = out.shape[-1] // 2
        return out[..., :d], out[..., d:]

    def kernels(dec, z):
        """``(..., d)`` -> ``(..., R, C)``: the kernel each latent writes."""
        W_k, b_k = dec["kernel"]                                               # (h, k, k, C, C)
        h = jax.nn.relu(mlp(dec["layers"], z))                                 # (..., h)
        W_k, b_k = W_k.reshape(W_k.shape[0], k * k * C, C), b_k.reshape(k * k * C, C)
        if keep is not None:
            W_k, b_k = W_k[:, keep], b_k[keep]
        K = h @ W_k.reshape(W_k.shape[0], -1) + b_k.reshape(-1)
        return K.reshape(z.shape[:-1] + b_k.shape)

    def grid_log_likelihood(logits, y):
        """logits ``(..., H W, C)``, y int ``(..., H, W)``: sum over cells of log p(y)."""
        log_p = jax.nn.log_softmax(logits, axis=-1)
        y = jnp.broadcast_to(y.reshape(y.shape[:-2] + (-1,)), logits.shape[:-1])
        return jnp.take_along_axis(log_p, y[..., None], axis=-1)[..., 0].sum(axis=-1)

    def loss(params, x, y, eps):
        enc, dec = params["encoder"], params["decoder"]
        N = x.shape[1]
        windows = unfold(x, eps.dtype)                                         # (B, N, H W, R)
        mu, logvar = encode(enc, x, y)
        z = mu + eps * jnp.exp(0.5 * logvar)
        z_prime = (z.sum(axis=1, keepdims=True) - z) / (N - 1)
        mask = 1.0 - jnp.eye(N, dtype=z.dtype)

        def spec(dec, z):   # (B, M) = sum_j mask_mj log p(y_j | x_j, z_m)
            logits = jnp.einsum("bnqr,bmrc->bmnqc", windows, kernels(dec, z))  # (B, M, N, H W, C)
            return (grid_log_likelihood(logits, y[:, None]) * mask).sum(axis=-1)

        if num_steps:
            inner = jax.lax.stop_gradient(dec) if stop_gradient else dec
            zk = jax.lax.stop_gradient(z_prime) if stop_gradient else z_prime
            for _ in range(num_steps):
                zk = zk + alpha * jax.grad(lambda z: spec(inner, z).sum())(zk)
            z_prime = (z_prime + jax.lax.stop_gradient(zk - z_prime)) if stop_gradient else zk
        logits = jnp.einsum("bnqr,bnrc->bnqc", windows, kernels(dec, z_prime))  # (B, N, H W, C)
        rec = -grid_log_likelihood(logits, y)
        kl = 0.5 * (jnp.exp(logvar) + mu ** 2 - 1.0 - logvar).sum(axis=-1)
        return (rec + beta * kl).mean()

    return jax.jit(jax.value_and_grad(loss))


def present_entries(x, num_colors, window):
    """The window entries ``(o, a)`` (row-major over ``(o_row, o_col, a)``) that some cell of
    some grid of x has: colour a at offset o. Plain NumPy on the host: ``(R,)`` ints."""
    C, k, p = num_colors, window, window // 2
    H, W = x.shape[-2:]
    grids = onp.reshape(x, (-1, H, W))
    padded = onp.full((grids.shape[0], H + 2 * p, W + 2 * p), C)   # C: off the grid
    padded[:, p:p + H, p:p + W] = grids
    present = onp.zeros((k, k, C + 1), bool)
    for i in range(k):
        for j in range(k):
            present[i, j, onp.unique(padded[:, i:i + H, j:j + W])] = True
    return onp.flatnonzero(present[..., :C])


def to_jax(tree):
    import jax.numpy as jnp
    if isinstance(tree, dict):
        return {k: to_jax(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_jax(v) for v in tree)
    return jnp.asarray(tree)


# --------------------------------------------------------------------------------------
# PyTorch (eager)
# --------------------------------------------------------------------------------------

def torch_loss_and_grad(num_colors, num_steps, alpha, beta, stop_gradient):
    """An eager ``(params, x, y, eps) -> (loss, grads)`` for torch tensors; ``params`` leaves
    must have ``requires_grad=True``."""
    import torch
    import torch.nn.functional as F
    C = num_colors

    def one_hot(g, dtype):
        return F.one_hot(g, C).to(dtype).reshape(g.shape[:-2] + (-1,))

    def mlp(layers, h):
        for k, (W, b) in enumerate(layers):
            if k:
                h = torch.relu(h)
            h = h @ W + b
        return h

    def encode(enc, x, y):
        dtype = enc[0][0].dtype
        out = mlp(enc, torch.cat([one_hot(x, dtype), one_hot(y, dtype)], dim=-1))
        d = out.shape[-1] // 2
        return out[..., :d], out[..., d:]

    def log_likelihood(dec, x, y, z):
        hx = one_hot(x, z.dtype)
        lead = torch.broadcast_shapes(hx.shape[:-1], z.shape[:-1])
        h = torch.cat([hx.expand(lead + hx.shape[-1:]), z.expand(lead + z.shape[-1:])], dim=-1)
        logits = mlp(dec, h).reshape(lead + x.shape[-2:] + (C,))
        log_p = torch.log_softmax(logits, dim=-1)
        picked = torch.gather(log_p, -1, y.expand(lead + y.shape[-2:])[..., None])[..., 0]
        return picked.sum(dim=(-2, -1))

    def loss_fn(params, x, y, eps):
        enc, dec = params["encoder"], params["decoder"]
        N = x.shape[1]
        mu, logvar = encode(enc, x, y)
        z = mu + eps * torch.exp(0.5 * logvar)
        z_prime = (z.sum(dim=1, keepdim=True) - z) / (N - 1)
        mask = 1.0 - torch.eye(N, dtype=z.dtype)

        def spec(dec, z):
            ll = log_likelihood(dec, x[:, None], y[:, None], z[:, :, None])
            return (ll * mask).sum(dim=-1)

        if num_steps:
            if stop_gradient:
                inner = [(W.detach(), b.detach()) for W, b in dec]
                zk = z_prime.detach()
                for _ in range(num_steps):
                    zk = zk.requires_grad_(True)
                    (g,) = torch.autograd.grad(spec(inner, zk).sum(), zk)
                    zk = (zk + alpha * g).detach()
                z_prime = z_prime + (zk - z_prime.detach())
            else:
                for _ in range(num_steps):
                    (g,) = torch.autograd.grad(spec(dec, z_prime).sum(), z_prime,
                                               create_graph=True)
                    z_prime = z_prime + alpha * g
        rec = -log_likelihood(dec, x, y, z_prime)
        kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1.0 - logvar).sum(dim=-1)
        return (rec + beta * kl).mean()

    def loss_and_grad(params, x, y, eps):
        leaves = [p for layer in params["encoder"] + params["decoder"] for p in layer]
        loss = loss_fn(params, x, y, eps)
        grads = iter(torch.autograd.grad(loss, leaves))
        return loss, {k: [(next(grads), next(grads)) for _ in params[k]]
                      for k in ("encoder", "decoder")}

    return loss_and_grad


def to_torch(tree, requires_grad=False):
    import torch
    if isinstance(tree, dict):
        return {k: to_torch(v, requires_grad) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_torch(v, requires_grad) for v in tree)
    t = torch.from_numpy(onp.ascontiguousarray(tree))
    return t.requires_grad_(True) if requires_grad and t.is_floating_point() else t


# --------------------------------------------------------------------------------------
# Equivalence: same loss and gradients as lpn-mini, before anything is timed
# --------------------------------------------------------------------------------------

def _leaves(grads):
    """Every array of a gradient tree as float64 NumPy, dicts in sorted key order (JAX
    returns dicts sorted; lpn-mini keeps insertion order), lists and tuples in order."""
    if isinstance(grads, dict):
        return [leaf for key in sorted(grads) for leaf in _leaves(grads[key])]
    if isinstance(grads, (list, tuple)):
        return [leaf for g in grads for leaf in _leaves(g)]
    return [onp.asarray(grads.detach() if hasattr(grads, "detach") else grads, dtype=onp.float64)]


def max_relative_difference(reference, other):
    """Over the loss and every gradient array: max |a - b| / max |a| (per array)."""
    (loss_a, grads_a), (loss_b, grads_b) = reference, other
    loss_a, loss_b = (float(v.detach() if hasattr(v, "detach") else v) for v in (loss_a, loss_b))
    worst = abs(loss_a - loss_b) / max(abs(loss_a), 1e-300)
    for a, b in zip(_leaves(grads_a), _leaves(grads_b), strict=True):
        worst = max(worst, float(onp.max(onp.abs(a - b)) / max(onp.max(onp.abs(a)), 1e-300)))
    return worst


def check_equivalence(params, x, y, eps, num_steps, alpha, beta, stop_gradient,
                      frameworks=("jax", "torch"), tolerance=1e-9):
    """Assert that JAX and PyTorch give lpn-mini's loss and gradients (float64 inputs).

    Returns ``{framework: max relative difference}``.
    """
    import autograd
    from lpn_mini.training import training_loss
    C = params["decoder"][-1][1].shape[0] // (x.shape[-2] * x.shape[-1])
    reference = autograd.value_and_grad(training_loss)(
        params, x, y, eps, num_steps=num_steps, alpha=alpha, beta=beta,
        stop_gradient=stop_gradient)
    differences = {}
    if "jax" in frameworks:
        import jax
        jax.config.update("jax_enable_x64", True)
        f = jax_loss_and_grad(C, num_steps, alpha, beta, stop_gradient)
        differences["jax"] = max_relative_difference(reference, f(to_jax(params), to_jax(x),
                                                                  to_jax(y), to_jax(eps)))
    if "torch" in frameworks:
        f = torch_loss_and_grad(C, num_steps, alpha, beta, stop_gradient)
        differences["torch"] = max_relative_difference(
            reference, f(to_torch(params, True), to_torch(x), to_torch(y), to_torch(eps)))
    for name, diff in differences.items():
        assert diff <= tolerance, (f"{name} differs from lpn-mini by {diff:.2e} (relative) at "
                                   f"K={num_steps}, stop_gradient={stop_gradient}; the "
                                   f"benchmark would not compare the same computation.")
    return differences


def check_conv_equivalence(params, x, y, eps, num_steps, alpha, beta, stop_gradient,
                           tolerance=1e-9):
    """Assert that the JAX conv twin gives lpn-mini's loss and gradients for conv params
    (float64 inputs), with every window entry and with the present ones only.

    Returns ``{"jax": ..., "jax rows": ...}``, the max relative differences.
    """
    import autograd
    import jax
    from lpn_mini.training import training_loss
    jax.config.update("jax_enable_x64", True)
    k, _, C = onp.shape(params["decoder"]["kernel"][1])[:3]
    reference = autograd.value_and_grad(training_loss)(
        params, x, y, eps, num_steps=num_steps, alpha=alpha, beta=beta,
        stop_gradient=stop_gradient)
    inputs = (to_jax(params), to_jax(x), to_jax(y), to_jax(eps))
    differences = {}
    for name, rows in (("jax", None), ("jax rows", present_entries(x, C, k))):
        f = jax_conv_loss_and_grad(C, k, num_steps, alpha, beta, stop_gradient, rows)
        differences[name] = max_relative_difference(reference, f(*inputs))
    for name, diff in differences.items():
        assert diff <= tolerance, (f"{name} differs from lpn-mini's conv model by {diff:.2e} "
                                   f"(relative) at K={num_steps}, stop_gradient={stop_gradient}; "
                                   f"the benchmark would not compare the same computation.")
    return differences
