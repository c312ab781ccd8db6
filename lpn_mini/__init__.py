"""lpn-mini: the Latent Program Network in NumPy + autograd.

The package reads like the method section of the paper:

- ``tasks``      grids as arrays, input checks, the Pattern task
- ``mlp``        a plain MLP: list of (W, b), ReLU in between
- ``model``      one_hot, encoder q_phi(z | x, y), decoder p_theta(y | x, z)
- ``losses``     log-likelihood (eq. 9) and KL (eq. 10)
- ``latent``     reparameterization, leave-one-out mean, latent gradient ascent
- ``training``   training_loss (Algorithm 2)
- ``inference``  test-time search (Algorithm 1) and leave-one-out prediction
"""
from .inference import infer_latent, leave_one_out_predict, predict, scores
from .latent import (LEAVE_ONE_OUT, latent_ascent_step, latent_gradient_ascent, latent_random_search, leave_one_out_mask,
                     leave_one_out_mean, reparameterize, search_latents,
                     specification_log_likelihood, without_gradient)
from .losses import kl_divergence, log_likelihood, log_softmax
from .mlp import init_mlp, mlp_backward, mlp_forward
from .model import decode, encode, init_params, one_hot
from .tasks import check_grids, pattern_tasks
from .training import training_loss

__version__ = "0.1.0"
