"""`fin demo`: a fresh workspace with the bundled sample exports imported and categorized."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from .errors import WorkspaceError
from .ingest.importer import FileReport, Options, import_files
from .paths import data_dir
from .workspace import Workspace


def sample_exports() -> list[Path]:
    return sorted((data_dir() / "samples" / "exports").glob("*.csv"))


def fin_command() -> str:
    """How to call fin again: `fin` when it is on PATH, else the path it was started from (.venv/bin/fin)."""
    started = sys.argv[0]
    if Path(started).name != "fin" or shutil.which("fin") == started:
        return "fin"
    return started


def demo_home(home: Path | None) -> Path:
    """The demo's folder: HOME when it holds no workspace yet, else (no HOME) a new temporary one."""
    if home is None:
        return Path(tempfile.mkdtemp(prefix="fin-demo-"))
    if (Path(home) / "fin.db").exists():
        raise WorkspaceError(f"{home} already holds a workspace", "run the demo in a new folder, or without --home")
    return home


def load_samples(ws: Workspace, files: list[Path]) -> tuple[list[FileReport], list]:
    """Import the sample exports, then categorize the new transactions as `fin import` does.

    Returns the import's file reports and the real-time services' run reports.
    """
    reports = import_files(ws, [str(f) for f in files], Options())
    from .services.engine import run_realtime

    return reports, run_realtime(ws)
