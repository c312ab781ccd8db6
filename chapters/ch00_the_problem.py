# %% [markdown]
# # Chapter 0: the problem, the whole algorithm, and the Pattern task
#
# **What this chapter builds:** the map. First the whole of LPN, both algorithms as the
# paper gives them, the notation every chapter follows, and which chapter builds which line.
# Then the data: the paper's Pattern task, generated, looked at and checked.
#
# In ARC-style problems a *program* maps an input grid to an output grid. Nobody hands the
# model the program; it sees a few pairs $(x_1, y_1), \dots, (x_N, y_N)$ produced by the same
# program and must produce the output for a new input. LPN's idea is to represent the
# unknown program as a vector $z$ in a learned *latent* space: an encoder guesses $z$ from
# each pair, a decoder runs "program $z$" on an input, and, before decoding, LPN *searches*
# that space for the $z$ that best explains the given pairs.
#
# ## The whole algorithm
#
# **Algorithm 2 (training, one step).** Line numbers are the ones these chapters use; the
# paper's arXiv appendix numbers the latent update line 9 (here 10) and the loss line 11
# (here 12). Lines 1-2 declare the inputs and open the training loop, and 13 closes the
# loop over pairs, so they have no row.
#
# | line | |
# |---|---|
# | 3 | sample $N$ input/output pairs $(x_i, y_i)$ of one program (a batch holds $B$ programs) |
# | 4-6 | for every pair, in parallel: $\mu_i, \log\sigma^2_i = \text{encoder}_\phi(x_i, y_i)$, and $z_i = \mu_i + \epsilon_i \odot \sigma_i$ with $\epsilon_i \sim \mathcal{N}(0, I)$ |
# | 7-8 | for every pair, in parallel: $z'_i = \frac{1}{N-1}\sum_{j \ne i} z_j$ (the mean of the *other* pairs' latents) |
# | 9-11 | $K$ times: $z'_i \leftarrow z'_i + \alpha\, \nabla_z \sum_{j \ne i} \log p_\theta(y_j \mid x_j, z)\big\vert_{z = z'_i}$ (line 10) |
# | 12 | $L_i = -\log p_\theta(y_i \mid x_i, z'_i) + \beta\, \mathrm{KL}\big(q_\phi(z \mid x_i, y_i) \,\Vert\, \mathcal{N}(0, I)\big)$ |
# | 14 | $L = \frac{1}{N} \sum_i L_i$ (and the mean over the $B$ programs of the batch) |
# | 15 | update $\phi$ and $\theta$ by a gradient step on $L$ |
#
# With stop-gradient (the paper's default) the update of line 10 is a constant for the
# gradient of line 15. $K = 0$ ("mean training") skips lines 9-11.
#
# **Algorithm 1 (test time).** Given $N$ specification pairs of a new program and a test
# input $x_{N+1}$: sample $z_i \sim q_\phi(z \mid x_i, y_i)$ for every pair; start at
# $z' = \frac1N \sum_i z_i$; $K$ times $z' \leftarrow z' + \alpha\, \nabla_z \sum_i \log
# p_\theta(y_i \mid x_i, z)\vert_{z = z'}$; output the most likely grid of
# $p_\theta(y \mid x_{N+1}, z')$, cell by cell.
#
# Training and test time run the same search: in training, pair $i$ plays the test pair and
# the other $N - 1$ pairs are its specification.
#
# ## Notation (one symbol, one meaning, in every chapter, exercise and docstring)
#
# | symbol | meaning | in the code |
# |---|---|---|
# | $B$ | programs (tasks) in a batch | first axis of every array |
# | $N$ | pairs per task (the paper writes $n$) | second axis: `x, y` are `(B, N, H, W)` |
# | $H, W$; $C$; $P$ | grid height and width; colours; the pattern's side | `grid_size`, `num_colors`, `pattern_size` |
# | $x_i, y_i$ | pair $i$'s input and output grid, integers in $[0, C)$ | `x[:, i]`, `y[:, i]` |
# | $\phi$, $\theta$ | encoder and decoder weights | `params["encoder"]`, `params["decoder"]` |
# | $\mu_i, \log\sigma^2_i$ | the encoder's Gaussian for pair $i$ | `mu, logvar`, `(B, N, d)` |
# | $d$ | latent dimensions | `latent_dim` |
# | $\epsilon_i$ | standard normal noise of the reparameterization | `eps`, passed in |
# | $z_i$, $z'_i$ | pair $i$'s latent; the latent that reconstructs pair $i$ | `z`, `z_prime` |
# | $K$, $\alpha$ | latent search steps; latent step size | `num_steps`, `alpha` |
# | $\beta$ | weight of the KL term | `beta` |
# | $M$ | latents scored per task by the search objective | `mask` is `(M, N)` |
# | $S$ | random latents tried by "Sample $S$" search | `num_samples` |
# | eq. 9, 10, 11 | the log-likelihood $\log p_\theta(y \mid x, z)$ (its negative summed over pairs is $L_{rec}$); the KL; $L = L_{rec} + \beta L_{KL}$ | `log_likelihood`, `kl_divergence`, `training_loss` |
# | Grad $K$, Sample $S$ | a search of $K$ gradient steps, of $S$ random latents; as a *training* method, the search used inside training | table rows and columns |
#
# Two clashes the code cannot avoid: `W` is also a weight matrix (in `(W, b)` layers), and
# Adam (chapter 1) has constants of its own, `beta1`, `beta2`, `eps`, unrelated to $\beta$ and
# $\epsilon$ above. The config calls $K$ `latent_steps` and $\alpha$ `latent_lr`.
#
# ## The map: which chapter builds what
#
# | | chapter | builds | algorithm, lines | exercises |
# |---|---|---|---|---|
# | 0 | the problem | the algorithms, the notation, the Pattern task | Alg. 2, line 3 | |
# | 1 | an MLP from scratch | forward, backward by hand, gradient check, autograd, Adam | Alg. 2, line 15 | ex01, ex02, ex03 |
# | 2 | the encoder | one-hot grids, $\mu$ and $\log\sigma^2$, the reparameterization | Alg. 2, lines 4-6 | ex04 |
# | 3 | the decoder | logits per cell, a stable log-softmax, the log-likelihood (eq. 9) | Alg. 2, line 12 | ex05 |
# | 4 | the KL term | eq. 10, a first training loop, what $\beta$ does | Alg. 2, line 12 | ex06 |
# | 5 | leave-one-out | $z'_i$, scoring each pair from the others, a model that cheats | Alg. 2, lines 7-8 | ex07 |
# | 6 | latent ascent | the search objective, one step, $K$ steps, stop-gradient | Alg. 2, lines 9-11 | ex08 |
# | 7 | training | Algorithm 2 assembled, trained live, the library's `train` | Alg. 2, lines 3-15 | ex09 |
# | 8 | test-time search | Algorithm 1 assembled; gradient against random search | Alg. 1 | ex10 |
# | 9 | what the official code adds | Adam on latents, best-of-trajectory, clipping, mean likelihood, held-out programs, each measured | | |
# | 10 | inside the latent space | a 2-D latent plane and an ascent path on it | Alg. 1 | |
# | 11 | on a GPU | the same code on device arrays | | |
# | 12 | the paper's scale | why the MLP stalls at 10 x 10, and a conv model | | |
#
# Chapters 1-8 train exactly what the two algorithms say (plain gradient steps on the
# latents, the likelihood summed over cells, the last point of the search). The official
# code adds more; chapter 9 adds each piece and measures what it changes.

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
# Tasks come as integer arrays `x, y` of shape `(B, N, H, W)`: $B$ tasks, $N$ pairs each.
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
