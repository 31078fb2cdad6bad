"""Fuzz parse_bytes: whatever the input, only FinError subclasses may escape.

The parser's last-resort safety net (which turns an unexpected exception into a
ParseError) is switched off here, so a bug shows up as the exception it really is.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fincli.errors import FinError
from fincli.ingest import parse as parse_module
from fincli.ingest.parse import parse_bytes
from fincli.ingest.rows import ParsedFile


@pytest.fixture(autouse=True)
def no_safety_net(monkeypatch):
    monkeypatch.setattr(parse_module, "SAFETY_NET", False)


def attempt(data: bytes, **kw):
    try:
        pf = parse_bytes(data, "fuzz.csv", **kw)
    except FinError as e:
        assert str(e) and "\n" not in str(e).strip()
        return None
    assert isinstance(pf, ParsedFile) and pf.rows
    for r in pf.rows:
        assert len(r.date) == 10 and r.amount.is_finite()
    return pf


SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    attempt(data)


CELLS = st.one_of(
    st.sampled_from(["2024-01-02", "02.01.2024", "1/2/2024", "13/01/2024", "01/13/2024", "20240102", "Pending",
                     "12 Jan 2019", "2018-02-26 17:43:35 +0000", "", " ", "'", '"', "-3.50", "3,50", "+1.000,00",
                     "(12.34)", "12.34-", "£1,100.00", "CR", "D", "C", "Af", "Bij", "EUR", "Opening balance",
                     "Date", "Amount", "Description", "Debit", "Credit", "Balance", "Status", "PENDING",
                     "0,00", "1e5", "NaN", "-", "١٢٣", "\u200f", "Saldo", "Betrag", "Datum", "Währung"]),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9).map(str),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)


@st.composite
def csv_like(draw):
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 7))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 2), min_size=0, max_size=25))
    quote = draw(st.booleans())
    lines = []
    for row in rows:
        cells = [f'"{c}"' if quote and '"' not in c else c for c in row]
        lines.append(delim.join(cells))
    end = draw(st.sampled_from(["\n", "\r\n", "\r", ""]))
    text = end.join(lines) if end else "\n".join(lines)
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    return text.encode(enc, errors="replace")


@SETTINGS
@given(csv_like(), st.sampled_from([{}, {"sign": "inverted"}, {"date_format": "%d/%m/%Y"}, {"decimal_mark": ","},
                                    {"skip_bad_rows": True}]))
def test_random_csv_like_text(data, options):
    attempt(data, **options)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"'),
               max_size=20)
MONEY = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6)


@SETTINGS
@given(st.lists(st.tuples(st.dates(min_value=date(1990, 1, 1), max_value=date.today()), TEXT, MONEY),
                min_size=1, max_size=30), st.sampled_from([",", ";", "\t", "|"]))
def test_well_formed_files_always_parse_exactly(rows, delim):
    lines = [delim.join(["Date", "Description", "Amount"])] + [
        delim.join([d.isoformat(), f'"shop {t}"', str(a)]) for d, t, a in rows]
    pf = parse_bytes("\n".join(lines).encode(), "ok.csv", sign="normal")
    assert [(r.date, r.amount) for r in pf.rows] == [(d.isoformat(), a) for d, _, a in rows]
    assert [r.description for r in pf.rows] == [f"shop {t}".strip() for _, t, _ in rows]
