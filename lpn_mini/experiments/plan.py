"""The plan of ``lpn-mini reproduce``: which runs (rows x seeds) an experiment needs, and the
config of each.

Experiments: ``table1`` (Table 1), ``ood`` (Table 6), ``latent2d`` (the 2-D latent space),
``arc`` (real ARC-AGI-1 tasks that fit in 10 x 10). Every run uses the official code's
settings (``config.OFFICIAL``) unless ``settings="pseudocode"`` (``config.PSEUDOCODE``).
"""
import dataclasses
import os

from ..config import PRESETS, PSEUDOCODE, make_config, with_overrides

EXPERIMENTS = ("table1", "ood", "latent2d", "arc")
SCALES = ("laptop", "paper")
# "official": the official code's settings (config.OFFICIAL, in every preset reproduce uses);
# "pseudocode": Algorithm 2 as the paper's pseudo-code writes it (config.PSEUDOCODE).
SETTINGS = ("official", "pseudocode")

# Table 1's training rows: label -> config overrides. The same budget of steps x tasks each.
TABLE1_ROWS = {
    "Grad 0": ["latent_steps=0"],
    "Grad 1": ["latent_steps=1"],
    "Grad 1, no stop-grad": ["latent_steps=1", "stop_gradient=false"],
    "Grad 5": ["latent_steps=5"],
    "Sample 5": ["train_method=sample", "latent_samples=5"],
}
OOD_ROWS = {"Grad 0": ["latent_steps=0"], "Grad 1": ["latent_steps=1"]}
OOD_DENSITIES = {"In-distribution (0.5)": 0.5, "Weak OOD (0.75)": 0.75, "Strong OOD (1.0)": 1.0}
PAPER_TABLE6 = {  # exact match %, inference Grad 0 / 10 / 100 (paper, Table 6)
    "Grad 0": {"In-distribution (0.5)": (30.2, 72.8, 82.2), "Weak OOD (0.75)": (7.6, 51.3, 62.8),
               "Strong OOD (1.0)": (0.3, 18.8, 41.1)},
    "Grad 1": {"In-distribution (0.5)": (26.6, 98.0, 99.2), "Weak OOD (0.75)": (7.4, 93.1, 97.7),
               "Strong OOD (1.0)": (0.0, 59.9, 88.0)},
}

# What --quick shrinks every run to: seconds per run, same code paths.
QUICK = ["grid_size=3", "pattern_size=2", "num_colors=4", "latent_dim=4", "hidden=32,32",
         "steps=150", "batch_size=16", "eval_tasks=32", "log_every=10", "checkpoint_every=20",
         "eval_every=0"]


# --------------------------------------------------------------------------------------
# The plan: which runs an experiment needs
# --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Job:
    """One training run and the evaluations to run on it, in a worker process."""
    experiment: str
    label: str                  # training method, e.g. "Grad 1"
    seed: int
    config: dict                # a Config as a dict (picklable across processes)
    run_dir: str
    evaluations: dict           # name -> config overrides for that evaluation
    progress: bool = False

    @property
    def cost(self):             # rough relative cost, to start the longest runs first
        c = self.config
        inner = c["latent_samples"] / 4 if c["train_method"] == "sample" else c["latent_steps"]
        return c["steps"] * c["batch_size"] * (1 + inner * (1 if c["stop_gradient"] else 2))


def slug(label):
    return label.lower().replace(", ", "-").replace(" ", "-")


def base_config(experiment, scale="laptop", quick=False, overrides=(), settings="official"):
    """The config every run of ``experiment`` starts from."""
    if settings not in SETTINGS:
        raise ValueError(f"unknown settings {settings!r}; choose one of {', '.join(SETTINGS)}.")
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
    if quick and scale == "paper":
        raise ValueError("--quick and --scale paper cannot be combined (--quick shrinks every "
                         "run to the same tiny model at any scale); drop --quick, or shrink "
                         "the paper scale with --set steps=N.")
    if experiment == "arc":
        config = make_config("arc")
        quick_set = ["steps=30", "batch_size=16", "hidden=64,64", "latent_dim=8",
                     "checkpoint_every=30", "eval_grad_steps=0,2"]
    else:
        preset = {"table1": "paper" if scale == "paper" else "small", "ood": "ood",
                  "latent2d": "latent2d"}[experiment]
        config = make_config(preset)
        if experiment == "ood" and scale == "paper":  # the paper preset with the ood keys
            config = make_config("paper", overrides=[
                f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
                for k, v in PRESETS["ood"].items()])
        quick_set = QUICK + (["latent_dim=2"] if experiment == "latent2d" else [])
        if experiment == "table1":
            quick_set = quick_set + ["eval_samples=50"]
    config = with_overrides(config, ["eval_every=0"])  # the reproduction evaluates at the end
    if settings == "pseudocode":
        config = dataclasses.replace(config, **PSEUDOCODE)
    if quick:
        config = with_overrides(config, quick_set)
    return with_overrides(config, overrides)


def plan(experiment, scale="laptop", quick=False, seeds=None, overrides=(), runs_dir=None,
         settings="official", rows=None):
    """The list of ``Job`` for an experiment. rows: None (every training row), or the rows
    to run, by label or its slug (``["Grad 0", "grad-1"]``; ``"grad-1-no-stop-grad"``):
    a table can fill in row by row."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; choose one of "
                         f"{', '.join(EXPERIMENTS)}.")
    only = rows
    seeds = default_seeds(experiment, quick) if seeds is None else seeds
    if seeds < 1:
        raise ValueError(f"--seeds must be at least 1, got {seeds}.")
    base = base_config(experiment, scale, quick, overrides, settings)
    runs_dir = runs_dir or os.path.join("runs", "reproduce", experiment + (
        "-quick" if quick else f"-{scale}") + ("-pseudocode" if settings == "pseudocode" else ""))
    # With programs held out, every evaluation is also run on training-side programs
    # (eval_programs = "seen"), under the same name + SEEN.
    seen = base.holdout > 0

    def with_seen(evaluations):
        if not seen:
            return evaluations
        return {**evaluations, **{name + SEEN: [*o, "eval_programs=seen"]
                                  for name, o in evaluations.items()}}

    if experiment == "table1":
        rows, evaluations = TABLE1_ROWS, with_seen({"test": []})
    elif experiment == "ood":
        rows = OOD_ROWS
        evaluations = with_seen({name: [f"eval_density={d}"]
                                 for name, d in OOD_DENSITIES.items()})
    elif experiment == "latent2d":
        rows, evaluations = {"Grad 1": []}, with_seen({"test": []})
    else:
        rows, evaluations = {"Grad 1": []}, {}  # ARC is scored by arc.evaluate_arc
    if only is not None:
        slugs = {slug(r) for r in only}
        unknown = sorted(slugs - {slug(label) for label in rows})
        if unknown or not slugs:
            raise ValueError(f"--rows: {', '.join(map(repr, unknown)) or 'none given'} is not a "
                             f"training row of {experiment}; choose from "
                             f"{', '.join(slug(label) for label in rows)}, comma-separated.")
        rows = {label: o for label, o in rows.items() if slug(label) in slugs}
    jobs = []
    for label, row_overrides in rows.items():
        for seed in range(seeds):
            config = with_overrides(base, [*row_overrides, f"seed={seed}"])
            run_dir = os.path.join(runs_dir, f"{slug(label)}-seed{seed}")
            jobs.append(Job(experiment, label, seed, dataclasses.asdict(config), run_dir,
                            evaluations))
    return jobs


SEEN = ", seen"  # suffix of an evaluation on training-side programs


def default_seeds(experiment, quick=False):
    """5 seeds for every table (1 with --quick): enough for a paired 95% interval."""
    return 1 if quick else 5
