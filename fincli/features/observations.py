"""Where training observations come from: one small source function per service.

A source reads the log (through the materialized tables) and returns its observations
in a fixed, documented order. Each observation names the transaction it is anchored
to and the log position it was made at; its knowledge cutoff is decided by the
training-set builder (by default: the import that brought the anchor in).

Later services plug in here (fraud feedback, bill payments) with their own function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple


class Observations(NamedTuple):
    """A source's observations column by column (one item per observation, in order)."""
    id: list[int]               # the seq of the event that is the observation
    txn_id: list[str]
    seq: list[int]              # the log position the observation was made at
    target: list


def category_labels(conn) -> Observations:
    """Every label.set event, in log order; a transaction labelled twice gives two observations."""
    from .pit import select_columns

    # seq is the table's rowid, so a scan of the table (NOT INDEXED) reads the labels in seq order
    [seqs], [txn_ids, categories] = select_columns(conn, ["seq"], ["id", "category"], "FROM feature_labels NOT INDEXED")
    seqs = seqs.tolist()
    return Observations(seqs, txn_ids, seqs, categories)


def latest_labels(conn, observations: Observations, cutoffs) -> list[str | None]:
    """The target as known at max(observation, cutoff): a later correction counts only once known."""
    import bisect

    out = list(observations.target)
    late = [i for i, (seq, cutoff) in enumerate(zip(observations.seq, cutoffs)) if cutoff > seq]
    if not late:                                # the usual case: nothing after the observation is known
        return out
    history: dict[str, tuple[list[int], list[str]]] = {}
    for seq, txn_id, category in conn.execute("SELECT seq, id, category FROM feature_labels ORDER BY seq"):
        seqs, cats = history.setdefault(txn_id, ([], []))
        seqs.append(seq)
        cats.append(category)
    for k in late:
        seqs, cats = history[observations.txn_id[k]]
        out[k] = cats[bisect.bisect_right(seqs, cutoffs[k]) - 1]
    return out


@dataclass(frozen=True)
class Source:
    service: str
    target: str                                             # the target column's name
    load: Callable[..., Observations]
    target_at: Callable[..., list]                          # (conn, observations, cutoffs) -> targets


SOURCES: dict[str, Source] = {
    "categorize": Source("categorize", "label", category_labels, latest_labels),
}
