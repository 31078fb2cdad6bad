"""Small helpers that write events the way fin's own use cases do."""

from fincli.ledger import projections
from fincli.store import connection as db, log as ev
from fincli.store.log import Event


def append_and_project(ws, new_events):
    with db.transaction(ws.conn):
        stored = ev.append(ws.conn, new_events)
        projections.catch_up(ws.conn)
    return stored


def import_events(import_id, account, rows):
    """rows: (txn id, date, amount minor, description)."""
    out = [Event("transaction.imported", f"{import_id}:{tid}", date, import_id,
                 {"id": tid, "account": account, "date": date, "amount": amount, "currency": "USD",
                  "description": text, "import_id": import_id, "line": i + 2, "key": f"k-{tid}"})
           for i, (tid, date, amount, text) in enumerate(rows)]
    dates = [r[1] for r in rows] or ["2024-01-01"]
    out.append(Event("import.recorded", f"import:{import_id}", max(dates), import_id,
                     {"import_id": import_id, "file": f"/x/{import_id}.csv", "sha256": import_id * 4,
                      "account": account, "rows": len(rows), "added": len(rows),
                      "date_from": min(dates), "date_to": max(dates)}))
    return out


def raw_append(conn, event_id, type_, version, payload_json):
    """Write an event as an older or foreign fin might have, keeping the hash chain valid."""
    seq, prev = ev.head(conn)
    recorded = ev.now()
    digest = ev.chain_hash(prev, seq + 1, event_id, type_, version, "2024-01-05", recorded, "other", payload_json)
    conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
                 (seq + 1, event_id, type_, version, "2024-01-05", recorded, "other", payload_json, digest))
