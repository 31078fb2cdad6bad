"""The sign convention of a card export belongs to its account and is decided from all the evidence.

Card exports in the American Express layout (`Date,Description,Amount`) write a charge as a
positive number; their negative rows are payments, credits and merchant refunds — and a
refund carries no credit word. Overlapping exports of one account, imported in any order,
must store every transaction once with the right sign.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from fincli.ingest.importer import Options, import_files
from fincli.workspace import open_workspace

MERCHANTS = ["GAP US 66049 SAN FRANCISCO CA", "WHOLEFDS MKT 10234", "SHELL OIL 5744", "UBER TRIP HELP.UBER.COM",
             "AMAZON.COM*2X4YZ", "STARBUCKS #11235", "TARGET 00012", "NETFLIX.COM", "TRADER JOE S #552",
             "CVS/PHARMACY #0921", "BLUE BOTTLE COFFEE", "DELTA AIR 0062", "HOME DEPOT #6512", "SAFEWAY #1711"]
PAYMENT = "ONLINE PAYMENT - THANK YOU"


def card_history(seed: int, days: int = 150, start: date = date(2024, 1, 1)) -> list[tuple[date, str, int]]:
    """(date, description, amount in cents as stored: charges negative) of one card account."""
    rng = random.Random(seed)
    rows = []
    for day in range(days):
        d = start + timedelta(days=day)
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            rows.append((d, rng.choice(MERCHANTS), -rng.randint(150, 25_000)))
        if day % 30 == 12:
            rows.append((d, PAYMENT, rng.randint(40_000, 150_000)))
        if rng.random() < 0.06:                                  # a refund: no credit word at all
            charges = [r for r in rows if r[2] < 0 and r[1] != PAYMENT]
            if charges:
                _, merchant, amount = rng.choice(charges)
                rows.append((d, merchant, rng.randint(1, -amount)))
    return rows


def write_amex(path, rows, *, charges_positive: bool = True) -> None:
    lines = ["Date,Description,Amount"]
    for d, description, cents in sorted(rows, key=lambda r: r[0], reverse=True):
        written = -cents if charges_positive else cents
        lines.append(f"{d:%m/%d/%Y},{description},{'-' if written < 0 else ''}{abs(written) // 100}."
                     f"{abs(written) % 100:02d}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def windows(rng: random.Random, first: date, last: date, shortest: int, longest: int) -> list[tuple[date, date]]:
    """Overlapping download windows that together cover [first, last]."""
    out, start = [], first
    while True:
        end = min(last, start + timedelta(days=rng.randint(shortest, longest)))
        if (last - end).days < shortest:      # no short leftover window at the end
            end = last
        out.append((start, end))
        if end >= last:
            return out
        start = max(first, end - timedelta(days=rng.randint(0, 10)))


def span(path: str) -> tuple[str, str]:
    """The first and last date written in an export (MM/DD/YYYY), as ISO dates."""
    lines = open(path, encoding="utf-8").read().splitlines()[1:]
    dates = [f"{cell[6:10]}-{cell[0:2]}-{cell[3:5]}" for cell in (line.split(",")[0] for line in lines)]
    return min(dates), max(dates)


def stored(ws, account: str) -> Counter:
    return Counter((d, desc, amount) for d, desc, amount in ws.conn.execute(
        "SELECT date, description, amount FROM transactions WHERE account = ? AND replaced_by IS NULL", (account,)))


def truth(rows) -> Counter:
    return Counter((d.isoformat(), desc, cents) for d, desc, cents in rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), order_seed=st.integers(0, 10_000))
def test_card_exports_with_refunds_in_any_order_store_every_sign_right(tmp_path_factory, seed, order_seed):
    folder = tmp_path_factory.mktemp("amex")
    history = card_history(seed)
    rng = random.Random(order_seed)
    first, last = min(r[0] for r in history), max(r[0] for r in history)
    files = []
    for n, (lo, hi) in enumerate(windows(rng, first, last, 31, 70)):      # a statement or longer
        path = folder / f"amex_{n:02d}.csv"
        write_amex(path, [r for r in history if lo <= r[0] <= hi])
        files.append(str(path))
    rng.shuffle(files)
    ws = open_workspace(folder / "ws")
    try:
        reports = import_files(ws, files, Options())
        # A short export with no negative row, imported before anything else, cannot tell its sign
        # and asks for --sign; imported again once the account knows its convention, it completes.
        undecided = [r.path for r in reports if r.status == "failed" and "--sign" in r.error]
        assert all(min(a for d, _, a in history if lo <= d.isoformat() <= hi) < 0 and
                   max(a for d, _, a in history if lo <= d.isoformat() <= hi) < 0
                   for lo, hi in (span(p) for p in undecided))
        reports = [r for r in reports if r.path not in undecided] + import_files(ws, undecided, Options())
        assert [r.error for r in reports if r.status != "imported"] == []
        assert all(r.sign.convention == "inverted" for r in reports)
        assert stored(ws, "amex") == truth(history)
    finally:
        ws.close()


def test_a_refund_without_a_credit_word_does_not_flip_the_file(fin, tmp_path):
    rows = [(date(2024, 3, d), MERCHANTS[d % len(MERCHANTS)], -(1000 + d)) for d in range(1, 20)]
    rows += [(date(2024, 3, 20), "GAP US 66049 SAN FRANCISCO CA", 5015), (date(2024, 3, 21), PAYMENT, 90_000)]
    write_amex(tmp_path / "amex.csv", rows)
    result = fin("import", tmp_path / "amex.csv", "--no-services", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    assert report["sign"].startswith("charges positive (card), from 19 of 21 rows positive")
    listed = {(t["date"], t["description"]): t["amount"]
              for t in json.loads(fin("transactions", "--format", "json").stdout)}
    assert listed[("2024-03-20", "GAP US 66049 SAN FRANCISCO CA")] == "50.15"
    assert listed[("2024-03-21", PAYMENT)] == "900.00"
    assert listed[("2024-03-01", MERCHANTS[1])] == "-10.01"


def test_an_export_with_only_refunds_and_charges_follows_the_accounts_history(fin, tmp_path):
    history = card_history(3, days=90)
    write_amex(tmp_path / "amex_1.csv", [r for r in history if r[0] < date(2024, 2, 15)])
    # a short window without a payment: charges and one refund, overlapping the first export
    window = [r for r in history if date(2024, 2, 1) <= r[0] < date(2024, 2, 12) and r[1] != PAYMENT]
    window.append((date(2024, 2, 11), "GAP US 66049 SAN FRANCISCO CA", 2599))
    write_amex(tmp_path / "amex_2.csv", window)
    assert fin("import", tmp_path / "amex_1.csv", "--no-services").exit_code == 0
    result = fin("import", tmp_path / "amex_2.csv", "--no-services", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "charges positive (card)" in json.loads(result.stdout)[0]["sign"]
    amounts = {(t["date"], t["description"], t["amount"]) for t in json.loads(fin("transactions", "-f", "json").stdout)}
    assert ("2024-02-11", "GAP US 66049 SAN FRANCISCO CA", "25.99") in amounts
    assert all(not a.startswith("-") for d, desc, a in amounts if desc == PAYMENT)


def test_an_export_with_only_charges_takes_the_accounts_recorded_convention(fin, tmp_path):
    history = card_history(5, days=60)
    write_amex(tmp_path / "amex_1.csv", history)
    later = [(date(2024, 4, d), MERCHANTS[d % 5], -(700 + d)) for d in range(13, 19)]
    write_amex(tmp_path / "amex_2.csv", later)
    # alone, a file with no negative row cannot tell its sign ...
    alone = fin("--home", tmp_path / "other", "import", tmp_path / "amex_2.csv", "--no-services")
    assert alone.exit_code == 1 and "--sign" in alone.stderr
    # ... but the account's earlier import of the same layout can
    assert fin("import", tmp_path / "amex_1.csv", "--no-services").exit_code == 0
    result = fin("import", tmp_path / "amex_2.csv", "--no-services", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["sign"].endswith("1 earlier import of this account (the rows alone cannot tell)")
    ws = open_workspace(fin.home)
    try:
        assert stored(ws, "amex") == truth(history + later)
    finally:
        ws.close()


def test_a_file_contradicting_the_accounts_earlier_imports_stops_and_names_sign(fin, tmp_path):
    history = card_history(8, days=70)
    write_amex(tmp_path / "amex_1.csv", [r for r in history if r[0] < date(2024, 2, 1)])
    # the same layout written the other way round: payments positive, charges negative
    write_amex(tmp_path / "amex_2.csv", [r for r in history if r[0] >= date(2024, 2, 1)], charges_positive=False)
    assert fin("import", tmp_path / "amex_1.csv", "--no-services").exit_code == 0
    before = fin("status", "--format", "json").stdout
    result = fin("import", tmp_path / "amex_2.csv", "--no-services")
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "\n" not in line and "amex_2.csv" in line and "--sign" in line
    assert "earlier import" in line
    assert json.loads(fin("status", "--format", "json").stdout)["events"] == json.loads(before)["events"]
    forced = fin("import", tmp_path / "amex_2.csv", "--no-services", "--sign", "normal")
    assert forced.exit_code == 0, forced.output


def test_overlapping_rows_stored_with_the_opposite_sign_turn_a_weakly_read_file_round(fin, tmp_path):
    history = card_history(13, days=40)
    write_amex(tmp_path / "amex_1.csv", history)
    assert fin("import", tmp_path / "amex_1.csv", "--no-services").exit_code == 0
    # A short export: five charges already stored and two new refunds. Its rows alone look like a
    # bank account (more negative than positive would be needed to say "card") ...
    shared = [r for r in history if r[2] < 0 and r[1] != PAYMENT][-5:]
    refunds = [(date(2024, 2, 11), MERCHANTS[0], 1999), (date(2024, 2, 12), MERCHANTS[3], 850)]
    write_amex(tmp_path / "amex_2.csv", shared + refunds)
    result = fin("import", tmp_path / "amex_2.csv", "--no-services", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    # ... but the five rows it shares with the store, stored with the opposite sign, turn it round
    assert report["sign"] == "charges positive (card), from 5 overlapping rows"
    assert report["added"] == 2 and report["already_present"] == 5
    ws = open_workspace(fin.home)
    try:
        assert stored(ws, "amex") == truth(history + refunds)
    finally:
        ws.close()


def test_a_type_column_saying_purchase_and_payment_decides_a_short_card_export(fin, tmp_path):
    """Apple Card: charges positive, a `Type` of Purchase / Payment / Return / Credit, and a
    pending row whose `Clearing Date` is still empty."""
    (tmp_path / "apple.csv").write_text(
        "Transaction Date,Clearing Date,Description,Merchant,Category,Type,Amount (USD),Purchased By\n"
        "01/28/2024,,UBER *EATS,Uber Eats,Restaurants,Purchase,32.18,Alex\n"
        "01/27/2024,01/28/2024,WALGREENS #1234,Walgreens,Medical,Purchase,12.49,Alex\n"
        "01/26/2024,01/27/2024,ACH DEPOSIT INTERNET TRANSFER FROM ACCOUNT ENDING IN 1234,Ach Deposit,Payment,"
        "Payment,-300.00,Alex\n"
        "01/25/2024,01/26/2024,APPLE.COM/BILL,Apple Services,Other,Purchase,2.99,Alex\n"
        "01/23/2024,01/24/2024,DAILY CASH ADJUSTMENT,Daily Cash,Other,Credit,-1.20,Alex\n"
        "01/21/2024,01/22/2024,TARGET 00012345,Target,Shopping,Purchase,66.40,Alex\n"
        "01/20/2024,01/21/2024,TARGET 00012345,Target,Shopping,Return,-20.00,Alex\n", encoding="utf-8")
    result = fin("import", tmp_path / "apple.csv", "--no-services", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["sign"].startswith("charges positive (card)")
    rows = {(t["date"], t["amount"], t["pending"]) for t in json.loads(fin("transactions", "-f", "json").stdout)}
    assert ("2024-01-21", "-66.40", False) in rows and ("2024-01-20", "20.00", False) in rows
    assert ("2024-01-26", "300.00", False) in rows and ("2024-01-28", "-32.18", True) in rows


def test_an_export_read_the_wrong_way_first_is_named_when_a_clear_one_contradicts_it(fin, tmp_path):
    """A first export with charges and a refund but no payment cannot tell it is a card's; read as
    written, it is stored the wrong way round. The next export, with its payment, says so clearly,
    and fin stops and names the import to undo rather than store both ways."""
    history = card_history(21, days=70)
    early = [r for r in history if r[0] < date(2024, 1, 25) and r[1] != PAYMENT]
    early.append((date(2024, 1, 24), MERCHANTS[5], 1450))                      # a refund
    write_amex(tmp_path / "amex_1.csv", early)
    first = fin("import", tmp_path / "amex_1.csv", "--no-services", "--format", "json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)[0]
    assert report["sign"].startswith("money out negative (as written)")
    write_amex(tmp_path / "amex_2.csv", [r for r in history if r[0] >= date(2024, 1, 20)])
    second = fin("import", tmp_path / "amex_2.csv", "--no-services")
    assert second.exit_code == 1
    line = second.stderr.strip()
    assert "\n" not in line and f"fin undo {report['import_id']}" in line and "--sign" in line
    assert fin("undo", report["import_id"]).exit_code == 0
    assert fin("import", tmp_path / "amex_2.csv", "--no-services").exit_code == 0
    assert fin("import", tmp_path / "amex_1.csv", "--no-services").exit_code == 0    # now the account knows
    ws = open_workspace(fin.home)
    try:
        want = truth([r for r in history if r[0] >= date(2024, 1, 20) or r in early]
                     + [(date(2024, 1, 24), MERCHANTS[5], 1450)])
        assert stored(ws, "amex") == want
    finally:
        ws.close()
