"""A baseline with no parameters: the Pattern program read straight off the conv encoder's
input, and pasted as the conv decoder would paste it.

The conv model (``conv.py``) feeds its encoder the co-occurrence table of a pair,

    T[o, a, c] = share of the cells q with x(q + o) = a whose y(q) = c,

and its decoder applies a kernel K[o, a, c] to the query's windows:

    logits(q)[c] = sum_{o, a} [x(q + o) = a] K[o, a, c].

On the Pattern task x is all 0 but for one marker cell (colour 1) at the anchor, and y is
the pattern pasted at the anchor, so the rows of T for the marker colour are the program
itself: T[o, 1, :] is the one-hot colour of the pattern cell at offset -o from the anchor.
Using those rows of *one* other pair's table as the decoder's kernel reproduces the
pattern at the query's anchor, with no training and no search:

    K[o, 1, c] = T_m[o, 1, c],   K[o, a, c] = 0 for a != 1,   y_hat(q) = argmax_c logits(q)[c]

(a cell with no marker in its window gets all-zero logits and argmax 0, the background).
Evaluated by the same leave-one-out scoring as a trained model, this readout scores 100%
exact on the paper-scale Pattern set: a table of the conv model at that scale is a ceiling
for a model whose input holds the answer, not a test of search against no search.
"""
import numpy as onp

from ..conv import cooccurrence, unfold
from ..evaluation import eval_tasks
from ..inference import scores
from ..checks import check_count, check_grids


def readout_predict(x, y, num_colors, window, marker=1, pairs="one"):
    """Leave-one-out predictions with no parameters: pair n of every task is predicted from
    the marker rows of pair (n + 1) mod N's co-occurrence table (module docstring), or,
    with ``pairs="all"``, from the sum of the marker rows of every other pair's table (each
    pair votes for the cells it shows: what can be known from the other pairs at all, when a
    pair shows only part of the pattern, as with ``pattern_tasks(..., overhang=True)``).

    x, y: int ``(B, N, H, W)``, N >= 2 pairs per task. window: the side k of the table's
    and the kernel's window (``config.window``), odd; it must reach the whole pattern
    (k // 2 >= pattern side - 1). Returns int ``(B, N, H, W)``.
    """
    check_grids(x, y, num_colors, min_pairs=2)
    check_count(window, "window", 1, "the side k of the conv window")
    if window % 2 == 0:
        raise ValueError(f"window is the odd side k of a centred window, got {window}; "
                         f"use {window + 1}.")
    if pairs not in ("one", "all"):
        raise ValueError(f"pairs is 'one' (read one other pair) or 'all' (every other pair), "
                         f"got {pairs!r}.")
    B, N, H, W = x.shape
    C, k = num_colors, window
    T = cooccurrence(x, y, C, k, onp.float64).reshape(B, N, k * k, C, C)
    rows = T[:, :, :, marker, :]                                        # (B, N, k k, C)
    if pairs == "one":
        kernel = rows[:, (onp.arange(N) + 1) % N]                       # pair n + 1's rows
    else:
        kernel = rows.sum(axis=1, keepdims=True) - rows                 # every pair but n
    windows = unfold(x, C, k, onp.float64).reshape(B, N, H * W, k * k, C)
    at_marker = windows[..., marker]                                    # (B, N, H W, k k)
    logits = onp.matmul(at_marker, kernel)                              # (B, N, H W, C)
    return logits.argmax(axis=-1).reshape(B, N, H, W)


def readout_scores(config, x=None, y=None):
    """Exact match and cell accuracy of ``readout_predict`` on a config's evaluation set
    (``evaluation.eval_tasks``), scored like every trained model:
    ``{"exact_match", "cell_accuracy"}`` as fractions."""
    if x is None:
        x, y = eval_tasks(config)
    return scores(readout_predict(x, y, config.num_colors, config.window), y)
