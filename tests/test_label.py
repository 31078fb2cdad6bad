"""`fin label` and the `fin features` commands, end to end through the CLI."""

import csv
import json

from eventkit import append_and_project, import_events


def _history(ws):
    append_and_project(ws, import_events("i1", "checking", [("t1", "2024-01-02", -500, "COFFEE BAR"),
                                                             ("t2", "2024-01-09", -650, "COFFEE BAR"),
                                                             ("t3", "2024-01-10", 250000, "ACME PAYROLL")]))


def test_label_sets_the_category_and_survives_rebuild_and_verify(ws, fin):
    _history(ws)
    result = fin("label", "t1", "coffee")
    assert result.exit_code == 0 and "labelled 1 transaction" in result.stderr
    shown = {t["id"]: t for t in json.loads(fin("transactions", "--format", "json").stdout)}
    assert shown["t1"]["category"] == "coffee" and shown["t1"]["category_source"] == "user"
    assert shown["t2"]["category"] == "coffee" and shown["t2"]["category_source"] == "model"   # it follows
    assert shown["t2"]["confidence"] >= 0.95 and shown["t3"]["category"] != "coffee"
    assert fin("label", "t1", "restaurants").exit_code == 0          # the later label wins, and t2 follows it
    assert ws.conn.execute("SELECT category FROM transactions WHERE id = 't2'").fetchone()[0] == "restaurants"
    assert json.loads(fin("transactions", "--category", "restaurants", "--format", "json").stdout)[0]["id"] == "t1"
    assert fin("verify").exit_code == 0
    assert fin("rebuild", "--verify").exit_code == 0
    assert json.loads(fin("transactions", "--category", "restaurants", "--format", "json").stdout)[0]["id"] == "t1"


def test_label_file_is_all_or_nothing_with_one_line_errors(ws, fin, tmp_path):
    _history(ws)
    good = tmp_path / "labels.csv"
    good.write_text("id,category,labelled_at\nt1,coffee,2024-01-05\nt2,coffee,2024-01-12T09:30:00\nt3,income,\n")
    result = fin("label", "--file", good)
    assert result.exit_code == 0 and "labelled 3 transactions" in result.stderr
    dates = [r[0] for r in ws.conn.execute("SELECT occurred_at FROM events WHERE type = 'label.set' ORDER BY seq")]
    assert dates[:2] == ["2024-01-05", "2024-01-12"] and len(dates) == 3

    before = ws.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,category\nt1,groceries\nzzz,groceries\n")
    result = fin("label", "--file", bad)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and f"{bad}:3: unknown transaction id 'zzz'" in result.stderr
    assert ws.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
    assert ws.conn.execute("SELECT category FROM transactions WHERE id = 't1'").fetchone()[0] == "coffee"

    for text, expected in (("id,cat\nt1,x\n", "needs the columns id,category"),
                           ("id,category,labelled_at\nt1,x,yesterday\n", "is not an ISO date"),
                           ("id,category\nt1,\n", "the category is empty")):
        bad.write_text(text)
        result = fin("label", "--file", bad)
        assert result.exit_code == 1 and expected in result.stderr and result.stderr.count("\n") == 1


def test_label_usage_and_unknown_id(ws, fin):
    _history(ws)
    assert fin("label").exit_code == 2
    assert fin("label", "t1").exit_code == 2
    result = fin("label", "nope", "coffee")
    assert result.exit_code == 1 and "unknown transaction id 'nope'" in result.stderr
    assert result.stderr.count("\n") == 1


def test_features_list_and_show(ws, fin):
    _history(ws)
    listed = json.loads(fin("features", "list", "--format", "json").stdout)
    assert {"merchant_count", "account_spend_30d", "category_monthly_totals"} <= {f["name"] for f in listed}
    assert {f["entity"] for f in listed} == {"transaction", "merchant", "account", "category"}
    assert {f["owner"] for f in listed} <= {"categorize", "fraud", "spending", "bills"}

    shown = json.loads(fin("features", "show", "merchant_count", "--entity", "coffeebar",
                           "--as-of", "2024-01-09", "--format", "json").stdout)
    assert shown["entity"] == "merchant" and len(shown["hash"]) == 16
    assert shown["values"] == [{"entity": "coffeebar", "currency": "USD", "value": 2}]
    early = json.loads(fin("features", "show", "merchant_count", "--as-of", "2024-01-02", "--format", "json").stdout)
    assert {v["entity"]: v["value"] for v in early["values"]}["coffeebar"] == 1
    spend = json.loads(fin("features", "show", "account_spend_7d", "--entity", "checking", "--as-of", "2024-01-09",
                           "--format", "json").stdout)
    assert spend["values"][0]["value"] == 650            # [Jan 3, Jan 10): only t2
    txn = json.loads(fin("features", "show", "description_tokens", "--entity", "t1", "--format", "json").stdout)
    assert txn["values"] == [{"entity": "t1", "value": "coffee bar"}]

    fin("label", "t1", "coffee")
    fin("label", "t2", "coffee")
    totals = json.loads(fin("features", "show", "category_monthly_totals", "--entity", "coffee",
                            "--as-of", "2024-02-15", "--format", "json").stdout)
    assert totals["values"][0]["value"] == [0] * 11 + [1150]
    assert fin("features", "show", "merchant_count").exit_code == 0          # table output
    for args in (("no_such_feature",), ("merchant_count", "--entity", "nobody"), ("amount", "--entity", "nope")):
        result = fin("features", "show", *args)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, args
    bad_date = fin("features", "show", "merchant_count", "--as-of", "soon")   # a usage error, like every date option
    assert bad_date.exit_code == 2 and "'soon' is not a date" in bad_date.stderr


def test_training_set_and_rebuild_verify(ws, fin, tmp_path):
    _history(ws)
    fin("label", "t2", "coffee")
    out = tmp_path / "train.csv"
    result = fin("features", "training-set", "categorize", "--out", out)
    assert result.exit_code == 0 and "wrote 1 rows" in result.stderr
    [row] = list(csv.DictReader(out.open()))
    assert row["txn_id"] == "t2" and row["label"] == "coffee" and row["merchant_count"] == "1"
    manifest = json.loads((tmp_path / "train.csv.manifest.json").read_text())
    assert manifest["observations"] == 1 and manifest["log_position"] == 6    # + t1 following its merchant
    assert "merchant_count" in manifest["feature_definitions"]

    jsonl = tmp_path / "train.jsonl"
    assert fin("features", "training-set", "categorize", "--out", jsonl, "--as-known-now").exit_code == 0
    assert row["cutoff"] == "4" and json.loads(jsonl.read_text())["cutoff"] == 6
    parquet = tmp_path / "train.parquet"
    assert fin("features", "training-set", "categorize", "--out", parquet).exit_code == 0
    import pyarrow.parquet as pq
    assert pq.read_table(parquet).column("label").to_pylist() == ["coffee"]

    for args, expected in (((tmp_path / "x.txt",), "unknown output format"),):
        result = fin("features", "training-set", "categorize", "--out", *args)
        assert result.exit_code == 1 and expected in result.stderr
    result = fin("features", "training-set", "bills", "--out", out)
    assert result.exit_code == 1 and "no observations for service 'bills'" in result.stderr
    assert fin("features", "training-set", "categorize").exit_code == 2

    result = fin("features", "rebuild", "--verify")
    assert result.exit_code == 0 and "verified" in result.stderr
    assert fin("features", "rebuild").exit_code == 0
    before = out.read_bytes()
    assert fin("features", "training-set", "categorize", "--out", out).exit_code == 0
    assert out.read_bytes() == before


def test_rebuild_verify_catches_a_tampered_materialization(ws, fin):
    _history(ws)
    assert fin("features", "rebuild").exit_code == 0
    ws.conn.execute("UPDATE feature_txns SET amount = amount + 1 WHERE id = 't1'")
    result = fin("features", "rebuild", "--verify")
    assert result.exit_code == 1 and "differed from a rebuild" in result.stderr
    assert fin("features", "rebuild", "--verify").exit_code == 0              # the rebuild repaired it
