"""The append-only event log: versioned event types, hash chain, append and read.

The log is the source of truth. Each event type has a current version and a
schema; older versions are upcast on read by small pure functions, so a log
written by an older fin replays under a newer one. Stored events are never
rewritten.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable, Iterator

from ..errors import FinError, IntegrityError
from ..money import to_minor
from . import cursors
from .connection import run_statements
from .migrations import Migrations

GENESIS = "0" * 64

MIGRATIONS = Migrations("log")


@MIGRATIONS(legacy=1)
def event_log(conn: sqlite3.Connection) -> None:
    run_statements(conn, [
        """CREATE TABLE events (
            seq         INTEGER PRIMARY KEY,
            event_id    TEXT NOT NULL UNIQUE,
            type        TEXT NOT NULL,
            version     INTEGER NOT NULL,
            occurred_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            source      TEXT NOT NULL,
            payload     TEXT NOT NULL,
            hash        TEXT NOT NULL
        )""",
        "CREATE INDEX events_type ON events(type, seq)",
        """CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END""",
        """CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END""",
        cursors.TABLE,
    ])


@dataclass(slots=True)
class Event:
    """One event. `seq`, `recorded_at` and a zero `version` are filled in by append()."""
    type: str
    event_id: str
    occurred_at: str
    source: str
    payload: dict
    version: int = 0            # 0: the type's current version
    seq: int | None = None
    recorded_at: str | None = None


@dataclass(frozen=True)
class EventType:
    """A type's current version and schema: field name -> the exact JSON types allowed."""
    name: str
    version: int
    required: dict[str, tuple[type, ...]]
    optional: dict[str, tuple[type, ...]] = field(default_factory=dict)
    upcasters: dict[int, Callable[[dict], dict]] = field(default_factory=dict)  # from version n to n+1
    check: Callable[[dict], str | None] | None = None      # what the field types cannot say

    def upcast(self, version: int, payload: dict) -> dict:
        while version < self.version:
            payload = self.upcasters[version](payload)
            version += 1
        return payload

    def problem(self, payload: dict) -> str | None:
        """Why the payload is not a valid current-version payload, or None."""
        if type(payload) is not dict:
            return "payload is not an object"
        for name, kinds in self.required.items():
            value = payload.get(name, _MISSING)
            if type(value) not in kinds:
                return f"missing field {name!r}" if value is _MISSING else f"field {name!r} has the wrong type"
        for name, kinds in self.optional.items():
            value = payload.get(name)
            if value is not None and type(value) not in kinds:
                return f"field {name!r} has the wrong type"
        return self.check(payload) if self.check else None


_MISSING = object()


def _transaction_v1_to_v2(payload: dict) -> dict:
    """v1 stored the amount as a decimal string; v2 stores integer minor units."""
    upcast = dict(payload)
    try:
        upcast["amount"] = to_minor(Decimal(payload["amount"]), payload["currency"])
    except (InvalidOperation, KeyError, TypeError, ValueError, FinError):
        upcast["amount"] = None     # fails validation: quarantined with the reason
    return upcast


def _ids_problem(*fields: str) -> Callable[[dict], str | None]:
    """A check that each named list field, where present, holds only transaction ids (strings)."""
    def problem(payload: dict) -> str | None:
        for name in fields:
            if any(type(i) is not str for i in payload.get(name) or ()):
                return f"field {name!r} must list transaction ids"
        return None
    return problem


CATEGORY_SOURCES = ("rule", "merchant", "model")


def _categorized_problem(payload: dict) -> str | None:
    """Each item: id; source rule (category, rule), merchant (category, confidence) or model (category or suggestion, confidence) or null (cleared)."""
    for n, item in enumerate(payload["items"], 1):
        if type(item) is not dict or type(item.get("id")) is not str:
            return f"item {n} has no id"
        source = item.get("source")
        category, suggestion = item.get("category"), item.get("suggestion")
        confidence = item.get("confidence")
        if source not in (None, *CATEGORY_SOURCES):
            return f"item {n}: unknown source {source!r}"
        if source == "rule" and not (type(category) is str and type(item.get("rule")) is str):
            return f"item {n}: a rule item needs category and rule"
        if source == "merchant" and not (type(category) is str and type(confidence) in (int, float)
                                         and 0 <= confidence <= 1):
            return f"item {n}: a merchant item needs a category and a confidence in [0, 1]"
        if source == "model" and not ((type(category) is str) != (type(suggestion) is str)
                                      and type(confidence) in (int, float) and 0 <= confidence <= 1):
            return f"item {n}: a model item needs a category or a suggestion, and a confidence in [0, 1]"
        if source is None and (category is not None or suggestion is not None):
            return f"item {n}: a cleared item has no category"
    return None


def _merchant_keys_problem(payload: dict) -> str | None:
    if not payload["keys"] or any(type(k) is not str for k in payload["keys"]):
        return "field 'keys' must list merchant keys"
    return None


def _names_differ(field: str) -> Callable[[dict], str | None]:
    """A check that a category rename or merge names two different, non-blank categories."""
    def problem(payload: dict) -> str | None:
        if not payload["from"].strip() or not payload[field].strip():
            return "a category name is blank"
        return f"'from' and {field!r} are the same category" if payload["from"] == payload[field] else None
    return problem


_TYPES = [
    EventType("import.recorded", 1,
              {"import_id": (str,), "file": (str,), "sha256": (str,), "account": (str,),
               "rows": (int,), "added": (int,)},
              # held: ids of rows the file held that earlier imports had added (absent: none)
              {"date_from": (str,), "date_to": (str,), "layout": (dict,), "currency": (str,), "held": (list,)},
              check=_ids_problem("held")),
    # removed: the ids that left the projections (absent, as in older logs: every row the import added)
    EventType("import.undone", 1, {"import_id": (str,)}, {"reason": (str,), "removed": (list,)},
              check=_ids_problem("removed")),
    EventType("transaction.imported", 2,
              {"id": (str,), "account": (str,), "date": (str,), "amount": (int,), "currency": (str,),
               "description": (str,), "import_id": (str,), "line": (int,), "key": (str,)},
              {"bank_id": (str,), "balance": (int,), "pending": (bool,), "value_date": (str,),
               "bank_category": (str,), "payee": (str,)},
              upcasters={1: _transaction_v1_to_v2}),
    EventType("transaction.posted", 1, {"id": (str,), "pending_id": (str,)}),
    EventType("transaction.duplicate_suspected", 1, {"id": (str,), "of": (str,), "reason": (str,)}),
    EventType("transfer.matched", 1, {"transfer_id": (str,), "out_id": (str,), "in_id": (str,)}),
    EventType("transfer.possible", 1, {"out_id": (str,), "in_id": (str,), "reason": (str,)}),
    EventType("profile.saved", 1, {"name": (str,), "fingerprint": (str,), "layout": (dict,)}),
    EventType("label.set", 1, {"id": (str,), "category": (str,)}),
    EventType("service.ran", 1, {"service": (str,), "cursor": (int,), "rows": (int,), "metrics": (dict,)}),
    # a service run that failed, kept by services that say so (Service.kept_on_failure): its one-line reason
    EventType("service.failed", 1, {"service": (str,), "cursor": (int,), "error": (str,)}),
    EventType("artifact.saved", 1, {"service": (str,), "file": (str,), "sha256": (str,)}),
    # one result of a service that has no event type of its own: the run and the item it answers
    EventType("service.result", 1, {"service": (str,), "run": (str,), "item": (int,), "result": (dict,)}),
    # a model trained: its artifacts' sha256 by file, its metrics, and for categorize the labels it saw
    EventType("model.trained", 1, {"service": (str,), "artifacts": (dict,), "metrics": (dict,)},
              {"labels": (int,), "label_seq": (int,)}),
    EventType("rule.added", 1, {"id": (str,), "pattern": (str,), "category": (str,), "regex": (bool,)}),
    EventType("rule.removed", 1, {"id": (str,)}),
    EventType("transactions.categorized", 1, {"items": (list,)}, {"model": (str,)}, check=_categorized_problem),
    # the user's merchant corrections (fincli/merchant/corrections.py): merge keys into one, move the
    # transactions of a key whose description matches a pattern to a new key, name a merchant
    EventType("merchant.merged", 1, {"into": (str,), "keys": (list,)}, check=_merchant_keys_problem),
    EventType("merchant.split", 1, {"key": (str,), "pattern": (str,), "into": (str,)}),
    EventType("merchant.renamed", 1, {"key": (str,), "name": (str,)}),
    # fraud (fincli/services/fraud.py): an alert on one or more related charges, and the user's verdict on it
    EventType("fraud.alerted", 1,
              {"id": (str,), "kind": (str,), "score": (float, int), "reasons": (list,), "transaction_ids": (list,),
               "account": (str,), "date": (str,), "amount": (int,), "currency": (str,), "merchant": (str,)},
              check=_ids_problem("transaction_ids")),
    EventType("fraud.feedback", 1, {"alert_id": (str,), "verdict": (str,), "always": (bool,)},
              check=lambda p: None if p["verdict"] in ("confirmed", "dismissed")
              else "verdict must be confirmed or dismissed"),
    # bills (fincli/services/bills.py): the detected streams, each alert once, which alerts were shown,
    # and the user's corrections of a stream
    EventType("bills.detected", 1, {"streams": (list,)}),
    EventType("bill.alert", 1, {"stream_id": (str,), "kind": (str,), "date": (str,), "detail": (str,)}),
    EventType("bills.alerts_shown", 1, {"alerts": (list,)}),
    EventType("bill.confirmed", 1, {"stream_id": (str,)}),
    EventType("bill.ignored", 1, {"stream_id": (str,)}),
    EventType("bill.renamed", 1, {"stream_id": (str,), "name": (str,)}),
    # the user's category taxonomy (fincli/categories.py): a declared category, and a name replaced by a
    # new one (renamed) or by an existing one (merged) in every use that exists at that point of the log
    EventType("category.added", 1, {"name": (str,)}),
    EventType("category.renamed", 1, {"from": (str,), "to": (str,)}, check=_names_differ("to")),
    EventType("category.merged", 1, {"from": (str,), "into": (str,)}, check=_names_differ("into")),
    # the user's monthly budget for a category in one currency (minor units; the latest one counts)
    EventType("budget.set", 1, {"category": (str,), "currency": (str,), "amount": (int,)}),
    # a spending run, per currency: the month totals it saw, next month's forecast per category and
    # the backtest of every method (fincli/services/spending.py)
    EventType("spending.forecast", 1, {"currency": (str,), "month": (str,), "made_at_seq": (int,),
                                       "categories": (list,), "totals": (list,)},
              {"last_date": (str,), "top_merchants": (list,)}),
]
TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}

_JSON_TYPES = {str: ("'text'",), int: ("'integer'",), bool: ("'true'", "'false'"), list: ("'array'",),
               dict: ("'object'",)}


def valid_sql(type_: str) -> str:
    """An SQL condition on `payload` that holds when it is a valid current-version payload of the type.

    What the type's field types say, without its `check`: consumers that apply a run of
    events inside SQLite take the events it accepts, and decode the rest in Python.
    """
    kind = TYPES[type_]
    checks = ["json_valid(payload)", "json_type(payload) = 'object'"]
    for name, types in kind.required.items():
        allowed = ", ".join(t for py in types for t in _JSON_TYPES[py])
        checks.append(f"json_type(payload, '$.{name}') IN ({allowed})")
    for name, types in kind.optional.items():
        allowed = ", ".join(t for py in types for t in _JSON_TYPES[py])
        checks.append(f"coalesce(json_type(payload, '$.{name}'), 'null') IN ('null', {allowed})")
    return " AND ".join(checks)


_CANONICAL = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def canonical(payload: dict) -> str:
    """The stored form of a payload: compact, keys sorted, so equal payloads hash equally."""
    return _CANONICAL.encode(payload)


_json_str = json.encoder.encode_basestring     # the string encoder canonical() uses (ensure_ascii=False)


def imported_transaction_json(id: str, account: str, date: str, amount: int, currency: str, description: str,
                              import_id: str, line: int, key: str, bank_id: str | None = None,
                              balance: int | None = None, pending: bool = False,
                              value_date: str | None = None, bank_category: str | None = None,
                              payee: str | None = None) -> str:
    """canonical() of a transaction.imported payload, written out field by field.

    An import appends one of these per row; this is several times faster than
    building a dict and encoding it, and gives the same text (tests check both
    the equality and that the payload is valid).
    """
    if type(amount) is not int or type(line) is not int or (balance is not None and type(balance) is not int):
        raise TypeError("amount, line and balance must be integers (minor units)")
    parts = ['{"account":', _json_str(account), ',"amount":', str(amount)]
    if balance is not None:
        parts += [',"balance":', str(balance)]
    if bank_category:
        parts += [',"bank_category":', _json_str(bank_category)]
    if bank_id:
        parts += [',"bank_id":', _json_str(bank_id)]
    parts += [',"currency":', _json_str(currency), ',"date":', _json_str(date),
              ',"description":', _json_str(description), ',"id":', _json_str(id),
              ',"import_id":', _json_str(import_id), ',"key":', _json_str(key), ',"line":', str(line)]
    if payee:
        parts += [',"payee":', _json_str(payee)]
    if pending:
        parts.append(',"pending":true')
    if value_date:
        parts += [',"value_date":', _json_str(value_date)]
    parts.append("}")
    return "".join(parts)


def chain_hash(prev: str, seq: int, event_id: str, type_: str, version: int,
               occurred_at: str, recorded_at: str, source: str, payload_json: str) -> str:
    text = "\x1f".join((prev, str(seq), event_id, type_, str(version), occurred_at, recorded_at, source, payload_json))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def existing_ids(conn: sqlite3.Connection, ids: Iterable[str]) -> set[str]:
    ids = list(ids)
    found: set[str] = set()
    for start in range(0, len(ids), 100_000):      # one JSON array per query instead of 900 parameters
        chunk = json.dumps(ids[start:start + 100_000])
        found.update(r[0] for r in conn.execute(
            "SELECT event_id FROM events WHERE event_id IN (SELECT value FROM json_each(?))", (chunk,)))
    return found


def append(conn: sqlite3.Connection, events: list[Event]) -> list[Event]:
    """Append events inside the caller's transaction; returns the ones stored, with seq.

    `event_id` is the idempotency key: an event whose id is already in the log
    (or earlier in the same batch) is not stored again.
    """
    if not conn.in_transaction:
        raise RuntimeError("append() must run inside a write transaction")
    already = existing_ids(conn, (e.event_id for e in events))
    seq, prev = head(conn)
    recorded_at = now()
    stored: list[Event] = []
    rows = []
    for event in events:
        if event.event_id in already:
            continue
        already.add(event.event_id)
        kind = TYPES[event.type]
        version = event.version or kind.version
        if version == kind.version and (reason := kind.problem(event.payload)):
            raise ValueError(f"refusing to append an invalid {event.type} event: {reason}")
        seq += 1
        payload_json = canonical(event.payload)
        prev = chain_hash(prev, seq, event.event_id, event.type, version,
                          event.occurred_at, recorded_at, event.source, payload_json)
        rows.append((seq, event.event_id, event.type, version, event.occurred_at,
                     recorded_at, event.source, payload_json, prev))
        event.seq, event.version, event.recorded_at = seq, version, recorded_at
        stored.append(event)
    conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", rows)
    return stored


def append_encoded(conn: sqlite3.Connection, type_: str, source: str,
                   items: list[tuple[str, str, str]]) -> int:
    """append() for events of one type whose payloads are already canonical and valid.

    `items` are (event_id, occurred_at, payload_json). The ids must be new (an
    import's carry its import id); the log's unique index refuses a repeat, which
    fails the caller's transaction. Returns the seq of the first event.
    """
    if not conn.in_transaction:
        raise RuntimeError("append_encoded() must run inside a write transaction")
    version = TYPES[type_].version
    seq, prev = head(conn)
    first = seq + 1
    recorded_at = now()
    rows = []
    for event_id, occurred_at, payload_json in items:
        seq += 1
        prev = chain_hash(prev, seq, event_id, type_, version, occurred_at, recorded_at, source, payload_json)
        rows.append((seq, event_id, type_, version, occurred_at, recorded_at, source, payload_json, prev))
    conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", rows)
    return first


@dataclass(frozen=True)
class Rejected:
    """An event that cannot be replayed, and why."""
    seq: int
    event_id: str
    type: str
    reason: str


def read(conn: sqlite3.Connection, after: int = 0, upto: int | None = None,
         batch: int = 20_000, type_: str | None = None) -> Iterator[Event | Rejected]:
    """Yield events in (after, upto] (of one type, if given) in seq order, upcast; bad ones as Rejected."""
    last = after
    upto = (1 << 62) if upto is None else upto
    only, kind = (" AND type = ?", (type_,)) if type_ else ("", ())
    while True:
        rows = conn.execute(
            "SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload "
            f"FROM events WHERE seq > ? AND seq <= ?{only} ORDER BY seq LIMIT ?", (last, upto, *kind, batch)).fetchall()
        if not rows:
            return
        for row in rows:
            yield decode(*row)
        last = rows[-1][0]


def decode(seq, event_id, type_, version, occurred_at, recorded_at, source, payload_json) -> Event | Rejected:
    kind = TYPES.get(type_)
    if kind is None:
        return Rejected(seq, event_id, type_, f"unknown event type {type_!r}")
    if not isinstance(version, int) or not 1 <= version <= kind.version:
        return Rejected(seq, event_id, type_, f"unknown version {version} of {type_}")
    try:
        payload = json.loads(payload_json)
    except ValueError:
        return Rejected(seq, event_id, type_, "payload is not valid JSON")
    if not isinstance(payload, dict):
        return Rejected(seq, event_id, type_, "payload is not an object")
    payload = kind.upcast(version, payload)
    if reason := kind.problem(payload):
        return Rejected(seq, event_id, type_, reason)
    return Event(type_, event_id, occurred_at, source, payload, kind.version, seq, recorded_at)


def verify_chain(conn: sqlite3.Connection) -> int:
    """Recompute the hash chain; raise IntegrityError naming the first bad event. Returns the count."""
    prev, expected_seq, count = GENESIS, 1, 0
    cursor = conn.execute(
        "SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload, hash "
        "FROM events ORDER BY seq")
    for seq, event_id, type_, version, occurred_at, recorded_at, source, payload_json, stored in cursor:
        if seq != expected_seq:
            raise IntegrityError(f"event log has a gap: expected seq {expected_seq}, found {seq}",
                                 "restore fin.db from a backup")
        computed = chain_hash(prev, seq, event_id, type_, version, occurred_at, recorded_at,
                              source, payload_json)
        if computed != stored:
            raise IntegrityError(f"event {seq} ({event_id}, {type_}) does not match its hash: "
                                 "the log was changed after it was written",
                                 "restore fin.db from a backup")
        prev, expected_seq, count = stored, seq + 1, count + 1
    return count
