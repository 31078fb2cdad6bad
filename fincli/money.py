"""Money: integer minor units plus an ISO currency code. Never a float."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from .errors import InputError

# ISO 4217 currencies whose minor unit is not 1/100.
_EXPONENT = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


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
    return int(scaled)


def format_minor(minor: int, currency: str) -> str:
    """A signed decimal string, e.g. -1234 USD -> '-12.34'."""
    places = exponent(currency)
    if places == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10 ** places)
    return f"{sign}{whole}.{frac:0{places}d}"
