"""Use cases over the log and its projections: status, rebuild, verify, undo, queries."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import db, events as ev, projections
from .errors import InputError, IntegrityError
from .events import Event
from .money import format_minor
from .workspace import Workspace


@dataclass
class RebuildResult:
    events: int
    quarantined: int


def rebuild(ws: Workspace) -> RebuildResult:
    """Drop every projection and replay the whole log into it, in one transaction."""
    with ws.lock(), db.transaction(ws.conn):
        quarantined = projections.replay(ws.conn)
    return RebuildResult(ev.head(ws.conn)[0], quarantined)


def _rebuilt_copy(ws: Workspace) -> sqlite3.Connection:
    """Replay the log into a fresh in-memory database holding only the projections.

    The workspace's database is attached read-only; its `events` table is the
    only one of that name, so the projection code reads it unchanged.
    """
    shadow = sqlite3.connect(":memory:", isolation_level=None, uri=True)
    shadow.execute("ATTACH DATABASE ? AS log", (f"{ws.db_path.resolve().as_uri()}?mode=ro",))
    db.register_functions(shadow)
    db.run_statements(shadow, ["CREATE TABLE projection_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)"])
    shadow.execute("BEGIN")
    projections.create_tables(shadow)
    projections.catch_up(shadow)
    shadow.execute("COMMIT")
    return shadow


@dataclass
class VerifyResult:
    events: int
    digest: str


def verify(ws: Workspace) -> VerifyResult:
    """Check the hash chain, then that replaying the log gives exactly the live projections."""
    count = ev.verify_chain(ws.conn)
    with ws.lock():                      # no import may land between the two digests
        with db.transaction(ws.conn):
            projections.catch_up(ws.conn)
        shadow = _rebuilt_copy(ws)
        try:
            live, rebuilt = projections.digest(ws.conn), projections.digest(shadow)
            if live != rebuilt:
                where = projections.first_difference(ws.conn, shadow)
                raise IntegrityError(f"projections differ from a replay of the log: {where}",
                                     "run `fin rebuild` to rebuild them from the log")
        finally:
            shadow.close()
    return VerifyResult(count, live)


@dataclass
class UndoResult:
    removed: int        # transactions that left the view
    kept: int           # transactions that stay because another active import holds them too


def undo_import(ws: Workspace, import_id: str) -> UndoResult:
    """Compensate an import: the transactions only it held leave the projections; the log keeps everything.

    A transaction that another active import also holds stays. The event names the
    ids that leave, so every consumer of the log removes the same ones.
    """
    row = ws.conn.execute("SELECT undone FROM imports WHERE import_id = ?", (import_id,)).fetchone()
    if row is None:
        raise InputError(f"no import with id {import_id!r}", "list imports with `fin events --type import.recorded`")
    if row[0]:
        raise InputError(f"import {import_id} is already undone", "nothing to do")
    with ws.lock(), db.transaction(ws.conn):
        projections.catch_up(ws.conn)
        owned = ws.conn.execute(
            "SELECT id, EXISTS (SELECT 1 FROM holdings h WHERE h.id = t.id AND h.import_id != t.import_id)"
            " FROM transactions t WHERE import_id = ? ORDER BY id", (import_id,)).fetchall()
        removed = [txn_id for txn_id, held in owned if not held]
        ev.append(ws.conn, [Event("import.undone", f"undo:{import_id}", ev.now()[:10], "user",
                                  {"import_id": import_id, "removed": removed})])
        projections.catch_up(ws.conn)
    return UndoResult(len(removed), len(owned) - len(removed))


def status(ws: Workspace) -> dict:
    q = lambda sql, *a: ws.conn.execute(sql, a).fetchone()[0]  # noqa: E731
    last = ws.conn.execute(
        "SELECT import_id, file, recorded_at, added FROM imports ORDER BY seq DESC LIMIT 1").fetchone()
    return {
        "workspace": str(ws.home),
        "schema_version": db.schema_version(ws.conn),
        "events": ev.head(ws.conn)[0],
        "transactions": q("SELECT count(*) FROM transactions WHERE replaced_by IS NULL"),
        "accounts": q("SELECT count(DISTINCT account) FROM transactions"),
        "imports": q("SELECT count(*) FROM imports WHERE undone = 0"),
        "possible_duplicates": q("SELECT count(*) FROM possible_duplicates"),
        "quarantined": q("SELECT count(*) FROM quarantine"),
        "last_import": ({"import_id": last[0], "file": last[1], "recorded_at": last[2], "added": last[3]}
                        if last else None),
    }


def list_events(ws: Workspace, type_: str | None, limit: int) -> list[dict]:
    sql = "SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload FROM events"
    args: tuple = ()
    if type_:
        sql += " WHERE type = ?"
        args = (type_,)
    sql += " ORDER BY seq DESC LIMIT ?"
    rows = ws.conn.execute(sql, args + (limit,)).fetchall()
    return [dict(zip(("seq", "event_id", "type", "version", "occurred_at", "recorded_at", "source", "payload"), r))
            for r in reversed(rows)]


TRANSACTION_FIELDS = ("id", "account", "date", "amount", "currency", "description", "merchant",
                      "category", "category_source", "confidence", "import_id", "pending", "transfer_id",
                      "bank_category")


def _transaction_filter(account: str | None = None, since: str | None = None, until: str | None = None,
                        category: str | None = None, uncategorized: bool = False, review: bool = False,
                        search: str | None = None) -> tuple[str, list]:
    """The WHERE clause (and its arguments) shared by listing and counting transactions."""
    where, args = ["replaced_by IS NULL"], []
    for clause, value in (("account = ?", account), ("date >= ?", since), ("date <= ?", until),
                          ("category = ?", category)):
        if value:
            where.append(clause)
            args.append(value)
    if uncategorized:
        where.append("category IS NULL")
    if review:
        where.append("review = 1")
    if search:
        where.append("(description LIKE ? OR merchant LIKE ?)")
        args += [f"%{search}%"] * 2
    return " AND ".join(where), args


ORDER = ("date", "account", "import_id", "line")


def list_transactions(ws: Workspace, *, limit: int | None = None, newest_first: bool = False, **filters):
    """Yield transactions as the JSON contract describes them (amount as a signed decimal string).

    Oldest first unless `newest_first`; with a `limit`, only the newest `limit` transactions
    (in the same order). Filters: account, since, until, category, uncategorized, review, search."""
    where, args = _transaction_filter(**filters)
    fields = TRANSACTION_FIELDS + (("suggestion",) if filters.get("review") else ())
    ascending, descending = ", ".join(ORDER), ", ".join(f"{c} DESC" for c in ORDER)
    sql = f"SELECT {', '.join(fields)}, line FROM transactions WHERE {where}"
    if limit:
        sql += f" ORDER BY {descending} LIMIT ?"
        args = [*args, limit]
        if not newest_first:
            sql = f"SELECT * FROM ({sql}) ORDER BY {ascending}"
    else:
        sql += f" ORDER BY {descending if newest_first else ascending}"
    for row in ws.conn.execute(sql, args):
        record = dict(zip(fields, row))
        record["amount"] = format_minor(record["amount"], record["currency"])
        record["pending"] = bool(record["pending"])
        yield record


def count_transactions(ws: Workspace, **filters) -> int:
    """How many transactions `list_transactions` would yield without a limit."""
    where, args = _transaction_filter(**filters)
    return ws.conn.execute(f"SELECT count(*) FROM transactions WHERE {where}", args).fetchone()[0]


def list_accounts(ws: Workspace) -> list[dict]:
    # Summed in two parts so that SQLite's 64-bit sum cannot overflow: amounts are at most
    # money.MAX_MINOR = 10^15, so each part stays below 10^9 per row; Python joins them exactly.
    rows = ws.conn.execute(
        "SELECT account, currency, count(*), sum(amount / 1000000000), sum(amount % 1000000000), min(date), max(date)"
        " FROM transactions WHERE replaced_by IS NULL GROUP BY account, currency ORDER BY account, currency").fetchall()
    return [{"account": a, "currency": c, "transactions": n, "balance_change": format_minor(high * 10**9 + low, c),
             "first_date": lo, "last_date": hi} for a, c, n, high, low, lo, hi in rows]


IMPORT_FIELDS = ("import_id", "file", "account", "date_from", "date_to", "rows", "added", "recorded_at", "status")


def list_imports(ws: Workspace) -> list[dict]:
    """Every import, oldest first: what it read, what it added, and whether it was undone."""
    rows = ws.conn.execute(
        "SELECT import_id, file, account, date_from, date_to, rows, added, recorded_at,"
        " CASE WHEN undone THEN 'undone' ELSE 'active' END FROM imports ORDER BY recorded_at, import_id").fetchall()
    return [dict(zip(IMPORT_FIELDS, row)) for row in rows]
