"""The exercises, and the tool that generates their student files from the library.

One source of truth: the bodies students write are marked in the library itself between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's convention). ``build`` copies
each exercise's functions out of the library and replaces every marked body with
``# YOUR CODE HERE`` and ``raise NotImplementedError``; with ``solutions=True`` it keeps
the bodies and drops only the markers. A test fails when the committed files in
``exercises/`` differ from what ``build`` makes, so the assignment cannot drift. ``build``
never overwrites a file someone edited (see ``build``).
"""
import hashlib
import importlib
import inspect
import json
import os
import re
from dataclasses import dataclass

POINTS = 10  # per exercise


@dataclass(frozen=True)
class Exercise:
    number: int
    slug: str            # also the pytest marker name: @pytest.mark.exercise("<slug>")
    title: str
    functions: tuple     # ("module", "function") pairs, in the order they appear
    imports: str         # what the student file imports (helpers they may use)
    statement: str       # what to implement, shapes, the equation, a hint
    # Functions that would do the exercise for the student without calling their code
    # (a library function that takes the same steps, autograd for a backward pass by hand):
    # while it is graded, calling one raises RuntimeError(unavailable_why.format(name=...)).
    unavailable: tuple = ()
    unavailable_why: str = ""
    # What the library's own body (the answer key, ``render(..., solutions=True)``) imports
    # beyond ``imports``: the library's faster helpers, which the statement does not teach.
    key_imports: str = ""

    @property
    def filename(self):
        return f"ex{self.number:02d}_{self.slug}.py"


EXERCISES = (
    Exercise(1, "mlp_forward", "The MLP forward pass", (("lpn_mini.mlp", "mlp_forward"),),
             "import autograd.numpy as np\n\nfrom lpn_mini.mlp import dense, relu\n", """\
Chapter 1 builds this: the forward pass of a plain MLP, the building block of LPN's encoder
and decoder. `layers` is a list of (W, b) with W of shape (fan_in, fan_out) and b of shape
(fan_out,). Each layer computes h @ W + b; a ReLU goes *between* layers and none after the
last.

Shapes: h (..., fan_in) -> (..., fan_out), for any leading shape.
Hint: `dense(h, W, b)` computes h @ W + b for any leading shape, `relu(h)` is max(h, 0).
Use autograd.numpy and no in-place assignment, so that autograd can differentiate it."""),
    Exercise(2, "mlp_backward", "A backward pass by hand", (("lpn_mini.mlp", "mlp_backward"),),
             "import autograd.numpy as np\n\nfrom lpn_mini.mlp import dense, relu\n", """\
Chapter 1 builds this: the backward pass of the MLP, by hand. Given the gradient `dout` of a
scalar with respect to the MLP's output, return the gradients with respect to every W,
every b and the input h. The grader checks your numbers against autograd's.

Shapes: h (..., fan_in); dout (..., fan_out); returns ([(dW, db), ...], dh).
For out = a @ W + b: dW = a^T dout (summed over all leading axes), db = sum of dout over
the leading axes, da = dout @ W^T. A ReLU passes the gradient only where its input was > 0.
Hint: run the forward pass first and keep each layer's input and pre-activation.""",
             unavailable=(("autograd.core", "make_vjp"), ("autograd.core", "make_jvp")),
             unavailable_why="exercise 2 is the backward pass by hand: autograd's "
                             "differentiation ({name}) is not available while it is graded."),
    Exercise(3, "adam_update", "Adam, by hand", (("lpn_mini.optim", "adam_update"),),
             "import numpy as onp\n\nfrom lpn_mini.optim import tree_map\n", """\
Chapter 1 builds this, where training first needs it: Algorithm 2, line 15 updates phi and
theta with Adam (AdamW when weight_decay > 0). Implement one step on the nested params
structure, returning new params and a new state {"m", "v", "t"}, without changing the
inputs. The new state is the next step's input: its t counts the steps taken.

m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  t = t + 1
p = p - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)
with the bias corrections m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t) at the new t.
eps goes outside the square root: it only keeps the division finite where v_hat is 0.
Hint: `tree_map(f, params, grads)` applies f leaf by leaf. Without the bias correction the
first steps are too large: at t = 1, m = (1 - beta1) g and v = (1 - beta2) g^2, so
m / sqrt(v) = 0.1 / sqrt(0.001), about 3.2 times the corrected step of 1 (beta1 = 0.9,
beta2 = 0.999)."""),
    Exercise(4, "reparameterize", "The reparameterization trick",
             (("lpn_mini.latent", "reparameterize"),), "import autograd.numpy as np\n", """\
Chapter 2 builds this: Algorithm 2, lines 4-6, draw z_i ~ q_phi(z | x_i, y_i) =
N(mu, diag(exp(logvar))) as a differentiable function of mu and logvar, given standard
normal noise eps.

Shapes: mu, logvar, eps (..., d) -> z (..., d).
Equation: z = mu + eps * sigma.
Hint: logvar is the log of the *variance*; the standard deviation is its square root."""),
    Exercise(5, "log_likelihood", "Cross-entropy and the log-likelihood (eq. 9)",
             (("lpn_mini.losses", "log_softmax"), ("lpn_mini.losses", "grid_log_likelihood"),
              ("lpn_mini.losses", "log_likelihood")),
             "import autograd.numpy as np\n\n"
             "from lpn_mini.architectures import decode\nfrom lpn_mini.model import one_hot\n",
             """\
Chapter 3 builds this: eq. 9, log p_theta(y | x, z), the decoder's log-probability of the
true output grid. Every cell is an independent categorical over C colours, so it is the sum
over cells of the log-softmax of the logits at the true colour (a cross-entropy with the
sign flipped).

First `log_softmax(logits)`: (..., C) -> (..., C), numerically stable: subtract each cell's
maximum over the colours, `np.max(logits, axis=-1, keepdims=True)`, before exponentiating,
so that logits of 1e4 give no overflow. Subtracting any constant from a cell's logits
leaves its log-softmax exactly as it was, so the maximum needs no gradient of its own:
plain `np.max` is right, and autograd needs nothing special.
Then `grid_log_likelihood(logits, y, reduce)`: logits (..., H, W, C), y (..., H, W) ints
-> (...), log_softmax at each cell's true colour, summed over the H x W cells
(reduce="sum") or averaged (reduce="mean"). Last, `log_likelihood(decoder_params, x, y, z,
reduce)`: the same for the decoder's logits.
Hint: `one_hot(y, C, dtype=log_p.dtype)` gives (..., H * W * C) with a 1 at each cell's
true colour; reshaped to y.shape + (C,), `np.sum(log_p * hot, axis=-1)` picks log_p at the
true colours. `decode(decoder_params, x, z)` gives the decoder's logits (..., H, W, C).""",
             key_imports="from lpn_mini.losses import max_colours, pick_colours, sum_colours\n"
                         "from autograd.tracer import getval\n"),
    Exercise(6, "kl_divergence", "The KL term (eq. 10)", (("lpn_mini.losses", "kl_divergence"),),
             "import autograd.numpy as np\n", """\
Chapter 4 builds this: eq. 10, the KL divergence of the encoder's Gaussian
N(mu, diag(exp(logvar))) from the prior N(0, I), in closed form, summed over the d latent
dimensions.

Shapes: mu, logvar (..., d) -> (...).
Equation: KL = 0.5 * sum_d (exp(logvar) + mu^2 - 1 - logvar).
Hint: a KL divergence is never negative, and it is 0 exactly at mu = 0, logvar = 0."""),
    Exercise(7, "leave_one_out_mean", "Leave-one-out latents",
             (("lpn_mini.latent", "leave_one_out_mean"),), "import autograd.numpy as np\n", """\
Chapter 5 builds this: Algorithm 2, lines 7-8, for every pair i of a task, z'_i is the mean
of the *other* pairs' latents, so that pair i's own latent never helps reconstruct y_i.

Shapes: z (B, N, d) -> (B, N, d). Raise ValueError if N < 2.
Equation: z'_i = (1 / (N - 1)) * sum_{j != i} z_j.
Hint: the sum of the others is the total minus your own; no loop needed."""),
    Exercise(8, "latent_ascent_step", "One step of gradient ascent in latent space",
             (("lpn_mini.latent", "latent_ascent_step"),),
             "import autograd.numpy as np\nfrom autograd import grad\n\n"
             "from lpn_mini.latent import specification_log_likelihood, without_gradient\n", """\
Chapter 6 builds this: Algorithm 2, line 10 (line 9 in the paper's arXiv appendix), move
each latent one step *up* the gradient of how well it explains the specification pairs:
z <- z + alpha * grad_z sum_j mask[m, j] log p(y_j | x_j, z_m).

Shapes: z (B, M, d); mask (M, N); x, y (B, N, H, W) -> (B, M, d).
`specification_log_likelihood(decoder_params, x, y, z, mask, reduce)` gives the (B, M)
objectives; the gradient of their sum gives every latent's own gradient at once.
With stop_gradient=True (the paper's default) the update must be a constant for any outer
gradient: compute it from `without_gradient(...)` copies of the parameters and of z, and
add it to z itself. With stop_gradient=False use them as given (second order).
Hint: `autograd.grad(f)(z)` differentiates a scalar function f at z.""",
             unavailable=(("lpn_mini.latent", "latent_gradient_ascent"),
                          ("lpn_mini.latent", "ascent_path"), ("lpn_mini.latent", "_trajectory"),
                          ("lpn_mini.latent", "search_latents")),
             unavailable_why="{name}() takes the very steps exercise 8 asks for, so it is not "
                             "available while exercise 8 is graded: write the step with "
                             "specification_log_likelihood and autograd.grad."),
    Exercise(9, "training_loss", "The full training loss (Algorithm 2)",
             (("lpn_mini.training", "training_loss"),),
             "import autograd.numpy as np\n\nfrom lpn_mini.latent import (LEAVE_ONE_OUT, "
             "latent_gradient_ascent, leave_one_out_mask,\n"
             "                             leave_one_out_mean, reparameterize)\n"
             "from lpn_mini.losses import kl_divergence, log_likelihood\n"
             "from lpn_mini.architectures import check_batch, encode\n", """\
Chapter 7 builds this: Algorithm 2, lines 4-14, for a batch of B tasks with N pairs each:
encode every pair, sample its latent, take the leave-one-out mean, refine it with K steps
of latent gradient ascent (lines 9-11), and return the mean over tasks and pairs of the
loss of line 12 (line 11 in the paper's arXiv appendix):
L_i = -log p(y_i | x_i, z'_i) + beta * KL_i, the reconstruction (eq. 9) plus beta times
the KL (eq. 10), which is eq. 11's L = L_rec + beta * L_KL.

Shapes: x, y (B, N, H, W); eps (B, N, d) -> a scalar.
Hint: every piece exists in the library: `encode`, `reparameterize`, `leave_one_out_mean`,
`latent_gradient_ascent(dec, x, y, z_prime, LEAVE_ONE_OUT, num_steps=K, alpha=alpha,
stop_gradient=stop_gradient, reduce=reduce, **search_options)` for the K steps
(LEAVE_ONE_OUT scores latent i on the pairs j != i; `leave_one_out_mask(N, dtype=z.dtype)`
means the same, slower: without dtype= it is float64 and turns a float32 loss into
float64), `log_likelihood`, `kl_divergence`. Pass stop_gradient on: it decides whether the
outer gradient sees the search's steps.""",
             key_imports="from lpn_mini.latent import search_latents\n"),
    Exercise(10, "infer_latent", "Test-time inference (Algorithm 1)",
             (("lpn_mini.inference", "infer_latent"),),
             "import autograd.numpy as np\n\n"
             "from lpn_mini.latent import latent_gradient_ascent, reparameterize\n"
             "from lpn_mini.architectures import check_batch, encode\n", """\
Chapter 8 builds this: Algorithm 1, given a task's N specification pairs, encode them,
sample one latent per pair (or take mu when eps is None), start from the mean latent of the
task, and refine it by gradient ascent on *all* specification pairs. `predict` then decodes
the test input with it.

Shapes: x_spec, y_spec (B, N, H, W); eps (B, N, d) or None -> (B, d).
Hint: `latent_gradient_ascent(dec, x, y, z_start, mask, num_steps=..., alpha=..., **rest)`
takes starting latents (B, M, d) (here M = 1) and a (M, N) mask of which pairs count
(here: all of them, `np.ones((1, N), dtype=z.dtype)`, in z's dtype so that a float32 model
stays float32). search_options holds num_steps (0 when not given), alpha (1.0 when not
given) and the other options of the search (best_of_trajectory, optimizer, ...): pass them
all on.""",
             key_imports="from lpn_mini.device.backend import array_module\n"
                         "from lpn_mini.latent import search_latents\n"),
)

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_MARKED = re.compile(r"(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?[ \t]*### END SOLUTION\n", re.S)


def by_slug(slug):
    for ex in EXERCISES:
        if ex.slug == slug:
            return ex
    raise ValueError(f"unknown exercise {slug!r}; exercises are: "
                     f"{', '.join(e.slug for e in EXERCISES)}.")


def function_source(module, name):
    """The source of ``module.name`` as written in the library, markers included, without
    decorators: a library function may be an autograd ``@primitive`` with a gradient written
    by hand (``losses.log_softmax``); the student writes the plain function, and autograd
    traces it."""
    function = getattr(importlib.import_module(module), name)
    function = getattr(function, "fun", function)  # an autograd primitive keeps the original in .fun
    source = inspect.getsource(function)
    lines = source.splitlines(keepends=True)
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return "".join(lines)


def strip_solution(source, name, raises=None):
    """Replace each marked solution body with the student stub (or, with ``raises``, a line
    that raises that exception text, e.g. ``RuntimeError("...")``)."""
    def stub(m):
        i = m.group("indent")
        if raises:
            return f"{i}raise {raises}\n"
        return (f"{i}# YOUR CODE HERE\n"
                f"{i}raise NotImplementedError(\"{name} is not implemented yet: replace this "
                f"line with your code\")\n")
    out = _MARKED.sub(stub, source)
    if out == source:
        raise ValueError(f"{name} has no {BEGIN} / {END} block in the library.")
    return out


def keep_solution(source):
    """The library's body, without the marker lines."""
    return "".join(line for line in source.splitlines(keepends=True)
                   if line.strip() not in (BEGIN, END))


def render(ex, solutions=False):
    """The text of one exercise file (the student version, or with ``solutions``)."""
    header = (f'"""Exercise {ex.number:02d}: {ex.title}   [{POINTS} points]\n\n'
              f"{ex.statement}\n\n"
              f"Check your work:  lpn-mini grade exercises/{ex.filename}\n"
              f"(Generated from the lpn_mini library by `lpn-mini exercises build`.)\n"
              f'"""\n')
    bodies = []
    for module, name in ex.functions:
        src = function_source(module, name)
        bodies.append(keep_solution(src) if solutions else strip_solution(src, name))
    imports = ex.imports + (ex.key_imports if solutions else "")
    return header + imports + "\n\n" + "\n\n".join(b.rstrip("\n") + "\n" for b in bodies)


MANIFEST = ".generated.json"  # in the output folder: the hash of each file build wrote
EXERCISES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "exercises")


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _written_before(out_dir):
    try:
        with open(os.path.join(out_dir, MANIFEST)) as f:
            return json.load(f).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}


def build(out_dir, solutions=False, force=False):
    """Write every exercise file into ``out_dir``; return the paths written.

    A file that differs both from what ``build`` writes now and from what it wrote there
    last (the hashes in ``out_dir/.generated.json``) has been edited, perhaps by a student:
    ``build`` refuses to overwrite it, and writes nothing, unless ``force``. Solutions never
    go into an ``exercises`` folder unless ``force``.
    """
    if solutions and not force and (os.path.basename(os.path.abspath(out_dir)) == "exercises"
                                    or os.path.abspath(out_dir) == EXERCISES_DIR):
        raise ValueError(f"the solutions would go into {out_dir}, where the student files "
                         "live; write them elsewhere (by default they go to build/solutions/) "
                         "or pass --force to overwrite the student files.")
    texts = {ex.filename: render(ex, solutions) for ex in EXERCISES}
    before = _written_before(out_dir)
    edited = []
    for name, text in texts.items():
        path = os.path.join(out_dir, name)
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                current = f.read()
            if current != text and _sha256(current) != before.get(name):
                edited.append(path)
    if edited and not force:
        raise ValueError(f"{', '.join(edited)} "
                         f"{'has' if len(edited) == 1 else 'have'} been edited since "
                         "`lpn-mini exercises build` wrote "
                         f"{'it' if len(edited) == 1 else 'them'} (a student's work?); nothing "
                         "was written. Move the edited files away, or pass --force to "
                         "overwrite them.")
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, text in texts.items():
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            f.write(text)
        paths.append(path)
    with open(os.path.join(out_dir, MANIFEST), "w") as f:
        json.dump({"files": {name: _sha256(text) for name, text in texts.items()}}, f,
                  indent=1, sort_keys=True)
        f.write("\n")
    return paths
