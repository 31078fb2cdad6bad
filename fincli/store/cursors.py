"""Consumer cursors: the last log position each consumer (a projection, the feature store, a service) applied.

A cursor is written in the same transaction as the consumer's changes. Advancing it names
the position the consumer started from, and the database refuses the move when the row is
no longer there: a second run that read the same window cannot store its results too.
"""

from __future__ import annotations

import sqlite3

from ..errors import CursorMoved

TABLE = "CREATE TABLE projection_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)"


def position(conn: sqlite3.Connection, name: str) -> int:
    """The consumer's cursor; 0 when it has applied nothing."""
    row = conn.execute("SELECT seq FROM projection_cursors WHERE name = ?", (name,)).fetchone()
    return row[0] if row else 0


def advance(conn: sqlite3.Connection, name: str, expected: int, new: int) -> None:
    """Move the cursor from `expected` to `new`; raise CursorMoved if it is not at `expected`."""
    moved = conn.execute("UPDATE projection_cursors SET seq = ? WHERE name = ? AND seq = ?",
                         (new, name, expected)).rowcount
    if moved == 0 and expected == 0:
        try:
            moved = conn.execute("INSERT INTO projection_cursors VALUES (?, ?)", (name, new)).rowcount
        except sqlite3.IntegrityError:          # the row exists, at another position
            moved = 0
    if moved != 1:
        raise CursorMoved(f"cursor {name!r} is no longer at {expected} (now {position(conn, name)}): "
                          "another run moved it first; nothing stored",
                          "run the command again")


def reset(conn: sqlite3.Connection, name: str) -> None:
    """Forget the cursor (a rebuild applies the whole log again)."""
    conn.execute("DELETE FROM projection_cursors WHERE name = ?", (name,))
