"""The Service contract: what a model service declares, and the two functions it fills in.

A service is a parent-side module here (a subclass of Service) and a model file
`models/<name>.py`. The engine (engine.py) does everything else: the cursor window, the
subprocess with its limits, validation, and storing in one transaction.

A service declares:
- `name`, and `follows`: the event types that wake it (nothing else does);
- `schedule`: realtime (after every import, on what it brought), nightly, weekly or on demand;
- `window`: "new" (the followed events after its cursor) or "history" (the whole log as of
  its cursor, whenever something it follows is new);
- `train_fields` / `result_fields`: the shape of a train result and of one predict result,
  checked before anything is stored; `artifacts`: the model files predict needs.

And it fills in:
- `plan(ws, window)`: the ops to run, in order, with their rows (and any work the parent
  does itself, kept in `Plan.state`);
- `to_events(ws, plan, results, run)`: the result events, with ids made from the service,
  the run and the item, so that storing the same run twice stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:                 # the CLI loads every service's commands at start-up: keep this light
    from ..store.log import Event
    from ..workspace import Workspace

Fields = dict[str, tuple[type, ...]]
SCHEDULES = ("realtime", "nightly", "weekly", "on demand")


@dataclass(frozen=True)
class Window:
    """The log positions (after, upto] a run covers, and the followed events in it."""
    after: int
    upto: int
    followed: int                         # how many followed events are new
    scope: str = "new"                    # "new", or "all" when the user asks for everything again
    start: int = 0                        # rows come from (start, upto]: `after` for a "new" window,
                                          # 0 for a "history" one (the whole log as of the cursor)


@dataclass
class Plan:
    """What one run does: ops in order, each with its rows; `state` is the service's own."""
    ops: list[tuple[str, list[dict]]] = field(default_factory=list)
    considered: int = 0                   # items the run looked at (0: it writes no service.ran)
    state: Any = None
    error: str | None = None              # set by the engine when the model failed: the one-line reason


class Service:
    name: str = ""
    follows: tuple[str, ...] = ("transaction.imported",)
    schedule: str = "on demand"
    window: str = "new"
    train_fields: Fields = {}
    result_fields: Fields = {}
    artifacts: tuple[str, ...] = ()

    def plan(self, ws: Workspace, window: Window) -> Plan:
        raise NotImplementedError

    def check(self, op: str, rows: list[dict], result: Any) -> str | None:
        """A reason to refuse a validated response, beyond its shape; None to accept it."""
        return None

    def to_events(self, ws: Workspace, plan: Plan, results: list[tuple[str, Any]], run: str) -> list[Event]:
        """The run's result events; `results` holds (op, validated result) for each op that ran, in order."""
        return []

    def trained_with(self, plan: Plan) -> dict:
        """Fields of the run's `model.trained` event beyond its artifacts and metrics."""
        return {}

    def trained(self, ws: Workspace, plan: Plan, training: dict | None) -> None:
        """Told what a train op of this run recorded (None: it wrote no model)."""

    def kept_on_failure(self, ws: Workspace, plan: Plan, run: str) -> list[Event]:
        """Results the parent produced itself that stand even when the model fails (default: none);
        `plan.error` holds why it failed. A `service.failed` event (failure_event) records the failure."""
        return []

    def detail(self, plan: Plan) -> str | None:
        """What a run did, in a few words, for the person at the terminal."""
        return None

    def news(self, plan: Plan) -> list[str]:
        """Lines a person must read about a run even from cron, one each (fraud: every new alert)."""
        return []

    def snapshot(self, ws: Workspace) -> Any:
        """The service's results as the user sees them (the contract tests compare these)."""
        return None

    def commands(self, kit) -> tuple[dict, list]:
        """The service's own CLI commands, as the CLI's area tables: ({group: help}, [(group, name,
        function)]). `kit` holds the CLI's shared parts (options, workspace opener, renderers)."""
        return {}, []


def failure_event(service: str, plan: Plan, run: str, cursor: int) -> Event:
    """The record of a failed run (`service.failed`), for a service that keeps it from kept_on_failure."""
    from ..store import log as ev
    from ..store.log import Event

    return Event("service.failed", f"service.failed:{service}:{run}:{ev.now()}", ev.now()[:10], service,
                 {"service": service, "cursor": cursor, "error": plan.error or "unknown"})
