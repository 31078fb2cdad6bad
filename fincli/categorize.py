"""Categorization: the user's labels win, then the user's rules, then the model.

The model lives in `models/categorize.py` and runs in its own process (fincli/runner.py).
Its training rows are the feature store's point-in-time training set for the user's
labels (the latest label of each transaction) plus the shipped seed list
(`data/seeds/categories.csv`), so a new user gets categories on day one. Rows to
score come from the same feature code (`online_features`).

A prediction whose calibrated confidence is below `review_below` (config.toml,
`[categorize]`) is not assigned: the transaction goes to review with the model's
suggestion. Results are `transactions.categorized` events, stored in one transaction
with the service's cursor; only results that change a transaction are recorded.
Rules are applied here, in the parent, so they work even when the model fails.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .ledger import projections
from .store import connection as db, log as ev
from .errors import WorkspaceError
from .store.log import Event
from .rules import Matcher, load as load_rules
from .workspace import Workspace

SERVICE = "categorize"
MODEL_FILE = "model.npz"        # arrays and JSON: loading it runs no code (see models/service.py)
LEGACY_MODEL_FILE = "model.joblib"   # the pickle an older fin saved: never loaded, removed on retraining
DEFAULT_REVIEW_BELOW = 0.85
DEFAULT_RETRAIN_AFTER = 20
ITEMS_PER_EVENT = 5000
PREDICT_BATCH = 100_000         # rows per service call: bounds the memory of both processes
_PREDICTION = {"category": (str,), "confidence": (float, int)}
_TRAINED = {"labels": (int,), "seed_rows": (int,), "categories": (int,)}


@dataclass(frozen=True)
class Settings:
    review_below: float
    retrain_after: int


def settings(ws: Workspace) -> Settings:
    table = ws.config().get("categorize", {})
    if not isinstance(table, dict):
        raise WorkspaceError(f"{ws.config_path}: `categorize` must be a table ([categorize])",
                             "fix the file or delete it to get the defaults")
    below = table.get("review_below", DEFAULT_REVIEW_BELOW)
    if type(below) not in (int, float) or not 0 <= below <= 1:
        raise WorkspaceError(f"{ws.config_path}: [categorize] review_below must be a number from 0 to 1, "
                             f"not {below!r}", f"for example review_below = {DEFAULT_REVIEW_BELOW}")
    after = table.get("retrain_after_labels", DEFAULT_RETRAIN_AFTER)
    if type(after) is not int or after < 1:
        raise WorkspaceError(f"{ws.config_path}: [categorize] retrain_after_labels must be a positive "
                             f"whole number, not {after!r}", f"for example retrain_after_labels = {DEFAULT_RETRAIN_AFTER}")
    return Settings(float(below), after)


# --- training rows -------------------------------------------------------------------------

def seed_rows() -> list[dict]:
    """The shipped cold-start list as training rows (the service decides their weight)."""
    from .features.pit import description_tokens
    from .merchant import normalize
    from .paths import data_dir

    path = data_dir() / "seeds" / "categories.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [{"description_tokens": description_tokens(r["text"]), "merchant": normalize(r["text"]),
                 "amount": None, "sign": None, "currency": None, "label": r["category"], "seed": True}
                for r in csv.DictReader(handle)]


@dataclass
class Labelled:
    """The training set, one row per label event, with when each label was given."""
    rows: list[dict]               # features + label, in label order
    txn_ids: list[str]
    label_seqs: list[int]
    labelled_at: list[str]


def labelled(ws: Workspace) -> Labelled:
    from .features.catalog import ROW_FEATURES
    from .features.store import refresh
    from .features.training import build_columns

    refresh(ws)
    _, data, _ = build_columns(ws.conn, SERVICE)
    names = [f.name for f in ROW_FEATURES]
    given = dict(ws.conn.execute("SELECT seq, occurred_at FROM events WHERE type = 'label.set'"))
    out = Labelled([], [], [], [])
    for i, seq in enumerate(data["observation"]):
        if data["merchant"][i] is None:            # the labelled transaction is not in the log
            continue
        out.rows.append({**{n: data[n][i] for n in names}, "label": data["label"][i]})
        out.txn_ids.append(data["txn_id"][i])
        out.label_seqs.append(seq)
        out.labelled_at.append(given[seq])
    return out


def latest_per_transaction(txn_ids: list[str]) -> list[int]:
    """Of label rows in label order, the index of the last one of each transaction (its latest label)."""
    return sorted({txn_id: i for i, txn_id in enumerate(txn_ids)}.values())


# --- the model -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelState:
    sha256: str | None
    label_seq: int               # labels up to this seq were in its training set
    labels: int


def model_state(ws: Workspace) -> ModelState:
    """The current model: its file's recorded sha256 and the labels its training (model.trained) saw.

    A log written before model.trained existed recorded training as a `service.ran` whose
    metrics say op = train; that is read as the same fact.
    """
    from . import artifacts

    sha = artifacts.recorded(ws, SERVICE, MODEL_FILE)
    row = ws.conn.execute(
        "SELECT payload ->> '$.label_seq', payload ->> '$.labels' FROM events"
        " WHERE type = 'model.trained' AND payload ->> '$.service' = ? ORDER BY seq DESC LIMIT 1",
        (SERVICE,)).fetchone()
    if row is None:
        row = ws.conn.execute(
            "SELECT payload ->> '$.metrics.label_seq', payload ->> '$.metrics.labels' FROM events"
            " WHERE type = 'service.ran' AND source = ? AND payload ->> '$.metrics.op' = 'train'"
            " ORDER BY seq DESC LIMIT 1", (SERVICE,)).fetchone()
    return ModelState(sha, row[0] or 0, row[1] or 0) if row else ModelState(sha, 0, 0)


def new_labels(ws: Workspace, since_seq: int) -> int:
    return ws.conn.execute("SELECT count(*) FROM events WHERE type = 'label.set' AND seq > ?",
                           (since_seq,)).fetchone()[0]


def needs_training(ws: Workspace, config: Settings) -> bool:
    state = model_state(ws)
    return state.sha256 is None or new_labels(ws, state.label_seq) >= config.retrain_after


def train(ws: Workspace, models_dir: Path | None = None) -> dict:
    """Train on every label (the latest of each transaction) plus the seeds; record the model. Returns metrics."""
    from . import artifacts, runner
    from .services import trained_artifacts

    data = labelled(ws)
    keep = latest_per_transaction(data.txn_ids)
    rows = [data.rows[i] for i in keep] + seed_rows()
    label_seq = max(data.label_seqs, default=0)
    outcome = runner.run(ws, SERVICE, "train", rows, fields=_TRAINED, models_dir=models_dir)
    try:
        if not (outcome.model_dir / MODEL_FILE).is_file():
            raise runner.ServiceError(SERVICE, f"invalid response: train wrote no {MODEL_FILE}", outcome.log)
        saved = trained_artifacts(ws, SERVICE, outcome)
        metrics = {**outcome.result, "rows": len(rows), "seconds": round(outcome.seconds, 3)}
        sha = artifacts.sha256_of(outcome.model_dir / MODEL_FILE)
        with db.transaction(ws.conn):
            head = ev.head(ws.conn)[0]
            trained = Event("model.trained", f"model.trained:{SERVICE}:{head}:{sha[:16]}", ev.now()[:10], SERVICE,
                            {"service": SERVICE, "artifacts": {MODEL_FILE: sha}, "metrics": metrics,
                             "labels": outcome.result["labels"], "label_seq": label_seq})
            if reason := ev.TYPES["model.trained"].problem(trained.payload):
                raise runner.ServiceError(SERVICE, f"invalid response: {reason}", outcome.log)
            ev.append(ws.conn, saved + [trained])
            projections.catch_up(ws.conn)
        (ws.artifacts / SERVICE / LEGACY_MODEL_FILE).unlink(missing_ok=True)
    finally:
        outcome.cleanup()
    return metrics


# --- categorizing --------------------------------------------------------------------------

@dataclass
class Result:
    events: list[Event] = field(default_factory=list)
    considered: int = 0
    by_rule: int = 0
    by_model: int = 0
    to_review: int = 0
    changed: int = 0
    trained: dict | None = None
    seconds: float = 0.0
    log: str | None = None
    error: Exception | None = None   # the model's failure; rule results are still in events

    def summary(self) -> str:
        trained = f"model trained on {self.trained['labels']} labels; " if self.trained else ""
        return (f"{trained}{self.considered} transactions: {self.by_rule} by rules, {self.by_model} by the model, "
                f"{self.to_review} to review; {self.changed} changed")


_CURRENT = ("SELECT id, description, merchant, category, category_source, confidence, suggestion, review, rule_id"
            " FROM transactions WHERE replaced_by IS NULL AND category_source IS NOT 'user'")


def _current(ws: Workspace, ids: list[str] | None) -> list[tuple]:
    if ids is None:
        return ws.conn.execute(_CURRENT + " ORDER BY date, account, import_id, line").fetchall()
    import json

    return ws.conn.execute(_CURRENT + " AND id IN (SELECT value FROM json_each(?))"
                           " ORDER BY date, account, import_id, line", (json.dumps(ids),)).fetchall()


def _changes(item: dict, row: tuple) -> bool:
    _, _, _, category, source, confidence, suggestion, review, rule_id = row
    stored = (category, source, confidence, suggestion, rule_id)
    wanted = (item.get("category"), item.get("source"), item.get("confidence"), item.get("suggestion"),
              item.get("rule"))
    return stored != wanted or review != int(item.get("category") is None)


def categorize(ws: Workspace, ids: list[str] | None = None, *, retrain: bool = False,
               models_dir: Path | None = None, run: str = "") -> Result:
    """Results for the given transactions (all of them when ids is None) as events, not yet stored.

    `run` names this run in the events' ids (an event id is its idempotency key): the scope
    and the log window it covers. A model failure does not raise: it is kept in
    `result.error` and the rule results remain.
    """
    from . import runner
    from .features.pit import online_features

    config = settings(ws)
    result = Result()
    rows = _current(ws, ids)
    result.considered = len(rows)
    match = Matcher(load_rules(ws.conn))
    items: list[tuple[dict, tuple]] = []
    rest = []
    for row in rows:
        rule = match(row[1], row[2])
        if rule is None:
            rest.append(row)
        else:
            items.append(({"id": row[0], "source": "rule", "category": rule.category, "rule": rule.id}, row))
    result.by_rule = len(items)
    try:
        if retrain or (rest and needs_training(ws, config)):
            result.trained = train(ws, models_dir)
        for start in range(0, len(rest), PREDICT_BATCH):
            batch = rest[start:start + PREDICT_BATCH]
            features = online_features(ws, [row[0] for row in batch])
            outcome = runner.run(ws, SERVICE, "predict", features, fields=_PREDICTION, artifacts=(MODEL_FILE,),
                                 check=_check_predictions, models_dir=models_dir)
            outcome.cleanup()
            result.seconds, result.log = result.seconds + outcome.seconds, str(outcome.log)
            for row, predicted in zip(batch, outcome.result):
                confidence = round(float(predicted["confidence"]), 4)
                if confidence >= config.review_below:
                    items.append(({"id": row[0], "source": "model", "category": predicted["category"],
                                   "confidence": confidence}, row))
                    result.by_model += 1
                else:
                    items.append(({"id": row[0], "source": "model", "suggestion": predicted["category"],
                                   "confidence": confidence}, row))
                    result.to_review += 1
    except runner.ServiceError as exc:
        result.error = exc
    changed = [item for item, row in items if _changes(item, row)]
    result.changed = len(changed)
    model = model_state(ws).sha256 or ""
    head = ev.head(ws.conn)[0]              # past a training this run did: its id names the state it saw
    for n, start in enumerate(range(0, len(changed), ITEMS_PER_EVENT)):
        chunk = changed[start:start + ITEMS_PER_EVENT]
        result.events.append(Event("transactions.categorized", f"categorized:{run}:{head}:{n}",
                                   ev.now()[:10], SERVICE, {"items": chunk, "model": model}))
    return result


def _check_predictions(rows: list, result: list) -> str | None:
    for i, predicted in enumerate(result, 1):
        if not predicted["category"].strip():
            return f"result {i}: empty category"
        if not 0 <= predicted["confidence"] <= 1:
            return f"result {i}: confidence {predicted['confidence']!r} is not in [0, 1]"
    return None


def store(ws: Workspace, result: Result, after: int | None = None, upto: int | None = None) -> None:
    """Append the result's events in one transaction.

    With a log range (after, upto] that the result covers, and when the model did not fail,
    the run and the service's cursor go in the same transaction; otherwise the cursor stays
    and what it had not reached is still new for the next run.
    """
    from .services import cursor, set_cursor

    with db.transaction(ws.conn):
        stored = ev.append(ws.conn, result.events)
        if after is not None and result.error is None and cursor(ws.conn, SERVICE) == after:
            if result.considered or stored:      # nothing to consider: the cursor moves, the log is left alone
                metrics = {"op": "predict", "considered": result.considered, "rule": result.by_rule,
                           "model": result.by_model, "review": result.to_review, "changed": result.changed}
                ran = Event("service.ran", f"service.ran:{SERVICE}:{after}:{ev.head(ws.conn)[0]}",
                            ev.now()[:10], SERVICE,
                            {"service": SERVICE, "cursor": upto, "rows": result.considered, "metrics": metrics})
                stored += ev.append(ws.conn, [ran])
            set_cursor(ws.conn, SERVICE, max([upto] + [e.seq for e in stored]))
        projections.catch_up(ws.conn)


def new_ids(ws: Workspace, after: int, upto: int) -> list[str]:
    """Transactions imported in (after, upto] that are still live."""
    return [r[0] for r in ws.conn.execute(
        "SELECT t.id FROM events e JOIN transactions t ON t.id = e.payload ->> '$.id'"
        " WHERE e.type = 'transaction.imported' AND e.seq > ? AND e.seq <= ? AND t.replaced_by IS NULL",
        (after, upto))]


def run_all(ws: Workspace, *, retrain: bool = False, models_dir: Path | None = None) -> Result:
    """`fin categorize`: every transaction without a user label, with the rules and the current model."""
    from .services import cursor

    with ws.lock():
        with db.transaction(ws.conn):
            projections.catch_up(ws.conn)
            after, upto = cursor(ws.conn, SERVICE), ev.head(ws.conn)[0]
        result = categorize(ws, None, retrain=retrain, models_dir=models_dir, run=f"all:{after}")
        store(ws, result, after, upto)
    return result


def run_new(ws: Workspace, after: int, upto: int, models_dir: Path | None = None) -> Result:
    """`fin run categorize` and the real-time step of `fin import`: what was imported after the cursor."""
    result = categorize(ws, new_ids(ws, after, upto), models_dir=models_dir, run=f"new:{after}:{upto}")
    store(ws, result, after, upto)
    return result
