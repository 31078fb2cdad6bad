"""The shape of a file: delimiter, preamble, header row and where the data starts.

Decided on a sample (the first few thousand lines), from every line of it: the
delimiter is the one that splits most lines into the same number of fields, the first
data row is the first wide-enough row with a date in the date column, and the header is
the text row just before it (if that row holds no numbers).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

from fincli.ingest.amounts import looks_numeric
from fincli.ingest.dates import clean, formats_for

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_LINES = 3000
csv.field_size_limit(1 << 24)


@dataclass
class Table:
    delimiter: str
    ncols: int
    header: list[str] | None
    header_line: int | None          # 1-based physical line of the header row
    start_line: int                  # 1-based physical line of the first data row
    rows: list[tuple[int, list[str]]]  # sample rows from start_line on: (line, cells)
    date_col: int


def sample_text(text: str, lines: int = SAMPLE_LINES) -> tuple[str, bool]:
    """The first `lines` lines of text, and whether that is the whole text."""
    pos = 0
    for _ in range(lines):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return text, True
    return text[:pos], pos >= len(text)


def read_rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out, prev = [], 0
    try:
        for row in reader:
            out.append((prev + 1, row))
            prev = reader.line_num
    except csv.Error:
        pass
    return out


def pick_delimiter(sample: str) -> tuple[str, int, list[tuple[int, list[str]]]]:
    best = []
    for d in DELIMITERS:
        rows = read_rows(sample, d)
        counts = Counter(len(r) for _, r in rows if any(c.strip() for c in r))
        if not counts:
            continue
        # the most frequent width; ties go to the wider one
        mode, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        best.append((n, mode, d, rows))
    if not best:
        return ",", 1, []
    top = max(n for n, mode, *_ in best if mode > 1) if any(m > 1 for _, m, *_ in best) else 0
    good = [b for b in best if b[1] > 1 and b[0] >= 0.7 * top]
    if not good:
        n, mode, d, rows = best[0]
        return d, mode, rows
    n, mode, d, rows = max(good, key=lambda b: (b[1] * min(b[0], top), b[0]))
    return d, mode, rows


def is_dateish(cell: str) -> bool:
    return bool(formats_for(cell))


def find_table(sample: str) -> Table | None:
    delimiter, ncols, rows = pick_delimiter(sample)
    if ncols < 2:
        return None
    wide = max(2, int(ncols * 0.6))
    cache: dict[str, bool] = {}

    def dated(cell: str) -> bool:
        r = cache.get(cell)
        if r is None:
            r = cache[cell] = is_dateish(cell)
        return r

    hits = Counter()
    for _, row in rows:
        if len(row) >= wide:
            for j, c in enumerate(row[:ncols]):
                if c and dated(c):
                    hits[j] += 1
    if not hits:
        return None
    date_col = min(hits, key=lambda j: (-hits[j], j))
    first = None
    for i, (line, row) in enumerate(rows):
        if len(row) >= wide and len(row) > date_col:
            cell = row[date_col]
            if dated(cell) or clean(cell).lower() == "pending":
                first = i
                break
    if first is None:
        return None
    header, header_line = None, None
    for line, row in reversed(rows[:first]):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        filled = [c for c in cells if c]
        numbers = sum(1 for c in filled if looks_numeric(c) or dated(c))
        if len(row) >= wide and len(filled) >= 2 and numbers <= len(filled) // 10:
            header = [c.lstrip("\ufeff").strip() for c in row]
            header_line = line
        break
    return Table(delimiter, ncols, header, header_line, rows[first][0], rows[first:], date_col)
