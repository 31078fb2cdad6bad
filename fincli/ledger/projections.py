"""Projections: tables derived from the event log, rebuilt from it at will.

Each projection keeps a cursor (the last seq it applied) written in the same
transaction as its changes, so catching up is exactly-once and restartable.
Events are applied by reading them back from the log after the cursor, through
one handler per type; an import's rows go through `insert_transactions`, the
same function the replay's handler uses, so a rebuild gives the same state.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Callable, Iterable

from ..merchant import corrections as merchant_corrections, resolve
from ..store import cursors, log as ev
from ..store.connection import run_statements
from ..store.log import Event, Rejected
from ..store.migrations import Migrations

TABLES = {
    "transactions": """CREATE TABLE transactions (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, date TEXT NOT NULL,
        amount INTEGER NOT NULL, currency TEXT NOT NULL, description TEXT NOT NULL,
        merchant TEXT NOT NULL, category TEXT, category_source TEXT, confidence REAL,
        import_id TEXT NOT NULL, line INTEGER NOT NULL, key TEXT NOT NULL,
        bank_id TEXT, balance INTEGER, pending INTEGER NOT NULL DEFAULT 0,
        replaced_by TEXT, transfer_id TEXT, seq INTEGER NOT NULL,
        suggestion TEXT, review INTEGER NOT NULL DEFAULT 0, rule_id TEXT, bank_category TEXT,
        merchant_key TEXT NOT NULL, resolver_name TEXT NOT NULL, merchant_name TEXT NOT NULL)""",
    "imports": """CREATE TABLE imports (
        import_id TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT NOT NULL,
        account TEXT NOT NULL, rows INTEGER NOT NULL, added INTEGER NOT NULL,
        date_from TEXT, date_to TEXT, recorded_at TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL)""",
    "possible_duplicates": """CREATE TABLE possible_duplicates (
        id TEXT NOT NULL, of TEXT NOT NULL, reason TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (id, of))""",
    "profiles": """CREATE TABLE profiles (
        name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, layout TEXT NOT NULL, seq INTEGER NOT NULL)""",
    "labels": """CREATE TABLE labels (
        id TEXT PRIMARY KEY, category TEXT NOT NULL, labelled_at TEXT NOT NULL, seq INTEGER NOT NULL)""",
    "rules": """CREATE TABLE rules (
        id TEXT PRIMARY KEY, pattern TEXT NOT NULL, category TEXT NOT NULL, regex INTEGER NOT NULL,
        added_at TEXT NOT NULL, seq INTEGER NOT NULL)""",
    "holdings": """CREATE TABLE holdings (
        import_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (id, import_id))""",
    "possible_transfers": """CREATE TABLE possible_transfers (
        out_id TEXT NOT NULL, in_id TEXT NOT NULL, reason TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (out_id, in_id))""",
    "quarantine": """CREATE TABLE quarantine (
        seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, type TEXT NOT NULL, reason TEXT NOT NULL)""",
}
INDEXES = [
    "CREATE INDEX transactions_account_date ON transactions(account, date)",
    "CREATE INDEX transactions_import ON transactions(import_id)",
    "CREATE INDEX imports_sha ON imports(sha256, account)",
    "CREATE INDEX holdings_import ON holdings(import_id)",
]
CURSOR = "core"
MIGRATIONS = Migrations("ledger")


def create_tables(conn: sqlite3.Connection, names: list[str] | None = None) -> None:
    """Create projection tables (all of them, or the named ones) with their indexes."""
    names = list(TABLES) if names is None else names
    run_statements(conn, [TABLES[n] for n in names] + [i for i in INDEXES if i.split(" ON ")[1].split("(")[0] in names])


# --- migrations: the steps that brought workspaces to this shape (legacy: the numbered migration) ----

@MIGRATIONS(legacy=2)
def create_projections(conn: sqlite3.Connection) -> None:
    create_tables(conn, ["transactions", "imports", "possible_duplicates", "profiles", "quarantine"])


@MIGRATIONS(legacy=3)
def create_labels(conn: sqlite3.Connection) -> None:
    create_tables(conn, ["labels"])


def _rebuild_tables(conn: sqlite3.Connection) -> None:
    """Projections are caches of the log: recreate them in their current shape and replay."""
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    create_tables(conn)
    cursors.reset(conn, CURSOR)
    catch_up(conn)


@MIGRATIONS(legacy=4)
def categorization(conn: sqlite3.Connection) -> None:
    """Transactions gain review, suggestion and rule columns, and rules get a table."""
    _rebuild_tables(conn)


@MIGRATIONS(legacy=6)
def bank_category(conn: sqlite3.Connection) -> None:
    """Transactions keep the bank's own category column, where the export has one; projections
    gain which active imports hold each transaction and the possible transfers."""
    _rebuild_tables(conn)


@MIGRATIONS()
def merchant_corrections_columns(conn: sqlite3.Connection) -> None:
    """Transactions keep the resolver's merchant key and name beside the effective merchant (the user's
    merges, splits and renames applied) and its display name."""
    _rebuild_tables(conn)


# --- handlers: one per event type; each takes a batch of events of that type -------------

def _transactions_imported(conn, batch: list[Event]) -> None:
    insert_transactions(conn, [
        (p["id"], p["account"], p["date"], p["amount"], p["currency"], p["description"], p["import_id"],
         p["line"], p["key"], p.get("bank_id"), p.get("balance"), int(bool(p.get("pending"))),
         p.get("bank_category"), p.get("payee"), e.seq)
        for e in batch for p in (e.payload,)])


def insert_transactions(conn, rows: list[tuple]) -> None:
    """New rows of imported transactions, each (id, account, date, amount, currency, description,
    import_id, line, key, bank_id, balance, pending, bank_category, payee, seq) in seq order.

    An id that is already live keeps its first import (replay stays deterministic).
    """
    values = []
    for row in rows:
        merchant = resolve(row[5], row[13])
        values.append((*row[:13], row[-1], merchant.key, merchant.key, merchant.name, merchant.name))
    conn.executemany(
        "INSERT OR IGNORE INTO transactions (id, account, date, amount, currency, description, import_id,"
        " line, key, bank_id, balance, pending, bank_category, seq, merchant, merchant_key, resolver_name,"
        " merchant_name) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values)
    if rows:
        _correct_merchants(conn, rows[0][-1], rows[-1][-1])
        _restore_labels(conn, rows[0][-1], rows[-1][-1])


def _correct_merchants(conn, lo: int | None = None, hi: int | None = None) -> None:
    """Apply the user's merchant corrections (those of the whole log) to the rows with seq in [lo, hi],
    or to every row: the effective key from the resolver's key and the description, then its name.

    Corrections are read from the log, not from this projection, so a row gets the same
    merchant whether it was projected before or after a correction event.
    """
    corrections = merchant_corrections.load(conn)
    if not corrections:
        return
    conn.create_function("fin_effective_merchant", 2, corrections.key)
    conn.create_function("fin_merchant_display", 2, corrections.name)
    where, args = ("WHERE seq BETWEEN ? AND ?", (lo, hi)) if lo is not None else ("", ())
    conn.execute(f"UPDATE transactions SET merchant = fin_effective_merchant(merchant_key, description) {where}",
                 args)
    conn.execute(f"UPDATE transactions SET merchant_name = fin_merchant_display(merchant, resolver_name) {where}",
                 args)


def apply_imported(conn, rows: list[tuple]) -> None:
    """Project transaction.imported events just appended, from the rows they were built from.

    The live twin of the handler: the import hands over the same fields it wrote
    into the events instead of having them decoded again. Events that do not
    directly follow the cursor are read back from the log instead.
    """
    if not rows:
        return
    if cursor(conn) != rows[0][-1] - 1 or ev.head(conn)[0] != rows[-1][-1]:
        catch_up(conn)
        return
    insert_transactions(conn, rows)
    cursors.advance(conn, CURSOR, rows[0][-1] - 1, rows[-1][-1])


def _restore_labels(conn, lo: int, hi: int) -> None:
    """A transaction imported again (after an undo) gets back the category the user gave it.

    Walks the labels (`+labels.id` keeps SQLite from walking the transactions
    instead, which have no index on seq), and only when there are any.
    """
    if conn.execute("SELECT 1 FROM labels LIMIT 1").fetchone() is None:
        return
    conn.execute("UPDATE transactions SET category = labels.category, category_source = 'user' FROM labels"
                 " WHERE transactions.id = +labels.id AND transactions.seq BETWEEN ? AND ?"
                 " AND transactions.category_source IS NULL", (lo, hi))


def _transaction_posted(conn, batch: list[Event]) -> None:
    conn.executemany("UPDATE transactions SET replaced_by = ?, seq = ? WHERE id = ?",
                     [(e.payload["id"], e.seq, e.payload["pending_id"]) for e in batch])


def _duplicate_suspected(conn, batch: list[Event]) -> None:
    conn.executemany("INSERT OR REPLACE INTO possible_duplicates VALUES (?,?,?,?)",
                     [(e.payload["id"], e.payload["of"], e.payload["reason"], e.seq) for e in batch])


def _transfer_matched(conn, batch: list[Event]) -> None:
    for e in batch:
        p = e.payload
        conn.execute("UPDATE transactions SET transfer_id = ?, seq = ? WHERE id IN (?, ?)",
                     (p["transfer_id"], e.seq, p["out_id"], p["in_id"]))
        conn.execute("DELETE FROM possible_transfers WHERE out_id IN (?, ?) OR in_id IN (?, ?)",
                     (p["out_id"], p["in_id"], p["out_id"], p["in_id"]))


def _transfer_possible(conn, batch: list[Event]) -> None:
    conn.executemany("INSERT OR REPLACE INTO possible_transfers VALUES (?,?,?,?)",
                     [(e.payload["out_id"], e.payload["in_id"], e.payload["reason"], e.seq) for e in batch])


def _import_recorded(conn, batch: list[Event]) -> None:
    """An import, and the rows it holds that earlier imports had already added (`held`).

    A transaction's `import_id` is the import that holds it first (the one that added
    it); `holdings` lists the other active imports whose files also hold it. A log
    written before `held` existed has none: each import holds only what it added.
    """
    conn.executemany(
        "INSERT OR REPLACE INTO imports VALUES (?,?,?,?,?,?,?,?,?,0,?)",
        [(p["import_id"], p["file"], p["sha256"], p["account"], p["rows"], p["added"],
          p.get("date_from"), p.get("date_to"), e.recorded_at, e.seq) for e in batch for p in (e.payload,)])
    conn.executemany("INSERT OR IGNORE INTO holdings VALUES (?,?,?)",
                     [(e.payload["import_id"], txn_id, e.seq) for e in batch for txn_id in e.payload.get("held", ())])


def _import_undone(conn, batch: list[Event]) -> None:
    """Compensation: the rows that only this import held leave the projections; the log keeps them.

    A row another active import also holds stays, and from now on belongs to the
    earliest of those imports (its `import_id` moves there).
    """
    for e in batch:
        import_id = e.payload["import_id"]
        conn.execute("DELETE FROM holdings WHERE import_id = ?", (import_id,))
        conn.execute(
            "UPDATE transactions SET import_id = h.import_id, seq = ?"
            " FROM (SELECT id, import_id, min(seq) FROM holdings GROUP BY id) AS h"
            " WHERE transactions.id = h.id AND transactions.import_id = ?", (e.seq, import_id))
        conn.execute("DELETE FROM holdings WHERE EXISTS (SELECT 1 FROM transactions t"
                     " WHERE t.id = holdings.id AND t.import_id = holdings.import_id AND t.seq = ?)", (e.seq,))
        gone = "SELECT id FROM transactions WHERE import_id = ?"
        conn.execute(f"UPDATE transactions SET replaced_by = NULL, seq = ? WHERE replaced_by IN ({gone})",
                     (e.seq, import_id))
        conn.execute(
            "UPDATE transactions SET transfer_id = NULL, seq = ? WHERE transfer_id IN "
            "(SELECT transfer_id FROM transactions WHERE import_id = ? AND transfer_id IS NOT NULL)",
            (e.seq, import_id))
        conn.execute(f"DELETE FROM possible_duplicates WHERE id IN ({gone}) OR of IN ({gone})",
                     (import_id, import_id))
        conn.execute(f"DELETE FROM possible_transfers WHERE out_id IN ({gone}) OR in_id IN ({gone})",
                     (import_id, import_id))
        conn.execute("DELETE FROM transactions WHERE import_id = ?", (import_id,))
        conn.execute("UPDATE imports SET undone = 1, seq = ? WHERE import_id = ?", (e.seq, import_id))


def _profile_saved(conn, batch: list[Event]) -> None:
    conn.executemany("INSERT OR REPLACE INTO profiles VALUES (?,?,?,?)",
                     [(p["name"], p["fingerprint"], ev.canonical(p["layout"]), e.seq)
                      for e in batch for p in (e.payload,)])


def _label_set(conn, batch: list[Event]) -> None:
    """The user's category for a transaction: the latest label wins and sets the transaction's category."""
    for e in batch:
        p = e.payload
        conn.execute("INSERT OR REPLACE INTO labels VALUES (?,?,?,?)", (p["id"], p["category"], e.occurred_at, e.seq))
        conn.execute("UPDATE transactions SET category = ?, category_source = 'user', confidence = NULL,"
                     " suggestion = NULL, review = 0, rule_id = NULL, seq = ? WHERE id = ?",
                     (p["category"], e.seq, p["id"]))


def _rule_added(conn, batch: list[Event]) -> None:
    conn.executemany("INSERT OR REPLACE INTO rules VALUES (?,?,?,?,?,?)",
                     [(e.payload["id"], e.payload["pattern"], e.payload["category"], int(e.payload["regex"]),
                       e.occurred_at, e.seq) for e in batch])


def _rule_removed(conn, batch: list[Event]) -> None:
    conn.executemany("DELETE FROM rules WHERE id = ?", [(e.payload["id"],) for e in batch])


def _transactions_categorized(conn, batch: list[Event]) -> None:
    """Rule and model results; a transaction the user labelled keeps the user's category."""
    conn.executemany(
        "UPDATE transactions SET category = ?, category_source = ?, confidence = ?, suggestion = ?,"
        " review = ?, rule_id = ?, seq = ? WHERE id = ? AND category_source IS NOT 'user'",
        [(item.get("category"), item.get("source"), item.get("confidence"), item.get("suggestion"),
          int(item.get("category") is None), item.get("rule"), e.seq, item["id"])
         for e in batch for item in e.payload["items"]])


def _merchant_corrected(conn, batch: list[Event]) -> None:
    """A merge, split or rename: every transaction's merchant is worked out again from its resolver key.

    Rows keep their `seq`: a replay gives them their corrected merchant when they are inserted."""
    _correct_merchants(conn)


def _category_replaced(conn, batch: list[Event]) -> None:
    """A category renamed or merged: its labels, rules and transactions (category or suggestion) take the
    new name. Rows keep their `seq`; later uses of the old name are new uses (fincli/categories.py)."""
    for e in batch:
        old, new = e.payload["from"], e.payload.get("to") or e.payload["into"]
        conn.execute("UPDATE labels SET category = ? WHERE category = ?", (new, old))
        conn.execute("UPDATE rules SET category = ? WHERE category = ?", (new, old))
        conn.execute("UPDATE transactions SET category = ? WHERE category = ?", (new, old))
        conn.execute("UPDATE transactions SET suggestion = ? WHERE suggestion = ?", (new, old))


def _no_projection(conn, batch: list[Event]) -> None:
    """Events read from the log directly by their consumers (service runs, artifact records)."""


HANDLERS: dict[str, Callable[[sqlite3.Connection, list[Event]], None]] = {
    "transaction.imported": _transactions_imported,
    "transaction.posted": _transaction_posted,
    "transaction.duplicate_suspected": _duplicate_suspected,
    "transfer.matched": _transfer_matched,
    "transfer.possible": _transfer_possible,
    "import.recorded": _import_recorded,
    "import.undone": _import_undone,
    "profile.saved": _profile_saved,
    "label.set": _label_set,
    "rule.added": _rule_added,
    "rule.removed": _rule_removed,
    "transactions.categorized": _transactions_categorized,
    "merchant.merged": _merchant_corrected,
    "merchant.split": _merchant_corrected,
    "merchant.renamed": _merchant_corrected,
    "service.ran": _no_projection,
    "service.failed": _no_projection,
    "model.trained": _no_projection,
    "service.result": _no_projection,
    # bills are read from their events (fincli/services/bills.py)
    "bills.detected": _no_projection,
    "bill.alert": _no_projection,
    "bills.alerts_shown": _no_projection,
    "bill.confirmed": _no_projection,
    "bill.ignored": _no_projection,
    "bill.renamed": _no_projection,
    "artifact.saved": _no_projection,
    "fraud.alerted": _no_projection,          # read from the log by fincli/services/fraud.py
    "fraud.feedback": _no_projection,
    "budget.set": _no_projection,
    "category.added": _no_projection,          # read from the log by fincli/categories.py
    "category.renamed": _category_replaced,
    "category.merged": _category_replaced,
    "spending.forecast": _no_projection,
}


# --- applying ---------------------------------------------------------------------------

def cursor(conn: sqlite3.Connection) -> int:
    return cursors.position(conn, CURSOR)


def _apply_decoded(conn: sqlite3.Connection, items: Iterable[Event | Rejected]) -> int:
    """Apply decoded events in seq order (consecutive events of one type as one batch)."""
    rejected = 0
    run: list[Event] = []

    def flush():
        if run:
            HANDLERS[run[0].type](conn, run)
            run.clear()

    for item in items:
        if isinstance(item, Rejected):
            flush()
            conn.execute("INSERT OR REPLACE INTO quarantine VALUES (?,?,?,?)",
                         (item.seq, item.event_id, item.type, item.reason))
            rejected += 1
            continue
        if run and (run[0].type != item.type or len(run) >= 20_000):
            flush()
        run.append(item)
    flush()
    return rejected


# Imported transactions are nearly all of a log. Runs of them are applied inside SQLite
# (validated and projected by one statement) instead of being decoded row by row in
# Python; whatever that statement does not accept is decoded in Python, which
# quarantines it with the reason. Both paths produce the same rows.
_BULK = ("transaction.imported", ev.TYPES["transaction.imported"].version)
_BULK_VALID = ev.valid_sql(_BULK[0])
# the resolver's merchant key and name (each asked twice per row; connection.py answers the repeat from memory)
_KEY = "fin_merchant(payload ->> '$.description', payload ->> '$.payee')"
_NAME = "fin_merchant_name(payload ->> '$.description', payload ->> '$.payee')"


def _bulk_transactions(conn: sqlite3.Connection, lo: int, hi: int) -> int:
    inserted = conn.execute(
        "INSERT OR IGNORE INTO transactions (id, account, date, amount, currency, description, merchant_key,"
        " merchant, resolver_name, merchant_name, import_id, line, key, bank_id, balance, pending, bank_category, seq)"
        " SELECT payload ->> '$.id', payload ->> '$.account', payload ->> '$.date', payload ->> '$.amount',"
        f" payload ->> '$.currency', payload ->> '$.description', {_KEY}, {_KEY}, {_NAME}, {_NAME},"
        " payload ->> '$.import_id', payload ->> '$.line', payload ->> '$.key', payload ->> '$.bank_id',"
        " payload ->> '$.balance', coalesce(payload ->> '$.pending', 0), payload ->> '$.bank_category', seq"
        f" FROM events WHERE seq BETWEEN ? AND ? AND {_BULK_VALID} ORDER BY seq RETURNING seq", (lo, hi)).fetchall()
    _correct_merchants(conn, lo, hi)
    _restore_labels(conn, lo, hi)
    if len(inserted) == hi - lo + 1:
        return 0
    # the rest: invalid events (quarantined with the reason) and repeated ids (ignored again)
    done = {seq for seq, in inserted}
    rest = [seq for seq in range(lo, hi + 1) if seq not in done]
    rows = conn.execute("SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload FROM events"
                        " WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq", (json.dumps(rest),))
    return _apply_decoded(conn, (ev.decode(*row) for row in rows.fetchall()))


def catch_up(conn: sqlite3.Connection) -> int:
    """Apply every event after the cursor, in seq order, inside the caller's transaction.

    Returns how many events were quarantined.
    """
    position = cursor(conn)
    runs = conn.execute(
        "SELECT min(seq), max(seq), bulk FROM ("
        "  SELECT seq, bulk, seq - row_number() OVER (PARTITION BY bulk ORDER BY seq) AS island FROM ("
        "    SELECT seq, (type = ? AND version = ?) AS bulk FROM events WHERE seq > ?))"
        " GROUP BY bulk, island ORDER BY 1", (*_BULK, position)).fetchall()
    rejected = 0
    for lo, hi, bulk in runs:
        if bulk:
            rejected += _bulk_transactions(conn, lo, hi)
        else:
            rejected += _apply_decoded(conn, ev.read(conn, after=lo - 1, upto=hi))
    if runs:
        cursors.advance(conn, CURSOR, position, runs[-1][1])
    return rejected


def replay(conn: sqlite3.Connection) -> int:
    """Drop every projection row and apply the whole log again; returns how many were quarantined."""
    clear(conn)
    return catch_up(conn)


def clear(conn: sqlite3.Connection) -> None:
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    cursors.reset(conn, CURSOR)


def digest(conn: sqlite3.Connection) -> str:
    """A hash of every projection row, in primary-key order."""
    h = hashlib.sha256()
    for table in TABLES:
        h.update(f"\x1e{table}\x1e".encode())
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        while rows := cursor.fetchmany(10_000):
            h.update(repr(rows).encode("utf-8"))
    return h.hexdigest()


def first_difference(live: sqlite3.Connection, rebuilt: sqlite3.Connection) -> str | None:
    """Name the first projection row that differs between two databases, with its last seq."""
    for table in TABLES:
        a = live.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        b = rebuilt.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for x, y in zip(a, b):
            if x != y:
                return f"{table} row {x[0]!r} differs (live {x}, rebuilt {y})"
        if len(a) != len(b):
            return f"{table} has {len(a)} rows live but {len(b)} rebuilt"
    return None
