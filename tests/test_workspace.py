import os
import stat

from fincli.store import connection as db, migrations
from fincli.workspace import migration_sets, open_workspace, resolve_home

from eventkit import append_and_project, import_events


def test_new_workspace_has_wal_busy_timeout_private_db_and_current_schema(ws):
    assert ws.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ws.conn.execute("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS
    assert ws.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert stat.S_IMODE(os.stat(ws.db_path).st_mode) == 0o600
    assert migrations.schema_version(ws.conn) == migrations.FORMAT
    assert migrations.applied(ws.conn) == {(s.name, step.name) for s in migration_sets() for step in s.steps}
    assert (ws.home / "artifacts").is_dir() and (ws.home / "logs").is_dir()
    assert "memory_mb" in ws.config_path.read_text()


def test_reopening_applies_no_migration_twice(home):
    first = open_workspace(home)
    append_and_project(first, import_events("i1", "a", [("t1", "2024-01-01", -1, "X")]))
    first.close()
    again = open_workspace(home)
    assert again.conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 1
    again.close()


def test_home_comes_from_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FIN_HOME", str(tmp_path / "env"))
    assert resolve_home(tmp_path / "opt") == tmp_path / "opt"
    assert resolve_home(None) == tmp_path / "env"
    monkeypatch.delenv("FIN_HOME")
    assert resolve_home(None).name == "fin"


def test_fin_home_environment_variable_is_used_by_the_cli(fin, tmp_path, monkeypatch):
    monkeypatch.setenv("FIN_HOME", str(tmp_path / "from-env"))
    result = fin.runner.invoke(__import__("fincli.cli").cli.app, ["status", "--format", "json"])
    assert result.exit_code == 0
    assert str(tmp_path / "from-env") in result.stdout


def test_database_from_a_newer_fin_is_refused_with_one_line(ws, fin):
    ws.conn.execute("PRAGMA user_version = 99")
    ws.close()
    result = fin("status")
    assert result.exit_code == 1
    assert "written by a newer fin (schema 99" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_where_the_workspace_should_be_is_one_clear_error(tmp_path, fin):
    target = tmp_path / "notadir"
    target.write_text("x")
    result = fin.runner.invoke(__import__("fincli.cli").cli.app, ["--home", str(target), "status"])
    assert result.exit_code == 1 and "is not a directory" in result.stderr


def test_two_imports_creating_one_workspace_at_once_both_complete(tmp_path):
    """Both processes create the database, switch it to WAL and migrate it at the same moment."""
    import subprocess
    import sys
    from pathlib import Path

    samples = sorted((Path(__file__).resolve().parents[1] / "data" / "samples" / "exports").glob("*.csv"))[:2]
    for attempt in range(10):
        home = tmp_path / f"ws{attempt}"
        procs = [subprocess.Popen([sys.executable, "-m", "fincli.cli", "--home", str(home), "import", "--no-services",
                                   str(sample)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for sample in samples]
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
