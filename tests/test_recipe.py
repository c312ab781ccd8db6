"""The README's Python recipe runs as written and builds exactly what `lpn-mini demo` trains.

The test takes the first ``python`` code block under "## The Python recipe" in the README,
shortens only the config (a few steps, a small evaluation) and runs it; the parameters it
ends with must equal, bit for bit, those that ``training.train`` (the loop behind
``lpn-mini train`` and ``demo``) gives for the same config on this machine, and its table
must be the one ``evaluate`` gives for them.
"""
import re
from pathlib import Path

import numpy as onp
import pytest

import lpn_mini
from lpn_mini.optim import tree_leaves

README = Path(__file__).resolve().parent.parent / "README.md"
CONFIG_LINE = 'lpn.make_config("small")'
SHORT = ["steps=6", "lr_warmup=3", "eval_tasks=16", "eval_grad_steps=0,2", "eval_samples=8"]


def recipe():
    """The recipe's code, exactly as the README shows it."""
    text = README.read_text()
    assert "## The Python recipe" in text, "README has no '## The Python recipe' section"
    section = text[text.index("## The Python recipe"):]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's recipe section has no ```python block"
    return found.group(1)


def run_recipe(overrides):
    code = recipe()
    assert code.count(CONFIG_LINE) == 1, f"the recipe should build its config with {CONFIG_LINE}"
    code = code.replace(CONFIG_LINE, f'lpn.make_config("small", overrides={overrides!r})')
    printed = []
    namespace = {"print": printed.append}
    exec(compile(code, str(README) + " (recipe)", "exec"), namespace)
    return namespace, printed


def test_the_recipe_is_short():
    lines = [line for line in recipe().splitlines() if line.strip()]
    assert len(lines) < 15, f"the README's recipe has {len(lines)} lines; keep it under 15"


def test_every_name_the_recipe_calls_is_exported():
    names = set(re.findall(r"\blpn\.(\w+)", recipe()))
    missing = sorted(n for n in names if not hasattr(lpn_mini, n))
    assert not missing, f"lpn_mini does not export {missing}, which the README's recipe calls"


def test_the_recipe_trains_exactly_what_train_trains(tmp_path):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    # One BLAS thread for both, so that both take the same summation path.
    with threadpoolctl.threadpool_limits(limits=1):
        ns, printed = run_recipe(SHORT)
        config = ns["config"]
        assert config.steps == 6
        want = lpn_mini.train(config, str(tmp_path / "run"), progress=False, echo=lambda *a: None)
        results, _ = lpn_mini.evaluate(want, config)
    got = tree_leaves(ns["params"])
    assert len(got) == len(tree_leaves(want))
    for i, (a, b) in enumerate(zip(got, tree_leaves(want))):
        assert a.dtype == b.dtype == onp.float32, (i, a.dtype, b.dtype)
        assert onp.array_equal(a, b), f"parameter array {i} differs from train()'s"
    assert ns["results"] == results
    assert printed == [lpn_mini.markdown_table({lpn_mini.training_label(config): results})]
    assert set(results) == {"Grad 0", "Grad 2", "Sample 8"}


def test_the_recipe_config_is_the_demo_config():
    from lpn_mini.config import make_config
    ns = {}
    line = next(line for line in recipe().splitlines() if CONFIG_LINE in line)
    exec(line, {"lpn": lpn_mini}, ns)                # the recipe's line that builds the config
    assert ns["config"] == make_config("small")
    assert (ns["config"].steps, ns["config"].batch_size, ns["config"].grid_size) == (2000, 64, 4)
