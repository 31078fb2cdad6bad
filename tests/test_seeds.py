"""The shipped cold-start lists (data/seeds/) and what they do for a user with no labels yet."""

import csv
import sqlite3
import unicodedata
from pathlib import Path

from fincli.services.categorize import bank_category_rows, seed_rows

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
CATEGORIES = {"groceries", "restaurants", "coffee", "fuel", "transport", "shopping", "online_shopping",
              "utilities", "phone", "subscriptions", "rent", "income", "health", "travel",
              "entertainment", "fees", "transfers", "cash", "household"}
PROCESSORS = Path(__file__).resolve().parents[1] / "data" / "merchants" / "processors.csv"


def _rows(name: str) -> tuple[list[str], list[list[str]]]:
    with open(SEEDS / name, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def _clean(text: str) -> bool:
    return bool(text) and text == text.strip() and "  " not in text and \
        not any(unicodedata.category(ch).startswith("C") for ch in text)


def test_seed_list_is_well_formed():
    header, rows = _rows("categories.csv")
    assert header == ["text", "category"]
    assert len(rows) >= 3000
    assert all(len(r) == 2 for r in rows)
    assert all(_clean(text) for text, _ in rows), [t for t, _ in rows if not _clean(t)][:5]
    assert {category for _, category in rows} == CATEGORIES
    folded = [text.casefold() for text, _ in rows]
    assert len(set(folded)) == len(folded), "a text is listed twice (in any case)"
    assert rows == sorted(rows, key=lambda r: (r[1], r[0].casefold())), "grouped by category, then sorted"


def test_seed_list_names_no_bare_payment_processor():
    """`SQ *`, `TST*`, `PAYPAL *` say who took the payment, not what it was for: the resolver strips them."""
    with open(PROCESSORS, newline="", encoding="utf-8") as handle:
        prefixes = {r["prefix"] for r in csv.DictReader(line for line in handle if not line.startswith("#"))
                    if r["kind"] == "seller"}
    _, rows = _rows("categories.csv")
    bare = [text for text, _ in rows if text.lower().rstrip(" *_") in prefixes]
    assert not bare


def test_bank_category_map_is_well_formed():
    header, rows = _rows("bank_categories.csv")
    assert header == ["bank_category", "categories"]
    assert all(len(r) == 2 and _clean(r[0]) for r in rows)
    assert all(set(r[1].split()) <= CATEGORIES for r in rows)
    meaning: dict[str, str] = {}
    for bank, categories in rows:          # the model reads a bank category in any case: one meaning each
        key = " ".join(bank.lower().split())
        assert meaning.setdefault(key, " ".join(sorted(categories.split()))) == " ".join(sorted(categories.split())), bank
    assert {"Groceries", "Food & Drink", "eating_out", "Personal"} <= {bank for bank, _ in rows}
    assert not bank_category_rows()[0]["description_tokens"] and not bank_category_rows()[0]["merchant"]
    assert not [r for r in bank_category_rows() if r["bank_category"] == "Personal"]
    assert len(seed_rows()) == len(_rows("categories.csv")[1]) + len(bank_category_rows())


CARD = ("Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"
        "03/14/2025,03/15/2025,QXZV HOLDINGS 4411,Groceries,Sale,-61.20,\n"
        "03/12/2025,03/13/2025,BRMTK PLWQ 88,Personal,Sale,-18.00,\n"
        "03/10/2025,03/11/2025,STARBUCKS STORE 1234,Food & Drink,Sale,-5.40,\n")


def _categorized(home: Path) -> dict[str, tuple]:
    with sqlite3.connect(home / "fin.db") as conn:
        return {d: (c, s, r) for d, c, s, r in conn.execute(
            "SELECT description, category, suggestion, review FROM transactions WHERE replaced_by IS NULL")}


def test_a_mapped_bank_category_names_an_unknown_merchant_on_day_one(fin, home, tmp_path):
    export = tmp_path / "card.csv"
    export.write_text(CARD)
    assert fin("import", export).exit_code == 0
    result = fin("categorize")
    assert result.exit_code == 0, result.output
    got = _categorized(home)
    assert got["QXZV HOLDINGS 4411"][0] == "groceries"      # no seed names it: its bank's category does
    assert got["STARBUCKS STORE 1234"][0] == "coffee"


def test_an_ambiguous_bank_category_forces_nothing(fin, home, tmp_path):
    export = tmp_path / "card.csv"
    export.write_text(CARD)
    assert fin("import", export).exit_code == 0
    assert fin("categorize").exit_code == 0
    category, _, review = _categorized(home)["BRMTK PLWQ 88"]
    assert category is None and review == 1
