"""Merchant normalization: many raw bank strings, one merchant name.

`AMZN Mktp US*2K4L9`, `POS 1234 AMZN MKTP US` and `Amazon.com*RT5` should all
read as one merchant. This is deliberately a few plain rules, used everywhere
(projections, features, dedup), so a merchant has one spelling across fin.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LEADING = re.compile(                 # payment-method words and processor prefixes: "POS", "SQ *"
    r"^(?:(?:pos|card|visa|debit|purchase|kartenzahlung|lastschrift|sepa|ach|pmt|payment to|"
    r"direct debit|dd|so|bgc|fpo|fpi|contactless|cnp|recurring|pending|authorised|authorized)\b[\s:*-]*"
    r"|(?:sq|tst|sp|pp|paypal|ppl|zettle|sumup|izettle)\s*\*\s*)+",
    re.I)
_NOISE = re.compile("|".join((
    r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b",           # dates
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b",                          # times
    r"[*#]\s*[A-Z0-9]{3,}\b",                                  # *2K4L9, #1234 references
    r"\b(?:x{2,}|\*{2,})\d{2,4}\b",                             # card suffixes XXXX1234
    r"\b(?:ref|reference|id|nr|no|txn|trx)[.:]?\s*[A-Z0-9-]{3,}\b",
    r"\b[A-Z]*\d[A-Z0-9]{5,}\b",                                # long alphanumeric codes
    r"\b\d{3,}\b",                                              # store numbers
)), re.I)
_PUNCTUATION = re.compile(r"[^\w&.' -]+")
_ALIASES = {"amzn mktp": "amazon", "amazon.com": "amazon", "amzn": "amazon", "amazon mktplace": "amazon"}


@lru_cache(maxsize=65536)
def normalize(description: str) -> str:
    """A short lower-case merchant name derived from a bank description.

    Descriptions joined from several columns ("payee | text | memo") are read
    part by part: the first part that leaves a name decides.
    """
    for part in description.split(" | "):
        if name := _name(part):
            return name
    return " ".join(description.lower().split())[:40]


def _name(text: str) -> str:
    text = _LEADING.sub("", text.strip())
    text = _PUNCTUATION.sub(" ", _NOISE.sub(" ", text))
    words = [w.strip(".-'") for w in text.lower().split()]
    name = " ".join(w for w in words if w and not w.isdigit()).strip()
    name = " ".join(name.split()[:3])
    for alias, canonical in _ALIASES.items():
        if name.startswith(alias):
            return canonical
    return name
