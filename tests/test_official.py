"""results/official: the ladder's design (each comparison changes one setting), the summary's
verdicts on hand-made records, and chapter 9's claims against the committed records."""
import ast
import dataclasses
import importlib.util
import json
import os

import pytest

from lpn_mini.config import make_config, with_overrides
from lpn_mini.experiments.stats import HOLDS, NOT_RESOLVED, REVERSES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "results", "official")
CHAPTER = os.path.join(ROOT, "chapters", "ch09_official_code.py")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


summarize, ablate = load("summarize"), load("ablate")


def record(row, seed, exact, evaluation="test"):
    """A hand-made run record: ``exact`` is {column: exact match %} for one evaluation."""
    return {"row": row, "label": row, "seed": seed, "train_seconds": 30.0,
            "eval_seconds": 3.0, "versions": {"git_commit": "abc1234"},
            "machine": {"cpu": "test CPU", "cores": 2},
            "results": {evaluation: {c: {"exact_match": v / 100, "cell_accuracy": 0.9}
                                     for c, v in exact.items()}}}


def ladder(with_values, without_values, with_row="adam", without_row="literal"):
    """Records of two rows over seeds 0..n-1, the same value at every column."""
    out = []
    for seed, (a, b) in enumerate(zip(with_values, without_values)):
        out.append(record(with_row, seed, dict.fromkeys(summarize.COLUMNS, a)))
        out.append(record(without_row, seed, dict.fromkeys(summarize.COLUMNS, b)))
    return out


@pytest.mark.parametrize("with_values, verdict", [
    ([52, 55, 51, 54, 53], HOLDS),          # higher in every seed, by about 3 points
    ([47, 45, 48, 46, 44], REVERSES),       # lower in every seed
    ([52, 47, 51, 48, 50], NOT_RESOLVED),   # up and down
])
def test_verdicts_on_hand_made_records(with_values, verdict):
    records = ladder(with_values, [50] * 5)
    found = summarize.verdicts(summarize.compare_all(records))
    assert found["adam"] == dict.fromkeys(summarize.COLUMNS, verdict)
    assert set(found) == {"adam"}           # the other comparisons have no records


def test_pairs_by_seed_not_by_order():
    # The "with" row's seeds come in another order: each must meet its own seed.
    records = ladder([60, 61, 62], [50, 51, 52])
    records = records[::-1]
    c = summarize.compare_all(records)[0]
    assert c["diffs"] == [10.0, 10.0, 10.0] and c["seeds"] == [0, 1, 2]


def test_a_comparison_needs_two_shared_seeds():
    records = ladder([60], [50]) + [record("adam", 5, dict.fromkeys(summarize.COLUMNS, 70))]
    assert summarize.compare_all(records) == []


def test_test_time_halves_read_their_own_evaluation():
    # best_at_test compares two evaluations of the same weights (clip-global row).
    records = []
    for seed in range(4):
        records.append(record("clip-global", seed, dict.fromkeys(summarize.COLUMNS, 50)))
        records[-1]["results"][summarize.BOT_AT_TEST] = {
            c: {"exact_match": (55 + seed % 2) / 100, "cell_accuracy": 0.9}
            for c in summarize.COLUMNS}
    found = summarize.verdicts(summarize.compare_all(records))
    assert found["best_at_test"] == dict.fromkeys(summarize.COLUMNS, HOLDS)


def test_summarize_writes_json_markdown_and_figure(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for r in ladder([52, 55, 51, 54, 53], [50] * 5):
        (runs / f"{r['row']}-seed{r['seed']}.json").write_text(json.dumps(r))
    out = summarize.summarize(str(runs), str(tmp_path))
    assert out["verdicts"]["adam"]["Grad 100"] == HOLDS
    md = (tmp_path / "results.md").read_text()
    assert "| a | Adam for the latent search" in md and "holds |" in md
    assert (tmp_path / "ladder.png").stat().st_size > 1000


def overrides_of(side):
    row, evaluation = side
    return ablate.row_overrides(row) + ablate.EXTRA_EVALUATIONS.get(row, {}).get(evaluation, [])


def diff(a, b):
    return {k for k, v in dataclasses.asdict(a).items() if getattr(b, k) != v}


T = {"train_best_of_trajectory"}
# key: (what differs between the two sides' trained models, what differs in how they are
# searched at test time). The test-time halves train the same model; the training halves
# search the same way.
ONE_SETTING = {
    "adam": ({"latent_optimizer", "latent_lr", "adam_eps_root"},) * 2,
    "eps_root": (set(), {"adam_eps_root"}),
    "weight_decay": ({"weight_decay"},) * 2, "warm_up": ({"lr_warmup"},) * 2,
    "outer_clip": ({"grad_clip", "sample_scale"},) * 2,   # sample_scale: Sample N only
    "best_of_trajectory": (T | {"best_of_trajectory"},) * 2,
    "best_at_test": (set(), {"best_of_trajectory"}),
    "best_in_training": (T | {"best_of_trajectory"}, T),
    "clip_global": ({"latent_clip", "latent_clip_mode"},) * 2,
    "global_vs_per_latent": ({"latent_clip_mode"},) * 2,
    "clip_global_at_test": (set(), {"latent_clip", "latent_clip_mode"}),
    "clip_per_latent_at_test": (set(), {"latent_clip"}),
    "global_vs_per_latent_at_test": (set(), {"latent_clip_mode"}),
    "mean_likelihood": ({"likelihood"},) * 2, "mean_at_test": (set(), {"likelihood"}),
    "mean_in_training": ({"likelihood"}, set()), "holdout": ({"holdout"},) * 2,
}


@pytest.mark.parametrize("comparison", summarize.COMPARISONS, ids=lambda c: c[0])
def test_each_comparison_changes_what_it_says(comparison):
    """The two sides of a comparison differ in the setting it names and in nothing else
    (the 'all' comparison: the literal rung against the official preset), and both are
    scored on the held-out programs."""
    key, _, _, with_side, without_side = comparison
    trained = [ablate.row_config(row, 0) for row, _ in (with_side, without_side)]
    searched = [with_overrides(c, ablate.EXTRA_EVALUATIONS.get(row, {}).get(ev, []))
                for c, (row, ev) in zip(trained, (with_side, without_side))]
    if key == "all":
        assert trained[0] == make_config("small", overrides=ablate.COMMON)
        assert trained[1] == make_config("literal", overrides=ablate.COMMON + ["holdout=0.2"])
    else:
        assert (diff(*trained), diff(*searched)) == ONE_SETTING[key]
    for config in searched:
        assert with_overrides(config, ablate.EVAL_SET).eval_programs == "unseen"


def test_the_last_rung_is_the_official_preset_and_the_first_the_literal_one():
    assert ablate.row_config("official", 3) == make_config("small", overrides=ablate.COMMON
                                                           + ["seed=3"])
    assert ablate.row_config(ablate.SLUGS[0], 3) == make_config("literal", overrides=ablate.COMMON
                                                                + ["seed=3"])


# ---- chapter 9 against the committed records --------------------------------------------

def chapter_claims():
    """Every ``check(key, "holds / open / ...")`` call of chapter 9, as {key: [verdicts]}."""
    tree = ast.parse(open(CHAPTER).read())
    words = {"holds": HOLDS, "reverses": REVERSES, "open": NOT_RESOLVED}
    claims = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
            key, said = (ast.literal_eval(a) for a in node.args)
            claims[key] = [words[w.strip()] for w in said.split("/")]
    return claims


COMMITTED = os.path.exists(os.path.join(HERE, "results.json"))


@pytest.mark.skipif(not COMMITTED, reason="results/official/results.json not written yet")
def test_chapter_claims_hold_against_the_committed_records():
    """Recomputed from the run records (not read from results.json): every verdict the
    chapter states is the records' verdict, and every comparison is stated."""
    records = summarize.load_records(os.path.join(HERE, "runs"))
    found = summarize.verdicts(summarize.compare_all(records))
    claims = chapter_claims()
    assert set(claims) == {c[0] for c in summarize.COMPARISONS}
    for key, said in claims.items():
        assert [found[key][c] for c in summarize.COLUMNS] == said, key


@pytest.mark.skipif(not COMMITTED, reason="results/official/results.json not written yet")
def test_the_committed_summary_is_the_records_summary():
    records = summarize.load_records(os.path.join(HERE, "runs"))
    committed = json.load(open(os.path.join(HERE, "results.json")))
    assert committed["verdicts"] == summarize.verdicts(summarize.compare_all(records))
    assert committed["runs"] == len(records)
