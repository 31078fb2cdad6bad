"""bills: recurring streams (bills out, income in) found in the whole history.

Rows: one per (account, merchant, currency, direction) group of every live, posted transaction
that is not a transfer between the user's own accounts: ``[account, merchant, merchant_name,
currency, charges, description]``, where charges are the group's charges joined by ``SEP`` in
no particular order (a million transactions travel as a few thousand strings), each charge its
date ("YYYY-MM-DD"), id, amount (an integer, minor units, negative is money out) and category
joined by ``FIELD``, and description is the charge's text when the group holds one charge (for
a yearly bill seen once). There is no model file: ``train`` is the detection
itself and returns ``{"streams": [...]}``, each stream with its frequency, its transactions,
the rule its dates follow, the predicted next dates and amount, its status as of the last date
of its account, and its alerts.

How a stream is found, per (account, merchant, currency, direction):
1. the whole group is tried as one chain of charges at a frequency (weekly … yearly): each
   next charge is the one closest to the expected date within that frequency's window, one
   missed period may be skipped; a chain is kept when it covers most of the group's charges
   (a coffee shop visited three times a week is not a weekly bill);
2. otherwise (or for what is left) the group is split where its sorted amounts jump by more
   than 15%, and each amount cluster is tried the same way, so one merchant can hold several
   streams; clusters of the same frequency that follow each other in time are one stream whose
   price changed.
A group of one charge is an early yearly stream when its text says it renews yearly
(``YEARLY_WORDS``). Before any chain search a set must pass ``may_chain``, one numpy pass that
rules out sets no frequency could chain enough of (most everyday shopping).
Calendar frequencies (semi-monthly and up) predict their next date from the day-of-month rule
that explains most charges exactly: day D as is, moved to the next or the previous business
day, the last business day or the last day of the month.
"""

from __future__ import annotations

import bisect
import calendar
import re
import statistics
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

# frequency: (period in days, window half-width in days, months per step or 0)
FREQUENCIES = {
    "weekly": (7, 2, 0),
    "biweekly": (14, 3, 0),              # ±3: pay due on a Monday holiday comes the Friday before
    "semimonthly": (15.2, 4, 0),
    "monthly": (30.44, 4, 1),
    "quarterly": (91.3, 8, 3),
    "semiannual": (182.6, 12, 6),
    "yearly": (365.25, 16, 12),
}
WINDOW = {"weekly": 2, "biweekly": 2, "semimonthly": 3, "monthly": 3, "quarterly": 7, "semiannual": 10,
          "yearly": 14}
MIN_COVER = 0.6              # a chain must hold this share of its group's charges
SPLIT_GAP = 0.15             # amount clusters split where sorted amounts jump by more than this
FIXED_SHARE = 0.8            # fixed: at least this share of consecutive charges are equal
# one charge is enough for an early yearly bill when its text says it renews once a year
YEARLY_WORDS = re.compile(r"(?<!semi)(?<!bi)annual|yearly|\bper year\b|\b(?:12|twelve)[- ]month|jährlich|jaehrlich"
                          r"|jahresbeitrag|jahresgeb(?:ü|ue)hr|jahresabo|membership renewal|renewal fee", re.IGNORECASE)
RECENT_DAYS = 45             # alerts older than this (before the as-of date) are history, not news
UPCOMING = 13


@lru_cache(maxsize=None)
def _d(text: str) -> date:
    """A date, parsed once: a history holds a few thousand dates."""
    return date.fromisoformat(text)


def _next_bd(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _prev_bd(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _last_d(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _month_d(y: int, m: int, day: int) -> date:
    return date(y, m, min(day, calendar.monthrange(y, m)[1]))


def _rule_date(rule: tuple, y: int, m: int) -> date:
    kind, day = rule
    if kind == "last_bd":
        return _prev_bd(_last_d(y, m))
    if kind == "last_day":
        return _last_d(y, m)
    base = _month_d(y, m, day)
    return {"day": base, "next_bd": _next_bd(base), "prev_bd": _prev_bd(base)}[kind]


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    n = y * 12 + (m - 1) + k
    return n // 12, n % 12 + 1


def _best_rule(dates: list[date]) -> tuple[tuple, int]:
    """The day-of-month rule that explains most dates exactly, and its largest miss in days."""
    days = sorted({d.day for d in dates}, key=lambda x: -sum(1 for d in dates if d.day == x))[:4]
    rules = [(k, day) for day in days for k in ("day", "next_bd", "prev_bd")] + [("last_bd", 0), ("last_day", 0)]
    best, best_hits = rules[0], -1
    for rule in rules:
        hits = sum(1 for d in dates if _rule_date(rule, d.year, d.month) == d)
        if hits > best_hits:
            best, best_hits = rule, hits
    miss = max(abs((_rule_date(best, d.year, d.month) - d).days) for d in dates)
    return best, miss


# --- chains ----------------------------------------------------------------------------------

def _chain(ords: list[int], start: int, period: float, tol: int) -> list[int]:
    """Indices of a chain from `start`: each next charge the closest to last + period (then + 2 periods)."""
    chain = [start]
    while True:
        last = ords[chain[-1]]
        found = None
        for k in (1, 2):
            target = last + period * k
            lo = bisect.bisect_left(ords, target - tol * k, chain[-1] + 1)
            hi = bisect.bisect_right(ords, target + tol * k)
            if lo < hi:
                found = min(range(lo, hi), key=lambda i: abs(ords[i] - target))
                break
        if found is None:
            return chain
        chain.append(found)


def _semimonthly_ok(dates: list[date]) -> bool:
    """Twice a month at two anchors, not every other week on the same weekday."""
    gaps = [(b - a).days for a, b in zip(dates, dates[1:])]
    if gaps and sum(1 for g in gaps if g == 14) >= 0.8 * len(gaps):
        return False
    months = {}
    for d in dates:
        months[(d.year, d.month)] = months.get((d.year, d.month), 0) + 1
    return sum(1 for n in months.values() if n == 2) >= 0.6 * len(months)


def best_chain(dates: list[date]) -> tuple[str, list[int]] | None:
    """The frequency and chain that cover most of these (sorted) dates, or None."""
    best = None
    n = len(dates)
    span = (dates[-1] - dates[0]).days if n else 0
    ords = [d.toordinal() for d in dates]
    for freq, (period, tol, _) in FREQUENCIES.items():
        if MIN_COVER * n > span / max(period - tol, 1) + 1:
            continue                        # too many charges for this frequency to hold most of them
        for start in range(min(n, 4)):
            chain = _chain(ords, start, period, tol)
            if len(chain) < 2:
                continue
            if freq == "semimonthly" and not _semimonthly_ok([dates[i] for i in chain]):
                continue
            if freq in ("weekly", "biweekly"):
                gaps = [(dates[b] - dates[a]).days for a, b in zip(chain, chain[1:])]
                if freq == "biweekly" and sum(1 for g in gaps if 11 <= g <= 17) < 0.8 * len(gaps):
                    continue
                if freq == "weekly" and sum(1 for g in gaps if g <= 10) < 0.5 * len(gaps):
                    continue                # mostly two weeks apart: biweekly, with a charge moved early
            covered = (dates[chain[-1]] - dates[chain[0]]).days
            slots = round(covered / period) + 1
            score = (len(chain), len(chain) / max(slots, 1), period)   # most charges, fewest gaps, longest period
            if best is None or score > best[0]:
                best = (score, freq, chain)
    if best is None:
        return None
    return best[1], best[2]


# --- one stream ------------------------------------------------------------------------------

def _upcoming(freq: str, dates: list[date], rule, count: int) -> list[str]:
    period, _, months = FREQUENCIES[freq]
    last = dates[-1]
    out: list[date] = []
    if freq in ("weekly", "biweekly"):        # from the last charge on the usual weekday (one may come early)
        usual = statistics.mode(d.weekday() for d in dates)
        anchor = next(d for d in reversed(dates) if d.weekday() == usual)
        out = [anchor + timedelta(days=int(period) * k) for k in range(1, count + 5)]
        out = [d for d in out if d > last + timedelta(days=FREQUENCIES[freq][1])][:count]   # paid early: done
    elif freq == "semimonthly":
        rules = rule
        y, m = last.year, last.month
        while len(out) < count:
            for r in rules:
                d = _rule_date(r, y, m)
                if d > last:
                    out.append(d)
            y, m = _add_months(y, m, 1)
        out = sorted(out)[:count]
    else:
        y, m = last.year, last.month
        while len(out) < count:
            y, m = _add_months(y, m, months)
            out.append(_rule_date(rule, y, m))
    return [d.isoformat() for d in out]


def _dates_rule(freq: str, dates: list[date]):
    """The rule the dates follow (a pair of rules for semi-monthly) and its largest miss."""
    if freq in ("weekly", "biweekly"):
        return None, 0
    if freq == "semimonthly":
        early = [d for d in dates if d.day <= 15 and not (d.day >= 13 and any(e.day <= 5 for e in dates))]
        first = [d for d in dates if d.day <= 8]
        second = [d for d in dates if d.day > 8]
        if not first or not second:
            first, second = early or dates, [d for d in dates if d not in early] or dates
        (r1, m1), (r2, m2) = _best_rule(first), _best_rule(second)
        return (r1, r2), max(m1, m2)
    return _best_rule(dates)


def _amounts(amounts: list[int], per_year: int = 0) -> dict:
    """Fixed or variable, the predicted amount and its range, and the price changes of a fixed one."""
    changes = sum(1 for a, b in zip(amounts, amounts[1:]) if a != b)
    fixed = changes <= max(1, (1 - FIXED_SHARE) * (len(amounts) - 1)) and len(set(amounts)) <= 3
    recent = amounts[-6:]
    if fixed:
        return {"amount_kind": "fixed", "next_amount": amounts[-1], "next_amount_low": amounts[-1],
                "next_amount_high": amounts[-1]}
    guess = statistics.mean(amounts[-3:])
    if per_year >= 2 and len(amounts) >= per_year + 3:     # seasonal: a year ago, times the trend since
        before = statistics.mean(amounts[-per_year - 3:-per_year])
        if before:
            guess = amounts[-per_year] * guess / before
    guess = round(guess)
    low, high = sorted(recent + [guess], key=abs)[::len(recent)]
    return {"amount_kind": "variable", "next_amount": guess, "next_amount_low": low, "next_amount_high": high}


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def make_stream(freq: str, rows: list[dict], as_of: date, group: dict) -> dict:
    dates = [_d(r["date"]) for r in rows]
    amounts = [r["amount"] for r in rows]
    rule, miss = _dates_rule(freq, dates)
    upcoming = _upcoming(freq, dates, rule, UPCOMING)
    window = WINDOW[freq]
    if freq not in ("weekly", "biweekly") and len(rows) > 1:   # as close as the dates keep to their rule
        window = max(1, min(window, miss + 1))
    nxt = _d(upcoming[0])
    money = _amounts(amounts, round(365.25 / FREQUENCIES[freq][0]))
    alerts = []
    if money["amount_kind"] == "fixed":
        for i in range(1, len(amounts)):
            if amounts[i] != amounts[i - 1] and (i + 1 == len(amounts) or amounts[i + 1] == amounts[i]):
                up = abs(amounts[i]) > abs(amounts[i - 1])
                alerts.append({"kind": "price_increase" if up else "price_decrease", "date": rows[i]["date"],
                               "detail": f"{_money(abs(amounts[i]))} from {_money(abs(amounts[i - 1]))}"})
    missed = [u for u in upcoming if _d(u) + timedelta(days=window) < as_of]
    if len(missed) >= 2:
        status = "cancelled"
        alerts.append({"kind": "cancelled", "date": missed[1], "detail": f"no charge since {rows[-1]['date']}"})
    elif missed:
        status = "late"
        alerts.append({"kind": "late", "date": missed[0], "detail": f"expected by {missed[0]}"})
    else:
        status = "mature" if len(rows) >= 3 else "early"
    if (as_of - dates[0]).days <= RECENT_DAYS and amounts[0] < 0:
        alerts.append({"kind": "new", "date": rows[0]["date"], "detail": f"new {freq} charge"})
    alerts.sort(key=lambda a: (a["date"], a["kind"]))
    categories = [r.get("category") for r in rows if r.get("category")]
    first = group
    return {
        "key": f"{first['account']}|{first['merchant']}|{first['currency']}|{'out' if amounts[0] < 0 else 'in'}",
        "merchant": first["merchant"], "merchant_name": first.get("merchant_name") or first["merchant"],
        "category": max(set(categories), key=categories.count) if categories else None,
        "account": first["account"], "currency": first["currency"],
        "direction": "out" if amounts[0] < 0 else "in", "frequency": freq, "status": status,
        "first_date": rows[0]["date"], "last_date": rows[-1]["date"],
        "next_date": nxt.isoformat(), "next_date_earliest": (nxt - timedelta(days=window)).isoformat(),
        "next_date_latest": (nxt + timedelta(days=window)).isoformat(),
        "average_amount": round(statistics.mean(amounts)), "last_amount": amounts[-1], **money,
        "window": window, "upcoming": upcoming, "transaction_ids": [r["id"] for r in rows], "alerts": alerts,
    }


# --- groups ----------------------------------------------------------------------------------

class Group:
    """One group's charges as columns in (date, id) order. A charge's dict is made only when a set
    holding it passes may_chain: most of a million charges never need one."""

    def __init__(self, info: dict, as_of: date, dates, ids, amounts, categories, ordinals: dict[str, int]):
        self.info, self.as_of = info, as_of
        self.dates, self.ids, self.amounts, self.categories = dates, ids, amounts, categories
        self.ords = [ordinals[d] for d in dates]
        self._rows: list[dict | None] = [None] * len(dates)
        self._array: np.ndarray | None = None

    def array(self) -> np.ndarray:
        """The amounts as a numpy array (made once)."""
        if self._array is None:
            self._array = np.array(self.amounts, dtype=np.int64)
        return self._array

    def rows(self, picked: list[int]) -> list[dict]:
        out = []
        for i in picked:
            row = self._rows[i]
            if row is None:
                row = self._rows[i] = {"id": self.ids[i], "date": self.dates[i], "amount": self.amounts[i],
                                       "category": self.categories[i] or None, "_d": _d(self.dates[i]),
                                       "_o": self.ords[i]}
            out.append(row)
        return out


def _same_amounts(g: Group, rest: list[int]) -> list[list[int]]:
    """The charges of `rest` (in date order) with the same amount, three or more of them, in the order
    their amounts first appear; one numpy sort per group instead of a dict filled charge by charge."""
    at = np.asarray(rest)
    values = g.array()[at]
    order = np.argsort(values, kind="stable")          # stable: each run stays in date order
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    runs = [at[order[a:b]].tolist() for a, b in zip(starts, ends) if b - a >= 3]
    return sorted(runs, key=lambda run: run[0])


def _clusters(g: Group, rest: list[int]) -> list[list[int]]:
    """`rest` split where its sorted amounts jump by more than SPLIT_GAP; each cluster in date order."""
    at = np.asarray(rest)
    size = np.abs(g.array()[at])
    order = np.argsort(size, kind="stable")
    ordered = size[order]
    cuts = np.flatnonzero(ordered[1:] - ordered[:-1] > SPLIT_GAP * np.maximum(ordered[:-1], 1)) + 1
    return [np.sort(at[part]).tolist() for part in np.split(order, cuts)]


# the windows a next charge may fall in: (period - tol) * k .. (period + tol) * k, k = 1, 2, per frequency
_LOW = np.array([(period - tol) * k for period, tol, _ in FREQUENCIES.values() for k in (1, 2)])
_HIGH = np.array([(period + tol) * k for period, tol, _ in FREQUENCIES.values() for k in (1, 2)])


def may_chain(sets: list[list[int]]) -> list[bool]:
    """For each set of (sorted) days, False when no frequency can chain enough of them for `_accept`:
    a chain of L charges needs L - 1 charges with a later one a period (or two) away, L at least
    MIN_COVER of them, three when there are more than two, four below a month. One numpy pass over
    every set, charge and window (each set shifted far from the others), so most everyday shopping
    is spared the chain search."""
    if not sets:
        return []
    sizes = [len(one) for one in sets]
    a = np.fromiter((o for one in sets for o in one), dtype=np.float64, count=sum(sizes))
    a += np.repeat(np.arange(len(sets), dtype=np.float64) * 1e7, sizes)
    low, high = a[:, None] + _LOW, a[:, None] + _HIGH
    j = np.searchsorted(a, low.ravel()).reshape(low.shape)
    ok = (j < len(a)) & (a[np.minimum(j, len(a) - 1)] <= high)
    per = ok.reshape(len(a), len(FREQUENCIES), 2).any(axis=2)
    starts = np.cumsum([0] + sizes[:-1])
    hits = np.add.reduceat(per.astype(np.int64), starts, axis=0)
    want = np.array([_want(n) for n in sizes])
    return list(np.any(hits + 1 >= want, axis=1))


@lru_cache(maxsize=None)
def _want(n: int):
    """Per frequency, the fewest charges a chain `_accept` keeps must hold (more than n: none)."""
    return np.array([max(MIN_COVER * n, 3 if n > 2 else 2, 4 if period < 28 else 0)
                     for period, _, _ in FREQUENCIES.values()])


_DENSEST = min(max(period - tol, 1) for period, tol, _ in FREQUENCIES.values())


def _hopeless(g: Group, picked: list[int]) -> bool:
    """Cannot be accepted, from its size, amounts and dates: two or three charges need a repeated
    amount, and a chain cannot hold most charges of a set denser than every frequency (best_chain's
    test for the shortest period: everyday shopping)."""
    n = len(picked)
    return (n < 2 or (n <= 3 and len({g.amounts[i] for i in picked}) == n)
            or MIN_COVER * n > (g.ords[picked[-1]] - g.ords[picked[0]]) / _DENSEST + 1)


def _ords(g: Group, picked: list[int]) -> list[int]:
    ords = g.ords
    return ords if len(picked) == len(ords) else [ords[i] for i in picked]


CHUNK = 200_000                 # charges per may_chain pass: bounds its arrays (about 100 MB)


def _accept_all(sets: list[tuple[Group, list[int]]]) -> list:
    """`_accept` of each set (a group and charges of it), the hopeless ones answered without a chain
    search; the rest pass may_chain in a few large batches, not one small one per set."""
    tried = [n for n, (g, picked) in enumerate(sets) if not _hopeless(g, picked)]
    may = [False] * len(sets)
    start = 0
    while start < len(tried):
        end, size = start, 0
        while end < len(tried) and (end == start or size + len(sets[tried[end]][1]) <= CHUNK):
            size += len(sets[tried[end]][1])
            end += 1
        batch = tried[start:end]
        for n, ok in zip(batch, may_chain([_ords(*sets[n]) for n in batch])):
            may[n] = ok
        start = end
    return [_accept(g.rows(picked), g.as_of) if ok else None for (g, picked), ok in zip(sets, may)]


def _accept(rows: list[dict], as_of: date) -> tuple[str, list[dict]] | None:
    found = best_chain([r["_d"] for r in rows])
    if found is None:
        return None
    freq, chain = found
    picked = [rows[i] for i in chain]
    if len(picked) < MIN_COVER * len(rows) or (FREQUENCIES[freq][0] < 28 and len(picked) < 4):
        return None
    amounts = [abs(r["amount"]) for r in picked]
    if _amounts(amounts)["amount_kind"] == "variable":
        if ((FREQUENCIES[freq][0] < 28 and not _strict_biweekly(freq, picked))
                or max(amounts) > 4 * max(min(amounts), 1) or len(picked) < 4):
            return None           # varying charges need more evidence: weekly ones are shopping
    if FREQUENCIES[freq][2] and len(picked) < 6:      # few calendar charges: on the same day rule
        if _dates_rule(freq, [_d(r["date"]) for r in picked])[1] > 3:
            return None
    if len(picked) == 2:          # two charges: the same amount, nothing else here, on the same day, lately
        period, tol, months = FREQUENCIES[freq]
        first, second = _d(picked[0]["date"]), _d(picked[1]["date"])
        if (amounts[0] != amounts[1] or len(rows) > 2 or (months and abs(first.day - second.day) > 1)
                or (as_of - second).days > period + tol):
            return None
    return freq, picked


def _strict_biweekly(freq: str, picked: list[dict]) -> bool:
    """Varying amounts every other week, at least six times, nearly always exactly 14 days apart:
    a bill by the hour (cleaning, child care), not shopping."""
    gaps = [b["_o"] - a["_o"] for a, b in zip(picked, picked[1:])]
    return freq == "biweekly" and len(picked) >= 6 and sum(1 for g in gaps if g == 14) >= 0.8 * len(gaps)


def detect_groups(groups: list[Group]) -> list[dict]:
    """The streams of each (account, merchant, currency, direction) group of two or more charges.
    Each step runs over every group at once (see _accept_all)."""
    # 1. the whole group one stream
    wholes = _accept_all([(g, list(range(len(g.ids)))) for g in groups])
    streams: list[list[tuple[str, list[dict]]]] = []
    rests = []
    for g, whole in zip(groups, wholes):
        if whole is not None and len(whole[1]) >= 3:
            streams.append([whole])
            taken = {r["id"] for r in whole[1]}
            rests.append([i for i in range(len(g.ids)) if g.ids[i] not in taken])
        else:
            streams.append([])
            rests.append(list(range(len(g.ids))))
    # 2. the same amount again and again, among other charges
    sets, owners = [], []
    for n, (g, rest) in enumerate(zip(groups, rests)):
        if len(rest) >= 2:
            for run in _same_amounts(g, rest):
                if len(run) < len(rest):
                    sets.append((g, run))
                    owners.append(n)
    found: list[list[tuple[str, list[dict]]]] = [[] for _ in groups]
    for n, hit in zip(owners, _accept_all(sets)):
        if hit is not None:
            found[n].append(hit)
    # 3. clusters of similar amounts, unless far denser than weekly (everyday shopping)
    sets, owners = [], []
    for n, (g, rest) in enumerate(zip(groups, rests)):
        if found[n]:
            taken = {r["id"] for _, picked in found[n] for r in picked}
            rest = [i for i in rest if g.ids[i] not in taken]
        span = g.ords[rest[-1]] - g.ords[rest[0]] if rest else 0
        if 2 <= len(rest) <= 2 * (span / 5 + 1):
            clusters = _clusters(g, rest)
            sets += [(g, cluster) for cluster in clusters]
            owners += [n] * len(clusters)
    for n, hit in zip(owners, _accept_all(sets)):
        if hit is not None:
            found[n].append(hit)
    out = []
    for g, whole, hits in zip(groups, streams, found):
        out += [make_stream(freq, picked, g.as_of, g.info) for freq, picked in whole + _merged(hits)]
    return out


def _merged(found: list[tuple[str, list[dict]]]) -> list[tuple[str, list[dict]]]:
    """Streams of the same frequency, one after the other, joined: a price change."""
    found = sorted(found, key=lambda s: (s[0], s[1][0]["date"]))
    merged: list[tuple[str, list[dict]]] = []
    for freq, picked in found:
        if merged and merged[-1][0] == freq:
            prev = merged[-1][1]
            period, tol, _ = FREQUENCIES[freq]
            gap = (_d(picked[0]["date"]) - _d(prev[-1]["date"])).days
            if 0 < gap <= period + tol:
                merged[-1] = (freq, prev + picked)
                continue
        merged.append((freq, picked))
    return merged


def _one_yearly(rows: list[dict], as_of: date, group: dict) -> list[dict]:
    """An early yearly bill from its one charge (its text said yearly), while its renewal is not overdue."""
    stream = make_stream("yearly", rows, as_of, group)
    return [stream] if stream["status"] == "early" else []


SEP, FIELD = "\x1f", "\x1e"
GROUP_FIELDS = ("account", "merchant", "merchant_name", "currency")


def detect(groups: list) -> list[dict]:
    """Every stream of every group (see the module's docstring for a group's fields)."""
    as_of: dict[str, str] = {}
    parsed = []
    ordinals: dict[str, int] = {}               # a few thousand dates for a million charges
    for account, merchant, name, currency, charges, description in groups:
        # in (date, id) order: FIELD sorts before any character of an id; one split makes the columns
        fields = FIELD.join(sorted(charges.split(SEP))).split(FIELD)
        dates, ids, categories = fields[0::4], fields[1::4], fields[3::4]
        amounts = list(map(int, fields[2::4]))
        if dates[-1] > as_of.get(account, ""):
            as_of[account] = dates[-1]
        if len(dates) < 2 and not (amounts[0] < 0 and YEARLY_WORDS.search(f"{description or ''} {name or ''} "
                                                                             f"{merchant or ''}")):
            continue
        for d in set(dates).difference(ordinals):
            ordinals[d] = _d(d).toordinal()
        out = amounts[0] < 0
        if 0 in amounts:
            kept = [c for c in zip(dates, ids, amounts, categories) if c[2]]
            if not kept:
                continue
            dates, ids, amounts, categories = zip(*kept)
        info = dict(zip(GROUP_FIELDS, (account, merchant, name, currency)))
        parsed.append(((account, merchant or "", currency, out), info, (dates, ids, amounts, categories)))
    streams = []
    several = []
    for _, info, (dates, ids, amounts, categories) in sorted(parsed, key=lambda g: g[0]):
        g = Group(info, _d(as_of[info["account"]]), dates, ids, amounts, categories, ordinals)
        if len(ids) > 1:
            several.append(g)
        else:
            streams.extend(_one_yearly(g.rows([0]), g.as_of, info))
    streams.extend(detect_groups(several))
    for s in streams:                         # a stable id: the group, and the stream's first charge
        s["id"] = "b" + _digest(s["key"] + "|" + s["transaction_ids"][0])
    streams.sort(key=lambda s: (s["account"], s["merchant"], s["first_date"], s["id"]))
    return streams


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def train(rows: list, model_dir: str | None) -> dict:
    return {"streams": detect(rows)}


if __name__ == "__main__":
    from service import serve

    serve(train, None)
