"""The storage floor of an import: what SQLite alone takes to store its rows.

    python bench/floor.py SOURCE_HOME EMPTY_HOME

Reads the event rows and transaction rows a real import wrote into SOURCE_HOME,
then times writing exactly those rows into the new workspace EMPTY_HOME in one
transaction, as an import does: no parsing, no JSON, no hashing. Prints the
seconds. No import of the same rows into the same schema can be faster.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from fincli.store import connection as db
from fincli.workspace import open_workspace


def main(source: Path, target: Path) -> None:
    src = sqlite3.connect(source / "fin.db")
    events = src.execute("SELECT * FROM events WHERE type = 'transaction.imported' ORDER BY seq").fetchall()
    transactions = src.execute("SELECT * FROM transactions ORDER BY seq").fetchall()
    src.close()
    ws = open_workspace(target)
    start = time.perf_counter()
    with db.transaction(ws.conn):
        ws.conn.executemany(f"INSERT INTO events VALUES ({','.join('?' * len(events[0]))})", events)
        ws.conn.executemany(f"INSERT INTO transactions VALUES ({','.join('?' * len(transactions[0]))})",
                            transactions)
    print(f"{time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
