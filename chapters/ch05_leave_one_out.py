# %% [markdown]
# # Chapter 5: leave-one-out latents, and why a pair never sees its own
#
# **What this chapter builds:** the step that turns a variational auto-encoder into a
# *program* learner. Each pair's reconstruction uses a latent built only from the *other*
# pairs of its task.
#
# **Algorithm 2, lines 7-8:** $z'_i = \frac{1}{n-1} \sum_{j \ne i} z_j$.

# %%
import os

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

import lpn_mini
from lpn_mini import (encode, init_params, kl_divergence, leave_one_out_mean,
                      leave_one_out_predict, log_likelihood, reparameterize, scores,
                      training_loss)
from lpn_mini.optim import adam_init, adam_update

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# ## The mean of the others, without a loop
#
# The sum of the others is the total minus your own, so all $N$ leave-one-out means of
# all $B$ tasks come from one sum and one subtraction:

# %%
z = np.arange(12.0).reshape(1, 4, 3)          # one task, 4 pairs, d = 3
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
# Suppose pair $i$ were reconstructed from its own $z_i$. The encoder saw $y_i$, so it can
# simply write $y_i$ into $z_i$ and the decoder copies it back out: the reconstruction loss
# goes to zero without the model learning anything about the *program* shared by the pairs.
# At test time there is no $y_{n+1}$ to encode, and the shortcut is useless.
#
# A live experiment. Two models, the same data, the same optimizer: one trained with
# Algorithm 2 (leave-one-out), one with a "cheating" loss that decodes each pair from its
# own latent. Then both are scored the honest way: each pair predicted from the others.

# %%
def cheating_loss(params, x, y, eps, beta=1e-4):
    mu, logvar = encode(params["encoder"], x, y)
    z = reparameterize(mu, logvar, eps)            # no leave-one-out: z'_i = z_i
    rec = -log_likelihood(params["decoder"], x, y, z)
    return anp.mean(rec + beta * kl_divergence(mu, logvar))


def honest_loss(params, x, y, eps):
    return training_loss(params, x, y, eps, num_steps=0, beta=1e-4)


steps = 150 if QUICK else 1500
curves, models = {}, {}
for name, loss in (("leave-one-out", honest_loss), ("own latent (cheating)", cheating_loss)):
    rng = np.random.default_rng(0)
    params = init_params(rng, (4, 4), 10, 8, (256, 256), dtype=np.float32)
    state, grad = adam_init(params), autograd.value_and_grad(loss)
    curves[name] = []
    for step in range(steps):
        x, y = lpn_mini.pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)
        eps = rng.standard_normal((64, 4, 8)).astype(np.float32)
        value, g = grad(params, x, y, eps)
        params, state = adam_update(params, g, state, lr=2e-3)
        curves[name].append(float(value))
    models[name] = params

ex, ey = lpn_mini.pattern_tasks(np.random.default_rng(1), 256, 4, grid_size=4, pattern_size=2)
held_out = {name: scores(leave_one_out_predict(p, ex, ey), ey) for name, p in models.items()}
for name in models:
    print(f"{name:>22}: final training loss {np.mean(curves[name][-20:]):6.3f}, "
          f"held-out exact match {100 * held_out[name]['exact_match']:5.1f}%")

fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
for name, curve in curves.items():
    axes[0].plot(curve, label=name)
axes[0].set_yscale("log"); axes[0].set_xlabel("step"); axes[0].set_title("training loss", fontsize=9)
axes[0].legend(fontsize=8)
axes[1].bar(list(held_out), [100 * r["exact_match"] for r in held_out.values()], color=["C0", "C1"])
axes[1].set_title("exact match, each pair predicted from the others", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The cheating model reaches the lower training loss and the worse held-out score: its
# low loss was a copy, not a program.

# %%
assert np.mean(curves["own latent (cheating)"][-20:]) < np.mean(curves["leave-one-out"][-20:])
assert held_out["own latent (cheating)"]["exact_match"] <= held_out["leave-one-out"]["exact_match"]

# %% [markdown]
# ## Summary
# - $z'_i$ is the mean of the other pairs' latents: one sum, one subtraction, no loop.
# - It never depends on $z_i$, so the encoder cannot smuggle $y_i$ to its own reconstruction;
#   the latent must carry what the pairs *share*, which is the program.
#
# ## Exercises
# 1. `exercises/ex06_leave_one_out_mean.py`.
# 2. With $N = 2$ pairs, what is $z'_1$? Why does leave-one-out need at least two pairs?
