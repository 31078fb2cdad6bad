"""Date formats: which strptime format a column uses, decided from all its values.

A value may carry a time after the date (`2018-02-26 17:43:35 +0000`,
`2022-01-02T12:16:54Z`); the time is validated loosely and dropped. Parsing is cached
per distinct string: a statement has few distinct dates.
"""

from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime, timedelta

# Day-first and month-first variants of each separator style; dotted dates are always
# day-first (no locale writes mm.dd.yyyy), so they are never ambiguous.
FORMATS = [
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y.%m.%d.", "%Y%m%d",
    "%d.%m.%Y", "%d.%m.%y",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%y", "%m/%d/%y",
    "%d-%m-%Y", "%m-%d-%Y", "%d-%m-%y", "%m-%d-%y",
    "%d %b %Y", "%d %b %y", "%d-%b-%Y", "%d-%b-%y", "%d %B %Y", "%d-%B-%Y",
    "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%d.%b.%Y", "%Y-%b-%d",
]
_SWAP = {"%d/%m/%Y": "%m/%d/%Y", "%d/%m/%y": "%m/%d/%y", "%d-%m-%Y": "%m-%d-%Y", "%d-%m-%y": "%m-%d-%y"}
_SWAP.update({v: k for k, v in list(_SWAP.items())})

_TIME = re.compile(r"^(.+?)(?:[ T]+)(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp][Mm])?"
                   r"(?:\s*(?:Z|UTC|GMT|[A-Z]{3,4}|[+-]\d{2}:?\d{2}))?)$")
_DIGITS8 = re.compile(r"\d{8}$")
_SHAPE = re.compile(r"[\d]{1,4}[./\- ][\dA-Za-z]{1,9}[./\- ,]+\d{1,4}\.?$|\d{8}$|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}$")
# Years a date column is read in at all: keeps 8-digit references and 2-digit years from
# reading as dates, and no bank export reaches back before 1950.
MIN_YEAR, MAX_YEAR = 1950, 2100
# How far after today a transaction may be dated: a statement can carry a few forward-dated
# rows (a standing order booked ahead, a card charge settling in the next cycle), never more
# than one statement period ahead. Anything later is a wrong date or a wrong --date-format.
FUTURE_DAYS = 31


def split_time(s: str) -> str:
    """Drop a trailing time (and zone) from a date-time value."""
    m = _TIME.match(s)
    return m.group(1) if m else s


def try_format(s: str, fmt: str) -> date | None:
    if fmt == "%Y%m%d" and not _DIGITS8.match(s):
        return None
    try:
        d = datetime.strptime(s, fmt).date()
    except ValueError:
        return None
    return d if MIN_YEAR <= d.year <= MAX_YEAR else None


def clean(cell: str) -> str:
    return cell.strip().strip("'\"").strip()


@lru_cache(maxsize=65536)
def formats_for(value: str) -> tuple[str, ...]:
    """All formats that read one value (without any time part)."""
    s = split_time(clean(value))
    if not s or len(s) > 24 or not s[0].isalnum() or not _SHAPE.match(s):
        return ()
    return tuple(f for f in FORMATS if try_format(s, f))


def column_formats(values) -> tuple[list[str], int]:
    """Formats that read every value that reads as a date at all, and how many did.

    Returns (formats, dated) where `formats` is in FORMATS order."""
    seen: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    dated = 0
    for v in values:
        if v in seen:
            fmts = seen[v]
        else:
            fmts = seen[v] = formats_for(v)
        if fmts:
            dated += 1
            for f in fmts:
                counts[f] = counts.get(f, 0) + 1
    return [f for f in FORMATS if counts.get(f) == dated and dated], dated


def is_day_month_pair(fmts: list[str]) -> tuple[str, str] | None:
    for f in fmts:
        if f.startswith("%d") and _SWAP.get(f) in fmts:
            return f, _SWAP[f]
    return None


def human(fmt: str) -> str:
    return (fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")
            .replace("%b", "Mon").replace("%B", "Month"))


class DateReader:
    """Parse one column's cells with a decided format; cached per distinct string."""

    def __init__(self, fmt: str, with_time: bool):
        self.fmt = fmt
        self.with_time = with_time
        self.cache: dict[str, str | None] = {}

    def __call__(self, cell: str) -> str | None:
        try:
            return self.cache[cell]
        except KeyError:
            pass
        s = clean(cell)
        d = try_format(s, self.fmt) if s else None
        if d is None and s and self.with_time:
            d = try_format(split_time(s), self.fmt)
        iso = d.isoformat() if d else None
        if len(self.cache) < 200_000:
            self.cache[cell] = iso
        return iso


def latest_plausible() -> str:
    """The latest transaction date accepted today, as ISO text (compared as strings)."""
    return (date.today() + timedelta(days=FUTURE_DAYS)).isoformat()


def too_late(iso: str) -> str:
    return f"date {iso} is more than {FUTURE_DAYS} days after today"


def out_of_range(cell: str, fmt: str) -> str | None:
    """Why a cell written in `fmt` is still refused as a transaction date, if that is the reason."""
    s = clean(cell)
    for text in (s, split_time(s)):
        try:
            d = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if d.year < MIN_YEAR:
            return f"date {d.isoformat()} is before {MIN_YEAR}; no bank export reaches back that far"
        if d.year > MAX_YEAR or d.isoformat() > latest_plausible():
            return too_late(d.isoformat())
    return None
