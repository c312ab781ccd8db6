# %% [markdown]
# # Chapter 3: the decoder p_theta(y | x, z), cross-entropy and the log-likelihood
#
# **What this chapter builds:** the "program interpreter": given an input grid and a latent
# program $z$, a probability for every colour of every output cell; and the score of a
# true output under it, the log-likelihood of eq. 9.
#
# **Algorithm 2, line 12** (the reconstruction term) and the objective searched in lines 9-11.

# %%
import numpy as np
import matplotlib.pyplot as plt

import lpn_mini
from lpn_mini import decode, init_params, log_likelihood, log_softmax
from lpn_mini.experiments.plotting import draw_grid

# %% [markdown]
# ## Logits for every cell
#
# The decoder reads `[one_hot(x), z]` and outputs $H W C$ numbers, reshaped to logits of
# shape `(H, W, C)`: one unnormalised score per colour per cell. Each cell is an independent
# categorical distribution, $p(y_{hw} = c) = \mathrm{softmax}(\text{logits}_{hw})_c$.

# %%
rng = np.random.default_rng(0)
H = W = 4
C, d = 10, 8
params = init_params(rng, (H, W), C, d, hidden=(64, 64))
x, y = lpn_mini.pattern_tasks(rng, 1, 1, grid_size=4, pattern_size=2)
x, y = x[0, 0], y[0, 0]                               # one pair: (H, W) each
z = rng.standard_normal(d)
logits = decode(params["decoder"], x, z)
print("logits:", logits.shape)

# %% [markdown]
# ## Log-softmax, stably
#
# $\log \mathrm{softmax}(l)_c = l_c - \log \sum_k e^{l_k}$. Computed naively, $e^{l}$
# overflows for logits in the hundreds. Subtracting the maximum first changes nothing
# mathematically, since $\log \sum_k e^{l_k} = m + \log \sum_k e^{l_k - m}$, and keeps
# every exponent $\le 0$:

# %%
big = np.array([1000.0, 999.0, 0.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = big - np.log(np.sum(np.exp(big)))
print("naive:", naive, "   stable:", log_softmax(big))
assert not np.all(np.isfinite(naive)) and np.all(np.isfinite(log_softmax(big)))

# %% [markdown]
# ## The log-likelihood (eq. 9) is a cross-entropy
#
# The log-probability of the whole true output grid is the sum over cells of the
# log-softmax at the true colour:
#
# $$\log p_\theta(y \mid x, z) = \sum_{h, w} \log \mathrm{softmax}(\text{logits}_{hw})_{y_{hw}}.$$
#
# Its negative is the familiar cross-entropy loss, summed over cells. Written by hand with
# a loop, then by the library:

# %%
by_hand = sum(log_softmax(logits[h, w])[y[h, w]] for h in range(H) for w in range(W))
print("by hand:", by_hand, "  library:", log_likelihood(params["decoder"], x, y, z))
assert np.isclose(by_hand, log_likelihood(params["decoder"], x, y, z))

# %% [markdown]
# A model that knows nothing, all logits equal, gives each cell probability $1/C$, so the
# grid gets $-HW \log C$. That is the baseline every trained model must beat:

# %%
W_last, b_last = params["decoder"][-1]
flat_decoder = params["decoder"][:-1] + [(np.zeros_like(W_last), np.zeros_like(b_last))]
uniform = log_likelihood(flat_decoder, x, y, z)
assert np.isclose(uniform, -H * W * np.log(C))
print(f"uniform model: {uniform:.3f} = -16 log 10")

# %% [markdown]
# Eq. 9 sums over cells, and so do chapters 1-8. (`reduce="mean"` averages instead, which
# is what the official code does; the two differ by the constant factor $HW$, and chapter 9
# measures what that changes.)
#
# ## What an untrained decoder believes
#
# Probability of the true colour, cell by cell, for this random decoder: near $1/C$
# everywhere. Training (chapter 7) will push it towards 1.

# %%
p_true = np.exp(np.take_along_axis(log_softmax(logits), y[..., None], axis=-1))[..., 0]
fig, axes = plt.subplots(1, 3, figsize=(7, 2.4))
draw_grid(axes[0], x, "input x")
draw_grid(axes[1], y, "true output y")
im = axes[2].imshow(p_true, vmin=0, vmax=1, cmap="viridis")
axes[2].set_title("p(true colour), untrained", fontsize=8)
axes[2].set_xticks([]); axes[2].set_yticks([])
fig.colorbar(im, ax=axes[2], fraction=0.046)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - The decoder turns `(x, z)` into per-cell logits `(H, W, C)`.
# - Log-softmax with the maximum subtracted is exact and never overflows.
# - The log-likelihood of eq. 9 is the sum over cells of the log-probability of the true
#   colour; uniform logits give $-HW\log C$.
#
# ## Exercises
# 1. `exercises/ex05_log_likelihood.py`.
# 2. The decoder's leading shapes broadcast: decode `x[None, :]` against three latents
#    `z` of shape `(3, 1, d)`. What shape comes back, and why is it cheaper than three calls?
