"""Merchant normalization: many raw bank strings, one merchant name.

`AMZN Mktp US*2K4L9`, `POS 1234 AMZN MKTP US` and `Amazon.com*RT5` should all
read as one merchant. This is deliberately a few plain rules, used everywhere
(projections, features, dedup), so a merchant has one spelling across fin.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PREFIXES = re.compile(
    r"^(?:(?:pos|card|visa|debit|purchase|kartenzahlung|lastschrift|sepa|ach|pmt|payment to|"
    r"direct debit|dd|so|bgc|fpo|fpi|contactless|cnp|recurring|pending|authorised|authorized)\b[\s:*-]*)+",
    re.I)
_PROCESSORS = re.compile(r"^(?:sq|tst|sp|pp|paypal|ppl|zettle|sumup|izettle|pos)\s*\*\s*", re.I)
_NOISE = [
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b"),        # dates
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),                       # times
    re.compile(r"[*#]\s*[A-Z0-9]{3,}\b", re.I),                        # *2K4L9, #1234 references
    re.compile(r"\b(?:x{2,}|\*{2,})\d{2,4}\b", re.I),                  # card suffixes XXXX1234
    re.compile(r"\b(?:ref|reference|id|nr|no|txn|trx)[.:]?\s*[A-Z0-9-]{3,}\b", re.I),
    re.compile(r"\b[A-Z]*\d[A-Z0-9]{5,}\b", re.I),                     # long alphanumeric codes
    re.compile(r"\b\d{3,}\b"),                                         # store numbers
]
_ALIASES = {"amzn mktp": "amazon", "amazon.com": "amazon", "amzn": "amazon", "amazon mktplace": "amazon"}


@lru_cache(maxsize=65536)
def normalize(description: str) -> str:
    """A short lower-case merchant name derived from a bank description."""
    text = description.split(" | ")[0] if " | " in description else description
    text = _PREFIXES.sub("", text.strip())
    text = _PROCESSORS.sub("", text)
    text = _PREFIXES.sub("", text)
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    text = re.sub(r"[^\w&.' -]+", " ", text)
    words = [w.strip(".-'") for w in text.lower().split()]
    words = [w for w in words if w and not w.isdigit()]
    name = " ".join(words[:3])
    for alias, canonical in _ALIASES.items():
        if name.startswith(alias):
            return canonical
    return name or description.strip().lower()[:40]
