"""`fin categorize --evaluate`: train on the earlier labels, score the later ones.

The split is by when a label was given: the model (and two baselines) learn from the
labels given before the split date — for each transaction its latest label by then —
and are scored on the transactions first labelled on or after it, against their latest
label. The baselines are the majority category of the merchant in the training labels,
and a linear SVM on word n-grams (the approach of beancount's smart_importer). The
service returns predictions only; every figure is computed here.

Coverage: predictions ranked by confidence, the top share is assigned, the rest would go
to review; accuracy at a coverage is measured on the assigned rows only.
"""

from __future__ import annotations

import math
from pathlib import Path

from .errors import InputError
from .workspace import Workspace

METHODS = ("model", "merchant_majority", "svm")
COVERAGES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.92, 0.95, 1.0)
DEFAULT_TEST_SHARE = 0.2


def _prediction_problem(rows: list, result: dict) -> str | None:
    tests = sum(1 for r in rows if r.get("split") == "test")
    for method in METHODS:
        predictions = result[method]
        if len(predictions) != tests:
            return f"{method}: {len(predictions)} predictions for {tests} test rows"
        for i, p in enumerate(predictions, 1):
            if type(p) is not dict or type(p.get("category")) not in (str, type(None)) \
                    or type(p.get("confidence")) not in (int, float) or not 0 <= p["confidence"] <= 1:
                return f"{method}: prediction {i} is not {{category, confidence in [0, 1]}}"
    return None


def split_labels(labelled_at: list[str], label_seqs: list[int], txn_ids: list[str], split: str | None):
    """(split date, train indices, test indices): the latest label of each transaction on its side."""
    order = sorted(range(len(txn_ids)), key=lambda i: (labelled_at[i], label_seqs[i]))
    if split is None:
        split = labelled_at[order[min(len(order) - 1, math.floor(len(order) * (1 - DEFAULT_TEST_SHARE)))]]
    first: dict[str, str] = {}
    before: dict[str, int] = {}
    latest: dict[str, int] = {}
    for i in order:
        first.setdefault(txn_ids[i], labelled_at[i])
        if labelled_at[i] < split:
            before[txn_ids[i]] = i
        latest[txn_ids[i]] = i
    train = sorted(before.values())
    test = sorted(latest[t] for t, day in first.items() if day >= split)
    return split, train, test


def evaluate(ws: Workspace, split: str | None = None, models_dir: Path | None = None) -> dict:
    from .services import runner
    from .services.categorize import SERVICE, labelled, person_marked, seed_rows, settings

    if split is not None:
        from datetime import date

        try:
            split = date.fromisoformat(split).isoformat()
        except ValueError:
            raise InputError(f"--split {split!r} is not a date", "write it as YYYY-MM-DD") from None
    data = labelled(ws)
    if not data.rows:
        raise InputError("there are no labels to evaluate on",
                         "label transactions first: fin label TXN_ID CATEGORY, or fin label --file labels.csv")
    split, train, test = split_labels(data.labelled_at, data.label_seqs, data.txn_ids, split)
    if not train or not test:
        raise InputError(f"splitting the labels at {split} leaves {len(train)} to train on and {len(test)} to score",
                         "choose another date with --split YYYY-MM-DD")
    taught = person_marked(ws, [data.rows[i] for i in train], [data.txn_ids[i] for i in train])
    rows = ([{**r, "split": "train"} for r in taught] + [{**r, "split": "train"} for r in seed_rows()]
            + [{**data.rows[i], "split": "test"} for i in test])
    outcome = runner.run(ws, SERVICE, "evaluate", rows, fields={m: (list,) for m in METHODS},
                         check=_prediction_problem, models_dir=models_dir)
    outcome.cleanup()
    truth = [data.rows[i]["label"] for i in test]
    threshold = settings(ws).review_below
    report = {"split": split, "train_labels": len(train), "test_transactions": len(test),
              "review_below": threshold, "methods": {}}
    for method in METHODS:
        predicted = [p["category"] for p in outcome.result[method]]
        confidence = [float(p["confidence"]) for p in outcome.result[method]]
        report["methods"][method] = scores(truth, predicted, confidence, threshold)
    report["per_category"] = per_category(truth, [p["category"] for p in outcome.result["model"]],
                                          [float(p["confidence"]) for p in outcome.result["model"]], threshold)
    return report


def scores(truth: list[str], predicted: list[str | None], confidence: list[float], threshold: float) -> dict:
    n = len(truth)
    right = [p is not None and p == t for p, t in zip(predicted, truth)]
    ranked = sorted(range(n), key=lambda i: -confidence[i])
    at_coverage = {}
    for share in COVERAGES:
        k = max(1, math.ceil(share * n))
        at_coverage[f"{share:.0%}"] = round(sum(right[i] for i in ranked[:k]) / k, 4)
    assigned = [i for i in range(n) if predicted[i] is not None and confidence[i] >= threshold]
    return {
        "accuracy": round(sum(right) / n, 4),
        "macro_f1": round(macro_f1(truth, predicted), 4),
        "coverage_at_threshold": round(len(assigned) / n, 4),
        "accuracy_at_threshold": round(sum(right[i] for i in assigned) / len(assigned), 4) if assigned else None,
        "accuracy_at_coverage": at_coverage,
    }


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _counts(truth, predicted):
    tp, fp, fn = {}, {}, {}
    for t, p in zip(truth, predicted):
        if p == t:
            tp[t] = tp.get(t, 0) + 1
        else:
            fn[t] = fn.get(t, 0) + 1
            if p is not None:
                fp[p] = fp.get(p, 0) + 1
    return tp, fp, fn


def macro_f1(truth: list[str], predicted: list[str | None]) -> float:
    """The mean F1 over every category that is true or predicted somewhere (no prediction counts as wrong)."""
    tp, fp, fn = _counts(truth, predicted)
    labels = set(truth) | {p for p in predicted if p is not None}
    return sum(_f1(tp.get(c, 0), fp.get(c, 0), fn.get(c, 0))[2] for c in labels) / len(labels) if labels else 0.0


def per_category(truth, predicted, confidence, threshold) -> list[dict]:
    tp, fp, fn = _counts(truth, predicted)
    rows = []
    for c in sorted(set(truth) | {p for p in predicted if p is not None}):
        precision, recall, f1 = _f1(tp.get(c, 0), fp.get(c, 0), fn.get(c, 0))
        mine = [i for i, t in enumerate(truth) if t == c]
        covered = [i for i in mine if confidence[i] >= threshold]
        rows.append({"category": c, "support": len(mine), "precision": round(precision, 4),
                     "recall": round(recall, 4), "f1": round(f1, 4),
                     "coverage_at_threshold": round(len(covered) / len(mine), 4) if mine else None})
    return rows
