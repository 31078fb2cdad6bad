"""Nothing another hand put in the workspace runs as code.

The categorization model is saved as arrays and JSON (an .npz read with
allow_pickle=False), so loading it cannot execute anything, and its predictions after
a save and load equal the in-memory model's. A workspace holding an older fin's pickle
retrains instead of loading it. A workspace folder another user owns is refused.
The "evil" files here would create a marker file if anything unpickled them.
"""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fincli.services import artifacts, categorize
from fincli.cli import app
from fincli.errors import WorkspaceError
from fincli.workspace import open_workspace

from test_categorize_model import SPLIT, sample_rows, seed_rows, unlabelled

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "models" / "categorize.py"
SAMPLES = sorted((ROOT / "data" / "samples" / "exports").glob("*.csv"))


class Evil:
    """Unpickling this runs open(marker, "w"): the proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def serve(tmp_path: Path, op: str, rows: list, model_dir: Path | None) -> subprocess.CompletedProcess:
    request, response = tmp_path / f"{op}.json", tmp_path / f"{op}.out.json"
    request.write_text(json.dumps({"op": op, "rows": rows, "model_dir": str(model_dir) if model_dir else None}))
    return subprocess.run([sys.executable, str(SERVICE), str(request), str(response)],
                          capture_output=True, text=True, timeout=300)


def result(tmp_path: Path, op: str, rows: list, model_dir: Path | None):
    done = serve(tmp_path, op, rows, model_dir)
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / f"{op}.out.json").read_text())["result"]


def test_the_saved_model_predicts_exactly_what_the_model_in_memory_does(tmp_path):
    rows = sample_rows()
    train = [r for r in rows if r["date"] < SPLIT] + seed_rows()
    test = unlabelled([r for r in rows if r["date"] >= SPLIT])
    model_dir = tmp_path / "model"
    result(tmp_path, "train", train, model_dir)
    loaded = result(tmp_path, "predict", test, model_dir)
    # evaluate fits the same rows and predicts from the model in memory, never saving it
    in_memory = result(tmp_path, "evaluate", [dict(r, split="train") for r in train]
                       + [dict(r, split="test") for r in test], None)["model"]
    assert loaded == in_memory
    assert len({p["category"] for p in loaded}) > 5

    path = model_dir / categorize.MODEL_FILE
    with zipfile.ZipFile(path) as archive:                  # JSON and plain arrays, nothing else
        assert sorted(archive.namelist()) == ["coef.npy", "idf.npy", "intercept.npy", "model.json"]
        settings = json.loads(archive.read("model.json"))
    assert settings["format"] == 2 and len(settings["classes"]) == len({r["label"] for r in train})
    with np.load(path, allow_pickle=False) as data:
        assert data["coef"].dtype == np.float64
        assert data["coef"].shape == (len(settings["vocab"]) + len(settings["amount"]), len(settings["classes"]))
    first = path.read_bytes()
    result(tmp_path, "train", train, model_dir)
    assert path.read_bytes() == first                       # the same model, the same bytes (and sha256)


def test_a_model_file_holding_a_pickled_object_is_refused_and_never_unpickled(tmp_path):
    rows = sample_rows()[:60] + seed_rows()
    model_dir = tmp_path / "model"
    result(tmp_path, "train", rows, model_dir)
    path = model_dir / categorize.MODEL_FILE
    marker = tmp_path / "unpickled"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    evil = io.BytesIO()
    np.save(evil, np.array([Evil(marker)], dtype=object), allow_pickle=True)
    members["idf.npy"] = evil.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)

    done = serve(tmp_path, "predict", unlabelled(rows[:5]), model_dir)
    assert done.returncode != 0 and "allow_pickle" in done.stderr
    assert not marker.exists()
    np.load(io.BytesIO(evil.getvalue()), allow_pickle=True)  # the control: loading it would have run it
    assert marker.exists()


def test_a_workspace_with_an_older_pickled_model_retrains_instead_of_loading_it(home, fin, tmp_path):
    assert fin("import", "--no-services", *SAMPLES).exit_code == 0
    marker = tmp_path / "unpickled"
    pickled = tmp_path / categorize.LEGACY_MODEL_FILE
    import joblib

    joblib.dump(Evil(marker), pickled)
    ws = open_workspace(home)
    artifacts.save(ws, "categorize", pickled)              # even with its sha256 recorded, as an older fin did
    ws.close()

    ran = fin("categorize")
    assert ran.exit_code == 0, ran.output
    assert "model trained on" in ran.stderr
    assert not marker.exists()
    kept = home / "artifacts" / "categorize"
    assert sorted(p.name for p in kept.iterdir()) == [categorize.MODEL_FILE]
    ws = open_workspace(home)
    assert artifacts.recorded(ws, "categorize", categorize.MODEL_FILE) == artifacts.sha256_of(kept / categorize.MODEL_FILE)
    ws.close()
    listed = json.loads(fin("transactions", "--format", "json").stdout)
    assert listed and all(t["category_source"] == "model" for t in listed)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_workspace_folder_owned_by_another_user_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "theirs"
    folder.mkdir()
    os.chown(folder, 12345, -1)
    with pytest.raises(WorkspaceError, match=r"belongs to another user \(uid 12345"):
        open_workspace(folder)
    assert list(folder.iterdir()) == []
    refused = CliRunner().invoke(app, ["--home", str(folder), "transactions"])
    assert refused.exit_code == 1
    assert len(refused.stderr.strip().splitlines()) == 1 and "belongs to another user" in refused.stderr
    assert list(folder.iterdir()) == []
