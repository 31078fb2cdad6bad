import pytest

from fincli.merchant import normalize


@pytest.mark.parametrize("raw,merchant", [
    ("AMZN Mktp US*2K4L9", "amazon"),
    ("Amazon.com*RT5K1", "amazon"),
    ("POS 1234 STARBUCKS #5567 SEATTLE", "starbucks seattle"),
    ("SQ *BLUE BOTTLE COFFEE", "blue bottle coffee"),
    ("PAYPAL *SPOTIFY", "spotify"),
    ("Lastschrift NETFLIX.COM 12/03", "netflix.com"),
    ("DEBIT | POS 8070 BEST BUY #4532", "best buy"),
    ("MVG Muenchen | Lastschrift | NR XXXX 5531", "mvg muenchen"),
])
def test_bank_descriptions_normalize_to_one_merchant_name(raw, merchant):
    assert normalize(raw) == merchant


def test_store_numbers_and_references_do_not_split_a_merchant():
    variants = ["WHOLEFDS MKT 10234", "WHOLEFDS MKT 10551 REF 88X1Z2", "POS WHOLEFDS MKT #1023"]
    assert len({normalize(v) for v in variants}) == 1
