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
                      specification_log_likelihood, training_loss,
                      without_gradient)
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
# latent $z$. More generally, for $M$ latents per task and an $(M, N)$ mask of weights, latent
# $m$ is scored by $\sum_j \text{mask}_{mj} \log p_\theta(y_j \mid x_j, z_m)$. Chapter 3's
# `log_likelihood` broadcasts over leading axes, so giving the pairs an axis of length 1 for
# the latents, and the latents one of length 1 for the pairs, decodes every latent on every
# pair at once:

# %%
def objective_by_hand(decoder_params, x, y, z, mask):
    ll = log_likelihood(decoder_params, x[:, None], y[:, None], z[:, :, None])  # (B, M, N)
    return anp.sum(ll * mask, axis=-1)                                          # (B, M)


mask = leave_one_out_mask(4)        # 1 off the diagonal: latent i is scored on pairs j != i
print(mask)
J = objective_by_hand(dec, x, y, z_prime, mask)                                 # (B, N)
assert np.allclose(J, specification_log_likelihood(dec, x, y, z_prime, mask))
print("objective:", J.shape, "== specification_log_likelihood")

# %% [markdown]
# The mask multiplies a quarter of the work by zero: every latent is also decoded on its own
# pair. `LEAVE_ONE_OUT` is a name (a string) that the library's functions accept in place of
# this mask: they then decode each latent on the other pairs only, with the same numbers.
# Training uses it.

# %%
assert np.allclose(specification_log_likelihood(dec, x, y, z_prime, LEAVE_ONE_OUT), J, rtol=1e-12)

# %% [markdown]
# ## What the outer gradient should see of a step
#
# During training the loss of pair $i$ is computed at the *refined* latent
# $z'_i + \Delta_i$, and the step $\Delta_i = \alpha \nabla_z(\dots)$ itself depends on the
# decoder's weights and on $z'_i$. Two choices for line 15's gradient:
#
# - **second order**: differentiate through $\Delta_i$, i.e. differentiate a gradient.
#   autograd can, by tracing the inner `grad` too.
# - **stop-gradient** (the paper's default): treat $\Delta_i$ as a constant. The loss is
#   still evaluated at $z'_i + \Delta_i$, but the outer gradient passes through the step
#   unchanged to $z'_i$ (and on to the encoder), and the decoder gets no term from how
#   $\Delta_i$ depends on it.
#
# In autograd, a value being differentiated travels inside a "box" that records what is
# done to it. `without_gradient` returns the same numbers with the boxes removed (for arrays,
# and for nested structures like the weights): to autograd, a constant.

# %%
f = lambda a: anp.sum(a * without_gradient(a))          # the second factor is a constant
g = lambda a: anp.sum(a * a)
a = np.array([1.0, 2.0])
print("d/da of a * a:", autograd.grad(g)(a), "  with the second factor stripped:", autograd.grad(f)(a))
assert np.allclose(autograd.grad(f)(a), a) and np.allclose(autograd.grad(g)(a), 2 * a)

# %% [markdown]
# ## One step, by hand
#
# Each latent only affects its own objective, so the gradient of the *sum* of all
# objectives with respect to the `(B, M, d)` array of latents is every latent's own
# gradient, in a single backward pass: no loop over tasks or pairs. With stop-gradient the
# step is computed from stripped copies of the weights and of $z$, and added to the boxed
# $z$: the outer gradient sees $z + \text{constant}$.

# %%
def latent_step_by_hand(decoder_params, x, y, z, mask, alpha, stop_gradient=True):
    params_for_step, z_for_step = decoder_params, z
    if stop_gradient:
        params_for_step, z_for_step = without_gradient(decoder_params), without_gradient(z)
    objective = lambda z: anp.sum(specification_log_likelihood(params_for_step, x, y, z, mask))
    return z + alpha * autograd.grad(objective)(z_for_step)          # line 10: ascent


alpha = 0.02
z_one = latent_step_by_hand(dec, x, y, z_prime, mask, alpha)
for sg in (True, False):
    assert np.allclose(latent_step_by_hand(dec, x, y, z_prime, mask, alpha, sg),
                       latent_ascent_step(dec, x, y, z_prime, mask, alpha, stop_gradient=sg))
assert np.all(specification_log_likelihood(dec, x, y, z_one, mask) > J)   # every objective rose
print("latent_step_by_hand == latent_ascent_step; one step raised all", J.size, "objectives")

# %% [markdown]
# ## Many steps, and the step size
#
# `latent_gradient_ascent` repeats the step $K$ times (lines 9-11); at $K = 1$ it is the
# step above. The objective is a *sum* over cells
# and pairs, so its gradient is large, and the step size $\alpha$ matters: too small and
# $K$ steps barely move; too large and a step jumps past the top of the hill and lands
# lower than it started.

# %%
assert np.allclose(latent_gradient_ascent(dec, x, y, z_prime, mask, num_steps=1, alpha=alpha), z_one)
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
assert climbs[5.0][-1] < climbs[0.05][-1] and climbs[5.0][-1] < climbs[5.0][0]
print({a: f"{c[0]:.2f} -> {c[-1]:.2f}" for a, c in climbs.items()})

# %% [markdown]
# Which $\alpha$ is best depends on how sharp the landscape is, and training sharpens it: on
# the model of the full run (1000 steps) $\alpha = 0.5$ already ends lower than 0.05, while
# on quick mode's barely trained model it still climbs best. $\alpha = 0.05$ climbs on both,
# which is why chapters 7 and 8 use it.

# %%
if not QUICK:
    assert climbs[0.5][-1] < climbs[0.05][-1]

# %% [markdown]
# ## Stop-gradient in the loss
#
# The library's `training_loss` (chapter 5) takes `num_steps` and `stop_gradient`.
# Claim: with stop-gradient, its gradient equals the gradient of the same loss with the
# step $\Delta$ computed once, outside, and added as a constant; second order differs.
# Checked for every weight of both networks:

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


def weights(g):
    return [a for net in ("encoder", "decoder") for W, b in g[net] for a in (W, b)]


g_sg = autograd.grad(lambda p: training_loss(p, x, y, eps, stop_gradient=True, **kw))(params)
g_frozen = autograd.grad(loss_with_frozen_step)(params)
g_full = autograd.grad(lambda p: training_loss(p, x, y, eps, stop_gradient=False, **kw))(params)
assert all(np.allclose(a, b) for a, b in zip(weights(g_sg), weights(g_frozen), strict=True))
gap = max(np.abs(a - b).max() for a, b in zip(weights(g_full), weights(g_sg)))
print(f"stop-gradient == frozen step, every weight; second order differs by up to {gap:.2e}")
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
