"""`lpn-mini reproduce`: every experiment's quick mode end to end, the summaries, the claims
logic, resuming, parallel workers, and the ARC data handling."""
import json
import os

import numpy as np
import numpy as onp
import pytest

from lpn_mini import arc
from lpn_mini.cli import main
from lpn_mini.config import OFFICIAL, PSEUDOCODE
from lpn_mini.evaluation import search_options
from lpn_mini.experiments.plan import plan
from lpn_mini.experiments.runs import run_job
from lpn_mini.experiments.tables import (aggregate, mean_std, search_steps, seen_vs_unseen,
                                         steps_markdown, table1_claims)

from helpers import one_blas_thread_reproduction


def _reproduce(tmp_path, *args):
    out, runs = tmp_path / "out", tmp_path / "runs"
    code = main(["reproduce", *args, "--quick", "--out", str(out), "--runs-dir", str(runs)])
    assert code == 0
    with open(out / "results.json") as f:
        return json.load(f), (out / "results.md").read_text(), out


def _check_record(record, experiment):
    assert record["experiment"] == experiment and record["quick"] is True
    assert record["command"].startswith("lpn-mini reproduce") or record["command"]
    assert record["versions"]["numpy"] == onp.__version__
    assert record["machine"]["cores"] == os.cpu_count()
    assert record["wall_seconds"] > 0


def test_table1_quick(tmp_path, capsys):
    record, md, out = _reproduce(tmp_path, "table1")
    _check_record(record, "table1")
    rows = ["Grad 0", "Grad 1", "Grad 1, no stop-grad", "Grad 5", "Sample 5"]
    assert list(record["table"]) == rows
    assert list(record["table"]["Grad 1"]) == ["Grad 0", "Grad 1", "Grad 5", "Grad 20",
                                               "Grad 100", "Sample 50"]
    # Every row saw the same budget of tasks.
    assert {r["steps"] * r["batch_size"] for r in record["configs"].values()} == {150 * 16}
    assert [c["claim"][:2] for c in record["claims"]] == ["1a", "1b", "2.", "3a", "3b", "4a",
                                                          "4b"]
    # Official settings, programs held out, and the seen-program table beside the unseen one.
    assert all(record["configs"]["Grad 1"][k] == v for k, v in OFFICIAL.items())
    assert list(record["table_seen"]) == rows and "training-side (seen) programs" in md
    # One record per finished run, with the machine and commit it ran on.
    records = sorted(p.name for p in (out / "runs").iterdir())
    assert records == sorted(f"{r.lower().replace(', ', '-').replace(' ', '-')}-seed0.json"
                             for r in rows)
    one = json.loads((out / "runs" / "grad-1-seed0.json").read_text())
    assert one["machine"]["cores"] == os.cpu_count() and "git_commit" in one["versions"]
    assert set(one["results"]) == {"test", "test, seen"}
    # The table prints the paper's number next to ours, and is what results.md holds.
    assert "[44.6]" in md and "[99.5]" in md
    assert md.split("\n", 2)[2].strip() in capsys.readouterr().out
    for png in ("exact_match_vs_steps.png", "training_curves.png"):
        assert (out / png).stat().st_size > 10_000
    # Seconds per step are recorded for every row (their order is a measurement, shown in
    # the committed results, not something a unit test on a shared machine may assert).
    cost = record["seconds_per_step"]
    assert set(cost) == set(rows) and all(v > 0 for v in cost.values())


def test_rows_fill_a_table_in_over_several_runs(tmp_path, capsys):
    """--rows trains only some rows; a later call with other rows reuses the recorded ones,
    and the tables hold every row whose seeds are all recorded, naming the others."""
    picked = plan("table1", quick=True, seeds=2, rows=["grad-0", "Grad 5"])
    assert [(j.label, j.seed) for j in picked] == [("Grad 0", 0), ("Grad 0", 1), ("Grad 5", 0),
                                                   ("Grad 5", 1)]
    with pytest.raises(ValueError, match="'grad-7' is not a training row of table1; choose "
                                         "from grad-0, grad-1, grad-1-no-stop-grad"):
        plan("table1", quick=True, rows=["grad-7"])
    cheap = ["--seeds", "1", "--set", "steps=20", "--set", "eval_tasks=8"]
    first, md, _ = _reproduce(tmp_path, "table1", *cheap, "--rows", "grad-0")
    assert list(first["table"]) == ["Grad 0"]
    assert "Rows not run yet (no record for every seed): Grad 1, Grad 1, no stop-grad" in md
    assert "--rows grad-1,grad-1-no-stop-grad,grad-5,sample-5" in md
    capsys.readouterr()
    second, md, _ = _reproduce(tmp_path, "table1", *cheap, "--rows", "grad-1")
    printed = "".join(capsys.readouterr())
    assert ("1 run(s) reused" in printed and "1 run(s) to train now (--rows Grad 1); "
            "3 left for another time" in printed), printed
    assert list(second["table"]) == ["Grad 0", "Grad 1"]
    assert [r["reused"] for r in second["runs"]] == [True, False]
    assert second["table"]["Grad 0"] == first["table"]["Grad 0"]
    assert main(["reproduce", "table1", "--quick", "--rows", "grad-7",
                 "--out", str(tmp_path / "x")]) == 2


def test_train_seeds_lets_two_machines_share_a_row(tmp_path, capsys):
    """--train-seeds trains only those seeds: one machine takes seed 1 while another has
    seed 0, no run is trained twice, and the row appears once both records are in."""
    cheap = ["--seeds", "2", "--rows", "grad-0", "--set", "steps=20", "--set", "eval_tasks=8"]
    out, runs = tmp_path / "out", tmp_path / "runs"
    args = ["reproduce", "table1", "--quick", *cheap, "--out", str(out), "--runs-dir", str(runs)]
    assert main([*args, "--train-seeds", "1"]) == 0
    printed = "".join(capsys.readouterr())
    assert "1 run(s) to train now (--rows Grad 0; --train-seeds 1); 9 left" in printed, printed
    assert sorted(os.listdir(out / "runs")) == ["grad-0-seed1.json"]
    assert not (out / "results.json").exists()        # no row has both seeds yet
    assert "no training row of table1 has all 2 seeds recorded" in printed
    assert main([*args, "--train-seeds", "0,1"]) == 0   # seed 1 is reused, not retrained
    printed = "".join(capsys.readouterr())
    assert "1 run(s) reused" in printed and "1 run(s) to train now" in printed, printed
    record = json.loads((out / "results.json").read_text())
    assert list(record["table"]) == ["Grad 0"]
    assert [(r["seed"], r["reused"]) for r in record["runs"]] == [(0, False), (1, True)]
    for bad, says in [("2", "pick seeds among 0..1"), ("one", "takes seed numbers")]:
        assert main([*args, "--train-seeds", bad]) == 2
        assert says in "".join(capsys.readouterr())


def test_a_row_with_more_seeds_recorded_uses_them_all(tmp_path, capsys):
    """A contested claim run to more seeds than the table: --seeds N still shows every row
    with at least seeds 0..N-1, and a row with more records uses them all (paired by seed)."""
    cheap = ["--set", "steps=20", "--set", "eval_tasks=8"]
    out, runs = tmp_path / "out", tmp_path / "runs"
    args = ["reproduce", "table1", "--quick", *cheap, "--out", str(out), "--runs-dir", str(runs)]
    assert main([*args, "--seeds", "3", "--rows", "grad-0,grad-1"]) == 0
    assert main([*args, "--seeds", "1", "--rows", "grad-5"]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["seeds_per_row"] == {"Grad 0": 3, "Grad 1": 3, "Grad 5": 1}
    assert "seeds per row: Grad 0 3, Grad 1 3, Grad 5 1" in (out / "results.md").read_text()
    assert len(record["table"]["Grad 0"]["Grad 0"]["exact_match"]["values"]) == 3
    (claim2,) = [c for c in record["claims"] if c["claim"].startswith("2.")]
    assert claim2["comparisons"][0]["n"] == 3
    # A record of another config under a later seed's name is not taken for that seed.
    with open(out / "runs" / "grad-0-seed2.json") as f:
        other = json.load(f)
    other["config"]["lr"] = 0.5
    with open(out / "runs" / "grad-0-seed2.json", "w") as f:
        json.dump(other, f)
    capsys.readouterr()
    assert main([*args, "--seeds", "1", "--rows", "grad-5"]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["seeds_per_row"] == {"Grad 0": 2, "Grad 1": 3, "Grad 5": 1}


def test_ood_quick_then_reused_then_in_parallel(tmp_path):
    record, md, out = _reproduce(tmp_path, "ood")
    _check_record(record, "ood")
    names = ["In-distribution (0.5)", "Weak OOD (0.75)", "Strong OOD (1.0)"]
    assert list(record["table"]) == names + [n + ", seen" for n in names]
    assert list(record["table"]["Weak OOD (0.75)"]["Grad 1"]) == ["Grad 0", "Grad 10", "Grad 100"]
    assert {c["density"] for c in record["configs"].values()} == {0.5}
    assert "| paper Grad 1 | 26.6 / 98.0 / 99.2 |" in md
    assert (out / "ood_exact_match.png").stat().st_size > 10_000
    # The three evaluations differ (different densities), so they are really separate sets.
    first = [record["table"][n]["Grad 0"]["Grad 0"][k]["mean"] for n in names
             for k in ("exact_match", "cell_accuracy")]
    assert len(set(first)) > 1

    # The same command again: every run is reused, the numbers are the same.
    again, md, _ = _reproduce(tmp_path, "ood")
    assert all(not r["reused"] for r in record["runs"]) and all(r["reused"] for r in again["runs"])
    assert again["table"] == record["table"]
    assert "reused" in md

    # Two worker processes from scratch: the same numbers as one process. Workers run one
    # BLAS thread each, so the one-process reference does too (one thread and two are two
    # computation paths, equal to rounding, not to the bit, on some CPUs).
    parallel, _, _ = _reproduce(tmp_path / "b", "ood", "--jobs", "2")
    assert parallel["jobs"] == 2 and all(not r["reused"] for r in parallel["runs"])
    serial = one_blas_thread_reproduction(tmp_path / "c")
    assert serial["jobs"] == 1 and parallel["table"] == serial["table"]

    # A changed config is a different run: trained again, not resumed from the stale checkpoint.
    out, runs = tmp_path / "out2", tmp_path / "runs"
    assert main(["reproduce", "ood", "--quick", "--out", str(out), "--runs-dir", str(runs),
                 "--set", "steps=20"]) == 0
    changed = json.loads((out / "results.json").read_text())
    assert all(not r["reused"] for r in changed["runs"])
    assert changed["configs"]["Grad 1"]["steps"] == 20


def test_latent2d_quick(tmp_path):
    record, md, out = _reproduce(tmp_path, "latent2d")
    _check_record(record, "latent2d")
    assert record["configs"]["Grad 1"]["latent_dim"] == 2
    for p in record["ascent"]:  # best-of-path is never below the start
        assert p["end"] >= p["start"]
        assert onp.array(p["path"]).shape == (p["steps"] + 1, 2)
    for png in ("latent_plane.png", "landscapes.png"):
        assert (out / png).stat().st_size > 10_000


def test_arc_quick(tmp_path):
    record, md, out = _reproduce(tmp_path, "arc")
    _check_record(record, "arc")
    problems = record["problems"]
    evaluation = arc.load_split("eval")
    assert len(problems) == sum(len(t[2]) for t in evaluation)       # every test pair that fits
    assert {p["task"] for p in problems} == {t[0] for t in evaluation}
    for p in problems:
        for m in ("Grad 0", "Grad 2"):
            assert p[m]["top2"] >= p[m]["top1"]
            assert 0.0 <= p[m]["cell_accuracy"] <= 1.0
    assert all(p["task"] in md for p in problems)
    assert "copy the input" in md
    for png in ("arc_scores.png", "arc_examples.png"):
        assert (out / png).stat().st_size > 10_000


def test_bad_arguments_are_one_clear_line(tmp_path, capsys):
    assert main(["reproduce", "table1", "--quick", "--jobs", "0", "--out", str(tmp_path)]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["reproduce", "table1", "--quick", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert "--seeds must be at least 1" in capsys.readouterr().err
    assert main(["reproduce", "ood", "--quick", "--set", "colour=3", "--out", str(tmp_path)]) == 2
    assert "unknown config key" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "table2"])


def test_paper_scale_plan():
    jobs = plan("table1", scale="paper", seeds=3)
    assert len(jobs) == 15
    c = jobs[0].config
    assert (c["grid_size"], c["pattern_size"], c["steps"], c["batch_size"]) == (10, 4, 20000, 128)
    assert c["architecture"] == "conv"                 # the model that learns this task
    assert plan("ood", scale="paper", seeds=1)[0].config["grid_size"] == 10
    with pytest.raises(ValueError, match="unknown scale"):
        plan("table1", scale="huge")


# --- the summary logic, on numbers made by hand ---

def _cell(values):
    return {"exact_match": mean_std(values), "cell_accuracy": mean_std(values)}


def test_mean_std():
    ms = mean_std([1.0, 2.0, 3.0])
    assert ms["mean"] == 2.0 and ms["std"] == pytest.approx(1.0)  # sample std, ddof = 1
    assert mean_std([5.0])["std"] == 0.0


COLUMNS = ["Grad 0", "Grad 1", "Grad 5", "Grad 20", "Grad 100", "Sample 250"]
PAPER = {  # the paper's own Table 1
    "Grad 0": [3.2, 3.6, 18.8, 52.5, 67.5, 3.2], "Grad 1": [8.6, 44.6, 85.4, 98.4, 99.5, 10.2],
    "Grad 1, no stop-grad": [0.6, 13.7, 60.2, 88.9, 94.1, 0.7],
    "Grad 5": [0.0, 0.4, 31.9, 88.5, 98.1, 0.5], "Sample 5": [6.1, 8.2, 27.7, 56.3, 72.2, 6.1]}
SECONDS = {"Grad 0": 1.0, "Grad 1": 1.5, "Grad 1, no stop-grad": 3.0, "Grad 5": 5.0,
           "Sample 5": 2.0}


def _summaries(table, noise, seconds=SECONDS, seeds=5):
    """Per-seed run summaries around ``table`` (percent): seed s adds noise * (s - 2)."""
    return [{"label": label, "seed": s, "config": {"steps": 100},
             "train_seconds": 100 * seconds[label] * (1 + 0.01 * s),
             "results": {"test": {c: {"exact_match": (v + noise * (s - 2)) / 100,
                                      "cell_accuracy": 0.5} for c, v in zip(COLUMNS, values)}}}
            for label, values in table.items() for s in range(seeds)]


def test_claims_follow_the_paired_numbers():
    # The paper's table, with a little seed noise: every claim holds.
    claims = table1_claims(_summaries(PAPER, noise=0.1))
    assert [c["verdict"] for c in claims] == ["holds"] * 7
    # The noise is the same in every row and column, so differences are exact: +6.1 - +0 ...
    assert claims[0]["comparisons"][0]["mean"] == pytest.approx(52.5 - 3.2)
    # Swap the Grad 0 and Grad 1 rows: claim 2 reverses; and no-stop-grad made cheaper: 4b.
    swapped = dict(PAPER, **{"Grad 0": PAPER["Grad 1"], "Grad 1": PAPER["Grad 0"]})
    claims = table1_claims(_summaries(swapped, 0.1, dict(SECONDS, **{"Grad 1, no stop-grad": 1.0})))
    assert claims[2]["verdict"] == "reverses" and claims[6]["verdict"] == "reverses"
    # Seeds that disagree: a +1.1-point mean difference with a seed spread of several points is
    # not resolved, and a claim judged by several comparisons says how many went which way.
    noisy = _summaries(PAPER, noise=0.0)
    for s in noisy:
        if s["label"] == "Grad 1":
            s["results"]["test"]["Grad 100"]["exact_match"] += (-0.05 if s["seed"] % 2 else 0.05)
    claims = table1_claims(noisy)
    one_b = claims[1]
    assert one_b["verdict"].startswith("not resolved at this scale (holds in 4, not resolved in 1")
    grad1 = [c for c in one_b["comparisons"] if c["what"].startswith("Grad 1:")][0]
    assert grad1["low"] < 0 < grad1["high"] and grad1["verdict"] == "not resolved at this scale"


def test_claim_1_over_the_whole_range_of_k_finds_the_peak():
    table = {"Grad 1": [40.0, 50.0, 60.0, 66.0, 62.0, 50.0]}  # peaks at Grad 20, then falls
    steps = search_steps(_summaries(table, 0.1, {"Grad 1": 1.0}))["Grad 1"]
    assert steps["peak"] == "Grad 20"
    assert [c["verdict"] for c in steps["steps"]] == ["holds", "holds", "holds", "reverses"]
    assert steps["steps"][-1]["mean"] == pytest.approx(-4.0)
    text = steps_markdown({"Grad 1": steps})
    assert "+10.0 [" in text and "nan" not in text
    # One seed has no spread to judge: the table says so instead of printing [+nan, +nan].
    one = search_steps(_summaries(table, 0.1, {"Grad 1": 1.0}, seeds=1))
    text = steps_markdown(one)
    assert "nan" not in text and text.count("(1 seed, no interval) n.r.") == 4


def test_seen_and_unseen_are_paired_by_seed():
    runs = _summaries({"Grad 1": [40.0, 50.0, 60.0, 66.0, 62.0, 50.0]}, 0.5, {"Grad 1": 1.0})
    for s in runs:  # seen programs: 3 points higher at every seed
        s["results"]["test, seen"] = {c: dict(r, exact_match=r["exact_match"] + 0.03)
                                      for c, r in s["results"]["test"].items()}
    (c,) = seen_vs_unseen(runs)
    assert c["mean"] == pytest.approx(3.0) and c["verdict"] == "holds" and c["wins"] == 5


def test_official_settings_by_default_pseudocode_on_request():
    official = plan("table1", seeds=1)[0]
    assert all(official.config[k] == v for k, v in OFFICIAL.items())
    assert official.config["holdout"] > 0 and "test, seen" in official.evaluations
    pseudo = plan("table1", seeds=1, settings="pseudocode")[0]
    assert all(pseudo.config[k] == v for k, v in PSEUDOCODE.items())
    assert pseudo.config["holdout"] == OFFICIAL["holdout"]  # unseen programs either way
    assert "pseudocode" in pseudo.run_dir and len(plan("table1")) == 5 * 5  # 5 seeds by default
    with pytest.raises(ValueError, match="unknown settings 'paper'; choose one of official"):
        plan("table1", settings="paper")
    # ARC has no program holdout (its evaluation tasks are ARC's own) and no seen column.
    arc_job = plan("arc", seeds=1)[0]
    assert arc_job.config["holdout"] == 0 and arc_job.config["eval_latent_lr"] == 0.05


def test_a_record_from_before_a_config_key_existed_is_still_the_same_run(tmp_path):
    from lpn_mini.experiments.runs import committed_run, write_record
    job = plan("table1", quick=True, seeds=1, runs_dir=str(tmp_path / "runs"))[0]
    old = {k: v for k, v in job.config.items() if k != "arc_attempts"}  # an older Config
    write_record(str(tmp_path), job, dict(label=job.label, seed=0, config=old,
                                           evaluations=job.evaluations, results={}))
    assert committed_run(job, str(tmp_path))["reused"]
    # A key the run really set otherwise is a different run.
    write_record(str(tmp_path), job, dict(label=job.label, seed=0, evaluations=job.evaluations,
                                           config=dict(old, steps=old["steps"] + 1), results={}))
    assert committed_run(job, str(tmp_path)) is None


def test_committed_run_records_are_reused_on_another_machine(tmp_path, capsys):
    """A reproduction committed piece by piece: a fresh checkout (no runs/ folder) with the
    records in results/<experiment>/runs/ trains nothing again, except the run whose weights
    the figures need."""
    first, _, out = _reproduce(tmp_path, "latent2d", "--seeds", "2")
    runs = tmp_path / "runs"
    import shutil
    shutil.rmtree(runs)  # the checkpoints are not committed
    again, md, _ = _reproduce(tmp_path, "latent2d", "--seeds", "2")
    reused = {r["seed"]: r["reused"] for r in again["runs"]}
    assert reused == {0: False, 1: True}  # seed 0 retrained: latent2d draws its weights
    assert again["table"]["Grad 1"]["Grad 0"]["exact_match"]["values"][1] == \
        first["table"]["Grad 1"]["Grad 0"]["exact_match"]["values"][1]
    # A damaged record is one clear line, not a traceback.
    (out / "runs" / "grad-1-seed1.json").write_text("{not json")
    assert main(["reproduce", "latent2d", "--quick", "--seeds", "2", "--out", str(out),
                 "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "grad-1-seed1.json is not a readable run record" in err and "delete it" in err


def test_aggregate_means_over_seeds():
    runs = [{"label": "Grad 1", "results": {"test": {"Grad 0": {"exact_match": e,
                                                                 "cell_accuracy": 0.5}}}}
            for e in (0.1, 0.3)]
    agg = aggregate(runs)
    assert agg["Grad 1"]["Grad 0"]["exact_match"]["mean"] == pytest.approx(20.0)
    assert agg["Grad 1"]["Grad 0"]["exact_match"]["values"] == pytest.approx([10.0, 30.0])


def test_a_finished_run_is_not_trained_twice(tmp_path):
    job = plan("latent2d", quick=True, runs_dir=str(tmp_path))[0]
    first = run_job(job)
    assert not first["reused"]
    assert run_job(job)["reused"]


# --- ARC data ---

def test_arc_padding_round_trip():
    g = onp.array([[1, 2, 3], [4, 5, 6]])
    padded = arc.pad(g)
    assert padded.shape == (10, 10) and (padded[2:] == arc.PAD).all()
    assert onp.array_equal(arc.unpad(padded), g)
    with pytest.raises(ValueError, match="fit in 10 x 10"):
        arc.pad(onp.zeros((11, 3), dtype=int))


def test_arc_training_batches_are_augmented_tasks():
    sampler = arc.training_sampler(3, 10)
    x, y = sampler(onp.random.default_rng(0), 32)
    assert x.shape == y.shape == (32, 3, 10, 10)
    assert x.min() >= 0 and x.max() <= arc.PAD
    x2, y2 = sampler(onp.random.default_rng(0), 32)
    assert onp.array_equal(x, x2) and onp.array_equal(y, y2)          # seeded
    # Colour permutations keep black and the padding where they were: the padding of every
    # grid is a rotated, top-left-anchored rectangle's complement, so unpadding gives a grid
    # with no padding inside.
    for g in x.reshape(-1, 10, 10):
        inner = arc.unpad(g)
        assert (inner != arc.PAD).all()
    # Some augmented batch element must differ from its source pairs in colour (permutation).
    plain = {tuple(map(tuple, p)) for t in sampler.x for p in t[:, :, :, :].reshape(-1, 10, 10)}
    assert any(tuple(map(tuple, g)) not in plain for g in x.reshape(-1, 10, 10))


def test_arc_scores():
    target = onp.full((2, 10, 10), arc.PAD)
    target[:, :2, :2] = 1
    pred = target.copy()
    pred[1, 0, 0] = 2      # one of four cells wrong
    exact, cells, shape = arc.problem_scores(pred, target)
    assert exact.tolist() == [True, False]
    assert cells.tolist() == [1.0, 0.75]
    assert shape.tolist() == [True, True]
    pred[1, 5, 5] = 3      # paints outside the grid: wrong shape
    assert arc.problem_scores(pred, target)[2].tolist() == [True, False]


def test_arc_attempts_are_the_best_two_points_of_one_search_as_in_the_official_code():
    from lpn_mini.config import make_config
    from lpn_mini.inference import predict
    from lpn_mini.model import init_params
    config = make_config("arc", overrides=["hidden=32", "latent_dim=4", "dtype=float64"])
    assert config.arc_attempts == "trajectory"
    params = init_params(onp.random.default_rng(0), (10, 10), 11, 4, (32,))
    _, _, x_spec, y_spec, x_test, _ = arc.evaluation_problems(10)[0]
    first, second = arc.solve(params, config, x_spec, y_spec, x_test, 0, None)
    assert onp.array_equal(first, second)  # K = 0: one point, so both attempts are the start
    first, second = arc.solve(params, config, x_spec, y_spec, x_test, 5, None)
    # The first attempt is Algorithm 1 with best-of-trajectory from the mean latent.
    best = predict(params, x_spec, y_spec, x_test, **search_options(config, "grad", 5),
                   best_of_trajectory=True)
    assert onp.array_equal(first, best)
    assert not onp.array_equal(first, second)  # the runner-up is another point of the path
    two = make_config("arc", overrides=["hidden=32", "latent_dim=4", "dtype=float64",
                                        "arc_attempts=two_starts"])
    a, b = arc.solve(params, two, x_spec, y_spec, x_test, 5, arc.group_rng(0, 5, 0))
    same = lambda p: onp.all(p == best, axis=(1, 2))
    assert onp.all(same(a) | same(b))  # per problem, one of the two searches is that one


def test_paper_scale_runs_end_to_end_when_shrunk(tmp_path):
    """The --scale paper path (10 x 10 grids, 4 x 4 patterns, latent 32) really runs; only
    the budget is cut here, which is what a GPU run would not do."""
    out, runs = tmp_path / "out", tmp_path / "runs"
    assert main(["reproduce", "ood", "--scale", "paper", "--seeds", "1", "--out", str(out),
                 "--runs-dir", str(runs), "--set", "steps=2", "--set", "batch_size=4",
                 "--set", "eval_tasks=4", "--set", "eval_grad_steps=0,1"]) == 0
    record = json.loads((out / "results.json").read_text())
    config = record["configs"]["Grad 1"]
    assert (config["grid_size"], config["pattern_size"], config["latent_dim"]) == (10, 4, 32)
    assert record["scale"] == "paper" and record["budget"]["steps"] == 2


def test_a_gpu_run_is_trained_and_evaluated_on_the_device(tmp_path, monkeypatch):
    """On the fake GPU: the same numbers as the CPU run, and evaluation sees device arrays."""
    import lpn_mini.experiments.runs as runs_module
    from lpn_mini.device import backend
    from lpn_mini.device.fake_device import FakeDeviceArray, fake_xp
    real = backend.get_module
    fake = lambda device: fake_xp if device == "gpu" else real(device)  # noqa: E731
    monkeypatch.setattr("lpn_mini.training.get_module", fake)
    monkeypatch.setattr("lpn_mini.experiments.runs.get_module", fake)
    seen = []
    real_evaluate = runs_module.evaluate

    def spy(params, config, *a, **k):
        seen.append(type(params["decoder"][0][0]))
        return real_evaluate(params, config, *a, **k)
    monkeypatch.setattr(runs_module, "evaluate", spy)
    cpu = run_job(plan("table1", quick=True, runs_dir=str(tmp_path / "cpu"))[1])
    gpu = run_job(plan("table1", quick=True, runs_dir=str(tmp_path / "gpu"),
                       overrides=["device=gpu"])[1])
    assert seen == [np.ndarray] * 2 + [FakeDeviceArray] * 2  # unseen and seen programs
    assert gpu["results"] == cpu["results"]


def test_run_records_are_not_ignored_by_git():
    """The per-run records are the pieces a long reproduction commits as it goes."""
    import shutil
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if shutil.which("git") is None or not os.path.exists(os.path.join(root, ".git")):
        pytest.skip("not a git checkout")
    check = lambda path: subprocess.run(["git", "check-ignore", "-q", path], cwd=root).returncode
    assert check("results/table1/runs/grad-1-seed0.json") == 1       # 1: not ignored
    assert check("runs/reproduce/table1-laptop/checkpoint.npz") == 0  # checkpoints are
