"""No import cycles among fincli's modules, counting imports inside functions too.

A function-level import hides a cycle from Python at start-up, not from the reader: the
dependencies should point one way (cli -> services -> features, ledger -> store -> errors).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fincli"

# Strongly connected groups of modules allowed to import each other (none).
ALLOWED: set[tuple[str, ...]] = set()


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str], root: Path = PACKAGE) -> set[str]:
    """The fincli modules a file imports anywhere in it, relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:      # fincli.x.y.Name -> the module that holds it
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: imports(path, modules) for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Every elementary cycle's strongly connected component, as a sorted tuple (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def path_through(edges: dict[str, set[str]], component: tuple[str, ...]) -> str:
    """The shortest cycle through the component's first module, written a -> b -> a, to name it."""
    start, members = component[0], set(component)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(edges[path[-1]] & members):
            if nxt == start:
                return " -> ".join(path + [start])
            if nxt not in seen:
                seen.add(nxt)
                paths.append(path + [nxt])
    raise AssertionError(f"{component} holds no cycle through {start}")


def test_fincli_has_no_import_cycles():
    edges = graph()
    found = [c for c in cycles(edges) if c not in ALLOWED]
    assert not found, "import cycles: " + "; ".join(path_through(edges, c) for c in found)


def test_the_allowed_cycles_still_exist():
    """An allowed cycle that is gone is removed from ALLOWED, so it cannot come back unnoticed."""
    assert ALLOWED <= set(cycles(graph()))


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    edges = {"fincli.a": {"fincli.b"}, "fincli.b": {"fincli.c"}, "fincli.c": {"fincli.a"}, "fincli.d": {"fincli.a"}}
    assert cycles(edges) == [("fincli.a", "fincli.b", "fincli.c")]
    assert path_through(edges, ("fincli.a", "fincli.b", "fincli.c")) == "fincli.a -> fincli.b -> fincli.c -> fincli.a"
    source = tmp_path / "fincli" / "x.py"
    source.parent.mkdir()
    source.write_text("def f():\n    from .y import thing\n    from . import z\n")
    assert imports(source, {"fincli.x", "fincli.y", "fincli.z"}, tmp_path / "fincli") == {"fincli.y", "fincli.z"}
