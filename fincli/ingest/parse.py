"""Turn any bank CSV export into parsed rows, with zero configuration.

Public API: `parse_file`, `parse_bytes`, `builtin_profiles`, `fingerprint`.

Pipeline: bytes → encoding (encoding.py) → shape: delimiter, preamble, header (sniff.py)
→ a built-in profile whose header matches, else detected roles and formats (detect.py)
→ one pass over every row with the csv module, validating each date and amount against
the decided formats.

Row kinds in the data region:
- a transaction: the date cell parses;
- a pending row: the date cell is literally `Pending`, or a status column says pending.
  A `Pending` date has no date of its own: it gets the most recent date of the file's
  other rows (the export date is rarely stated reliably), and `pending=True`;
- a continuation: empty date and no amount, only text → appended to the previous
  row's description with " | ";
- junk: no date and no amount (a note like `A null transaction…`), a repeated header,
  a balance/turnover summary record, or a row whose debit/credit marker is not one →
  skipped and recorded in `ParsedFile.skipped`, never an error;
- a bad row: the date cell is garbage while the amount parses, or the date parses and the
  amount does not → ParseError naming file and line, or with `skip_bad_rows=True` it
  is skipped and recorded.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from decimal import Decimal

from fincli.errors import AmbiguousInputError, FinError, InputError, ParseError
from fincli.ingest import columns as C
from fincli.ingest.amounts import AmountError, AmountReader, parse_amount
from fincli.ingest.dates import DateReader, clean, human, try_format
from fincli.ingest.detect import LAYOUT_VERSION, ambiguous_dates, detect
from fincli.ingest.encoding import decode, read_input
from fincli.ingest.rows import ParsedFile, ParsedRow
from fincli.ingest.sniff import find_table, sample_text
from fincli.paths import data_dir

__all__ = ["parse_file", "parse_bytes", "builtin_profiles", "fingerprint"]

PROGRESS_EVERY = 65536
ROLES = ("date", "value_date", "description", "amount", "debit", "credit", "fee", "direction", "balance",
         "currency", "bank_id", "status")
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
    cells = [C.norm(h) for h in header]
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
    alt = None
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
            layout, alt = detect(table, enc, name, complete, date_format=date_format,
                                 decimal_mark=decimal_mark, sign=sign)
        start = layout["header_line"] if layout.get("header") else layout["skip_lines"]
    try:
        rows, skipped = _read(text, layout, name, start, skip_bad_rows, alt, progress, len(data))
    except _Switch:
        layout["date_format"] = alt
        if layout["columns"].get("value_date") is not None and layout.get("value_date_format") == layout["date_format"]:
            layout["value_date_format"] = alt
        rows, skipped = _read(text, layout, name, start, skip_bad_rows, None, progress, len(data))
    fp = fingerprint(layout.get("header"), layout["delimiter"], layout["ncols"])
    layout["fingerprint"] = fp
    return ParsedFile(path=name, layout=layout, rows=rows, skipped=skipped, fingerprint=fp)


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


class _Switch(Exception):
    """The sample's day-first guess was wrong: the file is month-first."""


class _AmbiguousDates(DateReader):
    """Day-first reader that also watches whether month-first still fits every value."""

    def __init__(self, fmt, alt):
        super().__init__(fmt, True)
        self.alt, self.alt_ok, self.example = alt, True, None

    def __call__(self, cell):
        if cell in self.cache:
            return self.cache[cell]
        iso = super().__call__(cell)
        if self.alt_ok and clean(cell):
            other = try_format(clean(cell), self.alt) or try_format(_split(cell), self.alt)
            if other is None and iso is not None:
                self.alt_ok = False
            elif other is not None and iso is None:
                raise _Switch()
            elif iso is not None and self.example is None:
                self.example = cell
        return iso


def _split(cell):
    from fincli.ingest.dates import split_time
    return split_time(clean(cell))


def _read(text, layout, name, start, skip_bad, alt, progress, size):
    cols = layout["columns"]
    di = cols["date"]
    dread = _AmbiguousDates(layout["date_format"], alt) if alt else DateReader(layout["date_format"], True)
    vi = cols.get("value_date")
    vread = DateReader(layout.get("value_date_format") or layout["date_format"], True) if vi is not None else None
    descs = list(cols.get("description") or [])
    amount_of = _amount_function(layout)
    value_of = AmountReader(layout["decimal_mark"]).value
    amount_cols = [cols[k] for k in ("amount", "debit", "credit") if cols.get(k) is not None]
    bi, ci, si, idi = cols.get("balance"), cols.get("currency"), cols.get("status"), cols.get("bank_id")
    mark = layout["decimal_mark"]
    default_cur = layout.get("currency")
    used = [j for j in (di, vi, bi, ci, si, idi, cols.get("fee"), cols.get("direction")) if j is not None]
    need = max(used + descs + amount_cols) + 1
    pending_values = C.PENDING_VALUES
    summary, prefixes = C.SUMMARY.match, C.SUMMARY_PREFIXES
    one_desc = descs[0] if len(descs) == 1 else None
    rows: list[ParsedRow] = []
    skipped: list[tuple[int, str]] = []
    undated: list[int] = []
    sio = io.StringIO(text)
    reader = csv.reader(sio, delimiter=layout["delimiter"])
    prev = 0
    n = 0
    fmt_name = human(layout["date_format"])

    def bad(line, message, hint=None):
        if skip_bad:
            skipped.append((line, message))
        else:
            raise ParseError(name, line, message, hint)

    dcache = dread.cache
    plain, comma = AmountReader(mark).plain, mark == ","
    simple_ai = _simple_amount_column(layout)
    new_row, add = object.__new__, rows.append
    gc_was = gc.isenabled()
    gc.disable()    # a million small objects: the cyclic collector only slows the build down
    try:
        for row in reader:
            line = prev + 1
            prev = reader.line_num
            if line <= start:
                continue
            n += 1
            if progress and n % PROGRESS_EVERY == 0:
                progress(int(size * sio.tell() / max(1, len(text))), size)
            if len(row) < need:
                if not row or not any(c.strip() for c in row):
                    continue
                row = row + [""] * (need - len(row))
            dcell = row[di]
            iso = dcache.get(dcell)
            if iso is None:
                iso = dread(dcell)
            if one_desc is not None:
                desc = row[one_desc].strip()
            else:
                desc = " | ".join(x for x in (row[j].strip() for j in descs) if x)
            pending = False
            if iso is None:
                ds = clean(dcell)
                if ds.lower() == "pending":
                    pending = True
                else:
                    has_amount = any(row[j].strip() for j in amount_cols)
                    if not ds:
                        if not has_amount:
                            text_cells = desc or " | ".join(c.strip() for c in row if c.strip())
                            if rows and text_cells:
                                last = rows[-1]
                                rows[-1] = _replace(last, description=f"{last.description} | {text_cells}"
                                                    if last.description else text_cells)
                            continue
                        bad(line, "date is empty", "every transaction row needs a date")
                        continue
                    if not has_amount or not _amount_ok(row, amount_cols, mark) or summary(ds) or summary(desc):
                        skipped.append((line, f"not a transaction: {_short(row)}"))
                        continue
                    bad(line, f"date '{ds}' is not a date like {fmt_name}",
                        "check the row, or pass --date-format / --skip-bad-rows")
                    continue
            if desc[:3].lower() in prefixes and summary(desc):
                skipped.append((line, f"balance/summary record, not a transaction: {_short(row)}"))
                continue
            try:
                if simple_ai is not None:
                    cell = row[simple_ai]
                    if plain(cell):
                        amount = Decimal(cell.replace(",", ".") if comma else cell)
                    else:
                        amount = value_of(cell)
                else:
                    amount = amount_of(row)
            except AmountError as e:
                cells = "/".join(row[j].strip() for j in amount_cols)
                bad(line, f"amount '{cells}' is not a number" if str(e) != "empty" else "amount is empty",
                    "check the row, or pass --decimal-mark / --skip-bad-rows")
                continue
            except _Unreadable as e:
                skipped.append((line, str(e)))
                continue
            if si is not None and row[si].strip().lower() in pending_values:
                pending = True
            balance = None
            if bi is not None:
                cell = row[bi]
                if cell:
                    try:
                        balance = Decimal(cell.replace(",", ".") if comma else cell) if plain(cell) else value_of(cell)
                    except AmountError:
                        balance = None
            currency = default_cur
            if ci is not None:
                currency = row[ci].strip().upper() or default_cur
            bank_id = row[idi].strip() or None if idi is not None else None
            vdate = vread(row[vi]) if vread is not None else None
            if pending and iso is None:
                undated.append(len(rows))
                iso = ""
            # ParsedRow is frozen: fill its __dict__ directly (same result as __init__, half the cost)
            r = new_row(ParsedRow)
            r.__dict__.update(line=line, date=iso, amount=amount, description=desc, currency=currency,
                              bank_id=bank_id, balance=balance, pending=pending, value_date=vdate)
            add(r)
    except csv.Error as e:
        raise ParseError(name, prev + 1, f"broken CSV quoting ({e})", "check for an unclosed quote") from None
    finally:
        if gc_was:
            gc.enable()
    if alt and dread.alt_ok and dread.example is not None:
        raise ambiguous_dates(name, dread.example, (layout["date_format"], alt))
    if undated:
        dated = [r.date for r in rows if r.date]
        if not dated:
            raise ParseError(name, None, "pending rows have no date and no other row gives one",
                             "import the file again once the transactions are booked")
        latest = max(dated)
        for i in undated:
            rows[i] = _replace(rows[i], date=latest)
    if not rows:
        raise ParseError(name, None, "no transactions found", "check that this is a transaction export")
    if progress:
        progress(size, size)
    return rows, skipped


def _simple_amount_column(layout) -> int | None:
    """The amount column when it is read as is: one signed column, no fee, no markers."""
    cols = layout["columns"]
    if (cols.get("amount") is None or cols.get("direction") is not None or cols.get("fee") is not None
            or layout.get("plus_is_credit") or layout.get("sign") == "inverted"):
        return None
    return cols["amount"]


def _replace(row: ParsedRow, **changes) -> ParsedRow:
    from dataclasses import replace
    return replace(row, **changes)


def _short(row) -> str:
    s = " ".join(c.strip() for c in row if c.strip())
    return repr(s[:60] + ("…" if len(s) > 60 else ""))


def _amount_ok(row, amount_cols, mark) -> bool:
    for j in amount_cols:
        if row[j].strip():
            try:
                parse_amount(row[j], mark)
            except AmountError:
                return False
    return True


class _Unreadable(Exception):
    """A row whose direction cannot be read: skipped and recorded, never guessed."""


def _amount_function(layout):
    cols = layout["columns"]
    reader = AmountReader(layout["decimal_mark"])
    value, full = reader.value, reader.full
    inverted = layout.get("sign") == "inverted"
    fee_i = cols.get("fee")

    def with_fee(amount, row):
        if fee_i is not None and row[fee_i].strip():
            amount -= abs(value(row[fee_i]))
        return amount

    if cols.get("amount") is None:
        di, ci = cols["debit"], cols["credit"]

        def split(row):
            d, c = row[di].strip(), row[ci].strip()
            if not d and not c:
                raise AmountError("empty")
            amt = (abs(value(c)) if c else Decimal(0)) - (abs(value(d)) if d else Decimal(0))
            return with_fee(-amt if inverted else amt, row)
        return split

    ai = cols["amount"]
    if cols.get("direction") is not None:
        xi = cols["direction"]
        ins, outs = set(layout.get("direction_in") or []), set(layout.get("direction_out") or [])
        blank = layout.get("direction_blank")
        all_in, all_out = C.IN_TOKENS | ins, C.OUT_TOKENS | outs

        def directed(row):
            v = abs(value(row[ai]))
            flag = row[xi].strip().lower()
            if flag in ins or (not ins and flag in all_in and flag not in outs):
                amt = v
            elif flag in outs or (not outs and flag in all_out and flag not in ins):
                amt = -v
            elif not flag and blank in ("in", "out"):
                amt = v if blank == "in" else -v
            else:
                raise _Unreadable(f"debit/credit marker {row[xi].strip()!r} is neither; row not imported")
            return with_fee(-amt if inverted else amt, row)
        return directed

    if layout.get("plus_is_credit"):
        def marked(row):
            a = full(row[ai])
            amt = a.value if a.plus else -abs(a.value)
            return with_fee(amt, row)
        return marked

    if fee_i is None:
        if inverted:
            return lambda row: -value(row[ai])
        return lambda row: value(row[ai])
    return lambda row: with_fee(-value(row[ai]) if inverted else value(row[ai]), row)
