"""The resolver: one merchant, one key, whatever the bank printed around it."""

import pytest

from fincli.merchant import fingerprint, normalize, resolve


def _keys(*descriptions: str) -> set[str]:
    return {normalize(d) for d in descriptions}


@pytest.mark.parametrize("raw,merchant", [
    ("AMZN Mktp US*2K4L9", "amazon"),
    ("Amazon.com*RT5K1", "amazon"),
    ("POS 1234 AMZN MKTP US", "amazon"),
    ("POS 1234 STARBUCKS #5567 SEATTLE", "starbucks"),
    ("SQ *BLUE BOTTLE COFFEE", "bluebottlecoff"),
    ("PAYPAL *SPOTIFY", "spotify"),
    ("Lastschrift NETFLIX.COM 12/03", "netflix"),
    ("DEBIT | POS 8070 BEST BUY #4532", "bestbuy"),
])
def test_bank_descriptions_resolve_to_one_merchant_key(raw, merchant):
    assert normalize(raw) == merchant


def test_store_numbers_and_references_do_not_split_a_merchant():
    assert len(_keys("WHOLEFDS MKT 10234", "WHOLEFDS MKT 10551 REF 88X1Z2", "POS WHOLEFDS MKT #1023")) == 1


def test_cities_states_and_cut_short_cities_are_stripped():
    assert _keys("WALGREENS #4821 SAN FRANCISCO CA", "WALGREENS 4821 PORTLAND OR", "WALGREENS #77 SEATTLE WA",
                 "WALGREENS 9912 SAN FRANCISC") == {"walgreens"}
    assert _keys("SIGHTGLASS COFFEE SAN", "SIGHTGLASS COFFEE SAN FRANCISCO CA") == {"sightglasscoff"}
    assert _keys("NIKE.COM BEAVERTON", "NIKE.COM BEAVERTON OR") == {"nike"}
    # the first word of a city is a place only when it cannot end a name: Olive Garden is not Olive
    assert _keys("OLIVE GARDEN #1234 ORLANDO FL", "OLIVE GARDEN 0042") == {"olivegarden"}


def test_what_follows_a_city_and_its_region_is_a_reference():
    assert _keys("POS 3383 NORTH OPTICAL 08554 KIRKLAND WA FVQJTX", "POS 1047 NORTH OPTICAL KIRKLAND WA",
                 "NORTH OPTICAL SAN FRANCISCO CA CARD QWERTY") == {"northoptical"}
    assert resolve("POS 7390 GOLDEN TOURS BELLEVUE WA HVJGYV").name == "Golden Tours"
    # a region word that does not follow a city is part of the name
    assert normalize("CAFE DE PARIS LUNCH") == normalize("CAFE DE PARIS LUNCH 0042")


def test_codes_are_masked_the_same_way_in_any_text():
    """ASCII descriptions are masked part by part before the rules run, others word by word: same merchant."""
    assert resolve("CAFÉ LUISE #4301 MÜNCHEN X7Y8Z9").key == resolve("CAFÉ LUISE #0042 MÜNCHEN A1B2C3").key
    assert resolve("POS 9052 (GOLDEN) GARDEN 402-935-7733 A1B2C3") == resolve("POS 1234 (GOLDEN) GARDEN 999-111-2222") \
        == ("goldengarden", "Golden Garden")
    assert _keys("POS 9052 GOLDEN GARDEN 3RD AVE", "POS 9052 GOLDEN GARDEN 4TH AVE", "GOLDEN GARDEN #12.34-5") \
        == {"goldengarden"}


def test_a_merchant_whose_name_is_a_number_keeps_it():
    assert _keys("76 - 0123 OAKLAND CA", "76 - 0456 SEATTLE WA") == {"76"}
    assert _keys("7-ELEVEN 12345 SAN JOSE CA", "7 ELEVEN 55 SEATTLE WA") == {"7eleven"}
    assert _keys("15/04/18  66-6666 UBER TRIP NKWLN HELP.UBERh", "UBER *TRIP") == {"uber"}


def test_a_name_is_not_cut_to_a_shorter_merchant():
    """Location stripping takes places at the end only: `Walgreens Pharmacy` is not `Walgreens`."""
    assert normalize("BLUE MOON TAVERN 12 SEATTLE WA") == "bluemoontavern"
    assert normalize("GOLDEN GATE BAKERY") != normalize("GOLDEN GATE DELI")


def test_ride_and_delivery_details_are_dropped():
    assert _keys("LYFT   *RIDE FRI 4PM", "LYFT *RIDE MON", "LYFT *RIDE SUN 11AM") == {"lyft"}
    assert _keys("DD *DOORDASH BURMASUPERST", "DOORDASH*BURMA SUPERST WWW.DOORDASH", "DD *DOORDASH TACOTIME") \
        == {"doordash"}
    assert _keys("UBER *TRIP HELP.UBER.COM CA", "UBER HELP.UBER.COM", "UBER HELP.UBER.COM CA") == {"uber"}


def test_reference_codes_are_dropped():
    assert _keys("LIME*RIDE GZSWF", "LIME*RIDE KQPLM", "LIME RIDES GZSWF") == {"lime"}
    assert _keys("EBAY O*12-34567-89012", "EBAY O*98-76543-21098") == {"ebay"}
    assert _keys("TM *EILISH CA", "TM *TAYLORSWIFT") == {"ticketmaster"}


@pytest.mark.parametrize("raw,merchant,name", [
    ("SQ *BLUE BOTTLE", "bluebottle", "Blue Bottle"),
    ("TST* SOME CAFE", "somecafe", "Some Cafe"),
    ("SumUp *BAKERY LUISE", "bakeryluise", "Bakery Luise"),
    ("Zettle_*Cafe Kranz", "cafekranz", "Cafe Kranz"),
    ("GOOGLE *YouTube", "youtube", "YouTube"),
    ("AMZN Mktp US*2FP5V08AN", "amazon", "Amazon"),
    ("APPLE.COM/BILL", "apple", "Apple"),
])
def test_processors_keep_the_seller_and_marketplaces_keep_the_platform(raw, merchant, name):
    assert resolve(raw) == (merchant, name)


def test_person_to_person_payments_keep_the_person():
    maria = _keys("Zelle payment to Maria Lopez JPM99A1B2C3", "Zelle payment to Maria Lopez JPM99Q7W8E9",
                  "VENMO PAYMENT 1023456789 MARIA LOPEZ")
    assert maria == {"marialopez"}
    assert normalize("Zelle payment to John Smith WFCT0XYZ") == "johnsmith"
    assert resolve("Zelle payment to Maria Lopez JPM99A1B2C3").name == "Maria Lopez"


def test_a_booking_text_never_names_the_merchant():
    """German giro exports join payee | Buchungstext | Verwendungszweck, in any order."""
    paid = ["Amazon.de | Folgelastschrift | 028-1234567 Amazon.de 2LNBQ",
            "Folgelastschrift | Deutsche Bahn | Fahrkarte 123",
            "Lieferando.de | Folgelastschrift | Bestellung 4711",
            "Gutschrift | Thalia Buecher GmbH | Erstattung 55"]
    keys = [normalize(d) for d in paid]
    assert len(set(keys)) == 4
    assert not any("lastschrift" in k or "gutschrift" in k for k in keys)


def test_the_payee_field_wins_over_the_description():
    description = "Folgelastschrift | Eventim | 0123456 Ticket"
    assert resolve(description, "Muster Baeckerei GmbH & Co. KG").key == "musterbaeckerei"
    assert resolve(description, "CTS EVENTIM AG & Co. KGaA").key == "eventim"
    assert resolve(description, "Eventim").key == resolve("x", "EVENTIM").key
    # a payee field is a name already: a place in it is part of the name, and it is not cut short
    assert resolve("x", "Neue Gaststaette Freising").key != resolve("x", "Neue Gaststaette").key
    assert resolve("x", "Stadtwerke Muenchen GmbH").key == "stadtwerkemuenchen"
    assert resolve(description, " ").key == normalize(description)
    assert resolve("shop1 | Lunch", "shop1") == ("shop1", "shop1")     # a payee that is all code is still the payee


def test_hostile_text_resolves_without_error():
    for raw in ["", "   ", "*", "* * *", "[red]x[/red]", "=SUM(A1)", "\x1b[31mRED", "|||", "#1 #2", "0000"]:
        key, name = resolve(raw)
        assert isinstance(key, str) and isinstance(name, str)


def test_the_fingerprint_names_the_version_and_changes_with_the_data(tmp_path, monkeypatch):
    import shutil

    from fincli import paths

    before = fingerprint()
    shutil.copytree(paths.data_dir(), tmp_path / "data")
    (tmp_path / "data" / "merchants" / "cities.txt").write_text("springfield\n", encoding="utf-8")
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path / "data")
    assert fingerprint() != before
    assert fingerprint().split(":")[0] == before.split(":")[0]
