"""Bank export layouts: which rows one download of an account shows, and how each bank writes
them (Chase-style checking and credit card, ING Germany giro, Lloyds-style savings, American
Express card).
``truth/README.md`` (see ``truth.py``) documents every layout.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from .model import ACCOUNTS, SAVINGS_ACCT, SAVINGS_SORT, START_BALANCE, Txn, _dec


def _dec_de(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    q, r = divmod(abs(cents), 100)
    return f"{sign}{q:,}".replace(",", ".") + f",{r:02d}"


def _mdy(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def _mdy0(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def _dmy(d: date, sep: str) -> str:
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


def export_rows(g, acct: str, frm: date, to: date) -> tuple[list[Txn], list[Txn]]:
    posted = [t for t in g.txns if t.account == acct and frm <= t.date <= to
              and (acct != "card" or t.post_date <= to)]
    pending = []
    if acct == "card":
        pending = [t for t in g.txns if t.account == "card"
                   and frm <= t.auth_date <= to < t.post_date]
    return posted, pending


def fmt_checking(g, posted, pending, frm, to) -> bytes:
    lines = ['Details,Posting Date,"Description",Amount,Type,Balance,Check or Slip #,']
    for t in reversed(posted):                       # newest first, like Chase
        details = "CHECK" if t.check_no else ("CREDIT" if t.amount > 0 else "DEBIT")
        lines.append(f'{details},{_mdy(t.date)},"{t.description}",{_dec(t.amount)},'
                     f'{t.btype},{_dec(t.balance)},{t.check_no},')
    return ("\n".join(lines) + "\n").encode("ascii")


def fmt_card(g, posted, pending, frm, to) -> bytes:
    """Chase credit card: a pending row has no Post Date and its authorised amount; Memo is
    empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["Transaction Date", "Post Date", "Description", "Category", "Type", "Amount",
                "Memo"])
    rows = [(t.auth_date, t.time, t.seq, [_mdy0(t.auth_date), "", t.description,
                                          t.bank_category, t.btype, _dec(t.auth_amount), ""])
            for t in pending]
    rows += [(t.date, t.time, t.seq, [_mdy0(t.date), _mdy0(t.post_date), t.description,
                                      t.bank_category, t.btype, _dec(t.amount), ""])
             for t in posted]
    rows.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    for r in rows:
        w.writerow(r[3])
    return buf.getvalue().encode("ascii")


def fmt_amex(g, posted, pending, frm, to) -> bytes:
    """American Express: charges positive, payments and refunds negative; newest first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Date", "Description", "Amount"])
    for t in reversed(posted):
        w.writerow([_mdy0(t.date), t.description, _dec(-t.amount)])
    return buf.getvalue().encode("ascii")


def fmt_eurgiro(g, posted, pending, frm, to) -> bytes:
    bal_to = START_BALANCE["eurgiro"]
    for t in g.txns:
        if t.account == "eurgiro" and t.date <= to:
            bal_to = t.balance
    made = to + timedelta(days=0)
    hh, mm = 8 + (to.toordinal() * 7) % 12, (to.toordinal() * 13) % 60
    buf = io.StringIO()
    buf.write(f"Umsatzanzeige;Datei erstellt am: {_dmy(made, '.')} {hh:02d}:{mm:02d}\n")
    buf.write(";Letztes Update: aktuell\n\n")
    buf.write("IBAN;DE89 3704 0044 0532 0130 00\nKontoname;Girokonto\nBank;ING\n")
    buf.write("Kunde;Alex Beispiel\n")
    buf.write(f"Zeitraum;{_dmy(frm, '.')} - {_dmy(to, '.')}\n")
    buf.write(f"Saldo;{_dec_de(bal_to)};EUR\n\nSortierung;Datum absteigend\n\n")
    buf.write("In der CSV-Datei finden Sie alle bereits gebuchten Umsätze. Die vorgemerkten "
              "Umsätze werden nicht aufgenommen, auch wenn sie in Ihrem Internetbanking "
              "angezeigt werden.\n\n")
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(["Buchung", "Valuta", "Auftraggeber/Empfänger", "Buchungstext",
                "Verwendungszweck", "Saldo", "Währung", "Betrag", "Währung"])
    for t in reversed(posted):
        w.writerow([_dmy(t.date, "."), _dmy(t.post_date, "."), t.fields[0], t.fields[1],
                    t.fields[2], _dec_de(t.balance), "EUR", _dec_de(t.amount), "EUR"])
    return buf.getvalue().encode("cp1252")


def fmt_savings(g, posted, pending, frm, to) -> bytes:
    lines = ["Transaction Date,Transaction Type,Sort Code,Account Number,"
             "Transaction Description,Debit Amount,Credit Amount,Balance,"]
    for t in reversed(posted):
        debit = _dec(-t.amount) if t.amount < 0 else ""
        credit = _dec(t.amount) if t.amount > 0 else ""
        lines.append(f"{_dmy(t.date, '/')},{t.btype},{SAVINGS_SORT},{SAVINGS_ACCT},"
                     f"{t.description},{debit},{credit},{_dec(t.balance)}")
    return ("\n".join(lines) + "\n").encode("ascii")


_FORMAT = {"checking": fmt_checking, "card": fmt_card, "eurgiro": fmt_eurgiro,
           "savings": fmt_savings, "amex": fmt_amex}


def write_exports(g, exp: Path) -> tuple[dict[str, list[str]], int]:
    """Write every download window of every account into ``exp``; return the file names per
    account and the number of rows written."""
    files: dict[str, list[str]] = {a: [] for a in ACCOUNTS}
    rows = 0
    for acct in ACCOUNTS:
        for frm, to in g.windows[acct]:
            posted, pending = export_rows(g, acct, frm, to)
            name = f"{acct}_{frm.isoformat()}_{to.isoformat()}.csv"
            data = _FORMAT[acct](g, posted, pending, frm, to)
            (exp / name).write_bytes(data)
            files[acct].append(name)
            rows += len(posted) + len(pending)
    return files, rows
