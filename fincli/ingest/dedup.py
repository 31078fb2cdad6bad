"""Deduplication and matching of newly parsed rows against what the workspace holds.

- Exact: a row's key is (date, amount, currency, description, occurrence within
  its file) — or the bank's own id where it gives one. The same row in an
  overlapping export has the same key; two identical coffees on one day are
  occurrences 0 and 1 and stay two.
- Pending → posted: a posted row that matches an earlier pending one (a few
  days later, same merchant, the same amount or up to a tip more) replaces it.
- Possible duplicates: where two exports overlap, rows left unmatched on both
  sides with the same amount a few days apart are imported and listed, never dropped.
- Transfers: an amount leaving one of the user's accounts and arriving in
  another within a few days is marked only with enough evidence (see
  `match_transfers`); a weaker pair is listed as a possible transfer.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol
from datetime import date as Date, timedelta

from ..merchant import normalize

PENDING_WINDOW_DAYS = 5
TIP_RATIO = 1.35
NEAR_DUPLICATE_DAYS = 3
TRANSFER_WINDOW_DAYS = 4
_TRANSFER_HINT = re.compile(
    r"payment|transfer|xfer|thank you|autopay|auto pay|card ?pay|credit card|überweisung|umbuchung|"
    r"overboeking|virement|traspaso|savings|withdrawal to|deposit from|to account|from account|"
    r"\b(?:to|from) a/c\b", re.I)
# paying a card's statement, as the card's own export prints it
_CARD_PAYMENT = re.compile(r"payment,? thank you|thank you for your payment|autopay|auto pay|payment received|"
                           r"card ?payment|direct debit payment", re.I)
# person-to-person services: money to or from someone else, not between the user's own accounts
_PERSON_TO_PERSON = re.compile(r"\b(?:zelle|venmo|cash ?app|paypal|revolut|bizum|tikkie|twint|swish|"
                               r"paylib|lydia|satispay|blik)\b", re.I)
CARD_PURCHASE_SHARE = 0.7       # an account this much of whose other rows are charges is a card


def short_hash(*parts: str, size: int = 8) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=size).hexdigest()


def row_keys(account: str, rows) -> list[str]:
    """The dedup key of each row; identical rows in one file get increasing occurrence numbers.

    A pending row's key differs from its posted version's, so that the posted
    row always gets its own id whichever export is imported first.
    """
    seen: dict[str, int] = defaultdict(int)
    keys = []
    for row in rows:
        if row.bank_id:
            base = short_hash(account, "id", row.bank_id, "pending" if row.pending else "", size=10)
        else:
            base = short_hash(account, row.date, str(row.amount), row.currency,
                              " ".join(row.description.casefold().split()), "pending" if row.pending else "",
                              size=10)
        occurrence = seen[base]
        seen[base] += 1
        keys.append(base if occurrence == 0 else short_hash(base, str(occurrence), size=10))
    return keys


def transaction_id(key: str) -> str:
    """A transaction's id: its key (which already names the account), shortened."""
    return key[:16]


def _days(a: str, b: str) -> int:
    return (Date.fromisoformat(a) - Date.fromisoformat(b)).days


def _same_merchant(a: str, b: str) -> bool:
    ma, mb = normalize(a), normalize(b)
    if ma == mb:
        return True
    wa, wb = set(ma.split()), set(mb.split())
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.5


def _tip_compatible(pending: int, posted: int) -> bool:
    if pending == posted:
        return True
    if (pending < 0) != (posted < 0) or pending == 0:
        return False
    return abs(pending) <= abs(posted) <= abs(pending) * TIP_RATIO


def _posts(pending, posted) -> bool:
    """Whether `posted` is the booked version of `pending`: a few days later, same merchant, maybe a tip."""
    return (0 <= _days(posted.date, pending.date) <= PENDING_WINDOW_DAYS
            and _tip_compatible(pending.amount, posted.amount)
            and _same_merchant(pending.description, posted.description))


@dataclass
class Existing:
    id: str
    date: str
    amount: int
    description: str
    pending: bool
    key: str


class NewRow(Protocol):
    """A parsed row about to be imported (the importer's prepared rows have these fields)."""
    id: str
    key: str
    date: str
    amount: int
    description: str
    pending: bool


@dataclass
class Plan:
    add: list[NewRow] = field(default_factory=list)
    already_present: int = 0
    posted: list[tuple[str, str]] = field(default_factory=list)            # (posted id, pending id)
    pending_already_posted: list[tuple[str, str]] = field(default_factory=list)  # (skipped row id, posted id)
    possible_duplicates: list[tuple[str, str]] = field(default_factory=list)      # (new id, existing id)


def plan(rows: list[NewRow], existing: list[Existing], covered: tuple[str, str] | None) -> Plan:
    """Decide, for one file's rows, what is new, what is already known, and what matches what.

    `existing` are the account's live transactions around the file's dates;
    `covered` is the date range that earlier imports of the account covered.
    """
    result = Plan()
    by_key: dict[str, Existing] = {e.key: e for e in existing}
    matched_existing: set[str] = set()
    fresh: list[NewRow] = []
    for row in rows:
        known = by_key.get(row.key)
        if known is None:
            fresh.append(row)
            continue
        matched_existing.add(known.id)
        result.already_present += 1

    open_pending = [e for e in existing if e.pending and e.id not in matched_existing]
    posted_targets = [e for e in existing if not e.pending and e.id not in matched_existing]
    for row in fresh:
        if not row.pending:
            match = _closest(open_pending, lambda p: _posts(p, row), row)
            if match:
                open_pending.remove(match)
                matched_existing.add(match.id)
                result.add.append(row)
                result.posted.append((row.id, match.id))
                continue
        else:
            match = _closest(posted_targets, lambda p: _posts(row, p), row)
            if match:
                posted_targets.remove(match)
                matched_existing.add(match.id)
                result.pending_already_posted.append((row.id, match.id))
                continue
        result.add.append(row)

    if covered and rows:
        lo = max(covered[0], min(r.date for r in rows))
        hi = min(covered[1], max(r.date for r in rows))
        slack = timedelta(days=NEAR_DUPLICATE_DAYS)      # a bank may move a row's date a little
        wide_lo = (Date.fromisoformat(lo) - slack).isoformat()
        wide_hi = (Date.fromisoformat(hi) + slack).isoformat()
        leftovers = [e for e in existing if e.id not in matched_existing and wide_lo <= e.date <= wide_hi]
        posted_ids = {new for new, _ in result.posted}
        for row in result.add:
            if row.id in posted_ids or not lo <= row.date <= hi:
                continue
            match = _closest(leftovers, lambda e: e.amount == row.amount
                             and abs(_days(row.date, e.date)) <= NEAR_DUPLICATE_DAYS, row)
            if match:
                leftovers.remove(match)
                result.possible_duplicates.append((row.id, match.id))
    return result


def _closest(candidates: list[Existing], fits, row: NewRow) -> Existing | None:
    best = [c for c in candidates if fits(c)]
    if not best:
        return None
    return min(best, key=lambda c: (abs(_days(row.date, c.date)), abs(c.amount - row.amount), c.id))


@dataclass
class Leg:
    id: str
    account: str
    date: str
    amount: int
    currency: str
    description: str


@dataclass
class TransferContext:
    """What the workspace knows beyond the two legs: which accounts pair and which are cards."""
    known_pairs: set[frozenset[str]] = field(default_factory=set)  # account pairs with confirmed transfers
    cards: set[str] = field(default_factory=set)                  # accounts whose rows are mostly purchases


def names_account(description: str, account: str) -> bool:
    """Whether a description names the account: a word of its name, or the last digits of its number."""
    for token in re.findall(r"[^\W_]+", account):
        if token.isdigit():
            if len(token) >= 3 and re.search(rf"(?<!\d){re.escape(token[-4:])}(?!\d)", description):
                return True
        elif len(token) >= 3 and re.search(rf"\b{re.escape(token)}\b", description, re.I):
            return True
    return False


def _transfer_worded(leg: Leg, other_account: str) -> bool:
    """A transfer word in the leg's own description; a person-to-person one counts only if it names the account."""
    if not _TRANSFER_HINT.search(leg.description):
        return False
    return not _PERSON_TO_PERSON.search(leg.description) or names_account(leg.description, other_account)


def _evidence(a: Leg, b: Leg, context: TransferContext) -> str | None:
    """Why a and b are the two legs of one transfer between the user's accounts, or None."""
    if names_account(a.description, b.account) or names_account(b.description, a.account):
        return "names the other account"
    if frozenset((a.account, b.account)) in context.known_pairs:
        return "accounts with earlier transfers"
    for leg in (a, b):
        if leg.amount > 0 and leg.account in context.cards and _CARD_PAYMENT.search(leg.description):
            return "card payment"
    return None


def match_transfers(new: list[Leg], others: list[Leg], context: TransferContext | None = None
                    ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Transfer pairs (out id, in id), and possible ones (out id, in id, reason) that are listed, not marked.

    A pair is the same amount leaving one account and entering another within
    TRANSFER_WINDOW_DAYS, with a transfer word on both legs. It is marked when it is
    the only such pair for either leg and there is more: a leg names the other
    account, the two accounts have had confirmed transfers before, or a leg is a card
    payment on a card account. Otherwise it is a possible transfer.
    """
    context = context or TransferContext()
    legs = new + [o for o in others if o.id not in {n.id for n in new}]
    by_amount: dict[tuple[int, str], list[Leg]] = defaultdict(list)
    for leg in legs:
        by_amount[(leg.amount, leg.currency)].append(leg)

    def candidates(leg: Leg) -> list[Leg]:
        return [o for o in by_amount.get((-leg.amount, leg.currency), [])
                if o.account != leg.account and abs(_days(o.date, leg.date)) <= TRANSFER_WINDOW_DAYS
                and _transfer_worded(leg, o.account) and _transfer_worded(o, leg.account)]

    pairs, possible = [], []
    used: set[str] = set()
    seen: set[frozenset[str]] = set()
    for leg in new:
        if leg.amount == 0 or leg.id in used:
            continue
        found = [o for o in candidates(leg) if o.id not in used]
        for other in found:
            pair = frozenset((leg.id, other.id))
            if pair in seen:
                continue
            seen.add(pair)
            out_in = (leg.id, other.id) if leg.amount < 0 else (other.id, leg.id)
            rivals = len(found) + len([c for c in candidates(other) if c.id not in used]) - 2
            why = _evidence(leg, other, context)
            if rivals == 0 and why:
                used.update(pair)
                pairs.append(out_in)
            else:
                possible.append((*out_in, f"{rivals + 1} candidates" if rivals else "no evidence beyond the words"))
    return pairs, possible
