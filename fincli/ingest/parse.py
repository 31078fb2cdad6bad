"""Turn any bank CSV export into parsed rows, with zero configuration.

Public API: `parse_file`, `parse_bytes`, `builtin_profiles`, `fingerprint`.

Pipeline: bytes → encoding (encoding.py) → shape: delimiter, preamble, header (sniff.py)
→ a built-in profile whose header matches, else detected roles and formats (detect.py)
→ one pass over every row with the csv module, validating each date and amount against
the decided formats.
Row kinds are described in row_reader.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

from fincli.errors import FinError, InputError, ParseError
from fincli.ingest import columns
from fincli.ingest.detect import UndecidedLayout, detect
from fincli.ingest.encoding import decode, read_input
from fincli.ingest.rows import ParsedFile
from fincli.ingest.row_reader import SwitchFormat, read_rows
from fincli.ingest.sniff import find_table, sample_text
from fincli.paths import data_dir

__all__ = ["parse_file", "parse_bytes", "builtin_profiles", "fingerprint"]

ROLES = ("date", "value_date", "description", "amount", "debit", "credit", "fee", "direction", "balance",
         "currency", "bank_id", "status", "posted_date", "bank_category",
         "payee")
SAFETY_NET = True   # turn unexpected exceptions into ParseError; tests switch it off to find bugs


def parse_file(path, *, date_format: str | None = None, decimal_mark: str | None = None, sign: str | None = None,
               profile: dict | None = None, skip_bad_rows: bool = False, progress=None) -> ParsedFile:
    """Parse a bank export file. Raises InputError/ParseError/AmbiguousInputError only."""
    return _guarded(str(path), lambda: _parse(read_input(path, progress), str(path), date_format, decimal_mark,
                                                  sign, profile, skip_bad_rows, progress))


def parse_bytes(data: bytes, name: str, *, date_format: str | None = None, decimal_mark: str | None = None,
                sign: str | None = None, profile: dict | None = None, skip_bad_rows: bool = False,
                progress=None) -> ParsedFile:
    """Parse an export already in memory; `name` is used in messages and ParsedFile.path."""
    return _guarded(name, lambda: _parse(bytes(data), name, date_format, decimal_mark, sign, profile,
                                         skip_bad_rows, progress))


def fingerprint(header: list[str] | None, delimiter: str, ncols: int) -> str:
    """Shape of a file: its normalized header (or, without one, its width) and delimiter."""
    cells = _header_key(header) if header else [f"<{ncols} columns>"]
    key = json.dumps([delimiter, cells])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def builtin_profiles() -> dict[str, dict]:
    """Shipped bank layouts: name → layout, from data/profiles/*.json."""
    out = {}
    folder = data_dir() / "profiles"
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
            layout = doc["layout"]
            layout["fingerprint"] = fingerprint(layout.get("header"), layout["delimiter"], layout.get("ncols", 0))
            out[doc["name"]] = layout
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


# ---------------------------------------------------------------------------------------

def _guarded(name: str, work):
    try:
        return work()
    except FinError:
        raise
    except RecursionError:
        raise ParseError(name, None, "file is nested too deeply to read") from None
    except Exception as e:  # noqa: BLE001 - the contract: only FinError leaves this module
        if not SAFETY_NET:
            raise
        raise ParseError(name, None, f"could not be read ({type(e).__name__}: {e})",
                         "please report this file's shape as a bug") from e


def _check_options(date_format, decimal_mark, sign):
    if decimal_mark not in (None, ".", ","):
        raise InputError(f"--decimal-mark must be '.' or ',', not {decimal_mark!r}")
    if sign not in (None, "normal", "inverted"):
        raise InputError(f"--sign must be 'normal' or 'inverted', not {sign!r}")
    if date_format is not None and ("%" not in date_format or not any(x in date_format for x in ("%d", "%j"))):
        raise InputError(f"--date-format {date_format!r} is not a strptime format", "for example %d/%m/%Y")


def _header_key(header) -> list[str]:
    cells = [columns.norm(name) for name in header]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _parse(data, name, date_format, decimal_mark, sign, profile, skip_bad_rows, progress) -> ParsedFile:
    _check_options(date_format, decimal_mark, sign)
    if profile is not None:
        layout = _validated_profile(profile, name)
        enc = layout["encoding"]
        try:
            text = data.decode("utf-8-sig" if enc in ("utf-8", "utf-8-sig") else enc)
        except (UnicodeDecodeError, LookupError):
            text, enc = decode(data, name)
    else:
        text, enc = decode(data, name)
        layout = None
    text = text.lstrip("\ufeff")
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
    sample, complete = sample_text(text)
    alt = evidence = None
    if layout is not None:
        layout = dict(layout)
        for key, val in (("date_format", date_format), ("decimal_mark", decimal_mark), ("sign", sign)):
            if val:
                layout[key] = val
        start = _find_start(text, layout, name)
    else:
        table = find_table(sample)
        if table is None:
            raise ParseError(name, None, "no column of dates found; is this a bank export?",
                             "fin reads CSV exports with one transaction per line")
        builtin = None
        if not (date_format or decimal_mark or sign) and table.header:
            key = _header_key(table.header)
            builtin = next((lay for lay in builtin_profiles().values()
                            if lay.get("header") and _header_key(lay["header"]) == key
                            and lay.get("delimiter") == table.delimiter), None)
        if builtin is not None:
            layout = dict(builtin, encoding=enc, header=table.header, header_line=table.header_line,
                          skip_lines=table.header_line - 1)
        else:
            try:
                layout, alt, evidence = detect(table, enc, name, complete, date_format=date_format,
                                               decimal_mark=decimal_mark, sign=sign)
            except UndecidedLayout as exc:
                exc.fingerprint = fingerprint(table.header, table.delimiter, table.ncols)
                raise
        start = layout["header_line"] if layout.get("header") else layout["skip_lines"]
    try:
        rows, skipped = read_rows(text, layout, name, start, skip_bad_rows, alt, progress, len(data))
    except UndecidedLayout as exc:
        exc.fingerprint = fingerprint(layout.get("header"), layout["delimiter"], layout["ncols"])
        raise
    except SwitchFormat:
        layout["date_format"] = alt
        if layout["columns"].get("value_date") is not None and layout.get("value_date_format") == layout["date_format"]:
            layout["value_date_format"] = alt
        rows, skipped = read_rows(text, layout, name, start, skip_bad_rows, None, progress, len(data))
    fp = fingerprint(layout.get("header"), layout["delimiter"], layout["ncols"])
    layout["fingerprint"] = fp
    return ParsedFile(path=name, layout=layout, rows=rows, skipped=skipped, fingerprint=fp, sign_evidence=evidence)


def _validated_profile(profile, name) -> dict:
    try:
        cols = profile["columns"]
        ok = (isinstance(profile.get("delimiter"), str) and len(profile["delimiter"]) == 1
              and isinstance(cols, dict) and isinstance(cols.get("date"), int)
              and (isinstance(cols.get("amount"), int) or isinstance(cols.get("debit"), int))
              and isinstance(profile.get("date_format"), str) and profile.get("decimal_mark") in (".", ","))
    except (TypeError, KeyError, AttributeError):
        ok = False
    if not ok:
        raise InputError(f"{name}: the profile is not a valid layout", "save a profile from a detected import")
    out = json.loads(json.dumps(profile))
    out.setdefault("encoding", "utf-8")
    out.setdefault("ncols", 0)
    for role in ROLES:
        out["columns"].setdefault(role, [] if role == "description" else None)
    return out


def _find_start(text: str, layout: dict, name) -> int:
    """Line after which data begins, for a saved layout: after its header, wherever it now is."""
    if not layout.get("header"):
        return int(layout.get("skip_lines") or 0)
    key = _header_key(layout["header"])
    reader = csv.reader(io.StringIO(text), delimiter=layout["delimiter"])
    try:
        for i, row in enumerate(reader):
            if _header_key(row) == key:
                return reader.line_num
            if i > 200:
                break
    except csv.Error:
        pass
    raise ParseError(name, None, "the header of the chosen profile was not found in this file",
                     "import without --profile to detect the layout")
