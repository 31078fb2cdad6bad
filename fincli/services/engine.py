"""The one place a service runs: cursor window → rows → subprocess → validated results → one transaction.

Each service keeps a cursor on the log (`projection_cursors` row `service:<name>`). A run
reads the window after it; when none of the events the service follows are new, the
cursor moves past them and nothing is written. Otherwise the service plans its ops, each
runs in its own process (runner.py), and — in ONE transaction — the result events, a
`service.ran` event and the new cursor are stored. A training is stored as it finishes
(`model.trained` with its artifacts' sha256), since a following predict loads that model.
A service that fails stores nothing of its model's and its cursor stays, so the next run
retries the same events; the other services of the same run still store theirs. The
cursor advances with `UPDATE … WHERE seq = expected`: a second run of the same service
that finished first makes the database refuse this one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ledger import projections
from ..store import connection as db, cursors, log as ev
from ..errors import CursorMoved, InputError
from ..store.log import Event
from ..workspace import Workspace
from . import registry
from .base import Plan, Service, Window
from ..errors import ServiceError


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
    state: Any = None            # the service's own account of the run (its Plan.state)
    news: list[str] = field(default_factory=list)   # lines to read even from cron (Service.news)


# --- cursors ----------------------------------------------------------------------------------

def cursor_name(service: str) -> str:
    return f"service:{service}"


def cursor(conn: sqlite3.Connection, service: str) -> int:
    return cursors.position(conn, cursor_name(service))


def advance(conn: sqlite3.Connection, service: str, expected: int, new: int) -> None:
    """Move the cursor from `expected` to `new`; the database refuses it if another run moved it."""
    try:
        cursors.advance(conn, cursor_name(service), expected, new)
    except CursorMoved:
        raise ServiceError(service, "another run of this service stored its results first; nothing stored") from None


# --- which services --------------------------------------------------------------------------

def resolve(names: list[str], models_dir: Path | None = None) -> list[str]:
    """The services to run: `all` is every registered service with a file; unknown names are an InputError."""
    from .runner import service_path

    known = sorted(n for n in registry.names() if service_path(n, models_dir).is_file())
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


# --- running ------------------------------------------------------------------------------------

def _followed(ws: Workspace, service: Service, after: int, upto: int) -> int:
    marks = ",".join("?" * len(service.follows))
    return ws.conn.execute(f"SELECT count(*) FROM events WHERE seq > ? AND seq <= ? AND type IN ({marks})",
                           (after, upto, *service.follows)).fetchone()[0]


def run_one(ws: Workspace, service: Service, models_dir: Path | None = None, scope: str = "new") -> RunReport:
    """Run one service on its window and store what it returns; raises ServiceError.

    scope "all" asks the service to consider everything again (`fin categorize`), whatever is new.
    """
    name = service.name
    with db.transaction(ws.conn):          # one snapshot: the rows and the position they reach agree
        projections.catch_up(ws.conn)
        after, upto = cursor(ws.conn, name), ev.head(ws.conn)[0]
        followed = _followed(ws, service, after, upto)
        if not followed and scope == "new":
            if upto > after:               # only events this service does not follow: move past them
                advance(ws.conn, name, after, upto)
            return RunReport(name, "nothing new", 0, upto)
    window = Window(after, upto, followed, scope, start=0 if service.window == "history" else after)
    run = f"{scope}:{after}:{upto}"
    plan = service.plan(ws, window)
    try:
        results, seconds, log = run_ops(ws, service, plan, models_dir)
        result_events = service.to_events(ws, plan, results, run)
        _validate(name, result_events, log)
    except ServiceError as exc:
        exc.state = plan.state
        plan.error = exc.what
        kept = service.kept_on_failure(ws, plan, run)
        if kept:
            with db.transaction(ws.conn):
                ev.append(ws.conn, kept)
                projections.catch_up(ws.conn)
        raise
    with db.transaction(ws.conn):
        stored = ev.append(ws.conn, result_events)
        if plan.considered or stored:
            ran = Event("service.ran", f"service.ran:{name}:{run}", ev.now()[:10], name,
                        {"service": name, "cursor": upto, "rows": plan.considered,
                         "metrics": {"ops": [op for op, _ in plan.ops], "results": len(stored)}})
            stored += ev.append(ws.conn, [ran])
        position = max([upto] + [e.seq for e in stored])          # past its own events too
        advance(ws.conn, name, after, position)
        projections.catch_up(ws.conn)
    return RunReport(name, "ok", plan.considered, position, seconds, log=log, detail=service.detail(plan),
                     state=plan.state, news=service.news(plan))


def run_ops(ws: Workspace, service: Service, plan: Plan,
            models_dir: Path | None = None) -> tuple[list[tuple[str, Any]], float, str | None]:
    """Each op of the plan in its own process, in order: [(op, validated result)], seconds, last log.
    A training is recorded as it finishes (a following predict loads that model)."""
    from . import runner

    results: list[tuple[str, Any]] = []
    seconds, log = 0.0, None
    for op, rows in plan.ops:
        outcome = runner.run(ws, service.name, op, rows,
                             fields=service.train_fields if op == "train" else service.result_fields,
                             artifacts=() if op == "train" else service.artifacts,
                             check=lambda r, result, op=op: service.check(op, r, result), models_dir=models_dir)
        try:
            seconds, log = seconds + outcome.seconds, str(outcome.log)
            results.append((op, outcome.result))
            if op == "train":
                service.trained(ws, plan, record_training(ws, service, outcome, rows, plan))
        finally:
            outcome.cleanup()
    return results, seconds, log


def _validate(name: str, result_events: list[Event], log) -> None:
    for event in result_events:
        kind = ev.TYPES.get(event.type)
        if kind is None or (reason := kind.problem(event.payload)):
            raise ServiceError(name, f"invalid response: a {event.type} event: {reason or 'unknown type'}", log)


def record_training(ws: Workspace, service: Service, outcome, rows: list[dict], plan: Plan) -> dict | None:
    """The model train wrote, copied into artifacts/<name>/ and recorded as `model.trained` (with
    its artifact.saved records) in one transaction. Returns the training's payload, or None when
    train wrote no model file (a service without a model)."""
    from . import artifacts

    files = {p.name: artifacts.sha256_of(p) for p in sorted(outcome.model_dir.iterdir())
             if p.is_file() and not p.is_symlink() and not p.name.startswith(".")}
    if not files:
        return None
    saved = trained_artifacts(ws, service.name, outcome)
    metrics = {**(outcome.result if isinstance(outcome.result, dict) else {}), "rows": len(rows),
               "seconds": round(outcome.seconds, 3)}
    payload = {"service": service.name, "artifacts": files, "metrics": metrics, **service.trained_with(plan)}
    with db.transaction(ws.conn):
        head = ev.head(ws.conn)[0]
        digest = min(files.values())[:16]
        trained = Event("model.trained", f"model.trained:{service.name}:{head}:{digest}", ev.now()[:10],
                        service.name, payload)
        _validate(service.name, [trained], outcome.log)
        ev.append(ws.conn, saved + [trained])
        projections.catch_up(ws.conn)
    return payload


def trained_artifacts(ws: Workspace, name: str, outcome) -> list[Event]:
    """Model files train wrote (new or changed) copied into artifacts/<name>/, as events to record.

    Until the run's transaction commits, a replaced file has no matching record and is refused.
    """
    from . import artifacts
    from ..errors import WorkspaceError

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


def run_services(ws: Workspace, names: list[str], models_dir: Path | None = None) -> list[RunReport]:
    """Run each service in turn (each in its own process); a failure does not stop the others."""
    from .runner import limits

    chosen = resolve(names, models_dir)
    for name in chosen:                    # a bad config.toml stops the run before anything starts
        limits(ws, name)
    reports = []
    for name in chosen:
        try:
            reports.append(run_one(ws, registry.get(name), models_dir))
        except ServiceError as exc:
            reports.append(RunReport(name, "failed", error=str(exc), log=str(exc.log) if exc.log else None))
    return reports


def run_realtime(ws: Workspace) -> list[RunReport]:
    """The real-time services (those that score new transactions as they arrive) on what is new."""
    from .runner import service_path

    names = [n for n in registry.names() if registry.get(n).schedule == "realtime" and service_path(n).is_file()]
    return run_services(ws, names) if names else []
