# %% [markdown]
# # Chapter 2: the encoder q_phi(z | x, y) and the reparameterization trick
#
# **What this chapter builds:** the map from one input/output pair to a *distribution* over
# latent programs, and a way to sample from it that gradients can flow through.
#
# **Algorithm 2, lines 4-6:** for every pair, sample $z_i \sim q_\phi(z \mid x_i, y_i)$ with
# the reparameterization trick.

# %%
import autograd
import numpy as np
import matplotlib.pyplot as plt

import lpn_mini
from lpn_mini import encode, init_params, one_hot, reparameterize

# %% [markdown]
# ## From grids to vectors: one-hot
#
# An MLP reads vectors. A grid of colours becomes a one-hot vector: for each cell, $C$
# numbers, a 1 at the cell's colour and 0 elsewhere, laid out row-major over (H, W, C).
# An $H \times W$ grid becomes $H W C$ numbers.

# %%
grid = np.array([[0, 2], [1, 0]])
hot = one_hot(grid, num_colors=3)
print(hot.reshape(2, 2, 3))
assert hot.shape == (2 * 2 * 3,) and hot.sum() == 4

# %% [markdown]
# ## The encoder
#
# The encoder reads a pair, the concatenation `[one_hot(x), one_hot(y)]`, and outputs $2d$
# numbers: the mean `mu` and the log-variance `logvar` of a diagonal Gaussian over
# $\mathbb{R}^d$. Predicting the *log* of the variance keeps the variance positive without
# any constraint on the network's output.

# %%
rng = np.random.default_rng(0)
d = 8
params = init_params(rng, grid_shape=(4, 4), num_colors=10, latent_dim=d, hidden=(64, 64))
x, y = lpn_mini.pattern_tasks(rng, num_tasks=2, num_pairs=3, grid_size=4, pattern_size=2)
mu, logvar = encode(params["encoder"], x, y)
print("mu:", mu.shape, " logvar:", logvar.shape)     # one Gaussian per pair: (B, N, d)

# %% [markdown]
# The encoder stacks the one-hots of x and y into one vector of $2HWC$ numbers per pair
# and runs the MLP of chapter 1 on it; its last layer has $2d$ outputs, $\mu$ then logvar.
# Its layer shapes, then that concatenation written out, for comparison:

# %%
from lpn_mini.mlp import mlp_forward

print("encoder layers (W shapes):", [W.shape for W, b in params["encoder"]])   # 2*16*10 -> 64 -> 64 -> 2d
assert params["encoder"][0][0].shape[0] == 2 * 4 * 4 * 10 and params["encoder"][-1][0].shape[1] == 2 * d

plain = mlp_forward(params["encoder"], np.concatenate([one_hot(x, 10), one_hot(y, 10)], axis=-1))
assert np.allclose(plain[..., :d], mu) and np.allclose(plain[..., d:], logvar)

# %% [markdown]
# ## Sampling, and why it needs a trick
#
# We want $z \sim \mathcal{N}(\mu, \sigma^2)$ with $\sigma = e^{\text{logvar}/2}$, *and* the
# gradient of whatever we compute from $z$ with respect to the encoder's parameters.
# "Draw a random number" has no gradient. The trick: draw $\epsilon \sim \mathcal{N}(0, I)$
# first, outside the model, then
#
# $$z = \mu + \epsilon \odot e^{\text{logvar}/2}.$$
#
# Now $z$ is a plain differentiable function of $\mu$ and logvar, and all the randomness
# sits in $\epsilon$, which we pass in. (That also makes every loss in lpn-mini a
# deterministic function of its inputs: same `eps`, same number.)

# %%
mu1, logvar1 = np.array([1.0, -2.0]), np.log(np.array([0.25, 4.0]))   # sigma = 0.5 and 2
eps = rng.standard_normal((20000, 2))
z = reparameterize(mu1, logvar1, eps)
print("sample mean", z.mean(axis=0).round(2), " sample std", z.std(axis=0).round(2))
assert np.allclose(z.mean(axis=0), mu1, atol=0.05) and np.allclose(z.std(axis=0), [0.5, 2.0], atol=0.05)

fig, ax = plt.subplots(figsize=(5, 2.8))
ax.hist(z[:, 0], bins=80, alpha=0.6, density=True, label="z[0]: mu 1, sigma 0.5")
ax.hist(z[:, 1], bins=80, alpha=0.6, density=True, label="z[1]: mu -2, sigma 2")
ax.legend(fontsize=8)
ax.set_title("reparameterized samples have the intended mean and spread")
plt.tight_layout()
plt.show()

# %% [markdown]
# And gradients flow: the derivative of $z$ with respect to $\mu$ is 1, with respect to
# logvar it is $\epsilon \cdot \tfrac12 e^{\text{logvar}/2}$.

# %%
e = np.array([0.3, -1.2])
dz_dmu = autograd.jacobian(lambda m: reparameterize(m, logvar1, e))(mu1)
dz_dlogvar = autograd.jacobian(lambda lv: reparameterize(mu1, lv, e))(logvar1)
assert np.allclose(dz_dmu, np.eye(2))
assert np.allclose(np.diag(dz_dlogvar), e * 0.5 * np.exp(0.5 * logvar1))
print("d z / d logvar =", np.diag(dz_dlogvar))

# %% [markdown]
# A common slip is to use `exp(logvar)` as the standard deviation: that is the *variance*.
# With logvar = log 4 it would give spread 4 instead of 2.
#
# ## Summary
# - The encoder maps a pair to `mu, logvar`, a diagonal Gaussian over latent programs.
# - Reparameterization, $z = \mu + \epsilon \sigma$, moves the randomness into an input
#   `eps` so gradients reach the encoder.
#
# ## Exercises
# 1. `exercises/ex04_reparameterize.py`.
# 2. Why predict logvar and not sigma? What would a network have to guarantee otherwise?
# 3. Encode the same pair twice with different `eps`: which of `mu`, `logvar`, `z` change?
