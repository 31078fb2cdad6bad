"""The fraud signals: per-transaction features computed as of the transaction's knowledge cutoff.

Each signal is a feature of the catalogue (catalog.FRAUD_SIGNALS, owner fraud). Like every
history feature (pit.py), a signal sees only rows of the materialized history that are
before the anchor in (date, seq) order and visible at its cutoff (visible_from <= cutoff <
visible_until): a statement imported later never changes it. The realtime scoring path
and `fin fraud --rescore` call the same `signals` function, with the same cutoffs (the
import that brought the transaction in), so an alert's features are its training row.

All anchors known at one cutoff are computed together, as numpy columns: each window (a
merchant's last MERCHANT_LAST charges, an account's last ACCOUNT_DAYS days) is a slice of the
visible rows sorted by merchant or account, found by binary search, and its medians and
percentiles are read from a wavelet matrix (_RangeKth), so a million rows take seconds.
"""

from __future__ import annotations

import re


ACCOUNT_DAYS = 120              # the account's usual spending: its charges of the last 120 days
REPEAT_DAYS = 3                 # the same merchant and amount again within 3 days: a possible duplicate
# two-letter country codes that are not also US state or territory codes (a trailing "CA" is California)
COUNTRIES = frozenset(
    "AE AR AT AU BE BG BR CH CN CO CZ DK EG ES FI FR GB GR HK HR HU ID IE IL IT JP KE KR "
    "LK LT LU LV MX MY NG NL NO NZ PE PH PK PL PT QA RO RS RU SA SE SG SK TH TR TW UA VN ZA".split())


def country_of(description: str) -> str | None:
    """The foreign country a card description ends with ("... PARIS FR" -> FR), else None: its last
    two characters before trailing spaces, when they are a word of their own."""
    text = description.rstrip()
    tail = text[-3:].upper()              # upper-casing is per character: the tail of the upper-cased text
    code = tail[-2:]
    if code not in COUNTRIES or len(tail) > 2 and (tail[-3].isalnum() or tail[-3] == "_"):
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
    """The materialized history, loaded once per run as numpy columns in (day, seq) order; the
    country, currency and account name of each row as small int codes (0: no country)."""

    def __init__(self, conn):
        import numpy as np

        from .pit import INFINITE, select_columns

        ints, texts = select_columns(
            conn, ["day", "seq", "visible_from", f"coalesce(visible_until, {INFINITE})", "amount", "merchant_group",
                   "account_group"], ["description", "currency", "account"], "FROM feature_txns")
        order = np.lexsort((ints[1], ints[0]))
        self.day, self.seq, self.vfrom, self.vuntil, self.amount, self.merchant, self.account = (
            column[order] for column in ints)
        order = order.tolist()
        self.countries: dict[str | None, int] = {None: 0}
        self.currencies: dict[str, int] = {}
        self.names: dict[str, int] = {}
        descriptions, currencies, names = texts
        self.country = np.array([self.countries.setdefault(country_of(descriptions[i]), len(self.countries))
                                 for i in order], dtype=np.int64)
        self.currency = np.array([self.currencies.setdefault(currencies[i], len(self.currencies)) for i in order],
                                 dtype=np.int64)
        self.name = np.array([self.names.setdefault(names[i], len(self.names)) for i in order], dtype=np.int64)


class _RangeKth:
    """The k-th smallest value of any slice of an int array, for many slices at once: a wavelet
    matrix (one stable split of the values' ranks per bit, with the running count of zero bits)."""

    def __init__(self, values):
        import numpy as np

        self.distinct = np.unique(values)
        self.bits = max(1, (len(self.distinct) - 1).bit_length())
        self.zero_counts, self.zeros = [], []
        rank = np.searchsorted(self.distinct, values)
        for bit in reversed(range(self.bits)):
            one = (rank >> bit) & 1 == 1
            self.zero_counts.append(np.concatenate(([0], np.cumsum(~one))))
            self.zeros.append(len(rank) - int(one.sum()))
            rank = np.concatenate((rank[~one], rank[one]))

    def kth(self, lo, hi, k):
        """values[lo:hi] sorted, at k (arrays; 0 <= k < hi - lo)."""
        import numpy as np

        rank = np.zeros(len(k), dtype=np.int64)
        for level, (counts, zeros) in enumerate(zip(self.zero_counts, self.zeros)):
            zlo, zhi = counts[lo], counts[hi]
            inside = zhi - zlo
            one = k >= inside
            k = np.where(one, k - inside, k)
            lo = np.where(one, zeros + lo - zlo, zlo)
            hi = np.where(one, zeros + hi - zhi, zhi)
            rank |= one.astype(np.int64) << (self.bits - 1 - level)
        return self.distinct[rank]


def _rounded(values, where) -> list:
    """round(x, 4) of each value where `where` holds, else None. Python's round, which the stored
    features always used: numpy's agrees with it except next to a tie, so only those go through it."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        scaled = values * 1e4
        fast = np.rint(scaled) / 1e4
        near_tie = ~(np.abs(scaled - np.floor(scaled) - 0.5) > 1e-3) | ~(np.abs(scaled) < 1e12)
    out = fast.tolist()
    for i in np.flatnonzero(near_tie & where).tolist():
        out[i] = round(float(values[i]), 4)
    return [v if w else None for v, w in zip(out, where.tolist())]


def _compute(data: Signals, cutoff: int, anchors: dict, limits) -> dict[str, list]:
    """The signals of anchors (numpy columns day, seq, amount, merchant, account, country, currency,
    name, fee) known at `cutoff`, each from the rows visible at the cutoff and before it in (day, seq)."""
    import numpy as np

    visible = (data.vfrom <= cutoff) & (cutoff < data.vuntil)
    day, amount = data.day[visible], data.amount[visible]
    merchant, account = data.merchant[visible], data.account[visible]
    n = len(day)
    pos = np.arange(n, dtype=np.int64)
    # the anchor's position: how many visible rows come before it in (day, seq) order
    key = (day << 40) | data.seq[visible]
    a_day, a_amount, a_merchant, a_account = anchors["day"], anchors["amount"], anchors["merchant"], anchors["account"]
    at = np.searchsorted(key, (a_day << 40) | anchors["seq"], side="left")
    base = int(min(day.min(initial=0), a_day.min(initial=0))) - 400      # days as offsets >= 0 in packed keys

    def starts(group, values, a_group, a_values):
        """For rows sorted by (group, values): where (a_group, a_value) would go, left."""
        return np.searchsorted((group << 40) | values, (a_group << 40) | a_values, side="left")

    charges = amount < 0
    charge = np.where(a_amount < 0, -a_amount, 0)
    has_charge = charge > 0
    limit = limits[a_merchant]

    # --- the merchant's charges: count, last MERCHANT_LAST (median, quartiles), repeats, first big day
    c_pos = pos[charges]
    order = np.lexsort((c_pos, merchant[charges]))
    m_group, m_pos, m_day = merchant[charges][order], c_pos[order], day[charges][order] - base
    m_value = -amount[charges][order]
    m_first = starts(m_group, m_pos * 0, a_merchant, a_merchant * 0)
    m_at = starts(m_group, m_pos, a_merchant, at)
    m_count = m_at - m_first
    m_lo = np.maximum(m_first, m_at - MERCHANT_LAST)
    repeat = np.zeros(len(m_value), dtype=bool)             # equal to one of the 5 charges before, within 3 days
    for back in range(1, 6):
        same = (m_group[back:] == m_group[:-back]) & (m_value[back:] == m_value[:-back]) \
            & (m_day[back:] - m_day[:-back] <= REPEAT_DAYS)
        repeat[back:] |= same
    repeats = np.concatenate(([0], np.cumsum(repeat)))
    big = m_value >= limits[m_group]
    first_big = np.full(len(limits), np.iinfo(np.int64).max)           # the first day with a big charge
    np.minimum.at(first_big, m_group[big], m_day[big])
    first_big_index = np.full(len(limits), np.iinfo(np.int64).max)
    np.minimum.at(first_big_index, m_group[big], np.flatnonzero(big))
    kth = _RangeKth(m_value)
    known = m_count > 0
    w = (m_at - m_lo)[known]
    lo, hi = m_lo[known], m_at[known]
    upper, lower = kth.kth(lo, hi, w // 2).astype(float), kth.kth(lo, hi, np.maximum(w // 2 - 1, 0)).astype(float)
    med = np.zeros(len(at))
    med[known] = np.where(w % 2 == 1, upper, (lower + upper) / 2)
    iqr = np.zeros(len(at))
    iqr[known] = kth.kth(lo, hi, 3 * w // 4) - kth.kth(lo, hi, w // 4)
    spread = np.maximum(np.maximum(0.7413 * iqr, 0.1 * med), 100.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = charge / med
        rate = (repeats[m_at] - repeats[m_first]) / m_count
    # the same charge among the last MERCHANT_LAST at most REPEAT_DAYS days before
    recent = np.zeros(len(at), dtype=np.int64)
    r_lo = np.maximum(m_lo, starts(m_group, m_day, a_merchant, a_day - base - REPEAT_DAYS))
    width = int((m_at - r_lo)[has_charge].max(initial=0))
    for back in range(1, width + 1):
        i = m_at - back
        inside = has_charge & (i >= r_lo)
        recent += inside & (m_value[np.where(inside, i, 0)] == charge)
    big_before = first_big_index[a_merchant] < m_at
    merchant_new = ~big_before | (first_big[a_merchant] >= a_day - base - 1)

    # --- the account's charges: the last ACCOUNT_DAYS (median, p95, count), today, busy days, small ones
    order = np.lexsort((c_pos, account[charges]))
    c_group, c_pos2, c_day = account[charges][order], c_pos[order], day[charges][order] - base
    c_value = -amount[charges][order]
    c_at = starts(c_group, c_pos2, a_account, at)
    c_lo = starts(c_group, c_day, a_account, a_day - base - ACCOUNT_DAYS)
    c_today = starts(c_group, c_day, a_account, a_day - base)
    c_n = c_at - c_lo
    kth = _RangeKth(c_value)
    known = c_n > 0
    lo, hi, w = c_lo[known], c_at[known], c_n[known]
    a_upper, a_lower = kth.kth(lo, hi, w // 2).astype(float), kth.kth(lo, hi, np.maximum(w // 2 - 1, 0)).astype(float)
    a_median = np.zeros(len(at))
    a_median[known] = np.where(w % 2 == 1, a_upper, (a_lower + a_upper) / 2)
    a_p95 = np.zeros(len(at))
    a_p95[known] = kth.kth(lo, hi, np.minimum(w - 1, (0.95 * w).astype(np.int64)))
    today = np.where(has_charge, 1 + c_at - c_today, 0)
    # busy days: the charges of each earlier day with any, over the last ACCOUNT_DAYS days
    first_of_day = np.r_[True, (c_group[1:] != c_group[:-1]) | (c_day[1:] != c_day[:-1])] if len(c_day) else \
        np.zeros(0, dtype=bool)
    d_start = np.flatnonzero(first_of_day)
    d_group, d_day = c_group[d_start], c_day[d_start]
    d_count = np.diff(np.r_[d_start, len(c_day)])
    d_lo = starts(d_group, d_day, a_account, a_day - base - ACCOUNT_DAYS)
    d_hi = starts(d_group, d_day, a_account, a_day - base)
    d_n = d_hi - d_lo
    kth = _RangeKth(d_count)
    known_days = d_n > 0
    daily = np.zeros(len(at))
    w = d_n[known_days]
    daily[known_days] = kth.kth(d_lo[known_days], d_hi[known_days], np.minimum(w - 1, (0.95 * w).astype(np.int64)))
    # small charges since yesterday at merchants whose first big charge is not before yesterday
    small = c_value < limits[merchant[charges][order]]
    s_group, s_pos, s_day = c_group[small], c_pos2[small], c_day[small]
    s_first = first_big[merchant[charges][order][small]]
    fresh_yesterday = np.concatenate(([0], np.cumsum(s_first >= s_day)))     # counted for an anchor the day after
    fresh_today = np.concatenate(([0], np.cumsum(s_first >= s_day - 1)))     # counted for an anchor that day
    s_lo = starts(s_group, s_day, a_account, a_day - base - 1)
    s_mid = starts(s_group, s_day, a_account, a_day - base)
    s_at = starts(s_group, s_pos, a_account, at)
    small_new = fresh_yesterday[s_mid] - fresh_yesterday[s_lo] + fresh_today[s_at] - fresh_today[s_mid] \
        + (has_charge & (charge < limit) & merchant_new)

    # --- the account's rows of the last year: the share of the anchor's country, and of its currency
    y_day = day - base
    order = np.lexsort((pos, account))
    y_group, y_pos, y_day2 = account[order], pos[order], y_day[order]
    year = starts(y_group, y_pos, a_account, at) - starts(y_group, y_day2, a_account, a_day - base - 365)
    a_country = anchors["country"]
    groups = account * len(data.countries) + data.country[visible]
    order = np.lexsort((pos, groups))
    g, g_pos, g_day = groups[order], pos[order], y_day[order]
    a_g = a_account * len(data.countries) + a_country
    in_country = starts(g, g_pos, a_g, at) - starts(g, g_day, a_g, a_day - base - 365)
    with np.errstate(divide="ignore", invalid="ignore"):
        country_share = np.where(year > 0, in_country / year, 0.0)
    name = data.name[visible]
    order = np.lexsort((pos, name))
    n_group, n_pos, n_day = name[order], pos[order], y_day[order]
    n_rows = starts(n_group, n_pos, anchors["name"], at) - starts(n_group, n_day, anchors["name"], a_day - base - 365)
    groups = name * len(data.currencies) + data.currency[visible]
    order = np.lexsort((pos, groups))
    g, g_pos, g_day = groups[order], pos[order], y_day[order]
    a_g = anchors["name"] * len(data.currencies) + anchors["currency"]
    in_currency = starts(g, g_pos, a_g, at) - starts(g, g_day, a_g, a_day - base - 365)
    with np.errstate(divide="ignore", invalid="ignore"):
        currency_share = in_currency / n_rows

    known = m_count > 0
    countries = {code: name for name, code in data.countries.items()}
    columns = {
        "charge": charge.tolist(), "merchant_charges": m_count.tolist(),
        "merchant_median": _rounded(med, known),
        "merchant_ratio": _rounded(ratio, known & (med != 0)),
        "merchant_robust_z": _rounded((charge - med) / spread, known),
        "merchant_repeat_rate": _rounded(rate, known),
        "same_charge_recent": recent.tolist(), "account_charges": c_n.tolist(),
        "account_median_charge": _rounded(a_median, c_n > 0),
        "account_p95_charge": [v if k else None for v, k in zip(a_p95.tolist(), (c_n > 0).tolist())],
        "account_daily_p95": [v if k else None for v, k in zip(daily.tolist(), known_days.tolist())],
        "charges_today": today.tolist(), "merchant_new": merchant_new.tolist(),
        "small_new_1d": small_new.tolist(),
        "country": [countries[c] for c in a_country.tolist()],
        "country_share": _rounded(country_share, a_country != 0),
        "currency_share": _rounded(currency_share, n_rows >= CURRENCY_MIN_ROWS),
        "fx_fee": anchors["fee"].astype(np.int64).tolist(),
    }
    return columns


def _records(first: dict[str, list], then: dict[str, list], start: int, stop: int) -> list[dict]:
    """One dict per row: the columns of `first`, then rows start:stop of the columns of `then`."""
    names = list(first) + list(then)
    return [dict(zip(names, values)) for values in zip(*first.values(), *(c[start:stop] for c in then.values()))]


def signals(conn, txn_ids: list[str], cutoffs: list[int | None] | None = None, data: Signals | None = None) -> list[dict]:
    """The signals of each transaction as of its cutoff (None: the import that brought it in)."""
    return signals_and_references(conn, txn_ids, cutoffs, data)[0]


def signals_and_references(conn, txn_ids: list[str], cutoffs: list[int | None] | None = None,
                           data: Signals | None = None, references: int = 0) -> tuple[list[dict], dict[int, list]]:
    """signals(), and for each cutoff the signals of up to `references` charges known at it and imported
    before the first of its transactions (the latest first): what was usual then, computed in the same pass."""
    import numpy as np

    from .pit import INFINITE, _small_limit, load_groups, resolve
    from ..store import log as ev

    head = ev.head(conn)[0]
    groups = load_groups(conn)
    anchors, cut = resolve(conn, groups, txn_ids, [head] * len(txn_ids), head, cutoffs)
    data = data or Signals(conn)
    limits = np.array([_small_limit(currency) for _name, currency in groups["merchant"]] or [0], dtype=np.int64)
    found = list(anchors.found) if isinstance(anchors.found, list) else anchors.found.tolist()
    cuts, seqs, amounts = list(cut), anchors.seq.tolist(), anchors.amount.tolist()
    by_cutoff: dict[int, list[int]] = {}
    for i in range(len(txn_ids)):
        if found[i]:
            by_cutoff.setdefault(cuts[i], []).append(i)

    def columns(day, seq, amount, merchant, account, descriptions, currencies, names) -> dict:
        return {"day": np.asarray(day, dtype=np.int64), "seq": np.asarray(seq, dtype=np.int64),
                "amount": np.asarray(amount, dtype=np.int64), "merchant": np.asarray(merchant, dtype=np.int64),
                "account": np.asarray(account, dtype=np.int64),
                "country": np.array([data.countries.setdefault(country_of(d), len(data.countries))
                                     for d in descriptions], dtype=np.int64),
                "currency": np.array([data.currencies.setdefault(c, len(data.currencies)) for c in currencies],
                                     dtype=np.int64),
                "name": np.array([data.names.setdefault(n, len(data.names)) for n in names], dtype=np.int64),
                "fee": np.array([is_fx_fee(d) for d in descriptions], dtype=bool)}

    out: list[dict] = [{"id": txn_id} for txn_id in txn_ids]        # the rows found are replaced below
    refs: dict[int, list] = {}
    for cutoff, batch in by_cutoff.items():
        pick = np.array(batch)
        extra = []
        if references:
            extra = conn.execute(
                "SELECT day, seq, amount, merchant_group, account_group, description, currency, account"
                " FROM feature_txns"
                f" WHERE amount < 0 AND visible_from <= ? AND coalesce(visible_until, {INFINITE}) > ?"
                " AND seq < ? ORDER BY day DESC, seq DESC LIMIT ?",
                (cutoff, cutoff, min(seqs[i] for i in batch), references)).fetchall()
        known = columns(np.concatenate((anchors.day[pick], [r[0] for r in extra])),
                        np.concatenate((anchors.seq[pick], [r[1] for r in extra])),
                        np.concatenate((anchors.amount[pick], [r[2] for r in extra])),
                        np.concatenate((anchors.merchant_group[pick], [r[3] for r in extra])),
                        np.concatenate((anchors.account_group[pick], [r[4] for r in extra])),
                        [anchors.description[i] for i in batch] + [r[5] for r in extra],
                        [anchors.currency[i] for i in batch] + [r[6] for r in extra],
                        [anchors.account[i] for i in batch] + [r[7] for r in extra])
        computed = _compute(data, cutoff, known, limits)
        first = {"id": [txn_ids[i] for i in batch], "cutoff": [cutoff] * len(batch),
                 "seq": [seqs[i] for i in batch], "account": [anchors.account[i] for i in batch],
                 "date": [anchors.date[i] for i in batch], "amount": [amounts[i] for i in batch],
                 "currency": [anchors.currency[i] for i in batch], "merchant": [anchors.merchant[i] for i in batch]}
        for i, row in zip(batch, _records(first, computed, 0, len(batch))):
            out[i] = row
        refs[cutoff] = _records({"cutoff": [cutoff] * len(extra), "seq": [r[1] for r in extra],
                                 "amount": [r[2] for r in extra]}, computed, len(batch), len(batch) + len(extra))
    return out, refs
