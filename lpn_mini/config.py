"""Every hyperparameter of a run in one visible dataclass, with named presets.

A config is built from a preset, then a TOML file, then ``key=value`` overrides from the
command line, in that order. Unknown keys and values of the wrong type are errors that say
which keys exist.
"""
import dataclasses
import json
from dataclasses import dataclass, fields

from .backend import default_device

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Config:
    # --- the task (paper, appendix A.1) ---
    task: str = "pattern"           # "pattern" (the paper's Pattern task) or "arc" (ARC-AGI-1)
    grid_size: int = 4              # H = W
    pattern_size: int = 2           # P: a P x P pattern per task
    num_pairs: int = 4              # N pairs per task
    num_colors: int = 10            # C
    density: float = 1.0            # probability that a pattern cell is coloured
    # --- the model ---
    latent_dim: int = 8             # d
    hidden: tuple = (256, 256)      # hidden widths of encoder and decoder
    dtype: str = "float32"          # "float32" (fast) or "float64"
    device: str = "cpu"             # "cpu" (NumPy) or "gpu" (CuPy); default from LPN_MINI_DEVICE
    # --- training (Algorithm 2) ---
    seed: int = 0
    steps: int = 2000               # outer optimizer steps
    batch_size: int = 64            # tasks per step
    lr: float = 2e-3                # Adam learning rate for phi and theta
    weight_decay: float = 0.0       # > 0 makes it AdamW (the paper: AdamW)
    grad_clip: float = 1.0          # global-norm clipping of the outer gradient; 0 = off
    beta: float = 1e-4              # KL weight (eq. 11)
    likelihood: str = "sum"         # "sum" over cells (pseudo-code) or "mean" (official code)
    train_method: str = "grad"      # "grad" (Grad K rows of Table 1) or "sample" (Sample N)
    train_steps: int = 1            # K latent steps in training (0 = mean training)
    train_samples: int = 5          # N samples for train_method = "sample"
    stop_gradient: bool = True      # latent update is a constant for the outer gradient
    # --- the latent optimizer, shared by training and test-time search ---
    latent_optimizer: str = "adam"  # "sgd" (alpha * grad, the pseudo-code) or "adam"
    latent_lr: float = 0.1          # alpha
    latent_clip: float = 1.0        # per-latent gradient-norm clipping; 0 = off
    sample_scale: float = 1.0       # std of the random-search proposals around z'
    # --- evaluation (Algorithm 1, leave-one-out scoring) ---
    eval_tasks: int = 256           # fixed seeded evaluation set
    eval_seed: int = 12345
    eval_density: float = -1.0      # < 0: same as training density
    eval_grad_steps: tuple = (0, 1, 5, 20, 100)
    eval_samples: tuple = (250,)    # Sample N columns
    best_of_trajectory: bool = True  # keep the best latent seen during test-time search
    # --- bookkeeping ---
    log_every: int = 25             # steps between metric lines in metrics.jsonl
    eval_every: int = 500           # steps between quick evaluations (0 = never)
    checkpoint_every: int = 250     # steps between checkpoints

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)


PRESETS = {
    # Seconds: what the tests train.
    "tiny": dict(grid_size=3, pattern_size=2, num_colors=4, latent_dim=4, hidden=(32, 32),
                 steps=60, batch_size=16, eval_tasks=32, eval_grad_steps=(0, 1, 5),
                 eval_samples=(10,), log_every=10, eval_every=0, checkpoint_every=20,
                 dtype="float64"),
    # The README's demo: 4 x 4 grids, 2 x 2 patterns, a few minutes on 2 CPU cores.
    "small": dict(),
    # The paper's Pattern setting: 10 x 10 grids, 4 x 4 patterns, 20k steps of 128 tasks.
    "paper": dict(grid_size=10, pattern_size=4, latent_dim=32, steps=20000, batch_size=128,
                  lr=4e-4, weight_decay=0.01, eval_tasks=1024),
    # The 2-D-latent model, for plotting the latent space (beta = 1e-3 as in the paper).
    "latent2d": dict(grid_size=4, pattern_size=2, latent_dim=2, beta=1e-3, steps=3000),
    # Out-of-distribution study (Table 6): train at density 0.5; evaluate with
    # eval_density=0.75 (weak OOD) or 1.0 (strong OOD).
    "ood": dict(density=0.5, eval_grad_steps=(0, 10, 100), eval_samples=()),
    # Real ARC-AGI-1 tasks that fit in 10 x 10, padded with colour 10 (see lpn_mini/arc.py);
    # 3 pairs per training task, as every training task has at least 3.
    "arc": dict(task="arc", grid_size=10, num_colors=11, num_pairs=3, latent_dim=32,
                steps=6000, batch_size=64, lr=1e-3, eval_every=0,
                eval_grad_steps=(0, 10, 100, 200), eval_samples=()),
}

CHOICES = {"task": ("pattern", "arc"), "dtype": ("float32", "float64"), "device": ("cpu", "gpu"), "likelihood": ("sum", "mean"),
           "train_method": ("grad", "sample"), "latent_optimizer": ("sgd", "adam")}


def _coerce(key, value, default):
    """Turn ``value`` (from TOML or a command-line string) into the type of ``default``."""
    kind = type(default)
    try:
        if kind is tuple:
            if isinstance(value, str):
                value = [v for v in value.replace(",", " ").split()]
            item = type(default[0]) if default else int
            return tuple(item(v) for v in value)
        if kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return value.lower() in ("true", "1", "yes")
            return bool(value)
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"config key {key!r} expects a {kind.__name__} like {default!r}, "
                         f"got {value!r}.") from None


def make_config(preset="small", toml_path=None, overrides=()):
    """Build a Config: ``preset``, then the TOML file's keys, then ``key=value`` strings."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    values = dataclasses.asdict(Config())
    values.update(PRESETS[preset])
    values["device"] = default_device()  # the environment variable, if set
    updates = {}
    if toml_path is not None:
        with open(toml_path, "rb") as f:
            try:
                updates.update(tomllib.load(f))
            except tomllib.TOMLDecodeError as e:
                raise ValueError(f"{toml_path} is not valid TOML ({e}).") from None
    return with_overrides(config_from_dict({**values, **updates}, base=values), overrides)


def config_from_dict(d, base=None):
    """A Config from a plain dict (e.g. a checkpoint's JSON), checking keys and types."""
    base = base or dataclasses.asdict(Config())
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"unknown config key(s) {', '.join(unknown)}; known keys are: "
                         f"{', '.join(sorted(known))}.")
    values = {k: _coerce(k, v, base[k]) for k, v in d.items()}
    for key, allowed in CHOICES.items():
        if values.get(key, base[key]) not in allowed:
            raise ValueError(f"config key {key!r} must be one of {allowed}, got "
                             f"{values[key]!r}.")
    return Config(**values)


def with_overrides(config, overrides):
    """``config`` with ``key=value`` strings applied (same checks as ``make_config``)."""
    values = dataclasses.asdict(config)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value, e.g. eval_tasks=128.")
        key, value = item.split("=", 1)
        values[key.strip()] = value.strip()
    return config_from_dict(values, base=dataclasses.asdict(config))
