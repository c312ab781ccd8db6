"""The course's table of contents: what each chapter builds, and which names it introduces.

One row per chapter, in reading order. ``introduces`` lists every ``lpn_mini`` name the
chapter is the first to use: it builds it in view (and asserts that the library's version
equals what it built) or, for tools that are not part of the algorithm (a config, a plot),
explains it. ``tests/test_syllabus.py`` reads every chapter and fails when a chapter uses
an ``lpn_mini`` name that neither it nor an earlier chapter introduces, or when a chapter
does not use a name this table says it introduces, so the table and the chapters cannot
drift. Chapter 0's map and the README's chapter table are checked against it too.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    stem: str            # chapters/<stem>.py
    title: str
    builds: str          # one line: what the reader has at the end
    lines: str           # the algorithm lines it builds ("" when none)
    exercises: tuple     # exercise slugs (lpn_mini.course.exercises), in the chapter's order
    introduces: tuple    # lpn_mini names first used here


# Names any chapter may use without building them: drawing a grid is not part of LPN.
TOOLS = ("draw_grid",)

CHAPTERS = (
    Chapter("ch00_the_problem", "The problem, and the whole algorithm",
            "Algorithms 1 and 2 in full, the notation, the Pattern task",
            "2, line 3", (), ("pattern_tasks", "check_grids")),
    Chapter("ch01_mlp", "An MLP from scratch, and how to train it",
            "forward pass, backward pass by hand, gradient check, autograd, Adam",
            "2, line 15", ("mlp_forward", "mlp_backward", "adam_update"),
            ("init_mlp", "mlp_forward", "mlp_backward", "adam_init", "adam_update", "tree_map")),
    Chapter("ch02_encoder", "The encoder",
            "one-hot grids, mu and logvar, the reparameterization trick",
            "2, lines 4-6", ("reparameterize",),
            ("one_hot", "init_params", "encode", "reparameterize")),
    Chapter("ch03_decoder", "The decoder",
            "logits for every cell, a stable log-softmax, the log-likelihood (eq. 9)",
            "2, line 12", ("log_likelihood",), ("decode", "log_softmax", "log_likelihood")),
    Chapter("ch04_kl", "The KL term, and a first training loop",
            "closed-form KL (eq. 10), a Monte Carlo check, what beta does",
            "2, line 12", ("kl_divergence",), ("kl_divergence",)),
    Chapter("ch05_leave_one_out", "Leave-one-out latents",
            "the mean of the others, scoring each pair from the others, a model that cheats "
            "without it", "2, lines 7-8", ("leave_one_out_mean",),
            ("leave_one_out_mean", "leave_one_out_predict", "scores", "training_loss")),
    Chapter("ch06_latent_ascent", "Gradient ascent in latent space",
            "the latent objective, one step by hand, K steps, stop-gradient or second order",
            "2, lines 9-11", ("latent_ascent_step",),
            ("leave_one_out_mask", "specification_log_likelihood", "LEAVE_ONE_OUT",
             "without_gradient", "latent_ascent_step", "latent_gradient_ascent")),
    Chapter("ch07_training", "The training loss and the loop",
            "Algorithm 2 assembled in view, trained live, then the library's train",
            "2, lines 3-15", ("training_loss",),
            ("make_config", "new_params", "step_randomness", "train")),
    Chapter("ch08_test_time_search", "Test-time search",
            "Algorithm 1 assembled in view; gradient search against random search",
            "1", ("infer_latent",),
            ("infer_latent", "predict", "evaluate")),
    Chapter("ch09_official_code", "What the official code adds",
            "Adam on the latents, AdamW and warm-up, best-of-trajectory, global clip, mean "
            "likelihood, held-out programs, each measured",
            "", (), ("OFFICIAL", "LITERAL", "safe_sqrt", "ascent_path", "warmup_lr",
                     "clip_by_global_norm", "held_out", "paired")),
    Chapter("ch10_latent_space", "Inside the latent space",
            "a 2-D latent drawn: programs over the plane, one task's likelihood landscape, "
            "ascent from the encoder's guess and from the prior", "1; 2, lines 9-11", (),
            ("eval_tasks",)),
    Chapter("ch11_gpu", "Running on a GPU, and teaching autograd about device arrays",
            "the loss and gradients on CuPy (or the fake GPU) equal to the host's; the three "
            "autograd fixes", "2, lines 3-15", (),
            ("array_module", "backend", "fake_xp", "to_device", "to_host", "tree_leaves")),
    Chapter("ch12_paper_scale", "The paper's scale needs structure",
            "the MLP's bag-of-colours plateau, the conv model's co-occurrence table and kernel "
            "built by hand, the paper-scale Table 1 read honestly", "", (),
            ("PAPER_TABLE1", "conv", "readout_predict", "split_scores")),
)


def chapter(stem):
    """The row of ``stem`` (``"ch05_leave_one_out"``)."""
    for row in CHAPTERS:
        if row.stem == stem:
            return row
    raise KeyError(f"no chapter {stem!r} in the syllabus; the chapters are "
                   f"{', '.join(c.stem for c in CHAPTERS)}")
