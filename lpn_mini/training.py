"""Algorithm 2: the training loss of LPN, one function of (params, tasks, noise)."""
import autograd.numpy as np

from .latent import leave_one_out_mask, leave_one_out_mean, reparameterize, search_latents
from .losses import kl_divergence, log_likelihood
from .model import encode, latent_dim_of, num_colors_of
from .tasks import check_finite, check_grids


def check_batch(params, x, y, eps=None, min_pairs=2):
    """Validate a training or evaluation batch against the model; one clear error if wrong."""
    check_grids(x, y, min_pairs=min_pairs)
    d = latent_dim_of(params)
    C = num_colors_of(params["decoder"], x.shape[-2:], d)
    check_grids(x, y, num_colors=C)
    if eps is not None:
        if eps.shape != x.shape[:2] + (d,):
            raise ValueError(f"eps must have shape (B, N, d) = {x.shape[:2] + (d,)}, "
                             f"got {eps.shape}.")
        check_finite(eps, "eps")


def training_loss(params, x, y, eps, *, num_steps=0, alpha=1.0, beta=1e-4, stop_gradient=True,
                  reduce="sum", check=True, **search_options):
    """The scalar loss L of Algorithm 2 (line 14) for a batch of tasks.

    params: ``{"encoder": [...], "decoder": [...]}`` (see ``model.init_params``).
    x, y:   int ``(B, N, H, W)``: B tasks, N >= 2 pairs each.
    eps:    ``(B, N, d)`` standard normal noise for the reparameterization (passed in, so
            the loss is a deterministic function and ``autograd.grad`` of it is exact).
    num_steps, alpha, stop_gradient: K, the latent step size, and whether the latent
            update is a constant for the outer gradient (lines 9-11).
    beta:   weight of the KL term (eq. 11).
    reduce: ``"sum"`` or ``"mean"`` over cells in the log-likelihood.
    search_options: passed to ``latent.search_latents`` (``method="sample"`` with ``noise``
            for the "Sample N" training row, ``optimizer``, ``clip_norm``,
            ``best_of_trajectory``).
    Returns a scalar: the mean over tasks and pairs of L_i.
    """
    if check:
        check_batch(params, x, y, eps)
    enc, dec = params["encoder"], params["decoder"]
    N = x.shape[1]
    mu, logvar = encode(enc, x, y)                       # (B, N, d)   line 4: q_phi(z | x_i, y_i)
    z = reparameterize(mu, logvar, eps)                  # (B, N, d)   lines 4-6
    z_prime = leave_one_out_mean(z)                      # (B, N, d)   lines 7-8
    z_prime = search_latents(dec, x, y, z_prime, leave_one_out_mask(N, mu.dtype),
                             num_steps=num_steps, alpha=alpha, stop_gradient=stop_gradient,
                             reduce=reduce, **search_options)          # lines 9-11
    rec = -log_likelihood(dec, x, y, z_prime, reduce)    # (B, N)      line 12, eq. 9
    kl = kl_divergence(mu, logvar)                       # (B, N)      line 12, eq. 10
    return np.mean(rec + beta * kl)                      # line 14: mean over pairs and tasks
