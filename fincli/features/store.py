"""The materialized feature history, kept incrementally by log position.

`feature_txns` holds one row per visibility interval of an imported transaction: the
transaction.imported event (its seq orders it with its date), the log position from
which it was visible (`visible_from`) and the one at which it was retracted
(`visible_until`: import.undone, or transaction.posted replacing a pending row). An
observation with knowledge cutoff c sees a row iff visible_from <= c < visible_until.
A pending row brought back by undoing the import of its posted version gets a new
interval. `superseded` is 0 while the row's id is present in the transactions projection,
else the seq of the event that ended that. Each row names its merchant+currency and
account+currency groups by integer codes (`feature_groups`: dense per kind, given in
order of first appearance), so the computation never factorizes strings.
`pending` marks a row imported as pending (a posted row ends its interval). The effective
category and transfers, as of any cutoff: `feature_labels` holds every label.set event,
`feature_categorizations` every item of every transactions.categorized event (its category
NULL when the item gives none), and `feature_transfers` every transfer.matched link with the
import.undone that ended it (`ended`: a side of it left). Category renames and merges apply to
the labels and categorizations recorded before them. All are caches of the log: the
cursor `features` in projection_cursors is written in the same transaction as the rows,
`rebuild` replays them from scratch, and `digest` proves the two paths agree.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from ..merchant import corrections as merchant_corrections, resolve
from ..store import connection as db, cursors, log as ev
from ..store.migrations import Migrations

CURSOR = "features"
TABLES = {
    "feature_txns": """CREATE TABLE feature_txns (
        seq INTEGER NOT NULL, visible_from INTEGER NOT NULL, visible_until INTEGER,
        retracted_by TEXT, superseded INTEGER NOT NULL DEFAULT 0,
        id TEXT NOT NULL, import_id TEXT NOT NULL, account TEXT NOT NULL, date TEXT NOT NULL,
        day INTEGER NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL, description TEXT NOT NULL,
        merchant_group INTEGER NOT NULL, account_group INTEGER NOT NULL, bank_category TEXT,
        pending INTEGER NOT NULL DEFAULT 0)""",
    "feature_groups": """CREATE TABLE feature_groups (
        kind TEXT NOT NULL, code INTEGER NOT NULL, name TEXT NOT NULL, currency TEXT NOT NULL,
        PRIMARY KEY (kind, code), UNIQUE (kind, name, currency))""",
    "feature_labels": """CREATE TABLE feature_labels (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL, category TEXT NOT NULL, occurred_at TEXT NOT NULL)""",
    "feature_categorizations": """CREATE TABLE feature_categorizations (
        seq INTEGER NOT NULL, item INTEGER NOT NULL, id TEXT NOT NULL, category TEXT, PRIMARY KEY (seq, item))""",
    "feature_transfers": """CREATE TABLE feature_transfers (
        seq INTEGER PRIMARY KEY, transfer_id TEXT NOT NULL, out_id TEXT NOT NULL, in_id TEXT NOT NULL,
        ended INTEGER)""",
}
INDEXES = [
    # one index for lookups by id and for the projection's rule: an id that is present (superseded = 0)
    # keeps its first import; a row that stops being present records the seq of the event that did it
    # (negative when a pending row was brought back as a new interval)
    "CREATE UNIQUE INDEX feature_txns_id ON feature_txns(id, superseded)",
    "CREATE INDEX feature_labels_id ON feature_labels(id, seq)",
    "CREATE INDEX feature_categorizations_id ON feature_categorizations(id, seq, item)",
    "CREATE INDEX feature_transfers_out ON feature_transfers(out_id)",
    "CREATE INDEX feature_transfers_in ON feature_transfers(in_id)",
]
KINDS = ("merchant", "account")
_DAY = "CAST(julianday({}) - 2440587.5 AS INTEGER)"     # days since 1970-01-01
_PAYLOAD_DAY = _DAY.format("payload ->> '$.date'")
_LABEL = ("label.set", ev.TYPES["label.set"].version)
_LABEL_VALID = ev.valid_sql("label.set")
_IMPORTED = ("transaction.imported", ev.TYPES["transaction.imported"].version)
_IMPORTED_VALID = ev.valid_sql("transaction.imported")


MIGRATIONS = Migrations("features")


@MIGRATIONS(legacy=3)
def create_tables(conn: sqlite3.Connection) -> None:
    """The feature tables."""
    db.run_statements(conn, [*TABLES.values(), *INDEXES])


def _recreate_tables(conn: sqlite3.Connection) -> None:
    """The feature tables are caches of the log: dropped, created anew and refilled by the next catch-up."""
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    cursors.reset(conn, CURSOR)
    create_tables(conn)


@MIGRATIONS(legacy=5)
def group_codes(conn: sqlite3.Connection) -> None:
    """Feature rows name their merchant and account groups by integer codes (feature_groups)."""
    _recreate_tables(conn)


@MIGRATIONS(legacy=6)
def bank_category(conn: sqlite3.Connection) -> None:
    """Feature rows keep the bank's own category column, where the export has one."""
    _recreate_tables(conn)


@MIGRATIONS()
def merchant_resolver(conn: sqlite3.Connection) -> None:
    """Merchant groups come from the merchant resolver (description and payee) and the user's corrections."""
    _recreate_tables(conn)


@MIGRATIONS()
def effective_category(conn: sqlite3.Connection) -> None:
    """Rows say whether they are pending; categorizations and transfer links are kept by log position."""
    _recreate_tables(conn)


def cursor(conn: sqlite3.Connection) -> int:
    return cursors.position(conn, CURSOR)


class Groups:
    """Codes of the merchant+currency and account+currency groups, given in order of first use.

    A code is given the first time an accepted transaction.imported event names its group,
    events taken in seq order, so catch-up and rebuild give every group the same code. The
    merchant is the resolver's, with the user's corrections in force (see `catch_up`).
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        corrections = merchant_corrections.load(conn)
        self.corrected = corrections.key if corrections else None
        self.codes: dict[str, dict[tuple[str, str], int]] = {kind: {} for kind in KINDS}
        for kind, code, name, currency in conn.execute("SELECT kind, code, name, currency FROM feature_groups"):
            self.codes[kind][(name, currency)] = code
        self.merchants, self.accounts = self.codes["merchant"], self.codes["account"]
        self.new: list[tuple[str, int, str, str]] = []

    def _add(self, kind: str, key: tuple[str, str]) -> int:
        codes = self.codes[kind]
        code = codes[key] = len(codes)
        self.new.append((kind, code, *key))
        return code

    # called once per imported row, so kept lean
    def merchant(self, description: str, payee: str | None, currency: str) -> int:
        merchant = resolve(description, payee).key
        key = (self.corrected(merchant, description) if self.corrected else merchant, currency)
        code = self.merchants.get(key)
        return self._add("merchant", key) if code is None else code

    def account(self, account: str, currency: str) -> int:
        key = (account, currency)
        code = self.accounts.get(key)
        return self._add("account", key) if code is None else code

    def save(self) -> None:
        self.conn.executemany("INSERT INTO feature_groups VALUES (?, ?, ?, ?)", self.new)
        self.new.clear()


def catch_up(conn: sqlite3.Connection) -> int:
    """Materialize every event after the cursor, inside the caller's write transaction; returns the head."""
    position, head = cursor(conn), ev.head(conn)[0]
    if head <= position:
        return position
    if position and merchant_corrections.changed(conn, position, head):
        clear(conn)                 # merchant groups changed: the cache is computed again, all of it
        position = 0
    _bulk_labels(conn, position + 1, head)      # only a category rename touches a label: it is bounded by seq
    groups = None
    for lo, hi, bulk in _runs(conn, position, head):
        if groups is None:
            groups = Groups(conn)
            conn.create_function("fin_feature_merchant", 3, groups.merchant)
            conn.create_function("fin_feature_account", 2, groups.account)
        if bulk:
            _bulk_imported(conn, groups, lo, hi)
        else:
            _apply(conn, groups, _read_rest(conn, lo, hi))
    if groups is not None:
        groups.save()
    cursors.advance(conn, CURSOR, position, head)
    return head


def _runs(conn, position: int, head: int) -> list[tuple[int, int, bool]]:
    """(first seq, last seq, bulk) of each run of events in (position, head]; bulk: transaction.imported.

    Only the few other events are read; the bulk runs are the gaps between them.
    """
    others = [seq for (seq,) in conn.execute("SELECT seq FROM events WHERE seq > ? AND seq <= ?"
                                             " AND NOT (type = ? AND version = ?) ORDER BY seq",
                                             (position, head, *_IMPORTED))]
    runs: list[tuple[int, int, bool]] = []
    last = position
    for seq in others + [head + 1]:
        if seq > last + 1:
            runs.append((last + 1, seq - 1, True))
        if seq <= head:
            if runs and not runs[-1][2] and runs[-1][1] == seq - 1:
                runs[-1] = (runs[-1][0], seq, False)
            else:
                runs.append((seq, seq, False))
        last = seq
    return runs


def _bulk_labels(conn, lo: int, hi: int) -> None:
    conn.execute("INSERT OR REPLACE INTO feature_labels SELECT seq, payload ->> '$.id', payload ->> '$.category',"
                 f" occurred_at FROM events WHERE type = ? AND version = ? AND seq BETWEEN ? AND ? AND {_LABEL_VALID}",
                 (*_LABEL, lo, hi))


def _read_rest(conn, lo: int, hi: int, batch: int = 20_000):
    """The events in [lo, hi] that _bulk_labels did not take, decoded, in seq order."""
    while lo <= hi:
        rows = conn.execute(
            "SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload FROM events"
            f" WHERE seq BETWEEN ? AND ? AND NOT (type = ? AND version = ? AND {_LABEL_VALID})"
            " ORDER BY seq LIMIT ?", (lo, hi, *_LABEL, batch)).fetchall()
        if not rows:
            return
        yield from (ev.decode(*row) for row in rows)
        lo = rows[-1][0] + 1


_INSERT_BULK = (
    "INSERT {verb} INTO feature_txns (seq, visible_from, id, import_id, account, date, day, amount,"
    " currency, description, merchant_group, account_group, bank_category, pending)"
    " SELECT seq, seq, payload ->> '$.id', payload ->> '$.import_id', payload ->> '$.account',"
    f" payload ->> '$.date', {_PAYLOAD_DAY},"
    " payload ->> '$.amount', payload ->> '$.currency', payload ->> '$.description',"
    " fin_feature_merchant(payload ->> '$.description', payload ->> '$.payee', payload ->> '$.currency'),"
    " fin_feature_account(payload ->> '$.account', payload ->> '$.currency'), payload ->> '$.bank_category',"
    " coalesce(payload ->> '$.pending', 0) FROM events WHERE seq BETWEEN ? AND ? AND {accepted} ORDER BY seq")
_SELECT_EVENTS = "SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload FROM events"
BIG_RUN = 50_000


def _bulk_imported(conn, groups: Groups, lo: int, hi: int) -> None:
    if hi - lo + 1 >= BIG_RUN and hi - lo + 1 > (conn.execute("SELECT max(rowid) FROM feature_txns").fetchone()[0]
                                                  or 0):
        return _big_run(conn, groups, lo, hi)
    # events the statement must not accept are found once (validation is the costly part of the scan)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS feature_rejects (seq INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM feature_rejects")
    conn.execute(f"INSERT INTO feature_rejects SELECT seq FROM events WHERE seq BETWEEN ? AND ?"
                 f" AND NOT ({_IMPORTED_VALID})", (lo, hi))
    conn.execute(_INSERT_BULK.format(verb="OR IGNORE", accepted="seq NOT IN (SELECT seq FROM feature_rejects)"),
                 (lo, hi))
    # whatever the statement did not accept is decoded in Python (quarantined there, skipped here)
    rest = conn.execute(f"{_SELECT_EVENTS} WHERE seq IN (SELECT seq FROM feature_rejects) ORDER BY seq").fetchall()
    conn.execute("DELETE FROM feature_rejects")
    _apply(conn, groups, (ev.decode(*row) for row in rest))


def _big_run(conn, groups: Groups, lo: int, hi: int) -> None:
    """A run larger than the table (a rebuild, a first import): the same rows, with the id index built after.

    Building the index once from sorted keys costs far less than a million random inserts into
    it. Without the index the insert cannot ignore an id that is already present, so the
    later duplicates are deleted afterwards: what INSERT OR IGNORE in seq order would have kept.
    """
    before = conn.execute("SELECT coalesce(max(rowid), 0) FROM feature_txns").fetchone()[0]
    conn.execute("DROP INDEX feature_txns_id")
    inserted = conn.execute(_INSERT_BULK.format(verb="", accepted=f"({_IMPORTED_VALID})"), (lo, hi)).rowcount
    try:
        conn.execute(INDEXES[0])
    except sqlite3.IntegrityError:
        conn.execute("DELETE FROM feature_txns WHERE rowid > ? AND rowid NOT IN"
                     " (SELECT min(rowid) FROM feature_txns WHERE superseded = 0 GROUP BY id)", (before,))
        conn.execute(INDEXES[0])
    if inserted < hi - lo + 1:                   # seqs have no gaps: some events were not accepted
        rest = conn.execute(f"{_SELECT_EVENTS} WHERE seq BETWEEN ? AND ? AND NOT ({_IMPORTED_VALID})"
                            " ORDER BY seq", (lo, hi)).fetchall()
        _apply(conn, groups, (ev.decode(*row) for row in rest))


def _apply(conn, groups: Groups, items) -> None:
    for e in items:
        if isinstance(e, ev.Rejected):
            continue
        handler = _HANDLERS.get(e.type)
        if handler:
            handler(conn, groups, e)


def _imported(conn, groups: Groups, e: ev.Event) -> None:
    p = e.payload
    conn.execute(
        "INSERT OR IGNORE INTO feature_txns (seq, visible_from, id, import_id, account, date, day, amount,"
        " currency, description, merchant_group, account_group, bank_category, pending)"
        f" VALUES (?,?,?,?,?,?,{_DAY.format('?')},?,?,?,?,?,?,?)",
        (e.seq, e.seq, p["id"], p["import_id"], p["account"], p["date"], p["date"], p["amount"],
         p["currency"], p["description"], groups.merchant(p["description"], p.get("payee"), p["currency"]),
         groups.account(p["account"], p["currency"]), p.get("bank_category"), int(bool(p.get("pending")))))


def _posted(conn, groups: Groups, e: ev.Event) -> None:
    conn.execute("UPDATE feature_txns SET retracted_by = ?, visible_until = coalesce(visible_until, ?)"
                 " WHERE id = ? AND superseded = 0", (e.payload["id"], e.seq, e.payload["pending_id"]))


def _undone(conn, groups: Groups, e: ev.Event) -> None:
    """Pending rows replaced by the rows that leave come back (a new interval); those rows leave.

    The event names the rows that leave (rows another active import holds stay); an
    older event names none, and then every row the import added leaves.
    """
    removed = e.payload.get("removed")
    if removed is None:
        ids, arg = "SELECT id FROM feature_txns WHERE import_id = ? AND superseded = 0", e.payload["import_id"]
    else:
        ids, arg = "SELECT value FROM json_each(?)", json.dumps(removed)
    back = conn.execute(f"SELECT rowid FROM feature_txns WHERE superseded = 0 AND retracted_by IN ({ids})"
                        " AND visible_until IS NOT NULL ORDER BY seq", (arg,)).fetchall()
    for (rowid,) in back:
        conn.execute("UPDATE feature_txns SET superseded = ? WHERE rowid = ?", (-e.seq, rowid))
        conn.execute(
            "INSERT INTO feature_txns SELECT seq, ?, NULL, NULL, 0, id, import_id, account, date, day, amount,"
            " currency, description, merchant_group, account_group, bank_category, pending"
            " FROM feature_txns WHERE rowid = ?",
            (e.seq, rowid))
    # a transfer ends when either side leaves (the projection clears the partner's transfer_id)
    conn.execute(f"UPDATE feature_transfers SET ended = ? WHERE ended IS NULL AND (out_id IN ({ids})"
                 f" OR in_id IN ({ids}))", (e.seq, arg, arg))
    conn.execute("UPDATE feature_txns SET visible_until = coalesce(visible_until, ?), superseded = ?"
                 f" WHERE id IN ({ids}) AND superseded = 0", (e.seq, e.seq, arg))


def _label(conn, groups: Groups, e: ev.Event) -> None:
    conn.execute("INSERT OR REPLACE INTO feature_labels VALUES (?,?,?,?)",
                 (e.seq, e.payload["id"], e.payload["category"], e.occurred_at))


def _categorized(conn, groups: Groups, e: ev.Event) -> None:
    """Rule and model results, item by item; an item with no category (a suggestion, a cleared one) is NULL."""
    conn.executemany("INSERT OR REPLACE INTO feature_categorizations VALUES (?,?,?,?)",
                     [(e.seq, n, item["id"], item.get("category")) for n, item in enumerate(e.payload["items"])])


def _transfer_matched(conn, groups: Groups, e: ev.Event) -> None:
    p = e.payload
    conn.execute("INSERT OR REPLACE INTO feature_transfers VALUES (?,?,?,?,NULL)",
                 (e.seq, p["transfer_id"], p["out_id"], p["in_id"]))


def _category_replaced(conn, groups: Groups, e: ev.Event) -> None:
    """A category renamed or merged: the labels and categorizations given before it carry the new name
    (labels are taken first, all at once, so the seq bound keeps later uses of the old name as they are)."""
    new = e.payload.get("to") or e.payload["into"]
    for table in ("feature_labels", "feature_categorizations"):
        conn.execute(f"UPDATE {table} SET category = ? WHERE category = ? AND seq < ?",
                     (new, e.payload["from"], e.seq))


_HANDLERS = {"transaction.imported": _imported, "transaction.posted": _posted,
             "import.undone": _undone, "label.set": _label,
             "transactions.categorized": _categorized, "transfer.matched": _transfer_matched,
             "category.renamed": _category_replaced, "category.merged": _category_replaced}


def clear(conn: sqlite3.Connection) -> None:
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    cursors.reset(conn, CURSOR)


def digest(conn: sqlite3.Connection) -> str:
    """A hash of every materialized row in key order, and the cursor."""
    h = hashlib.sha256(f"cursor {cursor(conn)}".encode())
    for table, order in (("feature_txns", "seq, visible_from, superseded"), ("feature_groups", "kind, code"),
                         ("feature_labels", "seq"), ("feature_categorizations", "seq, item"),
                         ("feature_transfers", "seq")):
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

    Returns (head, digest after rebuild, digest of the incremental state); both digests are None
    without verify (hashing every row costs about as much as a fifth of the rebuild).
    """
    with ws.lock(), db.transaction(ws.conn):
        before = None
        if verify:
            catch_up(ws.conn)
            before = digest(ws.conn)
        clear(ws.conn)
        head = catch_up(ws.conn)
        return head, digest(ws.conn) if verify else None, before
