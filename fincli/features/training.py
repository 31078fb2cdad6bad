"""Point-in-time training sets (DESIGN.md §5) and their manifest.

One row per observation, in the source's order, never dropped or merged. Each row's
knowledge cutoff is the seq of the import.recorded event of the import that brought its
anchor transaction in (what fin knew when it first categorized or scored it); the named
opt-in `as_known_now` uses the head of the log for every row instead. History features
count only visible transactions strictly before the anchor in (date, seq) order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from contextlib import contextmanager
from pathlib import Path

from ..store import log as ev
from ..errors import InputError
from ..merchant import fingerprint as merchant_fingerprint
from .catalog import ROW_FEATURES, definition_hashes
from .observations import SOURCES
from .pit import History, Query, Scan, anchor_columns, history_columns, load_groups, resolve

KEY_COLUMNS = ["observation", "txn_id", "cutoff", "account", "date", "retracted"]
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
_TYPES = {"observation": "int", "txn_id": "str", "cutoff": "int", "account": "str", "date": "str",
          "retracted": "int"}


def columns(service: str) -> list[str]:
    return KEY_COLUMNS + [SOURCES[service].target] + [f.name for f in ROW_FEATURES]


def build(conn, service: str, as_known_now: bool = False, queries: list[Query] | None = None):
    """(columns, rows, log position) for a service's observations (or for explicit queries)."""
    cols, data, head = build_columns(conn, service, as_known_now, queries)
    names = list(data)
    return cols, [dict(zip(names, row)) for row in zip(*data.values())], head


def build_columns(conn, service: str, as_known_now: bool = False, queries: list[Query] | None = None):
    """(columns, {name: one value per row}, log position): `build` column by column."""
    if service not in SOURCES:
        raise InputError(f"no observations for service {service!r} yet",
                         f"known: {', '.join(sorted(SOURCES))}")
    import numpy as np

    source = SOURCES[service]
    with _snapshot(conn) as own:
        head = ev.head(conn)[0]
        if queries is None:
            observations = source.load(conn)
            txn_ids, at_seqs, given = observations.txn_id, observations.seq, None
        else:
            observations = None
            txn_ids, at_seqs, given = [q.txn_id for q in queries], [q.at_seq for q in queries], [q.cutoff for q in queries]
        if not txn_ids:
            return columns(service), {c: [] for c in columns(service)}, head
        # the history scan, the longest read, runs beside the queries below when this build has its own snapshot
        scan = Scan.in_background(conn) if own else Scan()
        groups = load_groups(conn)
        anchors, cutoffs = resolve(conn, groups, txn_ids, at_seqs, head, given, as_known_now)
        features = anchor_columns(anchors)
        targets = source.target_at(conn, observations, cutoffs) if observations is not None else [None] * len(txn_ids)
        hist = History(conn, groups, scan)
    features.update(history_columns(hist, anchors, cutoffs))
    retracted = (~hist.visible(anchors.seq, cutoffs)).astype(int).tolist()
    for i in np.flatnonzero(~anchors.found).tolist():
        retracted[i] = None
    keys = {
        "observation": observations.id if observations is not None else list(range(1, len(txn_ids) + 1)),
        "txn_id": txn_ids,
        "cutoff": cutoffs,
        "account": anchors.account,
        "date": anchors.date,
        "retracted": retracted,
        source.target: targets,
    }
    return columns(service), {**keys, **{f.name: features[f.name] for f in ROW_FEATURES}}, head


@contextmanager
def _snapshot(conn):
    """One read transaction around a build, so every query sees the same log; yields whether it is this one's.

    Inside a caller's transaction the build reads within that one.
    """
    if conn.in_transaction:
        yield False
        return
    conn.execute("BEGIN")
    try:
        yield True
    finally:
        conn.execute("COMMIT")


def write(path: Path, cols: list[str], rows: list[dict]) -> None:
    write_columns(path, cols, {c: [r[c] for r in rows] for c in cols})


def write_columns(path: Path, cols: list[str], data: dict[str, list]) -> None:
    """`write` for rows given column by column (`data[c]` for each of `cols`, all the same length)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown output format {path.suffix or '(no extension)'!r}",
                         "name the file .csv, .jsonl or .parquet")
    if fmt == "csv":
        path.write_bytes(_csv_text(cols, data).encode("utf-8"))
    elif fmt == "jsonl":
        path.write_bytes("".join(json.dumps(dict(zip(cols, values)), ensure_ascii=False) + "\n"
                                 for values in zip(*(data[c] for c in cols))).encode("utf-8"))
    else:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise InputError(f"{path}: writing .parquet needs pyarrow",
                             "pip install 'fin-ledger-toolkit[parquet]', or write .csv or .jsonl") from None

        kinds = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "json": pa.string()}
        types = _types()
        schema = pa.schema([(c, kinds[types.get(c, "str")]) for c in cols])
        table = pa.table({c: data[c] for c in cols}, schema=schema)
        pq.write_table(table, path, compression="zstd")


# a text holding one of these may be quoted by the csv module (which ones depends on the Python version)
_CSV_SPECIAL = (",", '"', "\r", "\n", "\0")


def _csv_text(cols: list[str], data: dict[str, list]) -> str:
    """What csv.writer (minimal quoting, "\n" line ends) writes for the header and rows, at a fraction of its cost.

    Each row goes through one format string; fields are None (an empty field), numbers (str())
    or texts, and the rare text the csv module might quote is written by the csv module itself.
    """
    alone = len(cols) == 1
    types = _types()
    line = ",".join(["%s"] * len(cols)) + "\n"
    columns = [_csv_values(data[c], types.get(c, "str"), alone) for c in cols]
    return line % tuple(_csv_values(cols, "str", alone)) + "".join(map(line.__mod__, zip(*columns)))


def _csv_values(values: list, dtype: str, alone: bool) -> list:
    """The values of one column ready for "%s": None as "", texts the csv module might quote written by it."""
    out = ["" if v is None else v for v in values]
    if dtype in ("int", "float") and not alone:         # numbers: nothing to quote
        return out
    texts = list(map(str, out))
    joined = "".join(texts)
    if alone or any(c in joined for c in _CSV_SPECIAL):
        for i, text in enumerate(texts):
            if (alone and not text) or any(c in text for c in _CSV_SPECIAL):
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerow([text] if alone else [text, None])
                out[i] = buf.getvalue()[:-1] if alone else buf.getvalue()[:-2]
    return out


def _types() -> dict[str, str]:
    """The type of every column: the feature's, or that of a key column (anything else is text)."""
    return {**{f.name: f.dtype for f in ROW_FEATURES}, **_TYPES}


def manifest(path: Path, service: str, cols: list[str], rows: list, head: int, as_known_now: bool,
             corrections: str = "none") -> dict:
    return {
        "service": service,
        "output": path.name,
        "output_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "observations": len(rows),
        "log_position": head,
        "knowledge_cutoff": "log position (everything known now)" if as_known_now
        else "per observation: seq of the import.recorded event of the import that brought its transaction in",
        "as_known_now": as_known_now,
        "columns": cols,
        "feature_definitions": definition_hashes(corrections=corrections),
        "merchant_resolver": merchant_fingerprint(),
        "merchant_corrections": corrections,
    }


def training_set(ws, service: str, out: Path, as_known_now: bool = False) -> dict:
    """Build, write OUT and OUT.manifest.json beside it; returns the manifest."""
    from ..merchant.corrections import digest_of
    from .store import refresh

    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        write(out, [], [])                      # raises the one-line error
    if not out.parent.is_dir():                 # checked before any work, so nothing is half written
        raise InputError(f"{out}: the folder {out.parent} does not exist", "create it, or choose another --out")
    refresh(ws)
    cols, data, head = build_columns(ws.conn, service, as_known_now)
    write_columns(out, cols, data)
    info = manifest(out, service, cols, data[KEY_COLUMNS[0]], head, as_known_now, digest_of(ws.conn))
    manifest_path = out.with_name(out.name + ".manifest.json")
    manifest_path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return info
