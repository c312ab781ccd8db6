"""The zero-parameter readout (lpn_mini/experiments/readout.py): the Pattern program read off the conv
encoder's input."""
import numpy as onp
import pytest

from lpn_mini.inference import scores
from lpn_mini.experiments.readout import readout_predict
from lpn_mini.tasks import pattern_tasks


def tasks(grid_size=10, pattern_size=4, num_tasks=64, seed=0):
    return pattern_tasks(onp.random.default_rng(seed), num_tasks, 4, grid_size, pattern_size)


@pytest.mark.parametrize("grid_size, pattern_size", [(10, 4), (4, 2), (6, 3)])
def test_one_other_pair_holds_the_whole_program(grid_size, pattern_size):
    x, y = tasks(grid_size, pattern_size)
    assert scores(readout_predict(x, y, 10, 7), y)["exact_match"] == 1.0


def test_it_reads_the_pattern_of_the_task_not_a_guess():
    x, y = tasks()
    # The other pairs of a *different* task: the right anchor, the wrong program.
    wrong = readout_predict(x, onp.roll(y, 1, axis=0), 10, 7)
    assert scores(wrong, y)["exact_match"] < 0.05
    # The marker colour is what makes the rows of T the program.
    assert scores(readout_predict(x, y, 10, 7, marker=2), y)["exact_match"] < 0.05


def test_a_window_too_small_for_the_pattern_misses_its_far_cells():
    x, y = tasks(pattern_size=4)          # offsets up to 3 from the anchor: k // 2 >= 3
    s = scores(readout_predict(x, y, 10, 5), y)
    assert s["exact_match"] < 0.1 and s["cell_accuracy"] > 0.8


def test_bad_input_is_one_clear_sentence():
    x, y = tasks(num_tasks=2)
    with pytest.raises(ValueError, match="odd side"):
        readout_predict(x, y, 10, 6)
    with pytest.raises(ValueError):
        readout_predict(x[:, :1], y[:, :1], 10, 7)        # one pair: nothing to read from


def test_the_paper_scale_table_shows_the_readout_row_and_says_what_seen_means():
    from lpn_mini.experiments.plan import base_config
    from lpn_mini.experiments.tables import table1_markdown
    from lpn_mini.experiments.reproduce import seen_share_trained
    laptop, paper = base_config("table1"), base_config("table1", scale="paper")
    assert seen_share_trained(laptop) > 0.99        # 6561 programs, 128k tasks: all seen
    assert seen_share_trained(paper) < 1e-6         # 9^16 programs: a "seen" one is unseen
    cell = {"mean": 50.0, "std": 1.0, "values": [49.0, 51.0]}
    agg = {"Grad 1": {"Grad 0": {"exact_match": cell, "cell_accuracy": cell}}}
    text = table1_markdown(agg, 2, {"Grad 1": 0.1}, agg, {"exact_match": 100.0,
                                                          "cell_accuracy": 100.0},
                           seen_share_trained(paper))
    assert "| Readout, no parameters | 100.0 | 0 |" in text
    assert "never trained on" in text and "(seen) programs" not in text


def test_overhanging_patterns_hide_part_of_the_program_from_one_pair():
    rng = lambda: onp.random.default_rng(3)
    x, y = pattern_tasks(rng(), 256, 4, 10, 4)
    x2, y2 = pattern_tasks(rng(), 256, 4, 10, 4, overhang=False)
    assert (x == x2).all() and (y == y2).all()                   # the paper's task unchanged
    x, y = pattern_tasks(rng(), 256, 4, 10, 4, overhang=True)
    assert (x.sum(axis=(-2, -1)) == 1).all()                     # the marker stays on the grid
    one = scores(readout_predict(x, y, 10, 7), y)["exact_match"]
    everyone = scores(readout_predict(x, y, 10, 7, pairs="all"), y)["exact_match"]
    assert one < 0.8 and everyone > one + 0.1
    with pytest.raises(ValueError, match="'one'"):
        readout_predict(x, y, 10, 7, pairs="two")


def test_the_overhang_key_reaches_training_and_evaluation_tasks():
    from lpn_mini.config import make_config
    from lpn_mini.evaluation import eval_tasks
    from lpn_mini.training import training_tasks
    config = make_config("paper", overrides=["overhang=true", "eval_tasks=64"])
    for x, y in (eval_tasks(config), training_tasks(config, onp.random.default_rng(0))):
        anchors = onp.argwhere(x == 1)[:, -2:]                    # (row, col) of each marker
        assert anchors.max() > config.grid_size - config.pattern_size   # some overhang
    plain = make_config("paper", overrides=["eval_tasks=64"])
    assert onp.argwhere(eval_tasks(plain)[0] == 1)[:, -2:].max() <= 6
