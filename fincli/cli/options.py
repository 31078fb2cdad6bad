"""What the commands share: the --format, date and --models-dir options, the workspace
opener, and how a command reports what it did."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import one_line
from ..output import Format, message

FORMAT = typer.Option(Format.table, "--format", "-f", help="Output format: table, json or csv.")
MODELS_DIR = typer.Option(None, "--models-dir", help="Folder of service files (default: the shipped models/).")


def _iso_date(value: Optional[str]) -> Optional[str]:
    """A date option's value, checked to be a real YYYY-MM-DD date (a usage error, exit 2, if not)."""
    if value is None:
        return None
    from datetime import datetime

    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()   # 2024-6-3 becomes 2024-06-03
    except ValueError:
        raise typer.BadParameter(f"{one_line(value)!r} is not a date; use YYYY-MM-DD, e.g. 2024-06-30") from None


def date_option(flag: str, help: str):
    """The one way a command takes a date."""
    return typer.Option(None, flag, help=f"{help} (YYYY-MM-DD).", callback=_iso_date, metavar="DATE")


def workspace(ctx: typer.Context, create: bool = True):
    """The workspace of --home, closed when the command ends; the error boundary names its database."""
    from ..workspace import open_workspace

    ws = open_workspace(ctx.obj["home"], create=create)
    ctx.obj["db_path"] = str(ws.db_path)
    ctx.call_on_close(ws.close)
    return ws


def done(fmt: Format, record: dict, line: str) -> None:
    """A command's result: one record on stdout for json/csv, the human line on stderr for a table."""
    if fmt is Format.table:
        message(line)
    else:
        from ..output import render_one

        render_one(record, fmt)

