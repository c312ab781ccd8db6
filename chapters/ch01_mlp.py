# %% [markdown]
# # Chapter 1: an MLP from scratch, its gradient by hand and by autograd, and Adam
#
# **What this chapter builds:** the network inside both halves of LPN. The paper uses
# transformers; lpn-mini uses plain multilayer perceptrons, small enough to write, and to
# differentiate, by hand. We write the forward pass, a backward pass by hand, check it with
# finite differences, let `autograd` do the same thing for us, and then write the optimizer
# every later chapter trains with, Adam.
#
# **Algorithm 2:** the encoder (line 4) and decoder (lines 9-12) are both MLPs; line 15
# updates their weights with a gradient step.

# %%
import time

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

from lpn_mini.mlp import init_mlp, mlp_backward, mlp_forward
from lpn_mini.optim import adam_init, adam_update, tree_map

# %% [markdown]
# ## Forward
#
# A layer is a pair `(W, b)` with `W` of shape `(fan_in, fan_out)`: it maps a row vector
# `h` to `h @ W + b`. Between layers a ReLU, `max(h, 0)`; none after the last, so outputs
# can be any real number (logits, means, log-variances).

# %%
rng = np.random.default_rng(0)
layers = init_mlp(rng, [6, 16, 16, 3])        # 6 inputs, two hidden layers of 16, 3 outputs
h = rng.standard_normal((5, 6))                 # a batch of 5 inputs


def forward_by_hand(layers, h):
    for k, (W, b) in enumerate(layers):
        if k > 0:
            h = np.maximum(h, 0.0)              # ReLU between layers
        h = h @ W + b
    return h


out = forward_by_hand(layers, h)
assert np.allclose(out, mlp_forward(layers, h))  # the library's version agrees
print(out.shape)

# %% [markdown]
# ## Backward, by hand
#
# Take a scalar loss $\ell = \sum \text{out} \odot g$ for a fixed array $g$ (so
# $\partial \ell / \partial \text{out} = g$). For one layer $o = a W + b$:
#
# $$\frac{\partial \ell}{\partial W} = a^\top g, \qquad \frac{\partial \ell}{\partial b} = \textstyle\sum_{\text{rows}} g, \qquad \frac{\partial \ell}{\partial a} = g W^\top,$$
#
# and a ReLU lets the gradient through only where its input was positive. One layer at a
# time, from the output back to the input:

# %%
def backward_by_hand(layers, h, g):
    inputs, pre = [], []                        # forward again, remembering what we need
    a = h
    for k, (W, b) in enumerate(layers):
        if k > 0:
            a = np.maximum(pre[-1], 0.0)
        inputs.append(a)
        pre.append(a @ W + b)
    grads = [None] * len(layers)
    for k in reversed(range(len(layers))):
        W, _ = layers[k]
        grads[k] = (inputs[k].T @ g, g.sum(axis=0))
        g = g @ W.T
        if k > 0:
            g = g * (pre[k - 1] > 0)            # back through the ReLU
    return grads, g


g_out = rng.standard_normal((5, 3))
grads, dh = backward_by_hand(layers, h, g_out)

# %% [markdown]
# ## Is it right? A gradient check
#
# Centred differences, $(\ell(p + h v) - \ell(p - h v)) / 2h$ along a
# random direction $v$, agree with the exact directional derivative $\langle \nabla \ell, v
# \rangle$ up to $O(h^2)$. In float64 with $h = 10^{-5}$, a correct gradient
# gives a relative error far below $10^{-7}$; a wrong one gives something of order 1. We
# check every parameter group separately, so a failure names the culprit.

# %%
def loss(layers):
    return np.sum(forward_by_hand(layers, h) * g_out)


def relative_error(a, b):
    return abs(a - b) / max(abs(a), abs(b))


def perturbed(layers, k, name, delta):
    """A copy of ``layers`` with ``delta`` added to layer k's W or b."""
    out = list(layers)
    W, b = out[k]
    out[k] = (W + delta, b) if name == "W" else (W, b + delta)
    return out


h_fd = 1e-5                                  # the finite-difference step h
for k, (W, b) in enumerate(layers):
    for name, param, dparam in (("W", W, grads[k][0]), ("b", b, grads[k][1])):
        v = rng.standard_normal(param.shape)
        numeric = (loss(perturbed(layers, k, name, h_fd * v))
                   - loss(perturbed(layers, k, name, -h_fd * v))) / (2 * h_fd)
        err = relative_error(numeric, np.sum(dparam * v))
        print(f"layer {k} {name}: relative error {err:.1e}")
        assert err < 1e-7, f"gradient of layer {k} {name} is wrong"

# %% [markdown]
# ## The same with autograd
#
# HIPS `autograd` traces the forward pass written with `autograd.numpy` and runs it
# backwards, exactly what we just did by hand. It works on the nested `layers` structure
# directly. (The library's `mlp_backward` is the hand-written version, kept as an exercise.)

# %%
auto = autograd.grad(lambda layers: anp.sum(mlp_forward(layers, h) * g_out))(layers)
lib, _ = mlp_backward(layers, h, g_out)
for (dW, db), (aW, ab), (lW, lb) in zip(grads, auto, lib, strict=True):
    assert np.allclose(dW, aW) and np.allclose(db, ab)
    assert np.allclose(dW, lW) and np.allclose(db, lb)
print("hand-written, autograd and library gradients agree")

# %% [markdown]
# What does the convenience cost? Timing the hand-written backward pass against autograd
# on a bigger batch, in CPU time, median of 7 (the numbers depend on your machine; look at
# the ratio):

# %%
big_layers = init_mlp(rng, [256, 256, 256, 64])
big_h, big_g = rng.standard_normal((512, 256)), rng.standard_normal((512, 64))
auto_grad = autograd.grad(lambda L: anp.sum(mlp_forward(L, big_h) * big_g))
times = {"by hand": [], "autograd": []}
for _ in range(7):
    t = time.process_time(); backward_by_hand(big_layers, big_h, big_g); times["by hand"].append(time.process_time() - t)
    t = time.process_time(); auto_grad(big_layers); times["autograd"].append(time.process_time() - t)
medians = {k: 1e3 * np.median(v) for k, v in times.items()}
plt.figure(figsize=(4, 2.5))
plt.bar(list(medians), list(medians.values()), color=["C0", "C1"])
plt.ylabel("CPU ms per backward pass (median of 7)")
plt.title("a 3-layer MLP, batch 512")
plt.tight_layout()
plt.show()
print({k: f"{v:.2f} ms" for k, v in medians.items()})

# %% [markdown]
# ## Training it: a gradient step, and Adam
#
# Algorithm 2's last line updates the weights by a step down the gradient of the loss. The
# plainest step is gradient descent, $p \leftarrow p - \eta\, g$, with one learning rate
# $\eta$ for every weight. Its weakness: gradients of different weights can differ by
# orders of magnitude, and one $\eta$ small enough for the steepest weight crawls on the
# flattest. Adam (Kingma & Ba, 2015) gives every weight its own step size. It keeps two
# running averages per weight, of the gradient ($m$) and of its square ($v$), corrects
# their bias towards zero in the first steps, and steps by their ratio:
#
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g^2,
# \quad p_t = p_{t-1} - \eta \, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}.$$
#
# ($\beta_1, \beta_2$ and $\epsilon$ are Adam's own constants, `beta1`, `beta2` and `eps` in
# the code, usually 0.9, 0.999 and $10^{-8}$; they are not the KL weight $\beta$ or the noise
# $\epsilon$ of later chapters.) The ratio is about $\pm 1$ whatever the gradient's scale, so
# every weight moves by about $\eta$ per step. $\epsilon$ sits *outside* the square root:
# it only guards against dividing by zero. The weights are a nested structure (a list of `(W, b)` per network);
# `tree_map(f, *trees)` applies `f` leaf by leaf to structures of the same shape.

# %%
def adam_by_hand(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] + 1                                           # the step counter moves
    m = tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, state["m"], grads)
    v = tree_map(lambda v, g: beta2 * v + (1 - beta2) * g ** 2, state["v"], grads)
    step = lambda p, m, v: p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return tree_map(step, params, m, v), {"m": m, "v": v, "t": t}


state = adam_init(layers)                     # m = v = 0 shaped like the weights, t = 0
g1 = autograd.grad(lambda L: anp.sum(mlp_forward(L, h) * g_out))(layers)
ours, _ = adam_by_hand(layers, g1, state, lr=0.01)
lib, lib_state = adam_update(layers, g1, state, lr=0.01)
for (W, b), (lW, lb) in zip(ours, lib, strict=True):
    assert np.allclose(W, lW) and np.allclose(b, lb)
assert lib_state["t"] == 1
# The first step is lr * sign(g) for every weight (bias correction makes m / sqrt(v) = g / |g|):
W0, W1 = layers[0][0], ours[0][0]
assert np.allclose(W0 - W1, 0.01 * np.sign(g1[0][0]), atol=1e-9)
print("adam_by_hand == lpn_mini.optim.adam_update; its first step is lr * sign(g)")

# %% [markdown]
# A race on a small problem with badly scaled inputs (one input a thousand times larger
# than the others), fitting a smooth function: gradient descent at the best of seven
# learning rates ($10^{-2}$ to $10^{-8}$), against Adam at its usual 0.01.

# %%
data_rng = np.random.default_rng(1)
X = data_rng.standard_normal((256, 3)) * np.array([1.0, 1.0, 1000.0])
target = np.sin(X[:, :1]) + 0.001 * X[:, 2:]                  # (256, 1)
net = init_mlp(np.random.default_rng(2), [3, 32, 1])
mse = lambda L: anp.mean((mlp_forward(L, X) - target) ** 2)
mse_grad = autograd.value_and_grad(mse)


def race(update, steps=300):
    L, curve = net, []
    for _ in range(steps):
        value, g = mse_grad(L)
        L = update(L, g)
        curve.append(float(value))
    return curve


gd = lambda lr: race(lambda L, g: tree_map(lambda p, d: p - lr * d, L, g))
with np.errstate(all="ignore"):              # the too-large rates overflow: that is the point
    tried = {lr: gd(lr)[-1] for lr in 10.0 ** -np.arange(2, 9)}
sgd_lr = min(tried, key=lambda lr: np.nan_to_num(tried[lr], nan=np.inf))
gd_curve = gd(sgd_lr)
adam_state = {"s": adam_init(net)}


def adam_step(L, g):
    L, adam_state["s"] = adam_update(L, g, adam_state["s"], lr=0.01)
    return L


adam_curve = race(adam_step)

# %%
plt.figure(figsize=(4.5, 2.8))
plt.plot(gd_curve, label=f"gradient descent, lr {sgd_lr:g}")
plt.plot(adam_curve, label="Adam, lr 0.01")
plt.yscale("log"); plt.xlabel("step"); plt.ylabel("mean squared error"); plt.legend(fontsize=8)
plt.tight_layout()
plt.show()
print(f"after 300 steps: gradient descent {gd_curve[-1]:.4f}, Adam {adam_curve[-1]:.4f}")
assert adam_curve[-1] < 0.5 * gd_curve[-1]

# %% [markdown]
# The weights fed by the large input get gradients about a thousand times larger, so they
# set gradient descent's largest safe learning rate, and every other weight crawls at it.
# Adam's per-weight scaling takes that away. LPN's networks meet the same thing (the
# decoder's weights see very different gradients), which is why every chapter from 4 on
# trains with Adam.

# %% [markdown]
# ## Summary
# - An MLP is a list of `(W, b)`; ReLU between layers, none after the last.
# - Backpropagation is the chain rule, one layer at a time, from output to input.
# - A centred-difference check with a threshold catches wrong gradients and names them.
# - `autograd` computes the same gradients from the forward code alone; from here on it
#   does all differentiation, including, in chapter 6, gradients *of* gradients.
# - Adam steps every weight by about the learning rate, whatever its gradient's scale:
#   two running averages, a bias correction, and $\epsilon$ outside the square root.
#
# ## Exercises
# 1. `exercises/ex01_mlp_forward.py` and `exercises/ex02_mlp_backward.py`: write both passes
#    yourself; `lpn-mini grade` checks them.
# 2. `exercises/ex03_adam_update.py`: Adam, with AdamW's weight decay (chapter 9 says why
#    the official code decays the weights).
# 3. Put a ReLU after the last layer. Which outputs can the network no longer produce, and
#    why would that break the encoder's `logvar`?
# 4. Repeat the gradient check with $\epsilon = 10^{-2}$ and $10^{-10}$. Why does the error
#    grow in both directions?
