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
from pathlib import Path

from .. import events as ev
from ..errors import InputError
from .catalog import ROW_FEATURES, definition_hashes
from .observations import SOURCES
from .pit import History, Query, columns_for, resolve

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
    head = ev.head(conn)[0]
    observations = source.load(conn) if queries is None else []
    if queries is None:
        queries = [Query(o.txn_id, o.seq) for o in observations]
    anchors, cutoffs = resolve(conn, queries, head, as_known_now)
    hist = History(conn) if queries else None
    features = columns_for(hist, anchors, cutoffs) if queries else {}
    targets = source.target_at(conn, observations, cutoffs) if observations else [None] * len(queries)
    retracted = (~hist.visible(anchors.seq, cutoffs)).astype(int).tolist() if queries else []
    for i in np.flatnonzero(~anchors.found).tolist():
        retracted[i] = None
    keys = {
        "observation": [o.id for o in observations] if observations else list(range(1, len(queries) + 1)),
        "txn_id": [q.txn_id for q in queries],
        "cutoff": cutoffs,
        "account": anchors.account,
        "date": anchors.date,
        "retracted": retracted,
        source.target: targets,
    }
    features = features or {f.name: [] for f in ROW_FEATURES}
    return columns(service), {**keys, **features}, head


def write(path: Path, cols: list[str], rows: list[dict]) -> None:
    write_columns(path, cols, {c: [r[c] for r in rows] for c in cols})


def write_columns(path: Path, cols: list[str], data: dict[str, list]) -> None:
    """`write` for rows given column by column (`data[c]` for each of `cols`, all the same length)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown output format {path.suffix or '(no extension)'!r}",
                         "name the file .csv, .jsonl or .parquet")
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        values = zip(*(data[c] for c in cols))
        if len(cols) > 1:                       # the csv module writes None as an empty field
            writer.writerows(values)
        else:
            writer.writerows([("" if v is None else v) for v in row] for row in values)
        path.write_bytes(buf.getvalue().encode("utf-8"))
    elif fmt == "jsonl":
        path.write_bytes("".join(json.dumps(dict(zip(cols, values)), ensure_ascii=False) + "\n"
                                 for values in zip(*(data[c] for c in cols))).encode("utf-8"))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "json": pa.string()}
        types = {**{f.name: f.dtype for f in ROW_FEATURES}, **_TYPES}
        schema = pa.schema([(c, kinds[types.get(c, "str")]) for c in cols])
        table = pa.table({c: data[c] for c in cols}, schema=schema)
        pq.write_table(table, path, compression="zstd")


def manifest(path: Path, service: str, cols: list[str], rows: list, head: int, as_known_now: bool) -> dict:
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
        "feature_definitions": definition_hashes(),
    }


def training_set(ws, service: str, out: Path, as_known_now: bool = False) -> dict:
    """Build, write OUT and OUT.manifest.json beside it; returns the manifest."""
    from .store import refresh

    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        write(out, [], [])                      # raises the one-line error
    refresh(ws)
    cols, data, head = build_columns(ws.conn, service, as_known_now)
    write_columns(out, cols, data)
    info = manifest(out, service, cols, data[KEY_COLUMNS[0]], head, as_known_now)
    manifest_path = out.with_name(out.name + ".manifest.json")
    manifest_path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return info
