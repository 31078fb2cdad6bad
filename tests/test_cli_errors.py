"""Failures of the machine or of the input reach the user as one line and exit 1, never a traceback,
and leave nothing half written."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data" / "samples" / "exports").glob("*.csv"))
CHECKING = next(p for p in SAMPLES if p.name.startswith("checking"))
CARD = next(p for p in SAMPLES if p.name.startswith("card"))


@contextmanager
def read_only(path: Path):
    """A folder or file where writes fail, for root too: `chattr +i`, else (not root) chmod."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)],
                                                            capture_output=True).returncode:
            pytest.skip("no way to make a path read-only for root here (chattr +i unavailable)")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            path.chmod(mode)


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def event_count(home: Path) -> int:
    conn = sqlite3.connect(home / "fin.db")
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- a workspace fin cannot write to ------------------------------------------------------

def test_a_read_only_workspace_folder_refuses_the_import_before_writing(fin, home):
    assert fin("import", "--no-services", CARD).exit_code == 0
    before = event_count(home)
    with read_only(home):
        result = fin("import", CHECKING)
    assert result.exit_code == 1
    assert "is not writable" in one_line(result) and str(home) in result.stderr
    assert event_count(home) == before


def test_a_read_only_logs_folder_refuses_the_import_instead_of_failing_after_committing_it(fin, home):
    """The service log is written after the import commits: without a check up front the import
    was stored and then a traceback followed."""
    assert fin("status").exit_code == 0                  # creates the workspace
    with read_only(home / "logs"):
        result = fin("import", CHECKING)
    assert result.exit_code == 1
    assert "not writable" in one_line(result) and "logs" in result.stderr
    assert event_count(home) == 0


def test_a_read_only_database_file_is_one_line_and_keeps_the_file(fin, home):
    assert fin("import", "--no-services", CARD).exit_code == 0
    before = sha256(home / "fin.db")
    with read_only(home / "fin.db"):
        result = fin("import", "--no-services", CHECKING)
    assert result.exit_code == 1
    assert "fin.db" in one_line(result) and "readonly" in result.stderr
    assert sha256(home / "fin.db") == before


# --- a damaged fin.db -----------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_fin_db_is_one_line_in_status_verify_rebuild_and_import(fin, home, damage):
    if damage == "garbage":
        home.mkdir()
        (home / "fin.db").write_bytes(bytes(range(256)) * 64)
    else:
        assert fin("import", "--no-services", CARD).exit_code == 0
        with open(home / "fin.db", "r+b") as handle:
            handle.truncate(os.path.getsize(home / "fin.db") // 2)
    before = sha256(home / "fin.db")
    for args in (["status"], ["verify"], ["rebuild"], ["import", CHECKING]):
        result = fin(*args)
        assert result.exit_code == 1, (args, result.stderr)
        line = one_line(result)
        assert "fin.db" in line and "restore fin.db from a backup, or move it away" in line, line
    assert sha256(home / "fin.db") == before


def _damage_the_event_log(db_path: Path) -> None:
    """Scribble over the cell pointers of the events table's root page; the file still opens."""
    conn = sqlite3.connect(db_path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db_path, "r+b") as handle:
        handle.seek((root - 1) * page_size + 12)
        handle.write(b"\xde\xad\xbe\xef" * 16)


def test_import_into_a_damaged_database_is_refused_and_writes_nothing(fin, home):
    assert fin("import", "--no-services", CARD).exit_code == 0
    _damage_the_event_log(home / "fin.db")
    before = sha256(home / "fin.db")
    result = fin("import", CHECKING)
    assert result.exit_code == 1
    line = one_line(result)
    assert f"{home / 'fin.db'} is damaged" in line and "restore fin.db from a backup" in line
    assert sha256(home / "fin.db") == before
    verify = fin("verify")
    assert verify.exit_code == 1 and "is damaged" in one_line(verify)


# --- input the user gave ----------------------------------------------------------------------

def test_a_newline_in_a_file_name_gives_a_one_line_account_and_messages(fin, tmp_path):
    odd = tmp_path / "check\ning.csv"
    shutil.copy(CHECKING, odd)
    result = fin("import", "--no-services", "--format", "json", odd)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["account"] == "check ing"
    assert all(line.startswith(("fin:", str(tmp_path))) for line in result.stderr.splitlines()), result.stderr
    assert "check\\ning.csv" in result.stderr
    accounts = json.loads(fin("accounts", "--format", "json").stdout)
    assert [a["account"] for a in accounts] == ["check ing"]


def test_an_account_option_with_a_control_character_is_a_usage_error(fin, home):
    result = fin("import", "--account", "cash\nbox", CHECKING)
    assert result.exit_code == 2 and "printable text on one line" in result.stderr
    assert not (home / "fin.db").exists()


def test_a_training_set_into_a_missing_folder_is_one_line_and_writes_nothing(fin, tmp_path):
    assert fin("import", "--no-services", CHECKING).exit_code == 0
    out = tmp_path / "nonexistent" / "dir" / "t.csv"
    result = fin("features", "training-set", "categorize", "--out", out)
    assert result.exit_code == 1
    assert f"the folder {out.parent} does not exist" in one_line(result)
    assert not out.parent.exists()


def test_a_parquet_training_set_without_pyarrow_names_the_extra(tmp_path):
    """pyarrow is an extra: without it, one line says which one to install."""
    home = tmp_path / "ws"
    script = ("import sys; sys.modules['pyarrow'] = None; from fincli.cli import main; "
              "sys.argv = ['fin'] + sys.argv[1:]; main()")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = lambda *args: subprocess.run([sys.executable, "-c", script, "--home", str(home), *map(str, args)],  # noqa: E731
                                       capture_output=True, text=True, env=env)
    assert run("import", "--no-services", CHECKING).returncode == 0
    result = run("features", "training-set", "categorize", "--out", tmp_path / "t.parquet")
    assert result.returncode == 1
    assert "fin-ledger-toolkit[parquet]" in one_line(result)
    assert not (tmp_path / "t.parquet").exists()


# --- a service that fails after an import -------------------------------------------------------

def test_an_import_whose_categorize_service_failed_exits_3_and_keeps_the_import(fin, home):
    assert fin("status").exit_code == 0
    config = home / "config.toml"
    config.write_text(config.read_text().replace("memory_mb = 2048", "memory_mb = 60"))
    result = fin("import", "--format", "json", CHECKING)
    assert result.exit_code == 3, result.stderr
    assert "the import is kept" in result.stderr and "memory limit of 60 MB" in result.stderr
    assert json.loads(result.stdout)[0]["status"] == "imported"
    shown = json.loads(fin("transactions", "--format", "json").stdout)
    assert len(shown) == json.loads(result.stdout)[0]["added"] > 0


def test_a_reader_that_stops_early_gets_no_error_from_fin(tmp_path):
    """`fin transactions | head`: when the reader closes the pipe, fin stops quietly (exit 141, as from SIGPIPE)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    home = tmp_path / "ws"
    subprocess.run([sys.executable, "-m", "fincli.synth", str(tmp_path), "--large", "5000"], env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "fincli.cli", "--home", str(home), "import", "--no-services",
                    str(tmp_path / "large.csv")], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "fincli.cli", "--home", str(home), "transactions",
                             "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout.readline()
    proc.stdout.close()                             # the reader has seen enough
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and err == b""
