"""Bills: recurring streams found in a generated history, predicted, corrected by the user, reminded from cron."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from fincli.ingest.importer import Options, import_files
from fincli.services import bills, engine
from fincli.synth import generate
from fincli.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]
TRANSFERS = {"card-payment", "amex-payment", "savings-transfer"}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A 26-month history with streams of every frequency, imported and searched once."""
    out = tmp_path_factory.mktemp("bills")
    generate(5, out / "history", start=date(2023, 1, 1), months=26, merchants=80, density=0.3,
             all_frequencies=True)
    ws = open_workspace(out / "ws")
    import_files(ws, [str(p) for p in sorted((out / "history" / "exports").glob("*.csv"))], Options())
    engine.run_one(ws, bills.service)
    with open(out / "history" / "truth" / "streams.csv", newline="", encoding="utf-8") as handle:
        truth = {s["stream_id"]: s for s in csv.DictReader(handle)}
    with open(out / "history" / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        keys = {(t["account"], t["date"], t["description"]): t["stream_id"] for t in csv.DictReader(handle)}
    stream_of = {i: keys.get((a, d, desc), "") for i, a, d, desc in ws.conn.execute(
        "SELECT id, account, date, description FROM transactions")}
    ws.close()
    return out / "ws", truth, stream_of


def _matched(streams, stream_of) -> dict:
    """True stream id -> the detected stream holding mostly its transactions."""
    out = {}
    for s in streams:
        ids = [stream_of[i] for i in s["transaction_ids"]]
        best = max(set(ids), key=ids.count)
        if best and ids.count(best) * 2 >= len(ids):
            out[best] = s
    return out


def test_every_frequency_is_found_with_its_next_date(history):
    home, truth, stream_of = history
    ws = open_workspace(home)
    try:
        found = _matched(bills.latest_streams(ws), stream_of)
    finally:
        ws.close()
    wanted = {sid for sid, s in truth.items() if sid not in TRANSFERS and int(s["occurrences"]) >= 3}
    assert wanted - set(found) == set()
    assert {found[sid]["frequency"] for sid in wanted} >= {"weekly", "biweekly", "semimonthly", "monthly",
                                                           "quarterly", "semiannual", "yearly"}
    for sid in wanted:
        assert found[sid]["frequency"] == truth[sid]["period"], sid
        if truth[sid]["status"] == "active":
            assert found[sid]["next_date"] == truth[sid]["next_expected_date"], sid


def test_transfers_between_own_accounts_are_not_bills(history):
    home, _, stream_of = history
    ws = open_workspace(home)
    try:
        transfers = {i for (i,) in ws.conn.execute("SELECT id FROM transactions WHERE transfer_id IS NOT NULL")}
        assert transfers
        assert not any(set(s["transaction_ids"]) & transfers for s in bills.latest_streams(ws))
    finally:
        ws.close()


def test_cancelled_streams_are_not_due_and_price_rises_are_flagged(history):
    home, truth, stream_of = history
    ws = open_workspace(home)
    try:
        found = _matched(bills.latest_streams(ws), stream_of)
        due = {d["stream_id"] for d in bills.due(ws, 400, date(2025, 2, 20))}
    finally:
        ws.close()
    cancelled = [sid for sid, s in truth.items() if s["status"] == "cancelled" and sid in found]
    assert cancelled and all(found[sid]["status"] == "cancelled" for sid in cancelled)
    assert not {found[sid]["id"] for sid in cancelled} & due
    disney = found["disney"]
    rises = [a for a in disney["alerts"] if a["kind"] == "price_increase"]
    assert [a["detail"] for a in rises] == ["13.99 from 10.99"]
    assert disney["amount_kind"] == "fixed" and disney["next_amount"] == -1399


def test_bills_json_has_the_documented_fields_and_decimal_amounts(history, tmp_path):
    from typer.testing import CliRunner

    from fincli.cli import app

    import shutil

    home = tmp_path / "ws"                  # a copy: predict-bills records the alerts it showed
    shutil.copytree(history[0], home)
    result = CliRunner().invoke(app, ["--home", str(home), "bills", "--format", "json"])
    assert result.exit_code == 0, result.output
    streams = json.loads(result.stdout)
    assert streams and set(bills.STREAM_FIELDS) <= set(streams[0])
    rent = next(s for s in streams if s["merchant"].startswith("Pinewood"))
    assert rent["direction"] == "out" and rent["frequency"] == "monthly" and rent["status"] == "mature"
    assert rent["next_amount"] == rent["last_amount"] and "." in rent["next_amount"]
    assert rent["next_date_earliest"] <= rent["next_date"] <= rent["next_date_latest"]
    result = CliRunner().invoke(app, ["--home", str(home), "predict-bills", "--today", "2025-02-25",
                                      "--days", "10", "--format", "json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert items and all("2025-02-25" <= i["due_date"] <= "2025-03-07" or i["status"] == "late" for i in items)
    assert set(items[0]) == set(bills.DUE_FIELDS)
    assert any(i["stream_id"] == rent["id"] and i["due_date"] == rent["next_date"] for i in items)


def test_confirm_ignore_rename_are_events_that_survive_rebuild(history, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from fincli.cli import app

    home = tmp_path / "ws"
    shutil.copytree(history[0], home)
    run = lambda *args: CliRunner().invoke(app, ["--home", str(home), *args])  # noqa: E731
    streams = json.loads(run("bills", "--format", "json").stdout)
    first, second = streams[0]["id"], streams[1]["id"]
    assert run("bills", "rename", first, "My bill").exit_code == 0
    assert run("bills", "ignore", second).exit_code == 0
    assert run("bills", "confirm", first).exit_code == 0
    bad = run("bills", "ignore", "bnothere")
    assert bad.exit_code == 1 and "no bill stream 'bnothere'" in bad.output
    assert run("rebuild", "--verify").exit_code == 0
    after = {s["id"]: s for s in json.loads(run("bills", "--all", "--format", "json").stdout)}
    assert after[first]["merchant"] == "My bill" and after[first]["user"] == "confirmed"
    assert after[second]["user"] == "ignored"
    assert second not in {s["id"] for s in json.loads(run("bills", "--format", "json").stdout)}


def _fin(home: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FIN_HOME"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "fincli.cli", "--home", str(home), *args], env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)


def test_from_cron_predict_bills_is_silent_unless_something_is_due_or_changed(history, tmp_path):
    import shutil

    home = tmp_path / "ws"
    shutil.copytree(history[0], home)
    new = tmp_path / "new.csv"             # a new weekly subscription: an alert
    new.write_text("Date,Description,Amount\n" + "".join(f"2025-02-{d:02d},WEEKLY BOX CO,-25.00\n"
                                                          for d in (1, 8, 15, 22)), encoding="utf-8")
    added = _fin(home, "import", str(new), "--account", "extra", "--currency", "USD")
    assert added.returncode == 0, added.stderr
    first = _fin(home, "predict-bills", "--today", "2025-02-25", "--days", "7")
    assert first.returncode == 0, first.stderr
    text = first.stdout + first.stderr
    assert "due in the next 7 days" in text and "\x1b" not in text
    assert "changes:" in text and "new: Weekly Box" in text and "2025-03-01  Weekly Box" in text
    again = _fin(home, "predict-bills", "--today", "2025-02-25", "--days", "7")
    assert "changes:" not in again.stdout + again.stderr          # each alert is shown once
    years_on = _fin(home, "predict-bills", "--today", "2030-01-01", "--days", "0")
    assert years_on.returncode == 0 and years_on.stdout == ""          # nothing due, no alert: no summary
    accounts = sorted(s["account"] for s in json.loads(_fin(home, "bills", "--format", "json").stdout))
    assert [line.split("'")[1] for line in years_on.stderr.splitlines()] == sorted(set(accounts))
    assert all(" days before 2030-01-01): " in line for line in years_on.stderr.splitlines())


def test_from_cron_predict_bills_says_once_per_account_when_its_data_is_old(tmp_path):
    """Quiet while the account's data is recent and nothing is due; once its newest transaction is more
    than STALE_DAYS old, one line says so, since what is due there is only known up to that date."""
    home = tmp_path / "ws"
    rows = [(f"2024-{m:02d}-15", "STREAMFLIX SUBSCRIPTION", "-12.99") for m in range(1, 7)]
    assert _fin(home, "import", str(_csv(tmp_path / "card.csv", rows)), "--account", "card",
                "--currency", "USD").returncode == 0
    fresh = _fin(home, "predict-bills", "--today", "2024-06-20", "--days", "3")
    assert fresh.returncode == 0 and fresh.stdout == fresh.stderr == ""
    old = _fin(home, "predict-bills", "--today", "2024-09-01", "--days", "3")
    assert old.returncode == 0 and old.stdout == ""
    assert old.stderr == ("account 'card' has no transaction after 2024-06-15 (78 days before 2024-09-01): "
                          "bills there are known only up to then; import a recent export of it\n")


def test_predict_bills_and_an_import_at_the_same_moment_both_complete(history, tmp_path):
    import shutil

    home = tmp_path / "ws"
    shutil.copytree(history[0], home)
    extra = tmp_path / "extra.csv"
    extra.write_text("Date,Description,Amount\n2025-03-01,NEW GYM MEMBERSHIP,-30.00\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "fincli.cli", "--home", str(home)]
    procs = [subprocess.Popen(base + ["predict-bills"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE),
             subprocess.Popen(base + ["import", str(extra), "--account", "extra", "--currency", "USD"], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    verify = _fin(home, "verify")
    assert verify.returncode == 0, verify.stderr


def _csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("Date,Description,Amount\n" + "".join(f"{d},{text},{amount}\n" for d, text, amount in rows),
                    encoding="utf-8")
    return path


def _bakery(start: date, end: date) -> list[tuple[str, str, str]]:
    """Everyday charges that move the account's last date on, never a stream (the amounts all differ)."""
    from datetime import timedelta

    out, d, n = [], start, 0
    while d <= end:
        out.append((d.isoformat(), "CORNER BAKERY", f"-{3 + n % 7}.{10 + n * 7 % 89:02d}"))
        d += timedelta(days=3 + n % 4)
        n += 1
    return out


def test_one_yearly_charge_whose_text_says_so_is_an_early_yearly_bill(tmp_path):
    from typer.testing import CliRunner

    from fincli.cli import app

    home = tmp_path / "ws"
    run = lambda *args: CliRunner().invoke(app, ["--home", str(home), *args])  # noqa: E731
    rows = [("2024-03-10", "CLOUDVAULT ANNUAL PLAN", "-99.00"), ("2024-04-02", "ADAC JAHRESBEITRAG", "-94.00"),
            ("2024-03-20", "GARDEN CENTER", "-120.00"), *_bakery(date(2024, 3, 1), date(2024, 6, 1))]
    assert run("import", str(_csv(tmp_path / "card.csv", rows)), "--account", "card", "--currency", "EUR"
               ).exit_code == 0
    result = run("bills", "--format", "json")
    assert result.exit_code == 0, result.output
    streams = json.loads(result.stdout)
    yearly = {s["first_date"]: s for s in streams if s["frequency"] == "yearly"}
    assert set(yearly) == {"2024-03-10", "2024-04-02"}                # not the one-off garden centre
    cloud = yearly["2024-03-10"]
    assert cloud["status"] == "early" and len(cloud["transaction_ids"]) == 1 and cloud["next_amount"] == "99.00"
    assert (cloud["next_date"], cloud["next_date_earliest"], cloud["next_date_latest"]) == (
        "2025-03-10", "2025-02-24", "2025-03-24")
    assert yearly["2024-04-02"]["next_date"] == "2025-04-02"
    assert len(streams) == 2


def test_a_confirmed_bill_stays_listed_and_late_until_four_periods_are_missed(tmp_path):
    import sqlite3

    from typer.testing import CliRunner

    from fincli.cli import app

    home = tmp_path / "ws"
    run = lambda *args: CliRunner().invoke(app, ["--home", str(home), *args])  # noqa: E731

    def load(name: str, rows) -> None:
        result = run("import", str(_csv(tmp_path / name, rows)), "--account", "card", "--currency", "USD")
        assert result.exit_code == 0, result.output

    def listed(*flags) -> dict:
        result = run("bills", *flags, "--format", "json")
        assert result.exit_code == 0, result.output
        return {s["merchant"].split()[0].lower(): s for s in json.loads(result.stdout)}

    two = [("2024-02-05", "STREAMFLIX.COM", "-15.99"), ("2024-03-05", "STREAMFLIX.COM", "-15.99"),
           ("2024-02-06", "MUSICBOX", "-9.99"), ("2024-03-06", "MUSICBOX", "-9.99")]
    load("a.csv", two + _bakery(date(2024, 2, 1), date(2024, 3, 20)))
    first = listed()
    assert first["streamflix"]["status"] == first["musicbox"]["status"] == "early"
    sid = first["streamflix"]["id"]
    assert run("bills", "confirm", sid).exit_code == 0

    load("b.csv", _bakery(date(2024, 3, 21), date(2024, 4, 20)))    # April's charges do not come
    now = listed("--all")
    assert "musicbox" not in now                                     # detection drops a two-charge stream
    kept = now["streamflix"]                                         # the confirmed one stays, late
    assert (kept["id"], kept["status"], kept["user"]) == (sid, "late", "confirmed")
    assert sid in {s["id"] for s in listed().values()}
    due = json.loads(run("predict-bills", "--today", "2024-04-20", "--days", "7", "--format", "json").stdout)
    assert [d["due_date"] for d in due if d["stream_id"] == sid] == ["2024-04-05"]

    load("c.csv", _bakery(date(2024, 4, 21), date(2024, 6, 20)))    # three periods missed: still late
    assert listed()["streamflix"]["status"] == "late"
    load("d.csv", _bakery(date(2024, 6, 21), date(2024, 7, 20)))    # the fourth: cancelled, with an alert
    assert "streamflix" not in listed()
    assert listed("--all")["streamflix"]["status"] == "cancelled"
    assert run("rebuild", "--verify").exit_code == 0
    conn = sqlite3.connect(home / "fin.db")
    alerts = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM events WHERE type = 'bill.alert'")]
    conn.close()
    assert {(a["kind"], a["date"]) for a in alerts if a["stream_id"] == sid} >= {
        ("late", "2024-04-05"), ("cancelled", "2024-07-05")}
    assert not any(a["kind"] == "cancelled" and a["date"] < "2024-07-05" for a in alerts if a["stream_id"] == sid)
