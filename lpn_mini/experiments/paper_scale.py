"""Scores that split a Pattern grid into the pattern's cells and the background.

At the paper's scale (10 x 10 grids, 4 x 4 patterns) 84 of the 100 cells are background,
so a cell accuracy near 88% can hide a model that knows nothing of the pattern. These
scores separate the two parts. At density 1 every pattern cell is coloured, so ``y != 0``
marks the pattern's 16 cells exactly.

Used by chapter 12 and by the scripts in ``results/paper-scale/`` (``probe_mlp.py``,
``probe_conv.py``, ``probe_windowed.py``, ``plateau.py``), so that both score the same way.
"""
import numpy as onp

from ..architectures import decode, encode
from ..latent import leave_one_out_mean
from ..losses import log_softmax


def split_scores(logits, y):
    """Per-cell scores split by the pattern's cells (``y != 0``).

    logits: ``(..., H, W, C)``; y: int ``(..., H, W)``. Returns a dict of floats:
    ``loss_per_cell``, ``loss_inside``, ``loss_outside`` (cross-entropy, nats per cell);
    ``acc_inside``, ``acc_outside``, ``cell_accuracy``; ``located`` (share of the pattern's
    cells painted some colour, not the background: the model knows where the pattern
    goes); ``colour_when_located`` (of those, the share with the right colour: it knows
    the program); ``exact_match`` (whole grids).
    """
    nll = -onp.take_along_axis(onp.asarray(log_softmax(logits)), y[..., None], -1)[..., 0]
    pred = onp.argmax(logits, axis=-1)                                    # (..., H, W)
    inside = y != 0
    located = inside & (pred != 0)
    return {"loss_per_cell": float(nll.mean()),
            "loss_inside": float(nll[inside].mean()),
            "loss_outside": float(nll[~inside].mean()),
            "acc_inside": float((pred == y)[inside].mean()),
            "acc_outside": float((pred == y)[~inside].mean()),
            "located": float(located.sum() / inside.sum()),
            "colour_when_located": float((pred == y)[located].mean()) if located.any() else 0.0,
            "cell_accuracy": float((pred == y).mean()),
            "exact_match": float(onp.all(pred == y, axis=(-2, -1)).mean())}


def mean_latent_scores(params, x, y):
    """``split_scores`` of Grad 0 leave-one-out decoding: each pair decoded from the mean
    of the other pairs' mu (Algorithm 2, lines 7-8, with no noise and no search).

    params: either architecture's ``{"encoder", "decoder"}``; x, y: int ``(B, N, H, W)``.
    """
    mu, _ = encode(params["encoder"], x, y)                               # (B, N, d)
    logits = decode(params["decoder"], x, leave_one_out_mean(mu))         # (B, N, H, W, C)
    return split_scores(logits, y)
