"""A row whose posting date is empty, in a layout with a posting-date column, is pending.

The Chase card export has `Transaction Date,Post Date,…` and no status column: a pending
row has its transaction date and an empty `Post Date`. The later export brings the posted
row (the same day or a day later, often more because of a tip). It is matched to the
pending one, in either import order, and the account holds the transaction once.
"""

from __future__ import annotations

import json

import pytest

HEADER = "Transaction Date,Post Date,Description,Category,Type,Amount,Memo"
BOOKED = ["03/14/2024,03/15/2024,WHOLEFDS MKT 10234,Groceries,Sale,-54.21,",
          "03/16/2024,03/18/2024,SHELL OIL 5744,Gas,Sale,-38.00,",
          "03/17/2024,03/17/2024,Payment Thank You-Mobile,,Payment,400.00,"]


def write(path, rows) -> None:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


@pytest.fixture
def exports(tmp_path):
    early, late = tmp_path / "card_early.csv", tmp_path / "card_late.csv"
    write(early, ["03/20/2024,,THE RAMEN BAR,Food & Drink,Sale,-20.00,"] + BOOKED)
    write(late, ["03/21/2024,03/23/2024,THE RAMEN BAR,Food & Drink,Sale,-24.00,",
                 "03/22/2024,03/23/2024,NETFLIX.COM,Entertainment,Sale,-15.49,"] + BOOKED)
    return early, late


def listed(fin) -> list[dict]:
    result = fin("transactions", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_empty_posting_date_marks_the_row_pending(fin, exports):
    early, _ = exports
    assert fin("import", early, "--account", "card", "--no-services").exit_code == 0
    pending = {t["description"]: t["pending"] for t in listed(fin)}
    assert pending == {"THE RAMEN BAR": True, "WHOLEFDS MKT 10234": False, "SHELL OIL 5744": False,
                       "Payment Thank You-Mobile": False}


@pytest.mark.parametrize("order", ["pending first", "posted first"])
def test_the_posted_row_replaces_its_pending_version_in_either_order(fin, exports, order):
    files = list(exports) if order == "pending first" else list(reversed(exports))
    reports = []
    for path in files:
        result = fin("import", path, "--account", "card", "--no-services", "--format", "json")
        assert result.exit_code == 0, result.output
        reports += json.loads(result.stdout)
    rows = listed(fin)
    ramen = [t for t in rows if t["description"] == "THE RAMEN BAR"]
    assert [(t["date"], t["amount"], t["pending"]) for t in ramen] == [("2024-03-21", "-24.00", False)]
    assert len(rows) == 5
    matched = sum(r["posted"] + r["pending_already_posted"] for r in reports)
    assert matched == 1
    assert fin("verify").exit_code == 0


def test_the_banks_category_column_is_kept_on_the_transaction(fin, exports):
    _, late = exports
    assert fin("import", late, "--account", "card", "--no-services").exit_code == 0
    categories = {t["description"]: t["bank_category"] for t in listed(fin)}
    assert categories["NETFLIX.COM"] == "Entertainment"
    assert categories["Payment Thank You-Mobile"] is None
    assert fin("rebuild", "--verify").exit_code == 0
    assert {t["description"]: t["bank_category"] for t in listed(fin)} == categories
