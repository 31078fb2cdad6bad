"""Rendering records for stdout: a rich table, JSON, or CSV. Messages go to stderr."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from typing import Iterable


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def render(records: Iterable[dict], columns: list[str], fmt: Format, title: str | None = None) -> None:
    if fmt is Format.json:
        out, empty = sys.stdout, True
        out.write("[")
        for record in records:       # streamed: a million rows never sit in memory as one list
            out.write("\n" if empty else ",\n")
            out.write(json.dumps(record, ensure_ascii=False))
            empty = False
        out.write("]\n" if empty else "\n]\n")
    elif fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({key: csv_value(value) for key, value in record.items()})
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column, justify="right" if column in ("amount", "seq", "transactions") else "left",
                             overflow="fold")
        for record in records:
            table.add_row(*("" if record.get(c) is None else str(record.get(c)) for c in columns))
        Console().print(table)


def render_one(record: dict, fmt: Format) -> None:
    """A single record: key/value lines as a table, or one JSON object."""
    if fmt is Format.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
    elif fmt is Format.csv:
        flat = flatten(record)
        render([flat], list(flat), fmt)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_header=False, box=None)
        for key, value in record.items():
            table.add_row(f"[bold]{key}[/bold]", json.dumps(value) if isinstance(value, (dict, list)) else str(value))
        Console().print(table)


def csv_value(value):
    """A CSV cell as other tools read it: true/false, empty for null, JSON for a list or object."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


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
    print(text, file=sys.stderr)
