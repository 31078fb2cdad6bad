"""Rule 7: the values scored online right after each import equal the training rows built later."""

from datetime import date

from fincli.store import log as ev
from fincli.features import online_features
from fincli.features.pit import Query
from fincli.features.store import refresh
from fincli.features.training import build
from fincli.ingest.importer import Options, import_files
from fincli.synth import generate


def test_online_values_equal_the_training_set_built_in_one_go(tmp_path, ws):
    generate(11, tmp_path / "h", start=date(2023, 2, 1), months=6)
    exports = sorted((tmp_path / "h" / "exports").glob("*.csv"), key=lambda p: (p.stem.split("_")[1], p.name))
    online: list[tuple[str, int, dict]] = []
    for path in exports:
        before = ev.head(ws.conn)[0]
        [report] = import_files(ws, [str(path)], Options())
        assert report.error is None
        new = [r[0] for r in ws.conn.execute(
            "SELECT payload ->> '$.id' FROM events WHERE type = 'transaction.imported' AND seq > ? ORDER BY seq",
            (before,))]
        head = ev.head(ws.conn)[0]
        online += [(txn, head, row) for txn, row in zip(new, online_features(ws, new))]
    assert len(online) > 300
    assert len({head for _, head, _ in online}) == len(exports)

    refresh(ws)
    queries = [Query(txn, head) for txn, head, _ in online]     # cutoff: the anchor's import
    _, rows, _ = build(ws.conn, "categorize", queries=queries)
    assert len(rows) == len(online)
    for (txn, head, live), row in zip(online, rows):
        assert row["cutoff"] == head and row["txn_id"] == txn
        assert {k: row[k] for k in live if k != "id"} == {k: v for k, v in live.items() if k != "id"}, txn
    # the later exports changed what is known about earlier dates: some rows needed the exact path
    assert any(row["merchant_count"] for row in rows)


def test_online_features_inside_the_import_transaction_see_the_new_rows(ws):
    from eventkit import import_events
    from fincli.ledger import projections
    from fincli.store import connection as db, log as ev_

    with db.transaction(ws.conn):
        ev_.append(ws.conn, import_events("i1", "card", [("t1", "2024-05-01", -900, "TEA HOUSE"),
                                                         ("t2", "2024-05-02", -100, "TEA HOUSE")]))
        projections.catch_up(ws.conn)
        first, second = online_features(ws, ["t1", "t2"])
    assert (first["merchant_count"], second["merchant_count"]) == (0, 1)
    assert second["merchant_mean_amount"] == -900 and second["account_spend_7d"] == 900
