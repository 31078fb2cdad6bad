"""As-of computation: the values of every row feature for a set of anchors, point in time.

One code path computes both online values (a transaction just imported, cutoff = the
head of the log) and training rows (an observation with its knowledge cutoff), so the
two cannot drift apart.

How: the materialized history (store.feature_txns) is loaded once into numpy arrays and
sorted by (group, date, seq), with one group per merchant+currency and one per
account+currency (integer codes kept by the store). An anchor's history is the prefix
of its group before its own (date, seq) key, and a window [t - w, t) is the slice from
the key (group, t - w, 0) to the anchor: two binary searches (numpy.searchsorted) per anchor, no range join. When
every row of that prefix is visible at the anchor's cutoff (the usual case) the
aggregates come from cumulative sums; otherwise (statements imported later, undone
imports, pending rows replaced) the prefix is filtered by visibility for that anchor.
All sums are exact integers; floats are derived from them the same way on both paths.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from .catalog import GAP_CHARGES, ROW_FEATURES, SMALL_CHARGE, WINDOWS

_NONE = -(1 << 62)              # "no charge here" in the matrix of recent charge days
INFINITE = 1 << 40              # visible_until of rows never retracted (seqs stay below 2**40)
_EPOCH = Date(1970, 1, 1).toordinal()
_TOKEN = re.compile(r"[^\W\d_]{2,}")


def description_tokens(text: str) -> str:
    """The `description_tokens` feature: lower-cased runs of 2+ letters, joined by one space."""
    return " ".join(_TOKEN.findall(text.lower()))


@dataclass
class Query:
    """One row to compute: the transaction it is anchored to and what it may know.

    The anchor is the latest transaction.imported event of `txn_id` with seq <= `at_seq`;
    `cutoff` None means the seq of the import.recorded event of the anchor's import.
    """
    txn_id: str | None
    at_seq: int
    cutoff: int | None = None


class Anchors:
    """The anchors of a list of queries, column by column; `found[i]` is False when query i has none.

    Numbers are numpy arrays (0 where not found), texts are lists (None where not found).
    """

    TEXTS = ("id", "import_id", "account", "date", "currency", "description", "merchant", "bank_category")
    NUMBERS = ("seq", "day", "amount", "merchant_group", "account_group")

    def __init__(self, n: int, at, columns: dict):
        """at: the query index of each anchor found; columns: each of TEXTS and NUMBERS, one value per anchor."""
        import numpy as np

        self.found = np.zeros(n, dtype=bool)
        self.found[at] = True
        for name in self.TEXTS:
            column = np.full(n, None, dtype=object)
            column[at] = columns[name]
            setattr(self, name, column.tolist())
        for name in self.NUMBERS:
            column = np.zeros(n, dtype=np.int64)
            column[at] = columns[name]
            setattr(self, name, column)


def day_number(iso: str) -> int:
    return Date.fromisoformat(iso[:10]).toordinal() - _EPOCH


# --- loading -----------------------------------------------------------------------------

class History:
    """The materialized transaction history as numpy arrays sorted by (seq, visible_from); one load per command."""

    def __init__(self, conn, groups: dict | None = None, scan: Scan | None = None):
        """groups: `load_groups(conn)` if already read; scan: the table scan if already started."""
        import numpy as np

        seq, vfrom, vuntil, day, amount, merchant, account = (scan or Scan()).columns(conn)
        # usually already in (seq, visible_from) order: then the sort is skipped (ties keep rowid order either way)
        ascending = (seq[1:] > seq[:-1]) | ((seq[1:] == seq[:-1]) & (vfrom[1:] >= vfrom[:-1]))
        order = None if ascending.all() else np.lexsort((vfrom, seq))
        del ascending
        pick = (lambda a: a) if order is None else (lambda a: a[order])
        self.seq, self.vfrom, self.vuntil = pick(seq), pick(vfrom), pick(vuntil)
        self.day, self.amount = pick(day), pick(amount)
        self.merchant_code, self.account_code = pick(merchant), pick(account)
        del seq, vfrom, vuntil, day, amount, merchant, account
        self.groups = load_groups(conn) if groups is None else groups
        self.merchants, self.accounts = self.groups["merchant"], self.groups["account"]
        limit_of = {c: _small_limit(c) for c in {currency for _, currency in self.merchants}}
        limits = np.array([limit_of[c] for _, c in self.merchants] or [0], dtype=np.int64)
        self.small_limit = limits[self.merchant_code] if len(self.seq) else np.zeros(0, np.int64)
        first = np.r_[True, self.seq[1:] != self.seq[:-1]] if len(self.seq) else np.zeros(0, bool)
        self.seqs = self.seq[first]
        self.row_rank = np.cumsum(first)            # = self.rank(self.seq), one pass over the sorted seqs

    def rank(self, seqs):
        """1 + the position of each seq among the history's seqs (0 sorts before every event)."""
        import numpy as np

        return _search(self.seqs, np.asarray(seqs, dtype=np.int64)) + 1

    def visible(self, seqs, cutoffs):
        """Whether a row of each seq (an interval of that transaction) is visible at each cutoff."""
        import numpy as np

        seqs, cutoffs = np.asarray(seqs, dtype=np.int64), np.asarray(cutoffs, dtype=np.int64)
        lo = _search(self.seq, seqs)
        hi = _search(self.seq, seqs + 1)
        first = np.minimum(lo, max(len(self.seq) - 1, 0))
        out = np.zeros(len(seqs), dtype=bool)
        if len(self.seq):
            out = (hi > lo) & (self.vfrom[first] <= cutoffs) & (self.vuntil[first] > cutoffs)
        for i in np.flatnonzero(hi - lo > 1):    # a pending row brought back: several intervals
            a, b, c = int(lo[i]), int(hi[i]), int(cutoffs[i])
            out[i] = bool(((self.vfrom[a:b] <= c) & (self.vuntil[a:b] > c)).any())
        return out


def load_groups(conn) -> dict[str, list[tuple[str, str]]]:
    """(name, currency) of every group by code, per kind."""
    groups: dict[str, list[tuple[str, str]]] = {"merchant": [], "account": []}
    for kind, name, currency in conn.execute("SELECT kind, name, currency FROM feature_groups ORDER BY kind, code"):
        groups[kind].append((name, currency))
    return groups


class Scan:
    """The one full scan of the history: the numeric columns of every row of feature_txns.

    `Scan()` reads them on conn when asked for them; `Scan.in_background(conn)` starts reading
    them at once on a second, read-only connection in a thread (SQLite runs without holding
    the GIL), so that the caller goes on with its own queries meanwhile. The caller holds a
    read transaction on conn, and the two snapshots are compared through the features cursor
    (the materialized history is a function of the log up to its cursor): if they differ,
    or the second connection failed, conn reads them after all.
    """

    # read in rowid order (NOT INDEXED): History sorts them
    COLUMNS = ["seq", "visible_from", f"coalesce(visible_until, {INFINITE})", "day", "amount", "merchant_group",
               "account_group"]

    def __init__(self, future=None):
        self.future = future

    @classmethod
    def in_background(cls, conn) -> Scan:
        """Start reading at once; conn must hold the read transaction whose snapshot the result must match."""
        from concurrent.futures import ThreadPoolExecutor

        path = conn.execute("PRAGMA database_list").fetchone()[2]
        if not path:                            # an in-memory database: no second connection to it
            return cls()
        pool = ThreadPoolExecutor(1)
        future = pool.submit(cls._read_at, Path(path).resolve().as_uri() + "?mode=ro")
        pool.shutdown(wait=False)
        return cls(future)

    @classmethod
    def _read_at(cls, uri: str):
        from .store import cursor

        with closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as other:
            other.execute("BEGIN")
            return cursor(other), cls._read(other)

    @classmethod
    def _read(cls, conn) -> list:
        _map_file(conn)
        return select_columns(conn, cls.COLUMNS, [], "FROM feature_txns NOT INDEXED")[0]

    def columns(self, conn) -> list:
        """[seq, visible_from, visible_until, day, amount, merchant_group, account_group], in rowid order."""
        from .store import cursor

        if self.future is not None:
            try:
                at, columns = self.future.result()
                if at == cursor(conn):
                    return columns
            except sqlite3.Error:
                pass
        return self._read(conn)


def _search(haystack, needles, order=None):
    """numpy.searchsorted(side="left"), with the needles searched in ascending order (far fewer cache misses).

    `order` may give an ordering of the needles that is already (nearly) ascending.
    """
    import numpy as np

    if order is None:
        order = np.argsort(needles, kind="stable")
    out = np.empty(len(needles), dtype=np.intp)
    out[order] = np.searchsorted(haystack, needles[order], side="left")
    return out


@lru_cache(maxsize=None)
def _small_limit(currency: str) -> int:
    from ..money import to_minor

    return to_minor(Decimal(SMALL_CHARGE), currency)


def import_positions(conn) -> dict[str, int]:
    """import id -> seq of its import.recorded event: the log position when that import committed."""
    return dict(conn.execute("SELECT payload ->> '$.import_id', max(seq) FROM events"
                             " WHERE type = 'import.recorded' GROUP BY 1"))


def resolve(conn, groups, txn_ids: list, at_seqs: list[int], head: int, cutoffs: list | None = None,
            as_known_now: bool = False) -> tuple[Anchors, list[int]]:
    """Each query's anchor and knowledge cutoff; query i is `Query(txn_ids[i], at_seqs[i], cutoffs[i])`.

    groups: the (name, currency) of every group code, as `History.groups`.
    """
    import numpy as np

    _map_file(conn)
    n = len(txn_ids)
    # every row of each query's id: found through the id index (which holds the rowid), then read
    # in rowid order (a walk through the table instead of jumps)
    ints, texts = select_columns(
        conn, ["c.k", "f.seq", "f.day", "f.amount", "f.merchant_group", "f.account_group"],
        ["f.import_id", "f.date", "f.description", "f.bank_category"],
        "FROM (SELECT q.key AS k, f.rowid AS r FROM json_each(?) q JOIN feature_txns f ON f.id = q.value"
        " ORDER BY f.rowid) c JOIN feature_txns f ON f.rowid = c.r", (json.dumps(txn_ids),))
    query, seq = ints[0], ints[1]
    # the anchor is the version with the largest seq up to at_seq (versions of one seq differ only in
    # their visibility interval); a query with no such version has no anchor
    order = np.lexsort((seq, query))
    order = order[seq[order] <= np.array(at_seqs, dtype=np.int64)[query[order]]]
    pick = order[np.r_[query[order][1:] != query[order][:-1], True]] if len(order) else order
    at = query[pick]
    columns = dict(zip(Anchors.NUMBERS, (c[pick] for c in ints[1:])))
    columns.update(zip(("import_id", "date", "description", "bank_category"),
                       (np.array(c, dtype=object)[pick] for c in texts)))
    # the group's name and currency are the anchor's merchant (or account) and currency
    merchants = np.array([name for name, _ in groups["merchant"]] or [None], dtype=object)
    currencies = np.array([currency for _, currency in groups["merchant"]] or [None], dtype=object)
    accounts = np.array([name for name, _ in groups["account"]] or [None], dtype=object)
    columns["merchant"] = merchants[columns["merchant_group"]]
    columns["currency"] = currencies[columns["merchant_group"]]
    columns["account"] = accounts[columns["account_group"]]
    columns["id"] = np.array(txn_ids, dtype=object)[at] if n else []
    anchors = Anchors(n, at, columns)
    if as_known_now:
        return anchors, [head] * n
    positions = import_positions(conn)
    for import_id in set(columns["import_id"].tolist()) - positions.keys():
        positions[import_id] = _last_seq_of_import(conn, import_id)     # a log without import.recorded
    cut = np.array(at_seqs, dtype=np.int64)
    cut[at] = [positions[import_id] for import_id in columns["import_id"].tolist()]
    cut = cut.tolist()
    for i, given in enumerate(cutoffs or ()):
        if given is not None:
            cut[i] = given
    return anchors, cut


def select_columns(conn, ints: list[str], texts: list[str], rest: str, params=()) -> tuple[list, list]:
    """`SELECT ints, texts rest` as columns: int64 arrays for `ints` (never NULL), lists for `texts`.

    SQLite hands each column over as one aggregate (group_concat, json_group_array): one row
    instead of one per result row, about twice as fast. The columns stay aligned (every
    aggregate sees the same rows in the same order), but that order is the query's own.
    """
    import numpy as np

    aggregates = [f"group_concat({c})" for c in ints] + [f"json_group_array({c})" for c in texts]
    values = conn.execute(f"SELECT {', '.join(aggregates)} {rest}", params).fetchone()
    return ([np.fromstring(text or "", dtype=np.int64, sep=",") for text in values[:len(ints)]],
            [json.loads(text) for text in values[len(ints):]])


def _map_file(conn) -> None:
    """Read the database through memory mapping: the lookups and scans here touch much of it."""
    conn.execute(f"PRAGMA mmap_size = {1 << 34}")


def _last_seq_of_import(conn, import_id: str) -> int:
    return conn.execute("SELECT max(seq) FROM feature_txns WHERE import_id = ?", (import_id,)).fetchone()[0]


# --- the sorted index --------------------------------------------------------------------

class _Sorted:
    """History rows of one grouping sorted by (group, day, seq rank), with a packed int64 key."""

    def __init__(self, hist: History, code, qday):
        import numpy as np

        self.dmin = int(min(hist.day.min(initial=0), qday.min(initial=0))) - 1
        span = int(max(hist.day.max(initial=0), qday.max(initial=0))) - self.dmin + 1
        self.rbits = int(len(hist.seqs) + 1).bit_length()
        self.dbits = span.bit_length()
        if int(code.max(initial=0) + 1).bit_length() + self.dbits + self.rbits > 62:
            raise OverflowError("history too large for the packed sort key")
        key = self.key_of(code, hist.day, hist.row_rank)
        # rows with equal keys are intervals of one transaction (same day and amount): their order never matters
        order = np.argsort(key)
        self.key = key[order]
        self.day, self.amount = hist.day[order], hist.amount[order]
        self.vfrom, self.vuntil = hist.vfrom[order], np.minimum(hist.vuntil[order], INFINITE)
        self.small_limit = hist.small_limit[order]
        shift = code[order].astype(np.int64) << 41      # groups ascend: a shifted running max stays in its group
        self.max_from = np.maximum.accumulate(shift + self.vfrom) - shift
        self.min_until = INFINITE - (np.maximum.accumulate(shift + (INFINITE - self.vuntil)) - shift)

    def key_of(self, code, day, rank):
        import numpy as np

        day = np.clip(day - self.dmin, 0, None)
        return (code.astype(np.int64) << (self.dbits + self.rbits)) | (day << self.rbits) | rank

    def position(self, code, day, rank):
        return _search(self.key, self.key_of(code, day, rank), getattr(self, "needle_order", None))

    def bounds(self, code, day, rank, cutoff):
        """(group start, end of history before the anchor, whether that whole prefix is visible)."""
        import numpy as np

        # every search below is for the same anchors, so one ordering of them serves them all
        self.needle_order = np.argsort(self.key_of(code, day, rank), kind="stable")
        g0 = self.position(code, np.full_like(day, self.dmin), np.zeros_like(rank))
        end = self.position(code, day, rank)
        last = np.maximum(end - 1, 0)
        clean = (end == g0) | ((self.max_from[last] <= cutoff) & (self.min_until[last] > cutoff))
        return g0, end, clean

    def visible(self, lo: int, hi: int, cutoff: int):
        return (self.vfrom[lo:hi] <= cutoff) & (self.vuntil[lo:hi] > cutoff)


def _cumsum(values):
    import numpy as np

    out = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


# --- merchant history --------------------------------------------------------------------

def _merchant(idx: _Sorted, code, day, rank, cutoff):
    import numpy as np

    g0, end, clean = idx.bounds(code, day, rank, cutoff)
    square = _squares(idx.amount)
    count = end - g0
    s1 = _cumsum(idx.amount)
    hi, lo = _cumsum(square >> 31), _cumsum(square & 0x7FFFFFFF)
    total, sq_hi, sq_lo = s1[end] - s1[g0], hi[end] - hi[g0], lo[end] - lo[g0]
    offsets = np.arange(-GAP_CHARGES, 0)
    at = end[:, None] + offsets[None, :]
    recent = np.where(at >= g0[:, None], idx.day[np.maximum(at, 0)], _NONE)
    for i in np.flatnonzero(~clean):            # rows whose history changed after the fact
        a, b = int(g0[i]), int(end[i])
        keep = idx.visible(a, b, int(cutoff[i]))
        amounts, days = idx.amount[a:b][keep], idx.day[a:b][keep]
        squares = _squares(amounts)
        count[i], total[i] = len(amounts), amounts.sum()
        sq_hi[i], sq_lo[i] = (squares >> 31).sum(), (squares & 0x7FFFFFFF).sum()
        tail = days[-GAP_CHARGES:]
        recent[i] = _NONE
        if len(tail):
            recent[i, GAP_CHARGES - len(tail):] = tail
    return _merchant_values(count, total, sq_hi, sq_lo, recent, day)


def _squares(amounts):
    """Squares of amounts in int64, each amount first held within ±2^31 minor units (21 million in a
    currency with cents): beyond that the spread is capped rather than wrapped round to garbage."""
    import numpy as np

    held = np.clip(amounts, -(1 << 31) + 1, (1 << 31) - 1)
    return held * held


def _merchant_values(count, total, sq_hi, sq_lo, recent, day):
    import numpy as np

    n = np.maximum(count, 1).astype(np.float64)
    mean = total.astype(np.float64) / n
    squares = sq_hi.astype(np.float64) * 2147483648.0 + sq_lo.astype(np.float64)
    std = np.sqrt(np.maximum(squares / n - mean * mean, 0.0))
    days = np.where(recent != _NONE, recent, np.nan).astype(np.float64)
    gaps = np.diff(days, axis=1)
    has_gap = (~np.isnan(gaps)).any(axis=1)
    # the median of each row's gaps (numpy.nanmedian, by hand: NaN sorts last, the middle one or two average)
    present = (~np.isnan(gaps)).sum(axis=1)
    ordered = np.sort(gaps, axis=1)
    rows = np.arange(len(count))
    low, high = np.maximum(present - 1, 0) // 2, present // 2
    median = np.where(has_gap, (ordered[rows, low] + ordered[rows, np.minimum(high, gaps.shape[1] - 1)]) / 2, np.nan)
    since = day - recent[:, -1]
    return {"merchant_count": count, "merchant_mean_amount": (mean, count > 0),
            "merchant_std_amount": (std, count > 0), "merchant_days_since_last": (since, count > 0),
            "merchant_median_gap_days": (median, has_gap)}


# --- account windows ---------------------------------------------------------------------

def _account(idx: _Sorted, code, day, rank, cutoff):
    import numpy as np

    g0, end, clean = idx.bounds(code, day, rank, cutoff)
    charge = idx.amount < 0
    spent = np.where(charge, -idx.amount, 0)
    small = charge & (-idx.amount < idx.small_limit)
    sums = {"spend": _cumsum(spent), "charges": _cumsum(charge.astype(np.int64)),
            "small": _cumsum(small.astype(np.int64))}
    out = {}
    starts = {w: idx.position(code, day - w, np.zeros_like(rank)) for w in (*WINDOWS, 1)}
    for w in WINDOWS:
        out[f"account_spend_{w}d"] = sums["spend"][end] - sums["spend"][starts[w]]
    out["account_charges_1d"] = sums["charges"][end] - sums["charges"][starts[1]]
    out["account_small_charges_1d"] = sums["small"][end] - sums["small"][starts[1]]
    for i in np.flatnonzero(~clean):
        a, b, c, t = int(g0[i]), int(end[i]), int(cutoff[i]), int(day[i])
        keep = idx.visible(a, b, c)
        days, spend = idx.day[a:b][keep], spent[a:b][keep]
        is_charge, is_small = charge[a:b][keep], small[a:b][keep]
        for w in WINDOWS:
            out[f"account_spend_{w}d"][i] = spend[days >= t - w].sum()
        out["account_charges_1d"][i] = is_charge[days >= t - 1].sum()
        out["account_small_charges_1d"][i] = is_small[days >= t - 1].sum()
    return out


# --- rows --------------------------------------------------------------------------------

def history_values(hist: History, merchant_code, account_code, day, rank, cutoff) -> dict:
    """Merchant and account features for anchors given as (group codes, day, seq rank, cutoff).

    A code of -1 is a group with no history: it has nothing before (count 0, nulls).
    """
    import numpy as np

    day, rank, cutoff = (np.asarray(x, dtype=np.int64) for x in (day, rank, cutoff))
    values: dict = {}
    if not len(hist.seq):                        # an empty log: compute over one never-visible dummy row
        hist = _dummy(hist)
    for code, codes_of, compute in ((merchant_code, hist.merchant_code, _merchant),
                                    (account_code, hist.account_code, _account)):
        code = np.asarray(code, dtype=np.int64)
        known = code >= 0
        idx = _Sorted(hist, codes_of, day)
        part = compute(idx, np.where(known, code, 0), day, rank, cutoff)
        for name, value in part.items():
            if isinstance(value, tuple):
                value, present = value
                values[name] = (value, present & known)
            else:
                values[name] = (np.where(known, value, 0), np.ones(len(known), bool))
    return values


def _dummy(hist: History) -> History:
    import numpy as np

    empty = History.__new__(History)
    for name in ("seq", "vfrom", "vuntil", "day", "amount", "small_limit", "merchant_code", "account_code"):
        setattr(empty, name, np.zeros(1, np.int64))
    empty.vfrom[:] = INFINITE                  # never visible
    empty.seqs, empty.row_rank = np.zeros(1, np.int64), np.ones(1, np.int64)
    empty.groups, empty.merchants, empty.accounts = hist.groups, hist.merchants, hist.accounts
    return empty


def history_columns(hist: History, anchors: Anchors, cutoffs: list[int]) -> dict[str, list]:
    """The merchant and account features, one list per feature, one item per anchor."""
    import numpy as np

    found = anchors.found
    merchant = np.where(found, anchors.merchant_group, -1)
    account = np.where(found, anchors.account_group, -1)
    rank = hist.rank(np.where(found, anchors.seq, 0))
    values = history_values(hist, merchant, account, anchors.day, rank, cutoffs)
    unused = np.flatnonzero(~found).tolist()
    columns = {}
    for name, (array, present) in values.items():
        if array.dtype.kind == "f":
            array = np.round(array, 4)
        plain = array.tolist()
        for i in np.flatnonzero(~present).tolist():
            plain[i] = None
        fill = 0 if name.endswith(("_count", "_1d")) or name.startswith("account_spend") else None
        for i in unused:
            plain[i] = fill
        columns[name] = plain
    return columns


def anchor_columns(anchors: Anchors) -> dict[str, list]:
    """The transaction features: the anchor's own fields, one list per feature (None where there is no anchor)."""
    import numpy as np

    unused = np.flatnonzero(~anchors.found).tolist()

    def column(values):
        for i in unused:
            values[i] = None
        return values

    return {
        "merchant": anchors.merchant,
        "description_tokens": [description_tokens(d) if d is not None else None for d in anchors.description],
        "amount": column(anchors.amount.tolist()),
        "sign": column(np.sign(anchors.amount).tolist()),
        "day_of_week": column(((anchors.day + 3) % 7).tolist()),
        "day_of_month": [int(d[8:10]) if d is not None else None for d in anchors.date],
        "currency": anchors.currency,
        "bank_category": anchors.bank_category,
    }


def columns_for(hist: History, anchors: Anchors, cutoffs: list[int]) -> dict[str, list]:
    """Every row feature as one list per feature (in ROW_FEATURES order), one item per anchor."""
    columns = {**anchor_columns(anchors), **history_columns(hist, anchors, cutoffs)}
    return {f.name: columns[f.name] for f in ROW_FEATURES}


def rows_for(hist: History, anchors: Anchors, cutoffs: list[int]) -> list[dict]:
    """Every row feature, one dict per anchor, in order; history features see only (cutoff, before anchor)."""
    columns = columns_for(hist, anchors, cutoffs)
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())] if len(cutoffs) else []


def online_features(ws, txn_ids: list[str]) -> list[dict]:
    """Current values for transactions: anchor = its live import, cutoff = the head of the log."""
    from .store import refresh

    head = refresh(ws)
    hist = History(ws.conn)
    anchors, cutoffs = resolve(ws.conn, hist.groups, txn_ids, [head] * len(txn_ids), head, [head] * len(txn_ids))
    rows = rows_for(hist, anchors, cutoffs)
    return [{"id": t, **row} for t, row in zip(txn_ids, rows)]
