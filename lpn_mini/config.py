"""Every hyperparameter of a run in one visible dataclass, with named presets.

Each key is declared once, below, with its default, the values it allows (a ``Rule``) and a
one-line description; ``lpn-mini train --list-keys`` prints them from there, and
``check_config`` checks every config against them. A config is built from a preset, then a
TOML file, then ``key=value`` overrides from the command line, in that order. An unknown
key, a value of the wrong type (a TOML ``20.7`` for an integer key, a ``1`` for a boolean
one) or a value out of range is an error that names the key, the value and what it allows.
"""
import dataclasses
import difflib
import json
import math
import os
import sys
from dataclasses import dataclass, field, fields

from .architectures import ARCHITECTURES
from .device.backend import default_device

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


# --------------------------------------------------------------------------------------
# What a key allows. The type comes from the field's annotation; a Rule adds the range.
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """The values a key allows: ``ok(value)`` tests one, ``text`` says them in words."""
    text: str
    ok: object


def count(low):  # an int key
    return Rule(f"an integer >= {low}", lambda v: v >= low)


def counts(low):  # a tuple-of-ints key, every entry checked
    return Rule(f"a list of integers >= {low}", lambda v: all(k >= low for k in v))


def positive():
    return Rule("a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def non_negative():
    return Rule("a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)


def probability():
    return Rule("a probability in [0, 1]", lambda v: 0.0 <= v <= 1.0)


def one_of(*choices):
    return Rule("one of " + ", ".join(map(repr, choices)), lambda v: v in choices)


FLAG = Rule("true or false", lambda v: True)


def key(default, rule, help, group=None):
    """A Config field: its default, its ``Rule``, a one-line description, and (on the first
    key of a group) the group's title, as ``--list-keys`` prints them."""
    return field(default=default, metadata={"rule": rule, "help": help, "group": group})


# K latent steps above this make each training step far slower than anything the paper
# trains with (K <= 5); allowed, with a warning (see ``warnings_of``).
MANY_LATENT_STEPS = 20


@dataclass(frozen=True)
class Config:
    task: str = key("pattern", one_of("pattern", "arc"),
                    "'pattern' (the paper's Pattern task) or 'arc' (ARC-AGI-1)",
                    group="the task (paper, appendix A.1)")
    grid_size: int = key(4, count(1), "H = W, the grid's side")
    pattern_size: int = key(2, count(1), "P: a P x P pattern per task (at most grid_size)")
    num_pairs: int = key(4, count(2), "N pairs per task (leave-one-out needs 2)")
    num_colors: int = key(10, count(2), "C colours (the Pattern task needs 3)")
    density: float = key(1.0, probability(), "probability that a pattern cell is coloured")
    overhang: bool = key(False, FLAG,
                         "Pattern variant: anchors anywhere, so a pattern may run off the grid "
                         "and one pair shows only part of its program (not the paper's task)")
    holdout: float = key(0.0, Rule("a fraction in [0, 1)", lambda v: 0.0 <= v < 1.0),
                         "fraction of patterns held out of training (by a hash of the "
                         "pattern) that evaluation draws from; 0 = off")

    latent_dim: int = key(8, count(1), "d, the size of the latent z", group="the model")
    hidden: tuple = key((256, 256), counts(1), "hidden widths of encoder and decoder "
                                               "(empty: no hidden layer)")
    architecture: str = key("mlp", one_of(*ARCHITECTURES),
                            "'mlp' (flattened grids, the teaching model) or 'conv' (the "
                            "latent writes a convolution: lpn_mini/conv.py)")
    window: int = key(7, Rule("an odd integer >= 1", lambda v: v >= 1 and v % 2 == 1),
                      "conv: the side k of the kernel (a cell reads x up to k // 2 away)")
    dtype: str = key("float32", one_of("float32", "float64"), "'float32' (fast) or 'float64'")
    device: str = key("cpu", one_of("cpu", "gpu"),
                      "'cpu' (NumPy) or 'gpu' (CuPy); default from LPN_MINI_DEVICE")

    seed: int = key(0, count(0), "seed of the initial weights and of every step's tasks",
                    group="training (Algorithm 2)")
    steps: int = key(2000, count(1), "outer optimizer steps: raise it to train longer")
    batch_size: int = key(64, count(1), "tasks per step")
    lr: float = key(2e-3, positive(), "Adam learning rate for phi and theta")
    weight_decay: float = key(0.0, non_negative(), "> 0 makes it AdamW (the official code: "
                                                   "optax.adamw's default 1e-4)")
    # src/train.py, Trainer.init_train_state: optax.warmup_exponential_decay_schedule from
    # lr / 100 to lr over linear_warmup_steps = 99 steps, then constant.
    lr_warmup: int = key(0, count(0), "steps of linear learning-rate warm-up from lr / "
                                      "(lr_warmup + 1) to lr (official code: 99); 0 = off")
    grad_clip: float = key(1.0, non_negative(),
                           "global-norm clipping of the outer gradient; 0 = off")
    beta: float = key(1e-4, non_negative(), "KL weight (eq. 11)")
    likelihood: str = key("sum", one_of("sum", "mean"),
                          "'sum' over cells (pseudo-code) or 'mean' (official code)")
    train_method: str = key("grad", one_of("grad", "sample"),
                            "'grad' (Grad K rows of Table 1) or 'sample' (Sample N)")
    latent_steps: int = key(1, count(0), "K latent gradient steps inside every training step; "
                                         "0 = mean training, Table 1 uses 0, 1, 5")
    latent_samples: int = key(5, count(1), "N random latents per pair inside every training "
                                           "step, for train_method = 'sample'")
    stop_gradient: bool = key(True, FLAG,
                              "the latent update is a constant for the outer gradient")
    # src/models/lpn.py, LPN._get_gradient_ascent_context: the best of the start point and
    # every step (_select_best_and_second_best_latents), in training as at test time.
    train_best_of_trajectory: bool = key(False, FLAG,
                                         "keep the best latent seen by the K training steps "
                                         "(official code: on)")

    latent_optimizer: str = key("adam", one_of("sgd", "adam"),
                                "'sgd' (alpha * grad, the pseudo-code) or 'adam'",
                                group="the latent optimizer, shared by training and "
                                      "test-time search")
    latent_lr: float = key(0.1, positive(), "alpha, the latent step size")
    latent_clip: float = key(1.0, non_negative(), "latent gradient-norm clipping; 0 = off")
    # src/models/lpn.py, LPN._get_gradient_ascent_context: optax.clip_by_global_norm(1.0)
    # on the gradient of the whole batch of latents, then optax.adam(eps_root=1e-8).
    latent_clip_mode: str = key("latent", one_of("latent", "global"),
                                "'latent' (each latent's own norm) or 'global' (one norm "
                                "over the batch, official code)")
    adam_eps_root: float = key(0.0, non_negative(),
                               "latent Adam's epsilon inside the square root (official "
                               "code: 1e-8); 0 = a square root safe at 0")
    # src/models/lpn.py, LPN._get_random_search_context: latents + scale * N(0, I) around
    # the mean latent; the configs use scale 0.5 (pattern_4/rs_5.yaml, the Sample 250 column).
    sample_scale: float = key(1.0, positive(), "std of the random-search proposals around z', "
                                               "the mean latent (official configs: 0.5)")

    eval_tasks: int = key(256, count(1), "tasks in the fixed, seeded evaluation set",
                          group="evaluation (Algorithm 1, leave-one-out scoring)")
    eval_seed: int = key(12345, count(0), "seed of the evaluation set and its noise")
    eval_density: float = key(-1.0, Rule("a probability in [0, 1], or -1 (any negative "
                                         "number: the training density)",
                                         lambda v: math.isfinite(v) and v <= 1.0),
                              "density of the evaluation patterns; -1: same as density")
    eval_grad_steps: tuple = key((0, 1, 5, 20, 100), counts(0),
                                 "Grad K columns: test-time gradient steps")
    eval_samples: tuple = key((250,), counts(1), "Sample N columns: random-search latents")
    best_of_trajectory: bool = key(True, FLAG,
                                   "keep the best latent seen during test-time search")
    eval_programs: str = key("unseen", one_of("unseen", "seen"),
                             "with holdout > 0: evaluate on the held-out programs ('unseen') "
                             "or on training-side ones ('seen')")
    # src/models/lpn.py, LPN._select_best_and_second_best_latents: ARC's two attempts are the
    # best and second-best points (start included) of one search from the mean latent.
    arc_attempts: str = key("trajectory", one_of("trajectory", "two_starts"),
                            "ARC's two attempts: the best and second-best points of one "
                            "search ('trajectory', official code) or the ends of two searches, "
                            "from the mean latent and from a sampled one ('two_starts')")
    # Paper, Table 16: the ARC test-time latent learning rate 5e-2.
    eval_latent_lr: float = key(-1.0, Rule("a finite number > 0, or -1 (any negative "
                                           "number: latent_lr)",
                                           lambda v: math.isfinite(v) and v != 0),
                                "alpha of test-time search; -1: same as latent_lr")

    log_every: int = key(25, count(1), "steps between lines of metrics.jsonl",
                         group="bookkeeping")
    eval_every: int = key(500, count(0), "steps between quick evaluations (0 = never)")
    checkpoint_every: int = key(250, count(1), "steps between checkpoints")

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)


# Rules between keys, each ``(test of a Config, message)``.
RELATIONS = [
    (lambda c: c.task != "pattern" or c.pattern_size <= c.grid_size,
     "pattern_size = {c.pattern_size} must be at most grid_size = {c.grid_size} (a P x P "
     "pattern is pasted into the grid); lower pattern_size or raise grid_size."),
    (lambda c: c.task != "pattern" or c.num_colors >= 3,
     "the Pattern task needs num_colors >= 3 (0 background, 1 the anchor, pattern colours "
     "from 1), got {c.num_colors}; set num_colors=3 or more."),
    (lambda c: c.task == "pattern" or c.holdout == 0,
     "holdout = {c.holdout} holds out Pattern programs, but task = {c.task!r}; set holdout=0."),
    (lambda c: c.architecture != "conv" or c.hidden,
     "architecture = 'conv' needs at least one hidden layer, got hidden = {c.hidden}; set "
     "e.g. hidden=256,256."),
    (lambda c: c.eval_grad_steps or c.eval_samples,
     "eval_grad_steps and eval_samples are both empty, so evaluation has no column; give at "
     "least one, e.g. eval_grad_steps=0,1,5."),
]

# Old names still read (TOML files, --set, checkpoints), with a one-line note.
RENAMED = {"train_steps": "latent_steps", "train_samples": "latent_samples"}
# Old names refused on the command line, where they are easy to misread: someone who types
# --set train_steps=10 may mean "train for 10 steps" (steps), not K (latent_steps). Files
# that use them (TOML, checkpoints) were written under the old meaning and still load.
AMBIGUOUS = {"train_steps": ("steps", "latent_steps")}

# Keys that may differ when a run is resumed or evaluated: they change neither the weights
# trained so far nor what the next step computes. (``steps`` may only grow: see training.)
EVAL_KEYS = ("eval_tasks", "eval_seed", "eval_density", "eval_grad_steps", "eval_samples",
             "best_of_trajectory", "eval_latent_lr", "eval_programs", "arc_attempts")
RESUMABLE_KEYS = ("steps", "device", "log_every", "eval_every", "checkpoint_every", *EVAL_KEYS)
# What `lpn-mini evaluate --set` may change: evaluation keys, and test-time search settings.
EVALUATION_OVERRIDES = ("device", *EVAL_KEYS, "latent_optimizer", "latent_lr", "latent_clip",
                        "sample_scale", "likelihood", "latent_clip_mode", "adam_eps_root")


# The official code's settings where lpn-mini's defaults differ (README, "Fidelity"); the
# sources are in the comments of the keys above.
OFFICIAL = dict(
    weight_decay=1e-4,               # optax.adamw default (src/train.py, init_train_state)
    lr_warmup=99,                    # src/train.py, init_train_state: linear_warmup_steps=99
    likelihood="mean",               # per-cell mean (src/models/lpn.py, _normalized_mean_over_sequence)
    train_best_of_trajectory=True,   # src/models/lpn.py, _get_gradient_ascent_context
    latent_clip_mode="global",       # optax.clip_by_global_norm(1.0), same function
    adam_eps_root=1e-8,              # optax.adam(eps_root=1e-8), same function
    sample_scale=0.5,                # configs/pattern_4/rs_5.yaml: scale 0.5
    holdout=0.2,                     # lpn-mini's own: evaluate on programs never trained on
)

# The paper's pseudo-code (Algorithm 2 read literally) where the official code does more:
# the Config defaults of the keys OFFICIAL sets. `reproduce --settings pseudocode` trains
# with these; the unseen-program holdout is kept either way.
PSEUDOCODE = {k: f.default for k, f in Config.__dataclass_fields__.items()
              if k in OFFICIAL and k != "holdout"}

# Algorithms 1 and 2 read literally: what chapters 1-8 derive and train. Plain latent
# gradient ascent with step alpha = latent_lr on the per-cell SUM log-likelihood, the last
# point of the search used (no best-of-trajectory), no clipping of either gradient, no weight
# decay or warm-up, every program trainable. The parameters are updated with Adam, the
# pseudo-code's "gradient descent" done the way chapter 1 teaches (chapter 1 shows, on a
# small problem, why one learning rate for every weight is slow).
LITERAL = dict(latent_optimizer="sgd", latent_lr=0.05, latent_clip=0.0, grad_clip=0.0,
               best_of_trajectory=False, **PSEUDOCODE, holdout=0.0)

PRESETS = {
    # Seconds: what the tests train (the Config defaults: the pseudo-code's settings).
    "tiny": dict(grid_size=3, pattern_size=2, num_colors=4, latent_dim=4, hidden=(32, 32),
                 steps=60, batch_size=16, eval_tasks=32, eval_grad_steps=(0, 1, 5),
                 eval_samples=(10,), log_every=10, eval_every=0, checkpoint_every=20,
                 dtype="float64"),
    # The README's demo and Table 1 at laptop scale: 4 x 4 grids, 2 x 2 patterns, a minute
    # or two on 2 CPU cores, with the official code's settings and a fifth of the programs
    # held out for evaluation (OFFICIAL; README, "Fidelity").
    "small": dict(OFFICIAL),
    # The same with the pseudo-code's settings (PSEUDOCODE), beside it for comparison.
    "small-pseudocode": dict(holdout=OFFICIAL["holdout"]),
    # The small model with the algorithms read literally (LITERAL): what the chapters train.
    "literal": dict(LITERAL),
    # The paper's Pattern setting: 10 x 10 grids, 4 x 4 patterns, 20k steps of 128 tasks,
    # with the conv model (the plain MLP stalls there: results/paper-scale/results.md) and
    # the learning rate it learns fastest with (1e-3 against the paper's 4e-4: ibid.).
    "paper": dict(grid_size=10, pattern_size=4, latent_dim=32, steps=20000, batch_size=128,
                  architecture="conv", lr=1e-3, eval_tasks=1024, **OFFICIAL),
    # The same with the plain MLP and the paper's learning rate: what stalls at 0% exact.
    "paper-mlp": dict(grid_size=10, pattern_size=4, latent_dim=32, steps=20000,
                      batch_size=128, lr=4e-4, eval_tasks=1024, **OFFICIAL),
    # Kept so that earlier commands still run: the same as "small" since small took the
    # official settings.
    "official": dict(OFFICIAL),
    # The 2-D-latent model, for plotting the latent space (beta = 1e-3 as in the paper).
    "latent2d": dict(grid_size=4, pattern_size=2, latent_dim=2, beta=1e-3, steps=3000,
                     **OFFICIAL),
    # Out-of-distribution study (Table 6): train at density 0.5; evaluate with
    # eval_density=0.75 (weak OOD) or 1.0 (strong OOD).
    "ood": dict(density=0.5, eval_grad_steps=(0, 10, 100), eval_samples=(), **OFFICIAL),
    # Real ARC-AGI-1 tasks that fit in 10 x 10, padded with colour 10 (see lpn_mini/arc.py);
    # 3 pairs per training task, as every training task has at least 3. Official settings
    # (no holdout: the evaluation tasks are ARC's own) and the paper's test-time latent
    # learning rate 5e-2 (Table 16).
    "arc": dict(task="arc", grid_size=10, num_colors=11, num_pairs=3, latent_dim=32,
                steps=6000, batch_size=64, lr=1e-3, eval_every=0,
                eval_grad_steps=(0, 10, 100, 200), eval_samples=(),
                **{**OFFICIAL, "holdout": 0.0}, eval_latent_lr=5e-2),
}


def _show(value):
    """A value as it is written after ``--set key=``."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _parse(kind, value):
    """``value`` (from TOML, JSON or a ``--set`` string) as a ``kind``; ``ValueError`` if it is
    not one. No silent conversions: ``20.7`` is not an int, ``1`` is not a bool."""
    if kind is tuple:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        elif not isinstance(value, (list, tuple)):
            value = [value]
        return tuple(_parse(int, v) for v in value)
    if isinstance(value, str):
        if kind is str:
            return value
        if kind is bool:
            words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
            if value.lower() not in words:
                raise ValueError
            return words[value.lower()]
        if kind is int:
            try:
                return int(value)
            except ValueError:
                value = float(value)  # "2e4" is an integer written as a float
        else:
            return float(value)
    if kind is bool and isinstance(value, bool):
        return value
    if isinstance(value, bool) or kind is str:
        raise ValueError
    if kind is int and isinstance(value, int):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, (int, float)):
        return float(value)
    raise ValueError


def _bad_value(f, value):
    if not (isinstance(value, str) and value and f.type is not str):
        value = repr(value)  # a --set string is shown as typed, anything else as Python
    old = [o for o, n in RENAMED.items() if n == f.name]
    name = f"{f.name!r}" + (f" (formerly {old[0]!r})" if old else "")
    return ValueError(f"config key {name} must be {f.metadata['rule'].text}, got {value}; "
                      f"set it to e.g. {f.name}={_show(f.default)}.")


def check_config(values):
    """A Config from a dict of every key, after checking each value's type and range
    (the rules in ``Config``) and the rules between keys (``RELATIONS``)."""
    checked = {}
    for f in fields(Config):
        value = values[f.name]
        try:
            checked[f.name] = _parse(f.type, value)
        except (TypeError, ValueError, OverflowError):
            raise _bad_value(f, value) from None
        if not f.metadata["rule"].ok(checked[f.name]):
            raise _bad_value(f, value)
    config = Config(**checked)
    for test, message in RELATIONS:
        if not test(config):
            raise ValueError(message.format(c=config))
    return config


_NOTED = set()


def renamed(d, where="config", notes=None):
    """``d`` with old key names (``RENAMED``) replaced by the new ones. A one-line note for
    each is appended to ``notes`` (printed by ``_print_notes`` once the config is valid)."""
    d = dict(d)
    for old, new in RENAMED.items():
        if old in d:
            if new in d:
                raise ValueError(f"the {where} sets both {old!r} and its new name {new!r}; "
                                 f"keep only {new!r}.")
            d[new] = d.pop(old)
            if notes is not None:
                notes.append(f"lpn-mini: note: config key {old!r} is now called {new!r}; read "
                             f"{old}={_show(d[new])} from the {where} as {new}.")
    return d


def _print_notes(notes):
    """Each deprecation note on stderr, once per process."""
    for note in notes:
        if note not in _NOTED:
            _NOTED.add(note)
            print(note, file=sys.stderr)


def did_you_mean(name, choices):
    """The hint `` (did you mean 'steps'?)`` for the choice closest to a mistyped ``name``,
    or "" when none is close."""
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _known(d, where="config"):
    known = [f.name for f in fields(Config)]
    unknown = sorted(set(d) - set(known))
    if len(unknown) == 1:
        raise ValueError(f"unknown config key {unknown[0]!r} in the {where}"
                         f"{did_you_mean(unknown[0], known)}; `lpn-mini train --list-keys` "
                         f"prints every key with what it means.")
    if unknown:
        raise ValueError(f"unknown config keys {', '.join(map(repr, unknown))} in the {where}; "
                         f"`lpn-mini train --list-keys` prints every key with what it means.")


def refuse_ambiguous(name):
    """A command-line key that is an old name with a misleading reading (``AMBIGUOUS``) is an
    error that names the keys it could mean."""
    if name in AMBIGUOUS:
        length, inner = AMBIGUOUS[name]
        raise ValueError(f"{name} is no longer a config key: use {length}=N to train for N "
                         f"steps, or {inner}=K for K latent gradient steps inside every "
                         f"training step (what {name} used to mean).")


def _read_toml(path):
    if os.path.isdir(path):
        raise ValueError(f"--toml {path} is a folder; expected a TOML file of KEY = VALUE "
                         f"lines, e.g. steps = 500.")
    if not os.path.exists(path):
        raise ValueError(f"--toml {path}: no such file; check the path (a TOML file of KEY = "
                         f"VALUE lines).")
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{path} is not valid TOML ({e}).") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not valid TOML (not UTF-8 text); pass a text file "
                             f"of KEY = VALUE lines.") from None


def _pairs(overrides, notes):
    """``["key=value", ...]`` -> ``{key: value}`` (strings), old names renamed."""
    out = {}
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value, e.g. eval_tasks=128.")
        k, value = item.split("=", 1)
        refuse_ambiguous(k.strip())
        out[k.strip()] = value.strip()
    out = renamed(out, "command line", notes)
    _known(out, "command line")
    return out


def make_config(preset="small", toml_path=None, overrides=()):
    """Build a Config: ``preset``, then the TOML file's keys, then ``key=value`` strings."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}{did_you_mean(preset, PRESETS)}; choose "
                         f"one of {', '.join(PRESETS)}.")
    values = dataclasses.asdict(Config())
    values.update(PRESETS[preset])
    values["device"] = default_device()  # the environment variable, if set
    notes = []
    if toml_path is not None:
        updates = renamed(_read_toml(toml_path), f"TOML file {toml_path}", notes)
        _known(updates, f"TOML file {toml_path}")
        for f in fields(Config):  # TOML values are typed: "64" is text, not a number
            if isinstance(updates.get(f.name), str) and f.type is not str:
                raise ValueError(f"config key {f.name!r} in {toml_path} must be "
                                 f"{f.metadata['rule'].text}, got the text "
                                 f"{updates[f.name]!r}; write it without quotes.")
        values.update(updates)
    values.update(_pairs(overrides, notes))
    config = check_config(values)
    _print_notes(notes)
    return config


def config_from_dict(d, base=None, where="config"):
    """A Config from a plain dict (e.g. a checkpoint's JSON), checking keys and values; keys
    missing from ``d`` come from ``base`` (default: the defaults of ``Config``)."""
    notes = []
    d = renamed(d, where, notes)
    _known(d, where)
    config = check_config({**(base or dataclasses.asdict(Config())), **d})
    _print_notes(notes)
    return config


def with_overrides(config, overrides):
    """``config`` with ``key=value`` strings applied (same checks as ``make_config``)."""
    notes = []
    config = check_config({**dataclasses.asdict(config), **_pairs(overrides, notes)})
    _print_notes(notes)
    return config


def warnings_of(config):
    """One-line warnings about a valid but probably unintended config (for ``train``)."""
    out = []
    if config.train_method == "grad" and config.latent_steps > MANY_LATENT_STEPS:
        out.append(f"latent_steps = {config.latent_steps} runs that many latent gradient "
                   f"steps inside every training step (the paper trains with 0 to 5), so each "
                   f"step costs about {config.latent_steps + 1} times a mean-training step; to "
                   f"train longer, raise steps instead.")
    return out


def describe_keys(config):
    """Every key with its value, what it allows and its description, grouped as in Config."""
    width = max(len(f.name) for f in fields(Config))
    lines = []
    for f in fields(Config):
        if f.metadata["group"]:
            lines += [""] * bool(lines) + [f"# {f.metadata['group']}"]
        value = _show(getattr(config, f.name))
        lines.append(f"{f.name:<{width}} = {value:<14} {f.metadata['help']} "
                     f"[{f.metadata['rule'].text}]")
    return "\n".join(lines)
