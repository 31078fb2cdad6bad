"""The fraud signals: per-transaction features computed as of the transaction's knowledge cutoff.

Each signal is a feature of the catalogue (catalog.FRAUD_SIGNALS, owner fraud). Like every
history feature (pit.py), a signal sees only rows of the materialized history that are
before the anchor in (date, seq) order and visible at its cutoff (visible_from <= cutoff <
visible_until): a statement imported later never changes it. The realtime scoring path
and `fin fraud --rescore` call the same `signals` function, with the same cutoffs (the
import that brought the transaction in), so an alert's features are its training row.

All anchors known at one cutoff are computed in one pass over the history visible at that
cutoff, in (day, seq) order, keeping each merchant's and account's running state (sorted
windows, so a million rows take seconds, not hours). A merchant's usual charge is the median
of its last MERCHANT_LAST charges; account aggregates look back ACCOUNT_DAYS.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from collections import deque
from itertools import islice


ACCOUNT_DAYS = 120              # the account's usual spending: its charges of the last 120 days
REPEAT_DAYS = 3                 # the same merchant and amount again within 3 days: a possible duplicate
# two-letter country codes that are not also US state or territory codes (a trailing "CA" is California)
COUNTRIES = frozenset(
    "AE AR AT AU BE BG BR CH CN CO CZ DK EG ES FI FR GB GR HK HR HU ID IE IL IT JP KE KR "
    "LK LT LU LV MX MY NG NL NO NZ PE PH PK PL PT QA RO RS RU SA SE SG SK TH TR TW UA VN ZA".split())


def country_of(description: str) -> str | None:
    """The foreign country a card description ends with ("... PARIS FR" -> FR), else None: its last
    two characters before trailing spaces, when they are a word of their own."""
    text = description.upper().rstrip()
    code = text[-2:]
    if code not in COUNTRIES or len(text) > 2 and (text[-3].isalnum() or text[-3] == "_"):
        return None
    return code


MERCHANT_LAST = 50              # the merchant's usual charge: the median of its last 50 charges
CURRENCY_MIN_ROWS = 20          # fewer rows in the account's last year: no usual currency (currency_share null)
# the fee line a bank adds after a charge in another currency
FX_FEE = re.compile(r"FOREIGN\s+TRANSACTION\s+FEE|\bFX\s+FEE|AUSLANDSEINSATZ|FREMDW(?:Ä|AE)HRUNGSGEB(?:Ü|UE)HR|"
                    r"NON[-\s]?STERLING|INT(?:ERNATIONA)?L\.?\s+TRANSACTION\s+FEE|CURRENCY\s+CONVERSION\s+FEE",
                    re.IGNORECASE)


def is_fx_fee(description: str) -> bool:
    """A bank's foreign-transaction fee line ("FOREIGN TRANSACTION FEE", "Auslandseinsatzentgelt", ...)."""
    low = description.lower()          # every FX_FEE text holds one of these: most descriptions skip the regex
    return ("fee" in low or "ausland" in low or "fremdw" in low or "sterling" in low) \
        and FX_FEE.search(description) is not None


class Signals:
    """The materialized history, loaded once per run: one tuple per visibility interval, in (day, seq) order."""

    def __init__(self, conn):
        from .pit import INFINITE

        self.rows = [(day, seq, vfrom, vuntil, amount, merchant, account, country_of(description), currency, name)
                     for day, seq, vfrom, vuntil, amount, merchant, account, description, currency, name in conn.execute(
                         f"SELECT day, seq, visible_from, coalesce(visible_until, {INFINITE}), amount, merchant_group,"
                         " account_group, description, currency, account FROM feature_txns"
                         " ORDER BY day, seq, visible_from")]


def _sorted_median(ordered: list) -> float:
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def _percentile(ordered: list, q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


class _Merchant:
    __slots__ = ("count", "last", "ordered", "repeats", "first_big_day")

    def __init__(self):
        self.count = 0                      # earlier charges
        self.last: deque = deque(maxlen=MERCHANT_LAST)   # (day, charge) of the latest charges
        self.ordered: list[int] = []        # the same charges, sorted
        self.repeats = 0                    # earlier charges equal to one of the 5 before, at most 3 days later
        self.first_big_day: int | None = None    # the first day of a charge at or above the small limit


class _Account:
    __slots__ = ("charges", "window", "day_counts", "counts", "today", "today_n", "small", "year", "countries",
                 "forgot")

    def __init__(self):
        self.charges: list[int] = []        # sorted charges of the last ACCOUNT_DAYS
        self.window: deque = deque()        # (day, charge) behind `charges`, oldest first
        self.day_counts: deque = deque()    # (day, charges that day) of finished days in the window
        self.counts: list[int] = []         # sorted counts behind `day_counts`
        self.today = None                   # the day being counted, and its charges so far
        self.today_n = 0
        self.small: deque = deque()         # (day, merchant) of small charges, the last 2 days
        self.year: deque = deque()          # (day, country) of every row of the last 365 days
        self.countries: dict = {}
        self.forgot = None                  # the day of the last forget_before: days never go back

    def forget_before(self, day: int) -> None:
        """Drop what falls out of the windows as of `day`, and close the days before it."""
        if day == self.forgot:
            return
        self.forgot = day
        if self.today is not None and self.today < day:
            if self.today_n:
                self.day_counts.append((self.today, self.today_n))
                insort(self.counts, self.today_n)
            self.today, self.today_n = day, 0
        elif self.today is None:
            self.today = day
        while self.window and self.window[0][0] < day - ACCOUNT_DAYS:
            del self.charges[bisect_left(self.charges, self.window.popleft()[1])]
        while self.day_counts and self.day_counts[0][0] < day - ACCOUNT_DAYS:
            del self.counts[bisect_left(self.counts, self.day_counts.popleft()[1])]
        while self.small and self.small[0][0] < day - 1:
            self.small.popleft()
        while self.year and self.year[0][0] < day - 365:
            country = self.year.popleft()[1]
            self.countries[country] -= 1


class _Currencies:
    """The currencies of an account's rows (by account name, every currency) over the last 365 days."""
    __slots__ = ("year", "counts")

    def __init__(self):
        self.year: deque = deque()
        self.counts: dict = {}

    def forget_before(self, day: int) -> None:
        while self.year and self.year[0][0] < day - 365:
            self.counts[self.year.popleft()[1]] -= 1

    def add(self, day: int, currency: str) -> None:
        self.year.append((day, currency))
        self.counts[currency] = self.counts.get(currency, 0) + 1

    def share(self, currency: str) -> float | None:
        return round(self.counts.get(currency, 0) / len(self.year), 4) if len(self.year) >= CURRENCY_MIN_ROWS \
            else None


def _signal_row(m: _Merchant, a: _Account, merchants: dict, day: int, amount: int, country: str | None,
                small_limit: int) -> dict:
    """Every fraud signal of one anchor, from the state of its merchant and account just before it."""
    charge = -amount if amount < 0 else 0
    if m.count:
        amounts = m.ordered
        med = _sorted_median(amounts)
        iqr = amounts[3 * len(amounts) // 4] - amounts[len(amounts) // 4]
        spread = max(0.7413 * iqr, 0.1 * med, 100.0)        # the floor keeps fixed-price merchants sane
        median, ratio = round(float(med), 4), round(charge / med, 4) if med else None
        robust_z, repeat_rate = round((charge - med) / spread, 4), round(m.repeats / m.count, 4)
    else:
        median = ratio = robust_z = repeat_rate = None
    recent = 0
    if charge:
        for d, c in reversed(m.last):
            if day - d > REPEAT_DAYS:
                break
            recent += c == charge
    # small charges since yesterday at merchants with no charge at or above the limit before yesterday
    # (a card tester may come back to the same shop), the anchor included when it is one
    fresh_since = day - 1
    first_big = m.first_big_day
    merchant_new = first_big is None or first_big >= fresh_since
    small_new = 0
    for _, merchant in a.small:
        first_big = merchants[merchant].first_big_day
        small_new += first_big is None or first_big >= fresh_since
    charges, counts = a.charges, a.counts
    return {
        "charge": charge, "merchant_charges": m.count, "merchant_median": median, "merchant_ratio": ratio,
        "merchant_robust_z": robust_z, "merchant_repeat_rate": repeat_rate, "same_charge_recent": recent,
        "account_charges": len(charges),
        "account_median_charge": round(float(_sorted_median(charges)), 4) if charges else None,
        "account_p95_charge": _percentile(charges, 0.95) if charges else None,
        "account_daily_p95": _percentile(counts, 0.95) if counts else None,
        "charges_today": 1 + (a.today_n if a.today == day else 0) if charge else 0,
        "merchant_new": merchant_new,
        "small_new_1d": small_new + bool(charge and charge < small_limit and merchant_new),
        "country": country,
        "country_share": None if country is None else
        round(a.countries.get(country, 0) / len(a.year), 4) if a.year else 0.0,
    }


def _add(m: _Merchant, a: _Account, row: tuple, small_limit: int) -> None:
    """Take one visible history row into its merchant's and account's state."""
    day, _seq, _vf, _vu, amount, merchant, _account, country, _currency, _name = row
    a.year.append((day, country))
    a.countries[country] = a.countries.get(country, 0) + 1
    if amount >= 0:
        return
    charge = -amount
    for d, c in islice(reversed(m.last), 5):
        if c == charge and day - d <= REPEAT_DAYS:
            m.repeats += 1
            break
    m.count += 1
    if len(m.last) == MERCHANT_LAST:
        del m.ordered[bisect_left(m.ordered, m.last[0][1])]
    m.last.append((day, charge))
    insort(m.ordered, charge)
    if charge >= small_limit and m.first_big_day is None:
        m.first_big_day = day
    insort(a.charges, charge)
    a.window.append((day, charge))
    a.today_n += 1
    if charge < small_limit:
        a.small.append((day, merchant))


def _sweep(data: Signals, cutoff: int, anchors: list[tuple], limits: dict[int, int]) -> dict:
    """The signals of anchors (day, seq, amount, merchant, account, country, index), all known at `cutoff`:
    one pass over the rows visible at the cutoff, each anchor taken just before the rows at or after it."""
    merchants: dict[int, _Merchant] = {}
    accounts: dict[int, _Account] = {}
    currencies: dict[str, _Currencies] = {}
    out: dict = {}
    anchors = sorted(anchors, key=lambda a: (a[0], a[1]))
    # rows are (day, seq, visible_from, ...) tuples: comparing a row with (day, seq, ±inf) compares its
    # (day, seq) without making a tuple per row
    after_last = (anchors[-1][0], anchors[-1][1], math.inf)
    starts = [(a[0], a[1], -math.inf) for a in anchors]
    k = 0
    for row in data.rows:
        if row > after_last:
            break
        while k < len(anchors) and not row < starts[k]:
            k = _take(anchors[k], merchants, accounts, currencies, limits, out, k)
        if not row[2] <= cutoff < row[3]:
            continue
        c = currencies.get(row[9]) or currencies.setdefault(row[9], _Currencies())
        c.forget_before(row[0])
        c.add(row[0], row[8])
        m = merchants.get(row[5]) or merchants.setdefault(row[5], _Merchant())
        a = accounts.get(row[6]) or accounts.setdefault(row[6], _Account())
        a.forget_before(row[0])
        _add(m, a, row, limits.get(row[5], 0))
    while k < len(anchors):
        k = _take(anchors[k], merchants, accounts, currencies, limits, out, k)
    return out


def _take(anchor: tuple, merchants: dict, accounts: dict, currencies: dict, limits: dict, out: dict, k: int) -> int:
    day, _seq, amount, merchant, account, country, index, currency, name, fee = anchor
    m = merchants.get(merchant) or merchants.setdefault(merchant, _Merchant())
    a = accounts.get(account) or accounts.setdefault(account, _Account())
    a.forget_before(day)
    out[index] = row = _signal_row(m, a, merchants, day, amount, country, limits.get(merchant, 0))
    c = currencies.get(name) or currencies.setdefault(name, _Currencies())
    c.forget_before(day)
    row["currency_share"] = c.share(currency)
    row["fx_fee"] = int(fee)
    return k + 1


def signals(conn, txn_ids: list[str], cutoffs: list[int | None] | None = None, data: Signals | None = None) -> list[dict]:
    """The signals of each transaction as of its cutoff (None: the import that brought it in)."""
    return signals_and_references(conn, txn_ids, cutoffs, data)[0]


def signals_and_references(conn, txn_ids: list[str], cutoffs: list[int | None] | None = None,
                           data: Signals | None = None, references: int = 0) -> tuple[list[dict], dict[int, list]]:
    """signals(), and for each cutoff the signals of up to `references` charges known at it and imported
    before the first of its transactions (the latest first): what was usual then, computed in the same pass."""
    from .pit import INFINITE, _small_limit, load_groups, resolve
    from ..store import log as ev

    head = ev.head(conn)[0]
    groups = load_groups(conn)
    anchors, cut = resolve(conn, groups, txn_ids, [head] * len(txn_ids), head, cutoffs)
    data = data or Signals(conn)
    limits = {code: _small_limit(currency) for code, (_name, currency) in enumerate(groups["merchant"])}
    by_cutoff: dict[int, list[tuple]] = {}
    # numpy columns as lists once: reading a numpy array one item at a time is slow
    found, cuts, days, seqs, amounts, merchants, accounts = (
        list(column) if isinstance(column, list) else column.tolist() for column in (
            anchors.found, cut, anchors.day, anchors.seq, anchors.amount, anchors.merchant_group,
            anchors.account_group))
    for i in range(len(txn_ids)):
        if found[i]:
            by_cutoff.setdefault(cuts[i], []).append(
                (days[i], seqs[i], amounts[i], merchants[i], accounts[i], country_of(anchors.description[i]), i,
                 anchors.currency[i], anchors.account[i], is_fx_fee(anchors.description[i])))
    rows: dict = {}
    refs: dict[int, list] = {}
    for cutoff, batch in by_cutoff.items():
        extra = []
        if references:
            first = min(a[1] for a in batch)
            extra = [(day, seq, amount, merchant, account, country_of(description), ("ref", cutoff, seq), currency,
                      name, is_fx_fee(description))
                     for day, seq, amount, merchant, account, description, currency, name in conn.execute(
                         "SELECT day, seq, amount, merchant_group, account_group, description, currency, account"
                         " FROM feature_txns"
                         f" WHERE amount < 0 AND visible_from <= ? AND coalesce(visible_until, {INFINITE}) > ?"
                         " AND seq < ? ORDER BY day DESC, seq DESC LIMIT ?", (cutoff, cutoff, first, references))]
        rows.update(_sweep(data, cutoff, batch + extra, limits))
        refs[cutoff] = [{"cutoff": cutoff, "seq": a[1], "amount": a[2], **rows.pop(a[6])} for a in extra]
    out = []
    for i, txn_id in enumerate(txn_ids):
        if not found[i]:
            out.append({"id": txn_id})
            continue
        out.append({"id": txn_id, "cutoff": cuts[i], "seq": seqs[i], "account": anchors.account[i],
                    "date": anchors.date[i], "amount": amounts[i], "currency": anchors.currency[i],
                    "merchant": anchors.merchant[i], **rows[i]})
    return out, refs
