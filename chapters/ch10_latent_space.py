# %% [markdown]
# # Chapter 10: inside the latent space
#
# **What this chapter builds:** pictures of what was learned. With a 2-dimensional latent
# we can draw the whole latent space: which program each point runs, how well each point
# explains a task's pairs, and the path gradient ascent takes through it.
#
# **Algorithm 1 and Algorithm 2, lines 9-11**, seen from inside.

# %%
import os
import tempfile

import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import (decode, encode, latent_gradient_ascent, specification_log_likelihood)
from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks
from lpn_mini.experiments.plotting import draw_grid
from lpn_mini.training import train

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# The `latent2d` preset: 4 x 4 grids, 2 x 2 patterns, a latent of $d = 2$ and, as in the
# paper's 2-D experiment, $\beta = 10^{-3}$ (shortened in quick mode). 3000 training steps
# are far fewer than the paper's 200k of mean training for its 2-D model, and this model
# gets few held-out tasks exactly right (`results/latent2d/`): whether two dimensions could
# hold all $9^4$ patterns with more training is not tested here. Read the pictures as a map
# of what this model learned, not of what a 2-D latent can hold.

# %%
config = make_config("latent2d", overrides=[f"steps={300 if QUICK else 3000}", "eval_every=0"])
with tempfile.TemporaryDirectory() as run:
    params = train(config, run, progress=False)
dec = params["decoder"]
x, y = eval_tasks(config)

# %% [markdown]
# ## Which program lives where
#
# Fix one input grid and decode it at every point of a grid over the latent plane. Each
# small picture is the output the decoder produces there: the latent plane is a map of
# programs.

# %%
extent, R = 3.0, 9
ticks = np.linspace(-extent, extent, R)
plane = np.stack(np.meshgrid(ticks, ticks[::-1]), axis=-1)                 # (R, R, 2)
outputs = np.argmax(decode(dec, x[0, 0][None, None], plane), axis=-1)      # (R, R, H, W)
fig, axes = plt.subplots(R, R, figsize=(6, 6))
for i in range(R):
    for j in range(R):
        draw_grid(axes[i, j], outputs[i, j])
fig.suptitle("decoded outputs over the latent plane (one fixed input)", fontsize=9)
plt.tight_layout()
plt.show()
print("distinct outputs on the plane:", len({o.tobytes() for o in outputs.reshape(R * R, -1)}))

# %% [markdown]
# ## The likelihood landscape of one task, and the path of gradient ascent
#
# For one task, colour every latent by how well it explains the task's pairs,
# $\sum_i \log p_\theta(y_i \mid x_i, z)$. The encoder's guess is the white circle: the mean
# of the pairs' $\mu$. Gradient ascent (Algorithm 1) climbs from there; each dot is one step.

# %%
task = 0
xt, yt = x[task:task + 1], y[task:task + 1]                                # one task, 4 pairs
dense_ticks = np.linspace(-extent, extent, 61)
Z = np.stack(np.meshgrid(dense_ticks, dense_ticks), axis=-1).reshape(1, -1, 2)   # (1, 3721, 2)
landscape = specification_log_likelihood(dec, xt, yt, Z, np.ones((1, 4))).reshape(61, 61)

mu, _ = encode(params["encoder"], xt, yt)
start = mu.mean(axis=1, keepdims=True)                                     # (1, 1, 2)
path = [start]
for _ in range(25 if QUICK else 40):                                       # plain steps: stateless
    path.append(latent_gradient_ascent(dec, xt, yt, path[-1], np.ones((1, 4)), num_steps=1,
                                       alpha=0.02))
path = np.concatenate(path)[:, 0]                                          # (K + 1, 2)
values = specification_log_likelihood(dec, xt, yt, path[None], np.ones((1, 4)))[0]

fig, ax = plt.subplots(figsize=(5.2, 4.4))
cs = ax.contourf(dense_ticks, dense_ticks, np.maximum(landscape, np.percentile(landscape, 5)),
                 levels=30, cmap="viridis")
fig.colorbar(cs, label="sum_i log p(y_i | x_i, z)")
ax.plot(path[:, 0], path[:, 1], "w.-", markersize=4, linewidth=1)
ax.plot(*path[0], "wo", markersize=9, fillstyle="none")
ax.plot(*path[-1], "r*", markersize=12)
ax.set_xlabel("z[0]"); ax.set_ylabel("z[1]")
ax.set_title("one task's likelihood landscape and the ascent path", fontsize=9)
plt.tight_layout()
plt.show()
print(f"log-likelihood: start {values[0]:.2f} -> end {values[-1]:.2f}")

# %% [markdown]
# The ascent climbs: the end point explains the task's pairs better than the start.

# %%
assert values[-1] > values[0]

# %% [markdown]
# What the end point decodes to, for the task's own inputs:

# %%
before = np.argmax(decode(dec, xt[0], path[0]), axis=-1)
after = np.argmax(decode(dec, xt[0], path[-1]), axis=-1)
fig, axes = plt.subplots(3, 4, figsize=(5, 4))
for n in range(4):
    draw_grid(axes[0, n], yt[0, n], f"y{n + 1}")
    draw_grid(axes[1, n], before[n], "start")
    draw_grid(axes[2, n], after[n], "after ascent")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - A 2-D latent can be drawn: regions of the plane run different programs.
# - Each task defines a likelihood landscape over the plane; the encoder lands near a good
#   region and gradient ascent walks uphill from there.
#
# ## Exercises
# 1. Draw the landscape for a task the model gets wrong. Is the encoder's guess in the
#    wrong basin, or is the best point of the plane itself wrong?
# 2. Start the ascent from the prior mean (0, 0) instead. Where does it end up?
# 3. Compare `optimizer="adam"` paths with plain steps on the same landscape.
