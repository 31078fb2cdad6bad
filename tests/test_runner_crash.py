"""After fin itself dies: its service dies too, its run folder is removed later, logs stay bounded.

A real `fin run` is killed with SIGKILL while its service sleeps; the service must not
go on running with no one to enforce its timeout, and the run folder it leaves (the
request's rows, a copy of the model) must be removed by the next run, which can tell
it is stale because the fin process named in its name is gone.
"""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fincli.services import runner
from fincli.errors import WorkspaceError

from servicekit import alive

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = sorted((ROOT / "data" / "samples" / "exports").glob("checking_*.csv"))[0]

SLEEPER = """
    import os, time
    from pathlib import Path
    Path(__file__).with_name("service.pid").write_text(str(os.getpid()))
    time.sleep(120)
"""

TINY = """
    from service import serve

    serve(lambda rows, model_dir: {"rows": len(rows)}, None)
"""


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def models_with(tmp_path: Path, folder: str, **bodies: str) -> Path:
    models = tmp_path / folder
    models.mkdir()
    shutil.copy(ROOT / "models" / "service.py", models / "service.py")
    for name, body in bodies.items():
        (models / f"{name}.py").write_text(textwrap.dedent(body))
    return models


def fin_process(home: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fincli.cli", "--home", str(home), *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_a_killed_fin_takes_its_service_down_and_the_next_run_removes_its_folder(tmp_path, home, fin):
    assert fin("import", "--no-services", SAMPLE).exit_code == 0
    sleeping = models_with(tmp_path, "sleeping", categorize=SLEEPER)
    parent = fin_process(home, "run", "categorize", "--models-dir", sleeping)
    child = None
    try:
        assert wait_for(lambda: (sleeping / "service.pid").exists(), 60), parent.stderr.read()
        child = int((sleeping / "service.pid").read_text())
        assert alive(child)
        left = list(home.glob(f".run-categorize-{parent.pid}-*"))
        assert len(left) == 1 and (left[0] / "request.json").exists()
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_for(lambda: not alive(child), 5)              # not orphaned, running on with no timeout
    finally:
        parent.kill()
        parent.wait()
        if child is not None and alive(child):                   # the failure: do not leave it behind
            os.kill(child, signal.SIGKILL)
    assert left[0].exists()                                       # nobody cleaned up after the killed fin

    live = home / f".run-categorize-{os.getpid()}-abc123"         # this process is alive: its folder stays
    unnamed = home / ".run-categorize-oldstyle"                   # no pid in its name: left alone
    gone = home / f".run-categorize-{dead_pid()}-def456"
    for folder in (live, unnamed, gone):
        folder.mkdir()
    done = fin_process(home, "run", "categorize")                 # the shipped service this time
    _, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    assert not left[0].exists() and not gone.exists()
    assert sorted(home.glob(".run-*")) == sorted([live, unnamed])


def test_only_the_newest_logs_of_each_service_are_kept(ws, tmp_path):
    ws.config_path.write_text(ws.config_path.read_text().replace("keep_per_service = 20", "keep_per_service = 3"))
    assert runner.logs_kept(ws) == 3
    models = models_with(tmp_path, "models", tiny=TINY, other=TINY)
    other = runner.run(ws, "other", "train", [], models_dir=models)
    other.cleanup()
    logs = []
    for n in range(5):
        outcome = runner.run(ws, "tiny", "train", [{"n": n}], models_dir=models)
        outcome.cleanup()
        logs.append(outcome.log)
    assert sorted(p for p in ws.logs.iterdir() if p.name.startswith("tiny-")) == logs[-3:]
    assert other.log.exists()                                     # another service's logs are its own


def test_a_bad_keep_per_service_stops_before_any_service_starts(ws, tmp_path):
    ws.config_path.write_text(ws.config_path.read_text().replace("keep_per_service = 20", "keep_per_service = 0"))
    models = models_with(tmp_path, "models", tiny=TINY)
    with pytest.raises(WorkspaceError, match=r"\[logs\] keep_per_service must be a positive whole number, not 0"):
        runner.run(ws, "tiny", "train", [], models_dir=models)
    assert list(ws.logs.iterdir()) == [] and not list(ws.home.glob(".run-*"))
