"""Rendering records for stdout: a table, JSON, or CSV. Messages go to stderr.

Descriptions, merchants and payloads come from bank files, so every value is treated as
hostile on its way out:

- tables are built from rich `Text`, never markup, so `[/adjustment]` is shown, not parsed;
- control characters (C0, DEL, C1, bidi overrides, line separators) are shown as visible
  escapes such as `\\x1b` in tables, CSV and messages, so no data can drive the terminal;
  JSON is the exact format: it escapes them itself and round-trips every string;
- CSV text cells that a spreadsheet would run as a formula get a leading `'` (OWASP);
  numeric columns stay numbers.

A table on a terminal fits its width: ids, amounts and dates never wrap, text is cut with
an ellipsis, then the caller's optional columns are dropped. When stdout is not a terminal
the table is written as plain tab-separated lines, one per record, for grep and awk.
Whether stdout is a terminal is rich's decision (`TTY_COMPATIBLE=1` or `FORCE_COLOR` force
a table; `COLUMNS` sets the width).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from enum import Enum
from itertools import islice
from typing import Iterable


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


# Columns holding numbers (or decimal strings of money): right-aligned, never wrapped, never
# prefixed in CSV.
NUMERIC_COLUMNS = {"amount", "balance", "balance_change", "confidence", "seq", "version", "transactions", "rows",
                   "added", "new", "known", "already_present", "posted", "pending_already_posted",
                   "possible_duplicates", "transfers", "skipped", "support", "precision", "recall", "f1",
                   "coverage_at_threshold", "months", "observations"}
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500            # rows per rich table: a million rows never become one table in memory
MIN_TEXT = 20          # a text column is cut with an ellipsis down to this width before columns are dropped
GAP = 3                # spaces between two table columns (padding + separator)


def visible(text: str) -> str:
    """The text with every control character replaced by a visible escape (`\\x1b`, `\\u202e`)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _text(value) -> str:
    """A value as one safe line of text."""
    if type(value) is str:
        return _UNSAFE.sub(_escape, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return visible(str(value))


def is_fixed(column: str) -> bool:
    """Ids, dates and numbers: a person copies them whole, so they never wrap or shrink."""
    return (column in NUMERIC_COLUMNS or column in ("id", "currency") or column.endswith(("_id", "date", "_at")))


def csv_cell(column: str, value):
    """One CSV cell: numbers as they are; text made visible and kept from running as a formula."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = _text(value)             # true/false for booleans, JSON for a list or object
    if column in NUMERIC_COLUMNS and _DECIMAL.fullmatch(text):
        return text
    return "'" + text if text.startswith(FORMULA_START) else text


def stdout_is_terminal() -> bool:
    from rich.console import Console

    return Console(file=sys.stdout).is_terminal


def render(records: Iterable[dict], columns: list[str], fmt: Format, title: str | None = None,
           optional: tuple[str, ...] = ()) -> int:
    """Write the records to stdout as they arrive; returns how many were written.

    `optional` names table columns that may be dropped, first to last, when a terminal is too
    narrow for them."""
    if fmt is Format.json:           # streamed: a million rows never sit in memory as one list
        return _stream(records, "[", lambda r, n: (",\n" if n else "\n") + json.dumps(r, ensure_ascii=False),
                       lambda n: "\n]\n" if n else "]\n")
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")

        def csv_line(row: list) -> str:
            writer.writerow(row)
            line = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return line

        return _stream(records, csv_line(columns), lambda r, n: csv_line([csv_cell(c, r.get(c)) for c in columns]))
    if not stdout_is_terminal():     # plain lines, one per record, under a header (a `# title` line first)
        head = (f"# {visible(title)}\n" if title else "") + "\t".join(columns) + "\n"
        return _stream(records, head, lambda r, n: "\t".join(_text(r.get(c)) for c in columns) + "\n")
    return _tables(records, columns, title, optional)


def _stream(records: Iterable[dict], head: str, line, tail=lambda count: "") -> int:
    """Write head, one line per record, then tail; a thousand lines per write, not one."""
    out, chunk, count = sys.stdout, [head], 0
    for record in records:
        chunk.append(line(record, count))
        count += 1
        if len(chunk) >= 1000:
            out.write("".join(chunk))
            chunk.clear()
    chunk.append(tail(count))
    out.write("".join(chunk))
    return count


def _tables(records: Iterable[dict], columns: list[str], title: str | None, optional: tuple[str, ...]) -> int:
    """Rich tables of at most BATCH rows each, the header on the first only."""
    from rich.console import Console

    from rich.text import Text

    console, records, count = Console(), iter(records), 0
    if title:                          # a line of its own: a narrow table would squeeze it
        console.print(Text(visible(title), style="italic"))
    while True:
        rows = [[_text(r.get(c)) for c in columns] for r in islice(records, BATCH)]
        if count and not rows:
            return count
        console.print(_table(columns, rows, console.width, optional, header=not count))
        count += len(rows)
        if len(rows) < BATCH:
            return count


def _table(columns: list[str], rows: list[list[str]], width: int, optional: tuple[str, ...], header: bool):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown, widths = _fit(columns, rows, width, optional)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, show_header=header)
    for column in shown:
        table.add_column(Text(column, no_wrap=True, overflow="ellipsis"), width=widths[column], no_wrap=True,
                         overflow="ellipsis", justify="right" if column in NUMERIC_COLUMNS else "left")
    index = [columns.index(c) for c in shown]
    for row in rows:
        table.add_row(*(Text(row[i], no_wrap=True, overflow="ellipsis") for i in index))
    return table


def _fit(columns: list[str], rows: list[list[str]], width: int,
         optional: tuple[str, ...]) -> tuple[list[str], dict[str, int]]:
    """Which columns to show and how wide. Text columns are cut down to MIN_TEXT, then optional
    columns are dropped; only then are fixed columns' headers cut (never their values)."""
    from rich.cells import cell_len

    values = {c: max((cell_len(row[i]) for row in rows), default=0) for i, c in enumerate(columns)}
    natural = {c: max(1, min(width, max(values[c], cell_len(c)))) for c in columns}
    comfortable = {c: natural[c] if is_fixed(c) else min(natural[c], MIN_TEXT) for c in columns}
    least = {c: max(1, min(natural[c], values[c] if is_fixed(c) else MIN_TEXT)) for c in columns}
    shown = list(columns)
    droppable = [c for c in optional if c in shown]
    while droppable and sum(comfortable[c] for c in shown) + GAP * (len(shown) - 1) > width:
        shown.remove(droppable.pop(0))
    widths = {c: natural[c] for c in shown}
    excess = sum(widths.values()) + GAP * (len(shown) - 1) - width
    for group in ([c for c in shown if not is_fixed(c)], [c for c in shown if is_fixed(c)]):
        while excess > 0:                     # narrow the widest column of the group by one
            column = max((c for c in group if widths[c] > least[c]), key=widths.get, default=None)
            if column is None:
                break
            widths[column] -= 1
            excess -= 1
    return shown, widths


def render_one(record: dict, fmt: Format) -> None:
    """A single record: key/value lines as a table, or one JSON object."""
    if fmt is Format.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
    elif fmt is Format.csv:
        flat = flatten(record)
        render([flat], list(flat), fmt)
    elif not stdout_is_terminal():
        for key, value in record.items():
            sys.stdout.write(f"{_text(key)}\t{_text(value)}\n")
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(show_header=False, box=None)
        for key, value in record.items():
            table.add_row(Text(_text(key), style="bold"), Text(_text(value), overflow="fold"))
        Console().print(table)


def flatten(record: dict, prefix: str = "") -> dict:
    """Nested objects become columns of their own: {"last_import": {"file": …}} → last_import_file."""
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def message(text: str) -> None:
    """One line on stderr; data inside it cannot reach the terminal as control characters."""
    print(visible(text), file=sys.stderr)
