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


def load_samples(ws: Workspace, files: list[Path]) -> list[FileReport]:
    """Import the sample exports; the file reports."""
    return import_files(ws, [str(f) for f in files], Options())
