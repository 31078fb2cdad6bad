"""Spending forecast quality on generated histories: every method's backtest error per category.

Each history is generated with `seasonal=True` (a yearly season per category, a December peak
and a slow price rise: fincli/synth/seasons.py). The series are the true month totals per
(currency, category) of its ground truth (transfers and income left out), sent to
models/spending.py in its own process, exactly as `fin run spending` sends them. Prints, per
seed, each category's backtest MAE of the three baselines, XGBoost, the chosen method (the
one with the lowest backtest MAE of that category) and `selected` (the same choice made
walk-forward: the honest error of the whole procedure, choice included); then the pooled MAE
of the chosen methods and of `selected` against seasonal naive's and the best baseline's, and
how many categories' chosen method errs more than their best baseline on the backtest.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from fincli.services.spending import month_range, next_month
from fincli.synth import generate

MODEL = Path(__file__).resolve().parents[1] / "models" / "spending.py"
COLUMNS = ("last", "mean3", "seasonal", "xgboost", "chosen", "selected")
BASELINES = ("last", "mean3", "seasonal")


def series_of(history: Path) -> list[dict]:
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    months = set()
    with open(history / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            months.add(r["date"][:7])
            if r["transfer_id"] or r["category"] in ("income", "transfers"):
                continue
            totals[(r["currency"], r["category"])][r["date"][:7]] -= int(Decimal(r["amount"]) * 100)
    span = month_range(min(months), max(months))
    return [{"currency": cur, "category": cat, "months": span, "totals": [by[m] for m in span],
             "target": next_month(span[-1])} for (cur, cat), by in sorted(totals.items())]


def backtest(rows: list[dict]) -> list[dict]:
    request = json.dumps({"op": "predict", "rows": rows})
    done = subprocess.run([sys.executable, str(MODEL)], input=request, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["result"]


def evaluate(seed: int, months: int) -> tuple[list[tuple], dict]:
    out = Path(tempfile.mkdtemp(prefix="fin-eval-spending-"))
    generate(seed, out / "history", start=date(2023, 1, 1), months=months, seasonal=True)
    results = backtest(series_of(out / "history"))
    rows, pooled = [], defaultdict(float)
    for r in results:
        b = {**r["backtest"], "chosen": r["backtest"].get(r["method"], {"mae": 0})}
        if any(m in b and b["chosen"]["mae"] > b[m]["mae"] for m in BASELINES):
            pooled["worse than a baseline"] += 1
        rows.append((f"{r['currency']} {r['category']}", *(f"{b[m]['mae'] / 100:.2f}" if m in b else "-" for m in COLUMNS),
                     r["method"]))
        if "seasonal" in b and "selected" in b:
            for m in COLUMNS:
                pooled[m] += b.get(m, {"mae": 0})["mae"]
    return rows, pooled


def main(seeds: list[int], months: int = 36) -> None:
    for seed in seeds:
        rows, pooled = evaluate(seed, months)
        print(f"--- spending forecast backtest, seed {seed}, {months} months (MAE per month, last 12 months) ---")
        header = ("series", *COLUMNS, "method")
        widths = [max(len(str(x[i])) for x in rows + [header]) for i in range(len(header))]
        for line in [header] + rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)))
        if pooled.get("seasonal"):
            best = min(pooled[m] for m in ("last", "mean3", "seasonal"))
            print(f"pooled MAE: chosen {pooled['chosen'] / 100:.2f} vs seasonal naive {pooled['seasonal'] / 100:.2f}"
                  f" = {pooled['chosen'] / pooled['seasonal']:.2f}× (goal <= 0.85×); best baseline "
                  f"{best / 100:.2f} ({'not ' if pooled['chosen'] > best else ''}beaten); categories whose chosen "
                  f"method errs more than one of their baselines: {int(pooled['worse than a baseline'])}")
            print(f"walk-forward: selected {pooled['selected'] / 100:.2f} = "
                  f"{pooled['selected'] / pooled['seasonal']:.2f}× seasonal naive; xgboost alone "
                  f"{pooled['xgboost'] / 100:.2f} = {pooled['xgboost'] / pooled['seasonal']:.2f}×")
        print()


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [11, 12, 13])
