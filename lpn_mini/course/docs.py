"""Render the read-along chapters (``chapters/*.py``, jupytext percent format) to executed
notebooks and HTML pages with their figures. Needs the ``docs`` extra.

The HTML pages work offline: every formula is drawn at render time by matplotlib's
mathtext into an SVG image inside the page (no MathJax), and the page template loads no
script from a CDN (no require.js, MathJax, mermaid or widget manager).
"""
import base64
import contextlib
import html
import io
import os
import re
import warnings
from pathlib import Path

CHAPTERS_DIR = Path(__file__).resolve().parents[2] / "chapters"


def chapter_paths(names=()):
    """The chapter files, in order; ``names`` picks some by prefix (e.g. ``ch03``)."""
    if not CHAPTERS_DIR.is_dir():
        raise FileNotFoundError(f"no chapters at {CHAPTERS_DIR}; render from a checkout of lpn-mini.")
    paths = sorted(CHAPTERS_DIR.glob("ch[0-9][0-9]_*.py"))
    if names:
        picked = [p for p in paths if any(p.name.startswith(n) for n in names)]
        unknown = [n for n in names if not any(p.name.startswith(n) for p in paths)]
        if unknown:
            raise ValueError(f"no chapter matches {', '.join(unknown)}; chapters are "
                             f"{', '.join(p.stem for p in paths)}.")
        paths = picked
    return paths


def chapter_title(nb, path):
    """The chapter's title: its first Markdown heading, e.g. "Chapter 5: leave-one-out
    latents, and why a pair never sees its own" (nbconvert puts ``metadata.title`` in the
    HTML page's <title>; without it every page is called "Notebook")."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _kernel_config():
    """Traitlets config for nbclient's kernel manager. ipykernel >= 7.4 warns "Kernel is
    running over TCP without encryption" at every start unless the manager gives it CurveZMQ
    keys; jupyter_client >= 8.9 does when ``transport_encryption`` is "auto" and the
    kernelspec declares support (ipykernel's does). Older versions neither warn nor have
    the setting, so it is set only where it exists."""
    from jupyter_client.manager import KernelManager
    try:
        import zmq
        curve = zmq.has("curve")
    except ImportError:
        curve = False
    if curve and "transport_encryption" in KernelManager.class_trait_names():
        return {"KernelManager": {"transport_encryption": "auto"}}
    return {}


# ---- formulas, drawn at render time ---------------------------------------------------
# mathtext reads most of the TeX the chapters use; these rewrite the rest into what it reads
# (size commands only resize delimiters, so dropping them changes no meaning).
_TEX_TO_MATHTEXT = ((r"\\[bB]igg?[lrm]?(?![a-zA-Z])", ""),
                    (r"\\[td]frac(?![a-zA-Z])", r"\\frac"),
                    (r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}"),
                    (r"\\le(?![a-zA-Z])", r"\\leq"), (r"\\ge(?![a-zA-Z])", r"\\geq"),
                    (r"\\iff(?![a-zA-Z])", r"\\;\\Leftrightarrow\\;"),
                    (r"\\operatorname\{", r"\\mathrm{"), (r"\\(?:display|text|script)style", ""))
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)          # left alone: code is not math
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$((?:[^$\n]|\n(?!\s*\n))+?)\$")
MATH_POINTS = 12                                            # font size of the formulas


def math_svg(tex):
    """The TeX formula ``tex`` (no dollars) drawn by matplotlib's mathtext: ``(svg bytes,
    height, depth)`` in points, depth being how far it reaches below the baseline. Raises
    ValueError where mathtext cannot read it."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser
    for pattern, replacement in _TEX_TO_MATHTEXT:
        tex = re.sub(pattern, replacement, tex)
    tex = f"${' '.join(tex.split())}$"
    style = {"mathtext.fontset": "cm", "svg.fonttype": "path", "svg.hashsalt": "lpn-mini"}
    with matplotlib.rc_context(style), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prop = FontProperties(size=MATH_POINTS)
        width, height, depth, _, _ = MathTextParser("path").parse(tex, dpi=72, prop=prop)
        if not width or not height:
            raise ValueError(f"{tex} draws nothing")
        fig = Figure(figsize=(width / 72, height / 72))
        fig.text(0, depth / height, tex, fontproperties=prop)
        out = io.BytesIO()
        fig.savefig(out, format="svg", transparent=True, metadata={"Date": None})
    return out.getvalue(), height, depth


def _math_html(tex, display, failed):
    """An <img> of the drawn formula (its TeX as alt text), or the TeX in <code> where
    mathtext cannot draw it (``failed`` collects those)."""
    try:
        svg, height, depth = math_svg(tex)
    except ValueError:
        failed.append(tex)
        return f'<code class="lpn-math-tex">{html.escape(tex.strip())}</code>'
    src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    img = (f'<img class="lpn-math" alt="{html.escape(" ".join(tex.split()))}" src="{src}" '
           f'style="vertical-align: {-depth:.2f}pt; height: {height:.2f}pt; max-width: none">')
    return f'<span style="display: block; text-align: center; margin: 0.6em 0">{img}</span>' \
        if display else img


def render_math(markdown, failed=None):
    """``markdown`` with every ``$...$`` and ``$$...$$`` outside code replaced by an inline
    SVG image of the formula. ``failed``, a list, collects formulas left as TeX."""
    failed = [] if failed is None else failed
    parts = _CODE.split(markdown)
    for i in range(0, len(parts), 2):                        # even parts are not code
        text = _DISPLAY.sub(lambda m: _math_html(m.group(1), True, failed), parts[i])
        parts[i] = _INLINE.sub(lambda m: _math_html(m.group(1), False, failed), text)
    return "".join(parts)


# The lab template without its CDN scripts: formulas are images already, and the chapters
# have no mermaid diagrams and no widgets.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
"""


def offline_html(nb):
    """The HTML page of the executed notebook ``nb``, with formulas drawn and no script
    from the network. Returns ``(html, formulas left as TeX)``."""
    import copy
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    nb, failed = copy.deepcopy(nb), []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source, failed)
    exporter = HTMLExporter(extra_loaders=[DictLoader({"offline.html.j2": _OFFLINE_TEMPLATE})],
                            template_file="offline.html.j2")
    body, _ = exporter.from_notebook_node(nb)
    return body, failed


@contextlib.contextmanager
def _kernel_environment(quick):
    """Inline figures need the kernel's own matplotlib backend: drop a forced MPLBACKEND.

    In a kernel, ``tqdm.auto`` (the library's progress bars) looks for ipywidgets and,
    without them, warns "IProgress not found" and uses text bars. A static page cannot run
    widgets (their manager is a script from a CDN), so text bars are what the pages should
    show: the warning is switched off for the kernel, by its message."""
    saved = dict(os.environ)
    os.environ.pop("MPLBACKEND", None)
    os.environ["PYTHONWARNINGS"] = ",".join(
        filter(None, [saved.get("PYTHONWARNINGS"), "ignore:IProgress not found"]))
    if quick:
        os.environ["LPN_MINI_QUICK"] = "1"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def render(out_dir, names=(), to="html", quick=False, timeout=1800, echo=print):
    """Execute each chapter as a notebook and write ``.ipynb`` and/or ``.html`` to ``out_dir``.

    to: ``"html"``, ``"notebook"`` or ``"both"``. Returns the paths written.
    """
    try:
        import jupytext
        import nbformat
        from nbclient import NotebookClient
        from nbconvert import HTMLExporter  # noqa: F401  (offline_html needs it)
        from traitlets.config import Config
    except ImportError as e:
        raise ValueError(f"rendering chapters needs the docs extra ({e.name} is missing): "
                         "pip install -e \".[docs]\"") from None
    if to not in ("html", "notebook", "both"):
        raise ValueError(f"--to must be html, notebook or both, got {to!r}.")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    kernel_config = Config(_kernel_config())
    for path in chapter_paths(names):
        echo(f"executing {path.name} ...")
        nb = jupytext.read(path)
        nb.metadata["title"] = chapter_title(nb, path)
        with _kernel_environment(quick):
            NotebookClient(nb, timeout=timeout, kernel_name="python3", config=kernel_config,
                           store_widget_state=False,
                           resources={"metadata": {"path": str(CHAPTERS_DIR)}}).execute()
        if to in ("notebook", "both"):
            target = Path(out_dir) / f"{path.stem}.ipynb"
            nbformat.write(nb, target)
            written.append(target)
        if to in ("html", "both"):
            body, failed = offline_html(nb)
            if failed:
                echo(f"  {len(failed)} formula(s) mathtext cannot draw, shown as TeX: "
                     + "; ".join(failed))
            target = Path(out_dir) / f"{path.stem}.html"
            target.write_text(body)
            written.append(target)
        figures = sum("image/png" in out.get("data", {}) for cell in nb.cells
                      for out in cell.get("outputs", []))
        echo(f"  {figures} figure(s) -> {', '.join(str(w) for w in written[-2 if to == 'both' else -1:])}")
    return written
