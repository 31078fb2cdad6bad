"""Fraud: alerts a person can check, scored at import, with confirm and dismiss as feedback.

A real-time service (engine.py): after every import it scores the new charges. Each charge's
signals (fincli/features/signals.py) are computed as of its knowledge cutoff, the import that
brought it in, so later statements never change a score. Weighted rules, here in the parent,
decide whether a charge is suspicious, its kind and its reasons (plain sentences with numbers);
an IsolationForest over the same signals (models/fraud.py, fitted per cutoff on the charges known
then) adds to the score. Related charges form one alert: a card-testing run or a burst of one
day is one alert. Alerts are `fraud.alerted` events; `fin fraud confirm|dismiss` records a
`fraud.feedback` event. A dismissed kind at a merchant then needs stronger evidence there, and
`dismiss --always` silences it there. Never alerted: money in, transfers between the user's own
accounts, pending rows (their posted version is scored), and recurring streams the bills
service recorded (`bill.stream` events, where they exist).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .base import Plan, Service, Window

if TYPE_CHECKING:
    from ..store.log import Event
    from ..workspace import Workspace

SERVICE = "fraud"
REFERENCE = 400              # charges the IsolationForest is fitted on, per cutoff: the latest ones known then
RULE_WEIGHT, FOREST_WEIGHT = 0.8, 0.2
# with a model learnt from feedback: its probability that the user would confirm joins the score
LEARNT_WEIGHTS = (0.6, 0.2, 0.2)             # rules, forest, supervised
MIN_FEEDBACK = 6             # verdicts (both kinds present) before a supervised model is trained
DROP_BELOW = 0.15            # a supervised probability under this drops a candidate ...
WEAK = 0.7                   # ... whose strongest rule is weaker than this
MODEL_FILE = "model.npz"
ALERT_AT = 0.5               # a rule's strength from which a charge is suspicious
DISMISSED_AT = 0.85          # ... once the user dismissed that kind at that merchant,
DISMISSED_MARGIN = 1.25      # ... and only for more than this times the largest amount dismissed there
KINDS = ("card_testing", "foreign_large", "new_merchant_large", "duplicate", "spike", "burst", "large_charge")
STATUSES = ("open", "confirmed", "dismissed")
JSON_FIELDS = ("id", "status", "kind", "score", "reasons", "transaction_ids", "account", "date", "amount",
               "currency", "merchant")


# --- rules ---------------------------------------------------------------------------------

def _money(minor: float, currency: str) -> str:
    from ..money import format_minor

    return f"{format_minor(int(round(minor)), currency)} {currency}" if currency != "USD" \
        else "$" + format_minor(int(round(minor)), currency)


def rules(s: dict, small_limit: int) -> list[tuple[str, float, str]]:
    """(kind, strength in [0, 1], reason) for each rule a charge's signals meet."""
    charge, cur = s["charge"], s["currency"]
    big = small_limit * 10                     # $20 in a currency with cents
    out = []
    m_n, med, ratio, z = s["merchant_charges"], s["merchant_median"], s["merchant_ratio"], s["merchant_robust_z"]
    p95, a_med, a_n = s["account_p95_charge"], s["account_median_charge"], s["account_charges"]
    name = s.get("merchant_name") or s["merchant"]
    if charge < small_limit and s["merchant_new"] and s["small_new_1d"] >= 3:
        n = s["small_new_1d"]
        out.append(("card_testing", min(1.0, 0.7 + 0.05 * (n - 3)),
                    f"{n} charges under {_money(small_limit, cur)} at merchants you never used, within a day"))
    daily = s["account_daily_p95"] or 0
    if charge and a_n >= 20 and s["charges_today"] >= max(8, 2 * daily + 1):
        n = s["charges_today"]
        out.append(("burst", min(1.0, 0.55 + 0.05 * (n - max(8, 2 * daily + 1))),
                    f"{n} charges in one day; on a busy day you usually make {daily:g}"))
    if charge >= big and s["same_charge_recent"] >= 1 and m_n >= 1 and (s["merchant_repeat_rate"] or 0) < 0.1 \
            and s["merchant"] != "atm":
        rate = s["merchant_repeat_rate"] or 0
        out.append(("duplicate", 0.7,
                    f"{_money(charge, cur)} at {name} again within {3} days; repeats there are rare "
                    f"({rate:.0%} of {m_n} earlier charges)"))
    if m_n >= 3 and ratio is not None and ratio >= 8 and (z or 0) >= 6 and charge >= 2 * big:
        out.append(("spike", min(1.0, 0.5 + 0.04 * ratio),
                    f"{_money(charge, cur)} is {ratio:.1f}× your median at {name} "
                    f"(usual {_money(med, cur)}, {m_n} earlier charges)"))
    foreign = s["country"] is not None and (s["country_share"] or 0) < 0.05
    fx = s.get("currency_share") is not None and s["currency_share"] < 0.05
    large_new = m_n == 0 and charge >= max(3 * (p95 or 0), 20 * big) and a_n >= 20
    if fx and not foreign and m_n == 0 and charge >= 5 * big:
        share = s["currency_share"]
        out.append(("foreign_large", 0.75 if charge >= 25 * big else 0.6,
                    f"{_money(charge, cur)} at {name} in {cur}, a currency this account "
                    f"{'never used' if not share else f'rarely uses ({share:.0%} of its transactions)'}"))
    elif foreign and m_n == 0 and charge >= max(2 * (a_med or 0), 5 * big):
        share = s["country_share"] or 0
        out.append(("foreign_large", 0.75 if large_new or charge >= 2 * (p95 or 0) else 0.55,
                    f"{_money(charge, cur)} at {name} in {s['country']}, a country this account "
                    f"{'never saw' if not share else f'rarely sees ({share:.0%} of charges)'}"))
    elif large_new:
        out.append(("new_merchant_large", 0.6,
                    f"{_money(charge, cur)} at {name}, a merchant you never used "
                    f"(your usual large charge is {_money(p95, cur)})"))
    elif a_n >= 20 and p95 and m_n < 3 and charge >= max(5 * p95, 50 * big):
        out.append(("large_charge", 0.55, f"{_money(charge, cur)} is {charge / p95:.1f}× your usual large "
                                          f"charge ({_money(p95, cur)})"))
    return out


# --- alerts --------------------------------------------------------------------------------

@dataclass
class Candidate:
    signals: dict
    kind: str
    strength: float
    reasons: list[str]
    anomaly: float | None = None
    supervised: float | None = None


def alert_id(kind: str, txn_ids: list[str]) -> str:
    return "A" + hashlib.sha256(("\x1f".join([kind, *sorted(txn_ids)])).encode()).hexdigest()[:8]


def group(candidates: list[Candidate], rows: list[dict], small_limits: dict[str, int]) -> list[dict]:
    """Alerts from suspicious charges: a card-testing run or a burst (per account and day) is one alert."""
    alerts: dict[tuple, dict] = {}
    for c in candidates:
        s = c.signals
        if c.kind in ("card_testing", "burst"):
            key = (c.kind, s["account"], s["date"] if c.kind == "burst" else s["date"][:10])
        else:
            key = (c.kind, s["id"])
        a = alerts.setdefault(key, {"kind": c.kind, "candidates": []})
        a["candidates"].append(c)
    out = []
    for (kind, *_), a in alerts.items():
        first = a["candidates"][0].signals
        members = [c.signals for c in a["candidates"]]
        if kind == "burst":              # the day's other charges of the batch belong to it too
            members = [r for r in rows if r["account"] == first["account"] and r["date"] == first["date"]
                       and r.get("charge")]
        elif kind == "card_testing":     # and the small new-merchant charges that led up to it
            limit = small_limits[first["currency"]]
            members = [r for r in rows if r["account"] == first["account"] and r.get("charge")
                       and r["charge"] < limit and r["merchant_new"]
                       and 0 <= _days(first["date"], r["date"]) <= 1] or members
        elif kind == "foreign_large":    # and the bank's foreign-transaction fee on the same or the next day
            members += [r for r in rows if r.get("fx_fee") and r["account"] == first["account"]
                        and r.get("charge") and 0 <= _days(first["date"], r["date"]) <= 1 and r not in members]
        best = max(a["candidates"], key=lambda c: c.strength)
        anomalies = [c.anomaly for c in a["candidates"] if c.anomaly is not None]
        anomaly = max(anomalies) if anomalies else 0.0
        learnt = [c.supervised for c in a["candidates"] if c.supervised is not None]
        if learnt:
            rule_w, forest_w, learnt_w = LEARNT_WEIGHTS
            score = round(min(1.0, rule_w * best.strength + forest_w * anomaly + learnt_w * max(learnt)), 4)
        else:
            score = round(min(1.0, RULE_WEIGHT * best.strength + FOREST_WEIGHT * anomaly), 4)
        members.sort(key=lambda r: (r["date"], r["seq"]))
        ids = [r["id"] for r in members]
        reasons = list(dict.fromkeys(r for c in a["candidates"] for r in c.reasons))
        if kind == "card_testing":
            merchants = {r["merchant"] for r in members}
            reasons = [f"{len(members)} charges under {_money(small_limits[first['currency']], first['currency'])} "
                       f"at {len(merchants)} merchant{'s' if len(merchants) != 1 else ''} you never used, "
                       f"within a day"]
        elif kind == "burst":
            reasons = [f"{len(members)} charges on {first['date']} "
                       f"({_money(sum(r['charge'] for r in members), first['currency'])} in all); on a busy day "
                       f"you usually make {first['account_daily_p95'] or 0:g}"]
        if anomaly >= 0.5:
            reasons.append(f"unusual against your earlier charges (anomaly {anomaly:.2f})")
        if learnt and max(learnt) >= 0.8:
            reasons.append(f"like alerts you confirmed before ({max(learnt):.0%})")
        total = sum(r["charge"] for r in members if r["currency"] == first["currency"])
        out.append({"id": alert_id(kind, ids), "kind": kind, "score": score, "reasons": reasons[:3],
                    "transaction_ids": ids, "account": members[0]["account"], "date": members[0]["date"],
                    "amount": total, "currency": first["currency"], "merchant": members[0]["merchant"]})
    return out


def _days(a: str, b: str) -> int:
    from datetime import date

    return (date.fromisoformat(b[:10]) - date.fromisoformat(a[:10])).days


# --- what is known ---------------------------------------------------------------------------

def feedback(ws: Workspace, upto: int | None = None) -> dict[str, dict]:
    """alert id -> its latest feedback {verdict, always, seq}, from the log (up to a position)."""
    out = {}
    for seq, payload in ws.conn.execute(
            "SELECT seq, payload FROM events WHERE type = 'fraud.feedback' AND seq <= ? ORDER BY seq",
            (upto if upto is not None else 1 << 62,)):
        p = json.loads(payload)
        out[p["alert_id"]] = {**p, "seq": seq}
    return out


def alerts(ws: Workspace) -> list[dict]:
    """Every alert with its status; a rescored alert replaces the one of the same id."""
    found: dict[str, dict] = {}
    for occurred, payload in ws.conn.execute(
            "SELECT occurred_at, payload FROM events WHERE type = 'fraud.alerted' ORDER BY seq"):
        p = json.loads(payload)
        found[p["id"]] = p
    verdicts = feedback(ws)
    for a in found.values():
        a["status"] = verdicts[a["id"]]["verdict"] if a["id"] in verdicts else "open"
    return sorted(found.values(), key=lambda a: (a["date"], a["id"]))


def _dismissed(ws: Workspace) -> tuple[dict, set]:
    """(kind, merchant) pairs dismissed, each with the largest amount dismissed there, and the pairs
    dismissed with --always."""
    known = {a["id"]: a for a in alerts(ws)}
    once: dict[tuple[str, str], int] = {}
    always = set()
    for alert_id_, p in feedback(ws).items():
        a = known.get(alert_id_)
        if a and p["verdict"] == "dismissed":
            key = (a["kind"], a["merchant"])
            if p.get("always"):
                always.add(key)
            else:
                once[key] = max(once.get(key, 0), a["amount"])
    return once, always


def new_charges(ws: Workspace, after: int, upto: int) -> dict[str, str]:
    """The charges imported in (after, upto] that may be alerted, each with its merchant's display name.

    Never alerted: transfers, pending rows, and the charges of the recurring streams the bills service
    found (`fin predict-bills`): theirs, and a new one at the stream's merchant and account within a
    quarter of its amount range."""
    from .bills import latest_streams

    known: set[str] = set()
    streams: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for stream in latest_streams(ws):
        if stream["direction"] == "out" and stream["status"] != "cancelled":
            known.update(stream["transaction_ids"])
            low, high = sorted((abs(stream["next_amount_low"]), abs(stream["next_amount_high"])))
            streams.setdefault((stream["merchant"], stream["account"]), []).append((low * 3 // 4, high * 5 // 4))
    out = {}
    for txn_id, account, merchant, amount, name in ws.conn.execute(
            "SELECT t.id, t.account, t.merchant, t.amount, t.merchant_name FROM events e"
            " JOIN transactions t ON t.id = e.payload ->> '$.id'"
            " WHERE e.type = 'transaction.imported' AND e.seq > ? AND e.seq <= ? AND t.replaced_by IS NULL"
            " AND t.amount < 0 AND t.transfer_id IS NULL AND t.pending = 0", (after, upto)):
        if txn_id in known or streams and any(low <= -amount <= high for low, high in streams.get((merchant, account), ())):
            continue
        out[txn_id] = name
    return out


def model_state(ws: Workspace) -> tuple[str | None, int]:
    """The supervised model's recorded sha256 (None: none yet) and the feedback seq its training saw."""
    from . import artifacts

    row = ws.conn.execute("SELECT payload ->> '$.feedback_seq' FROM events WHERE type = 'model.trained'"
                          " AND payload ->> '$.service' = ? ORDER BY seq DESC LIMIT 1", (SERVICE,)).fetchone()
    return artifacts.recorded(ws, SERVICE, MODEL_FILE), (row[0] or 0) if row else 0


def training_rows(ws: Workspace) -> tuple[list[dict], int]:
    """One row per charge of each alert with a verdict: its signals as of its import (the cutoff the
    alert was made from), the alert's kind, label 1 confirmed / 0 dismissed, and weight 1 / the
    alert's charges. Empty until MIN_FEEDBACK verdicts of both kinds exist. Also the last feedback seq."""
    from ..features.signals import signals

    verdicts = feedback(ws)
    known = {a["id"]: a for a in alerts(ws)}
    judged = [(known[i], v) for i, v in verdicts.items() if i in known]
    last = max((v["seq"] for v in verdicts.values()), default=0)
    if len(judged) < MIN_FEEDBACK or len({v["verdict"] for _, v in judged}) < 2:
        return [], last
    ids = [t for a, _ in judged for t in a["transaction_ids"]]
    by_id = {r["id"]: r for r in signals(ws.conn, ids) if "charge" in r}
    rows = []
    for a, v in judged:
        members = [by_id[t] for t in a["transaction_ids"] if t in by_id]
        rows += [{**r, "kind": a["kind"], "label": int(v["verdict"] == "confirmed"), "weight": 1 / len(members)}
                 for r in members]
    return rows, last


# --- the service ---------------------------------------------------------------------------

@dataclass
class State:
    considered: int = 0
    rows: list[dict] = field(default_factory=list)          # signals of the scored charges
    candidates: list[Candidate] = field(default_factory=list)
    new_alerts: list[dict] = field(default_factory=list)
    scope: str = "new"
    trained_with: dict = field(default_factory=dict)
    dropped: int = 0

    def lines(self) -> list[str]:
        return [alert_line(a) for a in self.new_alerts]


def alert_line(a: dict) -> str:
    from ..money import format_minor

    return (f"{a['id']} {a['date']} {a['kind']} {format_minor(a['amount'], a['currency'])} {a['currency']} "
            f"at {a['merchant']} (score {a['score']:.2f}): {'; '.join(a['reasons'])}")


class Fraud(Service):
    name = SERVICE
    follows = ("transaction.imported",)
    schedule = "realtime"
    result_fields = {"anomaly": (float, int, type(None)), "supervised": (float, int, type(None))}
    train_fields = {"feedback_rows": (int,), "confirmed": (int,)}
    artifacts: tuple[str, ...] = ()          # the supervised model, once there is one (set by plan)

    def _learn(self, ws: Workspace, state: State) -> list[tuple[str, list[dict]]]:
        """A train op when feedback arrived since the last training (and there is enough of it)."""
        sha, seen = model_state(ws)
        last = ws.conn.execute("SELECT coalesce(max(seq), 0) FROM events WHERE type = 'fraud.feedback'").fetchone()[0]
        ops = []
        if last > seen:
            rows, last = training_rows(ws)
            if rows:
                state.trained_with = {"feedback_seq": last}
                ops.append(("train", rows))
        self.artifacts = (MODEL_FILE,) if sha or ops else ()
        return ops

    def trained_with(self, plan: Plan) -> dict:
        return plan.state.trained_with

    def plan(self, ws: Workspace, window: Window) -> Plan:
        from ..features.signals import signals_and_references
        from ..features.store import refresh
        from ..features.pit import _small_limit

        refresh(ws)
        names = new_charges(ws, 0 if window.scope == "all" else window.start, window.upto)
        ids = list(names)
        state = State(considered=len(ids), scope=window.scope)
        learn = self._learn(ws, state)
        if not ids:
            return Plan([], 0, state)
        # the forest's sample: the latest charges known before each import, in the same pass
        state.rows, references = signals_and_references(ws.conn, ids, references=REFERENCE)
        once, always = _dismissed(ws)
        for s in state.rows:
            if "charge" not in s or not s["charge"] or s.get("fx_fee"):     # a fee joins its foreign alert
                continue
            s["merchant_name"] = names.get(s["id"])
            hits = rules(s, _small_limit(s["currency"]))
            if not hits:
                continue
            kind, strength, _ = max(hits, key=lambda h: h[1])
            if (kind, s["merchant"]) in always:
                continue
            dismissed = once.get((kind, s["merchant"]))
            if strength < ALERT_AT or dismissed is not None and (
                    strength < DISMISSED_AT or s["charge"] <= DISMISSED_MARGIN * dismissed):
                continue                    # "I told you $600 at Costco is fine": $650 is no news
            reasons = [r for _, _, r in sorted(hits, key=lambda h: -h[1])]
            state.candidates.append(Candidate(s, kind, strength, reasons))
        if not state.candidates:
            # nothing to score, but the model file still answers: a broken one is reported on a quiet day too
            return Plan(learn + [("predict", [])], state.considered, state)
        rows = []
        for cutoff in sorted({c.signals["cutoff"] for c in state.candidates}):
            rows += [{**r, "role": "reference", "group": cutoff} for r in references[cutoff]]
            rows += [{**c.signals, "role": "score", "group": cutoff} for c in state.candidates
                     if c.signals["cutoff"] == cutoff]
        return Plan(learn + [("predict", rows)], state.considered, state)

    def to_events(self, ws: Workspace, plan: Plan, results: list, run: str) -> list[Event]:
        from ..features.pit import _small_limit
        from ..store.log import Event

        state: State = plan.state
        scored = [r for op, result in results if op == "predict" for r in result]
        rows = plan.ops[-1][1] if plan.ops else []
        by_id = {}
        for row, result in zip(rows, scored):
            if row["role"] == "score":
                by_id[row["id"]] = result
        for c in state.candidates:
            result = by_id.get(c.signals["id"], {})
            c.anomaly, c.supervised = result.get("anomaly"), result.get("supervised")
        kept = [c for c in state.candidates if c.supervised is None or c.supervised >= DROP_BELOW
                or c.strength >= WEAK]
        state.dropped, state.candidates = len(state.candidates) - len(kept), kept
        limits = {s["currency"]: _small_limit(s["currency"]) for s in state.rows if "currency" in s}
        made = group(state.candidates, [r for r in state.rows if "charge" in r], limits)
        known = {a["id"]: a for a in alerts(ws)}
        fresh = [a for a in made if a["id"] not in known or _differs(known[a["id"]], a)]
        state.new_alerts = [a for a in fresh if a["id"] not in known]
        return [Event("fraud.alerted", f"fraud.alerted:{run}:{a['id']}", a["date"], SERVICE, a) for a in fresh]

    def detail(self, plan: Plan) -> str:
        state: State = plan.state
        return f"{state.considered} charges scored; {len(state.new_alerts)} new alert" \
               f"{'s' if len(state.new_alerts) != 1 else ''}"

    def news(self, plan: Plan) -> list[str]:
        return plan.state.lines()

    def snapshot(self, ws: Workspace):
        return [(a["id"], a["status"], a["score"], a["kind"]) for a in alerts(ws)]

    def commands(self, kit) -> tuple[dict, list]:
        return _commands(kit)


def _differs(old: dict, new: dict) -> bool:
    return any(old.get(k) != new[k] for k in new)


service = Fraud()


# --- the user's side ---------------------------------------------------------------------------

def rescore(ws: Workspace, models_dir=None):
    """`fin fraud --rescore`: every charge of the history again, each as of its own cutoff."""
    from .engine import run_one

    with ws.lock():
        return run_one(ws, service, models_dir, scope="all")


def give_feedback(ws: Workspace, alert: str, verdict: str, always: bool = False) -> dict:
    """Record a `fraud.feedback` event for an alert (confirmed or dismissed)."""
    from ..errors import InputError
    from ..ledger import projections
    from ..store import connection as db, log as ev
    from ..store.log import Event

    with ws.lock(), db.transaction(ws.conn):
        projections.catch_up(ws.conn)
        known = {a["id"]: a for a in alerts(ws)}
        if alert not in known:
            raise InputError(f"no fraud alert {alert!r}", "see the alerts with `fin fraud --all`")
        if always and verdict != "dismissed":
            raise InputError("--always goes with dismiss", f"fin fraud dismiss {alert} --always")
        head = ev.head(ws.conn)[0]
        payload = {"alert_id": alert, "verdict": verdict, "always": always}
        ev.append(ws.conn, [Event("fraud.feedback", f"fraud.feedback:{head + 1}:{alert}", ev.now()[:10], "user",
                                  payload)])
        projections.catch_up(ws.conn)
    return {**known[alert], "status": verdict}


def as_json(a: dict) -> dict:
    """An alert as `fin fraud --format json` gives it (documented in the README)."""
    from ..money import format_minor

    return {"id": a["id"], "status": a["status"], "kind": a["kind"], "score": a["score"], "reasons": a["reasons"],
            "transaction_ids": a["transaction_ids"], "account": a["account"], "date": a["date"],
            "amount": format_minor(a["amount"], a["currency"]), "currency": a["currency"], "merchant": a["merchant"]}


def _commands(kit) -> tuple[dict, list]:
    from typing import Optional

    import typer

    Format, FORMAT, MODELS_DIR = kit.Format, kit.FORMAT, kit.MODELS_DIR

    def fraud(
        ctx: typer.Context,
        action: Optional[str] = typer.Argument(None, metavar="[confirm|dismiss ALERT_ID]",
                                               help="confirm or dismiss an alert"),
        alert: Optional[str] = typer.Argument(None, metavar="", show_default=False),
        since: Optional[str] = kit.date_option("--since", "Only alerts from this date on"),
        show_all: bool = typer.Option(False, "--all", help="Confirmed and dismissed alerts too."),
        always: bool = typer.Option(False, "--always", help="With dismiss: never alert this kind at this merchant."),
        rescore_: bool = typer.Option(False, "--rescore", help="Score the whole history again."),
        models_dir: Optional[Path] = MODELS_DIR,
        fmt: Format = FORMAT,
    ):
        """Suspicious charges: open alerts (or --all); `fin fraud confirm|dismiss ALERT_ID` gives feedback."""
        ws = kit.workspace(ctx)
        if action is not None:
            if action not in ("confirm", "dismiss") or not alert:
                kit.message("fin: usage: fin fraud confirm ALERT_ID | fin fraud dismiss ALERT_ID [--always]")
                raise typer.Exit(2)
            a = give_feedback(ws, alert, "confirmed" if action == "confirm" else "dismissed", always)
            kit.done(fmt, as_json(a), f"{a['id']} {a['status']}" + (f"; no more {a['kind']} alerts at "
                                                                     f"{a['merchant']}" if always else ""))
            return
        if rescore_:
            from ..errors import ServiceError

            try:
                report = rescore(ws, models_dir)
            except ServiceError as exc:
                kit.message(f"fin: {exc}")
                raise typer.Exit(3)
            if report.detail:
                kit.message(f"fraud: {report.detail}")
        items = [a for a in alerts(ws) if (show_all or a["status"] == "open") and (not since or a["date"] >= since)]
        if fmt is Format.json:
            kit.render([as_json(a) for a in items], list(JSON_FIELDS), fmt)
            return
        rows = [{**as_json(a), "reasons": "; ".join(a["reasons"])} for a in items]
        kit.render(rows, ["id", "date", "status", "kind", "score", "amount", "currency", "merchant", "reasons"], fmt)

    from pathlib import Path
    names = {"typer": typer, "Format": Format, "Optional": Optional, "Path": Path, "str": str, "bool": bool}
    fraud.__annotations__ = {k: eval(v, {"__builtins__": {}}, names) if isinstance(v, str) else v
                             for k, v in fraud.__annotations__.items()}
    return {}, [(None, "fraud", fraud)]
