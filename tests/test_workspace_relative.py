"""A workspace given by a relative path works for every step, service subprocesses included.

The path is made absolute once, where the workspace is opened: a service runs in a
child process whose working directory is not the user's, so a relative path handed
to it would name a folder that does not exist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPORT = sorted((ROOT / "data" / "samples" / "exports").glob("checking_*.csv"))[0]


def fin(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("FIN_HOME", None)
    return subprocess.run([sys.executable, "-m", "fincli.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_import_with_services_and_categorize_on_a_relative_workspace(tmp_path):
    imported = fin(tmp_path, "--home", "ws", "import", str(EXPORT), "--format", "json")
    assert imported.returncode == 0, imported.stderr
    assert "Traceback" not in imported.stderr and "FileNotFoundError" not in imported.stderr
    assert json.loads(imported.stdout)[0]["status"] == "imported"
    categorized = fin(tmp_path, "--home", "ws", "categorize", "--format", "json")
    assert categorized.returncode == 0, categorized.stderr
    assert json.loads(categorized.stdout)["error"] is None
    status = json.loads(fin(tmp_path, "--home", "ws", "status", "--format", "json").stdout)
    assert status["workspace"] == str(tmp_path / "ws")
    ran = json.loads(fin(tmp_path, "--home", "ws", "events", "--type", "service.ran", "--format", "json").stdout)
    assert ran, "the real-time service ran after the import"
    assert not list((tmp_path / "ws").glob(".run-*"))


def test_the_demo_runs_in_a_fresh_relative_folder(tmp_path):
    demo = fin(tmp_path, "--home", "ws", "demo")
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stderr
    listed = json.loads(fin(tmp_path, "--home", "ws", "transactions", "--format", "json").stdout)
    assert listed and any(t["category"] for t in listed)
