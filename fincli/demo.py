"""`fin demo`: a fresh workspace, the bundled sample exports imported, the results shown."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from .errors import WorkspaceError
from .ingest.importer import Options, import_files
from .ledger import queries
from .output import Format, message, render, render_one
from .paths import data_dir
from .workspace import open_workspace


def sample_exports() -> list[Path]:
    return sorted((data_dir() / "samples" / "exports").glob("*.csv"))


def fin_command() -> str:
    """How to call fin again: `fin` when it is on PATH, else the path it was started from (.venv/bin/fin)."""
    started = sys.argv[0]
    if Path(started).name != "fin" or shutil.which("fin") == started:
        return "fin"
    return started


def run_demo(home: Path | None, fmt: Format = Format.table) -> None:
    """Tables on a terminal; with json or csv, one record of what was done (the workspace, the counts)."""
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="fin-demo-"))
    elif (Path(home) / "fin.db").exists():
        raise WorkspaceError(f"{home} already holds a workspace", "run the demo in a new folder, or without --home")
    ws = open_workspace(home)
    try:
        files = sample_exports()
        message(f"fin demo: importing {len(files)} sample exports into a fresh workspace at {home}")
        reports = import_files(ws, [str(f) for f in files], Options())
        failed = [r for r in reports if r.status == "failed"]
        for report in failed:
            message(f"fin: {report.error}")
        from .services.engine import run_realtime

        runs = run_realtime(ws)                    # categorize the new transactions, as `fin import` does
        for run in runs:
            message(f"fin: {run.error}" if run.status == "failed" else f"{run.service}: {run.detail}")
        if fmt is not Format.table:
            status = queries.status(ws)
            render_one({"workspace": str(home), "files": len(files), "failed": len(failed),
                        "added": sum(r.added for r in reports), "transactions": status["transactions"],
                        "accounts": status["accounts"],
                        "services_failed": sum(run.status == "failed" for run in runs)}, fmt)
        else:
            _show(ws, reports)
        message(f"explore it: {fin_command()} --home {home} transactions")
        if failed:
            raise WorkspaceError(f"{len(failed)} sample file(s) failed to import", "see the lines above")
    finally:
        ws.close()


def _show(ws, reports) -> None:
    """The demo on a terminal: what was imported, the accounts, the latest transactions, the status."""
    render([{"file": Path(r.path).name, "account": r.account, "rows": r.rows, "new": r.added,
             "known": r.already_present, "posted": len(r.posted), "transfers": len(r.transfers)}
            for r in reports],
           ["file", "account", "rows", "new", "known", "posted", "transfers"], Format.table,
           title="Imports (overlapping downloads: rows already known are not added again)")
    render(queries.list_accounts(ws), ["account", "currency", "transactions", "balance_change",
                                      "first_date", "last_date"], Format.table, title="Accounts")
    recent = list(queries.list_transactions(ws))[-15:]
    render(recent, ["date", "account", "amount", "currency", "merchant", "category", "confidence"],
           Format.table, title="Latest transactions (category empty: unsure, see `fin transactions --review`)")
    render_one(queries.status(ws), Format.table)
