"""The parsing pass: every row of the file, read with a decided layout.

Row kinds in the data region:
- a transaction: the date cell parses;
- a pending row: the date cell is literally `Pending`, or a status column says pending, or
  (without a status column) the posting-date column beside the transaction date is empty.
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
from decimal import Decimal

from fincli.errors import ParseError
from fincli.ingest import columns
from fincli.ingest.amounts import TWO_SIGNS, AmountError, AmountReader, parse_amount
from fincli.ingest.dates import DateReader, clean, human, latest_plausible, out_of_range, too_late, try_format
from fincli.ingest.detect import ambiguous_dates
from fincli.ingest.rows import ParsedRow
from fincli.money import is_currency

PROGRESS_EVERY = 65536


class SwitchFormat(Exception):
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
                raise SwitchFormat()
            elif iso is not None and self.example is None:
                self.example = cell
        return iso


def _split(cell):
    from fincli.ingest.dates import split_time
    return split_time(clean(cell))


def read_rows(text, layout, name, start, skip_bad, alt, progress, size):
    """One pass over every row with a decided layout: (rows, skipped).

    Raises SwitchFormat when a day-first guess made on the sample meets a month-first
    date, and AmbiguousInputError when day/month order stays open over the whole file."""
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
    posted_i, cat_i, payee_i = cols.get("posted_date"), cols.get("bank_category"), cols.get("payee")
    mark = layout["decimal_mark"]
    default_cur = layout.get("currency")
    used = [j for j in (di, vi, bi, ci, si, idi, posted_i, cat_i, cols.get("fee"), cols.get("direction"))
            if j is not None]
    need = max(used + descs + amount_cols) + 1
    pending_values = columns.PENDING_VALUES
    summary, record, prefixes = columns.SUMMARY.match, columns.BALANCE_RECORD.match, columns.SUMMARY_PREFIXES
    one_desc = descs[0] if len(descs) == 1 else None
    if default_cur is not None and not is_currency(default_cur):
        raise ParseError(name, None, f"the amounts are marked with {default_cur!r}, not a known ISO 4217 currency code",
                         "correct the amounts' currency codes (e.g. EUR 12.00), or remove them and pass --currency")
    rows: list[ParsedRow] = []
    skipped: list[tuple[int, str]] = []
    undated: list[int] = []
    late: set[int] = set()                  # lines of rows dated too far ahead
    latest = latest_plausible()
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=layout["delimiter"])
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
    add = rows.append
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
                progress(int(size * lines.pos / max(1, len(text))), size)
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
                    bad(line, out_of_range(ds, dread.fmt) or f"date '{ds}' is not a date like {fmt_name}",
                        "check the row, or pass --date-format / --skip-bad-rows")
                    continue
            if iso is not None and iso > latest:
                late.add(line)
            if desc[:3].lower() in prefixes and record(desc):
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
                if str(e) == TWO_SIGNS:
                    bad(line, f"amount '{cells}' has {TWO_SIGNS}",
                        "write one sign (-5, +5, 5- or (5)), or pass --skip-bad-rows")
                else:
                    bad(line, f"amount '{cells}' is not a number" if str(e) != "empty" else "amount is empty",
                        "check the row, or pass --decimal-mark / --skip-bad-rows")
                continue
            except _Unreadable as e:
                skipped.append((line, str(e)))
                continue
            if si is not None and row[si].strip().lower() in pending_values:
                pending = True
            elif si is None and posted_i is not None and not row[posted_i].strip():
                pending = True                          # no posting date yet: the bank has not booked it
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
                if currency is not None and not is_currency(currency):
                    bad(line, f"currency {row[ci].strip()!r} is not a known ISO 4217 code",
                        "fix the row (e.g. EUR, USD, JPY), or pass --skip-bad-rows")
                    continue
            bank_id = row[idi].strip() or None if idi is not None else None
            vdate = vread(row[vi]) if vread is not None else None
            if pending and iso is None:
                undated.append(len(rows))
                iso = ""
            category = row[cat_i].strip() or None if cat_i is not None else None
            payee = " ".join(row[payee_i].split()) or None if payee_i is not None else None
            add(ParsedRow(line, iso, amount, desc, currency, bank_id, balance, pending, vdate, category, payee))
    except csv.Error as e:
        raise ParseError(name, prev + 1, f"broken CSV quoting ({e})", "check for an unclosed quote") from None
    finally:
        if gc_was:
            gc.enable()
    if alt and dread.alt_ok and dread.example is not None:
        raise ambiguous_dates(name, dread.example, (layout["date_format"], alt))
    if late:
        # checked after the pass: a day-first guess may still switch to month-first above
        refused = [r for r in rows if r.line in late]
        if refused and not skip_bad:
            raise ParseError(name, refused[0].line, too_late(refused[0].date),
                             "check the row, or pass --date-format / --skip-bad-rows")
        skipped = sorted(skipped + [(r.line, too_late(r.date)) for r in refused])
        rows = [r for r in rows if r.line not in late]
        undated = [i for i, r in enumerate(rows) if not r.date]
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


class _Lines:
    """The lines of a text, one at a time (io.StringIO would hold a 4-byte-per-character copy)."""

    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        start = self.pos
        if start >= len(self.text):
            raise StopIteration
        end = self.text.find("\n", start)
        self.pos = len(self.text) if end < 0 else end + 1
        return self.text[start:self.pos]


def _replace(row: ParsedRow, **changes) -> ParsedRow:
    return row._replace(**changes)


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
        all_in, all_out = columns.IN_TOKENS | ins, columns.OUT_TOKENS | outs

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
