"""The SQLite connection: settings, SQL functions, write transactions and the integrity check."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from ..errors import WorkspaceError
from . import migrations

BUSY_TIMEOUT_MS = 15_000


def run_statements(conn: sqlite3.Connection, statements: list[str]) -> None:
    """Execute DDL one statement at a time (executescript would commit the open transaction)."""
    for statement in statements:
        conn.execute(statement)


def connect(path: Path, sets: Iterable[migrations.Migrations]) -> sqlite3.Connection:
    """Open (creating if needed) a workspace database and apply the migration sets' pending steps."""
    path = Path(path)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        register_functions(conn)
        conn.execute("PRAGMA cache_size = -65536")
        migrations.apply(conn, sets, path, transaction)
    except sqlite3.DatabaseError as exc:
        damaged = "malformed" in str(exc) or "not a database" in str(exc)
        raise WorkspaceError(f"{path}: cannot open the database: {exc}",
                             DAMAGED_HINT if damaged else "check the file, or point --home at another workspace") from None
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new database to WAL; another fin creating it at the same moment can make that busy.

    SQLite returns "locked" at once, without its busy handler, when two connections would
    deadlock over a brand-new file, so this waits and retries up to the busy timeout.
    """
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def register_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the projections use, so that SQLite itself can apply bulk events."""
    from ..merchant import resolve

    last: list = [None, None]        # (description, payee) and its resolution: key and name are asked in turn

    def resolved(description, payee):
        if last[0] != (description, payee):
            last[:] = (description, payee), resolve(description, payee)
        return last[1]

    conn.create_function("fin_merchant", 2, lambda description, payee: None if description is None
                         else resolved(description, payee).key, deterministic=True)
    conn.create_function("fin_merchant_name", 2, lambda description, payee: None if description is None
                         else resolved(description, payee).name, deterministic=True)


def database_file(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:"


DAMAGED_HINT = "restore fin.db from a backup, or move it away and import your files again into a new one"


def check_integrity(conn: sqlite3.Connection) -> None:
    """Refuse to add to a damaged database: SQLite notices damage only on the pages it reads.

    `PRAGMA quick_check` reads every page (about half a second for 300k events, warm).
    """
    try:
        report = "\n".join(row[0] for row in conn.execute("PRAGMA quick_check(3)"))
    except sqlite3.DatabaseError as exc:
        report = str(exc)
    if report != "ok":
        problems = [line for line in report.splitlines() if line and not line.startswith("***")]
        raise WorkspaceError(f"{database_file(conn)} is damaged: {problems[0] if problems else report}",
                             DAMAGED_HINT)


@contextmanager
def transaction(conn: sqlite3.Connection):
    """One write transaction, taken up front so concurrent writers queue on the busy timeout."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise WorkspaceError(f"the workspace is busy: {exc}",
                                 "retry when the other fin command has finished") from None
        raise WorkspaceError(f"{database_file(conn)}: cannot write: {exc}",
                             "make the workspace writable, or use another with --home") from None
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
