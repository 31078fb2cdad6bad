"""The SQLite store: connection settings, transactions and numbered migrations."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from .errors import WorkspaceError

BUSY_TIMEOUT_MS = 15_000


def _m001_event_log(conn: sqlite3.Connection) -> None:
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
        "CREATE TABLE projection_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    ])


def _m002_projections(conn: sqlite3.Connection) -> None:
    from . import projections

    projections.create_tables(conn, ["transactions", "imports", "possible_duplicates", "profiles", "quarantine"])


def _m003_labels_and_features(conn: sqlite3.Connection) -> None:
    from . import projections
    from .features import store

    projections.create_tables(conn, ["labels"])
    store.create_tables(conn)


def _rebuild_projections(conn: sqlite3.Connection) -> None:
    """Projections are caches of the log: recreate them in their current shape and replay."""
    from . import projections

    for table in projections.TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    projections.create_tables(conn)
    conn.execute("DELETE FROM projection_cursors WHERE name = ?", (projections.CURSOR,))
    projections.catch_up(conn)


def _m004_categorization(conn: sqlite3.Connection) -> None:
    """Transactions gain review, suggestion and rule columns, and rules get a table."""
    _rebuild_projections(conn)


def _m006_bank_category(conn: sqlite3.Connection) -> None:
    """Transactions and feature rows keep the bank's own category column, where the export has one;
    projections gain which active imports hold each transaction and the possible transfers."""
    _rebuild_projections(conn)
    _m005_feature_group_codes(conn)


def _m005_feature_group_codes(conn: sqlite3.Connection) -> None:
    """Feature rows name their merchant and account groups by integer codes (feature_groups).

    The feature tables are caches of the log: they are dropped, created anew and refilled
    by the next catch-up.
    """
    from .features import store

    for table in ("feature_txns", "feature_groups", "feature_labels"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("DELETE FROM projection_cursors WHERE name = ?", (store.CURSOR,))
    store.create_tables(conn)


def run_statements(conn: sqlite3.Connection, statements: list[str]) -> None:
    """Execute DDL one statement at a time (executescript would commit the open transaction)."""
    for statement in statements:
        conn.execute(statement)


# Numbered migrations: index + 1 is the schema version they bring the database to.
# Each names the tables it creates, so a table added later comes with a migration of its own.
MIGRATIONS = [_m001_event_log, _m002_projections, _m003_labels_and_features, _m004_categorization,
              _m005_feature_group_codes, _m006_bank_category]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a workspace database and migrate it to this fin's schema."""
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
        migrate(conn, path)
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
    from .merchant import normalize

    conn.create_function("fin_merchant", 1, lambda text: None if text is None else normalize(text),
                         deterministic=True)


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


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations, each in its own transaction with its version.

    The version is read inside the transaction, so two fin processes opening a
    new workspace at once apply each migration exactly once.
    """
    while True:
        with transaction(conn):
            current = schema_version(conn)
            if current > SCHEMA_VERSION:
                raise WorkspaceError(
                    f"{path} was written by a newer fin (schema {current}; this fin knows up to {SCHEMA_VERSION})",
                    "upgrade fin to open this workspace")
            if current == SCHEMA_VERSION:
                return
            MIGRATIONS[current](conn)
            conn.execute(f"PRAGMA user_version = {current + 1}")


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
