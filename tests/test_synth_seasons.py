"""The seasonal generator (`generate(..., seasonal=True)`): every everyday purchase scaled by its
category's month factor and price trend, deterministically, nothing else moved."""

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from fincli.synth import generate
from fincli.synth.seasons import PROFILE, factors

SEED, START, MONTHS = 3, date(2023, 1, 1), 26


def _everyday_totals(history) -> dict[tuple[str, str, str], int]:
    """(currency, category, month) -> cents spent in everyday purchases (no stream, transfer, fraud, refund)."""
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    with open(history / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            cents = int(Decimal(r["amount"]) * 100)
            if r["stream_id"] or r["transfer_id"] or r["fraud_kind"] or cents >= 0:
                continue
            out[(r["currency"], r["category"], r["date"][:7])] -= cents
    return out


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("seasons")
    generate(SEED, root / "plain", start=START, months=MONTHS, merchants=120)
    generate(SEED, root / "seasonal", start=START, months=MONTHS, merchants=120, seasonal=True)
    return root / "plain", root / "seasonal"


def test_seasonal_history_is_the_same_for_the_same_seed(pair, tmp_path):
    generate(SEED, tmp_path / "again", start=START, months=MONTHS, merchants=120, seasonal=True)
    for name in ("truth/transactions.csv", "truth/manifest.json"):
        assert (tmp_path / "again" / name).read_bytes() == (pair[1] / name).read_bytes()


def test_each_category_month_is_scaled_by_its_season_and_trend_and_nothing_else_moves(pair):
    plain, seasonal = (_everyday_totals(p) for p in pair)
    assert plain.keys() == seasonal.keys()
    table = factors(SEED)
    checked = 0
    for (cur, cat, month), before in plain.items():
        after = seasonal[(cur, cat, month)]
        if cat not in PROFILE:
            assert after == before, (cur, cat, month)
            continue
        if before < 100_00:                    # rounding of a few cents weighs on tiny months
            continue
        months, trend = table[cat]
        age = (int(month[:4]) - START.year) * 12 + int(month[5:]) - START.month
        assert after / before == pytest.approx(months[int(month[5:]) - 1] * (1 + trend) ** (age / 12), rel=0.01)
        checked += 1
    assert checked > 100


def test_december_is_the_peak_of_shopping_and_prices_rise_year_on_year():
    table = factors(SEED)
    for cat in ("shopping", "online_shopping", "restaurants"):
        months, trend = table[cat]
        assert max(months) == months[11] > 1.2
        assert 0.02 <= trend <= 0.05
    assert table["travel"][0][6] > 1.3 > table["travel"][0][0]
    assert factors(SEED) == table and factors(SEED + 1) != table


def test_a_seasonal_history_imports_to_exactly_its_truth(pair, tmp_path):
    from collections import Counter

    from fincli.ingest.importer import Options, import_files
    from fincli.ledger import queries
    from fincli.workspace import open_workspace

    history = pair[1]
    with open(history / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    ws = open_workspace(tmp_path / "ws")
    try:
        reports = import_files(ws, [str(p) for p in sorted((history / "exports").glob("*.csv"))], Options())
        assert [r.error for r in reports if r.error] == []
        key = lambda r: (r["account"], r["date"], r["amount"], r["currency"], r["description"])  # noqa: E731
        assert Counter(map(key, queries.list_transactions(ws))) == Counter(map(key, truth))
    finally:
        ws.close()
