"""Only the command line prints: the library returns what it did and raises FinError.

Every module of fincli outside fincli/cli/ (and output.py, the CLI's renderers) is read as
source and scanned for what writes to the terminal. fincli/synth is a separate generator
program with its own __main__, so it may print.
"""

import ast
import re
from pathlib import Path

FINCLI = Path(__file__).resolve().parents[1] / "fincli"
ALLOWED = [FINCLI / "cli", FINCLI / "output.py", FINCLI / "synth"]


def terminal_writes(source: str) -> list[str]:
    """What in this source writes to the terminal: print(), echo(), rich, sys.stdout/stderr, fincli's renderers."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in ("print", "echo", "pprint"):
                found.append(f"line {node.lineno}: {name}()")
        elif isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") \
                and isinstance(node.value, ast.Name) and node.value.id == "sys":
            found.append(f"line {node.lineno}: sys.{node.attr}")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] == "rich" or a.name == "fincli.output"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            renderers = module in ("output", "fincli.output") or (module == "" and any(
                a.name == "output" for a in node.names))
            if module.split(".")[0] == "rich" or renderers:
                found.append(f"line {node.lineno}: from {'.' * node.level}{module} import ...")
    return sorted(found, key=lambda hit: int(re.match(r"line (\d+)", hit)[1]))   # ast.walk is breadth-first


def test_no_module_outside_the_cli_prints():
    offenders = []
    for path in sorted(FINCLI.rglob("*.py")):
        if any(path == allowed or allowed in path.parents for allowed in ALLOWED):
            continue
        offenders += [f"{path.relative_to(FINCLI.parent)}: {hit}" for hit in terminal_writes(path.read_text())]
    assert not offenders, "only fincli/cli/ prints; return the data and render it there:\n" + "\n".join(offenders)


def test_the_scan_finds_each_way_of_printing():
    source = (
        "import sys\n"
        "from rich.console import Console\n"
        "from ..output import message, render\n"
        "from . import output\n"
        "import fincli.output\n"
        "def report(rows):\n"
        "    print(rows)\n"
        "    sys.stderr.write('x')\n"
        "    typer.echo('y')\n"
    )
    assert terminal_writes(source) == [
        "line 2: from rich.console import ...", "line 3: from ..output import ...", "line 4: from . import ...",
        "line 5: import fincli.output", "line 7: print()", "line 8: sys.stderr", "line 9: echo()",
    ]
    assert terminal_writes("def ok(rows):\n    return [r for r in rows]\n") == []
