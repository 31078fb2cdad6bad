"""From a file's shape and sample rows to a layout: roles, formats, mark and sign.

Everything is decided from all sample rows at once; what the sample leaves open
(day/month order) is settled over the whole file by the parser, and what the file
cannot tell (sign of an unsigned amount column) raises AmbiguousInputError.
"""

from __future__ import annotations

import re

from fincli.errors import AmbiguousInputError, ParseError
from fincli.ingest import columns
from fincli.ingest.amounts import AmountError, decide_mark, split_sign
from fincli.ingest.dates import clean, column_formats, human, is_day_month_pair
from fincli.ingest.sniff import Table

CREDIT_WORDS = re.compile(r"payment (received|thank)|thank you|refund|credit|gutschrift|remboursement|devoluci|"
                          r"terugbetaling|cashback|rembours|storno|reversal|abono|^payment$|^autopay", re.I)
# Whole cells of a type or category column that say what a card row is.
CREDIT_KINDS = re.compile(r"(payments?|credits?|returns?|refunds?|payments? and credits?|payment/credit|"
                          r"credit/payment|reversal|chargeback|adjustment|cashback|rewards?)", re.I)
CHARGE_KINDS = re.compile(r"(purchases?|sales?|debit|fee|fees|interest charge|cash advance)", re.I)
LAYOUT_VERSION = 1


def _date_info(col: columns.Column):
    vals = [v for v in col.filled if clean(v).lower() != "pending"]
    fmts, dated = column_formats(vals)
    return vals, fmts, dated


def _pick_format(name, vals, fmts, path, complete, others):
    """One format for a date column; a day/month tie is settled by a sibling column, the
    rest of the file (the parser does that when the sample is not the whole file), or an error."""
    pair = is_day_month_pair(fmts)
    if not pair:
        return fmts[0], None
    for ofmts in others:
        hits = [f for f in pair if f in ofmts]
        if len(hits) == 1 and not is_day_month_pair(ofmts):
            return hits[0], None
    if complete:
        raise ambiguous_dates(path, vals[0], pair)
    return pair[0], pair[1]


class UndecidedLayout(AmbiguousInputError):
    """The file alone cannot tell one setting of its layout (`option`: sign or date_format).
    The account's earlier imports of the same layout (`fingerprint`, set by the parser) may."""

    fingerprint = ""

    def __init__(self, option: str, path, line, message, hint=None):
        super().__init__(path, line, message, hint)
        self.option = option


def ambiguous_dates(path, example: str, pair) -> UndecidedLayout:
    a, b = pair
    return UndecidedLayout(
        "date_format", path, None, f"dates like {clean(example)} fit both {human(a)} and {human(b)}; "
                                   f"pass --date-format {a} or --date-format {b}")


def detect(table: Table, encoding: str, path, complete: bool, *, date_format=None, decimal_mark=None,
           sign=None) -> tuple[dict, str | None, dict | None]:
    """Return (layout, alternative date format still to be ruled out over the whole file,
    the sign evidence of a signed amount column when the file's rows decided the sign)."""
    header = table.header
    width = max(table.ncols, len(header or []))
    wide = max(2, int(table.ncols * 0.6))
    data = [r for _, r in table.rows if len(r) >= wide and len(r) > table.date_col
            and (columns.clean_date_like(r[table.date_col]))]
    if not data:
        raise ParseError(path, None, "no transaction rows found")
    cols = [columns.Column(j, header[j] if header and j < len(header) else "", [r[j] if j < len(r) else "" for r in data])
            for j in range(width)]

    # dates
    dates, mixed = [], None
    for col in cols:
        vals, fmts, dated = _date_info(col)
        if vals and not fmts and dated >= 0.9 * len(vals) and dated >= 0.5 * len(data) and mixed is None:
            mixed = col
        if vals and fmts and dated >= 0.9 * len(vals) and dated >= 0.5 * len(data):
            if date_format and not all(columns.fits(v, date_format) for v in vals):
                continue
            dates.append((col, vals, fmts))
    if not dates:
        if date_format:
            raise ParseError(path, None, f"no column of dates matches --date-format {date_format}",
                             "check the format against the file's date column")
        if mixed is not None:
            raise ParseError(path, None, f"dates in column {mixed.index + 1}{_q(mixed.name)} are written in more than "
                                         f"one format (e.g. {mixed.filled[0]!r})", "pass --date-format FMT")
        raise ParseError(path, None, "no column of dates found; is this a bank export?")
    dates.sort(key=lambda d: (-columns.date_rank(d[0].key), -len(d[1]), d[0].index))
    dcol, dvals, dfmts = dates[0]
    rest = dates[1:]
    vcol = next((d for d in rest if columns.date_rank(d[0].key) == -1), None)
    if vcol is None and not header and rest:
        vcol = min(rest, key=lambda d: d[0].index)
    alt = None
    if date_format:
        dfmt = date_format
    else:
        dfmt, alt = _pick_format(dcol.name, dvals, dfmts, path, complete, [d[2] for d in rest])
    vfmt = None
    if vcol:
        vfmt = dfmt if dfmt in vcol[2] else vcol[2][0]
    date_cols = {d[0].index for d in dates}
    # A second date column that is the posting date: a row without one is not booked yet.
    posted = next((d[0] for d in rest if header and columns.header_has(d[0].key, *columns.POSTED_DATE_WORDS)
                   and not columns.header_has(dcol.key, *columns.POSTED_DATE_WORDS)), None)

    # amounts
    kinds = {c.index: columns.amount_kind(c.key) for c in cols}
    numeric = [c for c in cols if c.index not in date_cols and c.is_number]
    empty = [c for c in cols if c.index not in date_cols and not c.filled]
    roles: dict = {"amount": None, "debit": None, "credit": None, "fee": None, "balance": None}
    if header:
        named = [c for c in cols if c.index not in date_cols and c.mostly_number]
        nets = [c for c in named if kinds[c.index] == "net"]
        amounts = [c for c in named if kinds[c.index] == "amount"]
        amounts.sort(key=lambda c: (c.key not in ("amount", "betrag", "bedrag", "montant", "importe"), c.index))
        roles["amount"] = (nets or amounts or [None])[0]
        split_ok = named + empty
        deb = [c for c in split_ok if kinds[c.index] == "debit"]
        cred = [c for c in split_ok if kinds[c.index] == "credit"]
        if roles["amount"] is None and deb and cred:
            roles["debit"], roles["credit"] = deb[0], cred[0]
        if not nets:
            roles["fee"] = next((c for c in numeric if kinds[c.index] == "fee"), None)
        roles["balance"] = next((c for c in numeric if kinds[c.index] == "balance"), None)
    orientation_from_counts = False
    if roles["amount"] is None and roles["debit"] is None:
        cands = [c for c in numeric if kinds[c.index] not in ("foreign", "balance", "fee")
                 and (c.decimals or c.negative or c.plus or (header and kinds[c.index]))]
        signed = [c for c in cands if c.negative]
        if signed:
            roles["amount"] = signed[0]
        else:
            pair = _exclusive_pair(cands, data)
            if pair:
                roles["debit"], roles["credit"] = pair
                orientation_from_counts = True
            elif cands:
                roles["amount"] = cands[0]
    if roles["amount"] is None and roles["debit"] is None:
        raise ParseError(path, None, "no column of amounts found", "the file needs a money amount column")

    used = {c.index for c in roles.values() if c is not None} | date_cols
    layout_sign, plus_credit, direction, evidence = "normal", False, None, None
    amt = roles["amount"]
    if amt is not None and not amt.negative:
        direction = _direction(cols, used, header)
    if amt is not None:
        if direction:
            layout_sign = sign or "normal"
        elif amt.negative:
            evidence = None if sign else sign_evidence(amt, data, cols, used)
            layout_sign = sign or evidence["sign"]
        elif sign:
            layout_sign = sign
        elif amt.plus:
            layout_sign, plus_credit = "inverted", True
        elif (evidence := sign_evidence(amt, data, cols, used))["strength"] == "strong":
            layout_sign = evidence["sign"]    # a type column says which rows are purchases
        else:
            raise UndecidedLayout(
                "sign", path, None, f"amounts in column {amt.index + 1}{_q(amt.name)} are never negative and no column says "
                            "debit or credit; pass --sign normal (positive = money in) or --sign inverted "
                            "(positive = money out, as on card statements)")
    elif orientation_from_counts:
        d, c = roles["debit"], roles["credit"]
        if sign:
            roles["debit"], roles["credit"] = (d, c) if sign == "normal" else (c, d)
        elif len(d.filled) == len(c.filled):
            raise AmbiguousInputError(
                path, None, f"columns {d.index + 1} and {c.index + 1} hold unsigned amounts with no header to say which is "
                            "money out; pass --sign normal (left column = money out) or --sign inverted")
        elif len(d.filled) < len(c.filled):
            roles["debit"], roles["credit"] = c, d    # spending rows outnumber income rows
    elif sign == "inverted":
        layout_sign = "inverted"
    if direction:
        used.add(direction[0].index)

    # decimal mark
    money_cells = [v for c in roles.values() if c is not None for v in c.filled]
    mark = decimal_mark or decide_mark(money_cells)
    if mark is None:
        seps = "".join(ch for v in money_cells for ch in v if ch in ".,")
        mark = "." if "," in seps else ("," if "." in seps else ".")

    # other roles
    ccol = _currency_col(cols, used, amt or roles["debit"], header)
    status = next((c for c in cols if c.key in columns.STATUS_NAMES and c.index not in used), None) if header else None
    bank_id = next((c for c in cols if c.key in columns.ID_NAMES and c.index not in used), None) if header else None
    bank_category = next((c for c in cols if c.key in columns.CATEGORY_NAMES and c.index not in used and not c.is_number),
                         None) if header else None
    for c in (ccol, status, bank_id, bank_category):
        if c is not None:
            used.add(c.index)
    desc = _descriptions(cols, used, header, direction)

    layout = {
        "version": LAYOUT_VERSION,
        "encoding": encoding,
        "delimiter": table.delimiter,
        "ncols": table.ncols,
        "header": header,
        "header_line": table.header_line,
        "skip_lines": (table.header_line or table.start_line) - 1 if header else table.start_line - 1,
        "columns": {
            "date": dcol.index,
            "value_date": vcol[0].index if vcol else None,
            "description": [c.index for c in desc],
            "amount": amt.index if amt is not None else None,
            "debit": roles["debit"].index if roles["debit"] is not None else None,
            "credit": roles["credit"].index if roles["credit"] is not None else None,
            "fee": roles["fee"].index if roles["fee"] is not None else None,
            "direction": direction[0].index if direction else None,
            "balance": roles["balance"].index if roles["balance"] is not None else None,
            "currency": ccol.index if ccol is not None else None,
            "bank_id": bank_id.index if bank_id is not None else None,
            "status": status.index if status is not None else None,
            "posted_date": posted.index if posted is not None else None,
            "bank_category": bank_category.index if bank_category is not None else None,
            "payee": _payee(desc),
        },
        "date_format": dfmt,
        "value_date_format": vfmt,
        "decimal_mark": mark,
        "sign": layout_sign,
        "plus_is_credit": plus_credit,
        "direction_in": sorted(direction[1]) if direction else [],
        "direction_out": sorted(direction[2]) if direction else [],
        "direction_blank": direction[3] if direction else None,
        "currency": _default_currency(roles, cols, header),
    }
    return layout, alt, evidence


def _q(name: str) -> str:
    return f" ('{name}')" if name else ""


def _exclusive_pair(cands, data):
    for a, b in zip(cands, cands[1:]):
        if b.index != a.index + 1:
            continue
        both = sum(1 for r in data if _nonzero(r, a.index) and _nonzero(r, b.index))
        if both == 0 and a.filled and b.filled:
            return a, b
    return None


def _nonzero(row, j) -> bool:
    cell = row[j].strip() if j < len(row) else ""
    return bool(cell) and any(ch in "123456789" for ch in cell)


def _direction(cols, used, header):
    best = None
    for c in cols:
        if c.index in used:
            continue
        dv = columns.direction_values(c.cells)
        if not dv:
            continue
        seen_in, seen_out, _ = dv
        named = bool(header) and c.key in columns.DIRECTION_NAMES
        blanks = len(c.filled) < len(c.cells)
        if seen_in and seen_out:
            blank = None
        elif named or (blanks and len(c.filled) >= 1):
            blank = "out" if seen_in else "in"
            if named and not blanks:
                blank = None
        else:
            continue
        cand = (c, {v for v in seen_in}, {v for v in seen_out}, blank)
        if best is None or (seen_in and seen_out and not (best[1] and best[2])):
            best = cand
    return best


def sign_evidence(amt, data, cols, used) -> dict:
    """What the file's own rows say about the sign of a signed amount column.

    Card exports where a charge is positive (American Express, Discover, Apple Card …)
    carry their payments and credits as the few negative rows; bank accounts, and cards
    written the other way, carry them as positive rows. So the side on which the
    payment/credit words sit decides — in the description, or as a whole cell of a
    type or category column (`Payment`, `Return`, `Payments and Credits`), where a
    `Purchase`/`Sale` cell marks a charge — and the share of positive rows must agree:
    most rows are spending. A refund without a credit word weighs nothing either way.
    Returns the decision with its strength (strong, weak, none) and counts.
    """
    texts = [c for c in cols if c.index not in used and not c.is_number and c.key and columns.header_has(c.key, *columns.DESC_WORDS)]
    if not texts:
        texts = [c for c in cols if c.index not in used and not c.is_number and not c.constant]
    kinds = [c for c in cols if c.index not in used and not c.is_number]
    neg = pos = neg_credit = pos_credit = neg_charge = pos_charge = 0
    for i in range(len(data)):
        try:
            body, _, minus, _ = split_sign(amt.cells[i])
        except AmountError:
            continue
        if not any(ch in "123456789" for ch in body):
            continue                                    # zero rows say nothing
        words = " ".join(t.cells[i] for t in texts)
        cells = [k.cells[i].strip() for k in kinds]
        credit = bool(CREDIT_WORDS.search(words)) or any(CREDIT_KINDS.fullmatch(c) for c in cells)
        charge = not credit and any(CHARGE_KINDS.fullmatch(c) for c in cells)
        if minus:
            neg += 1
            neg_credit += credit
            neg_charge += charge
        else:
            pos += 1
            pos_credit += credit
            pos_charge += charge
    counts = {"rows": neg + pos, "positive": pos, "credits_negative": neg_credit, "credits_positive": pos_credit}
    card, bank = neg_credit + pos_charge, pos_credit + neg_charge
    if card > 2 * bank and (pos > neg or pos_charge > neg_charge):
        return {"sign": "inverted", "strength": "strong", **counts}
    if bank > 2 * card:
        return {"sign": "normal", "strength": "strong", **counts}
    # Nothing but the share of positive rows to go by: read as written. A card export whose
    # window holds no payment and a mostly-income account look alike; the account's earlier
    # imports and the rows it shares with the store decide (sign.py), else --sign.
    return {"sign": "normal", "strength": "weak" if neg else "none", **counts}


def _currency_col(cols, used, amt, header):
    """A column of currency codes: by content, or mostly codes under a header that says currency
    (its invalid codes are then refused row by row, never silently replaced by the default)."""
    named = lambda c: bool(c.key) and columns.header_has(c.key, *columns.CURRENCY_WORDS)   # noqa: E731
    cands = [c for c in cols if c.index not in used and columns.amount_kind(c.key) != "foreign"
             and (c.is_currency and (not header or named(c)) or header and c.mostly_currency and named(c))]
    if not cands:
        return None
    if amt is not None:
        for c in cands:
            if c.index == amt.index + 1:
                return c
    return cands[0]


def _default_currency(roles, cols, header) -> str | None:
    curs = set()
    for c in roles.values():
        if c is None:
            continue
        for v in c.filled:
            try:
                cur = split_sign(v)[3]
            except AmountError:
                continue
            if cur:
                curs.add(cur)
        m = re.search(r"\(([A-Z]{3})\)", c.name)
        if m and m.group(1) in columns.CURRENCIES:
            curs.add(m.group(1))
    return curs.pop() if len(curs) == 1 else None


def _payee(desc) -> int | None:
    """The description column that names the payee, when there are several (payee, booking text, memo)."""
    if len(desc) < 2:
        return None
    named = [c for c in desc if c.key and columns.header_has(c.key, *columns.PAYEE_WORDS)] or \
        [c for c in desc if c.key in columns.PAYEE_NAMES]
    return named[0].index if named else None


def _descriptions(cols, used, header, direction):
    markers = {c.index for c in cols if (dv := columns.direction_values(c.cells)) and not dv[2]}   # DEBIT/CREDIT only
    used = used | markers
    if header:
        named = [c for c in cols if c.index not in used and c.key and columns.header_has(c.key, *columns.DESC_WORDS)
                 and not c.is_number and (direction is None or c.index != direction[0].index)]
        if named:
            return named
    return [c for c in cols if c.index not in used and c.filled and not c.is_number and not c.constant
            and not c.iban and not c.is_currency and (direction is None or c.index != direction[0].index)]
