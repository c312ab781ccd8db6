# %% [markdown]
# # Chapter 6: gradient ascent in latent space, with autograd
#
# **What this chapter builds:** the heart of LPN. The leave-one-out latent $z'_i$ is only a
# first guess; we improve it by climbing the likelihood of the other pairs *in latent
# space*, with gradients from autograd. Then the subtle part: how the outer training
# gradient should treat those steps.
#
# **Algorithm 2, the lines this chapter builds:**
#
# | line | |
# |---|---|
# | 7-8 | $z'_i = \frac{1}{N-1} \sum_{j \ne i} z_j$ (chapter 5) |
# | **9-11** | $K$ times: $z'_i \leftarrow z'_i + \alpha\, \nabla_z \sum_{j \ne i} \log p_\theta(y_j \mid x_j, z)\big\vert_{z = z'_i}$ (the update is line 10) |
# | 12 | $L_i = -\log p_\theta(y_i \mid x_i, z'_i) + \beta\, \mathrm{KL}_i$, now at the refined $z'_i$ |

# %%
import os
import time

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import (LEAVE_ONE_OUT, encode, init_params, kl_divergence, latent_ascent_step,
                      latent_gradient_ascent, leave_one_out_mask, leave_one_out_mean,
                      log_likelihood, pattern_tasks, reparameterize,
                      specification_log_likelihood, training_loss)
from lpn_mini.optim import adam_init, adam_update

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# A briefly trained model, so that the likelihood landscape has some shape: chapter 5's
# mean training ($K = 0$, the library's `training_loss` with `num_steps=0`) with Adam, in
# float64 so that the comparisons below are exact to rounding (150 steps in quick mode).

# %%
rng = np.random.default_rng(0)
params = init_params(rng, (4, 4), 10, 8, (256, 256))
state, loss_and_grad = adam_init(params), autograd.value_and_grad(training_loss)
for step in range(150 if QUICK else 1000):
    xb, yb = pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)
    _, grads = loss_and_grad(params, xb, yb, rng.standard_normal((64, 4, 8)), num_steps=0)
    params, state = adam_update(params, grads, state, lr=2e-3)
dec = params["decoder"]

x, y = pattern_tasks(rng, 32, 4, grid_size=4, pattern_size=2)
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
def latent_step_by_hand(decoder_params, x, y, z, mask, alpha):
    objective = lambda z: anp.sum(specification_log_likelihood(decoder_params, x, y, z, mask))
    return z + alpha * autograd.grad(objective)(z)                   # line 10


alpha = 0.02
z_one = latent_step_by_hand(dec, x, y, z_prime, mask, alpha)
assert np.allclose(z_one, latent_ascent_step(dec, x, y, z_prime, mask, alpha, stop_gradient=False))
assert np.allclose(z_one, latent_gradient_ascent(dec, x, y, z_prime, mask, num_steps=1, alpha=alpha))
assert np.all(specification_log_likelihood(dec, x, y, z_one, mask) > J)   # every objective rose
print("one step raised all", J.size, "objectives")

# %% [markdown]
# ## Many steps, and the step size
#
# `latent_gradient_ascent` repeats the step $K$ times. The objective is a *sum* over cells
# and pairs, so its gradient is large, and the step size $\alpha$ matters: too small and
# $K$ steps barely move; too large and a step jumps past the top of the hill and lands
# lower than it started.

# %%
Ks = [0, 1, 2, 3, 5, 8, 12, 20]
climbs = {}
for alpha_ in (0.005, 0.05, 0.5, 5.0):
    climbs[alpha_] = [specification_log_likelihood(dec, x, y, latent_gradient_ascent(
        dec, x, y, z_prime, mask, num_steps=k, alpha=alpha_), mask).mean() for k in Ks]
fig, ax = plt.subplots(figsize=(5.5, 3.3))
for alpha_, curve in climbs.items():
    ax.plot(Ks, curve, "o-", label=f"alpha {alpha_:g}")
ax.set_ylim(bottom=J.mean() - 3)        # an overshooting curve falls out of view
ax.set_xlabel("latent steps K"); ax.set_ylabel("mean objective (log-likelihood)")
ax.legend(fontsize=8)
ax.set_title(("QUICK MODE: a briefly trained model. " if QUICK else "")
             + "Climbing the likelihood of the other pairs", fontsize=9, color="red" if QUICK else "black")
plt.tight_layout()
plt.show()

# %% [markdown]
# Checked: a small step climbs at every step but slowly; the largest step ends lower than
# a moderate one (and here lower than where it started).

# %%
assert all(b > a for a, b in zip(climbs[0.005], climbs[0.005][1:]))
assert climbs[5.0][-1] < climbs[0.05][-1]
print({a: f"{c[0]:.2f} -> {c[-1]:.2f}" for a, c in climbs.items()})

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
# And the cost, measured on this machine in CPU time (median of several runs of loss +
# gradient, 32 tasks x 4 pairs; your numbers will differ, the ratios less so):

# %%
def median_time(f, repeats=5 if QUICK else 9):
    f()                                                     # warm-up
    ts = []
    for _ in range(repeats):
        t = time.process_time(); f(); ts.append(time.process_time() - t)
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
plt.xlabel("CPU ms per training step (loss + gradient)")
plt.gca().invert_yaxis()
plt.tight_layout()
plt.show()
assert costs["K=1, stop-grad"] < costs["K=1, 2nd order"]       # cheaper, as claimed

# %% [markdown]
# ## Summary
# - The latent objective of pair $i$ is the log-likelihood of the other pairs; its gradient
#   for all pairs of all tasks comes from one backward pass of the summed objective.
# - Plain steps need a step size matched to the objective's scale: too small crawls, too
#   large overshoots. (The official code steps with Adam instead; chapter 9.)
# - Stop-gradient makes the refinement a constant for the outer gradient: cheaper than
#   differentiating through the inner gradient (second order), which autograd also does.
#
# ## Exercises
# 1. `exercises/ex08_latent_ascent_step.py`: one step, with and without stop-gradient.
# 2. Why does the objective's gradient grow with the grid's size? What would you change in
#    $\alpha$ for 10 x 10 grids?
# 3. Time $K = 5$ with and without stop-gradient. How does the ratio grow with $K$?
