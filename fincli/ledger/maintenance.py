"""Maintenance of the core projection: rebuild it from the log, verify it against a replay, undo an import."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..errors import InputError, IntegrityError
from ..store import connection as db, cursors, log as ev
from ..store.log import Event
from ..workspace import Workspace
from . import projections


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
    db.run_statements(shadow, [cursors.TABLE])
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
