"""The wheel carries models/ and data/ inside the package and installs the `fin` command."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_models_data_and_the_fin_command(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(tmp_path)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "fincli/_models/README.md" in names
    samples = [n for n in names if n.startswith("fincli/_data/samples/exports/") and n.endswith(".csv")]
    assert len(samples) == len(list((ROOT / "data" / "samples" / "exports").glob("*.csv"))) > 0
    assert any(n.startswith("fincli/_data/profiles/") for n in names)
    assert not any(n.startswith("models/") or n.startswith("data/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "fin = fincli.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


# the module each listed distribution is imported as, where the two names differ
IMPORT_NAMES = {"scikit-learn": "sklearn", "sqlite-utils": "sqlite_utils", "google-re2": "re2", "python-crontab": "crontab",
                "xgboost-cpu": "xgboost"}


def _third_party_imports(folders) -> set[str]:
    import ast

    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    # fin's own modules, and the service protocol (models/service.py) that model files import by name
    local = {"fincli", "service"} | {p.stem for folder in folders for p in (ROOT / folder).glob("*.py")}
    return {name for name in found if name not in sys.stdlib_module_names and name not in local}


def _requirement_modules(requirements) -> set[str]:
    names = {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0] for requirement in requirements}
    return {IMPORT_NAMES.get(name, name.replace("-", "_")) for name in names}


def test_every_dependency_is_imported_and_everything_imported_is_a_dependency():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = _requirement_modules(project["dependencies"])
    imported = _third_party_imports(["fincli", "models"])
    parquet = _requirement_modules(project["optional-dependencies"]["parquet"])
    assert imported - parquet == base, "pyproject's dependencies and the code's imports disagree"
    assert parquet <= imported                                  # the extra is used, only for .parquet output
    test_needs = _requirement_modules(project["optional-dependencies"]["test"])
    assert _third_party_imports(["tests"]) <= base | test_needs
