"""The fraud signals: per-transaction features computed as of the transaction's knowledge cutoff.

Each signal is a feature of the catalogue (catalog.FRAUD_SIGNALS, owner fraud). Like every
history feature (pit.py), a signal sees only rows of the materialized history that are
before the anchor in (date, seq) order and visible at its cutoff (visible_from <= cutoff <
visible_until): a statement imported later never changes it. The realtime scoring path
and `fin fraud --rescore` call the same `signals` function, with the same cutoffs (the
import that brought the transaction in), so an alert's features are its training row.

The history is grouped once per merchant+currency and account+currency (the feature
store's group codes); each anchor takes its prefix by binary search and filters it by
visibility. Account aggregates look back ACCOUNT_DAYS only.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from statistics import median

from .catalog import SMALL_CHARGE

ACCOUNT_DAYS = 120              # the account's usual spending: its charges of the last 120 days
REPEAT_DAYS = 3                 # the same merchant and amount again within 3 days: a possible duplicate
_COUNTRY = re.compile(r"\b([A-Z]{2})\s*$")
# two-letter country codes that are not also US state or territory codes (a trailing "CA" is California)
COUNTRIES = frozenset(
    "AE AR AT AU BE BG BR CH CN CO CZ DK EG ES FI FR GB GR HK HR HU ID IE IL IT JP KE KR "
    "LK LT LU LV MX MY NG NL NO NZ PE PH PK PL PT QA RO RS RU SA SE SG SK TH TR TW UA VN ZA".split())


def country_of(description: str) -> str | None:
    """The foreign country a card description ends with ("... PARIS FR" -> FR), else None."""
    match = _COUNTRY.search(description.upper())
    return match.group(1) if match and match.group(1) in COUNTRIES else None


@dataclass
class _Row:
    day: int
    seq: int
    vfrom: int
    vuntil: int
    amount: int
    merchant: int
    country: str | None

    def seen(self, cutoff: int) -> bool:
        return self.vfrom <= cutoff < self.vuntil


class Signals:
    """The materialized history, grouped for the signals; one load per run."""

    def __init__(self, conn):
        from .pit import INFINITE

        self.by_merchant: dict[int, list[_Row]] = {}
        self.by_account: dict[int, list[_Row]] = {}
        rows = conn.execute(
            f"SELECT day, seq, visible_from, coalesce(visible_until, {INFINITE}), amount, merchant_group,"
            " account_group, description FROM feature_txns ORDER BY day, seq, visible_from").fetchall()
        for day, seq, vfrom, vuntil, amount, merchant, account, description in rows:
            row = _Row(day, seq, vfrom, vuntil, amount, merchant, country_of(description))
            self.by_merchant.setdefault(merchant, []).append(row)
            self.by_account.setdefault(account, []).append(row)
        self.keys_m = {k: [(r.day, r.seq) for r in v] for k, v in self.by_merchant.items()}
        self.keys_a = {k: [(r.day, r.seq) for r in v] for k, v in self.by_account.items()}

    def before(self, kind: str, group: int, day: int, seq: int, cutoff: int, since: int | None = None) -> list[_Row]:
        """Rows of a group before (day, seq), visible at cutoff; from day `since` on when given."""
        rows = (self.by_merchant if kind == "m" else self.by_account).get(group, [])
        keys = (self.keys_m if kind == "m" else self.keys_a).get(group, [])
        end = bisect_left(keys, (day, seq))
        start = bisect_left(keys, (since, -1)) if since is not None else 0
        return [r for r in rows[start:end] if r.seen(cutoff)]


def _percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def signal_row(data: Signals, day: int, seq: int, amount: int, merchant: int, account: int, description: str,
               cutoff: int, small_limit: int) -> dict:
    """Every fraud signal of one anchor (money in minor units; a charge counted as a positive amount)."""
    charge = -amount if amount < 0 else 0
    m_rows = [r for r in data.before("m", merchant, day, seq, cutoff) if r.amount < 0]
    m_amounts = [-r.amount for r in m_rows]
    a_rows = data.before("a", account, day, seq, cutoff, since=day - ACCOUNT_DAYS)
    a_charges = [-r.amount for r in a_rows if r.amount < 0]
    out: dict = {"charge": charge, "merchant_charges": len(m_amounts)}
    if m_amounts:
        med = median(m_amounts)
        mad = median(abs(a - med) for a in m_amounts)
        spread = max(1.4826 * mad, 0.1 * med, 100.0)        # the floor keeps fixed-price merchants sane
        out["merchant_median"] = round(float(med), 4)
        out["merchant_ratio"] = round(charge / med, 4) if med else None
        out["merchant_robust_z"] = round((charge - med) / spread, 4)
        repeats = sum(1 for i, r in enumerate(m_rows)
                      if any(p.amount == r.amount and r.day - p.day <= REPEAT_DAYS for p in m_rows[max(0, i - 5):i]))
        out["merchant_repeat_rate"] = round(repeats / len(m_rows), 4)
    else:
        out.update(merchant_median=None, merchant_ratio=None, merchant_robust_z=None, merchant_repeat_rate=None)
    out["same_charge_recent"] = sum(1 for r in m_rows if -r.amount == charge and day - r.day <= REPEAT_DAYS) \
        if charge else 0
    out["account_charges"] = len(a_charges)
    out["account_median_charge"] = round(float(median(a_charges)), 4) if a_charges else None
    out["account_p95_charge"] = _percentile(a_charges, 0.95) if a_charges else None
    per_day: dict[int, int] = {}
    for r in a_rows:
        if r.amount < 0 and r.day < day:
            per_day[r.day] = per_day.get(r.day, 0) + 1
    out["account_daily_p95"] = _percentile(list(per_day.values()), 0.95) if per_day else None
    out["charges_today"] = 1 + sum(1 for r in a_rows if r.day == day and r.amount < 0) if charge else 0
    # small charges of the last day at merchants the account had not used before that day (but for small charges)
    small_new = 0
    for r in a_rows:
        if r.day >= day - 1 and r.amount < 0 and -r.amount < small_limit:
            earlier = data.before("m", r.merchant, day - 1, -1, cutoff)
            small_new += all(-e.amount < small_limit for e in earlier)
    # never used before yesterday, but for small charges (a card tester may come back to the same shop)
    out["merchant_new"] = all(-r.amount < small_limit for r in m_rows if r.day < day - 1)
    is_small_new = bool(charge and charge < small_limit and out["merchant_new"])
    out["small_new_1d"] = small_new + is_small_new
    country = country_of(description)
    out["country"] = country
    if country is None:
        out["country_share"] = None
    else:
        year = data.before("a", account, day, seq, cutoff, since=day - 365)
        out["country_share"] = round(sum(1 for r in year if r.country == country) / len(year), 4) if year else 0.0
    return out


def signals(conn, txn_ids: list[str], cutoffs: list[int | None] | None = None, data: Signals | None = None) -> list[dict]:
    """The signals of each transaction as of its cutoff (None: the import that brought it in)."""
    from .pit import _small_limit, load_groups, resolve
    from ..store import log as ev

    head = ev.head(conn)[0]
    groups = load_groups(conn)
    anchors, cut = resolve(conn, groups, txn_ids, [head] * len(txn_ids), head, cutoffs)
    data = data or Signals(conn)
    out = []
    for i, txn_id in enumerate(txn_ids):
        if not anchors.found[i]:
            out.append({"id": txn_id})
            continue
        row = signal_row(data, int(anchors.day[i]), int(anchors.seq[i]), int(anchors.amount[i]),
                         int(anchors.merchant_group[i]), int(anchors.account_group[i]), anchors.description[i],
                         int(cut[i]), _small_limit(anchors.currency[i]))
        out.append({"id": txn_id, "cutoff": int(cut[i]), "seq": int(anchors.seq[i]), "account": anchors.account[i],
                    "date": anchors.date[i], "amount": int(anchors.amount[i]), "currency": anchors.currency[i],
                    "merchant": anchors.merchant[i], **row})
    return out
