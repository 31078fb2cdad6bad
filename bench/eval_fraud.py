"""Fraud detection quality on generated histories with injected fraud (truth/fraud.csv).

    python bench/eval_fraud.py [--seeds 1,2,3] [--months 24] [--surprises]

Each seed's exports are imported the way a user would (the fraud service runs at import).
An episode counts as caught when one alert covers at least half of its transactions.
Figures: recall per kind, precision over all alerts (an alert is right when it covers a
fraudulent transaction), false alerts per month, and how often a caught episode's alert
has the injected kind. Beside fin, two baselines with the same alert budget (as many
alerts as fin raised): a static "charge over $X" rule, and an IsolationForest alone over
the same signals, each alerting on single charges.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import tempfile
from datetime import date
from pathlib import Path

from fincli.ingest.importer import Options, import_files
from fincli.synth import generate
from fincli.workspace import open_workspace

KINDS = ("card_testing", "foreign_large", "duplicate", "spike", "burst")
START = date(2023, 1, 1)


def _key(r: dict) -> tuple:
    return r["account"], r["date"], str(r["amount"]), r["currency"], r["description"]


def score(alerts: list[tuple[str, set]], episodes: dict[str, tuple[str, set]], months: float) -> dict:
    """alerts: (kind, transaction ids); episodes: id -> (kind, transaction ids)."""
    fraud = set().union(*(ids for _, ids in episodes.values())) if episodes else set()
    caught, kind_right = {k: [0, 0] for k in KINDS}, [0, 0]
    for kind, ids in episodes.values():
        caught[kind][1] += 1
        covering = [a for a in alerts if len(a[1] & ids) * 2 >= len(ids)]
        if covering:
            caught[kind][0] += 1
            kind_right[1] += 1
            kind_right[0] += any(a[0] == kind for a in covering)
    right = sum(1 for _, ids in alerts if ids & fraud)
    return {"recall": {k: (h / n if n else None) for k, (h, n) in caught.items()},
            "precision": right / len(alerts) if alerts else None,
            "false_per_month": (len(alerts) - right) / months,
            "kind_right": kind_right[0] / kind_right[1] if kind_right[1] else None,
            "alerts": len(alerts)}


def _forest_module():
    spec = importlib.util.spec_from_file_location("fraud_model", Path(__file__).parents[1] / "models" / "fraud.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _episodes(ws, truth: list[dict], episode_of: dict) -> dict[str, tuple[str, set]]:
    """Episode id -> (kind, the ids fin gave its transactions)."""
    from fincli.money import format_minor

    rows = ws.conn.execute("SELECT id, account, date, amount, currency, description FROM transactions"
                           " WHERE replaced_by IS NULL").fetchall()
    id_of = {(a, d, format_minor(m, c), c, s): i for i, a, d, m, c, s in rows}
    episodes: dict[str, tuple[str, set]] = {}
    for t in truth:
        if t["key"] in episode_of:
            ep, kind = episode_of[t["key"]]
            txn = id_of.get(_key(t))
            if txn:
                episodes.setdefault(ep, (kind, set()))[1].add(txn)
    return episodes


def _load_truth(history: Path) -> tuple[list[dict], dict]:
    with open(history / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    with open(history / "truth" / "fraud.csv", newline="", encoding="utf-8") as handle:
        episode_of = {r["key"]: (r["episode_id"], r["kind"]) for r in csv.DictReader(handle)}
    return truth, episode_of


FEEDBACK_MONTHS = 12


def _import(ws, files: list[Path]) -> None:
    from fincli.cli.ledger import run_realtime_services

    import_files(ws, [str(p) for p in files], Options())
    if run_realtime_services(ws) != 0:
        raise SystemExit("a service failed during the evaluation")


def feedback_evaluation(history: Path, start: date, months: int) -> dict[str, dict]:
    """The history replayed with the user's feedback: statements of the first FEEDBACK_MONTHS imported,
    every alert of those months confirmed (it covers fraud) or dismissed (it does not), as `fin fraud
    confirm|dismiss` records them, then the later statements imported. Scored on the later months only:
    without feedback (the same history imported at once), with feedback and the rules alone (the
    supervised model switched off), and with feedback and the supervised model."""
    import shutil

    from fincli.services import fraud

    truth, episode_of = _load_truth(history)
    split = date(start.year + (start.month - 1 + FEEDBACK_MONTHS) // 12, (start.month - 1 + FEEDBACK_MONTHS) % 12 + 1,
                 1).isoformat()
    files = sorted((history / "exports").glob("*.csv"), key=lambda p: (p.stem.split("_")[-1], p.name))
    early = [p for p in files if p.stem.split("_")[-1] < split]
    later_months = months - FEEDBACK_MONTHS
    work = Path(tempfile.mkdtemp(prefix="fin-fraud-feedback-"))

    def later(ws) -> tuple[list, dict]:
        eps = _episodes(ws, truth, episode_of)
        dates = dict(ws.conn.execute("SELECT id, date FROM transactions"))
        eps = {k: v for k, v in eps.items() if min(dates[t] for t in v[1]) >= split}
        found = [(a["kind"], set(a["transaction_ids"])) for a in fraud.alerts(ws) if a["date"] >= split]
        return found, eps

    out = {}
    ws = open_workspace(work / "none")
    try:
        _import(ws, files)
        out["no feedback"] = score(*later(ws), later_months)
    finally:
        ws.close()
    ws = open_workspace(work / "fed")
    try:
        _import(ws, early)
        fraudulent = set().union(*(ids for _, ids in _episodes(ws, truth, episode_of).values()))
        verdicts = [0, 0]
        for a in fraud.alerts(ws):
            right = bool(set(a["transaction_ids"]) & fraudulent)
            fraud.give_feedback(ws, a["id"], "confirmed" if right else "dismissed")
            verdicts[right] += 1
    finally:
        ws.close()
    shutil.copytree(work / "fed", work / "fed-rules")
    for name, learn in (("feedback, rules only", False), ("feedback + supervised", True)):
        kept = fraud.MIN_FEEDBACK
        fraud.MIN_FEEDBACK = kept if learn else 1 << 30
        ws = open_workspace(work / ("fed" if learn else "fed-rules"))
        try:
            _import(ws, files)
            out[name] = {**score(*later(ws), later_months), "verdicts": tuple(verdicts),
                         "trained": ws.conn.execute("SELECT count(*) FROM events WHERE type = 'model.trained'"
                                                    " AND source = 'fraud'").fetchone()[0]}
        finally:
            fraud.MIN_FEEDBACK = kept
            ws.close()
    shutil.rmtree(work, ignore_errors=True)
    return out


def feedback_table(results: dict[str, dict]) -> list[tuple]:
    def f(x):
        return "n/a" if x is None else f"{x:.2f}"

    return [(name, *(f(r["recall"][k]) for k in KINDS), f(r["precision"]), f(r["false_per_month"]), str(r["alerts"]),
             "/".join(map(str, r["verdicts"][::-1])) if "verdicts" in r else "-", str(r.get("trained", "-")))
            for name, r in results.items()]


FEEDBACK_HEADER = ("later months", *(f"recall {k}" for k in KINDS), "precision", "false/month", "alerts",
                   "confirmed/dismissed", "trainings")


def evaluate(seed: int, months: int, surprises: bool = False) -> dict[str, dict]:
    from fincli.features.signals import signals
    from fincli.services import fraud

    out = Path(tempfile.mkdtemp(prefix="fin-fraud-eval-"))
    generate(seed, out / "history", start=START, months=months, surprises=surprises)
    truth_dir = out / "history" / "truth"
    with open(truth_dir / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    with open(truth_dir / "fraud.csv", newline="", encoding="utf-8") as handle:
        episode_of = {r["key"]: (r["episode_id"], r["kind"]) for r in csv.DictReader(handle)}
    ws = open_workspace(out / "ws")
    try:
        import_files(ws, [str(p) for p in sorted((out / "history" / "exports").glob("*.csv"))], Options())
        from fincli.cli.ledger import run_realtime_services

        run_realtime_services(ws)

        rows = ws.conn.execute("SELECT id, account, date, amount, currency, description FROM transactions"
                               " WHERE replaced_by IS NULL").fetchall()
        episodes = _episodes(ws, truth, episode_of)
        found = [(a["kind"], set(a["transaction_ids"])) for a in fraud.alerts(ws)]
        budget = max(1, len(found))
        charges = [(i, -m) for i, a, d, m, c, s in rows if m < 0 and c == "USD"]
        over = sorted(charges, key=lambda x: -x[1])[:budget]
        static = [("large_charge", {i}) for i, _ in over]
        sig = [s for s in signals(ws.conn, [i for i, _ in charges]) if "charge" in s]
        model = _forest_module()
        import numpy as np
        from sklearn.ensemble import IsolationForest

        X = np.array([model.vector(s) for s in sig])
        raw = -IsolationForest(n_estimators=100, random_state=0).fit(X).score_samples(X)
        top = np.argsort(-raw)[:budget]
        forest = [("anomaly", {sig[k]["id"]}) for k in top]
    finally:
        ws.close()
    return {"fin": score(found, episodes, months),
            f"over ${over[-1][1] / 100:.0f} (same budget)" if over else "over $X": score(static, episodes, months),
            "IsolationForest alone": score(forest, episodes, months)}


def table(results: dict[str, dict]) -> list[tuple]:
    def f(x):
        return "n/a" if x is None else f"{x:.2f}"

    return [(name, *(f(r["recall"][k]) for k in KINDS), f(r["precision"]), f(r["false_per_month"]),
             f(r["kind_right"]), str(r["alerts"])) for name, r in results.items()]


HEADER = ("method", *(f"recall {k}" for k in KINDS), "precision", "false/month", "kind right", "alerts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=lambda t: [int(x) for x in t.split(",") if x.strip()], default=[1, 2, 3])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--no-feedback", action="store_true", help="skip the replay with feedback")
    parser.add_argument("--surprises", action="store_true",
                        help="histories with large legitimate purchases at usual merchants (fincli/synth/surprises.py)")
    args = parser.parse_args()
    from evaluate import _print

    for seed in args.seeds:
        print(f"=== fraud, seed {seed}, {args.months} months ===")
        _print(HEADER, table(evaluate(seed, args.months, args.surprises)))
        print()
        if not args.no_feedback and args.months > FEEDBACK_MONTHS:
            history = Path(tempfile.mkdtemp(prefix="fin-fraud-eval-")) / "history"
            generate(seed, history, start=START, months=args.months, surprises=args.surprises)
            print(f"--- seed {seed}: feedback on the alerts of the first {FEEDBACK_MONTHS} months; "
                  f"months {FEEDBACK_MONTHS + 1}-{args.months} scored ---")
            _print(FEEDBACK_HEADER, feedback_table(feedback_evaluation(history, START, args.months)))
            print()


if __name__ == "__main__":
    main()
