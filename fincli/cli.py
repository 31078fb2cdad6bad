"""The `fin` command line: thin commands over the use-case modules.

Heavy modules (rich tables, the importer, anything ML) are imported inside the
commands that need them, so `fin --help` stays fast. One error boundary turns
a FinError into one line on stderr and its exit code.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import FinError
from .output import Format, message

app = typer.Typer(
    name="fin",
    help="Personal finance from any bank CSV: import, categorize, detect fraud, report, predict bills.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
profiles_app = typer.Typer(help="Saved and built-in bank CSV layouts.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")

FORMAT = typer.Option(Format.table, "--format", "-f", help="Output format: table, json or csv.")


def command(target: typer.Typer = app, name: str | None = None):
    """Register a command behind the one error boundary."""
    def decorate(fn):
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except FinError as exc:
                message(f"fin: {exc}")
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                message("fin: interrupted; nothing of the unfinished step was written")
                raise typer.Exit(130) from None
        return target.command(name)(guarded)
    return decorate


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", envvar="FIN_HOME",
                                        help="Workspace folder (default: $FIN_HOME, else the user data dir)."),
):
    ctx.obj = {"home": home}


def _workspace(ctx: typer.Context, create: bool = True):
    from .workspace import open_workspace

    ws = open_workspace(ctx.obj["home"], create=create)
    ctx.call_on_close(ws.close)
    return ws


@command(name="import")
def import_(
    ctx: typer.Context,
    files: List[Path] = typer.Argument(..., help="Bank CSV exports to import."),
    account: Optional[str] = typer.Option(None, help="Account name (default: from the file name)."),
    profile: Optional[str] = typer.Option(None, help="Use a saved or built-in layout instead of detecting."),
    date_format: Optional[str] = typer.Option(None, help="strptime format of the dates, e.g. %d/%m/%Y."),
    decimal_mark: Optional[str] = typer.Option(None, help="Decimal mark of the amounts: ',' or '.'."),
    sign: Optional[str] = typer.Option(None, help="'normal' (money in is positive) or 'inverted' (charges positive)."),
    currency: Optional[str] = typer.Option(None, help="ISO currency of files that do not say theirs."),
    skip_bad_rows: bool = typer.Option(False, help="Skip and list rows that cannot be parsed."),
    save_profile: Optional[str] = typer.Option(None, help="Save the detected layout under this name."),
    dry_run: bool = typer.Option(False, help="Show what would be imported; write nothing."),
    fmt: Format = FORMAT,
):
    """Import bank CSV exports: detect the layout, skip what is already known, record events."""
    from .ingest.report import run_import

    if decimal_mark not in (None, ",", "."):
        raise typer.BadParameter("use ',' or '.'", param_hint="--decimal-mark")
    if sign not in (None, "normal", "inverted"):
        raise typer.BadParameter("use 'normal' or 'inverted'", param_hint="--sign")
    ws = _workspace(ctx)
    code = run_import(ws, [str(f) for f in files], fmt, account=account, profile=profile,
                      date_format=date_format, decimal_mark=decimal_mark, sign=sign, currency=currency,
                      skip_bad_rows=skip_bad_rows, save_profile=save_profile, dry_run=dry_run)
    raise typer.Exit(code)


@command()
def transactions(
    ctx: typer.Context,
    account: Optional[str] = typer.Option(None, help="Only this account."),
    since: Optional[str] = typer.Option(None, help="From this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Up to and including this date."),
    category: Optional[str] = typer.Option(None, help="Only this category."),
    uncategorized: bool = typer.Option(False, help="Only transactions without a category."),
    search: Optional[str] = typer.Option(None, help="Text in the description or merchant."),
    fmt: Format = FORMAT,
):
    """List transactions."""
    from . import ledger
    from .output import render

    ws = _workspace(ctx)
    rows = ledger.list_transactions(ws, account=account, since=since, until=until, category=category,
                                    uncategorized=uncategorized, search=search)
    columns = list(ledger.TRANSACTION_FIELDS) if fmt is not Format.table else \
        ["id", "date", "account", "amount", "currency", "description", "category"]
    render(rows, columns, fmt)


@command()
def accounts(ctx: typer.Context, fmt: Format = FORMAT):
    """List accounts with their transaction counts and date ranges."""
    from . import ledger
    from .output import render

    rows = ledger.list_accounts(_workspace(ctx))
    render(rows, ["account", "currency", "transactions", "balance_change", "first_date", "last_date"], fmt)


@command()
def events(
    ctx: typer.Context,
    type_: Optional[str] = typer.Option(None, "--type", help="Only events of this type."),
    limit: int = typer.Option(50, help="The most recent N events."),
    fmt: Format = FORMAT,
):
    """Show the event log (most recent last)."""
    from . import ledger
    from .output import render

    rows = ledger.list_events(_workspace(ctx), type_, limit)
    render(rows, ["seq", "type", "version", "occurred_at", "source", "event_id", "payload"], fmt)


@command()
def status(ctx: typer.Context, fmt: Format = FORMAT):
    """Workspace path, counts, last import and schema version."""
    from . import ledger
    from .output import render_one

    render_one(ledger.status(_workspace(ctx)), fmt)


@command()
def rebuild(ctx: typer.Context,
            verify: bool = typer.Option(False, "--verify", help="Then check the rebuilt state against a replay.")):
    """Drop the projections and replay them from the event log."""
    from . import ledger

    ws = _workspace(ctx)
    result = ledger.rebuild(ws)
    quarantined = f", {result.quarantined} quarantined" if result.quarantined else ""
    message(f"rebuilt from {result.events} events{quarantined}")
    if verify:
        checked = ledger.verify(ws)
        message(f"verified: hash chain of {checked.events} events intact, replay matches the live state")


@command()
def verify(ctx: typer.Context):
    """Check the event log's hash chain and that a replay matches the live projections."""
    from . import ledger

    result = ledger.verify(_workspace(ctx, create=False))
    message(f"verified: hash chain of {result.events} events intact, replay matches the live state "
            f"(digest {result.digest[:16]})")


@command()
def undo(ctx: typer.Context, import_id: str = typer.Argument(..., help="The import to undo (see `fin status`).")):
    """Undo an import with compensating events; the log keeps everything."""
    from . import ledger

    removed = ledger.undo_import(_workspace(ctx), import_id)
    message(f"undid import {import_id}: {removed} transactions removed from view")


@command(profiles_app, name="list")
def profiles_list(ctx: typer.Context, fmt: Format = FORMAT):
    """List saved and built-in profiles."""
    from .ingest.profiles import list_profiles
    from .output import render

    render(list_profiles(_workspace(ctx)), ["name", "origin", "fingerprint"], fmt)


@command(profiles_app, name="show")
def profiles_show(ctx: typer.Context, name: str, fmt: Format = FORMAT):
    """Show one profile's layout."""
    from .ingest.profiles import get_profile
    from .output import render_one

    render_one(get_profile(_workspace(ctx), name), fmt)


@command()
def demo(ctx: typer.Context):
    """Import the bundled sample exports into a fresh workspace and show the results."""
    from .demo import run_demo

    run_demo(ctx.obj["home"])


def main() -> None:
    app(prog_name="fin")


if __name__ == "__main__":
    sys.exit(main())
