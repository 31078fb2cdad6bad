"""Test services, registered through the real registry: the summary fixture and one-op services.

A test service's rows are the transactions imported after its cursor; it runs one op and
keeps each result as a `service.result` event (id: service, run, item).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from fincli.store import log as ev
from fincli.store.log import Event
from fincli.services import registry
from fincli.services.base import Plan, Service
from fincli.services.runner import _field_problem

FIXTURE_MODELS = Path(__file__).resolve().parent / "fixtures" / "models"


def alive(pid: int) -> bool:
    """Whether a process is running (a zombie waiting for its parent is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def new_transactions(ws, after: int, upto: int) -> list[dict]:
    """(account, date, amount, currency) of the transactions imported in (after, upto]."""
    rows = []
    for item in ev.read(ws.conn, after, upto, type_="transaction.imported"):
        if isinstance(item, Event):
            p = item.payload
            rows.append({"account": p["account"], "date": p["date"], "amount": p["amount"], "currency": p["currency"]})
    return rows


class OneOp(Service):
    def __init__(self, name: str, op: str = "predict", fields: dict | None = None, artifacts: tuple = ()):
        self.name, self.op, self.artifacts = name, op, tuple(artifacts)
        self.train_fields = fields or {} if op == "train" else {}
        self.result_fields = fields or {} if op == "predict" else {}

    def plan(self, ws, window) -> Plan:
        rows = new_transactions(ws, window.start, window.upto)
        return Plan([(self.op, rows)] if rows else [], len(rows))

    def to_events(self, ws, plan, results, run) -> list[Event]:
        items = [item for _, result in results for item in (result if isinstance(result, list) else [result])]
        return [Event("service.result", f"service.result:{self.name}:{run}:{i}", ev.now()[:10], self.name,
                      {"service": self.name, "run": run, "item": i, "result": item}) for i, item in enumerate(items)]

    def snapshot(self, ws):
        return [json.loads(p)["result"] for (p,) in ws.conn.execute(
            "SELECT payload FROM events WHERE type = 'service.result' AND source = ? ORDER BY seq", (self.name,))]


_ACCOUNT_FIELDS = {"account": (str,), "currency": (str,), "count": (int,), "money_in": (int,),
                   "money_out": (int,), "first_date": (str,), "last_date": (str,)}


class Summary(OneOp):
    """Per-account totals of the new transactions (models file: tests/fixtures/models/summary.py)."""

    def __init__(self):
        super().__init__("summary", "train", {"transactions": (int,), "accounts": (list,)})

    def check(self, op, rows, result):
        for entry in result["accounts"]:
            if problem := _field_problem(entry, _ACCOUNT_FIELDS):
                return f"accounts: {problem}"
            if entry["money_in"] < 0 or entry["money_out"] < 0 or entry["count"] < 1:
                return f"accounts: negative or empty totals for {entry['account']!r}"
        if result["transactions"] != len(rows) or sum(e["count"] for e in result["accounts"]) != len(rows):
            return f"the totals count {result['transactions']} transactions, but {len(rows)} were sent"
        return None

    def snapshot(self, ws):
        """Totals per (account, currency) over every run: replaying in one run or in many gives the same."""
        totals: dict = {}
        for report in super().snapshot(ws):
            for a in report["accounts"]:
                t = totals.setdefault((a["account"], a["currency"]), [0, 0, 0])
                t[0] += a["count"]
                t[1] += a["money_in"]
                t[2] += a["money_out"]
        return totals


@contextmanager
def registered(*services: Service):
    for service in services:
        registry.register(service)
    try:
        yield
    finally:
        for service in services:
            registry.unregister(service.name)


def results(ws, service: str) -> list[dict]:
    """Each stored run of a test service: its service.ran payload, with `results` (what it stored)."""
    runs = []
    for event_id, payload in ws.conn.execute(
            "SELECT event_id, payload FROM events WHERE type = 'service.ran' AND source = ? ORDER BY seq", (service,)):
        run = json.loads(payload)
        run_id = event_id.split(":", 2)[2]
        run["results"] = [json.loads(p)["result"] for (p,) in ws.conn.execute(
            "SELECT payload FROM events WHERE type = 'service.result' AND source = ?"
            " AND payload ->> '$.run' = ? ORDER BY seq", (service, run_id))]
        runs.append(run)
    return runs
