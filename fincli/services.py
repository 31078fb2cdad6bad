"""`fin run`: which services exist, what rows each gets, and how its results are stored.

Each service keeps a cursor on the log (`projection_cursors` row `service:<name>`):
a run builds rows from the events after it, runs the service in its own process
(fincli/runner.py), validates the response, and then — in ONE transaction — appends
the service's result events, a `service.ran` event and the new cursor. A service
that fails therefore stores nothing and its cursor stays, so the next run retries
the same events; the other services of the same run still store theirs.

A service plugs in with one registry entry: `SERVICES[name] = Service(build_rows,
results_to_events, ...)`, or, when the parent has its own part in the work (categorize
applies the user's rules itself), `Service(run=...)` doing the whole step.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .ledger import projections
from .store import connection as db, cursors, log as ev
from .errors import InputError
from .store.log import Event
from .workspace import Workspace

Rows = list[dict]
Fields = dict[str, tuple[type, ...]]


@dataclass(frozen=True)
class Service:
    """How `fin run` feeds one service and stores what it returns.

    build_rows(ws, after_seq, upto_seq) -> rows for the events in (after_seq, upto_seq]
    results_to_events(rows, result) -> events to append with the run (may be empty)
    metrics(rows, result) -> the `metrics` object of the run's `service.ran` event
    run(ws, after_seq, upto_seq, models_dir) -> RunReport: the whole step, instead of the above
    """
    build_rows: Callable[[Workspace, int, int], Rows] | None = None
    results_to_events: Callable[[Rows, Any], list[Event]] = lambda rows, result: []
    op: str = "predict"
    fields: Fields = field(default_factory=dict)        # what each result (or the train result) holds
    check: Callable[[Rows, Any], str | None] | None = None
    metrics: Callable[[Rows, Any], dict] = lambda rows, result: {}
    artifacts: tuple[str, ...] = ()                      # model files to verify and hand to the service
    run: Callable[..., "RunReport"] | None = None
    realtime: bool = False                               # runs on the new transactions after `fin import`


# --- row builders ------------------------------------------------------------------------

def new_transactions(ws: Workspace, after: int, upto: int) -> Rows:
    """(account, date, amount, currency) of the transactions imported in (after, upto]."""
    rows = []
    for item in ev.read(ws.conn, after, upto, type_="transaction.imported"):
        if not isinstance(item, Event):         # failed validation: quarantined by the projection
            continue
        p = item.payload
        rows.append({"account": p["account"], "date": p["date"], "amount": p["amount"], "currency": p["currency"]})
    return rows


# --- the summary service -------------------------------------------------------------------

_ACCOUNT_FIELDS = {"account": (str,), "currency": (str,), "count": (int,), "money_in": (int,),
                   "money_out": (int,), "first_date": (str,), "last_date": (str,)}


def _check_summary(rows: Rows, result: dict) -> str | None:
    from .runner import _field_problem

    if type(result["accounts"]) is not list:
        return "accounts is not a list"
    for entry in result["accounts"]:
        if problem := _field_problem(entry, _ACCOUNT_FIELDS):
            return f"accounts: {problem}"
        if entry["money_in"] < 0 or entry["money_out"] < 0 or entry["count"] < 1:
            return f"accounts: negative or empty totals for {entry['account']!r}"
    if result["transactions"] != len(rows) or sum(e["count"] for e in result["accounts"]) != len(rows):
        return f"the totals count {result['transactions']} transactions, but {len(rows)} were sent"
    return None


def _run_categorize(ws: Workspace, after: int, upto: int, models_dir: Path | None) -> "RunReport":
    from .categorize import SERVICE, run_new

    result = run_new(ws, after, upto, models_dir)
    if result.error is not None:
        raise result.error
    return RunReport(SERVICE, "ok", result.considered, cursor(ws.conn, SERVICE), result.seconds, log=result.log,
                     detail=result.summary())


SERVICES: dict[str, Service] = {
    "categorize": Service(run=_run_categorize, realtime=True),
    "summary": Service(new_transactions, op="train",
                       fields={"transactions": (int,), "accounts": (list,)},
                       check=_check_summary,
                       metrics=lambda rows, result: result),
}


# --- running -------------------------------------------------------------------------------

def cursor_name(service: str) -> str:
    return f"service:{service}"


def cursor(conn: sqlite3.Connection, service: str) -> int:
    return cursors.position(conn, cursor_name(service))


def set_cursor(conn: sqlite3.Connection, service: str, seq: int) -> None:
    cursors.advance(conn, cursor_name(service), cursor(conn, service), seq)


@dataclass
class RunReport:
    service: str
    status: str                  # "ok", "nothing new" or "failed"
    rows: int = 0
    cursor: int = 0
    seconds: float = 0.0
    error: str | None = None     # the one-line reason when failed
    log: str | None = None
    detail: str | None = None    # what the run did, in a few words


def resolve(names: list[str], registry: dict[str, Service] | None = None,
            models_dir: Path | None = None) -> list[str]:
    """The services to run: `all` is every registered service with a file; unknown names are an InputError."""
    from .runner import service_path

    registry = SERVICES if registry is None else registry
    known = sorted(n for n in registry if service_path(n, models_dir).is_file())
    if not names:
        raise InputError("no service named", f"name one of: {', '.join(known)}, or all")
    chosen: list[str] = []
    for name in names:
        if name == "all":
            chosen.extend(n for n in known if n not in chosen)
        elif name in known:
            if name not in chosen:
                chosen.append(name)
        else:
            raise InputError(f"unknown service {name!r}", f"known services: {', '.join(known) or 'none'}; or all")
    return chosen


def run_one(ws: Workspace, name: str, spec: Service, models_dir: Path | None = None) -> RunReport:
    """Run one service on what is new since its cursor and store its results; raises ServiceError."""
    from . import runner
    from .errors import ServiceError

    with db.transaction(ws.conn):          # one snapshot: the rows and the position they reach agree
        after = cursor(ws.conn, name)
        upto = ev.head(ws.conn)[0]
    if upto <= after:
        return RunReport(name, "nothing new", 0, after)
    if spec.run is not None:
        return spec.run(ws, after, upto, models_dir)
    rows = spec.build_rows(ws, after, upto)
    if not rows:                           # only events this service does not read: move past them
        with db.transaction(ws.conn):
            if cursor(ws.conn, name) == after:
                set_cursor(ws.conn, name, upto)
        return RunReport(name, "nothing new", 0, upto)
    outcome = runner.run(ws, name, spec.op, rows, fields=spec.fields, check=spec.check,
                         artifacts=spec.artifacts, models_dir=models_dir)
    try:
        try:
            result_events = list(spec.results_to_events(rows, outcome.result))
            metrics = spec.metrics(rows, outcome.result)
        except (KeyError, TypeError, ValueError) as exc:
            raise ServiceError(name, f"invalid response: {exc!r}", outcome.log) from None
        saved = trained_artifacts(ws, name, outcome) if spec.op == "train" else []
        ran = Event("service.ran", f"service.ran:{name}:{after}:{upto}", ev.now()[:10], name,
                    {"service": name, "cursor": upto, "rows": len(rows), "metrics": metrics})
        if reason := ev.TYPES["service.ran"].problem(ran.payload):
            raise ServiceError(name, f"invalid response: {reason}", outcome.log)
        for event in result_events:
            kind = ev.TYPES.get(event.type)
            if kind is None or (reason := kind.problem(event.payload)):
                raise ServiceError(name, f"invalid response: a {event.type} event: {reason or 'unknown type'}",
                                   outcome.log)
        with db.transaction(ws.conn):
            if cursor(ws.conn, name) != after:     # another run stored these events first
                raise ServiceError(name, "another run of this service stored its results first; nothing stored",
                                   outcome.log)
            stored = ev.append(ws.conn, result_events + saved + [ran])
            position = max([upto] + [e.seq for e in stored])      # past its own events too
            set_cursor(ws.conn, name, position)
            projections.catch_up(ws.conn)
    finally:
        outcome.cleanup()
    return RunReport(name, "ok", len(rows), position, outcome.seconds, log=str(outcome.log))


def trained_artifacts(ws: Workspace, name: str, outcome) -> list[Event]:
    """Model files train wrote (new or changed) copied into artifacts/<name>/, as events to record.

    Until the run's transaction commits, a replaced file has no matching record and is refused.
    """
    from . import artifacts
    from .errors import ServiceError, WorkspaceError

    saved = []
    for path in sorted(outcome.model_dir.iterdir()):
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue
        try:
            sha = artifacts.sha256_of(path)
            kept = artifacts.path_of(ws, name, path.name)
            if sha != artifacts.recorded(ws, name, path.name) or not kept.is_file() or artifacts.sha256_of(kept) != sha:
                saved.append(artifacts.install(ws, name, path))
        except WorkspaceError as exc:
            raise ServiceError(name, f"invalid response: model file {path.name!r}: {exc.message}", outcome.log) from None
    return saved


def run_services(ws: Workspace, names: list[str], registry: dict[str, Service] | None = None,
                 models_dir: Path | None = None) -> list[RunReport]:
    """Run each service in turn (each in its own process); a failure does not stop the others."""
    from .errors import ServiceError
    from .runner import limits

    registry = SERVICES if registry is None else registry
    chosen = resolve(names, registry, models_dir)
    for name in chosen:                    # a bad config.toml stops the run before anything starts
        limits(ws, name)
    reports = []
    for name in chosen:
        try:
            reports.append(run_one(ws, name, registry[name], models_dir))
        except ServiceError as exc:
            reports.append(RunReport(name, "failed", error=str(exc), log=str(exc.log) if exc.log else None))
    return reports


def run_realtime(ws: Workspace) -> list[RunReport]:
    """The real-time services (those that score new transactions as they arrive) on what is new."""
    from .runner import service_path

    names = [n for n, spec in SERVICES.items() if spec.realtime and service_path(n).is_file()]
    return run_services(ws, names) if names else []
