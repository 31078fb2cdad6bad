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

from .errors import FinError, one_line
from .output import Format, message

app = typer.Typer(
    name="fin",
    help="Personal finance from any bank CSV: import, list, categorize and verify your transactions "
         "in a local event-sourced workspace.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
profiles_app = typer.Typer(help="Saved and built-in bank CSV layouts.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")
features_app = typer.Typer(help="The feature store: catalogue, values, point-in-time training sets.",
                           no_args_is_help=True)
app.add_typer(features_app, name="features")
rules_app = typer.Typer(help="Your categorization rules: they come before the model.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

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
            except Exception as exc:
                line = _environment_problem(exc, kwargs.get("ctx"))
                if line is None:
                    raise                          # anything else is a bug: its traceback helps fix it
                message(f"fin: {line}")
                raise typer.Exit(1) from None
        return target.command(name)(guarded)
    return decorate


def _environment_problem(exc: Exception, ctx: Optional[typer.Context]) -> Optional[str]:
    """One line for a failure of the machine rather than of fin: a file system or a damaged database."""
    import sqlite3

    from .store.connection import DAMAGED_HINT

    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return one_line(f"{where}{exc.strerror or exc}")
    if type(exc) in (sqlite3.DatabaseError, sqlite3.OperationalError):
        db_path = (ctx.obj or {}).get("db_path", "fin.db") if ctx is not None else "fin.db"
        damaged = "malformed" in str(exc) or "not a database" in str(exc)
        hint = DAMAGED_HINT if damaged else "check the workspace, or use another with --home"
        return one_line(f"{db_path}: {exc} ({hint})")
    return None


def _done(fmt: Format, record: dict, line: str) -> None:
    """A command's result: one record on stdout for json/csv, the human line on stderr for a table."""
    if fmt is Format.table:
        message(line)
    else:
        from .output import render_one

        render_one(record, fmt)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("fin-ledger-toolkit")
        except PackageNotFoundError:             # run from a checkout that is not installed
            from . import __version__ as number
        print(f"fin {number}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", envvar="FIN_HOME",
                                        help="Workspace folder (default: $FIN_HOME, else the user data dir)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print fin's version and exit."),
):
    ctx.obj = {"home": home}


def _workspace(ctx: typer.Context, create: bool = True):
    from .workspace import open_workspace

    ws = open_workspace(ctx.obj["home"], create=create)
    ctx.obj["db_path"] = str(ws.db_path)
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
    no_services: bool = typer.Option(False, "--no-services",
                                     help="Do not categorize the new transactions now (`fin run categorize` later)."),
    fmt: Format = FORMAT,
):
    """Import bank CSV exports: detect the layout, skip what is already known, record events."""
    from .ingest.report import run_import

    if decimal_mark not in (None, ",", "."):
        raise typer.BadParameter("use ',' or '.'", param_hint="--decimal-mark")
    if sign not in (None, "normal", "inverted"):
        raise typer.BadParameter("use 'normal' or 'inverted'", param_hint="--sign")
    if account is not None and (not account.strip() or not account.isprintable()):
        raise typer.BadParameter("an account name is printable text on one line", param_hint="--account")
    ws = _workspace(ctx)
    code = run_import(ws, [str(f) for f in files], fmt, account=account, profile=profile,
                      date_format=date_format, decimal_mark=decimal_mark, sign=sign, currency=currency,
                      skip_bad_rows=skip_bad_rows, save_profile=save_profile, dry_run=dry_run,
                      services=not no_services)
    raise typer.Exit(code)


@command()
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
    from .ledger import queries as ledger
    from .output import render, stdout_is_terminal

    ws = _workspace(ctx)
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


@command()
def imports(ctx: typer.Context, fmt: Format = FORMAT):
    """List imports: id, file, account, date range, rows added, and whether each is active or undone."""
    from .ledger import queries as ledger
    from .output import render

    rows = ledger.list_imports(_workspace(ctx))
    if fmt is not Format.table:
        render(rows, list(ledger.IMPORT_FIELDS), fmt)
        return
    rows = [dict(r, file=Path(r["file"]).name) for r in rows]     # keep the table narrow: names, not paths
    render(rows, ["import_id", "file", "account", "date_from", "date_to", "added", "status"], fmt)


@command()
def accounts(ctx: typer.Context, fmt: Format = FORMAT):
    """List accounts with their transaction counts and date ranges."""
    from .ledger import queries as ledger
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
    from .ledger import queries as ledger
    from .output import render

    rows = ledger.list_events(_workspace(ctx), type_, limit)
    render(rows, ["seq", "type", "version", "occurred_at", "source", "event_id", "payload"], fmt)


@command()
def status(ctx: typer.Context, fmt: Format = FORMAT):
    """Workspace path, counts, last import and schema version."""
    from .ledger import queries as ledger
    from .output import render_one

    render_one(ledger.status(_workspace(ctx)), fmt)


@command()
def rebuild(ctx: typer.Context,
            verify: bool = typer.Option(False, "--verify", help="Then check the rebuilt state against a replay."),
            fmt: Format = FORMAT):
    """Drop the projections and replay them from the event log."""
    from .ledger import maintenance as ledger
    from .store.connection import check_integrity

    ws = _workspace(ctx)
    check_integrity(ws.conn)                      # a damaged file is restored, not rebuilt on
    result = ledger.rebuild(ws)
    record = {"events": result.events, "quarantined": result.quarantined, "verified": None, "digest": None}
    quarantined = f", {result.quarantined} quarantined" if result.quarantined else ""
    line = f"rebuilt from {result.events} events{quarantined}"
    if verify:
        checked = ledger.verify(ws)
        record.update(verified=True, digest=checked.digest)
        line += f"\nverified: hash chain of {checked.events} events intact, replay matches the live state"
    _done(fmt, record, line)


@command()
def verify(ctx: typer.Context, fmt: Format = FORMAT):
    """Check the database file, the event log's hash chain, and that a replay matches the live projections."""
    from .ledger import maintenance as ledger
    from .store.connection import check_integrity

    ws = _workspace(ctx, create=False)
    check_integrity(ws.conn)
    result = ledger.verify(ws)
    _done(fmt, {"events": result.events, "verified": True, "digest": result.digest},
          f"verified: hash chain of {result.events} events intact, replay matches the live state "
          f"(digest {result.digest[:16]})")


@command()
def undo(ctx: typer.Context, import_id: str = typer.Argument(..., help="The import to undo (see `fin imports`)."),
         fmt: Format = FORMAT):
    """Undo an import with compensating events; the log keeps everything."""
    from .ledger import maintenance as ledger

    result = ledger.undo_import(_workspace(ctx), import_id)
    _done(fmt, {"import_id": import_id, "removed": result.removed, "kept": result.kept},
          f"undid import {import_id}: {result.removed} transactions removed from view, "
          f"{result.kept} kept because other imports hold them")


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
def demo(ctx: typer.Context, fmt: Format = FORMAT):
    """Import the bundled sample exports into a fresh workspace and show the results."""
    from .demo import run_demo

    run_demo(ctx.obj["home"], fmt)


@command()
def label(
    ctx: typer.Context,
    txn_id: Optional[str] = typer.Argument(None, help="The transaction to label (see `fin transactions`)."),
    category: Optional[str] = typer.Argument(None, help="Its category, e.g. groceries."),
    file: Optional[Path] = typer.Option(None, "--file", help="CSV with columns id,category[,labelled_at]."),
    fmt: Format = FORMAT,
):
    """Set the category of a transaction, or of every row of a labels CSV (all or nothing)."""
    from .features.labels import read_file, set_labels

    if file is not None and (txn_id or category):
        raise typer.BadParameter("give TXN_ID CATEGORY or --file, not both", param_hint="--file")
    if file is None and not (txn_id and category):
        raise typer.BadParameter("give TXN_ID CATEGORY, or --file labels.csv", param_hint="TXN_ID CATEGORY")
    ws = _workspace(ctx)
    rows = read_file(file) if file is not None else [(txn_id, category.strip(), None, "")]
    count = set_labels(ws, rows)
    _done(fmt, {"labelled": count}, f"labelled {count} transaction{'s' if count != 1 else ''}")


@command(features_app, name="list")
def features_list(fmt: Format = FORMAT):
    """The feature catalogue: name, entity, owner service, description."""
    from .features.catalog import FEATURES
    from .output import render

    render([{"name": f.name, "entity": f.entity, "owner": f.owner, "description": f.description}
            for f in FEATURES], ["name", "entity", "owner", "description"], fmt)


@command(features_app, name="show")
def features_show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The feature (see `fin features list`)."),
    entity: Optional[str] = typer.Option(None, "--entity", help="A transaction id, merchant, account or category."),
    as_of: Optional[str] = date_option("--as-of", "Values at the end of this day"),
    fmt: Format = FORMAT,
):
    """What a feature is, and its values now or as of a date."""
    import json

    from .features import show
    from .output import render, render_one

    feature = show.feature(name)
    rows = show.values(_workspace(ctx), feature, entity, as_of)
    if fmt is Format.json:
        print(json.dumps({**show.describe(feature), "values": rows}, ensure_ascii=False, indent=2))
        return
    if fmt is Format.table:
        render_one(show.describe(feature), fmt)
    for row in rows:
        if not isinstance(row["value"], (str, int, float, type(None))):
            row["value"] = json.dumps(row["value"])
    render(rows, [c for c in ("entity", "currency", "months", "value") if any(c in r for r in rows)] or
           ["entity", "value"], fmt)


@command(features_app, name="training-set")
def features_training_set(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="The service whose observations to use (categorize)."),
    out: Path = typer.Option(..., "--out", help="Output file: .csv, .jsonl or .parquet."),
    as_known_now: bool = typer.Option(False, "--as-known-now",
                                      help="Let every row see the whole log now, not only what was known then."),
    fmt: Format = FORMAT,
):
    """Write a point-in-time training set and its manifest (OUT.manifest.json)."""
    from .features.training import training_set

    info = training_set(_workspace(ctx), service, out, as_known_now)
    _done(fmt, {"out": str(out), "manifest": f"{out}.manifest.json", "rows": info["observations"],
                "log_position": info["log_position"]},
          f"wrote {info['observations']} rows to {out} (log position {info['log_position']}); "
          f"manifest {out}.manifest.json")


@command(features_app, name="rebuild")
def features_rebuild(ctx: typer.Context,
                     verify: bool = typer.Option(False, "--verify",
                                                 help="Check that the incremental state equals the rebuild."),
                     fmt: Format = FORMAT):
    """Drop the materialized features and rebuild them from the event log."""
    from .errors import IntegrityError
    from .features.store import rebuild

    head, after, before = rebuild(_workspace(ctx), verify)
    if verify and before != after:
        raise IntegrityError("materialized features differed from a rebuild from the log (now rebuilt)",
                             "report this as a bug")
    _done(fmt, {"events": head, "verified": True if verify else None, "digest": after},
          f"rebuilt features from {head} events" + (f"; verified (digest {after[:16]})" if verify else ""))


@command(rules_app, name="add")
def rules_add(
    ctx: typer.Context,
    pattern: str = typer.Argument(..., help="Text to find in the description or merchant (any case)."),
    category: str = typer.Argument(..., help="The category to give, e.g. groceries."),
    regex: bool = typer.Option(False, "--regex", help="PATTERN is a regular expression (searched, any case)."),
    fmt: Format = FORMAT,
):
    """Add a rule and apply it now; the newest matching rule wins, a label beats any rule."""
    from .services.categorize import add_rule as add

    rule, result = add(_workspace(ctx), pattern, category, regex)
    _done(fmt, {"id": rule.id, "pattern": pattern, "regex": regex, "category": rule.category,
                "transactions": result.by_rule},
          f"added rule {rule.id}: {pattern!r} -> {rule.category}; {result.by_rule} transaction"
          f"{'s' if result.by_rule != 1 else ''} match it now")


@command(rules_app, name="list")
def rules_list(ctx: typer.Context, fmt: Format = FORMAT):
    """The rules, in the order they are tried (newest first)."""
    from .output import render
    from .services.rules import listing

    render(listing(_workspace(ctx)), ["id", "pattern", "regex", "category", "added_at", "transactions"], fmt)


@command(rules_app, name="remove")
def rules_remove(ctx: typer.Context, rule_id: str = typer.Argument(..., help="The rule's id (see `fin rules list`)."),
                 fmt: Format = FORMAT):
    """Remove a rule; what it categorized is categorized again by the other rules and the model."""
    from .services.categorize import remove_rule as remove

    result = remove(_workspace(ctx), rule_id)
    _done(fmt, {"id": rule_id, "considered": result.considered, "rule": result.by_rule, "model": result.by_model,
                "review": result.to_review, "error": str(result.error) if result.error else None},
          f"removed rule {rule_id}; {result.considered} transactions categorized again "
          f"({result.by_rule} by rules, {result.by_model} by the model, {result.to_review} to review)")
    if result.error is not None:
        message(f"fin: {result.error}; run `fin categorize` to try again")
        raise typer.Exit(3)


@command()
def categorize(
    ctx: typer.Context,
    retrain: bool = typer.Option(False, "--retrain", help="Train the model again on every label first."),
    evaluate: bool = typer.Option(False, "--evaluate",
                                  help="Train on the earlier labels, score the later ones, compare with baselines."),
    split: Optional[str] = date_option("--split", "With --evaluate: labels given before this date train, "
                                       "later ones are scored (default: the last 20%)"),
    models_dir: Optional[Path] = MODELS_DIR,
    fmt: Format = FORMAT,
):
    """Categorize every transaction without a label: your rules first, then the model; unsure ones go to review."""
    ws = _workspace(ctx)
    if evaluate:
        from .evaluation import evaluate as run_evaluation, render_report

        render_report(run_evaluation(ws, split, models_dir), fmt)
        return
    from .services.categorize import run_all

    result = run_all(ws, retrain=retrain, models_dir=models_dir)
    if fmt is not Format.table:
        from .output import render_one

        render_one({"considered": result.considered, "rule": result.by_rule, "model": result.by_model,
                    "review": result.to_review, "changed": result.changed,
                    "trained_on_labels": result.trained["labels"] if result.trained else None,
                    "error": str(result.error) if result.error else None}, fmt)
    if result.trained:
        message(f"trained on {result.trained['labels']} labels and {result.trained['seed_rows']} seed entries")
    message(result.summary())
    if result.error is not None:
        message(f"fin: {result.error}")
        raise typer.Exit(3)


@command()
def run(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., metavar="SERVICE...", help="Services to run, or `all`."),
    models_dir: Optional[Path] = MODELS_DIR,
    fmt: Format = FORMAT,
):
    """Run model services on what is new in the log; exit 3 when some failed while others finished."""
    from .services.engine import run_services

    reports = run_services(_workspace(ctx), list(names), models_dir=models_dir)
    if fmt is not Format.table:
        from .output import render

        render([{"service": r.service, "status": r.status, "rows": r.rows, "cursor": r.cursor,
                 "seconds": round(r.seconds, 3), "detail": r.detail, "error": r.error, "log": r.log}
                for r in reports], ["service", "status", "rows", "cursor", "seconds", "detail", "error", "log"], fmt)
    chatty = sys.stderr.isatty() and fmt is Format.table   # from cron: silent on success, one line per failure
    for report in reports:
        if report.status == "failed":
            message(f"fin: {report.error}")
        elif chatty and report.status == "ok":
            message(f"{report.service}: {report.rows} rows, cursor {report.cursor} ({report.seconds:.2f} s)")
        elif chatty:
            message(f"{report.service}: nothing new since event {report.cursor}")
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(3)


def main() -> None:
    app(prog_name="fin")


if __name__ == "__main__":
    sys.exit(main())
