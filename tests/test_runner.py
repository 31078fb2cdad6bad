"""The service runner through real subprocesses: limits, crashes, bad answers, cursors.

Throwaway services are written into a temporary models folder beside copies of the
real `service.py` and the test fixture `summary.py`, and registered through the real
service registry (tests/servicekit.py); each failure must leave the other services'
results stored, store nothing of the failed one, explain itself in one line, make
`fin run` exit 3, and leave a log that still verifies.
"""

import json
import shutil
import textwrap
import time
from pathlib import Path

import pytest

from fincli.errors import InputError, ServiceError, WorkspaceError
from fincli.ledger import maintenance
from fincli.services import engine, registry, runner
from fincli.store import log as ev

from eventkit import append_and_project, import_events
from servicekit import FIXTURE_MODELS, OneOp, Summary, alive, new_transactions, registered, results

ROOT = Path(__file__).resolve().parents[1]

THROWAWAY = {
    "hog": """
        chunks = []
        while True:                                   # far past a 200 MB address-space limit
            chunks.append(bytearray(32 * 1024 * 1024))
    """,
    "suicide": """
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """,
    "hang": """
        import subprocess, sys, time
        from pathlib import Path
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        Path(__file__).with_name("hang.child").write_text(str(child.pid))
        time.sleep(120)
    """,
    "garbage": """
        import sys
        with open(sys.argv[2], "w") as out:
            out.write('{"ok": true, "result": [1, 2,')
        print("this is not the response either")
    """,
    "raiser": """
        from service import serve

        def train(rows, model_dir):
            raise ValueError(f"boom after {len(rows)} rows")

        serve(train, None)
    """,
    "shortchange": """
        from service import serve

        def predict(rows, model_dir):
            return [{"label": "x"} for row in rows[1:]]  # one result short

        serve(None, predict)
    """,
    "echo": """
        from service import serve

        def predict(rows, model_dir):
            return [{"label": row["account"], "score": 0.5} for row in rows]

        serve(None, predict)
    """,
}

REASONS = {
    "hog": "memory limit of 200 MB reached",
    "suicide": "killed by signal SIGKILL",
    "hang": "timeout after 2 s",
    "garbage": "invalid response: not JSON",
    "raiser": "exited with code 1: ValueError: boom after 3 rows",
    "shortchange": "invalid response: 2 results for 3 rows",
}

CONFIG = """
[services.hog]
memory_mb = 200

[services.hang]
timeout_s = 2
"""


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(ROOT / "models" / "service.py", folder / "service.py")
    shutil.copy(FIXTURE_MODELS / "summary.py", folder / "summary.py")
    throwaway = []
    for name, body in THROWAWAY.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(body))
        predicts = name in ("shortchange", "echo")
        throwaway.append(OneOp(name, "predict" if predicts else "train", {"label": (str,)} if predicts else {}))
    with registered(Summary(), *throwaway):
        yield folder


@pytest.fixture
def data(ws):
    """A workspace with three transactions in two accounts, and the test limits in config.toml."""
    with open(ws.config_path, "a", encoding="utf-8") as config:
        config.write(CONFIG)
    append_and_project(ws, import_events("imp1", "checking", [
        ("t1", "2024-03-01", -1250, "COFFEE"), ("t2", "2024-03-02", 250000, "SALARY")]))
    append_and_project(ws, import_events("imp2", "card", [("t3", "2024-03-03", -4999, "SHOP")]))
    return ws


def stored(ws, service):
    return results(ws, service)


def cursor(ws, service):
    return engine.cursor(ws.conn, service)


@pytest.mark.parametrize("bad", sorted(REASONS))
def test_a_failing_service_stores_nothing_and_the_others_still_deliver(data, fin, models, bad):
    ws = data
    result = fin("run", bad, "summary", "echo", "--models-dir", models)

    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"fin: service {bad}: {REASONS[bad]}"), line
    log = Path(line.split("(log: ", 1)[1].split(")", 1)[0])
    assert log.parent == ws.logs and log.name.startswith(f"{bad}-") and log.exists()

    # nothing of the failed service
    assert stored(ws, bad) == [] and cursor(ws, bad) == 0
    assert ws.conn.execute("SELECT count(*) FROM events WHERE source = ?", (bad,)).fetchone()[0] == 0
    # the others delivered, after it
    summary, = stored(ws, "summary")
    report, = summary["results"]
    assert summary["rows"] == 3 and report["transactions"] == 3
    assert {a["account"]: (a["count"], a["money_in"], a["money_out"]) for a in report["accounts"]} == \
        {"checking": (2, 250000, 1250), "card": (1, 0, 4999)}
    assert stored(ws, "echo")[0]["rows"] == 3
    assert cursor(ws, "summary") > 0 and cursor(ws, "echo") > 0
    assert not list(ws.home.glob(".run-*"))       # request/response folders are cleaned up
    maintenance.verify(ws)
    assert fin("verify").exit_code == 0

    # the next run retries the failed one on the same events, and only it
    again = fin("run", bad, "summary", "echo", "--models-dir", models)
    assert again.exit_code == 3 and len(stored(ws, "summary")) == 1 and cursor(ws, bad) == 0


def test_the_memory_hog_hit_its_limit_and_says_so_in_its_log(data, models):
    with pytest.raises(ServiceError) as caught:
        engine.run_one(data, registry.get("hog"), models)
    assert "MemoryError" in caught.value.log.read_text()
    assert caught.value.exit_code == 3


def test_a_timeout_kills_the_whole_process_group(data, models):
    with pytest.raises(ServiceError, match=r"^service hang: timeout after 2 s \(log: "):
        engine.run_one(data, registry.get("hang"), models)
    child = int((models / "hang.child").read_text())
    deadline = time.monotonic() + 5                   # SIGKILL is delivered, not instant: give it a moment
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_run_all_runs_every_service_and_reports_each_failure_on_its_own_line(data, fin, models):
    shutil.copy(ROOT / "models" / "categorize.py", models / "categorize.py")     # the real one, among the failures
    result = fin("run", "all", "--models-dir", models)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert sorted(line.split()[2].rstrip(":") for line in lines) == sorted(REASONS)
    for line in lines:
        name = line.split()[2].rstrip(":")
        assert REASONS[name] in line and f"{data.logs}/{name}-" in line
    assert stored(data, "summary") and stored(data, "echo")
    assert [r["metrics"]["ops"] for r in stored(data, "categorize")] == [["train", "predict"]]
    trained, = data.conn.execute("SELECT payload FROM events WHERE type = 'model.trained'").fetchall()
    assert json.loads(trained[0])["labels"] == 0 and "model.npz" in json.loads(trained[0])["artifacts"]
    categorized = data.conn.execute("SELECT count(*) FROM transactions WHERE category_source = 'model'"
                                    " OR review = 1").fetchone()[0]
    assert categorized == 3 and cursor(data, "categorize") > 0
    maintenance.verify(data)


def test_all_succeeding_exits_0_and_an_unknown_service_exits_1(data, fin, models):
    assert fin("run", "summary", "echo", "--models-dir", models).exit_code == 0
    unknown = fin("run", "summary", "nosuch", "--models-dir", models)
    assert unknown.exit_code == 1 and "unknown service 'nosuch'" in unknown.stderr
    assert fin("run", "service", "--models-dir", models).exit_code == 1    # the protocol is not a service
    with pytest.raises(InputError):
        engine.resolve(["nosuch"])


def test_summary_processes_new_transactions_once(data, fin, models):
    ws = data
    assert fin("run", "summary", "--models-dir", models).exit_code == 0
    assert fin("run", "summary", "--models-dir", models).exit_code == 0    # nothing new: nothing runs or is stored
    assert [p["rows"] for p in stored(ws, "summary")] == [3]
    append_and_project(ws, import_events("imp3", "card", [("t4", "2024-03-04", -700, "BUS")]))
    assert fin("run", "summary", "--models-dir", models).exit_code == 0
    runs = stored(ws, "summary")
    assert [p["rows"] for p in runs] == [3, 1]
    assert runs[1]["results"][0]["accounts"] == [{"account": "card", "currency": "USD", "count": 1, "money_in": 0,
                                               "money_out": 700, "first_date": "2024-03-04",
                                               "last_date": "2024-03-04"}]
    assert cursor(ws, "summary") == ev.head(ws.conn)[0]
    assert fin("run", "summary", "echo", "--models-dir", models).exit_code == 0 and len(stored(ws, "summary")) == 2
    maintenance.verify(ws)


def test_predict_results_are_validated_field_by_field(data, models):
    rows = new_transactions(data, 0, ev.head(data.conn)[0])
    ok = runner.run(data, "echo", "predict", rows, fields={"label": (str,), "score": (float,)}, models_dir=models)
    assert [r["label"] for r in ok.result] == ["checking", "checking", "card"]
    ok.cleanup()
    with pytest.raises(ServiceError, match=r"invalid response: result 1: missing field 'confidence'"):
        runner.run(data, "echo", "predict", rows, fields={"confidence": (float,)}, models_dir=models)
    with pytest.raises(ServiceError, match=r"invalid response: result 1: field 'score' is float, not int"):
        runner.run(data, "echo", "predict", rows, fields={"score": (int,)}, models_dir=models)


def test_the_response_check_refuses_what_is_not_a_valid_answer():
    check = runner.check_response
    assert check(b'{"ok": true, "result": [{"a": 1}]}', "predict", 1, {"a": (int,)}) == [{"a": 1}]
    for text, reason in [(b"[]", "instead of an object"), (b'{"ok": false, "result": []}', "ok is not true"),
                         (b'{"ok": true}', "no result"), (b'{"ok": true, "result": NaN}', "not JSON"),
                         (b'{"ok": true, "result": {}}', "not a list"), (b"\xff", "not JSON")]:
        with pytest.raises(ValueError, match=reason):
            check(text, "predict", 1, {})


@pytest.mark.parametrize("config, problem", [
    ("[services.summary]\nmemory_mb = -5\n", "memory_mb must be a positive number of megabytes, not -5"),
    ("[services.summary]\nmemory_mb = \"lots\"\n", "memory_mb must be a positive number of megabytes, not 'lots'"),
    ("[services.summary]\ntimeout_s = 0\n", "timeout_s must be a positive number of seconds, not 0"),
    ("services = 3\n", "`services` must be a table"),
    ("[services]\nsummary = 1\n", "services.summary must be a table"),
])
def test_a_bad_limit_in_config_is_a_clear_workspace_error(data, fin, models, config, problem):
    data.config_path.write_text(config)
    with pytest.raises(WorkspaceError, match=problem):
        runner.limits(data, "summary")
    result = fin("run", "summary", "--models-dir", models)
    assert result.exit_code == 1 and problem in result.stderr and "config.toml" in result.stderr
    assert stored(data, "summary") == []


def test_limits_default_when_config_says_nothing(data):
    data.config_path.write_text("")
    assert runner.limits(data, "summary") == runner.Limits(1024, 300)


def test_the_summary_service_speaks_the_protocol_on_stdin_and_stdout(models, tmp_path):
    import subprocess
    import sys

    request = {"op": "train", "rows": [{"account": "a", "date": "2024-01-01", "amount": -5, "currency": "EUR"}],
               "model_dir": str(tmp_path)}
    out = subprocess.run([sys.executable, str(models / "summary.py")], input=json.dumps(request),
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"ok": True, "result": {"transactions": 1, "accounts": [
        {"account": "a", "currency": "EUR", "count": 1, "money_in": 0, "money_out": 5,
         "first_date": "2024-01-01", "last_date": "2024-01-01"}]}}
    bad = subprocess.run([sys.executable, str(models / "summary.py")],
                         input=json.dumps({"op": "predict", "rows": []}), capture_output=True, text=True)
    assert bad.returncode != 0 and "unsupported op 'predict'" in bad.stderr and bad.stdout == ""


def test_the_models_folder_never_imports_fincli():
    for path in (ROOT / "models").glob("*.py"):
        text = path.read_text()
        assert "fincli" not in text.replace("never imports fincli", "").replace("nothing of fin", ""), path
    assert "import sklearn" not in (ROOT / "models" / "service.py").read_text()
