"""Money: integer minor units plus an ISO currency code. Never a float."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from .errors import InputError

# Every ISO 4217 currency fin accepts, with its minor-unit digits: the codes in use, plus
# the euro's and other predecessors still found in old exports (LTL, LVL, EEK, HRK, SKK …).
# A code not listed here is refused rather than assumed to have cents: without its minor
# units an amount in it cannot be stored exactly. Funds and metals (XAU, XDR …) are not
# account currencies and are left out.
_TWO_DIGITS = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD
LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN
PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL
CYP DEM EEK ESP FIM FRF GRD HRK IEP LTL LVL MTL NLG PTE SIT SKK ATS BEF
"""
_EXPONENT = dict.fromkeys(_TWO_DIGITS.split(), 2) | {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}

# The largest amount stored, in minor units: 10^15 is ten trillion in a currency with cents,
# beyond any account holder's transaction in any currency (a billion in Indonesian rupiah is
# 10^11), yet exact as a 64-bit float, so features computed in floating point stay exact.
MAX_MINOR = 10 ** 15


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code fin knows the minor units of (upper case)."""
    return code in _EXPONENT


def check_currency(code, where: str) -> str:
    """The code upper-cased, or InputError naming `where` (an option, a config key, a file line)."""
    text = str(code).strip().upper() if isinstance(code, str) else None
    if not text or text not in _EXPONENT:
        raise InputError(f"{where}: {code!r} is not a known ISO 4217 currency code",
                         "use a three-letter code such as EUR, USD or JPY")
    return text


@lru_cache(maxsize=None)
def exponent(currency: str) -> int:
    return _EXPONENT.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """Convert a decimal amount to minor units, refusing sub-minor precision."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InputError(
            f"amount {amount} has more decimals than {currency} allows",
            "check the currency (--currency) or the decimal mark (--decimal-mark)",
        )
    minor = int(scaled)
    if abs(minor) > MAX_MINOR:
        raise InputError(f"amount {amount} {currency} is larger than fin stores"
                         f"; at most {format_minor(MAX_MINOR, currency)} {currency}",
                         "check the amount column and the decimal mark (--decimal-mark)")
    return minor


def format_minor(minor: int, currency: str) -> str:
    """A signed decimal string, e.g. -1234 USD -> '-12.34'."""
    places = exponent(currency)
    if places == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** places)
    return f"{sign}{whole}.{frac:0{places}d}"
