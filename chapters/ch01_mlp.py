# %% [markdown]
# # Chapter 1: an MLP from scratch, its gradient by hand, then by autograd
#
# **What this chapter builds:** the network inside both halves of LPN. The paper uses
# transformers; lpn-mini uses plain multilayer perceptrons, small enough to write, and to
# differentiate, by hand. We write the forward pass, a backward pass by hand, check it with
# finite differences, and then let `autograd` do the same thing for us.
#
# **Algorithm 2:** the encoder (line 4) and decoder (lines 9-12) are both MLPs.

# %%
import time

import autograd
import autograd.numpy as anp
import numpy as np
import matplotlib.pyplot as plt

from lpn_mini.mlp import init_mlp, mlp_backward, mlp_forward

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
# Centred differences, $(\ell(p + \epsilon v) - \ell(p - \epsilon v)) / 2\epsilon$ along a
# random direction $v$, agree with the exact directional derivative $\langle \nabla \ell, v
# \rangle$ up to $O(\epsilon^2)$. In float64 with $\epsilon = 10^{-5}$, a correct gradient
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


eps = 1e-5
for k, (W, b) in enumerate(layers):
    for name, P, dP in (("W", W, grads[k][0]), ("b", b, grads[k][1])):
        v = rng.standard_normal(P.shape)
        numeric = (loss(perturbed(layers, k, name, eps * v))
                   - loss(perturbed(layers, k, name, -eps * v))) / (2 * eps)
        err = relative_error(numeric, np.sum(dP * v))
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
# on a bigger batch (the numbers depend on your machine; look at the ratio):

# %%
big_layers = init_mlp(rng, [256, 256, 256, 64])
big_h, big_g = rng.standard_normal((512, 256)), rng.standard_normal((512, 64))
auto_grad = autograd.grad(lambda L: anp.sum(mlp_forward(L, big_h) * big_g))
times = {"by hand": [], "autograd": []}
for _ in range(7):
    t = time.perf_counter(); backward_by_hand(big_layers, big_h, big_g); times["by hand"].append(time.perf_counter() - t)
    t = time.perf_counter(); auto_grad(big_layers); times["autograd"].append(time.perf_counter() - t)
medians = {k: 1e3 * np.median(v) for k, v in times.items()}
plt.figure(figsize=(4, 2.5))
plt.bar(list(medians), list(medians.values()), color=["C0", "C1"])
plt.ylabel("ms per backward pass (median of 7)")
plt.title("a 3-layer MLP, batch 512")
plt.tight_layout()
plt.show()
print({k: f"{v:.2f} ms" for k, v in medians.items()})

# %% [markdown]
# ## Summary
# - An MLP is a list of `(W, b)`; ReLU between layers, none after the last.
# - Backpropagation is the chain rule, one layer at a time, from output to input.
# - A centred-difference check with a threshold catches wrong gradients and names them.
# - `autograd` computes the same gradients from the forward code alone; from here on it
#   does all differentiation, including, in chapter 6, gradients *of* gradients.
#
# ## Exercises
# 1. `exercises/ex01_mlp_forward.py` and `exercises/ex02_mlp_backward.py`: write both passes
#    yourself; `lpn-mini grade` checks them.
# 2. Put a ReLU after the last layer. Which outputs can the network no longer produce, and
#    why would that break the encoder's `logvar`?
# 3. Repeat the gradient check with $\epsilon = 10^{-2}$ and $10^{-10}$. Why does the error
#    grow in both directions?
