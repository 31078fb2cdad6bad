"""fin's quality figures against a generated history's ground truth.

    python bench/evaluate.py [--seed N] [--months M]

Generates a household history, imports its overlapping exports into a fresh
workspace the way a user would, and scores what fin derived against the truth:
transactions recovered exactly, transfer pairs, and pending rows matched to their
posted versions. Then it gives fin the user's labels (truth/labels.csv, each on the
day it was given) and scores categorization the way `fin categorize --evaluate` does,
training on the labels of the first 3 and of the first 12 months.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from fincli.ledger import queries
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


def evaluate(seed: int, months: int) -> tuple[list[tuple[str, str, str]], list[tuple]]:
    out = Path(tempfile.mkdtemp(prefix="fin-eval-"))
    generate(seed, out / "history", start=date(2023, 1, 1), months=months)
    with open(out / "history" / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    ws = open_workspace(out / "ws")
    try:
        exports = sorted((out / "history" / "exports").glob("*.csv"))
        reports = import_files(ws, [str(p) for p in exports], Options())
        failed = [r.error for r in reports if r.status == "failed"]
        got = list(queries.list_transactions(ws))
        possible = ws.conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0]
        categorization = categorization_rows(ws, out / "history", date(2023, 1, 1))
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
    return categorization, [
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


def categorization_rows(ws, history: Path, start: date) -> list[tuple]:
    """Label the workspace as the user did, then evaluate with 3 and 12 months of labels."""
    from fincli.evaluation import COVERAGES, evaluate as evaluate_categories
    from fincli.features.labels import set_labels

    from fincli.synth import truth_ids

    ids = truth_ids(ws.conn, history)
    with open(history / "truth" / "labels.csv", newline="", encoding="utf-8") as handle:
        labels = [(ids[r["key"]], r["category"], r["labelled_at"], "labels.csv")
                  for r in csv.DictReader(handle) if r["key"] in ids]
    set_labels(ws, labels)
    rows = []
    for months in (3, 12):
        split = date(start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1)
        report = evaluate_categories(ws, split.isoformat())
        for method, s in report["methods"].items():
            rows.append((f"{months} months", f"{report['train_labels']}/{report['test_transactions']}", method,
                         f"{s['accuracy']:.3f}", f"{s['macro_f1']:.3f}",
                         *(f"{s['accuracy_at_coverage'][f'{c:.0%}']:.3f}" for c in COVERAGES),
                         f"{s['accuracy_at_threshold'] or 0:.3f} @ {s['coverage_at_threshold']:.1%}"
                         if method == "model" else ""))
    return rows


def _print(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def main() -> None:
    from fincli.evaluation import COVERAGES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    categorization, rows = evaluate(args.seed, args.months)
    _print(("figure", "value", "detail"), rows)
    print()
    _print(("labels", "train/test", "method", "accuracy", "macro-F1", *(f"acc@{c:.0%}" for c in COVERAGES),
            "model: acc @ coverage at review_below"), categorization)


if __name__ == "__main__":
    main()
