"""Training sets agree row for row with a brute-force reference written plainly here.

The reference replays the raw event log up to each observation's cutoff (the projection's
rules: first import of an id wins, a posted row hides its pending row, undoing an import
removes the rows it names — older undo events: all its rows — and brings back the pending
rows they had replaced), then loops over every visible transaction to compute each
feature. No index, no numpy, no shared code.
"""

import csv
import json
import statistics
from datetime import date, timedelta

import pytest

from fincli.ledger import maintenance
from fincli.features.labels import set_labels
from fincli.features.store import refresh
from fincli.features.training import build
from fincli.ingest.importer import Options, import_files
from fincli.merchant import resolve
from fincli.synth import generate, truth_ids


def labelled_history(ws, out, seed=7, months=3, start=date(2023, 3, 1)):
    """Import every export (oldest window first), then the truth labels; returns the label count."""
    generate(seed, out, start=start, months=months)
    exports = sorted((out / "exports").glob("*.csv"), key=lambda p: (p.stem.split("_")[1], p.name))
    assert all(r.error is None for r in import_files(ws, [str(p) for p in exports], Options()))
    ids = truth_ids(ws.conn, out)
    with open(out / "truth" / "labels.csv", newline="", encoding="utf-8") as handle:
        rows = [(ids[r["key"]], r["category"], r["labelled_at"], "labels.csv") for r in csv.DictReader(handle)
                if r["key"] in ids]
    set_labels(ws, rows)
    return len(rows)


# --- the reference -----------------------------------------------------------------------

def load_log(conn):
    return [(seq, type_, json.loads(payload)) for seq, type_, payload in
            conn.execute("SELECT seq, type, payload FROM events ORDER BY seq")]


def visible_at(log, cutoff):
    """{event seq: payload} of the transactions visible after replaying the log up to cutoff."""
    present, replaced = {}, {}                       # id -> (seq, payload); pending id -> posted id
    for seq, type_, p in log:
        if seq > cutoff:
            break
        if type_ == "transaction.imported" and p["id"] not in present:
            present[p["id"]] = (seq, p)
        elif type_ == "transaction.posted" and p["pending_id"] in present:
            replaced[p["pending_id"]] = p["id"]
        elif type_ == "import.undone":
            gone = (set(p["removed"]) if "removed" in p     # rows another active import holds stay
                    else {i for i, (_, q) in present.items() if q["import_id"] == p["import_id"]})
            replaced = {old: new for old, new in replaced.items() if new not in gone and old not in gone}
            present = {i: v for i, v in present.items() if i not in gone}
    return {seq: p for i, (seq, p) in present.items() if i not in replaced}


def reference_rows(log, as_known_now=False):
    head = log[-1][0]
    recorded = {p["import_id"]: seq for seq, t, p in log if t == "import.recorded"}
    rows = []
    for obs_seq, type_, label in log:
        if type_ != "label.set":
            continue
        anchor_seq, anchor = max((seq, p) for seq, t, p in log
                                 if t == "transaction.imported" and p["id"] == label["id"] and seq <= obs_seq)
        cutoff = head if as_known_now else recorded[anchor["import_id"]]
        t_day = date.fromisoformat(anchor["date"])
        merchant = resolve(anchor["description"], anchor.get("payee")).key
        before = [p for seq, p in sorted(visible_at(log, cutoff).items())
                  if (p["date"], seq) < (anchor["date"], anchor_seq)]
        before.sort(key=lambda p: p["date"])          # stable: ties stay in seq order
        same_m = [p for p in before if resolve(p["description"], p.get("payee")).key == merchant and p["currency"] == anchor["currency"]]
        same_a = [p for p in before if p["account"] == anchor["account"] and p["currency"] == anchor["currency"]]
        amounts = [p["amount"] for p in same_m]
        days = [date.fromisoformat(p["date"]) for p in same_m][-13:]
        gaps = [(b - a).days for a, b in zip(days, days[1:])]
        row = {"txn_id": label["id"], "cutoff": cutoff, "merchant": merchant, "amount": anchor["amount"],
               "merchant_count": len(amounts),
               "merchant_mean_amount": statistics.fmean(amounts) if amounts else None,
               "merchant_std_amount": statistics.pstdev(amounts) if amounts else None,
               "merchant_days_since_last": (t_day - days[-1]).days if days else None,
               "merchant_median_gap_days": statistics.median(gaps) if gaps else None}
        for w in (7, 30, 90):
            row[f"account_spend_{w}d"] = sum(-p["amount"] for p in same_a if p["amount"] < 0
                                             and date.fromisoformat(p["date"]) >= t_day - timedelta(days=w))
        last_day = [p for p in same_a if p["amount"] < 0 and date.fromisoformat(p["date"]) >= t_day - timedelta(days=1)]
        row["account_charges_1d"] = len(last_day)
        row["account_small_charges_1d"] = sum(1 for p in last_day if -p["amount"] < 200)
        rows.append(row)
    return rows


def assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for name, value in w.items():
            if isinstance(value, float):
                assert g[name] == pytest.approx(value, abs=1e-3), (w["txn_id"], name)
            else:
                assert g[name] == value, (w["txn_id"], name)


@pytest.mark.parametrize("as_known_now", [False, True])
def test_training_set_equals_a_brute_force_reference(tmp_path, ws, as_known_now):
    labelled = labelled_history(ws, tmp_path / "h")
    # a retraction and a re-import after the first labels: later observations see the change
    undone = ws.conn.execute("SELECT import_id FROM imports ORDER BY seq LIMIT 1 OFFSET 2").fetchone()[0]
    maintenance.undo_import(ws, undone)
    path = ws.conn.execute("SELECT file FROM imports WHERE import_id = ?", (undone,)).fetchone()[0]
    assert import_files(ws, [path], Options())[0].error is None
    again = [r[0] for r in ws.conn.execute(
        "SELECT id FROM transactions WHERE replaced_by IS NULL ORDER BY date DESC, id LIMIT 25")]
    set_labels(ws, [(t, "review", None, "x") for t in again])
    refresh(ws)
    _, rows, _ = build(ws.conn, "categorize", as_known_now=as_known_now)
    assert len(rows) == labelled + 25 > 100
    assert_same(rows, reference_rows(load_log(ws.conn), as_known_now))
