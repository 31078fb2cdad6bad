"""`fin merchants`: the merchant list, and the user's merges, splits and renames as events.

Every test imports real CSV files through the real CLI; corrections must show in
`fin transactions`, `fin merchants` and the feature store, and survive rebuild and undo.
"""

import json
import sqlite3

import pytest

from fincli.workspace import open_workspace

CARD = """Date,Description,Amount,Currency
2024-03-01,AMZN Mktp US*2K4L9,-12.50,USD
2024-03-03,AMAZON.COM*RT5 PRIME VIDEO,-8.99,USD
2024-03-05,AMZN MKTP US*9ZZ1,-30.00,USD
2024-03-07,STARBUCKS STORE 1234,-4.20,USD
2024-03-09,SBUX 5678 SEATTLE,-3.80,USD
2024-03-11,STARBUCKS STORE 1234,-5.10,EUR
2024-03-15,ACME PAYROLL,2500.00,USD
"""
MORE = """Date,Description,Amount,Currency
2024-04-02,STARBCKS 9999 PORTLAND,-6.00,USD
2024-04-04,AMAZON.COM*QQ1 PRIME VIDEO,-8.99,USD
"""


@pytest.fixture
def imported(fin, tmp_path):
    """The card export imported into the workspace; returns a function importing more files."""
    def import_(text: str, name: str):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = fin("import", path, "--account", "card", "--no-services", "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)[0]["import_id"]
    import_(CARD, "card.csv")
    return import_


def merchants(fin, *args) -> dict:
    result = fin("merchants", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return {m["key"]: m for m in json.loads(result.stdout)}


def merchant_of(fin) -> dict:
    """Description -> merchant key of every transaction, as `fin transactions` shows it."""
    result = fin("transactions", "--format", "json")
    assert result.exit_code == 0, result.output
    return {(t["date"], t["description"]): t["merchant"] for t in json.loads(result.stdout)}


def merchant_columns(home):
    ws = open_workspace(home, create=False)
    rows = ws.conn.execute("SELECT id, merchant_key, resolver_name, merchant, merchant_name FROM transactions"
                           " ORDER BY id").fetchall()
    ws.close()
    return rows


def test_list_gives_counts_totals_per_currency_dates_and_raw_variants(fin, imported):
    listed = merchants(fin)
    assert listed["amazon"] == {
        "key": "amazon", "name": "Amazon", "transactions": 3, "totals": {"USD": "-51.49"},
        "first_date": "2024-03-01", "last_date": "2024-03-05",
        "variants": ["AMAZON.COM*RT5 PRIME VIDEO", "AMZN MKTP US*9ZZ1", "AMZN Mktp US*2K4L9"]}
    starbucks = listed["starbucks"]
    assert (starbucks["transactions"], starbucks["totals"]) == (2, {"EUR": "-5.10", "USD": "-4.20"})
    assert starbucks["variants"] == ["STARBUCKS STORE 1234"]
    counts = [m["transactions"] for m in json.loads(fin("merchants", "--format", "json").stdout)]
    assert counts == sorted(counts, reverse=True)
    assert set(merchants(fin, "--search", "seattle")) == {"sbux"}


def test_merge_moves_the_transactions_to_the_kept_merchant(fin, imported):
    result = fin("merchants", "merge", "starbucks", "sbux")
    assert result.exit_code == 0, result.output
    assert merchant_of(fin)[("2024-03-09", "SBUX 5678 SEATTLE")] == "starbucks"
    listed = merchants(fin)
    assert "sbux" not in listed
    assert listed["starbucks"]["transactions"] == 3
    assert listed["starbucks"]["totals"] == {"EUR": "-5.10", "USD": "-8.00"}
    assert listed["starbucks"]["variants"] == ["STARBUCKS STORE 1234", "SBUX 5678 SEATTLE"]
    # later imports of the merged merchant's other spellings join it too, through a chain of merges
    imported(MORE, "more.csv")
    assert fin("merchants", "merge", "sbux", "starbcks").exit_code == 0
    assert merchant_of(fin)[("2024-04-02", "STARBCKS 9999 PORTLAND")] == "starbucks"


def test_split_moves_matching_descriptions_to_a_merchant_of_their_own(fin, imported):
    result = fin("merchants", "split", "amazon", "--pattern", "prime video", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"key": "amazon", "pattern": "prime video", "into": "prime video"}
    shown = merchant_of(fin)
    assert shown[("2024-03-03", "AMAZON.COM*RT5 PRIME VIDEO")] == "prime video"
    assert shown[("2024-03-01", "AMZN Mktp US*2K4L9")] == "amazon"
    listed = merchants(fin)
    assert (listed["amazon"]["transactions"], listed["prime video"]["transactions"]) == (2, 1)
    assert listed["prime video"]["name"] == "prime video"
    # a glob over the whole description, with a key of the user's choosing
    assert fin("merchants", "split", "amazon", "--pattern", "amzn*9zz?", "--into", "Returns").exit_code == 0
    assert merchant_of(fin)[("2024-03-05", "AMZN MKTP US*9ZZ1")] == "returns"
    imported(MORE, "more.csv")                       # applies to what is imported later
    assert merchant_of(fin)[("2024-04-04", "AMAZON.COM*QQ1 PRIME VIDEO")] == "prime video"


def test_rename_changes_the_name_shown_not_the_key(fin, imported):
    before = merchant_of(fin)
    result = fin("merchants", "rename", "amazon", "Amazon EU")
    assert result.exit_code == 0, result.output
    assert merchant_of(fin) == before
    assert merchants(fin)["amazon"]["name"] == "Amazon EU"
    assert fin("merchants", "rename", "amazon", "Amazon (books)").exit_code == 0     # the latest wins
    assert merchants(fin)["amazon"]["name"] == "Amazon (books)"


def test_corrections_survive_rebuild_and_verify(fin, imported, home):
    for args in (("merge", "starbucks", "sbux"), ("split", "amazon", "--pattern", "prime"),
                 ("rename", "starbucks", "Starbucks")):
        assert fin("merchants", *args).exit_code == 0
    live = merchant_columns(home)
    assert {row[3] for row in live} >= {"starbucks", "prime", "amazon"}
    result = fin("rebuild", "--verify")
    assert result.exit_code == 0, result.output
    assert merchant_columns(home) == live
    assert fin("verify").exit_code == 0
    assert fin("features", "rebuild", "--verify").exit_code == 0
    assert merchants(fin)["starbucks"]["name"] == "Starbucks"


def test_features_group_by_the_merged_merchant(fin, imported, tmp_path):
    def count(entity):
        result = fin("features", "show", "merchant_count", "--entity", entity, "--format", "json")
        assert result.exit_code == 0, result.output
        return {v["currency"]: v["value"] for v in json.loads(result.stdout)["values"]}

    assert count("starbucks") == {"EUR": 1, "USD": 1}
    out = tmp_path / "before.csv"
    assert fin("label", merchant_ids(fin, "starbucks")[0], "coffee").exit_code == 0
    assert fin("features", "training-set", "categorize", "--out", out).exit_code == 0
    before = json.loads((tmp_path / "before.csv.manifest.json").read_text())
    assert fin("merchants", "merge", "starbucks", "sbux").exit_code == 0
    assert count("starbucks") == {"EUR": 1, "USD": 2}
    assert fin("features", "show", "merchant_count", "--entity", "sbux").exit_code == 1
    assert fin("features", "training-set", "categorize", "--out", tmp_path / "after.csv").exit_code == 0
    after = json.loads((tmp_path / "after.csv.manifest.json").read_text())
    assert before["merchant_corrections"] == "none" != after["merchant_corrections"]
    assert after["merchant_resolver"] == before["merchant_resolver"]
    changed = {n for n, h in after["feature_definitions"].items() if before["feature_definitions"][n] != h}
    from fincli.features.catalog import FEATURES

    assert changed == {"merchant"} | {f.name for f in FEATURES if f.entity == "merchant"}
    assert {"merchant_count", "merchant_mean_amount", "merchant_median"} <= changed
    assert fin("features", "rebuild", "--verify").exit_code == 0


def merchant_ids(fin, key):
    return [t["id"] for t in json.loads(fin("transactions", "--format", "json").stdout) if t["merchant"] == key]


@pytest.mark.parametrize("args", [("merge", "nosuch", "amazon"), ("merge", "amazon", "nosuch"),
                                  ("merge", "amazon", "amazon"), ("split", "nosuch", "--pattern", "x"),
                                  ("split", "amazon", "--pattern", "not in any description"),
                                  ("rename", "nosuch", "Name"), ("rename", "amazon", "   ")])
def test_a_bad_correction_is_one_line_exit_1_and_writes_nothing(fin, imported, home, args):
    events = lambda: sqlite3.connect(home / "fin.db").execute("SELECT count(*) FROM events").fetchone()[0]  # noqa
    before = events()
    result = fin("merchants", *args)
    assert result.exit_code == 1
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("fin: ")
    assert events() == before


def test_undoing_an_import_keeps_the_corrections(fin, imported):
    import_id = imported(MORE, "more.csv")
    assert fin("merchants", "merge", "starbucks", "starbcks").exit_code == 0
    assert fin("merchants", "rename", "starbucks", "Starbucks").exit_code == 0
    assert fin("undo", import_id).exit_code == 0
    assert "starbcks" not in merchants(fin)
    imported(MORE, "more-again.csv")
    assert merchant_of(fin)[("2024-04-02", "STARBCKS 9999 PORTLAND")] == "starbucks"
    assert merchants(fin)["starbucks"]["name"] == "Starbucks"
    assert fin("rebuild", "--verify").exit_code == 0


def test_hostile_names_are_escaped_in_tables_and_exact_in_json(fin, imported):
    hostile = "Evil\x1b[31m\u202eCo\n=cmd()"
    assert fin("merchants", "rename", "amazon", hostile).exit_code == 0
    name = " ".join(hostile.split())                 # a name is one line: whitespace runs become one space
    assert merchants(fin)["amazon"]["name"] == name
    table = fin("merchants").stdout
    assert "\x1b" not in table and "\u202e" not in table and "\\x1b[31m\\u202eCo =cmd()" in table
    csv_out = fin("merchants", "--format", "csv").stdout
    assert "\x1b" not in csv_out
