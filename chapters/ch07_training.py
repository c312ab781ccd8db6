# %% [markdown]
# # Chapter 7: the training loss, assembled, and the training loop
#
# **What this chapter builds:** Algorithm 2 end to end. Every piece from chapters 2-6 goes
# into one scalar loss, written here in view; autograd differentiates it; Adam (chapter 1)
# updates the weights; repeat on fresh tasks. Then the library's `train`, shown to run the
# same loop.
#
# **Algorithm 2, the lines this chapter assembles:**
#
# | line | | built in |
# |---|---|---|
# | 3 | sample $N$ pairs of each of $B$ programs | chapter 0 |
# | 4-6 | $\mu_i, \log\sigma^2_i = \text{encoder}_\phi(x_i, y_i)$; $z_i = \mu_i + \epsilon_i \odot \sigma_i$ | chapter 2 |
# | 7-8 | $z'_i = \frac{1}{N-1} \sum_{j \ne i} z_j$ | chapter 5 |
# | 9-11 | $K$ times $z'_i \leftarrow z'_i + \alpha\, \nabla_z \sum_{j \ne i} \log p_\theta(y_j \mid x_j, z)\vert_{z = z'_i}$, stop-gradient | chapter 6 |
# | 12 | $L_i = -\log p_\theta(y_i \mid x_i, z'_i) + \beta\, \mathrm{KL}(q_\phi(z \mid x_i, y_i) \Vert \mathcal{N}(0, I))$ | chapters 3, 4 |
# | 14 | $L = $ the mean of $L_i$ over pairs and tasks | |
# | 15 | a gradient step on $\phi, \theta$: Adam | chapter 1 |

# %%
import os
import tempfile

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import (LEAVE_ONE_OUT, encode, init_params, kl_divergence,
                      latent_ascent_step, leave_one_out_mean, leave_one_out_predict,
                      log_likelihood, pattern_tasks, reparameterize, scores, training_loss)
from lpn_mini.config import make_config
from lpn_mini.optim import adam_init, adam_update
from lpn_mini.training import new_params, step_randomness, train

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# ## The loss, line by line
#
# Chapter 5 wrote this loss for $K = 0$. The search of chapter 6 goes between the
# leave-one-out mean and the reconstruction: $K$ steps of `latent_ascent_step`, the library's
# version of chapter 6's `latent_step_by_hand`, with the mask `LEAVE_ONE_OUT` (latent $i$ is
# scored on the pairs $j \ne i$).

# %%
def training_loss_by_hand(params, x, y, eps, *, num_steps=0, alpha=1.0, beta=1e-4,
                          stop_gradient=True):
    enc, dec = params["encoder"], params["decoder"]
    mu, logvar = encode(enc, x, y)                                   # (B, N, d)  line 4
    z = reparameterize(mu, logvar, eps)                              # (B, N, d)  lines 4-6
    z_prime = leave_one_out_mean(z)                                  # (B, N, d)  lines 7-8
    for k in range(num_steps):                                       # lines 9-11
        z_prime = latent_ascent_step(dec, x, y, z_prime, LEAVE_ONE_OUT, alpha, stop_gradient)
    rec = -log_likelihood(dec, x, y, z_prime)                        # (B, N)  line 12, eq. 9
    kl = kl_divergence(mu, logvar)                                   # (B, N)  line 12, eq. 10
    return anp.mean(rec + beta * kl)                                 # line 14

# %% [markdown]
# Checked against the library's `training_loss`, the value and the gradient of every weight,
# for $K = 0, 1, 2$ with and without stop-gradient (float64, so "equal" means equal to
# rounding):

# %%
rng = np.random.default_rng(0)
params = init_params(rng, (4, 4), 10, 8, (64, 64))
x, y = pattern_tasks(rng, 8, 4, grid_size=4, pattern_size=2)
eps = rng.standard_normal((8, 4, 8))
weights = lambda g: [a for net in ("encoder", "decoder") for W, b in g[net] for a in (W, b)]
for K in (0, 1, 2):
    for sg in (True, False):
        kw = dict(num_steps=K, alpha=0.05, stop_gradient=sg)
        ours = autograd.value_and_grad(training_loss_by_hand)(params, x, y, eps, **kw)
        lib = autograd.value_and_grad(training_loss)(params, x, y, eps, **kw)
        assert np.isclose(ours[0], lib[0], rtol=1e-12)
        assert all(np.allclose(a, b, rtol=1e-9, atol=1e-12)
                   for a, b in zip(weights(ours[1]), weights(lib[1]), strict=True))
print("training_loss_by_hand == training_loss, value and gradient, K = 0, 1, 2, with and without stop-gradient")

# %% [markdown]
# It is a pure function: the noise `eps` comes in as an argument, so the same call gives the
# same number, and `autograd.grad` of it is exact. At initialisation the decoder guesses
# near uniformly, so the loss is close to $HW \log C$ per pair:

# %%
first = training_loss_by_hand(params, x, y, eps, num_steps=1, alpha=0.05)
assert first == training_loss_by_hand(params, x, y, eps, num_steps=1, alpha=0.05)
print(f"loss at initialisation: {first:.2f}  (uniform guessing: {16 * np.log(10):.2f})")
assert abs(first - 16 * np.log(10)) < 0.1 * 16 * np.log(10)

# %% [markdown]
# ## The loop (line 15)
#
# Each step draws a fresh batch of tasks and fresh noise, takes the loss and its gradient
# with `autograd.value_and_grad`, and lets Adam update every weight. The settings are the
# algorithm's, read literally: $K = 1$ plain step of size $\alpha = 0.05$, stop-gradient,
# $\beta = 10^{-4}$, Adam at learning rate $2 \cdot 10^{-3}$, nothing else.

# %%
steps = 200 if QUICK else 2000
settings = dict(num_steps=1, alpha=0.05, beta=1e-4, stop_gradient=True)
params = init_params(rng, (4, 4), 10, 8, (256, 256), dtype=np.float32)
state, loss_and_grad, losses = adam_init(params), autograd.value_and_grad(training_loss_by_hand), []
for step in range(steps):
    x, y = pattern_tasks(rng, 64, 4, grid_size=4, pattern_size=2)                # line 3
    eps = rng.standard_normal((64, 4, 8)).astype(np.float32)                     # line 4
    loss, grads = loss_and_grad(params, x, y, eps, **settings)                   # lines 4-14
    params, state = adam_update(params, grads, state, lr=2e-3)                   # line 15
    losses.append(float(loss))

# %%
plt.figure(figsize=(5.5, 3))
plt.plot(losses, alpha=0.4, label="per step")
plt.plot(np.convolve(losses, np.ones(25) / 25, mode="valid"), label="running mean (25)")
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("training loss"); plt.legend(fontsize=8)
plt.title(("QUICK MODE: 200 steps. " if QUICK else "")
          + "Algorithm 2 on 4 x 4 Pattern tasks, trained live", fontsize=9,
          color="red" if QUICK else "black")
plt.tight_layout()
plt.show()

# %% [markdown]
# The claim: the loss goes down, and the model predicts each pair from the other three (no
# test-time search yet, chapter 5's scoring) better than the best constant guess, an
# all-black grid, which gets 75% of the cells right (4 of 16 cells are coloured).

# %%
assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
ex, ey = pattern_tasks(np.random.default_rng(1), 256, 4, grid_size=4, pattern_size=2)
result = scores(leave_one_out_predict(params, ex, ey), ey)
all_black = scores(np.zeros_like(ey), ey)
assert all_black["cell_accuracy"] == 0.75
print(f"each pair from the others: exact match {100 * result['exact_match']:.1f}%, cell accuracy "
      f"{100 * result['cell_accuracy']:.1f}% (all-black guess: {100 * all_black['cell_accuracy']:.1f}%)")
assert result["cell_accuracy"] > all_black["cell_accuracy"] + 0.05

# %% [markdown]
# ## The same with the library
#
# `lpn_mini.training.train(config, run_dir)` runs this loop from a `Config`, adding what a
# real run needs: a progress bar, a metrics log, and checkpoints written so that a killed
# run resumes exactly where it stopped. The preset `"literal"` holds the settings above.
# Two helpers make a run reproducible: `new_params(config)` draws the initial weights from
# `config.seed`, and `step_randomness(config, step, d)` draws step `step`'s tasks and noise
# from `(seed, step)`, so a resumed run draws what an uninterrupted one would have.

# %%
config = make_config("literal", overrides=["steps=20", "dtype=float64", "eval_every=0"])
print({k: getattr(config, k) for k in ("batch_size", "lr", "latent_steps", "latent_lr",
                                       "beta", "stop_gradient")})
assert (config.batch_size, config.lr, config.beta) == (64, 2e-3, 1e-4)       # the loop above
assert (config.latent_steps, config.latent_lr, config.stop_gradient) == (settings["num_steps"],
                                                                         settings["alpha"], True)

# %% [markdown]
# (`latent_steps` is $K$ and `latent_lr` is $\alpha$. The config also records the choices
# that chapters 1-8 leave at their plainest, which chapter 9 changes one by one:
# `latent_optimizer="sgd"` for plain steps, `latent_clip=0` and `grad_clip=0` for no
# clipping, `likelihood="sum"` for eq. 9 as written, `best_of_trajectory=False` for the
# last point of the search.) Twenty steps of our loop, on the config's tasks and weights
# (`step_randomness` also returns the search options of the config, which our loop sets
# itself, so it ignores them):

# %%
mine = new_params(config)
state = adam_init(mine)
for step in range(config.steps):
    x, y, eps, _ = step_randomness(config, step, config.latent_dim)
    _, grads = autograd.value_and_grad(training_loss_by_hand)(
        mine, x, y, eps, num_steps=config.latent_steps, alpha=config.latent_lr, beta=config.beta,
        stop_gradient=config.stop_gradient)
    mine, state = adam_update(mine, grads, state, lr=config.lr)

# %% [markdown]
# The library's run of the same 20 steps ends at the same weights (to rounding: the library
# differentiates a flattened copy of the weights, which sums in another order):

# %%
with tempfile.TemporaryDirectory() as run:
    library = train(config, run, progress=False)
    print("the run folder holds", sorted(os.listdir(run)))
for net in ("encoder", "decoder"):
    for (W, b), (lW, lb) in zip(mine[net], library[net], strict=True):
        assert np.allclose(W, lW, rtol=1e-7, atol=1e-10) and np.allclose(b, lb, rtol=1e-7, atol=1e-10)
print("20 steps by hand == 20 steps of train(config)")

# %% [markdown]
# On the command line the same is `lpn-mini train --config literal`.
#
# ## Summary
# - The training loss of Algorithm 2 is one pure function assembled from the pieces of
#   chapters 2-6; `autograd.value_and_grad` gives its gradient with respect to every
#   encoder and decoder weight.
# - The loop: fresh tasks, fresh noise, loss and gradient, Adam. Nothing else; `train` is
#   that loop with logging and checkpoints.
#
# ## Exercises
# 1. `exercises/ex09_training_loss.py`: the loss, with the search and stop-gradient.
# 2. Train with `num_steps=0` (mean training) for the same number of steps. Compare the
#    score above, then again after test-time search (chapter 8).
# 3. Replace Adam by plain gradient descent (`p - lr * g`) at a few learning rates. How far
#    does each get in the same number of steps?
