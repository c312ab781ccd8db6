"""The supported Pythons are said once in pyproject.toml (requires-python and the
classifiers) and repeated in the README and in .ci/run: these tests keep them in step."""
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def supported_minors():
    """The 3.x minor versions the classifiers list, e.g. [10, 11, 12, 13]."""
    found = [re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c)
             for c in PROJECT["classifiers"]]
    return sorted(int(m.group(1)) for m in found if m)


def test_the_classifiers_are_a_run_of_versions_starting_at_requires_python():
    minors = supported_minors()
    assert minors == list(range(minors[0], minors[-1] + 1)), "a gap in the classifiers"
    assert PROJECT["requires-python"] == f">=3.{minors[0]}"


def test_the_readme_states_the_same_range():
    minors = supported_minors()
    readme = (ROOT / "README.md").read_text()
    assert f"Python 3.{minors[0]} to 3.{minors[-1]}" in readme


def test_this_python_is_a_supported_one():
    minors = supported_minors()
    assert sys.version_info[0] == 3 and minors[0] <= sys.version_info[1], sys.version
    # A newer Python than the classifiers list is allowed to run the suite (CI prints it);
    # an older one is not installable at all (requires-python).


def test_ci_tests_the_oldest_and_the_newest_supported_python():
    import subprocess
    out = subprocess.run([sys.executable, str(ROOT / ".ci" / "pythons.py")], capture_output=True,
                         text=True, check=True).stdout.split()
    minors = supported_minors()
    assert out == [f"3.{minors[0]}", f"3.{minors[-1]}"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 .ci/pythons.py" in ci and 'pip install -e ".[test]" && pytest' in ci
