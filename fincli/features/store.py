"""The materialized feature history, kept incrementally by log position.

`feature_txns` holds one row per visibility interval of an imported transaction: the
transaction.imported event (its seq orders it with its date), the log position from
which it was visible (`visible_from`) and the one at which it was retracted
(`visible_until`: import.undone, or transaction.posted replacing a pending row). An
observation with knowledge cutoff c sees a row iff visible_from <= c < visible_until.
A pending row brought back by undoing the import of its posted version gets a new
interval. `superseded` is 0 while the row's id is present in the transactions projection,
else the seq of the event that ended that. `feature_labels` holds every label.set event. Both are caches of the log: the
cursor `features` in projection_cursors is written in the same transaction as the rows,
`rebuild` replays them from scratch, and `digest` proves the two paths agree.
"""

from __future__ import annotations

import hashlib
import sqlite3

from .. import db, events as ev, projections

CURSOR = "features"
TABLES = {
    "feature_txns": """CREATE TABLE feature_txns (
        seq INTEGER NOT NULL, visible_from INTEGER NOT NULL, visible_until INTEGER,
        retracted_by TEXT, superseded INTEGER NOT NULL DEFAULT 0,
        id TEXT NOT NULL, import_id TEXT NOT NULL, account TEXT NOT NULL, date TEXT NOT NULL,
        day INTEGER NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
        description TEXT NOT NULL, merchant TEXT NOT NULL)""",
    "feature_labels": """CREATE TABLE feature_labels (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, category TEXT NOT NULL, occurred_at TEXT NOT NULL)""",
}
INDEXES = [
    # one index for lookups by id and for the projection's rule: an id that is present (superseded = 0)
    # keeps its first import; a row that stops being present records the seq of the event that did it
    # (negative when a pending row was brought back as a new interval)
    "CREATE UNIQUE INDEX feature_txns_id ON feature_txns(id, superseded)",
    "CREATE INDEX feature_labels_id ON feature_labels(id, seq)",
]
_DAY = "CAST(julianday({}) - 2440587.5 AS INTEGER)"     # days since 1970-01-01
_PAYLOAD_DAY = _DAY.format("payload ->> '$.date'")


def create_tables(conn: sqlite3.Connection) -> None:
    """The feature tables (created by the workspace's migrations)."""
    db.run_statements(conn, [*TABLES.values(), *INDEXES])


def cursor(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM projection_cursors WHERE name = ?", (CURSOR,)).fetchone()
    return row[0] if row else 0


def catch_up(conn: sqlite3.Connection) -> int:
    """Materialize every event after the cursor, inside the caller's write transaction; returns the head."""
    position, head = cursor(conn), ev.head(conn)[0]
    if head <= position:
        return position
    runs = conn.execute(
        "SELECT min(seq), max(seq), bulk FROM ("
        "  SELECT seq, bulk, seq - row_number() OVER (PARTITION BY bulk ORDER BY seq) AS island FROM ("
        "    SELECT seq, (type = ? AND version = ?) AS bulk FROM events WHERE seq > ? AND seq <= ?))"
        " GROUP BY bulk, island ORDER BY 1", (*projections._BULK, position, head)).fetchall()
    for lo, hi, bulk in runs:
        if bulk:
            _bulk_imported(conn, lo, hi)
        else:
            _apply(conn, ev.read(conn, after=lo - 1, upto=hi))
    conn.execute("INSERT OR REPLACE INTO projection_cursors VALUES (?, ?)", (CURSOR, head))
    return head


def _bulk_imported(conn, lo: int, hi: int) -> None:
    # events the statement must not accept are found once (validation is the costly part of the scan)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS feature_rejects (seq INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM feature_rejects")
    conn.execute(f"INSERT INTO feature_rejects SELECT seq FROM events WHERE seq BETWEEN ? AND ?"
                 f" AND NOT ({projections._BULK_VALID})", (lo, hi))
    conn.execute(
        "INSERT OR IGNORE INTO feature_txns (seq, visible_from, id, import_id, account, date, day, amount,"
        " currency, description, merchant)"
        " SELECT seq, seq, payload ->> '$.id', payload ->> '$.import_id', payload ->> '$.account',"
        f" payload ->> '$.date', {_PAYLOAD_DAY},"
        " payload ->> '$.amount', payload ->> '$.currency', payload ->> '$.description',"
        " fin_merchant(payload ->> '$.description')"
        " FROM events WHERE seq BETWEEN ? AND ? AND seq NOT IN (SELECT seq FROM feature_rejects) ORDER BY seq",
        (lo, hi))
    # whatever the statement did not accept is decoded in Python (quarantined there, skipped here)
    rest = conn.execute("SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload"
                        " FROM events WHERE seq IN (SELECT seq FROM feature_rejects) ORDER BY seq").fetchall()
    conn.execute("DELETE FROM feature_rejects")
    _apply(conn, (ev.decode(*row) for row in rest))


def _apply(conn, items) -> None:
    for e in items:
        if isinstance(e, ev.Rejected):
            continue
        handler = _HANDLERS.get(e.type)
        if handler:
            handler(conn, e)


def _imported(conn, e: ev.Event) -> None:
    from ..merchant import normalize

    p = e.payload
    conn.execute(
        "INSERT OR IGNORE INTO feature_txns (seq, visible_from, id, import_id, account, date, day, amount,"
        f" currency, description, merchant) VALUES (?,?,?,?,?,?,{_DAY.format('?')},?,?,?,?)",
        (e.seq, e.seq, p["id"], p["import_id"], p["account"], p["date"], p["date"], p["amount"],
         p["currency"], p["description"], normalize(p["description"])))


def _posted(conn, e: ev.Event) -> None:
    conn.execute("UPDATE feature_txns SET retracted_by = ?, visible_until = coalesce(visible_until, ?)"
                 " WHERE id = ? AND superseded = 0", (e.payload["id"], e.seq, e.payload["pending_id"]))


def _undone(conn, e: ev.Event) -> None:
    """Pending rows replaced by this import's rows come back (a new interval); its rows leave."""
    import_id = e.payload["import_id"]
    ids = "SELECT id FROM feature_txns WHERE import_id = ? AND superseded = 0"
    back = conn.execute(f"SELECT rowid FROM feature_txns WHERE superseded = 0 AND retracted_by IN ({ids})"
                        " AND visible_until IS NOT NULL ORDER BY seq", (import_id,)).fetchall()
    for (rowid,) in back:
        conn.execute("UPDATE feature_txns SET superseded = ? WHERE rowid = ?", (-e.seq, rowid))
        conn.execute(
            "INSERT INTO feature_txns SELECT seq, ?, NULL, NULL, 0, id, import_id, account, date, day, amount,"
            " currency, description, merchant FROM feature_txns WHERE rowid = ?", (e.seq, rowid))
    conn.execute("UPDATE feature_txns SET visible_until = coalesce(visible_until, ?), superseded = ?"
                 " WHERE import_id = ? AND superseded = 0", (e.seq, e.seq, import_id))


def _label(conn, e: ev.Event) -> None:
    conn.execute("INSERT OR REPLACE INTO feature_labels VALUES (?,?,?,?)",
                 (e.seq, e.payload["id"], e.payload["category"], e.occurred_at))


_HANDLERS = {"transaction.imported": _imported, "transaction.posted": _posted,
             "import.undone": _undone, "label.set": _label}


def clear(conn: sqlite3.Connection) -> None:
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM projection_cursors WHERE name = ?", (CURSOR,))


def digest(conn: sqlite3.Connection) -> str:
    """A hash of every materialized row in key order, and the cursor."""
    h = hashlib.sha256(f"cursor {cursor(conn)}".encode())
    for table, order in (("feature_txns", "seq, visible_from, superseded"), ("feature_labels", "seq")):
        h.update(f"\x1e{table}\x1e".encode())
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
        while chunk := rows.fetchmany(20_000):
            h.update(repr(chunk).encode("utf-8"))
    return h.hexdigest()


def refresh(ws) -> int:
    """Bring the materialized history up to the head of the log; returns the head.

    Inside a caller's write transaction (an import scoring what it just appended) the rows
    join that transaction; otherwise they get their own.
    """
    if ws.conn.in_transaction:
        return catch_up(ws.conn)
    with db.transaction(ws.conn):
        return catch_up(ws.conn)


def rebuild(ws, verify: bool = False) -> tuple[int, str, str | None]:
    """Drop the materialized rows and replay the log; with verify, first digest the incremental state.

    Returns (head, digest after rebuild, digest of the incremental state or None).
    """
    with ws.lock(), db.transaction(ws.conn):
        before = None
        if verify:
            catch_up(ws.conn)
            before = digest(ws.conn)
        clear(ws.conn)
        head = catch_up(ws.conn)
        return head, digest(ws.conn), before
