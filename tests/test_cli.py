import json
import re
import subprocess
import sys
from pathlib import Path

from fincli.cli import app

from eventkit import append_and_project, import_events

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_cli_loads_no_ml_or_dataframe_library():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import fincli.cli"],
                         capture_output=True, text=True, check=True)
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if "|" in line}
    assert "typer" in loaded                      # the measurement itself works
    assert not loaded & {"sklearn", "xgboost", "pandas", "numpy", "sqlite_utils", "scipy", "joblib"}


def _commands(typer_app, prefix=""):
    import typer.main
    group = typer.main.get_command(typer_app)
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            for sub in sorted(cmd.commands):
                yield f"{prefix}{name} {sub}", cmd.commands[sub]
        else:
            yield f"{prefix}{name}", cmd


def _readme_reference() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Command reference", 1)[1].split("\n## ", 1)[0]


def test_every_command_has_help_and_is_in_the_readme_reference():
    reference = _readme_reference()
    for name, cmd in _commands(app):
        assert (cmd.help or "").strip(), f"`fin {name}` has no help text"
        assert re.search(rf"`fin {re.escape(name)}[` ]", reference), \
            f"`fin {name}` is missing from the README's command reference"
    for option in ("--version", "--install-completion", "--show-completion"):
        assert f"`fin {option}`" in reference


def test_every_command_takes_format():
    for name, cmd in _commands(app):
        flags = {flag for param in cmd.params for flag in getattr(param, "opts", [])}
        assert "--format" in flags, f"`fin {name}` has no --format"


def test_usage_errors_exit_2(fin):
    assert fin("transactions", "--no-such-option").exit_code == 2
    assert fin("import", "x.csv", "--decimal-mark", ";").exit_code == 2


def test_undo_hides_the_import_and_the_log_still_verifies(ws, fin):
    append_and_project(ws, import_events("keep", "checking", [("t1", "2024-01-02", -500, "COFFEE")]))
    append_and_project(ws, import_events("oops", "checking", [("t2", "2024-01-03", -700, "LUNCH"),
                                                               ("t3", "2024-01-04", -100, "TEA")]))
    before = ws.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    result = fin("undo", "oops")
    assert result.exit_code == 0 and "2 transactions" in result.stderr
    shown = json.loads(fin("transactions", "--format", "json").stdout)
    assert [t["id"] for t in shown] == ["t1"]
    assert ws.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before + 1
    assert fin("rebuild", "--verify").exit_code == 0
    again = fin("undo", "oops")
    assert again.exit_code == 1 and "already undone" in again.stderr
    assert fin("undo", "nope").exit_code == 1


def test_events_command_filters_by_type_and_limits(ws, fin):
    append_and_project(ws, import_events("i1", "checking", [("t1", "2024-01-02", -500, "COFFEE"),
                                                             ("t2", "2024-01-03", -600, "TEA")]))
    rows = json.loads(fin("events", "--type", "transaction.imported", "--limit", "1", "--format", "json").stdout)
    assert len(rows) == 1 and rows[0]["type"] == "transaction.imported" and rows[0]["seq"] == 2


def test_status_reports_counts_and_schema(ws, fin):
    append_and_project(ws, import_events("i1", "checking", [("t1", "2024-01-02", -500, "COFFEE")]))
    status = json.loads(fin("status", "--format", "json").stdout)
    assert status["transactions"] == 1 and status["events"] == 2 and status["schema_version"] >= 2
    assert status["last_import"]["import_id"] == "i1"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.+?)\n```", readme)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()
