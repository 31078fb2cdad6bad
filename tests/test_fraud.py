"""The fraud service: point-in-time alerts, feedback as events, and isolation from the import."""

from __future__ import annotations

import json
from datetime import date

import pytest

from fincli.features.signals import signals
from fincli.ingest.importer import Options, import_files
from fincli.services import fraud
from fincli.synth import generate
from fincli.workspace import open_workspace


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    out = tmp_path_factory.mktemp("fraud-history")
    generate(5, out, start=date(2023, 1, 1), months=12)
    exports = sorted((out / "exports").glob("*.csv"), key=lambda p: (p.stem.split("_")[-1], p.name))
    return out, exports


def _import(ws, files):
    from fincli.cli.ledger import run_realtime_services

    reports = import_files(ws, [str(p) for p in files], Options())
    assert all(r.status in ("imported", "already imported") for r in reports)
    assert run_realtime_services(ws) == 0


def test_appending_later_exports_never_changes_an_earlier_alert(history, tmp_path):
    _, exports = history
    ws = open_workspace(tmp_path / "ws")
    try:
        half = len(exports) * 2 // 3
        for path in exports[:half]:            # statement by statement, the way a user downloads them
            _import(ws, [path])
        before = {a["id"]: a for a in fraud.alerts(ws)}
        assert before, "the first exports hold injected fraud"
        flagged = [t for a in before.values() for t in a["transaction_ids"]]
        online = signals(ws.conn, flagged)
        for path in exports[half:]:
            _import(ws, [path])
        after = {a["id"]: a for a in fraud.alerts(ws)}
        for alert_id, alert in before.items():
            assert {k: after[alert_id][k] for k in ("score", "kind", "reasons", "transaction_ids")} == \
                   {k: alert[k] for k in ("score", "kind", "reasons", "transaction_ids")}
        # the features behind an alert, computed again as of each transaction's own import, are the same
        assert signals(ws.conn, flagged) == online
        # and rescoring the whole history gives the earlier alerts again, unchanged
        fraud.rescore(ws)
        again = {a["id"]: a for a in fraud.alerts(ws)}
        for alert_id, alert in before.items():
            assert (again[alert_id]["score"], again[alert_id]["reasons"]) == (alert["score"], alert["reasons"])
    finally:
        ws.close()


def test_alerts_cover_injected_fraud_and_feedback_is_recorded(history, tmp_path, ):
    from typer.testing import CliRunner

    from fincli.cli import app

    out, exports = history
    home = tmp_path / "ws"
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(home), "import", *map(str, exports)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["--home", str(home), "fraud", "--format", "json"], catch_exceptions=False)
    alerts = json.loads(listed.stdout)
    assert alerts and set(alerts[0]) == {"id", "status", "kind", "score", "reasons", "transaction_ids", "account",
                                         "date", "amount", "currency", "merchant"}
    assert all(a["status"] == "open" and 0 <= a["score"] <= 1 and 1 <= len(a["reasons"]) <= 3 for a in alerts)
    kinds = {a["kind"] for a in alerts}
    assert {"foreign_large", "burst"} <= kinds
    burst = next(a for a in alerts if a["kind"] == "burst")
    assert len(burst["transaction_ids"]) >= 10            # a burst is one alert, not ten
    first = alerts[0]["id"]
    done = runner.invoke(app, ["--home", str(home), "fraud", "dismiss", first, "--always"], catch_exceptions=False)
    assert done.exit_code == 0
    left = json.loads(runner.invoke(app, ["--home", str(home), "fraud", "--format", "json"]).stdout)
    assert first not in {a["id"] for a in left}
    every = json.loads(runner.invoke(app, ["--home", str(home), "fraud", "--all", "--format", "json"]).stdout)
    assert {a["id"]: a["status"] for a in every}[first] == "dismissed"
    ws = open_workspace(home)
    try:
        (payload,) = ws.conn.execute("SELECT payload FROM events WHERE type = 'fraud.feedback'").fetchone()
        assert json.loads(payload) == {"alert_id": first, "verdict": "dismissed", "always": True}
    finally:
        ws.close()
    unknown = runner.invoke(app, ["--home", str(home), "fraud", "confirm", "Anope"])
    assert unknown.exit_code == 1 and "no fraud alert" in unknown.output


def test_fraud_out_of_memory_fails_alone_and_the_import_stands(history, tmp_path):
    from typer.testing import CliRunner

    from fincli.cli import app

    _, exports = history
    home = tmp_path / "ws"
    home.mkdir()
    (home / "config.toml").write_text("[services.fraud]\nmemory_mb = 40\n")
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(home), "import", *map(str, exports[:12])], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    assert "fraud" in result.output and "40 MB" in result.output
    ws = open_workspace(home)
    try:
        n, categorized = ws.conn.execute("SELECT count(*), count(category) + count(suggestion) FROM transactions"
                                         " WHERE replaced_by IS NULL").fetchone()
        assert n > 100 and categorized == n
        assert ws.conn.execute("SELECT count(*) FROM events WHERE type = 'fraud.alerted'").fetchone()[0] == 0
    finally:
        ws.close()


def test_from_cron_fin_run_fraud_prints_one_line_per_new_alert_and_nothing_else(fin, tmp_path):
    from pathlib import Path

    card = sorted((Path(__file__).parents[1] / "data" / "samples" / "exports").glob("card_*.csv"))[0]
    assert fin("import", card, "--account", "card", "--no-services").exit_code == 0
    result = fin("run", "fraud")                       # no terminal, as from cron
    assert result.exit_code == 0, result.output
    alerts = json.loads(fin("fraud", "--format", "json").stdout)
    lines = result.stdout.splitlines()
    assert alerts and len(lines) == len(alerts)
    assert {line.split()[0] for line in lines} == {a["id"] for a in alerts}
    assert result.stderr == ""
    again = fin("run", "fraud")
    assert again.exit_code == 0 and again.stdout == "" and again.stderr == ""


def _card_statement_with_a_charge_in_euros(path):
    """Four months of dollar charges, then 480.00 EUR at a shop never used and the bank's fee the next day."""
    from datetime import timedelta

    lines = ["Date,Description,Amount,Currency"]
    day = date(2024, 1, 2)
    shops = ["GROCER ONE", "COFFEE CORNER", "FUEL STOP", "BOOK NOOK"]
    for i in range(60):
        lines.append(f"{(day + timedelta(days=2 * i)).isoformat()},{shops[i % 4]},-{20 + i % 7}.50,USD")
    lines += ["2024-05-02,HOTEL DU LAC,-480.00,EUR", "2024-05-03,FOREIGN TRANSACTION FEE,-15.62,USD",
              "2024-05-03,GROCER ONE,-21.50,USD"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_charge_in_a_currency_the_account_never_uses_is_alerted_with_its_fx_fee(tmp_path):
    from fincli.features.signals import is_fx_fee

    assert all(is_fx_fee(d) for d in ("FOREIGN TRANSACTION FEE", "Auslandseinsatzentgelt 1,75%", "FX FEE",
                                      "Fremdwährungsgebühr", "NON-STERLING TRANSACTION FEE", "INTL TRANSACTION FEE"))
    assert not any(is_fx_fee(d) for d in ("FEDEX OFFICE", "ANNUAL FEE", "FOREIGN AFFAIRS MAGAZINE"))
    ws = open_workspace(tmp_path / "ws")
    try:
        reports = import_files(ws, [str(_card_statement_with_a_charge_in_euros(tmp_path / "card.csv"))],
                               Options(account="card"))
        assert all(r.status == "imported" for r in reports)
        from fincli.cli.ledger import run_realtime_services

        assert run_realtime_services(ws) == 0
        by_description = dict(ws.conn.execute("SELECT description, id FROM transactions"))
        hotel, fee = by_description["HOTEL DU LAC"], by_description["FOREIGN TRANSACTION FEE"]
        rows = {r["id"]: r for r in signals(ws.conn, [hotel, fee])}
        assert rows[hotel]["currency_share"] == 0 and rows[hotel]["fx_fee"] == 0
        assert rows[fee]["fx_fee"] == 1 and rows[fee]["currency_share"] > 0.9
        (alert,) = fraud.alerts(ws)
        assert alert["kind"] == "foreign_large" and alert["transaction_ids"] == [hotel, fee]
        assert alert["currency"] == "EUR" and alert["amount"] == 48000
        assert "EUR, a currency this account never used" in alert["reasons"][0]
    finally:
        ws.close()


def _trainings(ws) -> list[dict]:
    return [json.loads(p) for (p,) in ws.conn.execute(
        "SELECT payload FROM events WHERE type = 'model.trained' AND source = 'fraud'")]


def test_feedback_trains_a_supervised_model_once_and_again_only_after_new_feedback(history, tmp_path):
    _, exports = history
    ws = open_workspace(tmp_path / "ws")
    try:
        half = len(exports) - 2
        _import(ws, exports[:half])
        early = fraud.alerts(ws)
        assert len(early) >= fraud.MIN_FEEDBACK
        for i, a in enumerate(early):
            fraud.give_feedback(ws, a["id"], "dismissed" if i % 3 == 0 else "confirmed")
        _import(ws, exports[half:])
        trained = _trainings(ws)
        assert len(trained) == 1
        assert set(trained[0]["artifacts"]) == {fraud.MODEL_FILE}
        rows, last = fraud.training_rows(ws)
        assert trained[0]["feedback_seq"] == last
        assert trained[0]["metrics"]["feedback_rows"] == len(rows)
        assert {r["label"] for r in rows} == {0, 1}
        # the rows are the alerts' point-in-time signals: the same as when each charge was scored
        assert [{k: v for k, v in r.items() if k not in ("kind", "label", "weight")} for r in rows] == \
            signals(ws.conn, [r["id"] for r in rows])
        fraud.rescore(ws)                   # no new feedback: the model stands
        assert len(_trainings(ws)) == 1
        fraud.give_feedback(ws, early[1]["id"], "dismissed")
        fraud.rescore(ws)
        assert len(_trainings(ws)) == 2
    finally:
        ws.close()


def test_a_dismissed_spike_teaches_what_is_usual_at_that_merchant(fin, tmp_path):
    """After the user dismissed $600 at the warehouse club, $650 there is no news; $900 is."""
    from datetime import timedelta

    def statement(name: str, start: date, extra: list[str]) -> str:
        lines = ["Date,Description,Amount"]
        for i in range(20):
            day = start + timedelta(days=3 * i)
            lines.append(f"{day.isoformat()},BULKMART WAREHOUSE,-{45 + i % 9}.25")
            lines.append(f"{(day + timedelta(days=1)).isoformat()},CORNER GROCER,-{18 + i % 5}.40")
        path = tmp_path / name
        path.write_text("\n".join(lines + extra) + "\n")
        return str(path)

    def spikes() -> list[dict]:
        return [a for a in json.loads(fin("fraud", "--all", "--format", "json").stdout) if a["kind"] == "spike"]

    assert fin("import", statement("jan.csv", date(2024, 1, 1), ["2024-03-05,BULKMART WAREHOUSE,-600.00"]),
               "--account", "card").exit_code == 0
    (first,) = spikes()
    assert first["amount"] == "600.00"
    assert fin("fraud", "dismiss", first["id"]).exit_code == 0
    assert fin("import", statement("apr.csv", date(2024, 4, 1), ["2024-06-05,BULKMART WAREHOUSE,-650.00"]),
               "--account", "card").exit_code == 0
    assert [a["amount"] for a in spikes()] == ["600.00"]               # 650 <= 1.25 x 600: no alert
    assert fin("import", statement("jul.csv", date(2024, 7, 1), ["2024-09-05,BULKMART WAREHOUSE,-900.00"]),
               "--account", "card").exit_code == 0
    assert sorted(a["amount"] for a in spikes()) == ["600.00", "900.00"]
