"""Unit tests for CSV detection and parsing: dates, amounts, delimiters, encodings,
ambiguity, signs, junk/bad rows, bad inputs, profiles."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fincli.errors import AmbiguousInputError, InputError, ParseError
from fincli.ingest.amounts import AmountError, decide_mark, parse_amount
from fincli.ingest.dates import column_formats, formats_for
from fincli.ingest.parse import builtin_profiles, fingerprint, parse_bytes, parse_file
from fincli.ingest.rows import ParsedRow


def parse(text: str, name: str = "bank.csv", **kw):
    return parse_bytes(text.encode("utf-8"), name, **kw)


def amounts(pf):
    return [r.amount for r in pf.rows]


# --- dates -------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, iso", [
    ("2024-03-04", "2024-03-04"), ("04.03.2024", "2024-03-04"), ("4.3.24", "2024-03-04"),
    ("20240304", "2024-03-04"), ("2024.03.04.", "2024-03-04"), ("12 Jan 2019", "2019-01-12"),
    ("01-Dec-2019", "2019-12-01"), ("2018-02-26 17:43:35 +0000", "2018-02-26"),
    ("2022-01-02T12:16:54Z", "2022-01-02"), ("2012/3/22", "2012-03-22"), ("10 Feb 18", "2018-02-10"),
    ("'2024-03-04", "2024-03-04"),
])
def test_date_styles(cell, iso):
    pf = parse(f"Date,Description,Amount\n{cell},coffee,-3.50\n2019-01-01,x,1\n".replace("2019-01-01", cell))
    assert pf.rows[0].date == iso


def test_day_first_decided_from_any_day_over_12():
    pf = parse("Date,Payee,Amount\n03/04/2024,a,-1\n25/04/2024,b,-2\n")
    assert [r.date for r in pf.rows] == ["2024-04-03", "2024-04-25"]
    pf = parse("Date,Payee,Amount\n03/04/2024,a,-1\n04/25/2024,b,-2\n")
    assert [r.date for r in pf.rows] == ["2024-03-04", "2024-04-25"]


def test_ambiguous_dates_name_the_option():
    with pytest.raises(AmbiguousInputError) as err:
        parse("Date,Payee,Amount\n03/04/2024,a,-1\n05/06/2024,b,-2\n")
    assert str(err.value) == ("bank.csv: dates like 03/04/2024 fit both dd/mm/yyyy and mm/dd/yyyy; "
                              "pass --date-format %d/%m/%Y or --date-format %m/%d/%Y")
    pf = parse("Date,Payee,Amount\n03/04/2024,a,-1\n05/06/2024,b,-2\n", date_format="%m/%d/%Y")
    assert [r.date for r in pf.rows] == ["2024-03-04", "2024-05-06"]


def test_ambiguity_beyond_the_sample_is_settled_by_the_whole_file():
    body = "".join(f"0{1 + i % 9}/0{1 + i % 9}/2024,shop,-1.00\n" for i in range(5000))
    with pytest.raises(AmbiguousInputError):
        parse("Date,Payee,Amount\n" + body)
    pf = parse("Date,Payee,Amount\n" + body + "04/25/2024,late,-2.00\n")      # month-first, at the very end
    assert pf.layout["date_format"] == "%m/%d/%Y" and pf.rows[-1].date == "2024-04-25"
    pf = parse("Date,Payee,Amount\n" + body + "25/04/2024,late,-2.00\n")
    assert pf.layout["date_format"] == "%d/%m/%Y" and pf.rows[-1].date == "2024-04-25"


def test_mixed_date_formats_are_reported():
    with pytest.raises(ParseError, match="more than one format"):
        parse("Date,Payee,Amount\n2024-01-02,a,-1\n03/01/2024,b,-2\n")


def test_date_formats_helpers():
    assert "%d.%m.%Y" in formats_for("31.12.2020")
    assert formats_for("hello") == ()
    fmts, n = column_formats(["01/02/2020", "13/02/2020"])
    assert fmts == ["%d/%m/%Y"] and n == 2


# --- amounts -----------------------------------------------------------------------------

@pytest.mark.parametrize("cell, mark, value, currency", [
    ("12.34", ".", "12.34", None), ("-1.001,00", ",", "-1001.00", None), ("+1,23", ",", "1.23", None),
    ("(12.34)", ".", "-12.34", None), ("12.34-", ".", "-12.34", None), ("£1,183.23", ".", "1183.23", "GBP"),
    ("+ £1,100.00", ".", "1100.00", "GBP"), ("-€ 5,50", ",", "-5.50", "EUR"), (" 7.80", ".", "7.80", None),
    ("د.ا.\u200f4.750", ".", "4.750", "JOD"), ("1 234,56", ",", "1234.56", None), ("1'234.56", ".", "1234.56", None),
    ("EUR 12.00", ".", "12.00", "EUR"), ("12.00 USD", ".", "12.00", "USD"), ("\u221212.5", ".", "-12.5", None),
    ("-10", ".", "-10", None), (".5", ".", "0.5", None),
])
def test_amount_styles(cell, mark, value, currency):
    a = parse_amount(cell, mark)
    assert a.value == Decimal(value) and a.currency == currency


@pytest.mark.parametrize("cell", ["12,3x4", "abc", "", "1.2.3", "12,34,5", "NaN", "1e5", "--", "()", "1,23,456.00"])
def test_amount_garbage_rejected(cell):
    with pytest.raises(AmountError):
        parse_amount(cell, ".")


STYLES = {
    "plain": (".", lambda i, f, neg: f"{'-' if neg else ''}{i}.{f}"),
    "comma": (",", lambda i, f, neg: f"{'-' if neg else ''}{i},{f}"),
    "us-grouped": (".", lambda i, f, neg: f"{'-' if neg else ''}{i:,}.{f}"),
    "eu-grouped": (",", lambda i, f, neg: f"{'-' if neg else ''}{i:,}".replace(",", ".") + f",{f}"),
    "parens": (".", lambda i, f, neg: f"({i:,}.{f})" if neg else f"{i:,}.{f}"),
    "trailing-minus": (".", lambda i, f, neg: f"{i}.{f}{'-' if neg else ''}"),
    "plus": (".", lambda i, f, neg: f"{'-' if neg else '+'}{i}.{f}"),
    "pound": (".", lambda i, f, neg: f"{'-' if neg else ''}£{i:,}.{f}"),
    "euro-suffix": (",", lambda i, f, neg: f"{'-' if neg else ''}{i:,} €".replace(",", ".")[:-2] + f",{f} €"),
    "space-grouped": (",", lambda i, f, neg: f"{'-' if neg else ''}{i:,}".replace(",", "\u00a0") + f",{f}"),
    "swiss": (".", lambda i, f, neg: f"{'-' if neg else ''}{i:,}".replace(",", "'") + f".{f}"),
    "cr-dr": (".", lambda i, f, neg: f"{i:,}.{f} {'DR' if neg else 'CR'}"),
}


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 99), st.booleans(), st.sampled_from(sorted(STYLES)))
def test_amount_round_trip(units, cents, negative, style):
    mark, fmt = STYLES[style]
    text = fmt(units, f"{cents:02d}", negative)
    expected = Decimal(f"{units}.{cents:02d}") * (-1 if negative else 1)
    assert parse_amount(text, mark).value == expected, text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 99), st.booleans()), min_size=1, max_size=30),
       st.sampled_from(["plain", "comma", "us-grouped", "eu-grouped"]))
def test_file_round_trip_decides_the_mark(values, style):
    mark, fmt = STYLES[style]
    values = values + [(1234567, 89, True)]   # one value with evidence of the mark
    delim = ";" if mark == "," else ","
    lines = [f"Date{delim}Text{delim}Amount"] + [
        f'2024-01-{1 + k % 28:02d}{delim}t{k}{delim}"{fmt(u, f"{c:02d}", n)}"' for k, (u, c, n) in enumerate(values)]
    pf = parse("\n".join(lines) + "\n")
    assert pf.layout["decimal_mark"] == mark
    assert amounts(pf) == [Decimal(f"{u}.{c:02d}") * (-1 if n else 1) for u, c, n in values]


def test_decide_mark():
    assert decide_mark(["1.234,56", "12,00"]) == ","
    assert decide_mark(["1,234.56"]) == "."
    assert decide_mark(["0.750"]) == "."
    assert decide_mark(["1,234"]) is None
    pf = parse("Date,Payee,Amount\n2024-01-02,a,\"-1,234\"\n2024-01-03,b,\"2,500\"\n")
    assert amounts(pf) == [Decimal(-1234), Decimal(2500)]     # a lone ,ddd is a thousands separator


# --- delimiters, preamble, header ----------------------------------------------------------

@pytest.mark.parametrize("d", [",", ";", "\t", "|"])
def test_delimiters(d):
    text = d.join(["Date", "Description", "Amount"]) + "\n" + "\n".join(
        d.join(["2024-01-0%d" % i, f"shop {i}", f"-{i}.50" if d != ";" else f"-{i},50"]) for i in range(1, 6)) + "\n"
    pf = parse(text)
    assert pf.layout["delimiter"] == d
    assert amounts(pf) == [Decimal(f"-{i}.50") for i in range(1, 6)]


def test_preamble_and_header_found():
    text = ("Account,12345\nExported,today\n\nDate,Description,Amount,Balance\n"
            "2024-01-02,Coffee,-3.50,96.50\n2024-01-03,Salary,1000.00,1096.50\n")
    pf = parse(text)
    assert pf.layout["header_line"] == 4 and pf.rows[0].line == 5
    assert pf.rows[1].balance == Decimal("1096.50") and pf.rows[1].description == "Salary"


def test_no_header_content_detection():
    pf = parse("02.01.2024;Coffee shop;-3,50;EUR\n03.01.2024;Salary;+1.000,00;EUR\n")
    assert pf.layout["header"] is None
    assert amounts(pf) == [Decimal("-3.50"), Decimal("1000.00")]
    assert pf.rows[0].currency == "EUR" and pf.rows[0].description == "Coffee shop"


def test_multilingual_headers_and_joined_descriptions():
    text = ("Buchungstag;Valuta;Auftraggeber/Empfänger;Verwendungszweck;Betrag;Währung\n"
            "02.01.2024;03.01.2024;Bäckerei;Brötchen;-3,50;EUR\n04.01.2024;04.01.2024;Firma;Gehalt;2.000,00;EUR\n")
    pf = parse(text)
    assert pf.rows[0].description == "Bäckerei | Brötchen" and pf.rows[0].value_date == "2024-01-03"
    assert amounts(pf) == [Decimal("-3.50"), Decimal("2000.00")]


# --- sign conventions ----------------------------------------------------------------------

def test_unsigned_single_column_is_ambiguous():
    text = "Date,Description,Amount\n2024-01-02,Coffee,3.50\n2024-01-03,Book,12.00\n"
    with pytest.raises(AmbiguousInputError) as err:
        parse(text)
    assert "--sign normal" in str(err.value) and "--sign inverted" in str(err.value)
    assert amounts(parse(text, sign="inverted")) == [Decimal("-3.50"), Decimal("-12.00")]
    assert amounts(parse(text, sign="normal")) == [Decimal("3.50"), Decimal("12.00")]


def test_card_export_with_negative_payments_is_inverted():
    text = ("Date,Description,Amount\n2024-01-02,Coffee,3.50\n2024-01-03,Book,12.00\n"
            "2024-01-04,PAYMENT RECEIVED - THANK YOU,-15.50\n")
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("-12.00"), Decimal("15.50")]


def test_checking_account_negatives_are_money_out():
    text = "Date,Description,Amount\n2024-01-02,Coffee,-3.50\n2024-01-03,Salary,100\n2024-01-04,Rent,-50\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("100"), Decimal("-50")]


@pytest.mark.parametrize("out, inn", [("DEBIT", "CREDIT"), ("D", "C"), ("D", "K"), ("Af", "Bij"), ("O", "I"),
                                      ("outflow", "inflow")])
def test_direction_columns(out, inn):
    text = f"Date,Description,Amount,Dir\n2024-01-02,Coffee,3.50,{out}\n2024-01-03,Pay,100.00,{inn}\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("100.00")]


def test_cr_marker_column_makes_card_export_readable():
    text = "Date,Description,Amount,\n02-Jan-2024,Coffee,£3.50,\n03-Jan-2024,PAYMENT,\"+ £1,100.00\",CR\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("1100.00")]


def test_cr_suffix_marks_credits_on_card_statements():
    text = "Date,Description,Amount\n2024-01-02,Coffee,3.50\n2024-01-03,Payment,100.00 CR\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("100.00")]
    text = "Date,Description,Amount\n2024-01-02,Coffee,3.50 DR\n2024-01-03,Payment,100.00 CR\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("100.00")]


def test_plus_marker_alone_makes_credits_readable():
    text = "Date,Description,Amount\n2024-01-02,Coffee,3.50\n2024-01-03,Refund,+12.00\n2024-01-04,Tea,2.00\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("12.00"), Decimal("-2.00")]


@pytest.mark.parametrize("head", ["Paid out,Paid in", "Withdrawals,Deposits", "Soll,Haben", "Outflow,Inflow",
                                  "Debit,Credit"])
def test_split_columns(head):
    text = f"Date,Description,{head}\n2024-01-02,Coffee,3.50,\n2024-01-03,Pay,,100.00\n2024-01-04,Zero,0.00,0.00\n"
    assert amounts(parse(text)) == [Decimal("-3.50"), Decimal("100.00"), Decimal("0.00")]


def test_headerless_split_columns_oriented_by_frequency():
    rows = [f"2024-01-{d:02d}\tshop\t\t{d},50" for d in range(1, 9)] + ["2024-01-20\tsalary\t900,00\t"]
    assert sum(amounts(parse("\n".join(rows) + "\n"))) == Decimal("900.00") - sum(
        Decimal(f"{d}.50") for d in range(1, 9))


# --- row kinds -------------------------------------------------------------------------------

def test_junk_rows_skipped_and_recorded_bad_rows_stop_the_file():
    text = ("Date,Description,Amount\n2024-01-02,Coffee,-3.50\nA null transaction, just to confuse things,\n"
            "2024-01-03,Tea,-2.00\n")
    pf = parse(text)
    assert amounts(pf) == [Decimal("-3.50"), Decimal("-2.00")]
    assert pf.skipped and pf.skipped[0][0] == 3
    bad = "Date,Description,Amount\n" + "".join(f"2024-01-{d:02d},x,-{d}.00\n" for d in range(1, 13)) + \
        "2024-01-13,oops,\"12,3x4\"\n"
    with pytest.raises(ParseError) as err:
        parse(bad)
    assert str(err.value).startswith("bank.csv:14: amount '12,3x4' is not a number")
    assert err.value.line == 14
    pf = parse(bad, skip_bad_rows=True)
    assert len(pf.rows) == 12 and pf.skipped == [(14, "amount '12,3x4' is not a number")]


def test_bad_amount_in_a_named_column_of_a_tiny_file():
    with pytest.raises(ParseError) as err:
        parse("Date;Description;Amount\n2024-01-02;Shop;-3,50\n2024-01-03;Shop2;n/a\n")
    assert str(err.value).startswith("bank.csv:3: amount 'n/a' is not a number")


def test_balance_records_skipped_but_a_shop_called_total_is_kept():
    text = ("Date,Description,Amount\n2024-01-01,Opening balance,100.00\n2024-01-02,TOTAL,-30.00\n"
            "2024-01-03,Coffee,-3.50\n2024-01-03,Closing balance,66.50\n")
    pf = parse(text)
    assert amounts(pf) == [Decimal("-30.00"), Decimal("-3.50")]
    assert [line for line, _ in pf.skipped] == [2, 5]


def test_garbage_date_in_a_data_row_is_a_bad_row():
    text = "Date,Description,Amount\n2024-01-02,Coffee,-3.50\n2024-13-45,Tea,-2.00\n"
    with pytest.raises(ParseError) as err:
        parse(text)
    assert "bank.csv:3: date '2024-13-45'" in str(err.value)


def test_continuation_and_pending_rows():
    text = ("Date,Description,Amount,Status\n2024-01-02,Coffee,-3.50,Booked\n,second line,,\n"
            "Pending,Tea,-2.00,\n2024-01-05,Cake,-4.00,PENDING\n")
    pf = parse(text)
    assert pf.rows[0].description == "Coffee | second line"
    assert [(r.date, r.pending) for r in pf.rows] == [("2024-01-02", False), ("2024-01-05", True),
                                                        ("2024-01-05", True)]


# --- encodings -------------------------------------------------------------------------------

@pytest.mark.parametrize("enc, expect", [("utf-16", "utf-16"), ("cp1250", "cp1250"), ("utf-8-sig", "utf-8-sig"),
                                         ("cp1252", "cp1252"), ("utf-8", "utf-8")])
def test_encodings(tmp_path, enc, expect):
    name = "Příliš žluťoučký kůň" if enc == "cp1250" else "Café Müller €" if enc == "cp1252" else "Zürich ✓ Łódź"
    text = f"Datum;Popis;Částka\n02.01.2024;{name};-3,50\n03.01.2024;Plat;1.000,00\n"
    if enc == "cp1252":
        text = text.replace("Částka", "Betrag")
    p = tmp_path / "e.csv"
    p.write_bytes(text.encode(enc))
    pf = parse_file(p)
    assert pf.layout["encoding"] == expect
    assert pf.rows[0].description == name and amounts(pf) == [Decimal("-3.50"), Decimal("1000.00")]


# --- bad inputs: one clear line, only FinError subclasses ----------------------------------

def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        parse_file(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        parse_file(tmp_path)
    with pytest.raises(InputError, match="not a regular file"):
        parse_file("/dev/zero")


@pytest.mark.parametrize("data, words", [
    (b"", "file is empty"), (b"  \n\n", "file is empty"), (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF"),
    (bytes(range(256)) * 4, "binary"), (b"\x00\x01\x02\x03garbage\x00\x00", "binary"),
    (b"Date,Description,Amount\n2024-01-02,Caf\xc3", "truncated"),
    (b"Name,City\nAlice,Paris\nBob,Rome\n", "no column of dates"),
    (b"Date,Description\n2024-01-02,Coffee\n", "no column of amounts"),
    (b"PK\x03\x04\x14\x00", "ZIP or Excel"),
])
def test_bad_inputs(tmp_path, data, words):
    p = tmp_path / "bank.csv"
    p.write_bytes(data)
    with pytest.raises(ParseError) as err:
        parse_file(p)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith(str(p))


def test_huge_file_without_line_break_rejected_fast(tmp_path):
    p = tmp_path / "big.csv"
    with open(p, "wb") as fh:
        for _ in range(50):
            fh.write(b"x" * (1024 * 1024))
    t = time.perf_counter()
    with pytest.raises(ParseError, match="no line break"):
        parse_file(p)
    assert time.perf_counter() - t < 1.0


def test_bad_options():
    with pytest.raises(InputError):
        parse("Date,A\n", sign="sideways")
    with pytest.raises(InputError):
        parse("Date,A\n", decimal_mark=";")
    with pytest.raises(InputError):
        parse("Date,A\n", date_format="dd/mm/yyyy")


# --- profiles, fingerprint, progress -----------------------------------------------------------

def test_layout_is_json_and_round_trips_as_a_profile():
    text = "Bank export\n\nDate;Text;Amount\n02/01/2024;Coffee;-3,50\n13/01/2024;Pay;1.000,00\n"
    pf = parse(text)
    saved = json.loads(json.dumps(pf.layout))
    assert saved == pf.layout
    other = "Bank export\nfrom 2024\nto 2024\n\nDate;Text;Amount\n05/02/2024;Tea;-2,00\n06/02/2024;Cake;-1,00\n"
    again = parse(other, profile=saved)            # all days <= 12: the profile decides, no question asked
    assert [(r.date, r.amount) for r in again.rows] == [("2024-02-05", Decimal("-2.00")),
                                                        ("2024-02-06", Decimal("-1.00"))]
    assert again.fingerprint == pf.fingerprint
    with pytest.raises(ParseError, match="header of the chosen profile"):
        parse("When,What,How much\n2024-01-02,x,-1\n", profile=saved)
    with pytest.raises(InputError, match="not a valid layout"):
        parse(text, profile={"columns": 3})


def test_fingerprint_is_shape_not_content():
    a = parse("Date,Description,Amount\n2024-01-02,Coffee,-3.50\n")
    b = parse("date , description, AMOUNT\n2023-05-06,Other,-1.00\n2023-05-07,More,2.00\n")
    c = parse("Date,Description,Amount,Balance\n2024-01-02,Coffee,-3.50,1\n")
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert fingerprint(["Date", "Amount", ""], ",", 2) == fingerprint(["date", "amount"], ",", 3)


def test_builtin_profiles_are_data_and_apply():
    profiles = builtin_profiles()
    assert {"chase-checking", "lloyds", "monzo", "ing-nl"} <= set(profiles)
    for layout in profiles.values():
        assert json.loads(json.dumps(layout)) == layout and layout["header"]
    chase = ("Details,Posting Date,\"Description\",Amount,Type,Balance,Check or Slip #,\n"
             "DEBIT,3/4/2016,\"SHOP\",-10.00,ACH_DEBIT,90.00,,\nDEBIT,3/5/2016,\"CAFE\",-1.00,ATM,89.00,,\n")
    pf = parse(chase)        # every day <= 12, but the Chase profile says month first
    assert [r.date for r in pf.rows] == ["2016-03-04", "2016-03-05"] and pf.rows[0].description == "SHOP"
    assert pf.fingerprint == profiles["chase-checking"]["fingerprint"]


def test_progress_reports_bytes(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("Date,Description,Amount\n" + "2024-01-02,Coffee,-3.50\n" * 200_000)
    calls = []
    parse_file(p, progress=lambda done, total: calls.append((done, total)))
    size = p.stat().st_size
    assert calls and calls[-1] == (size, size) and len(calls) < 50
    assert all(0 <= d <= t for d, t in calls)


def test_rows_are_real_parsed_rows():
    pf = parse("Date,Description,Amount\n2024-01-02,Coffee,-3.50\n")
    assert pf.rows[0] == ParsedRow(2, "2024-01-02", Decimal("-3.50"), "Coffee")
    assert hash(pf.rows[0]) == hash(ParsedRow(2, "2024-01-02", Decimal("-3.50"), "Coffee"))


def test_no_heavy_imports():
    code = "import sys, fincli.ingest.parse; print([m for m in ('pandas','numpy','sklearn') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
