# %% [markdown]
# # Chapter 11: running on a GPU, and teaching autograd about device arrays
#
# **What this chapter builds:** the same training loss and gradients, computed on GPU arrays
# with CuPy, and an understanding of the few places where HIPS autograd needed help.
#
# **Algorithm 2, all of it**, on another device. With CuPy and a GPU this chapter runs on the
# GPU; without one it runs on lpn-mini's *fake* GPU, an array type that behaves like CuPy's
# where it matters (it refuses to turn into a NumPy array and refuses to compute with one),
# so every lesson below can be seen on a laptop.

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import autograd
import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp

import lpn_mini
from lpn_mini import init_params, training_loss
from lpn_mini.device import backend
from lpn_mini.device.backend import array_module, to_device, to_host
from lpn_mini.optim import tree_leaves

try:
    xp = backend.get_module("gpu")
    where = "GPU (CuPy)"
except ValueError as e:
    from lpn_mini.device.fake_device import fake_xp as xp
    where = "fake GPU"
    print("no usable GPU here:", e)
print("running on the", where)

# %% [markdown]
# ## Moving data, explicitly
#
# Arrays live on one device. `to_device` copies a whole nested structure (the parameters,
# a batch) to the device; `to_host` copies it back. Library functions never choose a device
# themselves: `array_module(x)` reads it off their inputs, as `cupy.get_array_module` does.

# %%
rng = np.random.default_rng(0)
params = init_params(rng, (4, 4), 10, 8, (64, 64))
x, y = lpn_mini.pattern_tasks(rng, 16, 4, grid_size=4, pattern_size=2)
eps = rng.standard_normal((16, 4, 8))
d_params, d_x, d_y, d_eps = (to_device(t, xp) for t in (params, x, y, eps))
print(type(d_x).__name__, "module:", array_module(d_x).__class__.__name__ if xp is not np else "numpy")
assert array_module(d_x) is xp and array_module(x) is np

# %% [markdown]
# The fake device, like CuPy, refuses silent copies to the host and refuses to mix with
# host arrays: such mixing is a bug (a slow one on a real GPU), and it should fail loudly.

# %%
for attempt, f in (("numpy.asarray(device array)", lambda: np.asarray(d_eps)),
                   ("device array + host array", lambda: d_eps + eps)):
    try:
        f()
        print(f"{attempt}: allowed")
    except (TypeError, ValueError) as e:
        print(f"{attempt}: refused ({type(e).__name__})")

# %% [markdown]
# ## The forward pass needs no help
#
# autograd's `anp.exp`, `anp.matmul` and friends call the raw NumPy function on unboxed
# values; NumPy forwards the call to the device array's own implementation through the
# `__array_function__` and `__array_ufunc__` protocols. So the loss just works:

# %%
loss_host = training_loss(params, x, y, eps, num_steps=1, alpha=0.1)
loss_dev = training_loss(d_params, d_x, d_y, d_eps, num_steps=1, alpha=0.1)
print(f"host {loss_host:.6f}   device {float(loss_dev):.6f}")
assert np.isclose(float(loss_dev), loss_host, rtol=1e-5)

# %% [markdown]
# The checks below compare gradients array by array: `tree_leaves` (from `lpn_mini.optim`,
# where the optimizers use it) lists the arrays of a nested structure such as the
# parameters, always in the same order.
#
# ## The backward pass needed three things
#
# 1. **A vector space for the device type.** Every backward pass starts from
#    `vspace(loss).ones()`; autograd's NumPy vector space makes host arrays.
#    `backend.register_device_array` registers the type with autograd's `ArrayBox` and gives
#    it a `DeviceVSpace` whose zeros and ones are made by the device's module.
# 2. **The VJP of `sum` (and `mean`).** To spread a gradient back over the summed axes,
#    autograd adds `numpy.zeros(shape)`: a host array. Every broadcasting `+` or `*` calls
#    `sum` in its own VJP, so there is no avoiding it. Watch it fail with autograd's original
#    rule, then work with lpn-mini's (the same rule, with zeros from the gradient's module):

# %%
from autograd.numpy.numpy_vjps import grad_np_sum

grad_loss = autograd.grad(training_loss)
defvjp(anp.sum, grad_np_sum)                      # autograd's own rule, for a moment
try:
    grad_loss(d_params, d_x, d_y, d_eps)
    failed = False
except TypeError as e:
    failed = True
    print("autograd's sum VJP on device arrays:", type(e).__name__)
finally:
    defvjp(anp.sum, backend._sum_vjp)             # lpn-mini's rule again
assert failed
grads = tree_leaves(grad_loss(d_params, d_x, d_y, d_eps))
assert all(isinstance(g, xp.ndarray) for g in grads)
print("with lpn-mini's rule: gradient of", len(grads), "arrays, all on the device")

# %% [markdown]
# 3. **Slicing.** autograd's VJP of `x[a:b]` scatters into host zeros with `numpy.add.at`.
#    The model slices in three places (the decoder's split first layer `W[:n]`, `W[n:]`,
#    `[mu, logvar]`, and the diagonal dropped by the leave-one-out search), so
#    `backend.take_range` and `backend.pad_range` are a pair of primitives, each the other's
#    VJP: the gradient of slicing is zero-padding, and the gradient of zero-padding is
#    slicing. Because both are differentiable, so is the gradient, which is what training
#    *without* stop-gradient needs (a gradient of a gradient):

# %%
W = rng.standard_normal((5, 3))
f = lambda W: anp.sum(backend.take_range(W, 1, 4) ** 3)
g = autograd.grad(f)(W)
assert np.allclose(g[1:4], 3 * W[1:4] ** 2) and np.all(g[[0, 4]] == 0)
hvp = autograd.grad(lambda W: anp.sum(autograd.grad(f)(W) * W))(W)      # second order
assert np.allclose(hvp[1:4], 9 * W[1:4] ** 2)
print("slicing: first and second order correct")

# %% [markdown]
# Everything else the model uses (`matmul`, `reshape`, `expand_dims`, `exp`, `log`, `sqrt`,
# `maximum`, broadcasting arithmetic) has VJPs written with autograd's own primitives, so it
# runs on the device unchanged. The library avoids `dot` (its VJP calls `numpy.asarray`),
# `concatenate` and fancy indexing on differentiated values.
#
# ## Same numbers, both orders
#
# The claim of this chapter, checked: the loss and every gradient, with stop-gradient and
# with second-order gradients through the latent steps, agree between host and device.

# %%
for kw in (dict(num_steps=0), dict(num_steps=2, alpha=0.1),
           dict(num_steps=2, alpha=0.1, stop_gradient=False)):
    g_host = autograd.grad(training_loss)(params, x, y, eps, **kw)
    g_dev = to_host(autograd.grad(training_loss)(d_params, d_x, d_y, d_eps, **kw))
    err = max(np.abs(a - b).max() / (np.abs(a).max() + 1e-12)
              for a, b in zip(tree_leaves(g_host), tree_leaves(g_dev), strict=True))
    print(f"{kw}: largest relative difference {err:.1e}")
    assert err < 1e-4

# %% [markdown]
# ## Is it faster?
#
# This chapter makes no claim about speed. `python benchmarks/gpu_check.py`, run on a
# machine with an NVIDIA GPU, measures training steps per second on the CPU and on the GPU
# and writes them, with the GPU, its driver and the commit, to `results/gpu/results.md`;
# the cell below prints that report if it is there, and says so if it is not.

# %%
report = Path(lpn_mini.__file__).resolve().parents[1] / "results" / "gpu" / "results.md"
if report.exists():
    print(report.read_text())
else:
    print("results/gpu/results.md is not in this checkout: no GPU measurement to quote.")

# %% [markdown]
# What can be measured anywhere is the cost of one loss and gradient on the device this
# chapter found. The fake GPU is NumPy underneath, plus wrapping, so there it can only be
# slower. On the host and the fake GPU the work is all CPU work, so the cell counts CPU
# time (`time.process_time`, which other programs on the machine do not inflate), the
# best of 5 repeats after a warm-up. A real GPU works while the CPU waits, so there the
# cell counts wall time instead, up to the moment `float()` has the result on the host.

# %%
step = autograd.value_and_grad(training_loss)


def seconds_per_step(args, clock, repeats=5):
    """The best of ``repeats`` timings of one loss + gradient (16 tasks, K = 1)."""
    step(*args, num_steps=1, alpha=0.1)                          # warm-up
    times = []
    for _ in range(repeats):
        t = clock()
        float(step(*args, num_steps=1, alpha=0.1)[0])           # float() waits for the device
        times.append(clock() - t)
    return min(times)


device_clock = time.perf_counter if where.startswith("GPU") else time.process_time
ms = {"host (NumPy)": 1e3 * seconds_per_step((params, x, y, eps), time.process_time),
      where: 1e3 * seconds_per_step((d_params, d_x, d_y, d_eps), device_clock)}
for name, value in ms.items():
    print(f"{name}: {value:.1f} ms per loss + gradient")

# %%
plt.figure(figsize=(4.5, 2.2))
plt.barh(list(ms), list(ms.values()), color=["C0", "C2"])
plt.xlabel("ms per loss + gradient (16 tasks, K = 1), best of 5")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - `lpn-mini train --device gpu` (or `LPN_MINI_DEVICE=gpu`) runs the same code on CuPy
#   arrays; data moves to the host only for logging, metrics and checkpoints.
# - The forward pass works through NumPy's dispatch protocols; the backward pass needed a
#   device vector space, device-safe VJPs for `sum`/`mean`, and slicing as a pair of
#   primitives. All three are in `lpn_mini/device/backend.py`.
# - A fake device that refuses host/device mixing lets all of it be tested without a GPU.
#
# ## Exercises
# 1. Replace `anp.matmul` by `anp.dot` in `lpn_mini/mlp.py:dense` and run this chapter. Which
#    step fails, and why?
# 2. Write a device-safe VJP for `anp.concatenate` using `take_range`.
