"""Bill detection against a generated history's true streams, and against Actual Budget's rule.

    python bench/eval_bills.py [--seeds 11,12,13] [--months 36]

Each history is generated with every stream frequency (`--all-frequencies`: biweekly pay, biweekly pay
moved to the Friday before a bank-holiday Monday, a biweekly cleaner billed by the hour,
semi-monthly day care, semi-annual insurance with a price rise, quarterly variable water,
cancelled weekly and monthly ones), imported into a fresh workspace and searched by the bills
service. A detected stream matches a true one when at least half its transactions are the true
stream's. Transfers between own accounts are not bills (the card payments and the savings
transfer are left out of the truth). Figures:
stream precision, recall and F1 (overall and per true frequency); for active streams, the next
date exact and within ±2 days, the next amount's relative error (fixed and variable); cancelled
streams still predicted (status not `cancelled`: should be 0); price changes flagged (an alert
at the first changed charge). The baseline is a plain reimplementation of Actual's rule: per
exact payee, the latest charge and at least two before it at a weekly, biweekly or monthly step
(±2 days), amounts within 7.5%; one stream per payee, never cancelled.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

TRANSFER_STREAMS = {"card-payment", "amex-payment", "savings-transfer"}
FREQS = ["weekly", "biweekly", "semimonthly", "monthly", "quarterly", "semiannual", "yearly"]


def _add_month(d: date, k: int = 1) -> date:
    import calendar

    n = d.year * 12 + d.month - 1 + k
    y, m = n // 12, n % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def actual_rule(rows: list[dict]) -> list[dict]:
    """Actual Budget's find-schedules, plainly: 3 charges, exact payee, ±2 days, ±7.5%, weekly/biweekly/monthly."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["account"], r["merchant"])].append(r)
    out = []
    for group in groups.values():
        group.sort(key=lambda r: (r["date"], r["id"]))
        latest = group[-1]
        for freq, step in (("weekly", lambda d, k: d - timedelta(days=7 * k)),
                           ("biweekly", lambda d, k: d - timedelta(days=14 * k)),
                           ("monthly", lambda d, k: _add_month(d, -k))):
            chain, last = [latest], date.fromisoformat(latest["date"])
            k = 1
            while True:
                want = step(last, k)
                hit = [r for r in group if r not in chain and abs((date.fromisoformat(r["date"]) - want).days) <= 2
                       and abs(r["amount"] - latest["amount"]) <= 0.075 * abs(latest["amount"])]
                if not hit:
                    break
                chain.append(hit[0])
                k += 1
            if len(chain) >= 3:
                nxt = (last + timedelta(days=7 if freq == "weekly" else 14) if freq != "monthly"
                       else _add_month(last, 1))
                out.append({"frequency": freq, "transaction_ids": [r["id"] for r in chain], "status": "mature",
                            "next_date": nxt.isoformat(), "next_amount": latest["amount"], "alerts": []})
                break
    return out


def _load(seed: int, months: int, out: Path):
    from fincli.ingest.importer import Options, import_files
    from fincli.ledger import queries
    from fincli.money import to_minor
    from fincli.services import bills, engine
    from fincli.synth import generate
    from fincli.workspace import open_workspace
    from decimal import Decimal

    generate(seed, out / "history", start=date(2023, 1, 1), months=months, all_frequencies=True)
    with open(out / "history" / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    with open(out / "history" / "truth" / "streams.csv", newline="", encoding="utf-8") as handle:
        streams = [s for s in csv.DictReader(handle) if s["stream_id"] not in TRANSFER_STREAMS]
    ws = open_workspace(out / "ws")
    try:
        import_files(ws, [str(p) for p in sorted((out / "history" / "exports").glob("*.csv"))], Options())
        engine.run_one(ws, bills.service)
        detected = bills.latest_streams(ws)
        got = list(queries.list_transactions(ws))
        rows = [{"id": i, "account": a, "merchant": m, "date": d, "amount": amt} for i, a, m, d, amt in ws.conn.execute(
            "SELECT id, account, merchant, date, amount FROM transactions"
            " WHERE replaced_by IS NULL AND pending = 0 AND transfer_id IS NULL")]
    finally:
        ws.close()
    key = lambda r: (r["account"], r["date"], r["amount"], r["currency"], r["description"])  # noqa: E731
    stream_of = {key(t): t["stream_id"] for t in truth}
    label = {t["id"]: stream_of.get(key(t), "") for t in got}
    for s in streams:
        s["next_minor"] = to_minor(Decimal(s["next_expected_amount"]), s["currency"]) if s["next_expected_amount"] else None
    return streams, detected, rows, label


def score(streams: list[dict], detected: list[dict], label: dict) -> dict:
    """Counts for one history; sum them over histories, then `figures`."""
    true = {s["stream_id"]: s for s in streams if int(s["occurrences"]) >= 2}
    c = defaultdict(int)
    found: dict[str, dict] = {}
    for d in detected:
        votes = defaultdict(int)
        for i in d["transaction_ids"]:
            votes[label.get(i, "")] += 1
        best, n = max(votes.items(), key=lambda kv: kv[1])
        ok = best in true and n * 2 >= len(d["transaction_ids"]) and best not in found
        c[f"detected {d['frequency']}"] += 1
        c["detected"] += 1
        if ok:
            found[best] = d
            c["tp"] += 1
            c[f"tp {true[best]['period']}"] += 1
            c[f"tp-detected {d['frequency']}"] += 1
    for sid, s in true.items():
        c[f"true {s['period']}"] += 1
        c["true"] += 1
        d = found.get(sid)
        if s["status"] == "cancelled":
            c["cancelled"] += 1
            c["cancelled predicted"] += int(d is not None and d["status"] != "cancelled")
            continue
        if d is None:
            continue
        c["active found"] += 1
        gap = abs((date.fromisoformat(d["next_date"]) - date.fromisoformat(s["next_expected_date"])).days)
        c["next exact"] += gap == 0
        c["next ±2"] += gap <= 2
        kind = "variable" if s["amount_model"] == "variable" else "fixed"
        c[f"amount {kind} n"] += 1
        c[f"amount {kind} err"] += abs(abs(d["next_amount"]) - abs(s["next_minor"])) / abs(s["next_minor"])
        if s["amount_model"] == "stepped":
            c["price changes"] += 1
            c["price changes flagged"] += any(a["kind"] in ("price_increase", "price_decrease") for a in d["alerts"])
    return c


def _r(a, b) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def figures(c: dict) -> list[tuple]:
    p, r = (c["tp"] / c["detected"] if c["detected"] else 0), (c["tp"] / c["true"] if c["true"] else 0)
    rows = [("streams: true / detected / matched", f"{c['true']} / {c['detected']} / {c['tp']}"),
            ("stream precision", _r(c["tp"], c["detected"])), ("stream recall", _r(c["tp"], c["true"])),
            ("stream F1", f"{2 * p * r / (p + r):.3f}" if p + r else "0.000")]
    for f in FREQS:
        if c[f"true {f}"]:
            fp = c[f"tp-detected {f}"] / c[f"detected {f}"] if c[f"detected {f}"] else 0
            fr = c[f"tp {f}"] / c[f"true {f}"]
            rows.append((f"  {f}: recall / precision / F1", f"{fr:.2f} / {fp:.2f} / "
                         f"{(2 * fp * fr / (fp + fr) if fp + fr else 0):.2f}"))
    rows += [("next date exact (active found)", _r(c["next exact"], c["active found"])),
             ("next date within ±2 days", _r(c["next ±2"], c["active found"])),
             ("amount error, fixed (mean relative)", _r(c["amount fixed err"], c["amount fixed n"])),
             ("amount error, variable (mean relative)", _r(c["amount variable err"], c["amount variable n"])),
             ("cancelled streams still predicted (want 0)", f"{c['cancelled predicted']} of {c['cancelled']}"),
             ("price changes flagged", f"{c['price changes flagged']} of {c['price changes']}")]
    return rows


def evaluate(seeds: list[int], months: int) -> list[tuple]:
    ours, theirs = defaultdict(int), defaultdict(int)
    for seed in seeds:
        streams, detected, rows, label = _load(seed, months, Path(tempfile.mkdtemp(prefix="fin-bills-")))
        for k, v in score(streams, detected, label).items():
            ours[k] += v
        for k, v in score(streams, actual_rule(rows), label).items():
            theirs[k] += v
    return [(name, value, other) for (name, value), (_, other) in zip(figures(ours), figures(theirs))]


def print_table(rows: list[tuple]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'bills figure':<{width}}  {'fin':<22}  Actual's rule")
    for name, value, other in rows:
        print(f"{name:<{width}}  {value:<22}  {other}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda t: [int(x) for x in t.split(",") if x.strip()], default=[11, 12, 13])
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    print(f"seeds {', '.join(map(str, args.seeds))}; {args.months} months each")
    print_table(evaluate(args.seeds, args.months))


if __name__ == "__main__":
    main()
