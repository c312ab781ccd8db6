# %% [markdown]
# # Chapter 5: leave-one-out latents, and why a pair never sees its own
#
# **What this chapter builds:** the step that turns a variational auto-encoder into a
# *program* learner. Each pair's reconstruction uses a latent built only from the *other*
# pairs of its task.
#
# **Algorithm 2, the lines this chapter builds:**
#
# | line | |
# |---|---|
# | 4-6 | $z_i = \mu_i + \epsilon_i \odot \sigma_i$ for every pair (chapter 2) |
# | **7-8** | $z'_i = \frac{1}{N-1} \sum_{j \ne i} z_j$ |
# | 12 | $L_i = -\log p_\theta(y_i \mid x_i, z'_i) + \beta\, \mathrm{KL}_i$ (chapters 3 and 4) |
# | 14 | $L = $ the mean of the $L_i$ |
#
# Lines 9-11 (the latent search) come in chapter 6; without them ($K = 0$) the latent that
# reconstructs pair $i$ is just the leave-one-out mean.

# %%
import os

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import (decode, encode, init_params, kl_divergence, leave_one_out_mean,
                      leave_one_out_predict, log_likelihood, pattern_tasks, reparameterize,
                      scores, training_loss)
from lpn_mini.optim import adam_init, adam_update

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# ## The mean of the others, without a loop
#
# The sum of the others is the total minus your own, so all $N$ leave-one-out means of
# all $B$ tasks come from one sum and one subtraction:

# %%
z = np.arange(12.0).reshape(1, 4, 3)          # one task, N = 4 pairs, d = 3
z_prime = leave_one_out_mean(z)                # (B, N, d)
print(z[0], "\n->\n", z_prime[0])
assert np.allclose(z_prime[0, 0], z[0, 1:].mean(axis=0))

# %% [markdown]
# The property that matters, as a derivative: $z'_i$ does not move when $z_i$ moves. The
# Jacobian $\partial z'_i / \partial z_j$ is $0$ for $j = i$ and $1/(N-1)$ otherwise.

# %%
jac = autograd.jacobian(lambda z: leave_one_out_mean(z)[0, 0, 0])(z)   # d z'_0[0] / d z
print(jac[0, :, 0])
assert jac[0, 0, 0] == 0 and np.allclose(jac[0, 1:, 0], 1 / 3)

# %% [markdown]
# ## Why: a model allowed to see its own latent cheats
#
# Chapter 4 trained a model that reconstructs pair $i$ from its own $z_i$. The encoder saw
# $y_i$, so it can simply write $y_i$ into $z_i$ and the decoder copies it back out: in
# chapter 4's full run that model got 100% of the cells right from its own latent. But it learned nothing about the *program* the pairs share,
# and at test time there is no $y_{N+1}$ to encode. Leave-one-out closes the shortcut: the
# loss is chapter 4's with one line added.

# %%
def own_latent_loss(params, x, y, eps, beta=1e-4):              # chapter 4's loss
    mu, logvar = encode(params["encoder"], x, y)                  # (B, N, d)
    z_own = reparameterize(mu, logvar, eps)
    rec = -log_likelihood(params["decoder"], x, y, z_own)         # (B, N)
    return anp.mean(rec + beta * kl_divergence(mu, logvar))


def mean_training_loss(params, x, y, eps, beta=1e-4):
    mu, logvar = encode(params["encoder"], x, y)                  # (B, N, d)   line 4
    z_from_others = leave_one_out_mean(reparameterize(mu, logvar, eps))   # lines 4-8
    rec = -log_likelihood(params["decoder"], x, y, z_from_others)  # (B, N)    line 12
    return anp.mean(rec + beta * kl_divergence(mu, logvar))       # lines 12-14

# %% [markdown]
# This is Algorithm 2 with $K = 0$, "mean training". The library's `training_loss` is the
# whole of Algorithm 2 (chapter 7 builds it); with `num_steps=0` it is exactly this:

# %%
rng = np.random.default_rng(0)
params = init_params(rng, (4, 4), 10, 8, (64, 64))
x, y = pattern_tasks(rng, 8, 4, grid_size=4, pattern_size=2)
eps = rng.standard_normal((8, 4, 8))
assert np.isclose(mean_training_loss(params, x, y, eps), training_loss(params, x, y, eps, num_steps=0))

# %% [markdown]
# Scoring has to be honest too: predict pair $i$ from the *other* pairs (their mean latent;
# here each pair's latent is its $\mu$, the centre of $q_\phi$, rather than a sample: chapter
# 8's search may start from either), take the most likely colour of
# every cell, and count a task's pair right only if the whole grid is. The library's
# `leave_one_out_predict` and `scores` do the same:

# %%
def predict_from_others(params, x, y):
    mu, _ = encode(params["encoder"], x, y)
    logits = decode(params["decoder"], x, leave_one_out_mean(mu))    # (B, N, H, W, C)
    return np.argmax(logits, axis=-1)                                # (B, N, H, W)


guess = predict_from_others(params, x, y)
assert np.array_equal(guess, leave_one_out_predict(params, x, y))
exact = np.mean(np.all(guess == y, axis=(-2, -1)))                   # whole grids right
assert scores(guess, y) == {"exact_match": exact, "cell_accuracy": np.mean(guess == y)}

# %% [markdown]
# A live experiment: the two losses, the same data, the same Adam loop as chapter 4. Then
# both models are scored the honest way.

# %%
def train_loop(loss, steps, seed=0, lr=2e-3):
    rng = np.random.default_rng(seed)
    params = init_params(rng, (4, 4), 10, 8, (256, 256), dtype=np.float32)
    state, loss_and_grad, curve = adam_init(params), autograd.value_and_grad(loss), []
    for step in range(steps):
        x, y = pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)
        eps = rng.standard_normal((64, 4, 8)).astype(np.float32)
        value, grads = loss_and_grad(params, x, y, eps)
        params, state = adam_update(params, grads, state, lr=lr)
        curve.append(float(value))
    return params, curve


steps = 150 if QUICK else 1500
curves, models = {}, {}
for name, loss in (("leave-one-out", mean_training_loss), ("own latent (cheating)", own_latent_loss)):
    models[name], curves[name] = train_loop(loss, steps)

# %%
ex, ey = pattern_tasks(np.random.default_rng(1), 256, 4, grid_size=4, pattern_size=2)
held_out = {name: scores(predict_from_others(p, ex, ey), ey) for name, p in models.items()}
for name in models:
    print(f"{name:>22}: final training loss {np.mean(curves[name][-20:]):6.3f}, "
          f"exact match from the other pairs {100 * held_out[name]['exact_match']:5.1f}%")
fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
for name, curve in curves.items():
    axes[0].plot(curve, label=name)
axes[0].set_yscale("log"); axes[0].set_xlabel("step"); axes[0].set_title("training loss", fontsize=9)
axes[0].legend(fontsize=8)
axes[1].bar(list(held_out), [100 * r["exact_match"] for r in held_out.values()], color=["C0", "C1"])
axes[1].set_title("exact match, each pair predicted from the others", fontsize=9)
if QUICK:
    fig.suptitle(f"QUICK MODE: {steps} training steps", color="red", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The cheating model reaches the lower training loss and the worse honest score: its low
# loss was a copy, not a program.

# %%
assert np.mean(curves["own latent (cheating)"][-20:]) < np.mean(curves["leave-one-out"][-20:])
assert held_out["own latent (cheating)"]["exact_match"] < held_out["leave-one-out"]["exact_match"]

# %% [markdown]
# ## Summary
# - $z'_i$ is the mean of the other pairs' latents: one sum, one subtraction, no loop.
# - It never depends on $z_i$, so the encoder cannot smuggle $y_i$ to its own reconstruction;
#   the latent must carry what the pairs *share*, which is the program.
# - Mean training ($K = 0$) is chapter 4's loss with $z'_i$ in place of $z_i$; honest
#   scoring predicts every pair from the others.
#
# ## Exercises
# 1. `exercises/ex07_leave_one_out_mean.py`.
# 2. With $N = 2$ pairs, what is $z'_1$? Why does leave-one-out need at least two pairs?
