"""Render the read-along chapters (``chapters/*.py``, jupytext percent format) to executed
notebooks and HTML pages with their figures. Needs the ``docs`` extra."""
import contextlib
import os
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


@contextlib.contextmanager
def _kernel_environment(quick):
    """Inline figures need the kernel's own matplotlib backend: drop a forced MPLBACKEND."""
    saved = dict(os.environ)
    os.environ.pop("MPLBACKEND", None)
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
        from nbconvert import HTMLExporter
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
                           resources={"metadata": {"path": str(CHAPTERS_DIR)}}).execute()
        if to in ("notebook", "both"):
            target = Path(out_dir) / f"{path.stem}.ipynb"
            nbformat.write(nb, target)
            written.append(target)
        if to in ("html", "both"):
            body, _ = HTMLExporter().from_notebook_node(nb)
            target = Path(out_dir) / f"{path.stem}.html"
            target.write_text(body)
            written.append(target)
        figures = sum("image/png" in out.get("data", {}) for cell in nb.cells
                      for out in cell.get("outputs", []))
        echo(f"  {figures} figure(s) -> {', '.join(str(w) for w in written[-2 if to == 'both' else -1:])}")
    return written
