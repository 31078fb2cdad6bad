"""fincli.synth: one true merchant under the many descriptions banks print, and the truth
`merchant` column naming it consistently (read from the written truth files)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from fincli import synth

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
ZELLE = re.compile(r"Zelle payment (to|from) (.+) [A-Za-z0-9]+$")
VENMO = re.compile(r"VENMO PAYMENT \d{10} (.+)$")


def _truth(root: Path) -> list[dict]:
    with open(root / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[dict]:
    root = tmp_path_factory.mktemp("synth_merchants")
    synth.generate(5, root, start=date(2024, 3, 1), months=14, merchants=200)
    return _truth(root)


@pytest.fixture(scope="module", params=["generated", "sample"])
def truth(request, generated) -> list[dict]:
    return generated if request.param == "generated" else _truth(SAMPLES)


def _giro(rows: list[dict]) -> list[tuple[dict, str, str, str]]:
    out = []
    for r in rows:
        if r["account"] == "eurgiro":
            payee, text, zweck = r["description"].split(" | ")
            out.append((r, payee, text, zweck))
    return out


def test_each_description_names_exactly_one_true_merchant(truth):
    merchants = defaultdict(set)
    for r in truth:
        merchants[r["description"]].add(r["merchant"])
    assert all(len(m) == 1 for m in merchants.values()), [d for d, m in merchants.items() if len(m) > 1][:5]
    assert all(r["merchant"] for r in truth)


def test_many_true_merchants_appear_under_three_or_more_descriptions(generated):
    raw = defaultdict(set)
    for r in generated:
        raw[r["merchant"]].add(r["description"])
    assert sum(1 for d in raw.values() if len(d) >= 3) >= 40
    # one chain's stores print different numbers and towns
    towns = {m.group(1) for d in raw["Walgreens"] for m in [re.search(r"\d+ ([A-Z ]+) [A-Z]{2}$", d)] if m}
    assert len(towns) >= 2, raw["Walgreens"]


def test_descriptions_carry_store_numbers_places_phones_and_web_addresses(generated):
    descs = [r["description"] for r in generated if r["account"] != "eurgiro"]
    patterns = {"store number": r"#\d{3,4}\b", "town and state": r" [A-Z]{3,} [A-Z]{2}$",
                "country": r" [A-Z]{2} USA$", "phone": r"\b\d{3}-\d{3}-\d{4}\b",
                "web address": r"(?i)\b(help\.uber\.com|www\.doordash\.com|amzn\.com/bill|\w+\.com\b)"}
    for what, pattern in patterns.items():
        assert any(re.search(pattern, d) for d in descs), what


@pytest.mark.parametrize("marker,merchant", [
    ("AMZN Mktp US*", "Amazon"), ("Amazon.com*", "Amazon"), ("Amazon Prime*", "Amazon"),
    ("DD *DOORDASH", "DoorDash"), ("EBAY O*", "eBay"), ("TM *", "Ticketmaster"), ("LIME", "Lime"),
    ("*TRIP", "Uber"), ("*EATS", "Uber Eats"), ("LYFT *RIDE", "Lyft"), ("PAYPAL *NETFLIX", "Netflix"),
    ("APPLE.COM/BILL", "Apple"), ("GOOGLE *YouTube", "YouTube"), ("NIKE.COM", "Nike"),
])
def test_platform_and_processor_descriptors_name_their_true_merchant(generated, marker, merchant):
    rows = [r for r in generated if marker in r["description"] and r["account"] != "eurgiro"]
    assert rows, marker
    assert {r["merchant"] for r in rows} == {merchant}


def test_processor_prefixes_name_the_seller(generated):
    for prefix in ("SQ *", "TST*", "SumUp *", "Zettle_*", "PAYPAL *"):
        rows = [r for r in generated if prefix in r["description"] and not r["fraud_kind"]]
        assert rows, prefix
        sellers = {r["merchant"] for r in rows}
        assert len(sellers) >= 2 or prefix == "SumUp *", (prefix, sellers)   # the seller, not the processor
        assert not sellers & {"Square", "Toast", "SumUp", "Zettle", "PayPal"}
    doordash = [r["description"] for r in generated if r["merchant"] == "DoorDash"]
    assert len({d.split("DOORDASH")[-1].split()[0] for d in doordash if "DOORDASH" in d}) >= 3  # many restaurants


def test_lyft_rides_print_weekday_and_hour_of_the_ride(generated):
    days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
    timed = [r for r in generated if re.search(r"LYFT \*RIDE [A-Z]{3} \d{1,2}[AP]M", r["description"])]
    assert timed
    for r in timed:
        day = re.search(r"RIDE ([A-Z]{3})", r["description"]).group(1)
        assert day == days[date.fromisoformat(r["date"]).weekday()], r


def test_p2p_payments_name_the_person_and_each_person_is_a_merchant(truth):
    people = defaultdict(int)
    for r in truth:
        m = ZELLE.search(r["description"]) or VENMO.search(r["description"])
        if m:
            name = m.group(m.lastindex)
            assert name.casefold() == r["merchant"].casefold(), r
            assert r["merchant_kind"] == "person" and r["account"] == "checking"
            people[r["merchant"]] += 1
    assert len(people) >= 2
    assert max(people.values()) >= 4              # someone paid again and again


def test_zelle_to_and_from_several_people_and_venmo(generated):
    to = {ZELLE.search(r["description"]).group(2).casefold() for r in generated
          if r["description"].startswith("Zelle payment to")}
    frm = {ZELLE.search(r["description"]).group(2).casefold() for r in generated
           if r["description"].startswith("Zelle payment from")}
    venmo = {r["merchant"] for r in generated if r["description"].startswith("VENMO PAYMENT")}
    assert len(to) >= 2 and len(frm) >= 2 and len(venmo) >= 2
    merchants = {r["merchant"] for r in generated if r["merchant_kind"] == "person"}
    assert {"Maria Garcia", "Maria Lopez"} <= merchants      # same first name, two people
    assert all(r["amount"].startswith("-") for r in generated if r["description"].startswith("Zelle payment to"))
    assert not any(r["amount"].startswith("-") for r in generated if r["description"].startswith("Zelle payment from"))


def test_giro_payees_share_booking_texts_and_references_vary(generated):
    giro = _giro(generated)
    payees_by_text = defaultdict(set)
    zwecks = defaultdict(set)
    spellings = defaultdict(set)
    for r, payee, text, zweck in giro:
        payees_by_text[text].add(r["merchant"])
        zwecks[r["merchant"]].add(zweck)
        spellings[r["merchant"]].add(payee)
    assert {"Lastschrift", "Folgelastschrift", "Gutschrift", "Überweisung", "Kartenzahlung",
            "Dauerauftrag"} <= set(payees_by_text)
    assert len(payees_by_text["Lastschrift"]) >= 10 and len(payees_by_text["Kartenzahlung"]) >= 10
    for shop in ("Amazon", "Deutsche Bahn", "Lieferando", "Zalando"):
        assert len(zwecks[shop]) >= 3, shop                # order numbers, mandates, dates
        assert len(spellings[shop]) >= 2, shop             # the payee in several spellings
    # paid through PayPal: the payee is PayPal, the shop in the Verwendungszweck is the merchant
    paypal = {r["merchant"] for r, payee, _, zweck in giro if payee.startswith("PayPal")}
    assert len(paypal) >= 2 and "PayPal" not in paypal
    for r, payee, _, zweck in giro:
        if payee.startswith("PayPal"):
            assert r["merchant"] in zweck


def test_one_merchant_in_several_accounts_under_different_spellings(generated):
    amazon = [r for r in generated if r["merchant"] == "Amazon"]
    assert {r["account"] for r in amazon} == {"card", "amex", "checking", "eurgiro"}
    assert len({r["description"] for r in amazon}) >= 20
    accounts = defaultdict(set)
    for r in generated:
        if r["merchant_kind"] == "business":
            accounts[r["merchant"]].add(r["account"])
    assert sum(1 for a in accounts.values() if len(a) >= 3) >= 5
