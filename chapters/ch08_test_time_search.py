# %% [markdown]
# # Chapter 8: test-time search (Algorithm 1)
#
# **What this chapter builds:** inference on a new task. The encoder's guess is only a
# starting point; LPN then *searches* the latent space for the program that best explains
# the specification pairs, and runs that program on the test input. This is the paper's
# first claim: accuracy rises with the number of test-time search steps.
#
# **Algorithm 1, assembled here:**
#
# | step | | built in |
# |---|---|---|
# | 1 | for each specification pair: $z_i \sim q_\phi(z \mid x_i, y_i)$ (or $z_i = \mu_i$) | chapter 2 |
#
# Step 1 samples when it is given noise `eps` (Algorithm 1 as written, and what `evaluate`
# does below, with seeded noise) and takes the centre $\mu_i$ without it; this chapter's
# hand-made search starts from $\mu$, so that its numbers depend on no noise.
# | 2 | start at $z' = \frac1N \sum_i z_i$ | chapter 5 (the mean of *all* pairs now) |
# | 3 | $K$ times $z' \leftarrow z' + \alpha\, \nabla_z \sum_i \log p_\theta(y_i \mid x_i, z)\vert_{z = z'}$ | chapter 6 |
# | 4 | decode $x_{N+1}$ with $z'$, the most likely colour per cell | chapters 3, 5 |

# %%
import os
import tempfile

import numpy as np
import matplotlib.pyplot as plt

from lpn_mini import (decode, encode, infer_latent, latent_gradient_ascent,
                      leave_one_out_predict, pattern_tasks, predict, reparameterize, scores,
                      specification_log_likelihood)
from lpn_mini.config import make_config
from lpn_mini.evaluation import evaluate
from lpn_mini.experiments.plotting import draw_grid
from lpn_mini.training import train

QUICK = os.environ.get("LPN_MINI_QUICK") == "1"

# %% [markdown]
# First a trained model: chapter 7's settings (`"literal"`: one plain latent step of
# $\alpha = 0.05$ in training), 2000 steps, about a minute on a laptop (800 in quick mode).

# %%
config = make_config("literal", overrides=[f"steps={800 if QUICK else 2000}", "eval_every=0"])
with tempfile.TemporaryDirectory() as run:
    params = train(config, run, progress=False)
alpha = config.latent_lr                                   # the step size of training

# %% [markdown]
# ## Algorithm 1, line by line
#
# The search objective is chapter 6's with one latent per task ($M = 1$) scored on *every*
# specification pair: the mask is a row of ones.

# %%
def infer_latent_by_hand(params, x_spec, y_spec, eps=None, *, num_steps=0, alpha=1.0):
    mu, logvar = encode(params["encoder"], x_spec, y_spec)                # (B, N, d)  step 1
    z = mu if eps is None else reparameterize(mu, logvar, eps)            # (B, N, d)
    z_start = z.mean(axis=1, keepdims=True)                               # (B, 1, d)  step 2
    every_pair = np.ones((1, x_spec.shape[1]), dtype=z.dtype)             # (M, N) = (1, N)
    z_found = latent_gradient_ascent(params["decoder"], x_spec, y_spec, z_start, every_pair,
                                     num_steps=num_steps, alpha=alpha)    # step 3
    return z_found[:, 0]                                                  # (B, d)

# %% [markdown]
# On 256 fresh tasks, the code's pairs 1-3 are the specification and its pair 0 plays the
# test pair $(x_{N+1}, y_{N+1})$. Checked against the library's `infer_latent`, and step 4
# against its `predict`:

# %%
x, y = pattern_tasks(np.random.default_rng(7), 256, 4, grid_size=4, pattern_size=2)
x_spec, y_spec, x_test, y_test = x[:, 1:], y[:, 1:], x[:, 0], y[:, 0]
z5 = infer_latent_by_hand(params, x_spec, y_spec, num_steps=5, alpha=alpha)          # (B, d)
assert np.allclose(z5, infer_latent(params, x_spec, y_spec, num_steps=5, alpha=alpha), atol=1e-5)
guess = np.argmax(decode(params["decoder"], x_test, z5), axis=-1)                   # step 4
assert np.array_equal(guess, predict(params, x_spec, y_spec, x_test, num_steps=5, alpha=alpha))
print("infer_latent_by_hand == infer_latent; its decode == predict")

# %% [markdown]
# ## More search, better programs
#
# The search climbs the specification's log-likelihood. Does the program it finds also
# predict the test pair better?

# %%
Ks = [0, 1, 2, 5, 10, 20] + ([] if QUICK else [50, 100])
if QUICK:
    print("QUICK MODE: a model trained for 800 steps; the full run's numbers are far higher")
spec_ll, exact, preds = [], [], {}
for K in Ks:
    z = infer_latent_by_hand(params, x_spec, y_spec, num_steps=K, alpha=alpha)        # (B, d)
    spec_ll.append(specification_log_likelihood(params["decoder"], x_spec, y_spec, z[:, None],
                                                np.ones((1, 3))).mean())
    preds[K] = np.argmax(decode(params["decoder"], x_test, z), axis=-1)               # (B, H, W)
    exact.append(100 * scores(preds[K], y_test)["exact_match"])
    print(f"K = {K:3d}: specification log-likelihood {spec_ll[-1]:8.3f}, exact match {exact[-1]:5.1f}%")

# %% [markdown]
# Checked: 20 steps explain the specification better than none, and predict the test pair
# better.

# %%
assert spec_ll[Ks.index(20)] > spec_ll[0]
assert exact[Ks.index(20)] > exact[0]

# %% [markdown]
# A few tasks, their predictions as search proceeds (red: wrong):

# %%
show = [0, 1, 5, 20]
fig, axes = plt.subplots(4, 2 + len(show), figsize=(1.3 * (2 + len(show)), 5.4))
for row in range(4):
    draw_grid(axes[row, 0], x_test[row], "test x")
    draw_grid(axes[row, 1], y_test[row], "target")
    for col, K in enumerate(show):
        draw_grid(axes[row, 2 + col], preds[K][row], f"Grad {K}")
        right = np.array_equal(preds[K][row], y_test[row])
        axes[row, 2 + col].title.set_color("black" if right else "red")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Gradient search against random search
#
# The alternative: draw $S$ latents around the starting latent $z'$, $z' + s\,\epsilon$ with
# $\epsilon \sim \mathcal{N}(0, I)$ and scale $s$ = `config.sample_scale` (1 here), and keep
# the one with the best specification
# likelihood ("Sample $S$" in the paper's Table 1; the library's `latent_random_search`).
# `evaluate(params, config, methods)` scores each search the chapter-5 way, every pair of
# the config's fixed evaluation set predicted from the other three, with the config's
# search settings (here plain steps of $\alpha = 0.05$). "Grad $K$" names a search of $K$
# gradient steps, "Sample $S$" one of $S$ random latents:

# %%
methods = ([(f"Grad {K}", "grad", K) for K in (0, 1, 5, 20)]
           + [(f"Sample {S}", "sample", S) for S in ((10, 50) if QUICK else (10, 50, 250))])
results, _ = evaluate(params, config, methods=methods)
for name, r in results.items():
    print(f"{name:>10}: exact match {100 * r['exact_match']:5.1f}%")

fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(Ks, exact, "o-", label="Grad K (pair 0 from pairs 1-3)")
if QUICK:
    ax.set_title("QUICK MODE: 800 training steps", color="red", fontsize=9)
grad_cols = [(int(n.split()[1]), 100 * r["exact_match"]) for n, r in results.items() if n.startswith("Grad")]
ax.plot(*zip(*grad_cols), "s--", label="Grad K (leave-one-out, all pairs)")
for i, (name, r) in enumerate(results.items()):
    if name.startswith("Sample"):
        ax.axhline(100 * r["exact_match"], color=f"C{2 + i}", linestyle=":", label=name)
ax.set_xscale("symlog", linthresh=1); ax.set_xlabel("test-time gradient steps K")
ax.set_ylabel("exact match %"); ax.legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# The chapter's two claims, checked on this model: more search steps give better
# predictions than none, and 20 gradient steps beat the largest random search tried.

# %%
largest_sample = max((n for n in results if n.startswith("Sample")), key=lambda n: int(n.split()[1]))
assert results["Grad 20"]["exact_match"] > results["Grad 0"]["exact_match"]
assert results["Grad 20"]["exact_match"] > results[largest_sample]["exact_match"]

# %% [markdown]
# ## The paper's Table 1
#
# One model shows the shape of the first claim. The paper's Table 1 asks more: five ways to
# *train* (mean training, one gradient step with and without stop-gradient, five steps,
# five random samples), each scored with every way to *search*, over several seeds.
# `lpn-mini reproduce table1` runs it at laptop scale; its runs use the official code's
# settings, so chapter 9, which introduces them, reads its results.

# %% [markdown]
# ## Summary
# - Algorithm 1 is the training search again, on all specification pairs, followed by one
#   decode. `infer_latent` and `predict` implement it; `leave_one_out_predict` scores a task
#   the paper's way.
# - Search helps: 20 plain steps explain the specification better than none and predict
#   the test pair better, and 20 gradient steps beat the largest random search tried.
#
# ## Exercises
# 1. `exercises/ex10_infer_latent.py`.
# 2. Start from the prior ($z' = 0$) instead of the encoder's mean. How many more steps do
#    you need? (The paper: far more.)
# 3. Push K to 200 with $\alpha = 0.5$. What goes wrong, and what would stop it?
