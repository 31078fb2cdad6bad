"""The spending forecast's series come from the feature store's `category_monthly_totals`: as of any
log position they are the month totals per effective category the spending report shows, on a
generated history imported with the real CLI (transfers, pending rows, labels, a categorize run)."""

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from fincli.features import store
from fincli.features.categories import category_month_totals
from fincli.services.spending import month_totals, series_rows
from fincli.store import log as ev
from fincli.synth import generate
from fincli.workspace import open_workspace
from typer.testing import CliRunner

from fincli.cli import app


class Fin:
    """`fin --home HOME ...` in process, for a workspace that is not the test's `home`."""

    def __init__(self, home: Path):
        self.home = home

    def __call__(self, *args):
        return CliRunner().invoke(app, ["--home", str(self.home), *map(str, args)], catch_exceptions=False)


def _split(exports: Path) -> tuple[list[Path], list[Path]]:
    """The statements ending before May, and the later ones."""
    files = sorted(exports.glob("*.csv"))
    early = [p for p in files if p.stem.split("_")[2] < "2023-05"]
    return early, [p for p in files if p not in early]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> dict:
    """Six months of a household: the early statements imported, labelled and categorized, the totals
    then recorded with their log position, then the later statements imported."""
    root = tmp_path_factory.mktemp("spendfs")
    generate(7, root / "history", start=date(2023, 1, 1), months=6)
    early, late = _split(root / "history" / "exports")
    assert early and late
    home = root / "ws"
    fin = Fin(home)
    assert fin("import", *early).exit_code in (0, 3)
    db = sqlite3.connect(home / "fin.db")
    live = "replaced_by IS NULL AND pending = 0"
    spent, credit = db.execute(f"SELECT min(id) FILTER (WHERE amount < 0), min(id) FILTER (WHERE amount > 0)"
                               f" FROM transactions WHERE {live} AND transfer_id IS NULL").fetchone()
    (transfer,) = db.execute("SELECT min(id) FROM transactions WHERE transfer_id IS NOT NULL").fetchone()
    db.close()
    for txn, category in ((spent, "coffee"), (credit, "income"), (transfer, "coffee")):
        assert fin("label", txn, category).exit_code == 0
    assert fin("rules", "add", "SHELL", "fuel").exit_code == 0
    assert fin("categorize").exit_code in (0, 3)
    ws = open_workspace(home)
    try:
        early_head, early_totals = store.refresh(ws), month_totals(ws)
    finally:
        ws.close()
    assert fin("import", *late).exit_code in (0, 3)
    return {"home": home, "early_head": early_head, "early_totals": early_totals}


@pytest.fixture
def ws(history, tmp_path):
    """A workspace of this test's own: a copy of the history."""
    shutil.copytree(history["home"], tmp_path / "ws")
    workspace = open_workspace(tmp_path / "ws")
    yield workspace
    workspace.close()


def _feature_totals(ws) -> list[tuple]:
    return category_month_totals(ws.conn, store.refresh(ws))


def test_feature_totals_as_of_the_head_equal_the_report_totals(ws):
    conn = ws.conn
    # the history has what the totals must leave out or resolve: transfers, pending rows, labels, model
    # and rule categories, uncategorized rows, and at least two currencies
    assert conn.execute("SELECT count(*) FROM transactions WHERE transfer_id IS NOT NULL").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM transactions WHERE pending = 1").fetchone()[0] > 0
    sources = {s for (s,) in conn.execute("SELECT DISTINCT category_source FROM transactions")}
    assert {"user", "model", "rule", None} <= sources
    got = _feature_totals(ws)
    assert got == month_totals(ws)
    assert len({row[0] for row in got}) >= 2
    assert any(row[2] == "income" and row[4] > 0 for row in got)
    assert any(row[2] == "uncategorized" for row in got)


def test_totals_as_of_an_earlier_cutoff_do_not_change_after_a_later_statement(ws, history):
    store.refresh(ws)
    assert ev.head(ws.conn)[0] > history["early_head"]
    as_of_then = category_month_totals(ws.conn, history["early_head"])
    assert as_of_then == history["early_totals"]       # what the report said at that log position
    assert as_of_then != category_month_totals(ws.conn, ev.head(ws.conn)[0])


def test_rebuild_gives_the_rows_catch_up_kept(ws):
    store.refresh(ws)
    incremental = store.digest(ws.conn)
    head, rebuilt, before = store.rebuild(ws, verify=True)
    assert rebuilt == before == incremental
    assert ws.conn.execute("SELECT count(*) FROM feature_categorizations").fetchone()[0] > 0
    assert ws.conn.execute("SELECT count(*) FROM feature_transfers").fetchone()[0] > 0
    result = Fin(ws.home)("features", "rebuild", "--verify")
    assert result.exit_code == 0 and f"verified (digest {incremental[:16]})" in result.stderr


def test_a_rename_moves_the_totals_to_the_new_name(ws):
    before = _feature_totals(ws)
    (old,) = {row[2] for row in before if row[2] == "coffee"}
    result = Fin(ws.home)("categories", "rename", old, "cafe")
    assert result.exit_code == 0, result.stderr
    after = _feature_totals(ws)
    assert after == sorted((c, m, "cafe" if k == old else k, s, i) for c, m, k, s, i in before)
    assert after == month_totals(ws)


def test_undo_and_import_again_keep_the_totals_equal_to_the_report(ws):
    # an import holding transfer sides: undoing it ends their transfers, importing it again matches them anew
    import_id, file = ws.conn.execute(
        "SELECT i.import_id, i.file FROM imports i JOIN transactions t ON t.import_id = i.import_id"
        " WHERE t.transfer_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    fin = Fin(ws.home)
    assert fin("undo", import_id).exit_code == 0
    undone = _feature_totals(ws)
    assert undone == month_totals(ws)
    assert ws.conn.execute("SELECT count(*) FROM feature_transfers WHERE ended IS NOT NULL").fetchone()[0] > 0
    assert fin("import", file).exit_code in (0, 3)
    assert _feature_totals(ws) == month_totals(ws) != undone


def test_the_forecast_series_are_the_feature_totals(ws):
    state = series_rows(ws)
    spent = {(c, m, k): s for c, m, k, s, _ in _feature_totals(ws)}
    assert state.series and all(s["category"] != "income" for s in state.series)
    for s in state.series:
        assert s["totals"] == [spent.get((s["currency"], m, s["category"]), 0) for m in s["months"]]
    assert {(c, m, k) for c, rows in state.totals.items() for m, k, *_ in rows} == set(spent)


def test_show_gives_the_twelve_months_before_the_as_of_month(ws):
    totals = {(c, m, k): (s, i) for c, m, k, s, i in month_totals(ws)}
    currency, month, category = next((c, m, k) for (c, m, k), (s, _) in totals.items() if k == "fuel" and s)
    shown = json.loads(Fin(ws.home)("features", "show", "category_monthly_totals", "--entity", category,
                                    "--as-of", "2023-07-01", "--format", "json").stdout)
    [value] = [v for v in shown["values"] if v["currency"] == currency]
    months = [f"2022-{n:02d}" for n in range(7, 13)] + [f"2023-{n:02d}" for n in range(1, 7)]
    assert value["months"] == f"{months[0]}..{months[-1]}"
    assert value["value"] == [totals.get((currency, m, category), (0, 0))[0] for m in months]
    assert value["value"][months.index(month)] > 0


def test_a_store_from_before_gets_the_new_tables(history, tmp_path):
    home = tmp_path / "ws"
    shutil.copytree(history["home"], home)
    conn = sqlite3.connect(home / "fin.db")
    for table in ("feature_categorizations", "feature_transfers"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DELETE FROM migrations WHERE set_name = 'features' AND step = 'effective_category'")
    conn.commit()
    conn.close()
    ws = open_workspace(home)
    try:
        assert _feature_totals(ws) == month_totals(ws)
    finally:
        ws.close()
