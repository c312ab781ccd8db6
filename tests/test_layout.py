"""The package's layout (docs/architecture.md): which room may import which.

Read from the source, every import counted (those inside functions too, since a cycle that
waits for a call is still a cycle):

- no module of ``lpn_mini`` is imported in a cycle;
- the core (the modules at the top of ``lpn_mini/``) imports only the core and ``device/``;
  ``device/`` imports only ``device/``: the tooling (``experiments/``, ``course/``, ``cli``)
  sits on top, and nothing below imports it;
- no module takes another module's private names (``from x import _helper``, ``x._helper``).
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lpn_mini"
TOOLING_AT_THE_TOP = {"lpn_mini.cli", "lpn_mini.__main__"}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def imports_of(name):
    """``[(imported module, [names taken from it], line)]`` for every import in module
    ``name``, relative ones resolved; a name that is itself a module counts as that module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("lpn_mini")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("lpn_mini"):
                continue
            names = [a.name for a in node.names]
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            found += [(m, [], node.lineno) for m in submodules]
            rest = [n for n in names if f"{target}.{n}" not in MODULES]
            if rest or not submodules:
                found.append((target, rest, node.lineno))
    return found


def graph():
    return {name: {m for m, _, _ in imports_of(name) if m in MODULES and m != name}
            for name in MODULES}


def room(name):
    """"device", "core" or "tooling" (the package's own __init__: "facade")."""
    if name == "lpn_mini":
        return "facade"
    if name.startswith("lpn_mini.device"):
        return "device"
    if name.startswith(("lpn_mini.experiments", "lpn_mini.course")) or name in TOOLING_AT_THE_TOP:
        return "tooling"
    return "core"


def test_every_module_is_found_and_parsed():
    assert {"lpn_mini.model", "lpn_mini.checks", "lpn_mini.device.backend",
            "lpn_mini.experiments.reproduce", "lpn_mini.course.grader"} <= set(MODULES)


def test_no_import_cycles():
    edges, cycles, state = graph(), [], {}

    def visit(name, stack):
        state[name] = "open"
        for m in sorted(edges[name]):
            if state.get(m) == "open":
                cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif m not in state:
                visit(m, stack + [m])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_the_core_imports_nothing_from_the_tooling():
    allowed = {"device": {"device"}, "core": {"core", "device"}}
    wrong = [f"{name} imports {m} (line {line})"
             for name in MODULES if room(name) in allowed
             for m, _, line in imports_of(name)
             if m in MODULES and room(m) not in allowed[room(name)]]
    assert not wrong, "the core must not import the tooling (docs/architecture.md): " + \
        "; ".join(wrong)


def test_no_module_takes_another_modules_private_names():
    wrong = []
    for name, path in MODULES.items():
        aliases = {}  # local name -> lpn_mini module it refers to
        for m, names, line in imports_of(name):
            wrong += [f"{name} line {line}: from {m} import {n}" for n in names
                      if n.startswith("_") and not n.startswith("__")]
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    full = next((m for m, _, line in imports_of(name)
                                 if line == node.lineno and m.endswith("." + a.name)), None)
                    if full:
                        aliases[a.asname or a.name] = full
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{name} line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    assert not wrong, "private names taken across modules: " + "; ".join(wrong)
