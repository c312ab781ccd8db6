# %% [markdown]
# # Chapter 4: the KL term (eq. 10), a first training loop, and what beta does
#
# **What this chapter builds:** the regulariser that keeps the latent space usable: each
# pair's Gaussian $q_\phi(z \mid x_i, y_i)$ is pulled towards the prior $\mathcal{N}(0, I)$.
#
# **Algorithm 2, line 12:** $L_i = -\log p_\theta(y_i \mid x_i, z'_i) + \beta\,
# \mathrm{KL}(q_\phi(z \mid x_i, y_i) \,\|\, \mathcal{N}(0, I))$.

# %%
import os

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import (decode, encode, init_params, kl_divergence, log_likelihood,
                      pattern_tasks, reparameterize)
from lpn_mini.optim import adam_init, adam_update

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# ## The closed form
#
# For a diagonal Gaussian against the standard normal, the KL divergence has a closed form,
# summed over the $d$ dimensions:
#
# $$\mathrm{KL} = \tfrac12 \sum_d \left(e^{\text{logvar}_d} + \mu_d^2 - 1 - \text{logvar}_d\right).$$
#
# It is zero exactly when $\mu = 0$ and logvar $= 0$, and positive everywhere else.

# %%
assert kl_divergence(np.zeros(3), np.zeros(3)) == 0.0
mus, logvars = np.meshgrid(np.linspace(-2.5, 2.5, 101), np.linspace(-3, 2, 101))
surface = kl_divergence(mus[..., None], logvars[..., None])          # one dimension
assert surface.min() >= 0
fig, ax = plt.subplots(figsize=(4.5, 3.3))
cs = ax.contourf(mus, logvars, surface, levels=20, cmap="magma")
fig.colorbar(cs, label="KL (one dimension)")
ax.plot(0, 0, "w+", markersize=12)
ax.set_xlabel("mu"); ax.set_ylabel("logvar")
ax.set_title("KL to N(0, 1): zero only at mu = 0, logvar = 0", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Checked against its definition
#
# The KL divergence is $\mathbb{E}_{z \sim q}[\log q(z) - \log p(z)]$. A Monte Carlo
# average of that expectation must agree with the closed form, within its standard error:

# %%
rng = np.random.default_rng(0)
mu, logvar = np.array([0.5, -1.0, 0.2]), np.array([0.3, -0.7, 0.0])
sigma = np.exp(0.5 * logvar)
z = mu + sigma * rng.standard_normal((200_000, 3))
log_q = -0.5 * np.sum(((z - mu) / sigma) ** 2 + logvar + np.log(2 * np.pi), axis=-1)
log_p = -0.5 * np.sum(z ** 2 + np.log(2 * np.pi), axis=-1)
mc, se = np.mean(log_q - log_p), np.std(log_q - log_p) / np.sqrt(len(z))
print(f"closed form {kl_divergence(mu, logvar):.4f}, Monte Carlo {mc:.4f} +- {se:.4f}")
assert abs(kl_divergence(mu, logvar) - mc) < 4 * se

# %% [markdown]
# ## A first training loop, and what beta does
#
# $\beta$ trades reconstruction against the prior. With $\beta$ tiny (the paper uses
# $10^{-4}$), latents may sit anywhere and carry all the information the decoder needs. With
# $\beta$ large, every $q$ is pushed onto $\mathcal{N}(0, I)$, the latents stop carrying
# information, and the decoder can only guess.
#
# Everything needed to train something now exists: encoder, reparameterization, decoder,
# log-likelihood, KL, and Adam from chapter 1. The simplest model to train is a variational
# auto-encoder of single pairs: each pair is encoded, sampled, and decoded *from its own
# latent*, with loss $-\log p_\theta(y_i \mid x_i, z_i) + \beta\,\mathrm{KL}_i$. (That is not
# yet LPN: chapter 5 shows what is wrong with it.)

# %%
def vae_loss(params, x, y, eps, beta):
    mu, logvar = encode(params["encoder"], x, y)                 # (B, N, d)
    z_own = reparameterize(mu, logvar, eps)                      # each pair's own latent
    rec = -log_likelihood(params["decoder"], x, y, z_own)        # (B, N)  eq. 9
    return anp.mean(rec + beta * kl_divergence(mu, logvar))      # eq. 11, averaged


def train_loop(loss, steps, seed=0, lr=2e-3, **loss_options):
    """Adam (chapter 1) on a fresh batch of 64 Pattern tasks every step."""
    rng = np.random.default_rng(seed)
    params = init_params(rng, (4, 4), 10, 8, (256, 256), dtype=np.float32)
    state, loss_and_grad = adam_init(params), autograd.value_and_grad(loss)
    for step in range(steps):
        x, y = pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)
        eps = rng.standard_normal((64, 4, 8)).astype(np.float32)
        value, grads = loss_and_grad(params, x, y, eps, **loss_options)
        params, state = adam_update(params, grads, state, lr=lr)
    return params

# %% [markdown]
# The same model trained twice, $\beta = 10^{-4}$ and $\beta = 3$ (1000 steps; 60 when
# `LPN_MINI_QUICK=1`), then measured on fresh tasks: the KL per pair (how far the latents
# sit from the prior, i.e. how much they carry) and how many cells the decoder gets right
# from the pair's own mean latent.

# %%
steps = 60 if QUICK else 1000
x, y = pattern_tasks(np.random.default_rng(1), 256, 4, grid_size=4, pattern_size=2)
rows = {}
for beta in (1e-4, 3.0):
    params = train_loop(vae_loss, steps, beta=beta)
    mu, logvar = encode(params["encoder"], x, y)
    guess = np.argmax(decode(params["decoder"], x, mu), axis=-1)          # (B, N, H, W)
    rows[beta] = {"KL per pair": float(np.mean(kl_divergence(mu, logvar))),
                  "cells right %": 100 * float(np.mean(guess == y))}
    print(f"beta = {beta:g}: " + ", ".join(f"{k} {v:.2f}" for k, v in rows[beta].items()))

# %%
fig, axes = plt.subplots(1, 2, figsize=(6.5, 2.6))
for ax, key in zip(axes, ["KL per pair", "cells right %"]):
    ax.bar([f"beta={b:g}" for b in rows], [r[key] for r in rows.values()], color=["C0", "C3"])
    ax.set_title(key, fontsize=9)
if QUICK:
    fig.suptitle(f"QUICK MODE: {steps} training steps", color="red", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The claim, checked: a large $\beta$ squeezes the information out of the latents, and the
# decoder, left without it, gets fewer cells right.

# %%
assert rows[3.0]["KL per pair"] < 0.5 * rows[1e-4]["KL per pair"]
assert rows[3.0]["cells right %"] < rows[1e-4]["cells right %"]

# %% [markdown]
# ## Summary
# - KL to $\mathcal{N}(0, I)$ has a closed form, zero only at the prior.
# - $\beta$ sets how hard latents are pulled to the prior: small keeps them informative
#   (the paper's $10^{-4}$), large erases them. The prior still matters: it keeps the latent
#   space compact enough to search in (chapter 8).
# - A training loop is four lines: fresh tasks, fresh noise, loss and gradient, Adam.
#
# ## Exercises
# 1. `exercises/ex06_kl_divergence.py`.
# 2. Derive the closed form from $\mathbb{E}_q[\log q - \log p]$ for one dimension.
# 3. Rerun the experiment with $\beta = 0.1$. Where does it land between the two?
