"""Money amounts: decimal mark, thousands separators, signs and currency symbols.

The decimal mark is decided per file from all amount values (a value with both marks,
a mark used twice, or a mark followed by other than three digits is evidence); a lone
separator followed by exactly three digits and no other evidence is read as a thousands
separator (`1,234` = 1234), except after a bare `0` (`0.750`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SYMBOLS = {"£": "GBP", "€": "EUR", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS",
           "zł": "PLN", "kč": "CZK", "د.ا.": "JOD", "د.ا": "JOD", "chf": "CHF", "fr.": "CHF", "$": None,
           "us$": "USD", "s$": "SGD", "a$": "AUD", "c$": "CAD", "r$": "BRL", "kr": None, "ft": "HUF"}
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"), None)
_SPACES = "\u00a0\u202f\u2009\u2007 "
_MINUS = "-\u2212\u2013"
_BODY = re.compile(r"^(\d*)(?:([.,'\u00a0\u202f\u2009 ])?)(.*)$")
_PLAIN = {".": re.compile(r"-?\d+(?:\.\d+)?"), ",": re.compile(r"-?\d+(?:,\d+)?")}
_CODE = re.compile(r"[A-Z]{3}")
_CRDR = re.compile(r"(?<=[\d\s)])(CR|DR|Cr|Dr)\.?$")     # card statements: `12.34 CR`


class AmountError(ValueError):
    """A cell that should hold an amount does not."""


TWO_SIGNS = "more than one sign"     # `--5`, `+-5`, `5--`, `(-5)`: which sign was meant cannot be told


class Amount:
    """One parsed cell: its value, whether it had an explicit sign, and its currency."""

    __slots__ = ("value", "plus", "minus", "currency")

    def __init__(self, value: Decimal, plus: bool, minus: bool, currency: str | None):
        self.value, self.plus, self.minus, self.currency = value, plus, minus, currency


_BY_LENGTH = sorted(SYMBOLS, key=len, reverse=True)
_NUMERIC_END = set("0123456789.,()+-\u2212")


def _strip_currency(s: str) -> tuple[str, str | None]:
    """Remove a currency symbol or code at either end; return (rest, iso-or-None)."""
    cur = None
    for _ in range(2):
        if not s or (s[0] in _NUMERIC_END and s[-1] in _NUMERIC_END):
            break
        low = s.lower()
        for sym in _BY_LENGTH:
            if low.startswith(sym) or low.endswith(sym):
                if low.startswith(sym):
                    s = s[len(sym):].strip(_SPACES)
                else:
                    s = s[: len(s) - len(sym)].strip(_SPACES)
                cur = SYMBOLS[sym] or cur
                break
        else:
            m = _CODE.match(s) if len(s) > 3 and s[:3].isalpha() else None
            if m:
                cur, s = s[:3], s[3:].strip(_SPACES)
            elif len(s) > 3 and s[-3:].isalpha() and s[-3:].isupper():
                cur, s = s[-3:], s[:-3].strip(_SPACES)
            else:
                break
    return s, cur


def split_sign(cell: str) -> tuple[str, bool, bool, str | None]:
    """Return (unsigned number text, had '+', had '-', currency) or raise AmountError.

    One sign at most: a leading or trailing `+`/`-`, parentheses, or a CR/DR suffix.
    Two of them (`--5`, `+-5`, `5--`, `(-5)`, `-5 DR`) are refused, never guessed."""
    s = cell.translate(_INVISIBLE).strip(_SPACES + "\t'\"=")
    if not s:
        raise AmountError("empty")
    plus = minus = False
    signs = 0
    m = _CRDR.search(s)
    if m:
        plus, minus = m.group(1).upper() == "CR", m.group(1).upper() == "DR"
        s = s[: m.start()].strip(_SPACES)
        signs += 1
    if s and s[0] == "(" and s[-1] == ")":
        minus, s = True, s[1:-1].strip(_SPACES)
        signs += 1
    s, cur = _strip_currency(s)
    for _ in range(3):
        if s and s[0] in _MINUS:
            minus, s = True, s[1:].strip(_SPACES)
        elif s and s[0] == "+":
            plus, s = True, s[1:].strip(_SPACES)
        elif s and s[-1] in _MINUS:
            minus, s = True, s[:-1].strip(_SPACES)
        elif s and s[-1] == "+":
            plus, s = True, s[:-1].strip(_SPACES)
        else:
            break
        signs += 1
        if cur is None:
            s, cur = _strip_currency(s)
    if s and s[0] == "(" and s[-1] == ")":
        minus, s = True, s[1:-1].strip(_SPACES)
        signs += 1
    if not s or not (s[0].isdigit() or s[0] in ".,") or not s[-1].isdigit():
        raise AmountError("not a number")
    if signs > 1:
        raise AmountError(TWO_SIGNS)
    return s, plus, minus, cur


def mark_evidence(body: str) -> str | None:
    """Which decimal mark one unsigned number text proves, if any ('.' or ',')."""
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        return "." if body.rfind(".") > body.rfind(",") else ","
    for sep, other in ((".", ","), (",", ".")):
        n = body.count(sep)
        if n > 1:
            return other
        if n == 1:
            head, tail = body.split(sep)
            if len(tail) != 3 or head in ("", "0") or not head or len(head) > 3 and not any(c in head for c in " '\u00a0\u202f"):
                return sep
    return None


def decide_mark(cells, default: str | None = None) -> str | None:
    """Decide the decimal mark from many amount cells; None when nothing tells."""
    votes = {".": 0, ",": 0}
    for c in cells:
        try:
            body = split_sign(c)[0]
        except AmountError:
            continue
        ev = mark_evidence(body)
        if ev:
            votes[ev] += 1
    if votes["."] or votes[","]:
        return "." if votes["."] >= votes[","] else ","
    return default


def parse_body(body: str, mark: str) -> Decimal:
    thousands = "," if mark == "." else "."
    if thousands in body or any(c in body for c in " '\u00a0\u202f\u2009"):
        intpart, _, frac = body.partition(mark)
        groups = re.split(r"[" + re.escape(thousands) + r" '\u00a0\u202f\u2009]", intpart)
        if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
            raise AmountError("bad digit grouping")
        if mark in frac or not frac.isdigit() and frac:
            raise AmountError("not a number")
        body = "".join(groups) + ("." + frac if frac else "")
    elif mark == ",":
        body = body.replace(",", ".")
    if body.count(".") > 1 or not body.replace(".", "").isdigit():
        raise AmountError("not a number")
    if body.startswith("."):
        body = "0" + body
    try:
        return Decimal(body)
    except InvalidOperation:
        raise AmountError("not a number") from None


def parse_amount(cell: str, mark: str) -> Amount:
    """Parse one amount cell with a known decimal mark, or raise AmountError."""
    body, plus, minus, cur = split_sign(cell)
    v = parse_body(body, mark)
    return Amount(-v if minus else v, plus, minus, cur)


class AmountReader:
    """Fast per-row parsing of one column: plain numbers skip the general path."""

    def __init__(self, mark: str):
        self.mark = mark
        self.plain = _PLAIN[mark].fullmatch
        self.comma = mark == ","

    def value(self, cell: str) -> Decimal:
        if self.plain(cell):
            return Decimal(cell.replace(",", ".") if self.comma else cell)
        return parse_amount(cell, self.mark).value

    def full(self, cell: str) -> Amount:
        return parse_amount(cell, self.mark)


def looks_numeric(cell: str) -> bool:
    try:
        body = split_sign(cell)[0]
    except AmountError:
        return False
    for mark in (".", ","):
        try:
            parse_body(body, mark)
            return True
        except AmountError:
            continue
    return False
