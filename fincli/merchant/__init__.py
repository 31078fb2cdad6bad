"""Merchant resolution: many raw bank strings, one merchant.

`AMZN Mktp US*2K4L9`, `POS 1234 AMZN MKTP US` and `Amazon.com*RT5` all resolve to the
merchant `amazon`, shown as `Amazon`. `resolve` is a pure function of the description and
the export's payee field (the rules are in `resolver.py`, their data in data/merchants/), so
every part of fin (projections, features, dedup, categorization) gives a transaction the same
merchant, and the same log always resolves the same way. The user's merges, splits and
renames are applied on top of it (`corrections.py`). `VERSION` and the data's hash
(`fingerprint`) are part of the feature definitions, so a training set states which resolver
built it.
"""

from __future__ import annotations

from .resolver import PERSON, SERVICE, Resolved, resolve_field, resolve_text


VERSION = "2"


def resolve(description: str, payee: str | None = None) -> Resolved:
    """The merchant of one transaction: from the payee field when the layout has one, else the description.

    A description joined from several fields ("payee | booking text | memo") is read field by
    field; a field that is only a booking text (`Folgelastschrift`) never names the merchant,
    and one that only names a payment service (`PayPal Europe S.a.r.l.`) does so only when no
    other field names the seller.
    """
    service = None
    if payee and payee.strip():
        found, kind = resolve_text(payee, payee=True)
        if kind != SERVICE:
            if not found.key:                       # a payee that is all code (`shop1`) is still the payee
                name = " ".join(payee.split())
                return Resolved(name.lower(), name)
            return found
        service = found
    for part in description.split(" | ") if " | " in description else (description,):
        found = resolve_field(part)
        if found and found[0].key:
            if found[1] != SERVICE:
                return found[0]
            service = service or found[0]
    if service:
        return service
    key = " ".join(description.lower().split())[:40]
    return Resolved(key, key)


def person_to_person(description: str) -> bool:
    """A payment to or from a person through a payment service (`Zelle payment to Maria Lopez`)."""
    return any((found := resolve_field(part)) is not None and found[1] == PERSON
               for part in description.split(" | "))


def normalize(description: str) -> str:
    """The merchant key of a description (no payee field)."""
    return resolve(description).key


def fingerprint() -> str:
    """The resolver's version and a hash of its data files: part of every merchant feature's definition."""
    import hashlib

    from ..paths import data_dir

    digest = hashlib.sha256(VERSION.encode())
    for path in sorted((data_dir() / "merchants").glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{VERSION}:{digest.hexdigest()[:12]}"
