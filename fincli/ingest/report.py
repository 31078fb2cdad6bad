"""Running an import from the command line: progress on a terminal, then a summary."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from ..errors import one_line
from ..output import Format, message, render
from ..workspace import Workspace
from .importer import FileReport, Options, import_files

SUMMARY_COLUMNS = ["file", "status", "account", "import_id", "rows", "added", "already_present",
                   "posted", "possible_duplicates", "transfers", "skipped"]


@contextmanager
def _progress():
    """A progress callback: a bar on a terminal, nothing when piped or run from cron."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=None)
        yield lambda done, total, phase="reading": bar.update(task, completed=done, total=total,
                                                             description=phase)


def summary_record(report: FileReport) -> dict:
    return {
        "file": report.path, "status": report.status, "account": report.account, "import_id": report.import_id,
        "rows": report.rows, "added": report.added, "already_present": report.already_present,
        "posted": len(report.posted), "pending_already_posted": len(report.pending_already_posted),
        "possible_duplicates": len(report.possible_duplicates), "transfers": len(report.transfers),
        "possible_transfers": len(report.possible_transfers),
        "skipped": len(report.skipped), "currency": report.currency,
        "sign": report.sign.summary() if report.sign else None, "error": report.error,
    }


def run_import(ws: Workspace, files: list[str], fmt: Format, services: bool = True, **options) -> int:
    """Import, report, then run the real-time services; the exit code follows DESIGN §7.

    1 when a file failed; else 3 when a real-time service failed (the import is kept); else 0.
    """
    from ..store.connection import check_integrity

    if not options.get("dry_run"):
        check_integrity(ws.conn)                 # never add to a damaged database
    with _progress() as progress:
        reports = import_files(ws, files, Options(**options), progress)
    records = [summary_record(r) for r in reports]
    if fmt is Format.table:                      # keep the table narrow: file names, not paths
        records = [dict(r, file=Path(r["file"]).name) for r in records]
    render(records, SUMMARY_COLUMNS, fmt,
           optional=("skipped", "possible_duplicates", "transfers", "posted", "already_present", "import_id"))
    for report in reports:
        report.path = one_line(report.path)      # a file name may hold a newline; messages stay one line
        if report.error:
            message(f"fin: {report.error}")
            continue
        if report.sign and report.sign.basis != "layout":
            message(f"{report.path}: sign: {report.sign.summary()}")
        for line, reason in report.skipped:
            message(f"{report.path}:{line}: skipped: {reason}")
        for new, old in report.posted:
            message(f"{report.path}: pending transaction {old} is now posted as {new}")
        for skipped, posted in report.pending_already_posted:
            message(f"{report.path}: pending row {skipped} was already imported as posted {posted}")
        for new, old in report.possible_duplicates:
            message(f"{report.path}: possible duplicate: {new} may be the same as {old} (imported; review it)")
        for out_id, in_id, reason in report.possible_transfers:
            message(f"{report.path}: possible transfer: {out_id} → {in_id} ({reason}; not marked)")
        if report.status == "already imported":
            message(f"{report.path}: already imported; nothing to do")
        if report.currency_assumed and report.status in ("imported", "dry run"):
            message(f"{report.path}: the file does not name its currency; assumed {report.currency} "
                    "(pass --currency to choose)")
    services_ok = True
    if services and any(r.status == "imported" and r.added for r in reports):
        services_ok = _run_realtime_services(ws)
    if any(r.status == "failed" for r in reports):
        return 1
    return 0 if services_ok else 3


def _run_realtime_services(ws: Workspace) -> bool:
    """Score what was just imported; a service that fails never undoes the import. False if one failed."""
    from ..errors import FinError
    from ..services.engine import run_realtime

    try:
        with ws.lock():          # wait for another import to finish rather than give up on its write lock
            reports = run_realtime(ws)
    except FinError as exc:                       # e.g. a bad config.toml: the import itself stands
        message(f"fin: the import is kept, but the services did not run: {exc}")
        return False
    for report in reports:
        if report.status == "failed":
            message(f"fin: the import is kept, but {report.error}; retry with `fin run {report.service}`")
        elif report.detail and sys.stderr.isatty():
            message(f"{report.service}: {report.detail}")
    return all(report.status != "failed" for report in reports)
