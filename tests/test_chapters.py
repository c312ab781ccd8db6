"""Every read-along chapter runs top to bottom as a script (quick mode), and renders."""
import os
import re
import subprocess
import sys

import pytest

from lpn_mini.course.docs import chapter_paths, render

CHAPTERS = chapter_paths()


def test_chapters_are_numbered_in_order():
    numbers = [int(p.name[2:4]) for p in CHAPTERS]
    assert numbers == list(range(len(CHAPTERS))) and len(CHAPTERS) >= 10


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_the_promised_shape(path):
    text = path.read_text()
    assert text.startswith("# %% [markdown]\n# # Chapter"), "opens with a title cell"
    assert "**What this chapter builds:**" in text
    assert "## Summary" in text and "## Exercises" in text
    assert re.search(r"^\s*assert ", text, re.M), "checks at least one claim of its prose"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_as_a_script_in_quick_mode(path, tmp_path):
    env = {**os.environ, "LPN_MINI_QUICK": "1", "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, f"{path.name} failed:\n{run.stderr[-3000:]}"


def test_render_writes_notebook_and_html_with_figures(tmp_path):
    pytest.importorskip("jupytext")
    written = render(tmp_path, names=["ch00"], to="both", quick=True, echo=lambda *a: None)
    html = (tmp_path / "ch00_the_problem.html").read_text()
    assert {p.name for p in written} == {"ch00_the_problem.ipynb", "ch00_the_problem.html"}
    assert html.count("data:image/png;base64") >= 2        # both figures of chapter 0
    assert "generator claims hold" in html                  # executed, with its outputs


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="no chapter matches ch99"):
        chapter_paths(["ch99"])
