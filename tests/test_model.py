import numpy as np
import pytest

from lpn_mini import decode, encode, init_params, one_hot
from lpn_mini.mlp import mlp_forward

from helpers import C, D, H, HIDDEN, W, assert_agree_to_rounding, small_problem


def test_one_hot_is_row_major_over_h_w_c():
    grid = np.array([[0, 2], [1, 3]])
    hot = one_hot(grid, 4)
    assert hot.shape == (2 * 2 * 4,)
    # Cell (r, c) with colour k sits at index (r * W + c) * C + k.
    for r in range(2):
        for c in range(2):
            k = grid[r, c]
            assert hot[(r * 2 + c) * 4 + k] == 1
    assert hot.sum() == 4
    assert one_hot(np.zeros((5, 3, 2, 2), int), 4).shape == (5, 3, 16)


def test_param_layout():
    params = init_params(np.random.default_rng(0), (H, W), C, D, HIDDEN)
    n = H * W * C
    assert [w.shape for w, _ in params["encoder"]] == [(2 * n, 7), (7, 6), (6, 2 * D)]
    assert [w.shape for w, _ in params["decoder"]] == [(n + D, 7), (7, 6), (6, n)]


def test_encoder_is_mlp_of_concatenated_one_hots():
    _, params, x, y, _ = small_problem()
    inp = np.concatenate([one_hot(x, C), one_hot(y, C)], axis=-1)
    out = mlp_forward(params["encoder"], inp)
    mu, logvar = encode(params["encoder"], x, y)
    assert_agree_to_rounding(mu, out[..., :D], "mu", ulps=64)
    assert_agree_to_rounding(logvar, out[..., D:], "logvar", ulps=64)


def test_decoder_is_mlp_of_concatenated_input_and_latent():
    rng, params, x, _, _ = small_problem()
    z = rng.standard_normal(x.shape[:2] + (D,))
    inp = np.concatenate([one_hot(x, C), z], axis=-1)
    expected = mlp_forward(params["decoder"], inp).reshape(x.shape + (C,))
    assert_agree_to_rounding(decode(params["decoder"], x, z), expected, "logits", ulps=64)


def test_decoder_broadcasts_pairs_against_latents():
    rng, params, x, _, _ = small_problem(B=2, N=3)
    z = rng.standard_normal((2, 4, D))  # 4 latents per task
    out = decode(params["decoder"], x[:, None], z[:, :, None])  # (B, M, N, H, W, C)
    assert out.shape == (2, 4, 3, H, W, C)
    for b in range(2):
        for m in range(4):
            for n in range(3):
                assert_agree_to_rounding(out[b, m, n], decode(params["decoder"], x[b, n], z[b, m]),
                                         f"logits of task {b}, latent {m}, pair {n}", ulps=64)


def test_wrong_grid_size_is_a_clear_error():
    _, params, x, y, _ = small_problem()
    big = np.zeros((2, 3, H + 2, W), int)  # 15 cells: no whole number of colours fits
    with pytest.raises(ValueError, match="grid"):
        encode(params["encoder"], big, big)
    with pytest.raises(ValueError, match="H\\*W\\*C"):
        decode(params["decoder"], big, np.zeros((2, 3, D)))
