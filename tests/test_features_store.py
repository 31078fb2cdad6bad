"""The materialized feature history: every way of filling it gives the same rows and group codes."""

import json

from fincli.store import connection as db, log as ev
from fincli.store.log import Event
from fincli.features import store

from eventkit import append_and_project, import_events, raw_append



def _rows(import_id, rows):
    return import_events(import_id, "checking", rows)[:-1]      # transaction.imported only


def _history(ws):
    """Runs of imports holding a repeated id, a bad event, an id that is back after an undo, and labels."""
    append_and_project(ws, import_events("a", "checking", [("t1", "2024-01-02", -500, "POS 1 COFFEE BAR #12"),
                                                           ("t2", "2024-01-03", -700, "TEA HOUSE")]))
    append_and_project(ws, [Event("import.undone", "undo:a", "2024-01-04", "user", {"import_id": "a"})])
    b = _rows("b", [("t3", "2024-01-05", -100, "BOOK SHOP"), ("t1", "2024-01-05", -501, "COFFEE BAR")])
    again = _rows("b", [("t3", "2024-01-06", -999, "BOOK SHOP 2")])[0]
    append_and_project(ws, b + [Event(again.type, "b:t3:again", again.occurred_at, again.source, again.payload)])
    raw_append(ws.conn, "bad", "transaction.imported", 2, json.dumps({"id": "t9", "amount": "lots"}))
    append_and_project(ws, _rows("c", [("t4", "2024-01-07", 250, "ACME PAYROLL"),
                                       ("t3", "2024-01-08", -5, "BOOK SHOP")]))
    append_and_project(ws, [Event("label.set", "l1", "2024-01-09", "user", {"id": "t3", "category": "books"})])
    raw_append(ws.conn, "badlabel", "label.set", 1, json.dumps({"id": "t3"}))
    append_and_project(ws, import_events("d", "card", [("t5", "2024-01-09", -300, "TEA HOUSE")]))


def _materialize(ws, big_run):
    with db.transaction(ws.conn):
        store.clear(ws.conn)
        old, store.BIG_RUN = store.BIG_RUN, big_run
        try:
            store.catch_up(ws.conn)
        finally:
            store.BIG_RUN = old
        return store.digest(ws.conn), ws.conn.execute(
            "SELECT id, seq, visible_from, visible_until, superseded FROM feature_txns ORDER BY seq, visible_from"
        ).fetchall()


def test_a_run_larger_than_the_table_keeps_what_the_row_by_row_path_keeps(ws):
    _history(ws)
    digest, rows = _materialize(ws, big_run=1 << 40)
    assert _materialize(ws, big_run=1) == (digest, rows)
    # the first import of an id wins; the bad event is skipped; t1 comes back after its import was undone
    assert [(r[0], r[1]) for r in rows] == [("t1", 1), ("t2", 2), ("t3", 5), ("t1", 6), ("t4", 9), ("t5", 13)]
    assert ws.conn.execute("SELECT count(*) FROM feature_labels").fetchone()[0] == 1


def test_catch_up_event_by_event_equals_one_rebuild(ws):
    _history(ws)
    head = ev.head(ws.conn)[0]
    with db.transaction(ws.conn):
        store.clear(ws.conn)
    rows = ws.conn.execute("SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload, hash"
                           " FROM events ORDER BY seq").fetchall()
    # the same log replayed into a fresh workspace, the features caught up after every event
    from fincli.workspace import open_workspace

    other = open_workspace(ws.home / "other")
    for row in rows:
        other.conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", row)
        with db.transaction(other.conn):
            store.catch_up(other.conn)
    incremental = store.digest(other.conn)
    other.close()
    assert _materialize(ws, big_run=1)[0] == incremental == _materialize(ws, big_run=1 << 40)[0]
    assert store.cursor(ws.conn) == head


def test_group_codes_follow_first_appearance(ws):
    _history(ws)
    store.refresh(ws)
    groups = ws.conn.execute("SELECT kind, code, name, currency FROM feature_groups ORDER BY kind, code").fetchall()
    assert groups == [("account", 0, "checking", "USD"), ("account", 1, "card", "USD"),
                      ("merchant", 0, "coffeebar", "USD"), ("merchant", 1, "teahouse", "USD"),
                      ("merchant", 2, "book", "USD"), ("merchant", 3, "acmepayroll", "USD")]
