"""Bills: every recurring stream (bills out, income in), its next date and amount, and its alerts.

Detection lives in `models/bills.py` and runs in its own process over the whole history
(window "history"): every live, posted transaction per resolved merchant (`transactions.merchant`),
account, currency and direction. Transfers between the user's own accounts (`transfer_id` set)
are not bills — credit-card payments included: the card's own charges are the bills.

A run stores a `bills.detected` event with every stream (when they changed) and a `bill.alert`
event for each recent alert (a price change, a late bill, a stream that seems cancelled, a new
subscription); an alert's event id is the stream, kind and date, so each is stored once.
`fin predict-bills` shows alerts not yet shown and records that it showed them
(`bills.alerts_shown`). The user's corrections are events too: `bill.confirmed`, `bill.ignored`
and `bill.renamed`, applied whenever streams are read, so they survive `fin rebuild`; a
confirmed stream is kept listed and late, not cancelled, until it misses CONFIRMED_MISSES
periods (`kept_streams`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..errors import InputError
from .base import Plan, Service, Window

if TYPE_CHECKING:
    from ..store.log import Event
    from ..workspace import Workspace

SERVICE = "bills"
RECENT_DAYS = 45
DEFAULT_DAYS = 14
STALE_DAYS = 45       # an account's data older than this (a monthly export missed) makes predict-bills say so
MONEY_FIELDS = ("average_amount", "last_amount", "next_amount", "next_amount_low", "next_amount_high")
STREAM_FIELDS = ["id", "merchant", "category", "account", "currency", "direction", "frequency", "amount_kind",
                 "status", "first_date", "last_date", "next_date", "next_date_earliest", "next_date_latest",
                 *MONEY_FIELDS, "transaction_ids", "alerts"]
DUE_FIELDS = ["stream_id", "merchant", "account", "currency", "direction", "due_date", "earliest", "latest",
              "amount", "amount_low", "amount_high", "status"]

SEP = "\x1f"          # joins a group's charges (models/bills.py splits them)
FIELD = "\x1e"        # joins a charge's date, id, amount and category
_ROWS = ("SELECT account, merchant, currency, amount < 0,"
         " date || char(30) || id || char(30) || amount || char(30) || ifnull(category, '') FROM transactions"
         " WHERE replaced_by IS NULL AND pending = 0 AND transfer_id IS NULL")


def groups(ws: Workspace) -> list[list]:
    """One row per (account, merchant, currency, direction), as models/bills.py reads them: a few
    thousand rows of joined strings travel as JSON far faster than a million rows (or lists), and
    SQLite joins each charge's fields faster than Python. Grouped here: a dict does it faster than
    SQLite's GROUP BY, which sorts a million rows."""
    by_key: dict[tuple, list[str]] = {}
    for account, merchant, currency, out, charge in ws.conn.execute(_ROWS):
        charges = by_key.get((account, merchant, currency, out))
        if charges is None:
            charges = by_key[(account, merchant, currency, out)] = []
        charges.append(charge)
    # the name of its first charge (by date, then id); the text of a lone charge
    firsts = [min(charges).split(FIELD, 2)[1] for charges in by_key.values()]
    about = {txn: (name, text) for txn, name, text in ws.conn.execute(
        "SELECT id, merchant_name, description FROM transactions WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(firsts),))}
    rows = []
    for ((account, merchant, currency, _), charges), first in zip(by_key.items(), firsts):
        name, text = about[first]
        rows.append([account, merchant, name, currency, SEP.join(charges), text if len(charges) == 1 else None])
    return rows


class Bills(Service):
    name = SERVICE
    follows = ("transaction.imported", "transaction.posted", "transfer.matched", "import.undone",
               "merchant.merged", "merchant.split")
    schedule = "weekly"
    window = "history"
    train_fields = {"streams": (list,)}

    def plan(self, ws: Workspace, window: Window) -> Plan:
        rows = groups(ws)
        return Plan([("train", rows)] if rows else [], sum(g[4].count(SEP) + 1 for g in rows))

    def check(self, op: str, rows: list, result) -> str | None:
        sent = {(g[0], g[1], g[3], "out" if g[4].split(FIELD, 3)[2].startswith("-") else "in"): g[4] for g in rows}
        ids_of: dict[tuple, set] = {}
        for n, stream in enumerate(result["streams"], 1):
            if not isinstance(stream, dict) or not isinstance(stream.get("id"), str):
                return f"stream {n}: no id"
            key = (stream.get("account"), stream.get("merchant"), stream.get("currency"), stream.get("direction"))
            if key not in ids_of:               # a charge's id is its second field
                group = sent.get(key)
                ids_of[key] = set(FIELD.join(group.split(SEP)).split(FIELD)[1::4]) if group else set()
            if not set(stream.get("transaction_ids") or ()) <= ids_of[key]:
                return f"stream {n}: transactions that were not sent"
            if stream.get("frequency") not in FREQUENCIES or stream.get("status") not in STATUSES:
                return f"stream {n}: unknown frequency or status"
        return None

    def to_events(self, ws: Workspace, plan: Plan, results: list, run: str) -> list[Event]:
        from ..store import log as ev
        from ..store.log import Event

        streams = [s for op, result in results if op == "train" for s in result["streams"]]
        today = ev.now()[:10]
        events = []
        if streams != latest_streams(ws):
            events.append(Event("bills.detected", f"bills.detected:{run}", today, SERVICE, {"streams": streams}))
        fixes = corrections(ws)
        shown = kept_streams(ws, streams, fixes)
        if shown:
            newest = max(s["last_date"] for s in shown)
            since = (date.fromisoformat(newest) - timedelta(days=RECENT_DAYS)).isoformat()
            for s in shown:
                for alert in s["alerts"]:
                    confirmed_end = (alert["kind"] == "cancelled"
                                     and fixes.get(s["id"], {}).get("decision") == "confirmed")
                    if alert["date"] >= since or confirmed_end:
                        events.append(Event("bill.alert", f"bill.alert:{s['id']}:{alert['kind']}:{alert['date']}",
                                            today, SERVICE, {"stream_id": s["id"], **alert}))
        return events

    def detail(self, plan: Plan) -> str:
        return f"{plan.considered} transactions searched for recurring streams"

    def snapshot(self, ws: Workspace):
        return [(s["id"], s["frequency"], s["status"], s["next_date"], s["transaction_ids"])
                for s in latest_streams(ws)]

    def commands(self, kit) -> tuple[dict, list]:
        return _commands(kit)


FREQUENCIES = ("weekly", "biweekly", "semimonthly", "monthly", "quarterly", "semiannual", "yearly")
STATUSES = ("early", "mature", "late", "cancelled")
service = Bills()


# --- reading ----------------------------------------------------------------------------------

def latest_streams(ws: Workspace) -> list[dict]:
    """The streams of the last `bills.detected` event, as the model returned them."""
    row = ws.conn.execute("SELECT payload FROM events WHERE type = 'bills.detected' ORDER BY seq DESC LIMIT 1"
                          ).fetchone()
    return json.loads(row[0])["streams"] if row else []


CONFIRMED_MISSES = 4          # periods a confirmed stream may miss before it counts as cancelled (else 2)


def _last_version(ws: Workspace, wanted: set[str]) -> dict[str, dict]:
    """The newest stored version of each wanted stream id, from earlier detections."""
    found: dict[str, dict] = {}
    for (payload,) in ws.conn.execute("SELECT payload FROM events WHERE type = 'bills.detected' ORDER BY seq DESC"):
        if wanted <= set(found):
            break
        for s in json.loads(payload)["streams"]:
            if s["id"] in wanted and s["id"] not in found:
                found[s["id"]] = s
    return found


def _confirmed_status(ws: Workspace, s: dict) -> dict:
    """A confirmed stream re-judged as of its account's last date: late until it has missed
    CONFIRMED_MISSES periods, then cancelled with a `cancelled` alert (detection says cancelled
    after two: a gap in the data should not end a bill the user vouched for)."""
    (last,) = ws.conn.execute("SELECT MAX(date) FROM transactions WHERE account = ? AND replaced_by IS NULL",
                              (s["account"],)).fetchone()
    as_of = date.fromisoformat(max(last or s["last_date"], s["last_date"]))
    window = timedelta(days=s["window"])
    missed = [u for u in s["upcoming"] if date.fromisoformat(u) + window < as_of]
    alerts = [a for a in s["alerts"] if a["kind"] not in ("late", "cancelled")]
    if len(missed) >= CONFIRMED_MISSES:
        status = "cancelled"
        alerts.append({"kind": "cancelled", "date": missed[CONFIRMED_MISSES - 1],
                       "detail": f"no charge since {s['last_date']}"})
    elif missed:
        status = "late"
        alerts.append({"kind": "late", "date": missed[0], "detail": f"expected by {missed[0]}"})
    else:
        status = s["status"] if s["status"] in ("early", "mature") else ("mature" if len(s["transaction_ids"]) >= 3
                                                                          else "early")
    alerts.sort(key=lambda a: (a["date"], a["kind"]))
    return {**s, "status": status, "alerts": alerts}


def kept_streams(ws: Workspace, streams: list[dict] | None = None, fixes: dict | None = None) -> list[dict]:
    """The detected streams, with the user's confirmed ones kept: re-judged by `_confirmed_status`,
    and still listed (their last detected version) when detection no longer finds them. A detected
    stream holding a charge of a vanished confirmed one (the merchant was merged, older history
    came in) carries the confirmation on instead."""
    streams = latest_streams(ws) if streams is None else streams
    fixes = corrections(ws) if fixes is None else fixes
    confirmed = {sid for sid, fix in fixes.items() if fix.get("decision") == "confirmed"}
    present = {s["id"] for s in streams}
    kept = _last_version(ws, confirmed - present) if confirmed - present else {}
    owner = {t: s["id"] for s in streams for t in s["transaction_ids"]}
    out = list(streams)
    for sid, old in kept.items():
        heirs = {owner[t] for t in old["transaction_ids"] if t in owner}
        if heirs:
            for heir in heirs:
                fixes.setdefault(heir, {}).setdefault("decision", "confirmed")
        else:
            out.append(old)
    return [_confirmed_status(ws, s) if fixes.get(s["id"], {}).get("decision") == "confirmed" else s for s in out]


def corrections(ws: Workspace) -> dict[str, dict]:
    """The user's decisions per stream id, in log order (the latest wins)."""
    out: dict[str, dict] = {}
    for kind, payload in ws.conn.execute(
            "SELECT type, payload FROM events WHERE type IN ('bill.confirmed', 'bill.ignored', 'bill.renamed')"
            " ORDER BY seq"):
        p = json.loads(payload)
        entry = out.setdefault(p["stream_id"], {})
        if kind == "bill.renamed":
            entry["name"] = p["name"]
        else:
            entry["decision"] = "confirmed" if kind == "bill.confirmed" else "ignored"
    return out


def _public(s: dict, fixes: dict) -> dict:
    from ..money import format_minor

    fix = fixes.get(s["id"], {})
    out = {k: s[k] for k in STREAM_FIELDS if k not in MONEY_FIELDS and k != "merchant"}
    out["merchant"] = fix.get("name") or s.get("merchant_name") or s["merchant"]
    for k in MONEY_FIELDS:
        out[k] = format_minor(abs(s[k]), s["currency"])
    out["user"] = fix.get("decision")
    return {k: out[k] for k in [*STREAM_FIELDS, "user"]}


def streams(ws: Workspace, everything: bool = False) -> list[dict]:
    """Streams as `fin bills` shows them: without --all, not the ignored or cancelled ones."""
    fixes = corrections(ws)
    out = [_public(s, fixes) for s in kept_streams(ws, fixes=fixes)]
    if not everything:
        out = [s for s in out if s["user"] != "ignored" and s["status"] != "cancelled"]
    return out


def in_force(s: dict, fixes: dict) -> bool:
    """A stream that can still come due: neither cancelled nor ignored by the user."""
    return s["status"] != "cancelled" and fixes.get(s["id"], {}).get("decision") != "ignored"


def due(ws: Workspace, days: int, today: date) -> list[dict]:
    """What is due from today through today + days (and what is late), soonest first."""
    from ..money import format_minor

    fixes = corrections(ws)
    end = today + timedelta(days=days)
    items = []
    for s in kept_streams(ws, fixes=fixes):
        if not in_force(s, fixes):
            continue
        fix = fixes.get(s["id"], {})
        window = timedelta(days=s["window"])
        for text in s["upcoming"]:
            when = date.fromisoformat(text)
            if when + window < today and s["status"] != "late":
                continue                       # passed while the data says nothing: the next one
            if when > end:
                break
            items.append({"stream_id": s["id"], "merchant": fix.get("name") or s.get("merchant_name") or s["merchant"],
                          "account": s["account"], "currency": s["currency"], "direction": s["direction"],
                          "due_date": text, "earliest": (when - window).isoformat(),
                          "latest": (when + window).isoformat(),
                          "amount": format_minor(abs(s["next_amount"]), s["currency"]),
                          "amount_low": format_minor(abs(s["next_amount_low"]), s["currency"]),
                          "amount_high": format_minor(abs(s["next_amount_high"]), s["currency"]),
                          "status": s["status"]})
            break
    return sorted(items, key=lambda i: (i["due_date"], i["merchant"]))


def stale_accounts(ws: Workspace, today: date) -> list[tuple[str, str]]:
    """(account, its newest date) for each account with a bill or income stream in force whose data
    ends more than STALE_DAYS before today: what is due there is only known up to that date."""
    fixes = corrections(ws)
    accounts = {s["account"] for s in kept_streams(ws, fixes=fixes) if in_force(s, fixes)}
    cutoff = (today - timedelta(days=STALE_DAYS)).isoformat()
    return [(account, newest) for account, newest in ws.conn.execute(
            "SELECT account, MAX(date) FROM transactions WHERE replaced_by IS NULL GROUP BY account ORDER BY account")
            if account in accounts and newest < cutoff]


def unseen_alerts(ws: Workspace) -> list[dict]:
    """Alerts not shown yet, each with its event id and the stream's merchant."""
    shown = set()
    for (payload,) in ws.conn.execute("SELECT payload FROM events WHERE type = 'bills.alerts_shown'"):
        shown.update(json.loads(payload)["alerts"])
    fixes = corrections(ws)
    names = {s["id"]: fixes.get(s["id"], {}).get("name") or s.get("merchant_name") or s["merchant"]
             for s in kept_streams(ws, fixes=fixes)}
    out = []
    for event_id, payload in ws.conn.execute("SELECT event_id, payload FROM events WHERE type = 'bill.alert'"
                                             " ORDER BY seq"):
        p = json.loads(payload)
        if event_id in shown or fixes.get(p["stream_id"], {}).get("decision") == "ignored":
            continue
        out.append({"event_id": event_id, "stream_id": p["stream_id"], "merchant": names.get(p["stream_id"], "?"),
                    "kind": p["kind"], "date": p["date"], "detail": p["detail"]})
    return out


def mark_shown(ws: Workspace, alerts: list[dict]) -> None:
    from ..ledger import projections
    from ..store import connection as db, log as ev
    from ..store.log import Event

    if not alerts:
        return
    ids = sorted(a["event_id"] for a in alerts)
    with db.transaction(ws.conn):
        ev.append(ws.conn, [Event("bills.alerts_shown", f"bills.alerts_shown:{ev.head(ws.conn)[0]}",
                                  ev.now()[:10], "user", {"alerts": ids})])
        projections.catch_up(ws.conn)


def correct(ws: Workspace, stream_id: str, kind: str, name: str | None = None) -> dict:
    """Record the user's decision on a stream (confirm, ignore or rename); returns the stream."""
    from ..ledger import projections
    from ..store import connection as db, log as ev
    from ..store.log import Event

    known = {s["id"]: s for s in kept_streams(ws)}
    if stream_id not in known:
        raise InputError(f"no bill stream {stream_id!r}", "see the ids with `fin bills --all`")
    payload = {"stream_id": stream_id}
    if kind == "renamed":
        name = (name or "").strip()
        if not name:
            raise InputError("the new name is empty", "give a name, e.g. fin bills rename ID \"Rent\"")
        payload["name"] = name
    with ws.lock():
        with db.transaction(ws.conn):
            head = ev.head(ws.conn)[0]
            ev.append(ws.conn, [Event(f"bill.{kind}", f"bill.{kind}:{stream_id}:{head}", ev.now()[:10], "user",
                                      payload)])
            projections.catch_up(ws.conn)
    return _public(known[stream_id], corrections(ws))


def refresh(ws: Workspace, models_dir=None):
    """Run detection on what is new (nothing when nothing it follows is new)."""
    from .engine import run_one

    with ws.lock():
        return run_one(ws, service, models_dir)


# --- its commands -------------------------------------------------------------------------------

def _commands(kit) -> tuple[dict, list]:
    """`fin bills [--all]`, `fin bills confirm|ignore|rename` and `fin predict-bills`."""
    from pathlib import Path
    from typing import Optional

    import typer

    Format, FORMAT, workspace = kit.Format, kit.FORMAT, kit.workspace
    names = {"typer": typer, "Format": Format, "Optional": Optional, "Path": Path, "str": str, "bool": bool,
             "int": int}

    def resolved(fn):
        fn.__annotations__ = {key: eval(value, {"__builtins__": {}}, names) if isinstance(value, str) else value
                              for key, value in fn.__annotations__.items()}
        return fn

    def show(rows: list[dict], fmt: Format) -> None:
        if fmt is Format.json:
            kit.render(rows, STREAM_FIELDS + ["user"], fmt)
            return
        table = [{**r, "next": f"{r['next_date']} ±{(date.fromisoformat(r['next_date_latest']) - date.fromisoformat(r['next_date'])).days}",
                  "amount": r["next_amount"] if r["amount_kind"] == "fixed"
                  else f"{r['next_amount_low']}–{r['next_amount_high']}",
                  "charges": len(r["transaction_ids"])} for r in rows]
        kit.render(table, ["id", "merchant", "account", "direction", "frequency", "amount_kind", "status", "next",
                           "amount", "currency", "charges", "user"], fmt, title="recurring streams")

    def bills(ctx: typer.Context,
              action: Optional[str] = typer.Argument(None, metavar="[confirm|ignore|rename STREAM_ID [NAME]]",
                                                     help="Correct a stream: confirm it, ignore it, or rename it."),
              stream_id: Optional[str] = typer.Argument(None, metavar="", help="The stream's id (see --all)."),
              name: Optional[str] = typer.Argument(None, metavar="", help="With rename: the name to show."),
              everything: bool = typer.Option(False, "--all", help="Also the cancelled and the ignored streams."),
              models_dir: Optional[Path] = kit.MODELS_DIR, fmt: Format = FORMAT):
        """Every recurring stream (bills and income) with its status; or confirm|ignore|rename STREAM_ID."""
        ws = workspace(ctx)
        if action is None:
            refresh(ws, models_dir)
            show(streams(ws, everything), fmt)
            return
        kinds = {"confirm": "confirmed", "ignore": "ignored", "rename": "renamed"}
        if action not in kinds:
            raise InputError(f"unknown action {action!r}", "use fin bills confirm|ignore|rename STREAM_ID")
        if not stream_id:
            raise InputError(f"fin bills {action} needs a STREAM_ID", "see the ids with `fin bills --all`")
        if (name is not None) != (action == "rename"):
            raise InputError("only rename takes a NAME" if name else "rename needs a NAME",
                             "e.g. fin bills rename STREAM_ID \"Rent\"")
        stream = correct(ws, stream_id, kinds[action], name)
        kit.done(fmt, stream, f"{kinds[action]} {stream_id}: {stream['merchant']}, {stream['frequency']}")

    def predict_bills(ctx: typer.Context,
                      days: int = typer.Option(DEFAULT_DAYS, "--days", min=0, max=3660,
                                               help="Show what is due in the next N days."),
                      today: Optional[str] = kit.date_option("--today", "Count from this day instead of today"),
                      models_dir: Optional[Path] = kit.MODELS_DIR, fmt: Format = FORMAT):
        """What is due in the next N days with the expected amounts, then new alerts (each shown once).
        Without a terminal (from cron) it is silent unless something is due or changed."""
        import os

        ws = workspace(ctx)
        refresh(ws, models_dir)
        day = date.fromisoformat(today) if today else date.today()
        items = due(ws, days, day)
        alerts = unseen_alerts(ws)
        for account, newest in stale_accounts(ws, day):         # a problem, so cron mails it too
            old = (day - date.fromisoformat(newest)).days
            kit.message(f"account {account!r} has no transaction after {newest} ({old} days before {day}):"
                        " bills there are known only up to then; import a recent export of it")
        if fmt is Format.json:
            kit.render(items, DUE_FIELDS, fmt)
        elif os.isatty(1) or os.isatty(2) or fmt is not Format.table:      # a person at a terminal
            kit.render(items, DUE_FIELDS, fmt, title=f"due in the next {days} days")
            for a in alerts:
                kit.message(f"{a['kind']}: {a['merchant']} ({a['date']}): {a['detail']}")
        elif items or alerts:                              # from cron: a short plain summary for its mail
            lines = [f"fin: {len(items)} bill{'s' if len(items) != 1 else ''} due in the next {days} days"]
            lines += [f"  {i['due_date']}  {i['merchant']}  {'-' if i['direction'] == 'out' else '+'}"
                      f"{i['amount']} {i['currency']}  ({i['account']})" for i in items]
            if alerts:
                lines.append("changes:")
                lines += [f"  {a['kind']}: {a['merchant']} ({a['date']}): {a['detail']}" for a in alerts]
            for line in lines:
                kit.message(line)
        mark_shown(ws, alerts)

    return {}, [(None, "bills", resolved(bills)), (None, "predict-bills", resolved(predict_bills))]
