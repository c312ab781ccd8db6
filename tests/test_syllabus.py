"""Nothing is used before it is built: every chapter uses only the lpn_mini names that it or
an earlier chapter introduces (lpn_mini/course/syllabus.py), and the table does not lie."""
import ast
import re
from pathlib import Path

import pytest

from lpn_mini.course.exercises import EXERCISES
from lpn_mini.course.syllabus import CHAPTERS, TOOLS, chapter

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "chapters").glob("ch[0-9][0-9]_*.py"))
IN_SYLLABUS = [p for p in FILES if p.stem in {c.stem for c in CHAPTERS}]


def lpn_names(source):
    """The lpn_mini names a chapter uses: ``from lpn_mini[.x] import name`` and
    ``lpn_mini.name`` / ``lpn_mini.x.name`` attribute reads."""
    tree, names = ast.parse(source), set()
    inner_links = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if id(node) in inner_links:
            continue                  # lpn_mini.m in lpn_mini.m.e: only the whole chain counts
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "lpn_mini":
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.Attribute):
            chain, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id == "lpn_mini" and not chain[0].startswith("__"):
                names.add(chain[0])   # the last attribute: lpn_mini.tasks.pattern_tasks -> pattern_tasks
    return names


def test_lpn_names_reads_imports_and_attributes():
    src = ("import lpn_mini\nfrom lpn_mini import a, b\nfrom lpn_mini.x.y import c\n"
           "lpn_mini.d(1)\nlpn_mini.m.e\nimport numpy as np\nnp.f\n")
    assert lpn_names(src) == {"a", "b", "c", "d", "e"}


def test_every_chapter_has_a_row_in_reading_order():
    assert [c.stem for c in CHAPTERS] == [p.stem for p in FILES][:len(CHAPTERS)]
    unlisted = [p.stem for p in FILES if p.stem not in {c.stem for c in CHAPTERS}]
    assert not unlisted, f"chapters without a row in lpn_mini/course/syllabus.py: {unlisted}"


@pytest.mark.parametrize("path", IN_SYLLABUS, ids=[p.stem for p in IN_SYLLABUS])
def test_nothing_is_used_before_it_is_built(path):
    index = [c.stem for c in CHAPTERS].index(path.stem)
    known = set(TOOLS).union(*(c.introduces for c in CHAPTERS[:index + 1]))
    early = {n: c.stem for c in CHAPTERS[index + 1:] for n in c.introduces}
    used = lpn_names(path.read_text())
    unknown = sorted(used - known)
    assert not unknown, (f"{path.name} uses {unknown} before any chapter builds them"
                         + "".join(f"; {n} is introduced by {early[n]}" for n in unknown if n in early))


@pytest.mark.parametrize("path", IN_SYLLABUS, ids=[p.stem for p in IN_SYLLABUS])
def test_a_chapter_uses_what_it_says_it_introduces(path):
    missing = sorted(set(chapter(path.stem).introduces) - lpn_names(path.read_text()))
    assert not missing, f"the syllabus says {path.name} introduces {missing}, but it never uses them"


def test_each_name_is_introduced_once():
    seen = {}
    for c in CHAPTERS:
        for n in c.introduces:
            assert n not in seen, f"{n} is introduced by both {seen[n]} and {c.stem}"
            seen[n] = c.stem


def test_exercises_follow_the_chapters():
    """Every exercise belongs to one chapter, and they are numbered in chapter order."""
    order = [slug for c in CHAPTERS for slug in c.exercises]
    assert sorted(order) == sorted(e.slug for e in EXERCISES), "each exercise in exactly one chapter"
    assert order == [e.slug for e in sorted(EXERCISES, key=lambda e: e.number)]


@pytest.mark.parametrize("path", IN_SYLLABUS, ids=[p.stem for p in IN_SYLLABUS])
def test_a_chapter_ends_with_its_exercises(path):
    text = path.read_text()
    tail = text[text.index("## Exercises"):]
    numbers = {e.slug: e for e in EXERCISES}
    for slug in chapter(path.stem).exercises:
        assert numbers[slug].filename in tail, f"{path.name} does not end with {numbers[slug].filename}"


def test_chapter_0_map_matches_the_syllabus():
    text = (ROOT / "chapters" / "ch00_the_problem.py").read_text()
    text = text[text.index("## The map"):]
    numbers = {e.slug: e.number for e in EXERCISES}
    for i, c in enumerate(CHAPTERS):
        row = re.search(rf"^# \| {i} \| (.*)$", text, re.M)
        assert row, f"chapter 0's map has no row for chapter {i}"
        for slug in c.exercises:
            assert f"ex{numbers[slug]:02d}" in row.group(1), (
                f"chapter 0's map row {i} does not name exercise {numbers[slug]} ({slug})")


def test_the_readme_table_matches_the_syllabus():
    readme = (ROOT / "README.md").read_text()
    numbers = {e.slug: e.number for e in EXERCISES}
    for c in CHAPTERS:
        row = re.search(rf"^\| \[\d+\. [^\]]*\]\(chapters/{c.stem}\.py\) \|.*$", readme, re.M)
        assert row, f"the README's chapter table has no row for chapters/{c.stem}.py"
        cells = [cell.strip() for cell in row.group(0).strip()[1:-1].split("|")]
        assert cells[-1] == ", ".join(f"ex{numbers[s]:02d}" for s in c.exercises), (
            f"the README's row for {c.stem} names other exercises than the syllabus")
