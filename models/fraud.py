"""Fraud scoring, model side: an IsolationForest over the fraud signals, fitted per knowledge cutoff.

predict(rows): each row is a transaction's fraud signals (fincli/features/signals.py) with
`role` "reference" or "score" and `group` (its knowledge cutoff). For each group, an
IsolationForest (fixed seed) is fitted on that group's reference rows — charges the account
holder had made before, as known at that cutoff — and scores the group's score rows. The
result of a score row is {"anomaly": a number in [0, 1]} (1 = most unusual); reference rows
get {"anomaly": null}. Fitting on what was known at the cutoff keeps a score point in time:
importing later statements never changes it. train(rows) writes nothing: there is no
model to keep (the supervised model learns from feedback, when there is some).
"""

from __future__ import annotations

import math

MIN_REFERENCE = 30          # fewer reference rows than this: no anomaly score (null)


def vector(row: dict) -> list[float]:
    """The numeric features of one row; the same ones for every model."""
    charge = row.get("charge") or 0
    p95 = row.get("account_p95_charge") or 0
    daily = row.get("account_daily_p95") or 0
    share = row.get("country_share")
    return [
        math.log1p(charge / 100),
        math.log1p(min(row.get("merchant_charges") or 0, 50)),
        math.log1p(min(row.get("merchant_ratio") or 1.0, 100.0)),
        max(-10.0, min(row.get("merchant_robust_z") or 0.0, 50.0)),
        float(min(row.get("same_charge_recent") or 0, 5)),
        (row.get("charges_today") or 0) / (daily + 1),
        float(min(row.get("small_new_1d") or 0, 20)),
        1.0 if share is not None and share < 0.05 else 0.0,
        math.log1p(charge / (p95 + 1)),
    ]


def _anomaly(reference: list[dict], scored: list[dict]) -> list[float | None]:
    if len(reference) < MIN_REFERENCE or not scored:
        return [None] * len(scored)
    import numpy as np
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=100, max_samples=min(256, len(reference)), random_state=0)
    forest.fit(np.array([vector(r) for r in reference]))
    raw = -forest.score_samples(np.array([vector(r) for r in scored]))        # 0.5 ~ normal, 1 = isolated at once
    return [round(float(min(1.0, max(0.0, (s - 0.5) * 2))), 6) for s in raw]


def predict(rows: list, model_dir: str | None) -> list:
    groups: dict = {}
    for i, row in enumerate(rows):
        if row.get("role") not in ("reference", "score"):
            raise ValueError(f'row {i + 1}: role must be "reference" or "score"')
        groups.setdefault(row.get("group"), ([], []))[row["role"] == "score"].append(i)
    out: list = [{"anomaly": None} for _ in rows]
    for ref, score in groups.values():
        for i, value in zip(score, _anomaly([rows[i] for i in ref], [rows[i] for i in score])):
            out[i] = {"anomaly": value}
    return out


def train(rows: list, model_dir: str | None) -> dict:
    return {"rows": len(rows)}


if __name__ == "__main__":
    from service import serve

    serve(train, predict)
