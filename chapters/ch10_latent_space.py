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

from lpn_mini import (decode, infer_latent, latent_gradient_ascent,
                      specification_log_likelihood)
from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks
from lpn_mini.experiments.plotting import draw_grid
from lpn_mini.training import train

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# The `latent2d` preset: 4 x 4 grids, 2 x 2 patterns, a latent of $d = 2$ and, as in the
# paper's 2-D experiment, $\beta = 10^{-3}$; 3000 training steps (300 in quick mode,
# whose figures say QUICK MODE). 3000 steps are far fewer than the paper's 200k of mean
# training for its 2-D model, and this model gets few held-out tasks exactly right
# (`results/latent2d/`): whether two dimensions could hold all $9^4$ patterns with more
# training is not tested here. Read the pictures as a map of what this model learned,
# not of what a 2-D latent can hold.

# %%
config = make_config("latent2d", overrides=[f"steps={300 if QUICK else 3000}", "eval_every=0"])
with tempfile.TemporaryDirectory() as run:
    params = train(config, run, progress=False)
dec = params["decoder"]
x, y = eval_tasks(config)      # the config's evaluation tasks: programs training never saw

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
fig.suptitle(("QUICK MODE (300 training steps): " if QUICK else "")
             + "decoded outputs over the latent plane (one fixed input)", fontsize=9,
             color="red" if QUICK else "black")
plt.tight_layout()
plt.show()
distinct = len({o.tobytes() for o in outputs.reshape(R * R, -1)})
print("distinct outputs on the plane:", distinct)
assert distinct > 1                                  # different points, different programs

# %% [markdown]
# ## The likelihood landscape of one task, and two paths of gradient ascent
#
# For one task, colour every latent by how well it explains the task's pairs,
# $\sum_i \log p_\theta(y_i \mid x_i, z)$ (the sum of Algorithm 1, read literally).

# %%
task = 0
xt, yt = x[task:task + 1], y[task:task + 1]                                # one task, 4 pairs
mask = np.ones((1, 4))                                                     # every pair counts
dense_ticks = np.linspace(-extent, extent, 61)
Z = np.stack(np.meshgrid(dense_ticks, dense_ticks), axis=-1).reshape(1, -1, 2)   # (1, 3721, 2)
landscape = specification_log_likelihood(dec, xt, yt, Z, mask).reshape(61, 61)

# %% [markdown]
# Gradient ascent (Algorithm 1) starts from the encoder's guess, the mean of the pairs'
# $\mu$, and takes plain steps $z \leftarrow z + \alpha \nabla_z \sum_i \log p_\theta$
# with $\alpha = 0.01$, smaller than the `literal` preset's 0.05: on the trained model's
# steep landscape, plain steps of 0.05 overshoot and the likelihood falls (this chapter's exercise 3).
# To see what the encoder is worth, the same ascent also starts from the prior's mean,
# $z = 0$: where a search with no encoder would start.

# %%
def climb(z_start, K=60):
    """The K + 1 points of plain gradient ascent from ``z_start`` (1, 1, 2)."""
    path = [z_start]
    for _ in range(K):                                                     # plain steps: stateless
        path.append(latent_gradient_ascent(dec, xt, yt, path[-1], mask, num_steps=1,
                                           alpha=0.01))
    path = np.concatenate(path)[:, 0]                                      # (K + 1, 2)
    return path, specification_log_likelihood(dec, xt, yt, path[None], mask)[0]


guess = infer_latent(params, xt, yt, num_steps=0)[:, None]              # (1, 1, 2): Algorithm 1, K = 0
paths = {"from the encoder's guess": climb(guess),
         "from the prior mean z = 0": climb(np.zeros((1, 1, 2)))}
for name, (path, values) in paths.items():
    print(f"{name:<26}: log-likelihood {values[0]:7.2f} -> {values[-1]:7.2f}, "
          f"moved {np.linalg.norm(path[-1] - path[0]):.2f} in the plane")

# %%
fig, ax = plt.subplots(figsize=(5.2, 4.4))
cs = ax.contourf(dense_ticks, dense_ticks, np.maximum(landscape, np.percentile(landscape, 5)),
                 levels=30, cmap="viridis")
fig.colorbar(cs, label="sum_i log p(y_i | x_i, z)")
for (name, (path, _)), colour in zip(paths.items(), ("white", "orange")):
    ax.plot(path[:, 0], path[:, 1], ".-", color=colour, markersize=4, linewidth=1, label=name)
    ax.plot(*path[0], "o", color=colour, markersize=9, fillstyle="none")
    ax.plot(*path[-1], "*", color="red", markersize=12)
ax.legend(fontsize=7, loc="lower left")
ax.set_xlabel("z[0]"); ax.set_ylabel("z[1]")
ax.set_title(("QUICK MODE (300 training steps): " if QUICK else "")
             + "one task's landscape; circles: starts, stars: ends", fontsize=9,
             color="red" if QUICK else "black")
plt.tight_layout()
plt.show()

# %% [markdown]
# Both paths climb. The encoder's guess already starts higher than the prior mean, near
# the top of its hill, so the ascent from it has little left to do; from the prior mean
# the ascent climbs a long, visible way (by more than 3 nats). That is the division of
# labour of Algorithm 1: the encoder lands near a good region, the search polishes.
#
# Where the climb from the prior ends depends on the landscape. After the full 3000
# training steps it stops on a lower hill than the one the encoder points to (checked
# below in full mode), as the paper found: a search started from the prior does far
# worse. In quick mode the barely trained landscape is smooth, both paths end about as
# high, and that comparison is not checked.

# %%
(guess_path, guess), (prior_path, prior) = paths.values()
assert guess[-1] >= guess[0] and prior[-1] > prior[0]                      # both climb
assert guess[0] > prior[0]                              # the encoder starts higher
assert prior[-1] - prior[0] > 3.0, prior[[0, -1]]       # a long climb from the prior
assert np.linalg.norm(prior_path[-1] - prior_path[0]) > 0.5   # visible in the plane
if not QUICK:
    assert guess[-1] > prior[-1] + 1.0, (guess[-1], prior[-1])  # the prior's hill is lower

# %% [markdown]
# What the end point of the search from the encoder's guess decodes to, for the task's
# own inputs:

# %%
before = np.argmax(decode(dec, xt[0], guess_path[0]), axis=-1)
after = np.argmax(decode(dec, xt[0], guess_path[-1]), axis=-1)
fig, axes = plt.subplots(3, 4, figsize=(5, 4))
for n in range(4):
    draw_grid(axes[0, n], yt[0, n], f"y{n + 1}")
    draw_grid(axes[1, n], before[n], "start")
    draw_grid(axes[2, n], after[n], "after ascent")
if QUICK:
    fig.suptitle("QUICK MODE: a model of 300 training steps", fontsize=9, color="red")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - A 2-D latent can be drawn: regions of the plane run different programs.
# - Each task defines a likelihood landscape over the plane; the encoder lands near the
#   top of a good region and gradient ascent walks the rest of the way uphill. From the
#   prior mean, with no encoder, the same ascent has a long way to climb.
#
# ## Exercises
# 1. Draw the landscape for a task the model gets wrong. Is the encoder's guess in the
#    wrong basin, or is the best point of the plane itself wrong?
# 2. Start the ascent from a far corner of the plane, e.g. (2.5, -2.5). Does it reach the
#    same hill as the other two paths?
# 3. Run the two paths with $\alpha = 0.05$. Plot the log-likelihood against the step:
#    where does it fall, and what does the landscape look like there?
# 4. Compare `optimizer="adam"` paths with plain steps on the same landscape.
