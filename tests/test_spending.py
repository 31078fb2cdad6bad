"""`fin report spending`, budgets and the spending forecast, on real imports and a real forecaster process."""

import json
import shutil
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from fincli.ingest.importer import Options, import_files
from fincli.synth import generate
from fincli.workspace import open_workspace

METHODS = {"last", "mean3", "seasonal", "xgboost"}


@pytest.fixture(scope="module")
def history_home(tmp_path_factory) -> Path:
    """A generated household (USD and EUR accounts, transfers, refunds) over 15 months, imported once."""
    root = tmp_path_factory.mktemp("spending")
    generate(5, root / "history", start=date(2023, 1, 1), months=15)
    ws = open_workspace(root / "ws")
    try:
        import_files(ws, [str(p) for p in sorted((root / "history" / "exports").glob("*.csv"))], Options())
    finally:
        ws.close()
    return root / "ws"


@pytest.fixture
def home(history_home, tmp_path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(history_home, copy)
    return copy


def report(fin, *args) -> list[dict]:
    result = fin("report", "spending", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_every_total_equals_a_plain_sql_sum_transfers_excluded_currencies_apart(fin, home):
    got = report(fin, "--months", "100")
    db = sqlite3.connect(home / "fin.db")
    live = "replaced_by IS NULL AND pending = 0 AND transfer_id IS NULL"
    currencies = [c for (c,) in db.execute(f"SELECT DISTINCT currency FROM transactions WHERE {live} ORDER BY 1")]
    assert [c["currency"] for c in got] == currencies and len(currencies) >= 2
    assert db.execute("SELECT count(*) FROM transactions WHERE transfer_id IS NOT NULL").fetchone()[0] > 0
    for c in got:
        cur = c["currency"]
        for total in c["totals"]:
            # net of a month is the plain sum of every non-transfer amount in it
            (plain,) = db.execute(f"SELECT coalesce(sum(amount), 0) FROM transactions WHERE {live} AND currency = ?"
                                  " AND substr(date, 1, 7) = ?", (cur, total["month"])).fetchone()
            assert Decimal(total["net"]) == Decimal(plain) / 100
            assert Decimal(total["spent"]) == sum(Decimal(r["spent"]) for r in c["rows"] if r["month"] == total["month"])
        for row in c["rows"]:
            (spent,) = db.execute(
                f"SELECT coalesce(sum(-amount), 0) FROM transactions WHERE {live} AND currency = ?"
                " AND substr(date, 1, 7) = ? AND coalesce(category, 'uncategorized') = ?"
                " AND NOT (category IS 'income' OR (category IS NULL AND amount > 0))",
                (cur, row["month"], row["category"])).fetchone()
            assert Decimal(row["spent"]) == Decimal(spent) / 100, row


def test_a_refund_reduces_its_category_and_pace_projects_the_month(fin, home, tmp_path):
    shutil.rmtree(home)
    csv = tmp_path / "card.csv"
    csv.write_text("Date,Description,Amount\n2024-03-02,QFC #123 SEATTLE,-50.00\n2024-03-05,QFC REFUND,10.00\n"
                   "2024-03-10,SHELL OIL 1234,-20.00\n2024-03-12,ACME PAYROLL,900.00\n", encoding="utf-8")
    assert fin("import", "--account", "card", "--currency", "USD", csv).exit_code in (0, 3)
    assert fin("rules", "add", "QFC", "groceries").exit_code == 0
    assert fin("budget", "set", "groceries", "100").exit_code == 0
    (usd,) = report(fin)
    groceries = [r for r in usd["rows"] if r["category"] == "groceries"]
    assert [r["spent"] for r in groceries] == ["40.00"]
    (budget,) = usd["budgets"]
    # 40.00 spent by the 12th (the latest transaction) of a 31-day month: 103.33 at this pace
    assert budget == {"category": "groceries", "budget": "100.00", "spent": "40.00", "remaining": "60.00",
                      "pace": "103.33", "as_of": "2024-03-12"}


def test_budgets_are_events_the_latest_counts_and_survive_a_rebuild(fin, home):
    assert fin("budget", "set", "groceries", "400").exit_code == 0
    assert fin("budget", "set", "groceries", "450.50").exit_code == 0
    assert fin("budget", "set", "coffee", "30", "--currency", "EUR").exit_code == 0
    listed = json.loads(fin("budget", "list", "--format", "json").stdout)
    assert {(b["category"], b["currency"], b["budget"]) for b in listed} == {
        ("groceries", "USD", "450.50"), ("coffee", "EUR", "30.00")}
    assert fin("rebuild", "--verify").exit_code == 0
    assert json.loads(fin("budget", "list", "--format", "json").stdout) == listed


def test_a_budget_that_is_not_a_number_is_one_line_and_writes_nothing(fin, home):
    result = fin("budget", "set", "groceries", "lots")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "not a number" in result.stderr
    assert json.loads(fin("budget", "list", "--format", "json").stdout) == []


def test_the_stored_forecast_names_its_method_error_and_range_and_the_report_answers_from_it(fin, home):
    assert report(fin)[0]["forecast"] is None
    assert "fin run spending" in fin("report", "spending").stderr
    from_scratch = report(fin)
    assert fin("run", "spending").exit_code == 0
    stored = report(fin)
    for before, after in zip(from_scratch, stored):
        assert before["rows"] == after["rows"] and before["totals"] == after["totals"]
        forecast = after["forecast"]
        assert forecast["month"] > after["months"][-1] and forecast["made_at_seq"] > 0
        assert forecast["categories"]
        chosen, best = Decimal(0), {m: Decimal(0) for m in ("last", "mean3")}
        for f in forecast["categories"]:
            assert f["method"] in METHODS and f["method"] in f["backtest"]
            assert Decimal(f["low"]) <= Decimal(f["amount"]) <= Decimal(f["high"])
            # the method with the lowest backtest error of this category, among those that forecast every month
            full = max(b["months"] for b in f["backtest"].values())
            own = min(Decimal(b["mae"]) for m, b in f["backtest"].items() if m in METHODS and b["months"] == full)
            assert Decimal(f["backtest"][f["method"]]["mae"]) == own
            chosen += Decimal(f["backtest"][f["method"]]["mae"])
            for m in best:
                best[m] += Decimal(f["backtest"][m]["mae"])
        assert chosen <= min(best.values())          # pooled too, the choice beats every baseline
    table = fin("report", "spending", "--currency", "USD")
    assert "forecast for" in table.stdout and "made at log position" in table.stderr


def test_a_forecaster_out_of_memory_fails_alone_the_report_still_shows_actuals_and_budgets(fin, home):
    assert fin("budget", "set", "groceries", "400").exit_code == 0
    config = home / "config.toml"
    config.write_text(config.read_text() + "\n[services.spending]\nmemory_mb = 60\n", encoding="utf-8")
    result = fin("report", "spending", "--forecast", "--format", "json")
    assert result.exit_code == 3
    usd = [c for c in json.loads(result.stdout) if c["currency"] == "USD"][0]
    assert usd["rows"] and usd["budgets"][0]["category"] == "groceries" and usd["forecast"] is None
    assert "forecast unavailable: service spending" in result.stderr and "memory limit of 60 MB" in result.stderr
    assert fin("run", "spending").exit_code == 3
    db = sqlite3.connect(home / "fin.db")
    assert db.execute("SELECT count(*) FROM events WHERE type = 'spending.forecast'").fetchone()[0] == 0


def test_a_plain_report_remembers_why_the_latest_forecast_run_failed_until_one_succeeds(fin, home):
    config = home / "config.toml"
    plain = config.read_text()
    config.write_text(plain + "\n[services.spending]\nmemory_mb = 60\n", encoding="utf-8")
    failed = fin("run", "spending")
    assert failed.exit_code == 3
    later = fin("report", "spending")
    assert later.exit_code == 0 and "spending in USD" in later.stdout
    reason, day = sqlite3.connect(home / "fin.db").execute(
        "SELECT payload ->> '$.error', substr(recorded_at, 1, 10) FROM events WHERE type = 'service.failed'").fetchone()
    assert reason in failed.stderr and "memory" in reason.lower() + failed.stderr.lower()
    assert f"forecast unavailable: {reason} (at {day})" in later.stderr
    assert fin("rebuild", "--verify").exit_code == 0
    assert f"forecast unavailable: {reason} (at {day})" in fin("report", "spending").stderr
    config.write_text(plain, encoding="utf-8")
    assert fin("run", "spending").exit_code == 0
    after = fin("report", "spending")
    assert "forecast unavailable" not in after.stderr and "forecast for" in after.stdout


def test_html_report_is_one_self_contained_file_with_svg_charts(fin, home, tmp_path):
    out = tmp_path / "report.html"
    assert fin("report", "spending", "--format", "html", "--out", out).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") >= 4                 # two charts per currency
    assert "<script" not in page and "src=" not in page and "href=" not in page


def test_csv_report_is_one_line_per_currency_month_and_category(fin, home):
    result = fin("report", "spending", "--format", "csv", "--months", "2")
    lines = result.stdout.splitlines()
    assert lines[0] == "currency,month,category,spent,income"
    rows = [line.split(",") for line in lines[1:]]
    assert {r[0] for r in rows} == {c["currency"] for c in report(fin)}
    assert len({r[1] for r in rows}) == 2


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_report_renders_in_headless_chromium_with_sized_svg_charts(fin, home, tmp_path):
    import subprocess

    out = tmp_path / "report.html"
    assert fin("report", "spending", "--format", "html", "--out", out).exit_code == 0
    shot = tmp_path / "report.png"
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(browser + [f"--screenshot={shot}", "--window-size=1000,1400", out.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    dom = subprocess.run(browser + ["--dump-dom", out.as_uri()], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    import re

    sizes = re.findall(r"<svg[^>]*width=\"(\d+)\" height=\"(\d+)\"", dom)
    assert len(sizes) >= 4 and all(int(w) >= 300 and int(h) >= 30 for w, h in sizes)


def test_the_stored_report_takes_top_merchants_from_the_run_and_they_equal_a_scan(fin, home):
    from fincli.services import spending as svc

    assert fin("run", "spending").exit_code == 0
    ws = open_workspace(home)
    try:
        for months in (1, 6, 100):
            stored = svc.report(ws, months)
            assert stored.source == "stored"
            events = svc.stored_forecasts(ws)
            for c in stored.currencies:
                assert c["top_merchants"] == svc._top_merchants(ws, c["currency"], c["months"], None)
                kept = events[c["currency"]]["top_merchants"][len(c["months"]) - 1]
                assert [[m["merchant"], m["spent"], m["transactions"]] for m in c["top_merchants"]] == kept
                assert c["top_merchants"] and len(c["top_merchants"]) <= svc.TOP_MERCHANTS
    finally:
        ws.close()
