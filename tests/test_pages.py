"""How every chapter page reads, and what its rendered HTML needs.

For every chapter file: code cells of about 25 lines at most (one idea each), no
``sys.path`` (chapters import the installed library, never a folder beside them), no account
of how the project was made (issue numbers, sessions, who wrote what when), and every
formula drawable offline. For the renderer: a rendered page loads nothing from the network
and shows its formulas as drawn images, with no tqdm warning in its outputs.
"""
import base64
import re

import pytest

from lpn_mini.course.docs import chapter_paths, render, render_math

CHAPTERS = chapter_paths()
IDS = [p.stem for p in CHAPTERS]
MAX_CODE_LINES = 25

# Phrases that tell the history of the project rather than the algorithm (matched without
# regard to case). Each is narrow enough not to catch ordinary prose ("no test-time search yet", "drawn by hand").
HISTORY = (
    r"\bissues?\s+#?\d+",                                      # Issue 16, issue #27
    r"\b(?:PR|pull request)\s+#?\d+",
    r"\b(?:this|that|the|a|an|previous|earlier|later|last|next|other)\s+sessions?\b",
    r"\bsessions?\s+(?:that|which|who)\s+(?:wrote|made|built|ran|trained)\b",
    r"\bwas\s+(?:written|added|rewritten|renamed|fixed)\s+(?:by\s+(?!hand)|when\b|before\b|"
    r"after\b|during\b|later\b|earlier\b|in\s+(?:issue|session|commit))",
    r"\bnot\s+(?:measured|recorded|run|implemented|tested|available)\s+yet\b",
    r"\bcommit\s+[0-9a-f]{7,40}\b",
    r"\b(?:settings|code|version)\s+of\s+the\s+time\b",
    r"\b(?:had|has|have)\s+no\s+GPU\b",
    r"\b(?:the|a)\s+(?:student\s+)?review(?:er)?s?\s+(?:found|asked|said|noted)\b",
)


def code_cells(text):
    """``(first line number, non-blank lines)`` of every code cell of a percent-format file."""
    cells, kind, start, lines = [], None, 0, []
    for number, line in enumerate(text.splitlines() + ["# %% [end]"], 1):
        if line.startswith("# %%"):
            if kind == "code":
                cells.append((start, [s for s in lines if s.strip()]))
            kind = "markdown" if re.match(r"# %% \[(markdown|md|raw|end)\]", line) else "code"
            start, lines = number, []
        else:
            lines.append(line)
    return cells


def test_code_cells_are_counted_as_intended():
    text = "# %% [markdown]\n# prose\n\n# %%\na = 1\n\nb = 2\n# %% [markdown]\n# more\n# %%\nc\n"
    assert code_cells(text) == [(4, ["a = 1", "b = 2"]), (10, ["c"])]


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_code_cells_are_short(path):
    long = [f"line {start}: {len(lines)} lines" for start, lines in code_cells(path.read_text())
            if len(lines) > MAX_CODE_LINES]
    assert not long, (f"{path.name}: code cells longer than {MAX_CODE_LINES} non-blank lines "
                      f"(split each into cells of one idea): {'; '.join(long)}")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_never_touches_sys_path(path):
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if "sys.path" in line]
    assert not hits, (f"{path.name} uses sys.path (lines {hits}): move what it imports into "
                      "the library (lpn_mini/) and import it from there.")


def test_history_phrases_catch_history_and_spare_prose():
    history = ["Issue 16 trained the plain MLP", "the `paper` settings of the time",
               "no GPU has been available to the sessions that wrote lpn-mini",
               "Not measured yet: lpn-mini has not run on a GPU", "code of commit 3117a72"]
    prose = ["no test-time search yet", "the kernel was written by hand", "most of the time",
             "a training session", "the GPU has no NumPy", "3 issues of layout"]
    assert [s for s in history if not any(re.search(p, s, re.I) for p in HISTORY)] == []
    assert [s for s in prose if any(re.search(p, s, re.I) for p in HISTORY)] == []


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_tells_no_history_of_the_project(path):
    hits = [f"line {n}: {m.group(0)!r}" for n, line in enumerate(path.read_text().splitlines(), 1)
            for pattern in HISTORY for m in re.finditer(pattern, line, re.I)]
    assert not hits, (f"{path.name} tells how the project was made (say what was measured, "
                      f"not who measured it when): {'; '.join(hits)}")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_formula_is_drawn(path):
    pytest.importorskip("jupytext")
    import jupytext
    failed = []
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "markdown":
            render_math(cell.source, failed)
    assert not failed, (f"{path.name}: matplotlib's mathtext cannot draw these formulas, so "
                        f"the page shows their TeX; rewrite them in TeX it reads: {failed}")


def test_render_math_leaves_code_alone():
    out = render_math("cost $\\alpha^2$ but `x = $HOME` and\n```\n$a$\n```")
    assert out.count('<img class="lpn-math"') == 1 and "`x = $HOME`" in out and "$a$" in out


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("jupytext")
    out = tmp_path_factory.mktemp("pages")
    render(out, names=["ch10"], to="html", quick=True, echo=lambda *a: None)
    return (out / "ch10_latent_space.html").read_text()


def test_rendered_page_loads_nothing_from_the_network(page):
    loads = re.findall(r"""(?:src|href)\s*=\s*["']?(https?:[^"'\s>]+)""", page)
    imports = re.findall(r"""import\(\s*["'](https?:[^"']+)""", page)
    assert not loads and not imports, loads + imports
    assert not re.search(r"cdnjs|unpkg|jsdelivr|mathjax", page, re.I)


def test_rendered_page_draws_its_formulas(page):
    # The landscape's formula is an <img> of an SVG drawn by mathtext, its TeX the alt text.
    img = re.search(r'<img alt="\\sum_i \\log p_\\theta\(y_i \\mid x_i, z\)" class="lpn-math" '
                    r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    assert img, "the formula of the likelihood landscape is not drawn"
    svg = base64.b64decode(img.group(1)).decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<path" in svg
    prose = re.sub(r"<(pre|code|script|style)\b.*?</\1>|<[^>]+>", "", page, flags=re.S)
    assert not re.search(r"\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$", prose), "TeX left in the prose"


def test_rendered_page_has_no_tqdm_warning(page):
    assert "TqdmWarning" not in page and "IProgress not found" not in page
    assert "distinct outputs on the plane" in page          # executed, with its outputs
