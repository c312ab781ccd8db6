# %% [markdown]
# # Chapter 6: gradient ascent in latent space, with autograd
#
# **What this chapter builds:** the heart of LPN. The leave-one-out latent $z'_i$ is only a
# first guess; we improve it by climbing the likelihood of the other pairs *in latent
# space*, with gradients from autograd. Then the subtle part: how the outer training
# gradient should treat those steps.
#
# **Algorithm 2, lines 9-11:** $K$ times,
# $z'_i \leftarrow z'_i + \alpha \nabla_z \sum_{j \ne i} \log p_\theta(y_j \mid x_j, z)\big|_{z = z'_i}$.

# %%
import os
import tempfile
import time

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

import lpn_mini
from lpn_mini import (LEAVE_ONE_OUT, encode, kl_divergence, latent_ascent_step,
                      latent_gradient_ascent, leave_one_out_mask, leave_one_out_mean,
                      log_likelihood, reparameterize, specification_log_likelihood,
                      training_loss)
from lpn_mini.config import make_config
from lpn_mini.training import train

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# A briefly trained model, so that the likelihood landscape has some shape (shortened in
# quick mode). Chapter 7 explains the training loop; here we only use the result.

# %%
config = make_config("small", overrides=[f"steps={80 if QUICK else 600}", "eval_every=0",
                                         "dtype=float64"])
with tempfile.TemporaryDirectory() as run:
    params = train(config, run, progress=False)
dec = params["decoder"]

rng = np.random.default_rng(0)
x, y = lpn_mini.pattern_tasks(rng, 32, 4, grid_size=4, pattern_size=2)
mu, logvar = encode(params["encoder"], x, y)
z_prime = leave_one_out_mean(reparameterize(mu, logvar, rng.standard_normal(mu.shape)))

# %% [markdown]
# ## The objective, for every pair at once
#
# For pair $i$ of a task, the objective is the log-likelihood of the *other* pairs under a
# latent $z$. `specification_log_likelihood` evaluates, for $M$ latents per task, the
# weighted sum $\sum_j \text{mask}_{mj} \log p(y_j \mid x_j, z_m)$. With the leave-one-out
# mask (1 off the diagonal, 0 on it), latent $i$ is scored on the pairs $j \ne i$:

# %%
mask = leave_one_out_mask(4)
print(mask)
J = specification_log_likelihood(dec, x, y, z_prime, mask)          # (B, N)
print("objective:", J.shape)

# %% [markdown]
# The mask multiplies a quarter of the work by zero: with $N = 4$, every latent is also
# decoded on its own pair. Training passes the mask by name instead, `LEAVE_ONE_OUT`: the
# same numbers, computed on the pairs $j \ne i$ only (the decoder's first layer is formed
# for every latent and pair from one projection of each, and the diagonal is dropped
# before the rest of the decoder runs).

# %%
J_named = specification_log_likelihood(dec, x, y, z_prime, LEAVE_ONE_OUT)
assert np.allclose(J_named, J, rtol=1e-12)   # float64 model: equal to rounding

# %% [markdown]
# ## One step, by hand
#
# Each latent only affects its own objective, so the gradient of the *sum* of all
# objectives with respect to the `(B, N, d)` array of latents is every latent's own
# gradient, in a single backward pass. No loop over tasks or pairs.

# %%
alpha = 0.02
grad_z = autograd.grad(lambda z: anp.sum(specification_log_likelihood(dec, x, y, z, mask)))
z_one = z_prime + alpha * grad_z(z_prime)                            # line 10
assert np.allclose(z_one, latent_ascent_step(dec, x, y, z_prime, mask, alpha))
assert np.allclose(z_one, latent_gradient_ascent(dec, x, y, z_prime, mask, num_steps=1, alpha=alpha))
assert np.all(specification_log_likelihood(dec, x, y, z_one, mask) > J)   # every objective rose
print("one step raised all", J.size, "objectives")

# %% [markdown]
# ## Many steps, and the step size
#
# The objective is a *sum* over cells and pairs, so its gradient is large and plain steps
# need a small $\alpha$; too large, and the ascent overshoots. Adam (what the official
# code runs, with its learning rate as $\alpha$) normalises the step per coordinate, which
# makes one $\alpha$ work across models and grid sizes.

# %%
Ks = [0, 1, 2, 3, 5, 8, 12] + ([] if QUICK else [20, 30])
fig, ax = plt.subplots(figsize=(5.5, 3.3))
for label, kw in (("plain, alpha 0.005", dict(alpha=0.005)), ("plain, alpha 0.05", dict(alpha=0.05)),
                  ("plain, alpha 0.5", dict(alpha=0.5)),
                  ("Adam, lr 0.1, clip 1", dict(alpha=0.1, optimizer="adam", clip_norm=1.0))):
    curve = [specification_log_likelihood(
        dec, x, y, latent_gradient_ascent(dec, x, y, z_prime, mask, num_steps=k, **kw), mask).mean()
        for k in Ks]
    ax.plot(Ks, curve, "o-", label=label)
ax.set_ylim(bottom=J.mean() - 3)        # an overshooting curve falls out of view
ax.set_xlabel("latent steps K"); ax.set_ylabel("mean objective (log-likelihood)")
ax.legend(fontsize=8)
ax.set_title("climbing the likelihood of the other pairs", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Stop-gradient, or second order?
#
# During training the loss of pair $i$ is computed at the *refined* latent
# $z'_i + \Delta_i$, and $\Delta_i$ itself depends on the decoder's parameters and on
# $z'_i$ (it is a gradient). Two choices:
#
# - **second order** (no stop-gradient): differentiate through $\Delta_i$, which means
#   differentiating a gradient. autograd does this by tracing the inner `grad` too.
# - **stop-gradient** (the paper's default): treat $\Delta_i$ as a constant. The outer
#   loss is still evaluated at $z'_i + \Delta_i$, but the step's Jacobian is taken to be the
#   identity: the outer gradient reaches $z'_i$ (and through it the encoder) unchanged, and
#   the decoder gets no term from how $\Delta_i$ depends on it. Cheaper, and the paper
#   found it also trains better.
#
# In lpn-mini the stop-gradient version runs the whole search on plain arrays
# (`without_gradient` strips autograd's boxes) and adds the displacement as a constant.
# Claim: its gradient equals the gradient of the same loss with $\Delta$ frozen. Checked:

# %%
eps = rng.standard_normal(mu.shape)
kw = dict(num_steps=1, alpha=alpha, beta=1e-4)
z0 = leave_one_out_mean(reparameterize(mu, logvar, eps))
delta = latent_gradient_ascent(dec, x, y, z0, mask, num_steps=1, alpha=alpha) - z0   # computed once


def loss_with_frozen_step(p):
    m, lv = encode(p["encoder"], x, y)
    zp = leave_one_out_mean(reparameterize(m, lv, eps)) + delta          # delta: a constant
    rec = -log_likelihood(p["decoder"], x, y, zp)
    return anp.mean(rec + 1e-4 * kl_divergence(m, lv))


g_sg = autograd.grad(lambda p: training_loss(p, x, y, eps, stop_gradient=True, **kw))(params)
g_frozen = autograd.grad(loss_with_frozen_step)(params)
g_full = autograd.grad(lambda p: training_loss(p, x, y, eps, stop_gradient=False, **kw))(params)
assert np.allclose(g_sg["decoder"][0][0], g_frozen["decoder"][0][0])
gap = np.abs(g_full["decoder"][0][0] - g_sg["decoder"][0][0]).max()
print(f"stop-gradient == frozen step; second order differs by up to {gap:.2e}")
assert gap > 0

# %% [markdown]
# And the cost, measured on this machine (median of a few runs of loss + gradient, 32
# tasks x 4 pairs; your numbers will differ, the ratios less so):

# %%
def median_time(f, repeats=3 if QUICK else 7):
    f()                                                     # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return 1e3 * np.median(ts)


vg = autograd.value_and_grad(training_loss)
costs = {}
for K_ in (0, 1, 2):
    for sg in ((True, False) if K_ else (True,)):
        label = f"K={K_}" + ("" if not K_ else (", stop-grad" if sg else ", 2nd order"))
        costs[label] = median_time(lambda: vg(params, x, y, eps, num_steps=K_, alpha=alpha,
                                              stop_gradient=sg))
for label, ms in costs.items():
    print(f"{label:>16}: {ms:6.1f} ms  ({ms / costs['K=0']:.1f}x mean training)")
plt.figure(figsize=(5.5, 2.8))
plt.barh(list(costs), list(costs.values()), color="C0")
plt.xlabel("ms per training step (loss + gradient)")
plt.gca().invert_yaxis()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - The latent objective of pair $i$ is the log-likelihood of the other pairs; its gradient
#   for all pairs of all tasks comes from one backward pass of the summed objective.
# - Plain steps need a small $\alpha$ because the objective is a sum; Adam normalises.
# - Stop-gradient makes the refinement a constant for the outer gradient: cheaper than
#   differentiating through the inner gradient (second order), which autograd also does.
#
# ## Exercises
# 1. `exercises/ex07_latent_ascent_step.py`: one step, with and without stop-gradient.
# 2. Use `reduce="mean"` (per-cell mean, as the official code). How must $\alpha$ change?
# 3. `best_of_trajectory=True` keeps the best point visited. When does that matter?
