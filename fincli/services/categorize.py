"""Categorization: the user's labels win, then the user's rules, then the model.

The model lives in `models/categorize.py` and runs in its own process (fincli/runner.py).
It is a real-time service on the engine's path (engine.py): it follows imported
transactions; a run applies the user's rules here, in the parent (so they work even
when the model fails: `kept_on_failure`), trains when there is no model or enough new
labels (a `model.trained` event), and predicts the rest.
Its training rows are the feature store's point-in-time training set for the user's
labels (the latest label of each transaction) plus the shipped seed list
(`data/seeds/categories.csv`), so a new user gets categories on day one. Rows to
score come from the same feature code (`online_features`).

A prediction whose calibrated confidence is below `review_below` (config.toml,
`[categorize]`) is not assigned: the transaction goes to review with the model's
suggestion. Results are `transactions.categorized` events, stored in one transaction
with the service's cursor; only results that change a transaction are recorded.
Rules are applied here, in the parent, so they work even when the model fails.

A label teaches its merchant: once the user has labelled transactions of a resolved
merchant and all those labels agree, the merchant's other transactions take that
category (source `merchant`), ahead of the model, with a confidence of its own
(`merchant_confidence`). A merchant whose labels disagree (a supermarket that is also a
pharmacy) is left to the model and to review. So is a transaction of another kind than
every labelled one (sign, bank category or words: a card's payments beside its fees, a
warehouse's fuel beside its groceries) that the model confidently puts in another
category: see `Teaching.yields_to`. The order is: the user's label, the user's rules,
the merchant's labels (for a transfer, only of a kind they cover), a transfer between the
user's accounts, the model.

A transfer between two of the user's own accounts (both legs found on import, `transfer_id`)
is a transfer, whatever its words: it takes the user's name for the seed list's `transfers`
(`transfer_category`) at TRANSFER_CONFIDENCE, decided after the model has (re)learnt the
user's names.

A payment to or from a person (`Zelle payment to Maria Lopez`) is for whatever that person
is to the user (a cleaner, a friend splitting dinner, a tenant), which no seed list and no
other user's label can know: the model only suggests its category, and the first label of
the person teaches the rest.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from ..categories import check_category, current_names
from ..errors import InputError, WorkspaceError
from .base import Plan, Service, Window
from .rules import Matcher, Rule, check_pattern, load as load_rules, next_id

if TYPE_CHECKING:        # `fin --help` loads this module for its commands: the store is imported where used
    from ..store.log import Event
    from ..workspace import Workspace

SERVICE = "categorize"
MODEL_FILE = "model.npz"        # arrays and JSON: loading it runs no code (see models/service.py)
LEGACY_MODEL_FILE = "model.joblib"   # the pickle an older fin saved: never loaded, removed on retraining
DEFAULT_REVIEW_BELOW = 0.85
DEFAULT_RETRAIN_AFTER = 20
ITEMS_PER_EVENT = 5000
PREDICT_BATCH = 100_000         # rows per service call: bounds the memory of both processes
_PREDICTION = {"category": (str,), "confidence": (float, int)}
_TRAINED = {"labels": (int,), "seed_rows": (int,), "categories": (int,)}
# Merchant evidence is calibrated apart from the text model: a Beta(19, 1) prior on "a resolved
# merchant's next transaction has the category its labels agree on" (the resolver's pairwise
# precision is 1.00), updated by each agreeing label; see `merchant_confidence`.
MERCHANT_PRIOR = (19, 1)
TRANSFERS = "transfers"          # the seed category of a transfer between the user's own accounts
TRANSFER_CONFIDENCE = 0.99       # both legs were found in the user's accounts: only the name can be wrong
OTHER_KIND_AT = 0.5     # a model this sure of another category overrules a merchant's labels for another kind
# the model's prefix for a seed category the user's own taxonomy has no name for yet (models/categorize.py):
# its transactions wait in review with no suggestion, rather than under a name the user never used
UNNAMED = "\x1f"


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
    """The shipped cold-start lists as training rows (the service decides their weight): the merchants
    and keywords of `data/seeds/categories.csv`, then `bank_category_rows()`."""
    from ..features.pit import description_tokens
    from ..merchant import normalize
    from ..paths import data_dir

    path = data_dir() / "seeds" / "categories.csv"
    if not path.is_file():
        return bank_category_rows()
    with open(path, newline="", encoding="utf-8") as handle:
        return [{"description_tokens": description_tokens(r["text"]), "merchant": normalize(r["text"]),
                 "amount": None, "sign": None, "currency": None, "label": r["category"], "seed": True}
                for r in csv.DictReader(handle)] + bank_category_rows()


def bank_category_rows() -> list[dict]:
    """What a bank's own category says, as seed rows: one per (bank category, fin category it may mean).

    `data/seeds/bank_categories.csv` maps the category texts banks write (Chase's `Groceries`,
    Monzo's `eating_out`) to the fin categories they can mean; a row has the bank category and
    nothing else. So on day one a transaction whose bank says `Groceries` leans to groceries
    even at a merchant no seed names, while `Food & Drink` (restaurants or coffee) only narrows
    the choice and leaves it to the words, and a bank category mapped to nothing (`Personal`)
    adds no row, so it forces nothing. The confidence comes from the same model and
    calibration as every other prediction; once the user labels transactions the model also
    learns what their bank's categories mean for them.
    """
    from ..paths import data_dir

    path = data_dir() / "seeds" / "bank_categories.csv"
    if not path.is_file():
        return []
    rows, seen = [], set()
    with open(path, newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            key = " ".join(r["bank_category"].lower().split())      # as the model reads it
            for category in r["categories"].split():
                if (key, category) not in seen:
                    seen.add((key, category))
                    rows.append({"description_tokens": "", "merchant": "", "bank_category": r["bank_category"],
                                 "amount": None, "sign": None, "currency": None, "label": category, "seed": True})
    return rows


def named_seed_rows(ws: Workspace) -> list[dict]:
    """The seed rows, each seed category under the name the user renamed or merged it to (`fin categories
    rename fuel Car`). Those rows are `named`: the user has a name for that category, and the model never
    holds it back as one they have none for (models/categorize.py `seed_names`)."""
    renamed = current_names(ws.conn)
    return [{**r, "label": renamed[r["label"]], "named": True} if r["label"] in renamed else r for r in seed_rows()]


@dataclass
class Labelled:
    """The training set, one row per label event, with when each label was given."""
    rows: list[dict]               # features + label, in label order
    txn_ids: list[str]
    label_seqs: list[int]
    labelled_at: list[str]


def labelled(ws: Workspace) -> Labelled:
    from ..features.catalog import ROW_FEATURES
    from ..features.store import refresh
    from ..features.training import build_columns

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


def person_marked(ws: Workspace, rows: list[dict], txn_ids: list[str]) -> list[dict]:
    """The training rows, those of a payment to or from a person marked `person`: what the user calls a
    person says nothing of what they call a seed category (models/categorize.py `seed_names`)."""
    import json

    from ..merchant import person_to_person

    persons = {txn_id for txn_id, description in ws.conn.execute(
        "SELECT id, description FROM transactions WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(txn_ids),)) if person_to_person(description)}
    return [{**row, "person": True} if txn_id in persons else row for row, txn_id in zip(rows, txn_ids)]


def training_rows(ws: Workspace) -> tuple[list[dict], dict]:
    """A train op's rows, the latest label of each transaction then the seed rows, and what they hold."""
    data = labelled(ws)
    keep = latest_per_transaction(data.txn_ids)
    rows = person_marked(ws, [data.rows[i] for i in keep], [data.txn_ids[i] for i in keep]) + named_seed_rows(ws)
    return rows, {"labels": len(keep), "label_seq": max(data.label_seqs, default=0)}


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
    """No model yet, enough new labels, or a label naming a category the model does not know: from the
    first label in a name of the user's own, the model speaks the user's names."""
    state = model_state(ws)
    if state.sha256 is None or new_labels(ws, state.label_seq) >= config.retrain_after:
        return True
    return ws.conn.execute(
        "SELECT 1 FROM events WHERE type = 'label.set' AND seq > ? AND payload ->> '$.category' NOT IN"
        " (SELECT value FROM json_each(coalesce((SELECT payload -> '$.metrics.classes' FROM events"
        " WHERE type = 'model.trained' AND payload ->> '$.service' = ? ORDER BY seq DESC LIMIT 1), '[]')))"
        " LIMIT 1", (state.label_seq, SERVICE)).fetchone() is not None


# --- what the user's labels say about their merchants -------------------------------------

def merchant_confidence(agreeing: int) -> float:
    """The posterior mean of agreement after `agreeing` labels that all agree: 0.952 after one, 0.955 after two."""
    hit, miss = MERCHANT_PRIOR
    return round((agreeing + hit) / (agreeing + hit + miss), 4)


_WORDS = re.compile(r"[^\W\d_]{2,}")


def kind(description: str, amount: int, bank_category: str | None) -> tuple:
    """What tells apart two transactions of one merchant: the sign, the bank's category and the runs of
    two or more letters in the description's words without a digit (a store number or a payment reference,
    `#1234` or `JPM99cfu6gj`, does not; `COSTCO GAS` and `COSTCO WHSE` are two kinds)."""
    words = " ".join(run for word in description.casefold().split() if not any(c.isdigit() for c in word)
                     for run in _WORDS.findall(word))
    return (amount > 0) - (amount < 0), " ".join((bank_category or "").casefold().split()), words


@dataclass(frozen=True)
class Teaching:
    """What a merchant's labels say: the one category they agree on, how many, the kinds they cover, the
    log position of the latest (a model trained before it has not learnt it) and the transactions labelled."""
    category: str
    labels: int
    kinds: frozenset
    latest: int
    ids: frozenset

    def yields_to(self, predicted: str, confidence: float, leanings: dict[str, str], answers: dict[str, str]) -> bool:
        """For a transaction of a kind no label covers: the merchant's history says otherwise when the
        model, which knows the labels, more likely than not puts it in another category, and gives the
        labelled transactions (`answers`: the model's category for each) their labels. The model's
        answer then stands as any other: assigned if sure enough, else a suggestion in review. A model
        that puts a labelled transaction elsewhere has not learnt the merchant, and the labels stand: an
        ATM withdrawal labelled Cash, which it calls Bank fees like the bank's ATM fees, does not send
        the withdrawals at other addresses to review. A seed category the user has no name for yet is
        another category unless the user's labels lean it to this one (`seed_leanings`): a warehouse's
        fuel, of no name yet, waits in review rather than taking the warehouse's "Food at home"; a
        Safeway store of other words, which the model calls `groceries`, takes the "Food at home" of the
        Safeway labelled."""
        def named(category: str) -> str:
            return leanings.get(category[len(UNNAMED):], category) if category.startswith(UNNAMED) else category

        if any(named(answers.get(i, "")) != self.category for i in self.ids):
            return False
        return named(predicted) != self.category and confidence >= OTHER_KIND_AT


def _model_metric(ws: Workspace, key: str) -> dict:
    """One mapping of the current model's training metrics ({} before any model)."""
    import json

    row = ws.conn.execute(
        f"SELECT payload -> '$.metrics.{key}' FROM events WHERE type = 'model.trained'"
        " AND payload ->> '$.service' = ? ORDER BY seq DESC LIMIT 1", (SERVICE,)).fetchone()
    return json.loads(row[0] or "{}") if row else {}


def seed_leanings(ws: Workspace) -> dict[str, str]:
    """Of the current model, the user's name each unnamed seed category leans to (models/categorize.py
    `seed_names`), in the names of now."""
    renamed = current_names(ws.conn)
    return {seed: renamed.get(name, name) for seed, name in _model_metric(ws, "seed_leanings").items()}


def transfer_category(ws: Workspace) -> str | None:
    """What the user calls a transfer between their own accounts: the seed list's `transfers` under the
    name they renamed it to, or that the current model maps it to once their labels use their own names
    (models/categorize.py `seed_names`); None while their own names have none for it (such a transfer is
    then left to the model like any other transaction). Asked after training: a run that retrains has
    recorded its model.trained by then."""
    renamed = current_names(ws.conn)
    seed = renamed.get(TRANSFERS, TRANSFERS)
    names = _model_metric(ws, "seed_names")
    name = names.get(seed, seed) if names else seed
    return renamed.get(name, name) if name else None


def taught(ws: Workspace) -> dict[str, Teaching]:
    """Each merchant whose labelled transactions all carry one category, and what they teach."""
    found: dict[str, dict[str, list[tuple]]] = {}
    latest: dict[str, int] = {}
    ids: dict[str, set] = {}
    for txn_id, merchant, category, description, amount, bank_category, seq in ws.conn.execute(
            "SELECT t.id, t.merchant, t.category, t.description, t.amount, t.bank_category, l.seq FROM transactions t"
            " JOIN labels l ON l.id = t.id"
            " WHERE t.replaced_by IS NULL AND t.category_source = 'user' AND t.merchant != ''"):
        found.setdefault(merchant, {}).setdefault(category, []).append(kind(description, amount, bank_category))
        latest[merchant] = max(latest.get(merchant, 0), seq)
        ids.setdefault(merchant, set()).add(txn_id)
    return {merchant: Teaching(category, len(kinds), frozenset(kinds), latest[merchant], frozenset(ids[merchant]))
            for merchant, cats in found.items() if len(cats) == 1 for category, kinds in cats.items()}


# --- categorizing --------------------------------------------------------------------------

@dataclass
class Result:
    """What a categorize run did; the plan's state, filled in as the run goes."""
    considered: int = 0
    by_rule: int = 0
    by_merchant: int = 0
    by_transfer: int = 0
    by_model: int = 0
    to_review: int = 0
    changed: int = 0
    trained: dict | None = None
    seconds: float = 0.0
    log: str | None = None
    error: Exception | None = None   # the model's failure; the rule results are stored anyway
    rows: list[tuple] = field(default_factory=list)            # the transactions considered, as stored
    by_rules: list[tuple[dict, tuple]] = field(default_factory=list)
    by_merchants: list[tuple[dict, tuple]] = field(default_factory=list)
    rest: list[tuple] = field(default_factory=list)            # what the model is asked about
    checked: dict[str, Teaching] = field(default_factory=dict)  # of those, the ones a merchant's labels teach
    witnesses: list[str] = field(default_factory=list)  # their merchants' labelled transactions, asked about too
    trained_with: dict = field(default_factory=dict)
    model: str = ""

    def summary(self) -> str:
        trained = f"model trained on {self.trained['labels']} labels; " if self.trained else ""
        return (f"{trained}{self.considered} transactions: {self.by_rule} by rules, "
                f"{self.by_merchant} by their merchant's labels, {self.by_transfer} as transfers between "
                f"your accounts, {self.by_model} by the model, "
                f"{self.to_review} to review; {self.changed} changed")


_CURRENT = ("SELECT id, description, merchant, category, category_source, confidence, suggestion, review, rule_id,"
            " amount, bank_category, transfer_id FROM transactions WHERE replaced_by IS NULL"
            " AND category_source IS NOT 'user'")


def _current(ws: Workspace, ids: list[str] | None) -> list[tuple]:
    if ids is None:
        return ws.conn.execute(_CURRENT + " ORDER BY date, account, import_id, line").fetchall()
    import json

    return ws.conn.execute(_CURRENT + " AND id IN (SELECT value FROM json_each(?))"
                           " ORDER BY date, account, import_id, line", (json.dumps(ids),)).fetchall()


def _changes(item: dict, row: tuple) -> bool:
    _, _, _, category, source, confidence, suggestion, review, rule_id = row[:9]
    stored = (category, source, confidence, suggestion, rule_id)
    wanted = (item.get("category"), item.get("source"), item.get("confidence"), item.get("suggestion"),
              item.get("rule"))
    return stored != wanted or review != int(item.get("category") is None)


def new_ids(ws: Workspace, after: int, upto: int) -> list[str]:
    """Transactions imported in (after, upto] that are still live."""
    return [r[0] for r in ws.conn.execute(
        "SELECT t.id FROM events e JOIN transactions t ON t.id = e.payload ->> '$.id'"
        " WHERE e.type = 'transaction.imported' AND e.seq > ? AND e.seq <= ? AND t.replaced_by IS NULL",
        (after, upto))]


def _check_predictions(rows: list, result: list) -> str | None:
    for i, predicted in enumerate(result, 1):
        if not predicted["category"].strip():
            return f"result {i}: empty category"
        if not 0 <= predicted["confidence"] <= 1:
            return f"result {i}: confidence {predicted['confidence']!r} is not in [0, 1]"
    return None


class Categorize(Service):
    name = SERVICE
    follows = ("transaction.imported",)
    schedule = "realtime"
    train_fields = _TRAINED
    result_fields = _PREDICTION
    artifacts = (MODEL_FILE,)

    def plan(self, ws: Workspace, window: Window) -> Plan:
        ids = None if window.scope in ("all", "retrain") else new_ids(ws, window.start, window.upto)
        return self.plan_for(ws, ids, retrain=window.scope == "retrain")

    def plan_for(self, ws: Workspace, ids: list[str] | None, retrain: bool = False) -> Plan:
        """Rules first, then the merchants' labels (both here, in the parent); then train if due, and
        predict for the rest. A transaction its merchant's labels teach is asked about too, when it is of
        a kind no label covers and there is a model: the model may show it is something else."""
        from ..features.pit import online_features

        config = settings(ws)
        state = Result(rows=_current(ws, ids))
        state.considered = len(state.rows)
        match = Matcher(load_rules(ws.conn))
        merchants = taught(ws)
        to_check = []
        for row in state.rows:
            rule = match(row[1], row[2])
            teaching = merchants.get(row[2])
            covered = teaching is not None and kind(row[1], row[9], row[10]) in teaching.kinds
            if rule is not None:
                state.by_rules.append(({"id": row[0], "source": "rule", "category": rule.category,
                                        "rule": rule.id}, row))
            elif teaching is not None and (covered or row[11] is None):
                state.by_merchants.append(({"id": row[0], "source": "merchant", "category": teaching.category,
                                            "confidence": merchant_confidence(teaching.labels)}, row))
                if not covered:
                    to_check.append((row, teaching))
            else:                              # a transfer is decided in to_events, by the model's names
                state.rest.append(row)
        training = retrain or bool(state.rest and needs_training(ws, config))
        model = model_state(ws)
        state.checked = {row[0]: teaching for row, teaching in to_check      # by a model that knows the labels
                         if training or (model.sha256 is not None and model.label_seq >= teaching.latest)}
        state.rest += [row for row, _ in to_check if row[0] in state.checked]
        state.witnesses = sorted({i for teaching in state.checked.values() for i in teaching.ids})
        state.by_rule, state.by_merchant = len(state.by_rules), len(state.by_merchants)
        ops: list[tuple[str, list[dict]]] = []
        if training:
            rows, state.trained_with = training_rows(ws)
            ops.append(("train", rows))
        asked = [row[0] for row in state.rest] + state.witnesses
        for start in range(0, len(asked), PREDICT_BATCH):
            ops.append(("predict", online_features(ws, asked[start:start + PREDICT_BATCH])))
        return Plan(ops, state.considered, state)

    def check(self, op: str, rows: list[dict], result) -> str | None:
        return _check_predictions(rows, result) if op == "predict" else None

    def trained_with(self, plan: Plan) -> dict:
        return plan.state.trained_with

    def trained(self, ws: Workspace, plan: Plan, training: dict | None) -> None:
        if training is None or MODEL_FILE not in training["artifacts"]:
            from ..errors import ServiceError

            raise ServiceError(SERVICE, f"invalid response: train wrote no {MODEL_FILE}")
        plan.state.trained = {**training["metrics"], "labels": training["labels"]}
        (ws.artifacts / SERVICE / LEGACY_MODEL_FILE).unlink(missing_ok=True)    # an older fin's pickle

    def to_events(self, ws: Workspace, plan: Plan, results: list, run: str) -> list[Event]:
        from ..merchant import person_to_person

        state: Result = plan.state
        review_below = settings(ws).review_below
        predictions = [p for op, result in results if op == "predict" for p in result]
        renamed = current_names(ws.conn)       # a model trained before a rename still knows the old names
        leanings = seed_leanings(ws) if state.checked else {}
        answers = [renamed.get(p["category"], p["category"]) for p in predictions]
        witnessed = dict(zip(state.witnesses, answers[len(state.rest):]))
        transfers = transfer_category(ws)
        overruled, answered = set(), []
        for row, predicted, category in zip(state.rest, predictions, answers):
            confidence = round(float(predicted["confidence"]), 4)
            if row[11] is not None and transfers is not None:
                answered.append(({"id": row[0], "source": "model", "category": transfers,
                                  "confidence": TRANSFER_CONFIDENCE}, row))
                state.by_transfer += 1
                continue
            teaching = state.checked.get(row[0])
            if teaching is not None:
                if not teaching.yields_to(category, confidence, leanings, witnessed):
                    continue                   # the merchant's labels stand
                overruled.add(row[0])
            if category.startswith(UNNAMED):   # a seed category the user has no name for
                answered.append(({"id": row[0], "source": None}, row))
                state.to_review += 1
            elif confidence >= review_below and not person_to_person(row[1]):
                answered.append(({"id": row[0], "source": "model", "category": category,
                                  "confidence": confidence}, row))
                state.by_model += 1
            else:
                answered.append(({"id": row[0], "source": "model", "suggestion": category,
                                  "confidence": confidence}, row))
                state.to_review += 1
        state.by_merchant -= len(overruled)
        items = (state.by_rules + [(item, row) for item, row in state.by_merchants if row[0] not in overruled]
                 + answered)
        return self._events(ws, state, items, run)

    def kept_on_failure(self, ws: Workspace, plan: Plan, run: str) -> list[Event]:
        return self._events(ws, plan.state, plan.state.by_rules + plan.state.by_merchants, f"{run}:rules")

    def _events(self, ws: Workspace, state: Result, items: list[tuple[dict, tuple]], run: str) -> list[Event]:
        from ..store import log as ev
        from ..store.log import Event

        changed = [item for item, row in items if _changes(item, row)]
        state.changed = len(changed)
        model = model_state(ws).sha256 or ""
        return [Event("transactions.categorized", f"categorized:{run}:{n}", ev.now()[:10], SERVICE,
                      {"items": changed[start:start + ITEMS_PER_EVENT], "model": model})
                for n, start in enumerate(range(0, len(changed), ITEMS_PER_EVENT))]

    def detail(self, plan: Plan) -> str:
        return plan.state.summary()

    def commands(self, kit) -> tuple[dict, list]:
        return _commands(kit)

    def snapshot(self, ws: Workspace) -> dict:
        return {i: (c, s) for i, c, s in ws.conn.execute(
            "SELECT id, coalesce(category, suggestion), category_source FROM transactions WHERE replaced_by IS NULL")}



service = Categorize()


def _finish(state: Result, seconds: float = 0.0, log: str | None = None) -> Result:
    state.seconds, state.log = seconds, log
    return state


def run_all(ws: Workspace, *, retrain: bool = False, models_dir: Path | None = None) -> Result:
    """`fin categorize`: every transaction without a user label, with the rules and the current model."""
    from .engine import run_one
    from ..errors import ServiceError

    with ws.lock():
        try:
            report = run_one(ws, service, models_dir, scope="retrain" if retrain else "all")
        except ServiceError as exc:
            state = getattr(exc, "state", None) or Result()
            state.error = exc
            return _finish(state, log=str(exc.log) if exc.log else None)
    return _finish(report.state or Result(), report.seconds, report.log)


def recategorize(ws: Workspace, ids: list[str], run: str) -> Result:
    """Categorize these transactions again now (a rule was added or removed); no cursor moves."""
    from ..ledger import projections
    from ..store import connection as db, log as ev
    from .engine import run_ops
    from ..errors import ServiceError

    plan = service.plan_for(ws, ids)
    try:
        results, seconds, log = run_ops(ws, service, plan)
        events = service.to_events(ws, plan, results, run)
        _finish(plan.state, seconds, log)
    except ServiceError as exc:
        plan.state.error = exc
        events = service.kept_on_failure(ws, plan, run)
    with db.transaction(ws.conn):
        ev.append(ws.conn, events)
        projections.catch_up(ws.conn)
    return plan.state


# --- labels teach their merchants, at once; the review queue, merchant by merchant ------------

def learn_from_labels(ws: Workspace, txn_ids: list[str]) -> Result:
    """After labels: decide again the other transactions of the labelled transactions' merchants.

    Those the merchant's labels now settle take its category; those it settled before but no
    longer does (its labels now disagree) go back to the model. Nothing else changes."""
    import json

    from ..store import log as ev

    with ws.lock():
        ids = [r[0] for r in ws.conn.execute(
            "SELECT id FROM transactions WHERE replaced_by IS NULL AND category_source IS NOT 'user'"
            " AND merchant IN (SELECT merchant FROM transactions WHERE merchant != ''"
            " AND id IN (SELECT value FROM json_each(?)))", (json.dumps(txn_ids),))]
        if not ids:
            return Result()
        settled = taught(ws)
        ids = [i for i, merchant, source in ws.conn.execute(
            "SELECT id, merchant, category_source FROM transactions WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),)) if merchant in settled or source == "merchant"]
        if not ids:
            return Result()
        return recategorize(ws, ids, f"labels:{ev.head(ws.conn)[0]}")


def label(ws: Workspace, labels: list[tuple[str, str, str | None, str]]) -> tuple[int, Result]:
    """Record labels (all or nothing), then let them teach their merchants; (labels written, what followed)."""
    from ..features.labels import set_labels

    count = set_labels(ws, labels)
    return count, learn_from_labels(ws, [txn_id for txn_id, *_ in labels])


def merchant_transactions(ws: Workspace, key: str) -> list[str]:
    """The live transactions of a merchant key; an unknown key is the user's mistake."""
    ids = [r[0] for r in ws.conn.execute(
        "SELECT id FROM transactions WHERE replaced_by IS NULL AND merchant = ? ORDER BY date, id", (key,))]
    if not ids:
        raise InputError(f"no transactions of merchant {key!r}",
                         "see the merchant keys with `fin review --format json` or `fin merchants`")
    return ids


def label_merchant(ws: Workspace, key: str, category: str) -> int:
    """`fin label --merchant KEY CATEGORY`: a label event for every transaction of the merchant."""
    category = check_category(category)
    count, _ = label(ws, [(txn_id, category, None, "") for txn_id in merchant_transactions(ws, key)])
    return count


def rule_for_merchant(ws: Workspace, key: str, category: str):
    """A rule that gives every transaction of this merchant key, now and later, the category."""
    import re

    merchant_transactions(ws, key)
    return add_rule(ws, f"^{re.escape(key)}$", category, regex=True)


REVIEW_FIELDS = ("merchant", "name", "transactions", "total", "currency", "suggestion", "confidence",
                 "transaction_ids")


def review_queue(ws: Workspace) -> list[dict]:
    """What waits in review, one entry per merchant, most transactions first (then the largest spend).
    Once the user's labels use names of their own, so does what the model filed under a seed name none
    of theirs answers to (`unadopted_seed_names`): on the next retraining it would wait unnamed, so the
    user is asked now, in the same pass, with that name as the suggestion.

    `suggestion` is the model's most frequent suggestion among them, `confidence` its mean confidence
    there; `total` is a decimal string in `currency` (both null if the merchant mixes currencies)."""
    import json
    from collections import Counter

    from ..categories import unadopted_seed_names
    from ..ledger import projections
    from ..money import format_minor

    projections.catch_up(ws.conn)
    groups: dict[str, dict] = {}
    for txn_id, merchant, name, amount, currency, suggestion, confidence in ws.conn.execute(
            "SELECT id, merchant, merchant_name, amount, currency, coalesce(suggestion, category), confidence"
            " FROM transactions WHERE replaced_by IS NULL AND (review = 1 OR (category_source = 'model'"
            " AND category IN (SELECT value FROM json_each(?)))) ORDER BY date, id",
            (json.dumps(unadopted_seed_names(ws.conn)),)):
        g = groups.setdefault(merchant, {"merchant": merchant, "name": name, "ids": [], "sum": 0,
                                         "currencies": set(), "suggestions": Counter(), "confidences": {}})
        g["ids"].append(txn_id)
        g["sum"] += amount
        g["currencies"].add(currency)
        if suggestion:
            g["suggestions"][suggestion] += 1
            g["confidences"].setdefault(suggestion, []).append(confidence or 0.0)
    out = []
    for g in groups.values():
        currency = next(iter(g["currencies"])) if len(g["currencies"]) == 1 else None
        suggestion = g["suggestions"].most_common(1)[0][0] if g["suggestions"] else None
        scores = g["confidences"].get(suggestion, [])
        out.append({"merchant": g["merchant"], "name": g["name"], "transactions": len(g["ids"]),
                    "total": format_minor(g["sum"], currency) if currency else None, "currency": currency,
                    "suggestion": suggestion, "confidence": round(sum(scores) / len(scores), 4) if scores else None,
                    "transaction_ids": g["ids"], "_spend": abs(g["sum"])})
    out.sort(key=lambda e: (-e["transactions"], -e["_spend"], e["merchant"]))
    return [{k: v for k, v in e.items() if k != "_spend"} for e in out]


def categories(ws: Workspace) -> list[str]:
    """The category names declared or in use (fincli/categories.py) and the model's suggestions, for completion."""
    from ..categories import taxonomy

    return sorted(set(taxonomy(ws.conn)) | {r[0] for r in ws.conn.execute(
        "SELECT suggestion FROM transactions WHERE suggestion IS NOT NULL")})


# --- the user's rules: recorded, then applied at once -----------------------------------------

def add_rule(ws: Workspace, pattern: str, category: str, regex: bool = False):
    """Record a rule and apply it to the transactions it matches now; returns (rule, categorize result)."""
    from ..ledger import projections
    from ..store import connection as db, log as ev
    from ..store.log import Event

    check_pattern(pattern, regex)
    category = check_category(category)
    with ws.lock():
        with db.transaction(ws.conn):
            projections.catch_up(ws.conn)
            rule = Rule(next_id(ws.conn), pattern, category, regex)
            ev.append(ws.conn, [Event("rule.added", f"rule.added:{rule.id}", ev.now()[:10], "user",
                                      {"id": rule.id, "pattern": pattern, "category": category, "regex": regex})])
            projections.catch_up(ws.conn)
        matches = rule.matcher()
        ids = [i for i, d, m in ws.conn.execute(
            "SELECT id, description, merchant FROM transactions WHERE replaced_by IS NULL"
            " AND category_source IS NOT 'user'") if matches(d) or matches(m)]
        result = recategorize(ws, ids, f"rule.added:{rule.id}")
    return rule, result


def remove_rule(ws: Workspace, rule_id: str):
    """Remove a rule; the transactions it categorized are categorized again (other rules, then the model)."""
    from ..ledger import projections
    from ..store import connection as db, log as ev
    from ..store.log import Event

    with ws.lock():
        with db.transaction(ws.conn):
            projections.catch_up(ws.conn)
            if ws.conn.execute("SELECT 1 FROM rules WHERE id = ?", (rule_id,)).fetchone() is None:
                known = ", ".join(r.id for r in load_rules(ws.conn)) or "none"
                raise InputError(f"no rule {rule_id!r}", f"see them with `fin rules list` (rules now: {known})")
            ev.append(ws.conn, [Event("rule.removed", f"rule.removed:{rule_id}", ev.now()[:10], "user",
                                      {"id": rule_id})])
            projections.catch_up(ws.conn)
        ids = [r[0] for r in ws.conn.execute("SELECT id FROM transactions WHERE rule_id = ?", (rule_id,))]
        result = recategorize(ws, ids, f"rule.removed:{rule_id}")
    return result



def train(ws: Workspace, models_dir: Path | None = None) -> dict:
    """Train on every label (the latest of each transaction) plus the seeds; record the model. Returns metrics."""
    from .engine import run_ops

    rows, trained_with = training_rows(ws)
    state = Result(trained_with=trained_with)
    run_ops(ws, service, Plan([("train", rows)], 0, state))
    return state.trained


# --- its commands -------------------------------------------------------------------------------

def _commands(kit) -> tuple[dict, list]:
    """`fin categorize` and `fin rules add|list|remove`, built on the CLI's shared parts (`kit`):
    its options, the workspace opener and its renderers (only the CLI prints)."""
    from typing import Optional

    import typer

    Format, FORMAT, MODELS_DIR = kit.Format, kit.FORMAT, kit.MODELS_DIR
    date_option, done, message, workspace = kit.date_option, kit.done, kit.message, kit.workspace
    names = {"typer": typer, "Format": Format, "Optional": Optional, "Path": Path, "str": str, "bool": bool}

    def resolved(fn):
        """Annotations as objects: this module defers them, and typer reads them off the function."""
        fn.__annotations__ = {key: eval(value, {"__builtins__": {}}, names) if isinstance(value, str) else value
                              for key, value in fn.__annotations__.items()}
        return fn

    def rules_add(
        ctx: typer.Context,
        pattern: str = typer.Argument(..., help="Text to find in the description or merchant (any case)."),
        category: str = typer.Argument(..., help="The category to give, e.g. groceries."),
        regex: bool = typer.Option(False, "--regex", help="PATTERN is a regular expression (searched, any case)."),
        fmt: Format = FORMAT,
    ):
        """Add a rule and apply it now; the newest matching rule wins, a label beats any rule."""
        rule, result = add_rule(workspace(ctx), pattern, category, regex)
        done(fmt, {"id": rule.id, "pattern": pattern, "regex": regex, "category": rule.category,
                    "transactions": result.by_rule},
              f"added rule {rule.id}: {pattern!r} -> {rule.category}; {result.by_rule} transaction"
              f"{'s' if result.by_rule != 1 else ''} match it now")


    def rules_list(ctx: typer.Context, fmt: Format = FORMAT):
        """The rules, in the order they are tried (newest first)."""
        from .rules import listing


        kit.render(listing(workspace(ctx)), ["id", "pattern", "regex", "category", "added_at", "transactions"], fmt)


    def rules_remove(ctx: typer.Context, rule_id: str = typer.Argument(..., help="The rule's id (see `fin rules list`)."),
                     fmt: Format = FORMAT):
        """Remove a rule; what it categorized is categorized again by the other rules and the model."""
    

        result = remove_rule(workspace(ctx), rule_id)
        done(fmt, {"id": rule_id, "considered": result.considered, "rule": result.by_rule,
                    "merchant": result.by_merchant, "transfer": result.by_transfer, "model": result.by_model,
                    "review": result.to_review, "error": str(result.error) if result.error else None},
              f"removed rule {rule_id}; {result.considered} transactions categorized again "
              f"({result.by_rule} by rules, {result.by_merchant} by their merchant's labels, {result.by_transfer} "
              f"as transfers between your accounts, {result.by_model} by the model, {result.to_review} to review)")
        if result.error is not None:
            message(f"fin: {result.error}; run `fin categorize` to try again")
            raise typer.Exit(3)


    def categorize(
        ctx: typer.Context,
        retrain: bool = typer.Option(False, "--retrain", help="Train the model again on every label first."),
        evaluate: bool = typer.Option(False, "--evaluate",
                                      help="Train on the earlier labels, score the later ones, compare with baselines."),
        split: Optional[str] = date_option("--split", "With --evaluate: labels given before this date train, "
                                           "later ones are scored (default: the last 20%)"),
        models_dir: Optional[Path] = MODELS_DIR,
        fmt: Format = FORMAT,
    ):
        """Categorize every transaction without a label: your rules first, then the model; unsure ones go to review."""
        ws = workspace(ctx)
        if evaluate:
            kit.evaluate_categorize(ws, split, models_dir, fmt)
            return
    

        result = run_all(ws, retrain=retrain, models_dir=models_dir)
        if fmt is not Format.table:
            kit.render_one({"considered": result.considered, "rule": result.by_rule, "merchant": result.by_merchant,
                            "transfer": result.by_transfer, "model": result.by_model,
                        "review": result.to_review, "changed": result.changed,
                        "trained_on_labels": result.trained["labels"] if result.trained else None,
                        "error": str(result.error) if result.error else None}, fmt)
        if result.trained:
            message(f"trained on {result.trained['labels']} labels and {result.trained['seed_rows']} seed entries")
        message(result.summary())
        if result.error is not None:
            message(f"fin: {result.error}")
            raise typer.Exit(3)

    groups = {"rules": "Your categorization rules: they come before the model."}
    return groups, [("rules", "add", resolved(rules_add)), ("rules", "list", resolved(rules_list)),
                    ("rules", "remove", resolved(rules_remove)), (None, "categorize", resolved(categorize))]
