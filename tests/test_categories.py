"""`fin categories list|add|rename|merge`: the user's categories as events, on a real import of a small CSV."""

import csv
import json
from pathlib import Path

import pytest

from fincli.workspace import open_workspace

BANK_CSV = """Date,Description,Amount
2024-01-02,CORNER MARKET DOWNTOWN,-54.20
2024-01-05,CORNER MARKET EASTSIDE,-14.50
2024-01-09,CORNER MARKET WESTEND,-61.10
2024-01-12,CORNER MARKET HILLTOP,-40.00
2024-01-15,ACME PAYROLL,2500.00
2024-01-19,BLUE BOTTLE COFFEE,-5.25
"""
LATER_CSV = """Date,Description,Amount
2024-02-02,CORNER MARKET NORTHGATE,-33.10
2024-02-03,CORNER MARKET SOUTHPARK,-12.00
"""
SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds" / "categories.csv"
FIELDS = ["name", "source", "declared", "transactions", "labels", "rules", "budgets"]


def events(home) -> int:
    ws = open_workspace(home)
    try:
        return ws.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        ws.close()


def tables(home) -> dict:
    """Every row of the projections and of the feature store that a category lives in."""
    ws = open_workspace(home)
    try:
        return {table: ws.conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("transactions", "labels", "rules", "feature_labels")}
    finally:
        ws.close()


def listing(fin) -> dict:
    result = fin("categories", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(list(row) == FIELDS for row in rows)
    return {row["name"]: row for row in rows}


def ids(fin, text: str) -> list[str]:
    rows = json.loads(fin("transactions", "--format", "json").stdout)
    return [r["id"] for r in rows if text in r["description"]]


@pytest.fixture
def bank(fin, tmp_path):
    """A workspace with BANK_CSV imported (services off: these tests label and name categories themselves)."""
    path = tmp_path / "bank.csv"
    path.write_text(BANK_CSV, encoding="utf-8")
    result = fin("import", "--no-services", path)
    assert result.exit_code == 0, result.output
    return fin


@pytest.fixture
def used(bank):
    """Labels, a rule and a budget naming user categories."""
    markets = ids(bank, "CORNER MARKET")
    for txn_id in markets[:2]:
        assert bank("label", txn_id, "Corner shops").exit_code == 0
    assert bank("rules", "add", "ACME", "Salary").exit_code == 0
    assert bank("budget", "set", "Corner shops", "300").exit_code == 0
    return bank


def test_list_has_declared_used_and_seed_categories_with_their_counts(used):
    assert used("categories", "add", "Pets").exit_code == 0
    rows = listing(used)
    assert rows["Corner shops"] == {"name": "Corner shops", "source": "user", "declared": False,
                                    "transactions": 2, "labels": 2, "rules": 0, "budgets": 1}
    assert rows["Salary"] == {"name": "Salary", "source": "user", "declared": False,
                              "transactions": 1, "labels": 0, "rules": 1, "budgets": 0}
    assert rows["Pets"] == {"name": "Pets", "source": "user", "declared": True,
                            "transactions": 0, "labels": 0, "rules": 0, "budgets": 0}
    seeds = {row["category"] for row in csv.DictReader(open(SEEDS, encoding="utf-8"))}
    assert seeds <= set(rows) and rows["groceries"]["source"] == "seed"
    assert set(rows) == seeds | {"Corner shops", "Salary", "Pets"}
    table = used("categories", "list").stdout.splitlines()
    assert table[0].split("\t") == FIELDS and "Pets\tuser\ttrue\t0\t0\t0\t0" in table
    assert used("categories", "list", "--format", "csv").stdout.splitlines()[0] == ",".join(FIELDS)


def test_add_declares_once_in_any_case_and_a_repeat_writes_nothing(bank):
    before = events(bank.home)
    added = bank("categories", "add", "Pets", "--format", "json")
    assert added.exit_code == 0 and json.loads(added.stdout) == {"name": "Pets"}
    assert events(bank.home) == before + 1
    for name in ("pets", " PETS ", "groceries"):        # groceries: the seed list has it
        again = bank("categories", "add", name)
        assert again.exit_code == 1
        assert len(again.stderr.strip().splitlines()) == 1 and "already exists" in again.stderr
    seed = bank("categories", "add", "Groceries")        # the seed list's, in another case: rename it instead
    assert seed.exit_code == 1 and len(seed.stderr.strip().splitlines()) == 1
    assert "`fin categories rename groceries Groceries`" in seed.stderr
    assert events(bank.home) == before + 1


def test_rename_moves_every_label_rule_budget_and_transaction_in_one_event(used):
    assert used("categories", "add", "Corner extra").exit_code == 0
    before = events(used.home)
    result = used("categories", "rename", "corner shops", "Local", "--format", "json")   # any case finds it
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"from": "Corner shops", "to": "Local", "transactions": 2, "labels": 2,
                                         "rules": 0, "budgets": 1}
    assert events(used.home) == before + 1
    rows = listing(used)
    assert "Corner shops" not in rows
    assert rows["Local"] == {"name": "Local", "source": "user", "declared": False,
                             "transactions": 2, "labels": 2, "rules": 0, "budgets": 1}
    assert json.loads(used("budget", "list", "--format", "json").stdout)[0]["category"] == "Local"
    shown = {t["category"] for t in json.loads(used("transactions", "--format", "json").stdout)}
    assert "Local" in shown and "Corner shops" not in shown
    assert used("categories", "rename", "Salary", "Income pay").exit_code == 0
    assert [r["category"] for r in json.loads(used("rules", "list", "--format", "json").stdout)] == ["Income pay"]


def test_merge_folds_a_category_into_an_existing_one(used):
    before = events(used.home)
    result = used("categories", "merge", "Corner shops", "groceries", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"from": "Corner shops", "into": "groceries", "transactions": 2,
                                         "labels": 2, "rules": 0, "budgets": 1}
    assert events(used.home) == before + 1
    rows = listing(used)
    assert "Corner shops" not in rows
    assert rows["groceries"] == {"name": "groceries", "source": "user", "declared": False,
                                 "transactions": 2, "labels": 2, "rules": 0, "budgets": 1}


@pytest.mark.parametrize("args, says", [
    (("rename", "nope", "x"), "`fin categories list`"),
    (("rename", "Corner shops", "SALARY"), "`fin categories merge Corner shops Salary`"),
    (("rename", "Corner shops", "Corner shops"), "already has that name"),
    (("merge", "nope", "Salary"), "`fin categories list`"),
    (("merge", "Corner shops", "nope"), "`fin categories list`"),
    (("merge", "Corner shops", "corner shops"), "into itself"),
    (("add", "bad\x1bname"), "control character U+001B"),
    (("rename", "Salary", "pay\u202eday"), "control character U+202E"),
    (("add", "   "), "empty"),
])
def test_bad_names_are_one_line_exit_1_and_write_nothing(used, args, says):
    before, state = events(used.home), tables(used.home)
    result = used("categories", *args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fin: ") and says in lines[0]
    assert "Traceback" not in result.output
    assert events(used.home) == before and tables(used.home) == state


def test_rebuild_replays_renames_and_merges_to_the_same_state(used, tmp_path):
    assert used("categories", "add", "Pets").exit_code == 0
    assert used("categories", "rename", "Corner shops", "Local").exit_code == 0
    market = ids(used, "CORNER MARKET")[2]
    assert used("label", market, "Corner shops").exit_code == 0      # the old name used again: a new category
    assert used("categories", "merge", "Pets", "Local").exit_code == 0
    assert used("categories", "rename", "Local", "Neighbourhood").exit_code == 0
    rows = listing(used)
    assert rows["Corner shops"]["labels"] == 1 and rows["Neighbourhood"]["labels"] == 2
    assert rows["Neighbourhood"]["declared"] and "Local" not in rows and "Pets" not in rows
    training = tmp_path / "train.csv"
    assert used("features", "training-set", "categorize", "--out", training).exit_code == 0   # refreshes features
    state, listed = tables(used.home), listing(used)
    labels = [r["label"] for r in csv.DictReader(open(training, encoding="utf-8"))]
    assert sorted(labels) == ["Corner shops", "Neighbourhood", "Neighbourhood"]
    first = training.read_bytes()

    assert used("rebuild", "--verify").exit_code == 0
    assert used("features", "rebuild", "--verify").exit_code == 0
    assert tables(used.home) == state and listing(used) == listed
    assert used("features", "training-set", "categorize", "--out", training).exit_code == 0
    assert training.read_bytes() == first


def test_hostile_names_print_literally(bank, monkeypatch):
    assert bank("categories", "add", "[bold]Pets[/bold]").exit_code == 0
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("COLUMNS", "120")
    assert "[bold]Pets[/bold]" in bank("categories", "list").stdout
    renamed = bank("categories", "rename", "[bold]Pets[/bold]", "[red]Animals")
    assert renamed.exit_code == 0 and "'[red]Animals'" in renamed.stderr


def test_categorize_after_a_rename_gives_only_the_new_name(fin, tmp_path):
    first, later = tmp_path / "bank.csv", tmp_path / "later.csv"
    first.write_text(BANK_CSV, encoding="utf-8")
    later.write_text(LATER_CSV, encoding="utf-8")
    assert fin("import", "--account", "bank", first).exit_code == 0
    for txn_id in ids(fin, "CORNER MARKET"):
        assert fin("label", txn_id, "Corner shops").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0          # the model learns "Corner shops"
    assert fin("categories", "rename", "Corner shops", "Local").exit_code == 0
    assert fin("import", "--account", "bank", later).exit_code == 0                      # categorized on import by that model
    result = fin("categorize")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(fin("transactions", "--format", "json").stdout)}
    rows.update((r["id"], r) for r in json.loads(fin("transactions", "--review", "--format", "json").stdout))
    names = {r["category"] for r in rows.values()} | {r.get("suggestion") for r in rows.values()}
    assert "Corner shops" not in names
    new = [r for r in rows.values() if r["description"] in ("CORNER MARKET NORTHGATE", "CORNER MARKET SOUTHPARK")]
    assert len(new) == 2 and all("Local" in (r["category"], r.get("suggestion")) for r in new)
    assert "Corner shops" not in listing(fin)
    again = fin("categorize", "--format", "json")                   # nothing new: nothing rewritten
    assert again.exit_code == 0 and json.loads(again.stdout)["changed"] == 0


def test_a_declared_category_is_offered_by_review_before_any_label_uses_it(bank):
    from fincli.services.categorize import categories

    assert bank("categories", "add", "Pets").exit_code == 0
    ws = open_workspace(bank.home)
    try:
        offered = categories(ws)
    finally:
        ws.close()
    assert "Pets" in offered and "groceries" in offered
