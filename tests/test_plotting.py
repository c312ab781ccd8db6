import os

import numpy as np
import pytest

from lpn_mini.config import make_config
from lpn_mini.evaluation import eval_tasks
from lpn_mini.experiments.plotting import (ARC_COLORS, plot_accuracy_vs_steps, plot_latent_plane,
                               plot_predictions)
from lpn_mini.training import new_params


def test_figures_are_written(tmp_path):
    config = make_config("tiny", overrides=["latent_dim=2"])
    params = new_params(config)
    x, y = eval_tasks(config)
    plot_predictions(x, y, {"Grad 0": y, "Grad 5": x}, str(tmp_path / "p.png"), num_tasks=2)
    plot_accuracy_vs_steps({"Grad 0": {"exact_match": 0.1}, "Grad 5": {"exact_match": 0.3},
                            "Sample 9": {"exact_match": 0.2}}, str(tmp_path / "a.png"))
    plot_latent_plane(params, x[0, 0], str(tmp_path / "l.png"), resolution=3)
    for name in ("p.png", "a.png", "l.png"):
        assert os.path.getsize(tmp_path / name) > 1000
    assert len(ARC_COLORS) == 11  # ARC's 10 colours, then white for the ARC padding colour


def test_each_colour_is_drawn_in_its_own_palette_entry():
    """Colour c is painted ARC_COLORS[c]: 9 stays maroon (not clipped), 10 is white."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba
    from lpn_mini.experiments.plotting import draw_grid
    fig, ax = plt.subplots()
    draw_grid(ax, np.arange(11).reshape(1, 11))
    image = ax.get_images()[0]
    drawn = image.cmap(image.norm(np.arange(11)))
    plt.close(fig)
    assert np.allclose(drawn, [to_rgba(c) for c in ARC_COLORS])


def test_latent_plane_needs_a_two_d_latent(tmp_path):
    config = make_config("tiny")
    with pytest.raises(ValueError, match="latent_dim = 2"):
        plot_latent_plane(new_params(config), np.zeros((3, 3), int), str(tmp_path / "l.png"))
