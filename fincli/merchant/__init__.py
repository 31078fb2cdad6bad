"""Merchant normalization: many raw bank strings, one merchant name.

`AMZN Mktp US*2K4L9`, `POS 1234 AMZN MKTP US` and `Amazon.com*RT5` should all
read as one merchant. This is deliberately a few plain word rules, used
everywhere (projections, features, dedup), so a merchant has one spelling
across fin. It runs once per imported row, so it works on words, not regexes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

# Words banks put in front of the merchant: how it was paid, not who was paid.
_PAYMENT_WORDS = frozenset(
    "pos card visa debit purchase kartenzahlung lastschrift sepa ach pmt dd so bgc fpo fpi contactless "
    "cnp recurring pending authorised authorized".split())
# Payment processors written as `SQ *MERCHANT`.
_PROCESSORS = frozenset("sq tst sp pp paypal ppl zettle sumup izettle".split())
# Words that introduce a reference code.
_REFERENCE_WORDS = frozenset("ref reference id nr no txn trx".split())
_ALIASES = {"amzn mktp": "amazon", "amazon.com": "amazon", "amzn": "amazon", "amazon mktplace": "amazon"}
_STRIP = ".,:;-'\"()[]{}/\\|!?+=_~`^&%$€£"
_HAS_DIGIT = re.compile(r"\d").search
_ALIAS_PREFIXES = ("amzn", "amazon")             # every alias starts with one of these


@lru_cache(maxsize=262144)
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
    words = text.lower().replace("*", " * ").replace("#", " #").split()
    start, count = 0, len(words)
    while start < count:                         # leading payment words and `SQ *` prefixes
        word = words[start].strip(_STRIP)
        if word in _PAYMENT_WORDS or word == "*" or word == "payment" and start + 1 < count \
                and words[start + 1] == "to":
            start += 2 if word == "payment" else 1
        elif word in _PROCESSORS and start + 1 < count and words[start + 1] == "*":
            start += 2
        else:
            break
    kept: list[str] = []
    skip_next = False
    for raw in words[start:]:
        if skip_next:
            skip_next = False
            continue
        if raw == "*" or raw[0] == "#":
            skip_next = raw == "*"                # `US*2K4L9`: what follows a star is a reference
            continue
        word = raw.strip(_STRIP)
        if not word or not word.isalpha() and _HAS_DIGIT(word):
            continue                              # store numbers, dates, times, codes (letters have no digit)
        if word in _REFERENCE_WORDS:
            skip_next = True
            continue
        kept.append(word)
        if len(kept) == 3:
            break
    name = " ".join(kept)
    if name.startswith(_ALIAS_PREFIXES):
        for alias, canonical in _ALIASES.items():
            if name.startswith(alias):
                return canonical
    return name


class Resolved(NamedTuple):
    key: str        # what groups transactions: lower case, stable across resolver runs
    name: str       # how fin shows the merchant to the user


VERSION = "1"


def resolve(description: str, payee: str | None = None) -> Resolved:
    """The merchant of one transaction: from the payee field when the layout has one, else the description."""
    key = normalize(payee) if payee and payee.strip() else normalize(description)
    return Resolved(key, key.title())


def fingerprint() -> str:
    """The resolver's version and a hash of its data files: part of every merchant feature's definition."""
    import hashlib

    from ..paths import data_dir

    digest = hashlib.sha256(VERSION.encode())
    for path in sorted((data_dir() / "merchants").glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{VERSION}:{digest.hexdigest()[:12]}"
