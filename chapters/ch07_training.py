# %% [markdown]
# # Chapter 7: the full loss and the training loop
#
# **What this chapter builds:** Algorithm 2 end to end. Every piece from chapters 2-6 goes
# into one scalar loss; autograd differentiates it; Adam updates the parameters; repeat on
# fresh tasks. We write the loop ourselves, train live, and then meet the library's `train`.
#
# **Algorithm 2, lines 12-15.**

# %%
import os
import tempfile
import time

import autograd
import numpy as np
import matplotlib.pyplot as plt

import lpn_mini
from lpn_mini import init_params, leave_one_out_predict, scores, training_loss
from lpn_mini.config import make_config
from lpn_mini.optim import adam_init, adam_update, clip_by_global_norm
from lpn_mini.training import train

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# ## The loss, line by line
#
# `training_loss(params, x, y, eps, ...)` is, in order:
#
# | line | code |
# |---|---|
# | 4 | `mu, logvar = encode(encoder, x, y)` |
# | 4-6 | `z = reparameterize(mu, logvar, eps)` |
# | 7-8 | `z_prime = leave_one_out_mean(z)` |
# | 9-11 | `z_prime = latent_gradient_ascent(decoder, x, y, z_prime, LEAVE_ONE_OUT, ...)` |
# | 12 | `L_i = -log_likelihood(decoder, x, y, z_prime) + beta * kl_divergence(mu, logvar)` |
# | 14 | `L = mean(L_i)` over pairs and tasks |
#
# It is a pure function: the noise `eps` comes in as an argument, so the same call gives the
# same number, and `autograd.grad` of it is exact.

# %%
rng = np.random.default_rng(0)
params = init_params(rng, (4, 4), 10, 8, (256, 256), dtype=np.float32)
x, y = lpn_mini.pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)
eps = rng.standard_normal((64, 4, 8)).astype(np.float32)
kw = dict(num_steps=1, alpha=0.1, optimizer="adam", clip_norm=1.0, beta=1e-4)
first = training_loss(params, x, y, eps, **kw)
assert first == training_loss(params, x, y, eps, **kw)        # pure: same inputs, same number
print(f"loss at initialisation: {first:.2f}  (uniform guessing: {16 * np.log(10):.2f})")

# %% [markdown]
# ## The loop (line 15)
#
# Each step draws a fresh batch of tasks and fresh noise, takes the loss and its gradient
# with `autograd.value_and_grad`, clips the gradient's global norm at 1 (as the paper does),
# and lets Adam update every weight. That is the whole of training:

# %%
steps = 200 if QUICK else 2000
state = adam_init(params)
loss_and_grad = autograd.value_and_grad(training_loss)
losses, t0 = [], time.perf_counter()
for step in range(steps):
    x, y = lpn_mini.pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)     # line 3
    eps = rng.standard_normal((64, 4, 8)).astype(np.float32)                   # line 4
    loss, grads = loss_and_grad(params, x, y, eps, **kw)                       # lines 4-14
    params, state = adam_update(params, clip_by_global_norm(grads, 1.0), state, lr=2e-3)  # 15
    losses.append(float(loss))
print(f"{steps} steps in {time.perf_counter() - t0:.0f} s; loss {np.mean(losses[:20]):.2f} -> "
      f"{np.mean(losses[-20:]):.2f}")

plt.figure(figsize=(5.5, 3))
plt.plot(losses, alpha=0.4, label="per step")
plt.plot(np.convolve(losses, np.ones(25) / 25, mode="valid"), label="running mean (25)")
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("training loss"); plt.legend(fontsize=8)
plt.title("Algorithm 2 on 4 x 4 Pattern tasks, trained live", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The claim: the loss goes down, and the model predicts held-out pairs (each from the other
# three, no test-time search yet) clearly better than the best constant guess, an all-black
# grid, which gets 75% of the cells right (4 of 16 cells are coloured).

# %%
assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
ex, ey = lpn_mini.pattern_tasks(np.random.default_rng(1), 256, 4, grid_size=4, pattern_size=2)
result = scores(leave_one_out_predict(params, ex, ey), ey)
all_black = scores(np.zeros_like(ey), ey)
print(f"held-out: exact match {100 * result['exact_match']:.1f}%, cell accuracy "
      f"{100 * result['cell_accuracy']:.1f}% (all-black guess: {100 * all_black['cell_accuracy']:.1f}%)")
assert result["cell_accuracy"] > all_black["cell_accuracy"] + 0.05

# %% [markdown]
# ## The same with the library
#
# `lpn_mini.training.train` is this loop plus what a real run needs: a progress bar,
# a metrics log, periodic evaluation, and checkpoints written atomically so that a killed
# run resumes exactly where it stopped. Every hyperparameter lives in a `Config`; presets
# and `--set key=value` overrides come from `lpn_mini.config`. On the command line this is
# `lpn-mini train --config small`.

# %%
config = make_config("small", overrides=[f"steps={60 if QUICK else 300}", "eval_every=0"])
print({k: getattr(config, k) for k in ("batch_size", "lr", "latent_steps", "latent_optimizer",
                                       "latent_lr", "beta", "stop_gradient")})
with tempfile.TemporaryDirectory() as run:
    trained = train(config, run, progress=False)
    print(sorted(os.listdir(run)))

# %% [markdown]
# ## Summary
# - The training loss of Algorithm 2 is one pure function; `autograd.value_and_grad` gives
#   its gradient with respect to every encoder and decoder weight.
# - The loop: fresh tasks, fresh noise, loss and gradient, clip, Adam. Nothing else.
#
# ## Exercises
# 1. `exercises/ex08_training_loss.py` and `exercises/ex09_adam_update.py`.
# 2. Train with `num_steps=0` (mean training) for the same number of steps. Compare the
#    held-out exact match, then again after test-time search (chapter 8).
# 3. Remove the gradient clipping and raise the learning rate to 1e-2. What happens?
