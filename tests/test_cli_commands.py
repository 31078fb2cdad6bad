"""Commands for finding things: `fin imports`, `--version`, `--format` on every result, checked dates."""

import csv
import io
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data" / "samples" / "exports").glob("*.csv"))
CHECKING = next(p for p in SAMPLES if p.name.startswith("checking"))
CARD = next(p for p in SAMPLES if p.name.startswith("card"))


def json_of(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def csv_of(result):
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_imports_lists_each_import_with_its_range_count_and_whether_it_was_undone(fin):
    first = json_of(fin("import", "--no-services", "--format", "json", CARD))[0]
    second = json_of(fin("import", "--no-services", "--format", "json", CHECKING))[0]
    assert fin("undo", first["import_id"]).exit_code == 0
    rows = json_of(fin("imports", "--format", "json"))
    assert [(r["import_id"], r["account"], r["added"], r["status"]) for r in rows] == [
        (first["import_id"], "card", first["added"], "undone"),
        (second["import_id"], "checking", second["added"], "active")]
    assert rows[1]["file"] == str(CHECKING) and rows[1]["date_from"] <= rows[1]["date_to"]
    assert [r["status"] for r in csv_of(fin("imports", "--format", "csv"))] == ["undone", "active"]
    table = fin("imports")
    assert table.exit_code == 0 and "undone" in table.stdout and "active" in table.stdout


def test_version_comes_from_the_distribution_or_the_package(fin):
    from importlib.metadata import PackageNotFoundError, version

    import fincli

    try:
        expected = version("fin-ledger-toolkit")
    except PackageNotFoundError:
        expected = fincli.__version__
    result = fin("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"fin {expected}"


def test_help_offers_shell_completion_and_every_service_command(fin):
    text = fin("--help").stdout
    assert "--install-completion" in text and "--show-completion" in text
    for command in ("categorize", "fraud", "bills", "predict-bills", "report", "budget", "schedule", "merchants"):
        assert f" {command} " in text


@pytest.mark.parametrize("args", [["transactions", "--since", "notadate"], ["transactions", "--until", "2024-02-30"],
                                  ["features", "show", "amount", "--as-of", "yesterday"],
                                  ["categorize", "--evaluate", "--split", "2024/01/01"]])
def test_a_date_option_that_is_not_a_date_is_a_usage_error(fin, home, args):
    result = fin(*args)
    assert result.exit_code == 2
    assert "is not a date; use YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr
    assert not (home / "fin.db").exists()


def test_dates_are_read_as_dates_not_compared_as_text(fin):
    assert fin("import", "--no-services", CHECKING).exit_code == 0
    everything = json_of(fin("transactions", "--format", "json"))
    day = everything[len(everything) // 2]["date"]
    year, month, dom = (int(part) for part in day.split("-"))
    unpadded = json_of(fin("transactions", "--since", f"{year}-{month}-{dom}", "--format", "json"))
    assert unpadded == [t for t in everything if t["date"] >= day]


def test_status_as_csv_flattens_the_last_import_and_writes_booleans_as_true_false(fin):
    imported = json_of(fin("import", "--no-services", "--format", "json", CHECKING))[0]
    [row] = csv_of(fin("status", "--format", "csv"))
    assert row["last_import_import_id"] == imported["import_id"]
    assert row["last_import_added"] == str(imported["added"])
    assert not any(value.startswith("{") for value in row.values())
    [txn] = csv_of(fin("transactions", "--format", "csv"))[:1]
    assert txn["pending"] in ("true", "false")


def test_every_command_that_reports_a_result_prints_it_as_json(fin, tmp_path):
    imported = json_of(fin("import", "--no-services", "--format", "json", CHECKING))[0]
    txn = json_of(fin("transactions", "--format", "json"))[0]
    assert json_of(fin("label", txn["id"], "groceries", "--format", "json")) == {"labelled": 1, "merchant": 0}
    rule = json_of(fin("rules", "add", txn["description"][:6], "coffee", "--format", "json"))
    assert rule["category"] == "coffee" and rule["transactions"] >= 0
    removed = json_of(fin("rules", "remove", rule["id"], "--format", "json"))
    assert removed["id"] == rule["id"] and removed["error"] is None
    run = json_of(fin("run", "categorize", "--format", "json"))
    assert [(r["service"], r["status"]) for r in run] == [("categorize", "ok")]
    rebuilt = json_of(fin("rebuild", "--verify", "--format", "json"))
    assert rebuilt["verified"] is True and rebuilt["events"] > 0 and len(rebuilt["digest"]) == 64
    assert json_of(fin("verify", "--format", "json"))["digest"] == rebuilt["digest"]
    features = json_of(fin("features", "rebuild", "--format", "json"))
    assert features["events"] == rebuilt["events"]
    out = tmp_path / "t.csv"
    training = json_of(fin("features", "training-set", "categorize", "--out", out, "--format", "json"))
    assert training["rows"] == 1 and Path(training["manifest"]).is_file() and out.is_file()
    undone = json_of(fin("undo", imported["import_id"], "--format", "json"))
    assert undone == {"import_id": imported["import_id"], "removed": imported["added"], "kept": 0}
    [row] = csv_of(fin("verify", "--format", "csv"))
    assert row["verified"] == "true"


def test_demo_as_json_is_one_record_and_its_hint_names_a_runnable_fin(fin, tmp_path):
    from fincli.cli import app
    from typer.testing import CliRunner

    home = tmp_path / "demo"
    result = CliRunner().invoke(app, ["--home", str(home), "demo", "--format", "json"], catch_exceptions=False)
    record = json_of(result)
    assert record["workspace"] == str(home) and record["failed"] == 0
    assert record["files"] == len(SAMPLES) and record["transactions"] > 0
    assert f"--home {home} transactions" in result.stderr.splitlines()[-1]


def test_a_config_written_by_an_earlier_fin_with_sections_for_later_services_still_loads(fin, home):
    assert fin("status").exit_code == 0
    config = home / "config.toml"
    config.write_text(config.read_text() + "\n[services.fraud]\nmemory_mb = 1024\ntimeout_s = 300\n"
                      "\n[services.bills]\nmemory_mb = 1024\ntimeout_s = 300\n")
    result = fin("import", "--format", "json", CHECKING)
    assert result.exit_code == 0, result.stderr
    assert json_of(fin("run", "all", "--format", "json"))


def test_rebuild_and_verify_report_in_one_plain_line(fin):
    assert fin("import", "--no-services", CARD).exit_code == 0
    result = fin("rebuild", "--verify")
    assert result.exit_code == 0
    assert result.stderr.count("\n") == 1 and "\\x" not in result.stderr
    assert result.stderr.startswith("rebuilt from ") and "; verified: hash chain of " in result.stderr
