"""The ledger's commands: import, list, rebuild, verify and undo; labels, profiles and the demo."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import one_line
from ..output import Format, message
from .options import FORMAT, date_option, done, workspace

SUMMARY_COLUMNS = ["file", "status", "account", "import_id", "rows", "added", "already_present",
                   "posted", "possible_duplicates", "transfers", "skipped"]


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
    no_services: bool = typer.Option(False, "--no-services",
                                     help="Do not categorize the new transactions now (`fin run categorize` later)."),
    fmt: Format = FORMAT,
):
    """Import bank CSV exports: detect the layout, skip what is already known, record events."""
    if decimal_mark not in (None, ",", "."):
        raise typer.BadParameter("use ',' or '.'", param_hint="--decimal-mark")
    if sign not in (None, "normal", "inverted"):
        raise typer.BadParameter("use 'normal' or 'inverted'", param_hint="--sign")
    if account is not None and (not account.strip() or not account.isprintable()):
        raise typer.BadParameter("an account name is printable text on one line", param_hint="--account")
    ws = workspace(ctx)
    code = _run_import(ws, [str(f) for f in files], fmt, account=account, profile=profile,
                       date_format=date_format, decimal_mark=decimal_mark, sign=sign, currency=currency,
                       skip_bad_rows=skip_bad_rows, save_profile=save_profile, dry_run=dry_run,
                       services=not no_services)
    raise typer.Exit(code)


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


def summary_record(report) -> dict:
    """One row of the import summary, from an importer FileReport."""
    return {
        "file": report.path, "status": report.status, "account": report.account, "import_id": report.import_id,
        "rows": report.rows, "added": report.added, "already_present": report.already_present,
        "posted": len(report.posted), "pending_already_posted": len(report.pending_already_posted),
        "possible_duplicates": len(report.possible_duplicates), "transfers": len(report.transfers),
        "possible_transfers": len(report.possible_transfers),
        "skipped": len(report.skipped), "currency": report.currency,
        "sign": report.sign.summary() if report.sign else None, "error": report.error,
    }


def _run_import(ws, files: list[str], fmt: Format, services: bool = True, **options) -> int:
    """Import, report, then run the real-time services; the exit code follows DESIGN §7.

    1 when a file failed; else 3 when a real-time service failed (the import is kept); else 0.
    """
    from ..store.connection import check_integrity
    from ..ingest.importer import Options, import_files
    from ..output import render

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
    services_failed = 0
    if services and any(r.status == "imported" and r.added for r in reports):
        services_failed = run_realtime_services(ws)
    if any(r.status == "failed" for r in reports):
        return 1
    return 3 if services_failed else 0


def run_realtime_services(ws) -> int:
    """Score what was just imported (the one trigger, for `fin import` and the demo); a service that
    fails never undoes the import. Returns how many failed."""
    from ..errors import FinError
    from ..services.engine import run_realtime

    try:
        with ws.lock():          # wait for another import to finish rather than give up on its write lock
            reports = run_realtime(ws)
    except FinError as exc:                       # e.g. a bad config.toml: the import itself stands
        message(f"fin: the import is kept, but the services did not run: {exc}")
        return 1
    for report in reports:
        if report.status == "failed":
            message(f"fin: the import is kept, but {report.error}; retry with `fin run {report.service}`")
        elif report.detail and sys.stderr.isatty():
            message(f"{report.service}: {report.detail}")
    return sum(report.status == "failed" for report in reports)


def transactions(
    ctx: typer.Context,
    account: Optional[str] = typer.Option(None, help="Only this account."),
    since: Optional[str] = date_option("--since", "From this date"),
    until: Optional[str] = date_option("--until", "Up to and including this date"),
    category: Optional[str] = typer.Option(None, help="Only this category."),
    uncategorized: bool = typer.Option(False, help="Only transactions without a category."),
    review: bool = typer.Option(False, "--review",
                                help="Only what needs a human: the model was unsure; shows its suggestion."),
    search: Optional[str] = typer.Option(None, help="Text in the description or merchant."),
    limit: Optional[int] = typer.Option(None, "--limit", min=0,
                                        help="Only the newest N; 0 for all. Default: 50 in a table on a terminal, "
                                             "else all."),
    fmt: Format = FORMAT,
):
    """List transactions: newest first in a table; oldest first in JSON and CSV."""
    from ..ledger import queries as ledger
    from ..output import render, stdout_is_terminal

    ws = workspace(ctx)
    if limit is None:
        limit = 50 if fmt is Format.table and stdout_is_terminal() else 0
    filters = dict(account=account, since=since, until=until, category=category, uncategorized=uncategorized,
                   review=review, search=search)
    rows = ledger.list_transactions(ws, limit=limit, newest_first=fmt is Format.table, **filters)
    if fmt is not Format.table:
        columns = list(ledger.TRANSACTION_FIELDS) + (["suggestion"] if review else [])
    elif review:
        columns = ["id", "date", "account", "amount", "currency", "description", "suggestion", "confidence"]
    else:
        columns = ["id", "date", "account", "amount", "currency", "description", "category"]
    shown = render(rows, columns, fmt, optional=("account", "currency", "confidence", "category"))
    more = ledger.count_transactions(ws, **filters) - shown if limit and shown == limit else 0
    if more > 0:
        message(f"… {more:,} more; use --limit 0 for all")


def imports(ctx: typer.Context, fmt: Format = FORMAT):
    """List imports: id, file, account, date range, rows added, and whether each is active or undone."""
    from ..ledger import queries as ledger
    from ..output import render

    rows = ledger.list_imports(workspace(ctx))
    if fmt is not Format.table:
        render(rows, list(ledger.IMPORT_FIELDS), fmt)
        return
    rows = [dict(r, file=Path(r["file"]).name) for r in rows]     # keep the table narrow: names, not paths
    render(rows, ["import_id", "file", "account", "date_from", "date_to", "added", "status"], fmt)


def accounts(ctx: typer.Context, fmt: Format = FORMAT):
    """List accounts with their transaction counts and date ranges."""
    from ..ledger import queries as ledger
    from ..output import render

    rows = ledger.list_accounts(workspace(ctx))
    render(rows, ["account", "currency", "transactions", "balance_change", "first_date", "last_date"], fmt)


def events(
    ctx: typer.Context,
    type_: Optional[str] = typer.Option(None, "--type", help="Only events of this type."),
    limit: int = typer.Option(50, help="The most recent N events."),
    fmt: Format = FORMAT,
):
    """Show the event log (most recent last)."""
    from ..ledger import queries as ledger
    from ..output import render

    rows = ledger.list_events(workspace(ctx), type_, limit)
    render(rows, ["seq", "type", "version", "occurred_at", "source", "event_id", "payload"], fmt)


def status(ctx: typer.Context, fmt: Format = FORMAT):
    """Workspace path, counts, last import and schema version."""
    from ..ledger import queries as ledger
    from ..output import render_one

    render_one(ledger.status(workspace(ctx)), fmt)


def rebuild(ctx: typer.Context,
            verify: bool = typer.Option(False, "--verify", help="Then check the rebuilt state against a replay."),
            fmt: Format = FORMAT):
    """Drop the projections and replay them from the event log."""
    from ..ledger import maintenance as ledger
    from ..store.connection import check_integrity

    ws = workspace(ctx)
    check_integrity(ws.conn)                      # a damaged file is restored, not rebuilt on
    result = ledger.rebuild(ws)
    record = {"events": result.events, "quarantined": result.quarantined, "verified": None, "digest": None}
    quarantined = f", {result.quarantined} quarantined" if result.quarantined else ""
    line = f"rebuilt from {result.events} events{quarantined}"
    if verify:
        checked = ledger.verify(ws)
        record.update(verified=True, digest=checked.digest)
        line += f"; verified: hash chain of {checked.events} events intact, replay matches the live state"
    done(fmt, record, line)


def verify(ctx: typer.Context, fmt: Format = FORMAT):
    """Check the database file, the event log's hash chain, and that a replay matches the live projections."""
    from ..ledger import maintenance as ledger
    from ..store.connection import check_integrity

    ws = workspace(ctx, create=False)
    check_integrity(ws.conn)
    result = ledger.verify(ws)
    done(fmt, {"events": result.events, "verified": True, "digest": result.digest},
          f"verified: hash chain of {result.events} events intact, replay matches the live state "
          f"(digest {result.digest[:16]})")


def undo(ctx: typer.Context, import_id: str = typer.Argument(..., help="The import to undo (see `fin imports`)."),
         fmt: Format = FORMAT):
    """Undo an import with compensating events; the log keeps everything."""
    from ..ledger import maintenance as ledger

    result = ledger.undo_import(workspace(ctx), import_id)
    done(fmt, {"import_id": import_id, "removed": result.removed, "kept": result.kept},
          f"undid import {import_id}: {result.removed} transactions removed from view, "
          f"{result.kept} kept because other imports hold them")


def profiles_list(ctx: typer.Context, fmt: Format = FORMAT):
    """List saved and built-in profiles."""
    from ..ingest.profiles import list_profiles
    from ..output import render

    render(list_profiles(workspace(ctx)), ["name", "origin", "fingerprint"], fmt)


def profiles_show(ctx: typer.Context, name: str, fmt: Format = FORMAT):
    """Show one profile's layout."""
    from ..ingest.profiles import get_profile
    from ..output import render_one

    render_one(get_profile(workspace(ctx), name), fmt)


def demo(ctx: typer.Context, fmt: Format = FORMAT):
    """Import the bundled sample exports into a fresh workspace and show the results."""
    from ..ledger import queries as ledger
    from ..demo import demo_home, fin_command, load_samples, sample_exports
    from ..errors import WorkspaceError
    from ..output import render_one
    from ..workspace import open_workspace

    home = demo_home(ctx.obj["home"])     # tables on a terminal; with json or csv, one record of what was done
    ws = open_workspace(home)
    try:
        files = sample_exports()
        message(f"fin demo: importing {len(files)} sample exports into a fresh workspace at {ws.home}")
        reports = load_samples(ws, files)
        failed = [r for r in reports if r.status == "failed"]
        for report in failed:
            message(f"fin: {report.error}")
        services_failed = run_realtime_services(ws)      # categorize the new transactions, as `fin import` does
        if fmt is not Format.table:
            status = ledger.status(ws)
            render_one({"workspace": str(ws.home), "files": len(files), "failed": len(failed),
                        "added": sum(r.added for r in reports), "transactions": status["transactions"],
                        "accounts": status["accounts"],
                        "services_failed": services_failed}, fmt)
        else:
            _show_demo(ws, reports)
        message(f"explore it: {fin_command()} --home {ws.home} transactions")
        if failed:
            raise WorkspaceError(f"{len(failed)} sample file(s) failed to import", "see the lines above")
    finally:
        ws.close()
    if services_failed:
        raise typer.Exit(3)


def _show_demo(ws, reports) -> None:
    """The demo on a terminal: what was imported, the accounts, the latest transactions, the status."""
    from ..ledger import queries as ledger
    from ..output import render, render_one

    render([{"file": Path(r.path).name, "account": r.account, "rows": r.rows, "new": r.added,
             "known": r.already_present, "posted": len(r.posted), "transfers": len(r.transfers)}
            for r in reports],
           ["file", "account", "rows", "new", "known", "posted", "transfers"], Format.table,
           title="Imports (overlapping downloads: rows already known are not added again)")
    render(ledger.list_accounts(ws), ["account", "currency", "transactions", "balance_change",
                                      "first_date", "last_date"], Format.table, title="Accounts")
    recent = list(ledger.list_transactions(ws))[-15:]
    render(recent, ["date", "account", "amount", "currency", "merchant", "category", "confidence"],
           Format.table, title="Latest transactions (category empty: unsure, see `fin transactions --review`)")
    render_one(ledger.status(ws), Format.table)


def label(
    ctx: typer.Context,
    txn_id: Optional[str] = typer.Argument(None, help="The transaction to label (see `fin transactions`); "
                                                     "with --merchant, the merchant key."),
    category: Optional[str] = typer.Argument(None, help="Its category, e.g. groceries."),
    file: Optional[Path] = typer.Option(None, "--file", help="CSV with columns id,category[,labelled_at]."),
    merchant: bool = typer.Option(False, "--merchant",
                                  help="Label every transaction of the merchant KEY (see `fin review --format json`)."),
    fmt: Format = FORMAT,
):
    """Set the category of a transaction, of every transaction of a merchant, or of every row of a labels CSV
    (all or nothing). The merchant's other transactions follow the label at once."""
    from ..features.labels import read_file
    from ..services import categorize

    if file is not None and (txn_id or category or merchant):
        raise typer.BadParameter("give TXN_ID CATEGORY, --merchant KEY CATEGORY or --file, not two of them",
                                 param_hint="--file")
    if file is None and not (txn_id and category):
        raise typer.BadParameter("give TXN_ID CATEGORY, --merchant KEY CATEGORY or --file labels.csv",
                                 param_hint="TXN_ID CATEGORY")
    ws = workspace(ctx)
    if merchant:
        count, followed = categorize.label_merchant(ws, txn_id, category), categorize.Result()
    else:
        rows = read_file(file) if file is not None else [(txn_id, category.strip(), None, "")]
        count, followed = categorize.label(ws, rows)
    done(fmt, {"labelled": count, "merchant": followed.by_merchant},
         f"labelled {count} transaction{'s' if count != 1 else ''}"
         + (f"; {followed.by_merchant} more of the same merchants follow" if followed.by_merchant else ""))
    if followed.error is not None:
        message(f"fin: the labels are kept, but {followed.error}; run `fin categorize` to try again")
        raise typer.Exit(3)


GROUPS = {"profiles": "Saved and built-in bank CSV layouts."}

COMMANDS = [                 # (group, name, function), in the order `fin --help` lists them
    (None, "import", import_),
    (None, "transactions", transactions),
    (None, "imports", imports),
    (None, "accounts", accounts),
    (None, "events", events),
    (None, "status", status),
    (None, "rebuild", rebuild),
    (None, "verify", verify),
    (None, "undo", undo),
    ("profiles", "list", profiles_list),
    ("profiles", "show", profiles_show),
    (None, "demo", demo),
    (None, "label", label),
]
