"""Print the oldest and the newest Python that pyproject.toml's classifiers list, e.g.
"3.10 3.13": .ci/run tests the suite on these too, where the machine has them. Reads the
file with a regular expression, so any Python 3 runs it without tomllib."""
import pathlib
import re

text = (pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
minors = sorted(int(m) for m in re.findall(r'"Programming Language :: Python :: 3\.(\d+)"', text))
print(f"3.{minors[0]} 3.{minors[-1]}")
