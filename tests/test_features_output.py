"""How a training set is read and written: the background history scan and the CSV writer."""

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from fincli.store import connection as db
from fincli.store.log import Event
from fincli.features import pit
from fincli.features.store import refresh
from fincli.features.training import build, training_set, write_columns

from eventkit import append_and_project, import_events


def _labelled(ws):
    append_and_project(ws, import_events("i1", "checking", [("t1", "2024-03-01", -500, "COFFEE BAR"),
                                                             ("t2", "2024-03-02", -600, "COFFEE BAR"),
                                                             ("t3", "2024-03-03", 2500, "ACME PAYROLL")]))
    append_and_project(ws, [Event("label.set", f"l{i}", "2024-03-05", "user", {"id": t, "category": c})
                            for i, (t, c) in enumerate([("t2", "coffee"), ("t3", "pay, \"monthly\""), ("t1", "x")])])
    refresh(ws)


def test_the_background_scan_reads_what_the_connection_reads(ws):
    _labelled(ws)
    ws.conn.execute("BEGIN")
    try:
        scan = pit.Scan.in_background(ws.conn)
        assert scan.future is not None
        background = scan.columns(ws.conn)
    finally:
        ws.conn.execute("COMMIT")
    here = pit.Scan().columns(ws.conn)
    assert [c.tolist() for c in background] == [c.tolist() for c in here]
    assert len(here[0]) == 3


def test_a_background_scan_of_another_snapshot_is_not_used(ws, monkeypatch):
    _labelled(ws)
    expected = build(ws.conn, "categorize")
    assert [r["merchant_count"] for r in expected[1]] == [1, 0, 0]
    # the second connection saw a different log position: its columns must be read again on conn
    monkeypatch.setattr(pit.Scan, "_read_at", classmethod(lambda cls, uri: (-1, [None] * 7)))
    assert build(ws.conn, "categorize") == expected
    # and a second connection that fails changes nothing either
    def fail(cls, uri):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(pit.Scan, "_read_at", classmethod(fail))
    assert build(ws.conn, "categorize") == expected


def test_inside_a_callers_transaction_the_build_reads_in_it(ws):
    _labelled(ws)
    expected = build(ws.conn, "categorize")
    with db.transaction(ws.conn):
        assert build(ws.conn, "categorize") == expected
        assert ws.conn.in_transaction


def _csv_module(cols, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    writer.writerows([[("" if v is None else v) for v in row] for row in rows] if len(cols) == 1 else rows)
    return buf.getvalue().encode("utf-8")


@pytest.mark.parametrize("cols, rows", [
    (["a", "b", "c"], [[1, "x", 0.5], [None, "", None], [-7, "comma, here", 1e16], [0, 'say "hi"', -0.0]]),
    (["txn_id", "label"], [["t\n1", "new\nline"], ["t\r2", "carriage\rreturn"], ["t3", "nul\0char"], ["é", "ü"]]),
    (["only"], [[None], [""], ["x"], [3], ["a,b"]]),
    (["name, with comma", 'q"uote'], [[1, 2]]),
    (["json", "n"], [[[1, 2], 3], [{"a": "b"}, None]]),
    (["a", "b"], []),
])
def test_the_csv_writer_writes_what_the_csv_module_writes(tmp_path, cols, rows):
    out = tmp_path / "out.csv"
    write_columns(out, cols, {c: [r[i] for r in rows] for i, c in enumerate(cols)})
    assert out.read_bytes() == _csv_module(cols, rows)


def test_a_training_set_csv_is_what_the_csv_module_writes(tmp_path, ws):
    _labelled(ws)
    info = training_set(ws, "categorize", tmp_path / "train.csv")
    cols, rows, _ = build(ws.conn, "categorize")
    assert (tmp_path / "train.csv").read_bytes() == _csv_module(cols, [[r[c] for c in cols] for r in rows])
    assert info["columns"] == cols and Path(tmp_path / "train.csv.manifest.json").exists()
