"""The user's category labels: `fin label TXN_ID CATEGORY` and `fin label --file labels.csv`.

A label is a `label.set` event (source "user", occurred_at = the day it was given, or
the file's labelled_at for back-filled labels). The latest label of a transaction is its
category; earlier ones stay in the log and remain training observations.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from ..ledger import projections
from ..store import connection as db, log as ev
from ..categories import check_category
from ..errors import InputError
from ..store.log import Event


def read_file(path: Path) -> list[tuple[str, str, str | None, str]]:
    """(id, category, labelled_at or None, where) for each row of a labels CSV."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if "id" not in header or "category" not in header:
                raise InputError(f"{path}:1: a labels file needs the columns id,category",
                                 "optional third column: labelled_at")
            reader.fieldnames = header
            rows, first_line = [], reader.line_num + 1       # a quoted cell may span lines: name the first
            for row in reader:
                rows.append(((row.get("id") or "").strip(), (row.get("category") or "").strip(),
                             (row.get("labelled_at") or "").strip() or None, f"{path}:{first_line}"))
                first_line = reader.line_num + 1
            return rows
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a UTF-8 CSV file: {exc}") from None


def _day(text: str | None, where: str) -> str:
    if text is None:
        return ev.now()[:10]
    try:
        return (datetime.fromisoformat(text).date() if "T" in text or " " in text
                else date.fromisoformat(text)).isoformat()
    except ValueError:
        raise InputError(f"{where}labelled_at {text!r} is not an ISO date",
                         "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS") from None


def set_labels(ws, labels: list[tuple[str, str, str | None, str]]) -> int:
    """Validate every label, then append them all in one transaction (nothing written on any error)."""
    with ws.lock(), db.transaction(ws.conn):
        projections.catch_up(ws.conn)
        events, (head, _) = [], ev.head(ws.conn)
        for txn_id, category, labelled_at, place in labels:
            where = f"{place}: " if place else ""
            category = check_category(category, place)
            row = ws.conn.execute("SELECT replaced_by FROM transactions WHERE id = ?", (txn_id,)).fetchone()
            if row is None:
                raise InputError(f"{where}unknown transaction id {txn_id!r}",
                                 "see the ids with `fin transactions --format json`")
            if row[0]:
                raise InputError(f"{where}transaction {txn_id} was replaced by its posted version {row[0]}",
                                 f"label {row[0]} instead")
            day = _day(labelled_at, where)
            events.append(Event("label.set", f"label:{head + len(events) + 1}:{txn_id}", day, "user",
                                {"id": txn_id, "category": category}))
        ev.append(ws.conn, events)
        projections.catch_up(ws.conn)
    return len(events)
