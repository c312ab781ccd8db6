"""Exercise 10: Test-time inference (Algorithm 1)   [10 points]

Chapter 8 builds this: Algorithm 1, given a task's N specification pairs, encode them,
sample one latent per pair (or take mu when eps is None), start from the mean latent of the
task, and refine it by gradient ascent on *all* specification pairs. `predict` then decodes
the test input with it.

Shapes: x_spec, y_spec (B, N, H, W); eps (B, N, d) or None -> (B, d).
Hint: `latent_gradient_ascent(dec, x, y, z_start, mask, num_steps=..., alpha=..., **rest)`
takes starting latents (B, M, d) (here M = 1) and a (M, N) mask of which pairs count
(here: all of them, `np.ones((1, N), dtype=z.dtype)`, in z's dtype so that a float32 model
stays float32). search_options holds num_steps (0 when not given), alpha (1.0 when not
given) and the other options of the search (best_of_trajectory, optimizer, ...): pass them
all on.

Check your work:  lpn-mini grade exercises/ex10_infer_latent.py
(Generated from the lpn_mini library by `lpn-mini exercises build`.)
"""
import autograd.numpy as np

from lpn_mini.latent import latent_gradient_ascent, reparameterize
from lpn_mini.architectures import check_batch, encode


def infer_latent(params, x_spec, y_spec, eps=None, **search_options):
    """Algorithm 1, lines 1-4: the latent of each task after test-time search.

    x_spec, y_spec: int ``(B, N, H, W)`` specification pairs.
    eps: ``(B, N, d)`` noise to sample the starting latents from q (the official code's
         choice), or None to start from mu.
    search_options: ``num_steps`` (K) and ``alpha`` of the search, and further options
         passed on to it unchanged (``optimizer``, ``clip_norm``, ``best_of_trajectory``:
         chapter 9; the library also takes ``method="sample"`` with ``noise``).
    Returns ``(B, d)``.
    """
    check_batch(params, x_spec, y_spec, eps, min_pairs=1)
    # YOUR CODE HERE
    raise NotImplementedError("infer_latent is not implemented yet: replace this line with your code")
