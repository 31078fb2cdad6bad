"""An import killed with SIGKILL halfway leaves the workspace exactly as it was."""

import json
import os
import signal
import subprocess
import sys
import time

from fincli.ledger import projections
from fincli.synth import write_large_export
from fincli.workspace import open_workspace


def fin(home, *args, **kw):
    return subprocess.run([sys.executable, "-m", "fincli.cli", "--home", str(home), *map(str, args)],
                          capture_output=True, text=True, **kw)


def test_sigkill_halfway_through_an_import_loses_nothing_and_a_rerun_completes(tmp_path):
    home = tmp_path / "ws"
    small = tmp_path / "savings_2024.csv"
    small.write_text("Date,Description,Amount\n2024-01-02,INTEREST,1.00\n2024-01-15,FEE,-2.00\n")
    assert fin(home, "import", small).returncode == 0
    ws = open_workspace(home)
    before = projections.digest(ws.conn), ws.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    ws.close()

    big = tmp_path / "checking_big.csv"
    write_large_export(big, 300_000, seed=3)
    proc = subprocess.Popen([sys.executable, "-m", "fincli.cli", "--home", str(home), "import", str(big)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wal = home / "fin.db-wal"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 4 * 1024 * 1024:   # the file's transaction is being written
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the import finished before it could be killed; use a larger file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    ws = open_workspace(home)
    after = projections.digest(ws.conn), ws.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    ws.close()
    assert after == before
    assert fin(home, "verify").returncode == 0

    rerun = fin(home, "import", big, "--format", "json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)[0]
    assert summary["status"] == "imported" and summary["added"] == 300_000
    assert fin(home, "verify").returncode == 0


def test_two_imports_at_the_same_moment_both_complete(tmp_path):
    home = tmp_path / "ws"
    files = []
    for n in range(2):
        path = tmp_path / f"acct{n}_2024.csv"
        write_large_export(path, 20_000, seed=10 + n)
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-m", "fincli.cli", "--home", str(home), "import", str(f),
                               "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for f in files]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert [json.loads(out)[0]["added"] for out, _ in outputs] == [20_000, 20_000]
    assert fin(home, "verify").returncode == 0
