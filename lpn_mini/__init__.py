"""lpn-mini: the Latent Program Network in NumPy + autograd.

The package reads like the method section of the paper:

- ``tasks``      grids as arrays, the Pattern task
- ``mlp``        a plain MLP: list of (W, b), ReLU in between
- ``model``      one_hot, encoder q_phi(z | x, y), decoder p_theta(y | x, z)
- ``losses``     log-likelihood (eq. 9) and KL (eq. 10)
- ``latent``     reparameterization, leave-one-out mean, latent gradient ascent
- ``training``   training_loss (Algorithm 2)
- ``inference``  test-time search (Algorithm 1) and leave-one-out prediction

beside them ``checks`` (the input checks), ``conv`` and ``architectures`` (a second network
and the registry that picks one), ``optim``, ``evaluation``, ``config``; below them
``device/``; on top, importing them and never imported by them, ``experiments/``,
``course/`` and ``cli`` (docs/architecture.md).

What ``lpn-mini demo`` trains, in a few top-level calls (the README's recipe)::

    config = make_config("small")                 # config.py: presets and keys
    params = new_params(config)                   # seeded by config.seed
    x, y, eps, search = step_randomness(config, step, config.latent_dim)  # one step's tasks
    loss, grads = loss_and_grad(params, x, y, eps, beta=config.beta,
                                stop_gradient=config.stop_gradient, **search)
    # then clip_by_global_norm, warmup_lr and adam_update; evaluate(params, config) scores it

The library functions' own defaults are the paper's pseudo-code; the config's are the
official code's (see docs/algorithm.md).
"""
from .inference import infer_latent, leave_one_out_predict, predict, scores
from .latent import (LEAVE_ONE_OUT, latent_ascent_step, latent_gradient_ascent, latent_random_search, leave_one_out_mask,
                     leave_one_out_mean, reparameterize, search_latents,
                     specification_log_likelihood, without_gradient)
from .losses import kl_divergence, log_likelihood, log_softmax
from .mlp import init_mlp, mlp_backward, mlp_forward
from .architectures import decode, encode, init_params
from .model import one_hot
from .checks import check_grids
from .tasks import pattern_tasks
from .training import training_loss

# The recipe: build and train exactly what `lpn-mini demo` trains, from a config.
from .config import make_config
from .evaluation import evaluate, markdown_table, search_options, training_label
from .optim import adam_init, adam_update, clip_by_global_norm, warmup_lr
from .training import loss_and_grad, new_params, step_randomness, train

__version__ = "0.1.0"
