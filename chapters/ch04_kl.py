# %% [markdown]
# # Chapter 4: the KL term (eq. 10), and what beta does
#
# **What this chapter builds:** the regulariser that keeps the latent space usable: each
# pair's Gaussian $q_\phi(z \mid x_i, y_i)$ is pulled towards the prior $\mathcal{N}(0, I)$.
#
# **Algorithm 2, line 12:** $L_i = -\log p_\theta(y_i \mid x_i, z'_i) + \beta\,
# \mathrm{KL}(q_\phi(z \mid x_i, y_i) \,\|\, \mathcal{N}(0, I))$.

# %%
import os
import tempfile

import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import encode, kl_divergence
from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks, evaluate
from lpn_mini.training import train

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
# ## What beta does
#
# $\beta$ trades reconstruction against the prior. With $\beta$ tiny (the paper uses
# $10^{-4}$), latents may sit anywhere and carry all the information the decoder needs. With
# $\beta$ large, every $q$ is pushed onto $\mathcal{N}(0, I)$, the latents stop carrying
# information about the program, and the decoder can only guess. A live experiment: the
# same small model trained with two values of $\beta$ (shortened when `LPN_MINI_QUICK=1`).

# %%
steps = 150 if QUICK else 1200
rows = {}
for beta in (1e-4, 3.0):
    config = make_config("small", overrides=[f"steps={steps}", f"beta={beta}", "eval_tasks=128",
                                             "eval_every=0", "log_every=50"])
    with tempfile.TemporaryDirectory() as run:
        params = train(config, run, progress=False)
    ex, ey = eval_tasks(config)
    m, lv = encode(params["encoder"], ex, ey)
    results, _ = evaluate(params, config, methods=[("Grad 0", "grad", 0)])
    rows[beta] = {"KL per pair": float(np.mean(kl_divergence(m, lv))),
                  "exact match %": 100 * results["Grad 0"]["exact_match"]}
    print(f"beta = {beta:g}: {rows[beta]}")

fig, axes = plt.subplots(1, 2, figsize=(6.5, 2.6))
for ax, key in zip(axes, ["KL per pair", "exact match %"]):
    ax.bar([f"beta={b:g}" for b in rows], [r[key] for r in rows.values()], color=["C0", "C3"])
    ax.set_title(key, fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The claim above, checked: a large $\beta$ squeezes the information out of the latents.

# %%
assert rows[3.0]["KL per pair"] < rows[1e-4]["KL per pair"]

# %% [markdown]
# ## Summary
# - KL to $\mathcal{N}(0, I)$ has a closed form, zero only at the prior.
# - $\beta$ sets how hard latents are pulled to the prior: small keeps them informative
#   (the paper's $10^{-4}$), large erases them. The prior still matters: it keeps the latent
#   space compact enough to search in (chapter 8).
#
# ## Exercises
# 1. `exercises/ex04_kl_divergence.py`.
# 2. Derive the closed form from $\mathbb{E}_q[\log q - \log p]$ for one dimension.
# 3. Rerun the experiment with $\beta = 0.1$. Where does it land between the two?
