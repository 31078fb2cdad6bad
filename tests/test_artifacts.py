"""Model artifacts: a file is loaded only when its sha256 matches the one recorded in the log.

The check happens in the parent before the service process starts, so a tampered
pickle is never unpickled: the evil pickle here would create a marker file when
loaded, and the marker must not exist.
"""

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from fincli.errors import ServiceError, WorkspaceError
from fincli.ledger import maintenance
from fincli.services import artifacts, engine, registry, runner
from fincli.store import log as ev

from eventkit import append_and_project, import_events
from servicekit import OneOp

ROOT = Path(__file__).resolve().parents[1]

MEMO = """
    import json
    import os

    from service import serve

    def train(rows, model_dir):
        with open(os.path.join(model_dir, "model.json"), "w") as handle:
            json.dump({"value": len(rows)}, handle)
        return {"trained_on": len(rows)}

    def predict(rows, model_dir):
        with open(os.path.join(model_dir, "model.json")) as handle:
            model = json.load(handle)
        return [{"value": model["value"]} for row in rows]

    serve(train, predict)
"""


class Evil:
    """Unpickling this runs open(marker, "w"): the proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(ROOT / "models" / "service.py", folder / "service.py")
    (folder / "memo.py").write_text(textwrap.dedent(MEMO))
    return folder


@pytest.fixture(autouse=True)
def _unregister_memo():
    yield
    registry.unregister("memo")


def register(monkeypatch, op, files=()):
    registry.register(OneOp("memo", op, {"value": (int,)} if op == "predict" else {"trained_on": (int,)}, files))


def add_transactions(ws, import_id, n):
    append_and_project(ws, import_events(import_id, "checking", [
        (f"{import_id}-{i}", "2024-03-01", -100 * (i + 1), "SHOP") for i in range(n)]))


def test_save_records_the_sha256_and_verify_checks_it(ws, tmp_path):
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights v1")
    sha = artifacts.save(ws, "memo", source)
    event, = [json.loads(p) for (p,) in ws.conn.execute("SELECT payload FROM events WHERE type = 'artifact.saved'")]
    assert event == {"service": "memo", "file": "model.bin", "sha256": sha}
    assert artifacts.verify(ws, "memo", "model.bin") == ws.artifacts / "memo" / "model.bin"

    (ws.artifacts / "memo" / "model.bin").write_bytes(b"weights v2")
    with pytest.raises(ServiceError, match=r"artifact .*memo/model\.bin does not match its recorded sha256"):
        artifacts.verify(ws, "memo", "model.bin")
    copy = tmp_path / "copy.bin"
    with pytest.raises(ServiceError):
        artifacts.verify(ws, "memo", "model.bin", copy_to=copy)
    assert not copy.exists()                                  # nothing of a refused file is handed on

    source.write_bytes(b"weights v2")
    artifacts.save(ws, "memo", source)                        # saving again records the new hash
    assert artifacts.verify(ws, "memo", "model.bin", copy_to=copy).read_bytes() == b"weights v2"
    maintenance.verify(ws)


@pytest.mark.parametrize("name", ["../fin.db", "a/b", "..", ""])
def test_artifact_names_cannot_leave_the_service_folder(ws, name):
    with pytest.raises(WorkspaceError, match="not a plain file name"):
        artifacts.verify(ws, "memo", name)


def test_trained_model_is_recorded_and_loaded_only_after_the_parent_checked_it(ws, fin, models, monkeypatch):
    add_transactions(ws, "imp1", 3)
    register(monkeypatch, "train")
    assert fin("run", "memo", "--models-dir", models).exit_code == 0
    model = ws.artifacts / "memo" / "model.json"
    assert model.exists() and artifacts.recorded(ws, "memo", "model.json") == artifacts.sha256_of(model)

    add_transactions(ws, "imp2", 2)
    register(monkeypatch, "predict", ("model.json",))
    assert fin("run", "memo", "--models-dir", models).exit_code == 0
    ran = [json.loads(p) for (p,) in ws.conn.execute(
        "SELECT payload FROM events WHERE type = 'service.ran' ORDER BY seq")]
    assert [r["rows"] for r in ran] == [3, 2]
    maintenance.verify(ws)


def test_a_tampered_pickle_is_refused_before_the_service_starts_and_never_loaded(ws, fin, models, monkeypatch,
                                                                                    tmp_path):
    add_transactions(ws, "imp1", 3)
    register(monkeypatch, "train")
    assert fin("run", "memo", "--models-dir", models).exit_code == 0
    add_transactions(ws, "imp2", 2)
    register(monkeypatch, "predict", ("model.json",))

    import joblib

    marker = tmp_path / "UNPICKLED"
    model = ws.artifacts / "memo" / "model.json"
    joblib.dump(Evil(marker), model)                           # swapped behind fin's back
    assert not marker.exists()
    cursor_before = engine.cursor(ws.conn, "memo")
    logs_before = set(ws.logs.iterdir())
    events_before = ev.head(ws.conn)[0]

    result = fin("run", "memo", "--models-dir", models)
    assert result.exit_code == 3
    line, = result.stderr.strip().splitlines()
    assert line.startswith(f"fin: service memo: artifact {model} does not match its recorded sha256"), line
    assert not marker.exists()                                 # never unpickled, by anyone
    assert set(ws.logs.iterdir()) == logs_before               # the service process never started
    assert engine.cursor(ws.conn, "memo") == cursor_before and ev.head(ws.conn)[0] == events_before
    assert not list(ws.home.glob(".run-*"))
    with pytest.raises(ServiceError, match="does not match its recorded sha256"):
        runner.run(ws, "memo", "predict", [{"account": "a"}], artifacts=("model.json",), models_dir=models)
    assert not marker.exists()
    maintenance.verify(ws)

    joblib.load(model)                                         # the control: loading it would have run it
    assert marker.exists()


def test_a_file_with_no_record_is_refused(ws, models, tmp_path):
    import joblib

    marker = tmp_path / "UNPICKLED"
    (ws.artifacts / "memo").mkdir(parents=True)
    joblib.dump(Evil(marker), ws.artifacts / "memo" / "model.json")
    with pytest.raises(ServiceError, match=r"artifact .*model\.json has no recorded sha256; refusing to load it"):
        runner.run(ws, "memo", "predict", [{"account": "a"}], artifacts=("model.json",), models_dir=models)
    assert not marker.exists()
