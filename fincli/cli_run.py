"""`fin run`: run model services, each in its own process, and store what they return."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import services as _services  # noqa: F401  (service events replay in every fin command)
from . import cli
from .cli import _workspace
from .output import message


def run(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., metavar="SERVICE...", help="Services to run, or `all`."),
    models_dir: Optional[Path] = typer.Option(None, "--models-dir",
                                              help="Folder of service files (default: the shipped models/)."),
):
    """Run model services on what is new in the log; exit 3 when some failed while others finished."""
    from .services import run_services

    ws = _workspace(ctx)
    reports = run_services(ws, list(names), models_dir=models_dir)
    failed = [r for r in reports if r.status == "failed"]
    chatty = sys.stderr.isatty()           # from cron: silent on success, one line per failure
    for report in reports:
        if report.status == "failed":
            message(f"fin: {report.error}")
        elif not chatty:
            continue
        elif report.status == "ok":
            message(f"{report.service}: {report.rows} rows, cursor {report.cursor} ({report.seconds:.2f} s)")
        else:
            message(f"{report.service}: nothing new since event {report.cursor}")
    if failed:
        raise typer.Exit(3)


def _clis():
    """fincli.cli, and under `python -m fincli.cli` also the running copy of it (`__main__`)."""
    yield cli
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if main is not cli and spec is not None and spec.name == "fincli.cli":
        yield main


for _cli in _clis():
    _cli.command(_cli.app, name="run")(run)
