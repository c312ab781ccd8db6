"""results/mechanisms/measure.py follows the test-time search step by step; its exact match
at each K must be the evaluation's own number, or its curves would explain another search."""
import importlib.util
import os

import numpy as onp

from lpn_mini.evaluation import evaluate
from lpn_mini.experiments.plan import base_config
from lpn_mini.training import new_params

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_measure():
    path = os.path.join(ROOT, "results", "mechanisms", "measure.py")
    spec = importlib.util.spec_from_file_location("measure", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_following_the_search_gives_the_evaluations_numbers_at_every_k():
    measure = load_measure()
    config = base_config("table1", quick=True, overrides=["eval_tasks=24"])
    params = new_params(config)
    curves = measure.follow_search(params, config, chunk=16)     # K = 0..100
    ks = (0, 1, 5, 20, 100)
    results, _ = evaluate(params, config, methods=[(f"Grad {k}", "grad", k) for k in ks],
                          chunk=16)
    for k in ks:
        assert abs(curves["exact"][k] - results[f"Grad {k}"]["exact_match"]) < 1e-9, k
    # Best of trajectory: what the search climbs never goes down with more steps.
    assert onp.all(onp.diff(curves["spec"]) >= -1e-6)
    assert curves["spec"][100] > curves["spec"][0]
