"""Fraud scoring, model side: an IsolationForest over the fraud signals, fitted per knowledge cutoff.

predict(rows): each row is a transaction's fraud signals (as the parent computed them) with
`role` "reference" or "score" and `group` (its knowledge cutoff). For each group, an
IsolationForest (fixed seed) is fitted on that group's reference rows — charges the account
holder had made before, as known at that cutoff — and scores the group's score rows. The
result of a score row is {"anomaly": a number in [0, 1]} (1 = most unusual); reference rows
get {"anomaly": null}. Fitting on what was known at the cutoff keeps a score point in time:
importing later statements never changes it.

The supervised model learns from the user's feedback. train(rows): each row is the signals of
an alerted charge as of its alert's cutoff, with the alert's `kind`, `label` (1 confirmed, 0
dismissed) and `weight` (an alert's charges share one unit); an xgboost classifier is fitted
and saved as MODEL_FILE (service.save_model: the booster's JSON as bytes, no pickle). When that
file exists at predict, each score row also gets {"supervised": the probability that the user
would confirm it}; without it, "supervised" is null.
"""

from __future__ import annotations

import math
import os

MIN_REFERENCE = 30          # fewer reference rows than this: no anomaly score (null)
MODEL_FILE = "model.npz"


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


def supervised_vector(row: dict, kinds: list[str]) -> list[float]:
    """vector() and the candidate's kind (one-hot): what a dismissed kind looked like matters."""
    return vector(row) + [1.0 if row.get("kind") == k else 0.0 for k in kinds] + [
        1.0 if row.get("currency_share") is not None and row["currency_share"] < 0.05 else 0.0,
        1.0 if row.get("merchant_new") else 0.0]


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
    out: list = [{"anomaly": None, "supervised": None} for _ in rows]
    for ref, score in groups.values():
        for i, value in zip(score, _anomaly([rows[i] for i in ref], [rows[i] for i in score])):
            out[i]["anomaly"] = value
    path = os.path.join(model_dir, MODEL_FILE) if model_dir else None
    scored = [i for i, row in enumerate(rows) if row["role"] == "score"]
    if path and os.path.isfile(path) and scored:
        for i, p in zip(scored, _supervised(path, [rows[i] for i in scored])):
            out[i]["supervised"] = p
    return out


def _supervised(path: str, rows: list[dict]) -> list[float]:
    import numpy as np
    import xgboost

    from service import load_model

    settings, arrays = load_model(path)
    booster = xgboost.Booster()
    booster.load_model(bytearray(arrays["booster"].tobytes()))
    X = np.array([supervised_vector(r, settings["kinds"]) for r in rows], dtype=float)
    return [round(float(p), 6) for p in booster.predict(xgboost.DMatrix(X))]


def train(rows: list, model_dir: str | None) -> dict:
    labels = [r.get("label") for r in rows]
    if not rows or not set(labels) <= {0, 1}:
        raise ValueError("train needs rows with label 0 (dismissed) or 1 (confirmed)")
    import numpy as np
    import xgboost

    from service import save_model

    kinds = sorted({r.get("kind") or "" for r in rows})
    X = np.array([supervised_vector(r, kinds) for r in rows], dtype=float)
    model = xgboost.XGBClassifier(n_estimators=60, max_depth=3, learning_rate=0.2, subsample=1.0,
                                  random_state=0, n_jobs=1, base_score=0.5)
    model.fit(X, np.array(labels), sample_weight=np.array([float(r.get("weight", 1.0)) for r in rows]))
    raw = model.get_booster().save_raw(raw_format="json")
    save_model(os.path.join(model_dir, MODEL_FILE), {"kinds": kinds},
               {"booster": np.frombuffer(bytes(raw), dtype=np.uint8)})
    return {"feedback_rows": len(rows), "confirmed": int(sum(labels))}


if __name__ == "__main__":
    from service import serve

    serve(train, predict)
