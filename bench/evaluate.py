"""fin's quality figures against a generated history's ground truth.

    python bench/evaluate.py [--seed N] [--months M]

Generates a household history, imports its overlapping exports into a fresh
workspace the way a user would, and scores what fin derived against the truth:
transactions recovered exactly, transfer pairs, and pending rows matched to their
posted versions. Model services add their rows here as they arrive.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from fincli import ledger
from fincli.ingest.importer import Options, import_files
from fincli.synth import generate
from fincli.workspace import open_workspace


def _key(r: dict) -> tuple:
    return r["account"], r["date"], r["amount"], r["currency"], r["description"]


def _pairs(rows, id_field: str, group_field: str) -> set[frozenset]:
    groups: dict[str, set] = {}
    for r in rows:
        if r[group_field]:
            groups.setdefault(r[group_field], set()).add(_key(r) if id_field == "key" else r[id_field])
    return {frozenset(g) for g in groups.values()}


def _ratio(hit: int, total: int) -> str:
    return f"{hit / total:.3f}" if total else "n/a"


def evaluate(seed: int, months: int) -> list[tuple[str, str, str]]:
    out = Path(tempfile.mkdtemp(prefix="fin-eval-"))
    generate(seed, out / "history", start=date(2023, 1, 1), months=months)
    with open(out / "history" / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    ws = open_workspace(out / "ws")
    try:
        exports = sorted((out / "history" / "exports").glob("*.csv"))
        reports = import_files(ws, [str(p) for p in exports], Options())
        failed = [r.error for r in reports if r.status == "failed"]
        got = list(ledger.list_transactions(ws))
        possible = ws.conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0]
    finally:
        ws.close()

    want, have = Counter(map(_key, truth)), Counter(map(_key, got))
    exact = sum((want & have).values())
    true_transfers = _pairs(truth, "key", "transfer_id")
    by_id = {t["id"]: _key(t) for t in got}
    found_transfers = {frozenset(by_id[t["id"]] for t in got if t["transfer_id"] == tid)
                       for tid in {t["transfer_id"] for t in got if t["transfer_id"]}}
    transfer_hits = len(true_transfers & found_transfers)
    pending_truth = sum(1 for r in truth if r["pending_seen"] == "1")
    posted = sum(len(r.posted) + len(r.pending_already_posted) for r in reports)
    still_pending = sum(1 for t in got if t["pending"])
    return [
        ("exports imported", f"{len(exports) - len(failed)}/{len(exports)}", "; ".join(failed)),
        ("transactions: truth / fin", f"{len(truth)} / {len(got)}", ""),
        ("transactions recovered exactly (recall)", _ratio(exact, len(truth)), f"{exact} rows"),
        ("transactions that are real (precision)", _ratio(exact, len(got)), f"{len(got) - exact} extra"),
        ("transfer pairs found (recall)", _ratio(transfer_hits, len(true_transfers)), f"{len(true_transfers)} true pairs"),
        ("transfer pairs correct (precision)", _ratio(transfer_hits, len(found_transfers)),
         f"{len(found_transfers)} marked"),
        ("pending rows matched to their posted version", f"{posted}", f"truth {pending_truth}; "
                                                                          f"{still_pending} still pending"),
        ("possible duplicates flagged (clean history: 0 expected)", str(possible), ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    rows = evaluate(args.seed, args.months)
    widths = [max(len(r[i]) for r in rows + [("figure", "value", "detail")]) for i in range(3)]
    print("  ".join(h.ljust(w) for h, w in zip(("figure", "value", "detail"), widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()
