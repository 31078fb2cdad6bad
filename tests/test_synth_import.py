"""A generated history's exports import to exactly its ground-truth transactions."""

import csv
from collections import Counter
from datetime import date

import pytest

from fincli.ledger import maintenance, queries
from fincli.ingest.importer import Options, import_files
from fincli.synth import generate
from fincli.workspace import open_workspace


def key(r):
    return r["account"], r["date"], r["amount"], r["currency"], r["description"]


@pytest.mark.parametrize("seed,months", [(3, 9), (21, 14)])
def test_generated_history_imports_to_exactly_its_truth(tmp_path, seed, months):
    generate(seed, tmp_path / "h", start=date(2022, 5, 1), months=months)
    with open(tmp_path / "h" / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    ws = open_workspace(tmp_path / "ws")
    try:
        exports = sorted((tmp_path / "h" / "exports").glob("*.csv"))
        reports = import_files(ws, [str(p) for p in exports], Options())
        assert [r.error for r in reports if r.error] == []
        got = list(queries.list_transactions(ws))
        assert Counter(map(key, got)) == Counter(map(key, truth))
        marked = {t["transfer_id"] for t in got if t["transfer_id"]}
        assert len(marked) == len({t["transfer_id"] for t in truth if t["transfer_id"]})
        maintenance.verify(ws)
    finally:
        ws.close()
