# %% [markdown]
# # Chapter 0: the problem, and the Pattern task
#
# **What this chapter builds:** the data. A *program* is shown only through examples, and
# LPN must infer it from them. We generate the paper's Pattern task, look at it, and check
# what its generator promises.
#
# **Algorithm 2, line 3:** "sample n input/output pairs from the same program".
#
# In ARC-style problems a program maps an input grid to an output grid. Nobody hands the
# model the program; it sees a few pairs $(x_1, y_1), \dots, (x_n, y_n)$ produced by the same
# program and must produce $y_{n+1}$ for a new $x_{n+1}$. LPN's idea is to represent the
# unknown program as a vector $z$ in a learned *latent* space: an encoder guesses $z$ from
# the pairs, a decoder runs "program $z$" on an input, and at test time we can *search* that
# space for the $z$ that best explains the examples.

# %%
import numpy as np
import matplotlib.pyplot as plt

import lpn_mini
from lpn_mini.experiments.plotting import draw_grid

# %% [markdown]
# ## The Pattern task
#
# Each task (program) draws one $P \times P$ pattern of colours. Each pair draws an anchor
# position: the input is all black (colour 0) with a single blue cell (colour 1) at the
# anchor; the output is black with the pattern pasted with its top-left corner at the anchor.
# The program is "paste *this* pattern where the blue cell is", and the pattern is what the
# latent has to carry.
#
# Tasks come as integer arrays `x, y` of shape `(B, N, H, W)`: B tasks, N pairs each.
# Randomness is always passed in as a `numpy.random.Generator`.

# %%
rng = np.random.default_rng(0)
x, y = lpn_mini.pattern_tasks(rng, num_tasks=3, num_pairs=4, grid_size=10, pattern_size=4)
print("x:", x.shape, x.dtype, " y:", y.shape)

# %% [markdown]
# Three tasks, four pairs each: every row below is one program.

# %%
def show_tasks(x, y, title):
    B, N = x.shape[:2]
    fig, axes = plt.subplots(B, 2 * N, figsize=(1.2 * 2 * N, 1.3 * B), squeeze=False)
    for b in range(B):
        for n in range(N):
            draw_grid(axes[b, 2 * n], x[b, n], f"x{n + 1}")
            draw_grid(axes[b, 2 * n + 1], y[b, n], f"y{n + 1}")
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


show_tasks(x, y, "Pattern tasks: 10 x 10 grids, 4 x 4 patterns (the paper's setting)")

# %% [markdown]
# ## What the generator promises, checked
#
# The prose above makes three claims; here they are as assertions. Each pair's output is the
# task's pattern at that pair's anchor, and zero elsewhere; all pairs of a task share one
# pattern; anchors keep the pattern inside the grid.

# %%
P = 4
for b in range(x.shape[0]):
    pattern = None
    for n in range(x.shape[1]):
        (r,), (c,) = np.nonzero(x[b, n])          # the single blue anchor
        assert x[b, n, r, c] == 1 and x[b, n].sum() == 1
        assert r + P <= 10 and c + P <= 10         # the pattern fits
        window = y[b, n, r:r + P, c:c + P]
        rest = y[b, n].copy()
        rest[r:r + P, c:c + P] = 0
        assert not rest.any()                      # nothing outside the pattern
        pattern = window if pattern is None else pattern
        assert np.array_equal(window, pattern)     # one pattern per task
print("generator claims hold")

# %% [markdown]
# ## A smaller version for laptops
#
# The paper trains transformers on 10 x 10 grids for 20k steps of 128 tasks. A small MLP on
# a laptop learns the 4 x 4 grid / 2 x 2 pattern version in minutes, which is what the demo
# and most chapters use. The `density` parameter leaves pattern cells black with
# probability `1 - density` (the out-of-distribution study of the paper varies it).

# %%
xs, ys = lpn_mini.pattern_tasks(rng, 3, 4, grid_size=4, pattern_size=2, density=0.75)
show_tasks(xs, ys, "4 x 4 grids, 2 x 2 patterns, density 0.75")

# %% [markdown]
# Bad input is refused with one sentence that says what to do; a grid with a colour outside
# `[0, C)` for instance:

# %%
try:
    lpn_mini.check_grids(xs + 9, ys, num_colors=10)
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# ## Summary
# - A program is seen only through input/output pairs; a batch of tasks is `(B, N, H, W)`.
# - The Pattern task: one pattern per task, pasted at each pair's anchor.
# - LPN will encode each pair into a latent, combine them, search the latent space, and
#   decode. The next chapters build each piece.
#
# ## Exercises
# 1. Generate 1000 tasks at density 0.5 and check that about half of the pattern cells are
#    coloured.
# 2. How many distinct programs does the 2 x 2 pattern task have with 10 colours? Why does
#    that matter for a 2-dimensional latent (chapter 10)?
