"""Values inside an input that are read right or refused in one line: text encodings,
signs, dates, currencies, amount sizes and category names."""

import json
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fincli import money
from fincli.categories import MAX_LENGTH, check_category
from fincli.errors import InputError
from fincli.ingest import columns, row_reader
from fincli.ingest.amounts import TWO_SIGNS, AmountError, parse_amount, split_sign
from fincli.ingest.encoding import decode

HEADER = "Date,Description,Amount\n"


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def stored(home: Path) -> list[tuple]:
    """(date, amount, currency, description) of every stored transaction, by date and line."""
    if not (home / "fin.db").exists():
        return []
    with sqlite3.connect(home / "fin.db") as conn:
        return conn.execute("SELECT date, amount, currency, description FROM transactions ORDER BY date, line").fetchall()


def event_count(fin) -> int:
    return json.loads(fin("status", "--format", "json").stdout)["events"]


def refused(fin, *args) -> str:
    """Run a command that must fail on its input: exit 1, one line, nothing written. Returns the line."""
    result = fin(*args)
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert event_count(fin) == 0
    return lines[0]


def imported(fin, *args) -> dict:
    result = fin("import", *args, "--no-services", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)[0]


# --- 1. encodings -------------------------------------------------------------------------

def test_mixed_utf8_and_cp1252_lines_import_both_descriptions_exactly(fin, home, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(HEADER.encode() + "2024-01-02,CAFÉ,-3.50\n".encode("utf-8")
                     + "2024-01-03,CRÈME,-4.00\n".encode("cp1252") + b"2024-01-04,PLAIN,-1.00\n")
    assert imported(fin, path, "--currency", "EUR")["added"] == 3
    assert [row[3] for row in stored(home)] == ["CAFÉ", "CRÈME", "PLAIN"]


def test_mixed_file_decodes_each_line_in_its_own_encoding():
    data = "Straße €5\n".encode("utf-8") + "Crème brûlée £3\n".encode("cp1252")
    assert decode(data, "x.csv") == ("Straße €5\nCrème brûlée £3\n", "utf-8+cp1252")


@pytest.mark.parametrize("encoding, text", [
    ("cp1250", "Datum;Popis;Částka\n2024-01-02;Platba kartou Žďár nad Sázavou;-120,50\n"
               "2024-01-03;Převod účet č. 5;-3,00\n"),
    ("cp1252", "Date;Libellé;Montant\n2024-01-02;Crème brûlée à Paris;-12,50\n2024-01-03;Café;-3,00\n"),
    ("latin-1", "Date;Text;Betrag\n2024-01-02;Müller Straße;-12,50\n"),
    ("utf-16", "Date,Description,Amount\n2024-01-02,Café,-3.50\n"),
])
def test_single_encoding_files_still_decode_as_that_encoding(encoding, text):
    decoded, found = decode(text.encode(encoding), "x.csv")
    assert decoded.lstrip("\ufeff") == text
    assert found == {"latin-1": "cp1252"}.get(encoding, encoding)


def test_a_saved_profile_reads_a_later_mixed_file(fin, home, tmp_path):
    first = tmp_path / "first.csv"
    first.write_bytes(HEADER.encode() + "2024-01-02,CAFÉ,-3.50\n".encode("utf-8")
                      + "2024-01-03,CRÈME,-4.00\n".encode("cp1252"))
    assert imported(fin, first, "--save-profile", "mine", "--account", "a")["added"] == 2
    second = tmp_path / "second.csv"
    second.write_bytes(HEADER.encode() + "2024-02-02,NAÏVE,-1.00\n".encode("cp1252")
                       + "2024-02-03,ÅRHUS,-2.00\n".encode("utf-8"))
    assert imported(fin, second, "--profile", "mine", "--account", "a")["added"] == 2
    assert [row[3] for row in stored(home)][2:] == ["NAÏVE", "ÅRHUS"]


# --- 2. signs -----------------------------------------------------------------------------

def test_double_minus_amount_is_refused_with_its_line(fin, home, tmp_path):
    path = write(tmp_path / "signs.csv", HEADER + "2024-01-02,Tea,-4.00\n2024-01-03,Coffee,--5\n")
    line = refused(fin, "import", path)
    assert "signs.csv:3:" in line and "'--5'" in line and TWO_SIGNS in line
    assert stored(home) == []


@pytest.mark.parametrize("cell", ["--5", "+-5", "-+5", "5--", "5-- ", "+5-", "(-5)", "-(5)", "(5)-", "-5 DR",
                                  "---5", "− -5"])
def test_amount_with_two_signs_is_refused(cell):
    with pytest.raises(AmountError, match=TWO_SIGNS):
        split_sign(cell)


@pytest.mark.parametrize("cell, mark, value", [
    ("(5.00)", ".", "-5.00"), ("5.00-", ".", "-5.00"), ("+5", ".", "5"), ("-5", ".", "-5"), ("− 5", ".", "-5"),
    ("-$5.25", ".", "-5.25"), ("$-5.25", ".", "-5.25"), ("(£1,100.00)", ".", "-1100.00"),
    ("€1.234,56-", ",", "-1234.56"), ("EUR -5,00", ",", "-5.00"), ("-5.00 EUR", ".", "-5.00"),
    ("12.34 CR", ".", "12.34"), ("12.34 DR", ".", "-12.34"), ("1,234,567.89", ".", "1234567.89"),
])
def test_amount_with_one_sign_keeps_its_value(cell, mark, value):
    assert parse_amount(cell, mark).value == Decimal(value)


def test_skip_bad_rows_skips_a_row_with_two_signs(fin, home, tmp_path):
    path = write(tmp_path / "signs.csv", HEADER + "2024-01-02,Tea,-4.00\n2024-01-03,Coffee,+-5\n")
    result = fin("import", path, "--skip-bad-rows", "--currency", "USD", "--no-services")
    assert result.exit_code == 0, result.stderr
    assert "signs.csv:3: skipped" in result.stderr
    assert stored(home) == [("2024-01-02", -400, "USD", "Tea")]


# --- 3. dates -----------------------------------------------------------------------------

def test_date_far_in_the_future_is_refused_with_its_line(fin, home, tmp_path):
    later = (date.today() + timedelta(days=60)).isoformat()
    path = write(tmp_path / "future.csv", HEADER + f"2024-01-02,Tea,-4.00\n{later},Coffee,-5.00\n")
    line = refused(fin, "import", path)
    assert f"future.csv:3: date {later} is more than 31 days after today" in line


def test_date_a_few_days_ahead_is_accepted(fin, home, tmp_path):
    ahead = (date.today() + timedelta(days=10)).isoformat()
    path = write(tmp_path / "ahead.csv", HEADER + f"2024-01-02,Tea,-4.00\n{ahead},Standing order,-5.00\n")
    assert imported(fin, path, "--currency", "USD")["added"] == 2
    assert stored(home)[1][0] == ahead


def test_date_in_the_next_century_is_refused_as_too_late(fin, tmp_path):
    path = write(tmp_path / "far.csv", HEADER + "2024-01-02,Tea,-4.00\n2150-01-03,Coffee,-5.00\n")
    assert "far.csv:3: date 2150-01-03 is more than 31 days after today" in refused(fin, "import", path)


def test_date_before_1950_is_refused_with_its_line(fin, tmp_path):
    path = write(tmp_path / "old.csv", HEADER + "2024-01-02,Tea,-4.00\n1899-12-31,Coffee,-5.00\n")
    assert "old.csv:3: date 1899-12-31 is before 1950" in refused(fin, "import", path)


def test_skip_bad_rows_skips_a_future_dated_row(fin, home, tmp_path):
    later = (date.today() + timedelta(days=400)).isoformat()
    path = write(tmp_path / "future.csv", HEADER + f"2024-01-02,Tea,-4.00\n{later},Coffee,-5.00\n"
                                                   "2024-01-04,Cake,-2.00\n")
    result = fin("import", path, "--skip-bad-rows", "--currency", "USD", "--no-services")
    assert result.exit_code == 0, result.stderr
    assert "future.csv:3: skipped: date" in result.stderr
    assert [row[3] for row in stored(home)] == ["Tea", "Cake"]


def test_a_month_first_file_is_not_refused_for_its_day_first_reading(fin, home, tmp_path, monkeypatch):
    # The first 3000 rows fit both orders, so the pass starts day-first; 01/12 read day-first
    # is 1 December, after "today", but the 01/13 that follows proves the file month-first.
    monkeypatch.setattr(row_reader, "latest_plausible", lambda: "2026-07-01")    # "today" is 2026-05-31
    early = "".join(f"{1 + i % 12:02d}/{1 + i % 12:02d}/2025,Row {i},-1.00\n" for i in range(3000))
    path = write(tmp_path / "us.csv", HEADER + early + "01/12/2026,Tea,-4.00\n01/13/2026,Cake,-2.00\n")
    assert imported(fin, path, "--currency", "USD")["added"] == 3002
    assert [row[0] for row in stored(home)][-2:] == ["2026-01-12", "2026-01-13"]


# --- 4. the currency option and the configured default ------------------------------------

@pytest.mark.parametrize("code", ["XYZ123", "QQQ", "US", "€", ""])
def test_unknown_currency_option_is_refused(fin, home, tmp_path, code):
    path = write(tmp_path / "a.csv", HEADER + "2024-01-02,Tea,-4.00\n")
    line = refused(fin, "import", path, "--currency", code)
    assert f"--currency: {code!r} is not a known ISO 4217 currency code" in line


def test_lowercase_known_currency_option_is_stored_in_capitals(fin, home, tmp_path):
    path = write(tmp_path / "a.csv", HEADER + "2024-01-02,Tea,-4.00\n")
    imported(fin, path, "--currency", "mad")       # Moroccan dirham: known, though rare in exports
    assert stored(home) == [("2024-01-02", -400, "MAD", "Tea")]


def test_configured_default_currency_must_be_known(fin, home, tmp_path):
    path = write(tmp_path / "a.csv", HEADER + "2024-01-02,Tea,-4.00\n")
    fin("status")                                   # creates the workspace and its config.toml
    config = home / "config.toml"
    config.write_text(config.read_text().replace('default_currency = "USD"', 'default_currency = "DOLLARS"'))
    line = refused(fin, "import", path)
    assert "config.toml: default_currency: 'DOLLARS' is not a known ISO 4217 currency code" in line


def test_check_currency_accepts_only_codes_with_known_minor_units():
    assert money.check_currency(" jpy ", "x") == "JPY"
    for bad in ("XYZ", "XAU", "EURO", 978, None):
        with pytest.raises(InputError, match="not a known ISO 4217"):
            money.check_currency(bad, "x")


def test_every_currency_detection_knows_has_known_minor_units():
    assert {code for code in columns.CURRENCIES if not money.is_currency(code)} == set()


# --- 5. the currency column ---------------------------------------------------------------

CURRENCY_ROWS = ("Date,Description,Amount,Currency\n2024-01-02,Coffee,-5.00,USD\n2024-01-03,Hotel,-40.00,EUR\n"
                 "2024-01-04,Sushi,-1200,JPY\n")


def test_invalid_code_in_currency_column_is_refused_with_its_line(fin, home, tmp_path):
    path = write(tmp_path / "cur.csv", CURRENCY_ROWS + "2024-01-05,Bad,-1.00,XX1\n")
    assert "cur.csv:5: currency 'XX1' is not a known ISO 4217 code" in refused(fin, "import", path)


def test_currency_column_rows_are_stored_in_their_own_currency_and_minor_units(fin, home, tmp_path):
    path = write(tmp_path / "cur.csv", CURRENCY_ROWS)
    imported(fin, path)
    assert stored(home) == [("2024-01-02", -500, "USD", "Coffee"), ("2024-01-03", -4000, "EUR", "Hotel"),
                            ("2024-01-04", -1200, "JPY", "Sushi")]
    shown = {t["currency"]: t["amount"] for t in json.loads(fin("transactions", "--format", "json").stdout)}
    assert shown == {"USD": "-5.00", "EUR": "-40.00", "JPY": "-1200"}


def test_skip_bad_rows_skips_the_row_with_an_invalid_currency(fin, home, tmp_path):
    path = write(tmp_path / "cur.csv", CURRENCY_ROWS + "2024-01-05,Bad,-1.00,XX1\n")
    result = fin("import", path, "--skip-bad-rows", "--no-services")
    assert result.exit_code == 0, result.stderr
    assert "cur.csv:5: skipped: currency 'XX1'" in result.stderr
    assert [row[2] for row in stored(home)] == ["USD", "EUR", "JPY"]


def test_amounts_marked_with_an_unknown_code_are_refused(fin, home, tmp_path):
    path = write(tmp_path / "marked.csv", HEADER + "2024-01-02,Tea,ABC -4.00\n2024-01-03,Cake,ABC -2.00\n")
    assert "marked.csv: the amounts are marked with 'ABC'" in refused(fin, "import", path)
    known = write(tmp_path / "franc.csv", HEADER + "2024-01-02,Tea,CHF -4.00\n2024-01-03,Cake,CHF -2.00\n")
    imported(fin, known)
    assert [row[1:3] for row in stored(home)] == [(-400, "CHF"), (-200, "CHF")]


# --- 6. amount size -----------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["-99999999999999999999", "10000000000000.01", "-1" + "0" * 400])
def test_amount_beyond_the_bound_is_refused_with_its_line(fin, home, tmp_path, cell):
    path = write(tmp_path / "huge.csv", HEADER + f"2024-01-02,Tea,-4.00\n2024-01-03,Yacht,{cell}\n")
    line = refused(fin, "import", path, "--currency", "USD")
    assert "huge.csv:3: amount" in line and "is larger than fin stores; at most 10000000000000.00 USD" in line


def test_bound_is_in_minor_units_of_the_currency(fin, home, tmp_path):
    path = write(tmp_path / "yen.csv", HEADER + "2024-01-02,Tea,-4\n2024-01-03,House,-1000000000000000\n")
    imported(fin, path, "--currency", "JPY")
    assert stored(home)[1][1] == -money.MAX_MINOR
    too_big = write(tmp_path / "dinar.csv", HEADER + "2024-01-02,Tea,-4\n2024-01-03,House,-1000000000000.001\n")
    assert "dinar.csv:3:" in fin("import", too_big, "--currency", "KWD").stderr


def test_account_balance_beyond_64_bits_is_summed_exactly(fin, home, tmp_path):
    rows = 9300                                      # 9300 × 10^15 minor units > 2^63
    path = write(tmp_path / "big.csv", HEADER + "".join(
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},Payment {i},-10000000000000.00\n" for i in range(rows)))
    assert imported(fin, path, "--currency", "USD")["added"] == rows
    result = fin("accounts", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [account] = json.loads(result.stdout)
    assert account["balance_change"] == money.format_minor(-rows * money.MAX_MINOR, "USD")
    assert account["balance_change"] == "-93000000000000000.00"


# --- 7. category names --------------------------------------------------------------------

@pytest.fixture
def one_transaction(fin, home, tmp_path) -> str:
    imported(fin, write(tmp_path / "a.csv", HEADER + "2024-01-02,NETFLIX.COM,-9.99\n"), "--currency", "USD")
    return json.loads(fin("transactions", "--format", "json").stdout)[0]["id"]


def _label_events(home) -> int:
    with sqlite3.connect(home / "fin.db") as conn:
        return conn.execute("SELECT count(*) FROM events WHERE type IN ('label.set', 'rule.added')").fetchone()[0]


@pytest.mark.parametrize("category, expected", [
    ("x" * 10_000, "10000 characters long; at most 64"),
    ("food\x07", "control character U+0007"),
    ("food\nrent", "control character U+000A"),
    ("evil\u202eboog", "control character U+202E"),
    ("   ", "the category is empty"),
])
def test_label_and_rule_refuse_a_bad_category_name(fin, home, tmp_path, one_transaction, category, expected):
    for args in (("label", one_transaction, category), ("rules", "add", "NETFLIX", category)):
        result = fin(*args)
        assert result.exit_code == 1, args
        assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr, result.stderr
    labels = tmp_path / "labels.csv"
    labels.write_text(f"id,category\n{one_transaction},ok\n{one_transaction},\"{category}\"\n", encoding="utf-8")
    result = fin("label", "--file", labels)
    assert result.exit_code == 1 and "labels.csv:3: " in result.stderr and expected in result.stderr
    assert _label_events(home) == 0


def test_category_names_up_to_the_limit_are_accepted(fin, home, one_transaction):
    name = "Home improvement & garden 🏡".ljust(MAX_LENGTH, ".")
    assert fin("label", one_transaction, f"  {name}  ").exit_code == 0
    assert fin("rules", "add", "NETFLIX", "Streaming 👨‍👩‍👧").exit_code == 0
    shown = json.loads(fin("transactions", "--format", "json").stdout)[0]
    assert shown["category"] == name and shown["category_source"] == "user"
    assert [r["category"] for r in json.loads(fin("rules", "list", "--format", "json").stdout)] == ["Streaming 👨‍👩‍👧"]


def test_check_category_strips_and_names_the_place():
    assert check_category("  groceries ") == "groceries"
    with pytest.raises(InputError, match=r"^labels.csv:4: the category is 65 characters long"):
        check_category("y" * 65, "labels.csv:4")
