import json
import shutil
import sqlite3

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from fincli.ledger import maintenance, projections
from fincli.store import connection as db, log as ev
from fincli.merchant import normalize
from fincli.store.log import Event
from fincli.workspace import open_workspace

from eventkit import append_and_project, import_events, raw_append


def test_appending_the_same_event_twice_stores_it_once(ws):
    batch = import_events("imp1", "checking", [("t1", "2024-01-02", -500, "COFFEE")])
    first = append_and_project(ws, batch)
    second = append_and_project(ws, batch)
    assert len(first) == 2 and second == []
    assert ws.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    assert [e.seq for e in first] == [1, 2]


def test_update_and_delete_on_the_log_fail_in_sqlite_itself(ws):
    append_and_project(ws, import_events("imp1", "checking", [("t1", "2024-01-02", -500, "COFFEE")]))
    plain = sqlite3.connect(ws.db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        plain.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        plain.execute("DELETE FROM events")
    assert plain.execute("SELECT count(*) FROM events").fetchone()[0] == 2


def test_flipping_one_payload_byte_makes_verify_name_that_event(ws, fin, tmp_path):
    append_and_project(ws, import_events("imp1", "checking",
                                         [("t1", "2024-01-02", -500, "COFFEE"), ("t2", "2024-01-03", -700, "LUNCH")]))
    assert fin("verify").exit_code == 0
    ws.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(ws.db_path, copy / "fin.db")
    raw = sqlite3.connect(copy / "fin.db")
    raw.execute("DROP TRIGGER events_append_only_update")
    payload = raw.execute("SELECT payload FROM events WHERE seq = 2").fetchone()[0]
    flipped = payload.replace("LUNCH", "LUNCX")
    raw.execute("UPDATE events SET payload = ? WHERE seq = 2", (flipped,))
    raw.commit()
    raw.close()
    result = fin.runner.invoke(fin_app(), ["--home", str(copy), "verify"])
    assert result.exit_code == 1
    assert "event 2 " in result.stderr and "t2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def fin_app():
    from fincli.cli import app
    return app


def test_projection_tampering_is_found_by_verify_and_fixed_by_rebuild(ws, fin):
    append_and_project(ws, import_events("imp1", "checking", [("t1", "2024-01-02", -500, "COFFEE")]))
    ws.conn.execute("UPDATE transactions SET amount = 1 WHERE id = 't1'")
    result = fin("verify")
    assert result.exit_code == 1 and "transactions row 't1'" in result.stderr
    assert fin("rebuild", "--verify").exit_code == 0
    assert fin("verify").exit_code == 0


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_upcasting_a_v1_transaction_gives_the_current_shape(amount):
    v1 = {"id": "t1", "account": "a", "date": "2024-01-01", "amount": str(amount), "currency": "USD",
          "description": "X", "import_id": "i", "line": 2, "key": "k"}
    event = ev.decode(1, "e1", "transaction.imported", 1, "2024-01-01", "now", "i", json.dumps(v1))
    assert isinstance(event, Event) and event.version == 2
    assert event.payload["amount"] == int(amount * 100)
    assert ev.TYPES["transaction.imported"].problem(event.payload) is None



def test_bad_events_are_quarantined_and_replay_continues(ws, fin):
    append_and_project(ws, import_events("imp1", "checking", [("t1", "2024-01-02", -500, "COFFEE")]))
    raw_append(ws.conn, "x1", "budget.exploded", 1, "{}")
    raw_append(ws.conn, "x2", "transaction.imported", 2, json.dumps({"id": "t9", "amount": "lots"}))
    append_and_project(ws, import_events("imp2", "checking", [("t3", "2024-01-04", -900, "BOOKS")]))
    result = fin("rebuild")
    assert result.exit_code == 0, result.stderr
    assert "2 quarantined" in result.stderr
    reasons = dict(ws.conn.execute("SELECT event_id, reason FROM quarantine").fetchall())
    assert reasons == {"x1": "unknown event type 'budget.exploded'", "x2": "missing field 'account'"}
    ids = [r[0] for r in ws.conn.execute("SELECT id FROM transactions ORDER BY id")]
    assert ids == ["t1", "t3"]
    assert fin("verify").exit_code == 0


def test_a_rebuild_keeps_the_first_of_two_imports_of_one_id_and_quarantines_a_bad_row_between(ws, fin):
    def txn(amount):
        return json.dumps({"id": "t1", "account": "checking", "date": "2024-01-02", "amount": amount,
                           "currency": "USD", "description": "COFFEE", "import_id": "other", "line": 2, "key": "k1"},
                          sort_keys=True, separators=(",", ":"))

    with db.transaction(ws.conn):
        raw_append(ws.conn, "a", "transaction.imported", 2, txn(-500))
        raw_append(ws.conn, "b", "transaction.imported", 2, json.dumps({"id": "t2", "amount": "lots"}))
        raw_append(ws.conn, "c", "transaction.imported", 2, txn(-700))
    result = fin("rebuild")
    assert result.exit_code == 0, result.stderr
    assert "1 quarantined" in result.stderr
    assert ws.conn.execute("SELECT id, amount, seq FROM transactions").fetchall() == [("t1", -500, 1)]
    assert ws.conn.execute("SELECT event_id FROM quarantine").fetchall() == [("b",)]
    assert fin("verify").exit_code == 0


# --- replay equals incremental --------------------------------------------------------------

dates = st.dates(min_value=__import__("datetime").date(2024, 1, 1),
                 max_value=__import__("datetime").date(2024, 3, 31)).map(str)
txn = st.tuples(st.sampled_from([f"t{i}" for i in range(12)]), dates, st.integers(-10**6, 10**6),
                st.sampled_from(["COFFEE", "RENT", "PAYMENT THANK YOU", "SQ *BAKERY"]))
step = st.one_of(
    st.tuples(st.just("import"), st.sampled_from(["checking", "card"]), st.lists(txn, max_size=5)),
    st.tuples(st.just("undo"), st.integers(0, 5)),
    st.tuples(st.just("posted"), st.sampled_from([f"t{i}" for i in range(12)]),
              st.sampled_from([f"t{i}" for i in range(12)])),
    st.tuples(st.just("transfer"), st.sampled_from([f"t{i}" for i in range(12)]),
              st.sampled_from([f"t{i}" for i in range(12)])),
    st.tuples(st.just("dup"), st.sampled_from([f"t{i}" for i in range(12)]),
              st.sampled_from([f"t{i}" for i in range(12)])),
)


def _events_for(steps):
    out, imports = [], []
    for n, s in enumerate(steps):
        if s[0] == "import":
            import_id = f"imp{n}"
            imports.append(import_id)
            unique = {t[0]: t for t in s[2]}          # a transaction id appears once per import
            out.append(import_events(import_id, s[1], list(unique.values())))
        elif s[0] == "undo" and imports:
            target = imports[s[1] % len(imports)]
            out.append([Event("import.undone", f"undo:{target}", "2024-04-01", "user", {"import_id": target})])
        elif s[0] == "posted":
            out.append([Event("transaction.posted", f"p{n}", "2024-04-01", "x", {"id": s[1], "pending_id": s[2]})])
        elif s[0] == "transfer":
            out.append([Event("transfer.matched", f"tr{n}", "2024-04-01", "x",
                              {"transfer_id": f"tr{n}", "out_id": s[1], "in_id": s[2]})])
        elif s[0] == "dup":
            out.append([Event("transaction.duplicate_suspected", f"d{n}", "2024-04-01", "x",
                              {"id": s[1], "of": s[2], "reason": "test"})])
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, max_size=12))
def test_replaying_the_whole_log_equals_applying_events_one_by_one(tmp_path_factory, steps):
    home = tmp_path_factory.mktemp("ws")
    ws = open_workspace(home)
    try:
        for batch in _events_for(steps):
            append_and_project(ws, batch)
        live = projections.digest(ws.conn)
        fresh = open_workspace(tmp_path_factory.mktemp("empty"))
        try:
            rows = ws.conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
            fresh.conn.execute("BEGIN")
            fresh.conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", rows)
            projections.catch_up(fresh.conn)
            fresh.conn.execute("COMMIT")
            assert projections.digest(fresh.conn) == live
        finally:
            fresh.close()
        maintenance.rebuild(ws)
        assert projections.digest(ws.conn) == live
    finally:
        ws.close()


def test_an_old_version_event_in_the_log_replays_in_its_current_shape(ws, fin):
    v1 = {"id": "t7", "account": "checking", "date": "2024-01-05", "amount": "-12.34", "currency": "USD",
          "description": "OLD FIN", "import_id": "old", "line": 2, "key": "k7"}
    raw_append(ws.conn, "old:t7", "transaction.imported", 1, json.dumps(v1))
    append_and_project(ws, import_events("imp2", "checking", [("t8", "2024-01-06", -900, "NEW FIN")]))
    assert fin("rebuild", "--verify").exit_code == 0
    rows = dict(ws.conn.execute("SELECT id, amount FROM transactions").fetchall())
    assert rows == {"t7": -1234, "t8": -900}


def test_every_event_type_has_a_projection_handler():
    assert set(ev.TYPES) == set(projections.HANDLERS)


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(id=text, account=text, date=text, amount=st.integers(-10**15, 10**15), currency=text, description=text,
       import_id=text, line=st.integers(1, 10**9), key=text, bank_id=st.none() | text,
       balance=st.none() | st.integers(-10**15, 10**15), pending=st.booleans(), value_date=st.none() | text)
def test_the_import_payload_writer_gives_exactly_the_canonical_valid_payload(**fields):
    written = ev.imported_transaction_json(**fields)
    payload = {k: v for k, v in fields.items() if v not in (None, False, "") or k not in
               ("bank_id", "balance", "pending", "value_date")}
    assert written == ev.canonical(payload)
    assert ev.TYPES["transaction.imported"].problem(json.loads(written)) is None


def test_the_import_payload_writer_refuses_a_non_integer_amount():
    with pytest.raises(TypeError):
        ev.imported_transaction_json("t", "a", "2024-01-01", 1.5, "USD", "x", "imp", 1, "k")


def test_appending_encoded_payloads_chains_and_replays_like_appending_events(ws, fin):
    append_and_project(ws, import_events("imp1", "checking", [("t1", "2024-01-02", -500, "COFFEE")]))
    fields = [("t2", "checking", "2024-01-03", -700, "USD", "LUNCH ☕", "imp2", 2, "k2"),
              ("t3", "checking", "2024-01-04", 2500, "USD", "REFUND", "imp2", 3, "k3")]
    with db.transaction(ws.conn):
        first = ev.append_encoded(ws.conn, "transaction.imported", "imp2",
                                  [(f"imp2:{f[7]}", f[2], ev.imported_transaction_json(*f)) for f in fields])
        projections.apply_imported(ws.conn, [(*f, None, None, 0, None, None, seq) for seq, f in enumerate(fields, first)])
    assert first == 3
    assert [e.payload["id"] for e in ev.read(ws.conn, after=2)] == ["t2", "t3"]
    assert ws.conn.execute("SELECT merchant FROM transactions WHERE id = 't2'").fetchone()[0] == normalize("LUNCH ☕")
    assert projections.cursor(ws.conn) == 4
    result = fin("verify")
    assert result.exit_code == 0, result.output
