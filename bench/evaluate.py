"""fin's quality figures against a generated history's ground truth.

    python bench/evaluate.py [--seed N ...] [--seeds 11,12] [--months M] [--first-hour]
                             [--bank-category on|off|both]

Generates a household history, imports its overlapping exports into a fresh
workspace the way a user would, and scores what fin derived against the truth:
transactions recovered exactly, transfer pairs, and pending rows matched to their
posted versions. It scores merchant resolution: fin's `merchant` of each transaction
against its true merchant (pairwise precision/recall, people and giro payees merged,
the worst splits and merges). Then it gives fin the user's labels (truth/labels.csv,
each on the day it was given) and scores categorization the way
`fin categorize --evaluate` does, training on the labels of the first 3 and of the
first 12 months. Each seed is a separate history with its own tables.

The first-hour curve starts again from the import alone (no labels) and labels the way a
new user answers `fin review`: the merchant at the head of the review queue, one of its
transactions, with its true category; after 0, 10, 25, 50 and 100 such labels (and a
`fin categorize`, which retrains when enough labels have arrived) it scores coverage (the
share of all transactions with a category, labels included) and accuracy against the
truth's category names, with the split by where each category came from.

`--bank-category off` removes the bank's category column from the exports that have one
(the credit card's) before they are imported, as for a bank that writes none; `both` runs
the first-hour curve each way and ends with the cold-start table (0 labels, every seed,
with and without the column).
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
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


FIRST_HOUR = (0, 10, 25, 50, 100)
# a household's own taxonomy (`--user-names`): the generator's categories as this user names them,
# two of them merged; the labels are given, and the accuracy judged, in these names
USER_NAMES = {"restaurants": "Restaurants", "groceries": "Groceries & household", "household": "Groceries & household",
              "coffee": "Coffee", "online_shopping": "Shopping", "shopping": "Shopping", "transport": "Getting around",
              "transfers": "Transfers", "subscriptions": "Subscriptions", "fuel": "Car", "entertainment": "Going out",
              "health": "Health", "cash": "Cash", "income": "Salary", "utilities": "Bills", "fees": "Bank fees",
              "rent": "Rent", "phone": "Phone & Internet", "travel": "Holidays"}


def evaluate(seed: int, months: int) -> tuple[list[tuple], list[tuple], list[tuple], list[str], list[tuple]]:
    """(categorization rows, import rows, merchant rows, worst merchant splits and merges, first-hour rows)."""
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
        ws.close()
        shutil.copytree(out / "ws", out / "first-hour")      # the same import, for a user with no labels yet
        ws = open_workspace(out / "ws")
        first = open_workspace(out / "first-hour")
        try:
            first_hour = first_hour_rows(first, out / "history")
        finally:
            first.close()
        merchants, worst = merchant_rows(ws, out / "history", truth)
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
    return categorization, first_hour, [
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
    ], merchants, worst


def _same_pairs(counts) -> int:
    """Pairs of transactions inside groups of the given sizes."""
    return sum(n * (n - 1) // 2 for n in counts)


def _members(counter: Counter, limit: int = 4) -> str:
    top = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{name or '(empty)'} ({n})" for name, n in top[:limit])
    return text + (f", +{len(top) - limit} more" if len(top) > limit else "")


def merchant_rows(ws, history: Path, truth: list[dict], worst: int = 10) -> tuple[list[tuple], list[str]]:
    """fin's merchant clustering (the projection's `merchant` column) against the true merchants.

    A pair of transactions is a true positive when both sides put them in one merchant:
    precision = pairs fin joins that are truly one merchant / pairs fin joins, recall = pairs
    truly one merchant that fin joins / true pairs. Pairs are counted per cluster (n choose 2).
    """
    from fincli.synth import truth_ids

    ids = truth_ids(ws.conn, history)
    fin_of = dict(ws.conn.execute("SELECT id, merchant FROM transactions WHERE replaced_by IS NULL"))
    matched = [(r, fin_of[ids[r["key"]]] or "") for r in truth if r["key"] in ids]
    cells = Counter((r["merchant"], fin) for r, fin in matched)
    by_true, by_fin = Counter(), Counter()
    fin_members: dict[str, Counter] = {}
    true_members: dict[str, Counter] = {}
    for (true, fin), n in cells.items():
        by_true[true] += n
        by_fin[fin] += n
        fin_members.setdefault(fin, Counter())[true] += n
        true_members.setdefault(true, Counter())[fin] += n
    both, joined, same = _same_pairs(cells.values()), _same_pairs(by_fin.values()), _same_pairs(by_true.values())
    precision = both / joined if joined else 0.0
    recall = both / same if same else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def merged(rows) -> list[str]:
        """fin merchants holding transactions of two or more different true merchants among `rows`."""
        held: dict[str, set] = {}
        for r, fin in rows:
            held.setdefault(fin, set()).add(r["merchant"])
        return sorted(fin for fin, trues in held.items() if len(trues) >= 2)
    people = merged([(r, fin) for r, fin in matched if r["merchant_kind"] == "person"])
    giro = [(r, fin) for r, fin in matched if r["account"] == "eurgiro"]
    payees = merged(giro)
    booking_texts = {r["description"].split(" | ")[1].casefold() for r, _ in giro}
    by_text = [fin for fin in payees if any(text in fin for text in booking_texts)]
    rows = [
        ("transactions scored (matched to fin's rows)", f"{len(matched)}/{len(truth)}", ""),
        ("pairwise precision (fin's merchants are one true merchant)", f"{precision:.3f}",
         f"{both:,} of {joined:,} pairs"),
        ("pairwise recall (a true merchant is one fin merchant)", f"{recall:.3f}", f"{both:,} of {same:,} pairs"),
        ("pairwise F1", f"{f1:.3f}", ""),
        ("merchants: fin / true", f"{len(by_fin)} / {len(by_true)}", ""),
        ("P2P people merged (fin merchants with >= 2 true people)", str(len(people)), "; ".join(people[:5])),
        ("merchants merged by a shared booking text (fin merchants with >= 2 true giro payees)",
         str(len(payees)), f"{len(by_text)} named after a booking text: {'; '.join(by_text[:4])}"
         if by_text else "; ".join(payees[:4])),
    ]
    wrong_joined = {fin: _same_pairs([by_fin[fin]]) - _same_pairs(m.values()) for fin, m in fin_members.items()}
    missing = {true: _same_pairs([by_true[true]]) - _same_pairs(m.values()) for true, m in true_members.items()}
    lines = ["worst merges (fin key -> true merchants; wrongly joined pairs):"]
    for fin in sorted(wrong_joined, key=lambda f: (-wrong_joined[f], f))[:worst]:
        if wrong_joined[fin]:
            lines.append(f"  {fin or '(empty)'!r} [{wrong_joined[fin]:,}] -> {_members(fin_members[fin])}")
    lines.append("worst splits (true merchant -> fin keys; pairs fin keeps apart):")
    for true in sorted(missing, key=lambda t: (-missing[t], t))[:worst]:
        if missing[true]:
            lines.append(f"  {true!r} [{missing[true]:,}] -> {_members(true_members[true])}")
    return rows, lines


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


def first_hour_rows(ws, history: Path, names: dict[str, str] | None = None, one_pass: bool = False) -> list[tuple]:
    """Label one transaction of the merchant at the head of `fin review`'s queue, again and again; score
    coverage and accuracy (truth's names, or the user's `names` for them) after each count of FIRST_HOUR,
    following a `fin categorize`. With `one_pass` that `fin categorize` runs on a copy of the workspace:
    the labels are one uninterrupted pass of `fin review` (the queue never sees a retraining), scored as
    if the user stopped there."""
    import shutil

    from fincli.services import categorize
    from fincli.synth import truth_ids
    from fincli.workspace import open_workspace

    ids = truth_ids(ws.conn, history)
    with open(history / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = {ids[r["key"]]: (names or {}).get(r["category"], r["category"]) for r in csv.DictReader(handle)
                 if r["key"] in ids and r["category"]}
    rows, given, asked = [], 0, set()
    for target in FIRST_HOUR:
        while given < target:
            entry = next((e for e in categorize.review_queue(ws) if e["merchant"] not in asked), None)
            if entry is None:
                break
            asked.add(entry["merchant"])
            txn_id = next((i for i in entry["transaction_ids"] if i in truth), None)
            if txn_id is None:
                continue
            categorize.label(ws, [(txn_id, truth[txn_id], None, "")])
            given += 1
        if not one_pass or not given:      # `fin import` categorizes what it imports: the pass starts there
            rows.append(_first_hour_row(ws, truth, given))
            continue
        copy = Path(tempfile.mkdtemp(prefix="fin-pass-")) / "ws"
        ws.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copytree(ws.home, copy)
        scored = open_workspace(copy)
        try:
            rows.append(_first_hour_row(scored, truth, given))
        finally:
            scored.close()
            shutil.rmtree(copy.parent)
    return rows


def _first_hour_row(ws, truth: dict[str, str], given: int) -> tuple:
    """`fin categorize`, then the row of FIRST_HOUR_HEADER."""
    from fincli.services import categorize

    result = categorize.run_all(ws)
    if result.error is not None:
        raise SystemExit(f"categorize failed: {result.error}")
    live = ws.conn.execute("SELECT id, category, category_source FROM transactions"
                           " WHERE replaced_by IS NULL").fetchall()
    done = [(i, c, s) for i, c, s in live if c is not None]
    right = Counter(s for i, c, s in done if truth.get(i) == c)
    by = Counter(s for _, _, s in done)
    scored = sum(1 for i, _, _ in done if i in truth)
    return (str(given), f"{len(done) / len(live):.1%}", _ratio(sum(right.values()), scored),
            *(f"{by[s]} ({_ratio(right[s], by[s])})" for s in ("user", "rule", "merchant", "model")),
            str(len(categorize.review_queue(ws))))


FIRST_HOUR_HEADER = ("labels", "coverage", "accuracy", "user (acc)", "rule (acc)", "merchant (acc)",
                     "model (acc)", "merchants in review")


def drop_bank_category(exports: Path) -> int:
    """Remove the bank's category column from every export that has one; returns how many files changed."""
    from fincli.ingest.columns import CATEGORY_NAMES

    changed = 0
    for path in sorted(exports.glob("*.csv")):
        data = path.read_bytes()
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            continue                     # the giro export (cp1252, `;`) has no category column
        rows = list(csv.reader(text.splitlines()))
        if not rows or not any(h.strip().lower() in CATEGORY_NAMES for h in rows[0]):
            continue
        at = next(i for i, h in enumerate(rows[0]) if h.strip().lower() in CATEGORY_NAMES)
        ending = "\r\n" if b"\r\n" in data else "\n"
        buf = io.StringIO()
        csv.writer(buf, lineterminator=ending).writerows([r[:at] + r[at + 1:] for r in rows])
        path.write_bytes(buf.getvalue().encode("ascii"))
        changed += 1
    return changed


def first_hour_only(seed: int, months: int, bank_category: bool = True,
                    names: dict[str, str] | None = None, one_pass: bool = False) -> list[tuple]:
    """The first-hour curve alone: generate, import, label the way `fin review` asks."""
    out = Path(tempfile.mkdtemp(prefix="fin-eval-"))
    generate(seed, out / "history", start=date(2023, 1, 1), months=months)
    if not bank_category:
        drop_bank_category(out / "history" / "exports")
    ws = open_workspace(out / "ws")
    try:
        import_files(ws, [str(p) for p in sorted((out / "history" / "exports").glob("*.csv"))], Options())
        return first_hour_rows(ws, out / "history", names, one_pass)
    finally:
        ws.close()


def _print(header: tuple, rows: list[tuple]) -> None:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def main() -> None:
    from fincli.evaluation import COVERAGES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", default=[],
                        help="a history's seed; may be given more than once (default 11)")
    parser.add_argument("--seeds", type=lambda text: [int(x) for x in text.split(",") if x.strip()], default=[],
                        help="comma-separated seeds, e.g. 11,12")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--first-hour", action="store_true",
                        help="only the first-hour curve: coverage and accuracy after 0-100 merchant labels")
    parser.add_argument("--user-names", action="store_true",
                        help="with --first-hour: the labels use a household's own category names (USER_NAMES)")
    parser.add_argument("--one-pass", action="store_true",
                        help="with --first-hour: score each count on a copy, so the labels are one uninterrupted "
                             "pass of `fin review` (by default each count's `fin categorize` retrains in between)")
    parser.add_argument("--bank-category", choices=("on", "off", "both"), default="on",
                        help="with --first-hour: import the exports with the bank's category column, without it, "
                             "or each way (then a cold-start table at 0 labels ends the output)")
    parser.add_argument("--bills", action="store_true", help="score bill detection instead (bench/eval_bills.py)")
    parser.add_argument("--spending", action="store_true", help="score the spending forecast instead (eval_spending.py)")
    args = parser.parse_args()
    if args.bills:
        import eval_bills

        eval_bills.print_table(eval_bills.evaluate(list(dict.fromkeys(args.seed + args.seeds)) or [11, 12, 13],
                                                   max(args.months, 36)))      # a yearly bill needs years
        return
    if args.spending:
        from eval_spending import main as spending

        return spending(list(dict.fromkeys(args.seed + args.seeds)) or [11, 12, 13], max(args.months, 36))
    seeds = list(dict.fromkeys(args.seed + args.seeds)) or [11]
    if args.first_hour:
        modes = {"on": (True,), "off": (False,), "both": (True, False)}[args.bank_category]
        cold = []
        for seed in seeds:
            for with_column in modes:
                column = "with" if with_column else "without"
                print(f"=== first hour, seed {seed}, {args.months} months, {column} the bank's category column ===")
                rows = first_hour_only(seed, args.months, with_column, USER_NAMES if args.user_names else None,
                                       args.one_pass)
                _print(FIRST_HOUR_HEADER, rows)
                cold.append((str(seed), column, rows[0][1], rows[0][2], rows[0][-1]))
        if len(cold) > 1:
            print("\n=== cold start: 0 labels ===")
            _print(("seed", "bank category column", "coverage", "accuracy", "merchants in review"), cold)
        return
    for n, seed in enumerate(seeds):
        if n:
            print()
        if len(seeds) > 1:
            print(f"=== seed {seed}, {args.months} months ===")
        categorization, first_hour, rows, merchants, worst = evaluate(seed, args.months)
        _print(("figure", "value", "detail"), rows)
        print()
        _print(("merchant resolution", "value", "detail"), merchants)
        print("\n".join(worst))
        print()
        _print(("labels", "train/test", "method", "accuracy", "macro-F1", *(f"acc@{c:.0%}" for c in COVERAGES),
                "model: acc @ coverage at review_below"), categorization)
        print()
        _print(FIRST_HOUR_HEADER, first_hour)


if __name__ == "__main__":
    main()
