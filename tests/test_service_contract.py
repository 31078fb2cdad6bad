"""The service contract, run against every registered service (the built-in ones and the test fixture).

- a crash, running out of memory, a timeout or a bad response stores nothing (at most a
  `service.failed` record of it, for a service that keeps one);
- a second run with nothing new adds no event;
- replay equals incremental: the results of one run over two imports equal those of a run after each;
- the results survive `fin rebuild --verify`.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from fincli.store import log as ev
from fincli.ingest.importer import Options, import_files
from fincli.services import engine, registry
from fincli.workspace import open_workspace

from servicekit import FIXTURE_MODELS, Summary, registered

ROOT = Path(__file__).resolve().parents[1]
# two checking exports and the first card export (where the sample's first fraud episodes are), so that
# every service has something to say
EXPORTS = [*sorted((ROOT / "data" / "samples" / "exports").glob("checking_*.csv"))[:2],
           *sorted((ROOT / "data" / "samples" / "exports").glob("card_*.csv"))[:1]]
FAILURES = {
    "crash": ("import os\nos.kill(os.getpid(), 9)\n", "killed by signal SIGKILL"),
    "oom": ("x = bytearray(900 * 1024 * 1024)\n", "memory limit of 200 MB reached"),
    "timeout": ("import time\ntime.sleep(60)\n", "timeout after 2 s"),
    "garbage": ("import sys\nopen(sys.argv[2], 'w').write('not json')\n", "invalid response"),
}


@pytest.fixture(params=[*registry.names(), "summary"])
def service(request):
    """Every built-in service, and the summary fixture registered the way any service is."""
    with registered(Summary()):
        yield registry.get(request.param)


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    for source in (*sorted((ROOT / "models").glob("*.py")), FIXTURE_MODELS / "summary.py"):
        shutil.copy(source, folder / source.name)
    return folder


def workspace(path: Path, exports=EXPORTS):
    ws = open_workspace(path)
    reports = import_files(ws, [str(p) for p in exports], Options())
    assert all(r.status == "imported" for r in reports)
    return ws


def test_a_service_declares_what_the_engine_needs(service):
    from fincli.services.base import SCHEDULES
    from fincli.store.log import TYPES

    assert service.name and service.schedule in SCHEDULES and service.window in ("new", "history")
    assert service.follows and set(service.follows) <= set(TYPES)


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failing_service_stores_nothing(service, models, tmp_path, failure):
    body, reason = FAILURES[failure]
    (models / f"{service.name}.py").write_text(textwrap.dedent(body))
    ws = workspace(tmp_path / "ws")
    try:
        ws.config_path.write_text(f"[services.{service.name}]\nmemory_mb = 200\ntimeout_s = 2\n")
        before = ev.head(ws.conn)[0]
        report, = engine.run_services(ws, [service.name], models)
        assert report.status == "failed" and reason in report.error
        # nothing of its results; at most the record of the failure itself, with its reason
        kept = ws.conn.execute("SELECT type, source, payload ->> '$.error' FROM events WHERE seq > ?",
                               (before,)).fetchall()
        assert all(t == "service.failed" and src == service.name and reason in why for t, src, why in kept)
        assert len(kept) <= 1 and engine.cursor(ws.conn, service.name) == 0
    finally:
        ws.close()


def test_a_second_run_with_nothing_new_adds_no_event(service, models, tmp_path):
    ws = workspace(tmp_path / "ws")
    try:
        first, = engine.run_services(ws, [service.name], models)
        assert first.status == "ok"
        head = ev.head(ws.conn)[0]
        second, = engine.run_services(ws, [service.name], models)
        assert second.status == "nothing new" and ev.head(ws.conn)[0] == head
    finally:
        ws.close()


def test_replay_equals_incremental(service, models, tmp_path):
    at_once = workspace(tmp_path / "once")
    step = workspace(tmp_path / "steps", EXPORTS[:1])
    try:
        assert [r.status for r in engine.run_services(at_once, [service.name], models)] == ["ok"]
        assert [r.status for r in engine.run_services(step, [service.name], models)] == ["ok"]
        assert all(r.status == "imported" for r in import_files(step, [str(p) for p in EXPORTS[1:]], Options()))
        assert [r.status for r in engine.run_services(step, [service.name], models)] == ["ok"]
        assert service.snapshot(step) == service.snapshot(at_once)
    finally:
        at_once.close()
        step.close()


def test_results_survive_rebuild_verify(service, models, tmp_path, fin):
    ws = workspace(fin.home)
    try:
        assert [r.status for r in engine.run_services(ws, [service.name], models)] == ["ok"]
        before = service.snapshot(ws)
        assert before
    finally:
        ws.close()
    result = fin("rebuild", "--verify")
    assert result.exit_code == 0, result.output
    ws = open_workspace(fin.home)
    try:
        assert service.snapshot(ws) == before
    finally:
        ws.close()


def test_a_history_service_gets_the_whole_log_as_of_its_cursor_when_something_it_follows_is_new(models, tmp_path):
    class History(Summary):
        window = "history"

    history = History()
    history.name = "summary"
    ws = workspace(tmp_path / "ws", EXPORTS[:1])
    try:
        with registered(history):
            assert [r.rows for r in engine.run_services(ws, ["summary"], models)][0] > 0
            first = ws.conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
            assert all(r.status == "imported" for r in import_files(ws, [str(EXPORTS[1])], Options()))
            report, = engine.run_services(ws, ["summary"], models)
            total = ws.conn.execute("SELECT count(*) FROM events WHERE type = 'transaction.imported'").fetchone()[0]
            assert report.rows == total > first          # the whole history, not only what is new
    finally:
        ws.close()
