"""Named migration sets: each component declares the steps that build its tables.

In the spirit of sqlite-utils' `Migrations`: a component (the log, the core projection,
the feature store) keeps a `Migrations` object in its own module and registers its steps
in order with a decorator; the store knows none of them. Opening a workspace applies the
sets it is given, each pending step in its own transaction, and records every step with its
set in the `migrations` table. The store never imports the components it migrates.

Before named sets, a workspace's schema was one number (`PRAGMA user_version`, 1 to 6).
A step that a numbered migration already applied says which (`legacy`), so such a database
is recorded as having it. From then on `user_version` is FORMAT: a fin that knows
the named sets; an older fin refuses such a database as newer than itself.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import WorkspaceError

FORMAT = 7          # PRAGMA user_version of a database whose steps are recorded by name
TABLE = """CREATE TABLE IF NOT EXISTS migrations (
    set_name TEXT NOT NULL, step TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (set_name, step))"""


@dataclass(frozen=True)
class Step:
    name: str
    apply: Callable[[sqlite3.Connection], None]
    legacy: int | None = None       # the numbered migration (user_version) that already applied this step


class Migrations:
    """One component's ordered migration steps."""

    def __init__(self, name: str):
        self.name = name
        self.steps: list[Step] = []

    def __call__(self, *, legacy: int | None = None):
        """Register the decorated function as the next step, named after it."""
        def register(fn: Callable[[sqlite3.Connection], None]):
            if any(step.name == fn.__name__ for step in self.steps):
                raise ValueError(f"migration set {self.name!r} already has a step {fn.__name__!r}")
            self.steps.append(Step(fn.__name__, fn, legacy))
            return fn
        return register


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def applied(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """(set, step) of every step the database has recorded."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").fetchone() is None:
        return set()
    return set(conn.execute("SELECT set_name, step FROM migrations"))


def apply(conn: sqlite3.Connection, sets: Iterable[Migrations], path: Path | str, transaction) -> None:
    """Apply every pending step of the sets, in order, each in its own `transaction(conn)`.

    What is applied is read inside each transaction, so two fin processes opening a new
    workspace at once apply each step exactly once.
    """
    sets = list(sets)
    with transaction(conn):
        _adopt(conn, sets, path)
    while True:
        with transaction(conn):
            done = applied(conn)
            pending = next(((s, step) for s in sets for step in s.steps if (s.name, step.name) not in done), None)
            if pending is None:
                return
            owner, step = pending
            step.apply(conn)
            conn.execute("INSERT INTO migrations VALUES (?, ?, datetime('now'))", (owner.name, step.name))


def _adopt(conn: sqlite3.Connection, sets: list[Migrations], path: Path | str) -> None:
    """Refuse a database from a newer fin; record the steps a numbered migration applied."""
    version = schema_version(conn)
    if version > FORMAT:
        raise _newer(path, f"schema {version}; this fin knows up to {FORMAT}")
    if version < FORMAT:            # the numbered version is the whole truth about such a database
        conn.execute(TABLE)
        conn.execute("DELETE FROM migrations")
        conn.executemany("INSERT OR IGNORE INTO migrations VALUES (?, ?, datetime('now'))",
                         [(s.name, step.name) for s in sets for step in s.steps
                          if step.legacy is not None and step.legacy <= version])
        conn.execute(f"PRAGMA user_version = {FORMAT}")
        return
    known = {(s.name, step.name) for s in sets for step in s.steps}
    unknown = sorted(applied(conn) - known)
    if unknown:
        raise _newer(path, "migration " + ", ".join(f"{s}.{step}" for s, step in unknown) + " is unknown to this fin")


def _newer(path: Path | str, why: str) -> WorkspaceError:
    return WorkspaceError(f"{path} was written by a newer fin ({why})", "upgrade fin to open this workspace")
