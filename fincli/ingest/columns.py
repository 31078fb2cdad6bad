"""Column roles: which column is the date, the amount, the description, and so on.

Header names (English, German, Dutch, French, Spanish, Czech, Hungarian …) suggest a
role; the column's content must agree. Without a header, content alone decides.
"""

from __future__ import annotations

import re
import unicodedata

from fincli.ingest.amounts import AmountError, looks_numeric, split_sign
from fincli.money import is_currency

IN_TOKENS = {"credit", "cr", "c", "k", "bij", "i", "in", "inflow", "h", "haben", "deposit", "gutschrift",
             "kredit", "credito", "crédit", "bevetel", "bevétel", "+", "received", "income"}
OUT_TOKENS = {"debit", "dr", "d", "af", "o", "out", "outflow", "s", "soll", "withdrawal", "-", "lastschrift",
              "debet", "debito", "débit", "kiadas", "kiadás", "spent", "db"}
PENDING_VALUES = {"pending", "pended", "authorised", "authorized", "authorisation", "hold", "vorgemerkt",
                  "in behandeling", "in afwachting", "en attente", "pendiente", "reserved", "uncleared", "not cleared"}
# codes that let content alone mark a column as currency (a header saying so accepts any ISO code)
CURRENCIES = set("EUR USD GBP CHF CZK HUF PLN SEK NOK DKK LTL LVL SGD JOD AUD CAD NZD JPY CNY HKD INR RON BGN "
                 "HRK ISK TRY ZAR BRL MXN ILS AED SAR KWD BHD RUB UAH THB MYR IDR PHP KRW TWD".split())
SUMMARY = re.compile(r"^\s*(opening|closing|start|end|final|initial|new|previous|old)?\s*(balance|saldo|turnover|total|"
                     r"umsatz|summe|anfangssaldo|endsaldo|schlusssaldo|kontostand|solde|sum)\s*[:.]?\s*$"
                     r"|^\s*balance (brought|carried) forward\s*$", re.I)
# a dated row that is a statement record, not a transaction (a shop called TOTAL is a transaction)
BALANCE_RECORD = re.compile(r"^\s*((opening|closing|start|end|final|initial|new|previous|old)\s+(balance|saldo)|"
                            r"turnover|balance|saldo|anfangssaldo|endsaldo|schlusssaldo|kontostand|solde|"
                            r"balance (brought|carried) forward)\s*[:.]?\s*$", re.I)
SUMMARY_PREFIXES = {"ope", "clo", "sta", "end", "fin", "ini", "new", "pre", "old", "bal", "sal", "tur", "tot",
                    "ums", "sum", "anf", "sch", "kon", "sol"}


def norm(name: str) -> str:
    """A header name as a key: ASCII, lower case, only letters, digits, `#`, `/` and single spaces."""
    text = unicodedata.normalize("NFKD", name.lstrip("\ufeff")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9#/ ]+", " ", text).strip()


def header_has(key: str, *words: str) -> bool:
    """Whether a normalized header holds one of the words (regular expressions) at the start of a word."""
    return any(re.search(r"(^|[^a-z])" + word, key) for word in words)


FOREIGN = ("original", "local", "fremd", "foreign", "rate", "kurs", "koers", "wechsel", "initial", "final",
           "income", "expenses", "entries", "exchange", "in eur", "bedrag in")


def amount_kind(key: str) -> str | None:
    """Role a header name suggests for a number column."""
    if not key:
        return None
    if header_has(key, *FOREIGN):
        return "foreign"
    if header_has(key, "balance", "saldo", "solde", "egyenleg", "kontostand", "running", "stand"):
        return "balance"
    if key in ("net", "net amount", "netto", "net total"):
        return "net"
    if header_has(key, "fee", "fees", "gebuhr", "poplatek", "commission", "kosten", "charges?$"):
        return "fee"
    if header_has(key, "debit", "withdrawal", "paid out", "money out", "outflow", "soll", "debet", "af$", "uitgave",
            "ausgang", "retrait", "cargo", "spent", "payments?$", "out$", "charge"):
        return "debit"
    if header_has(key, "credit", "deposit", "paid in", "money in", "inflow", "haben", "bij$", "ontvang", "eingang",
            "abono", "received", "in$"):
        return "credit"
    if header_has(key, "amount", "betrag", "bedrag", "montant", "importe", "castka", "osszege", "sum", "value", "gross",
            "total", "bedrag", "belopp", "belob", "kwota", "suma", "valor", "importo"):
        return "amount"
    return None


DATE_STRONG = ("transaction", "booking", "buchung", "posting", "posted", "processed", "verrichting", "proveden",
               "tranzakcio", "transactie", "boek", "operation", "operacion", "beleg", "started", "trans", "txn")
DATE_VALUE = ("valu", "wertstell", "settle", "verrekening", "zauctov", "erteknap", "completed", "effective",
              "effet", "valor")
DATE_OTHER = ("initial", "final", "from", "to$", "period", "statement", "end", "start", "created at")


def date_rank(key: str) -> int:
    """How surely a header names the transaction date: 3 surely, 2 a date, -1 a value date, -3 another date."""
    if not key:
        return 0
    if header_has(key, *DATE_OTHER) and not header_has(key, *DATE_STRONG):
        return -3
    if header_has(key, *DATE_VALUE):
        return -1
    if header_has(key, *DATE_STRONG):
        return 3
    if header_has(key, "date", "datum", "fecha", "data", "created", "datetime", "time", "day", "datu"):
        return 2
    return 0


DESC_WORDS = ("descr", "detail", "payee", "memo", "name", "narrat", "particular", "merchant", "beneficiar",
              "counterpart", "text", "verwendung", "buchungstext", "auftraggeber", "empfanger", "omschrijving",
              "naam", "mededeling", "remarque", "libelle", "concepto", "notes?$", "item title", "partner",
              "kozlemeny", "zprava", "poznamka", "nazev", "handelaar", "toelichting", "beschreibung", "purpose",
              "reference text", "betreff", "opis", "description", "tegenrekeninghouder", "omschr", "message")
# Description columns that name who was paid or who paid (the payee), as opposed to a booking text
# (`Buchungstext`, `Transaction Type`) or a memo: the merchant is read from the payee where there is one.
PAYEE_WORDS = ("payee", "auftraggeber", "empfanger", "empfaenger", "begunstigt", "beguenstigt", "beneficiar",
               "counterpart", "counter party", "tegenpartij", "tegenrekeninghouder", "zahlungsbeteiligt",
               "zahlungspflichtig", "partner name", "merchant", "recipient", "destinatario", "beneficiario",
               "nazev protiuctu", "partner")
PAYEE_NAMES = {"name", "naam", "naam / omschrijving", "nom", "nombre", "to", "from"}
CURRENCY_WORDS = ("currency", "wahrung", "munt", "devise", "moneda", "mena", "devizanem", "valuta", "ccy", "waehrung")
ID_NAMES = {"id", "transaction id", "transaction_id", "transactie id", "id transakce", "buchungsreferenz",
            "reference", "referentie", "referenz", "transaction reference", "transactionid", "txn id", "ref"}
# A posting-date column beside the transaction date (Chase: `Post Date`), empty while a row is pending.
POSTED_DATE_WORDS = ("post", "posted", "posting", "booked", "booking date", "cleared", "clearing", "settled",
                     "settlement")
# The bank's own category of a transaction (Chase, Monzo, Barclaycard with a header, ...).
CATEGORY_NAMES = {"category", "categorie", "kategorie", "categoria", "transaction category", "spending category",
                  "merchant category", "category name", "kategoria", "kategorija", "rubrik", "rubrique"}
STATUS_NAMES = {"status", "state", "transaction status", "pending", "booking status", "buchungsstatus", "stav"}
DIRECTION_NAMES = ("details", "af bij", "d/k", "creditdebet", "debit/credit", "dr/cr", "cd", "c/d", "d/c",
                   "indicator", "sign", "type", "bevetel/kiadas", "direction", "soll/haben", "s/h", "credit debit",
                   "debit credit", "af/bij", "in/out", "flag")


def direction_values(cells: list[str]) -> tuple[set[str], set[str], int] | None:
    """If a column holds debit/credit markers: (in values, out values, unreadable count)."""
    values = [cell.strip().lower() for cell in cells if cell.strip()]
    if not values:
        return None
    seen_in = {value for value in set(values) if value in IN_TOKENS}
    seen_out = {value for value in set(values) if value in OUT_TOKENS}
    other = sum(1 for value in values if value not in IN_TOKENS and value not in OUT_TOKENS)
    if other > len(values) * 0.1 or len(seen_in | seen_out) > 4 or not (seen_in or seen_out):
        return None
    return seen_in, seen_out, other


class Column:
    """What a column's sample cells look like."""

    def __init__(self, index: int, name: str, cells: list[str]):
        self.index, self.name, self.key = index, name, norm(name)     # key: the normalized header
        self.cells = cells
        filled = [cell.strip() for cell in cells if cell.strip() and cell.strip() not in ("'", '"')]
        self.filled = filled
        self.numeric = sum(1 for cell in filled if looks_numeric(cell))
        self.is_number = bool(filled) and self.numeric >= 0.9 * len(filled)
        self.mostly_number = bool(filled) and self.numeric >= 0.5 * len(filled)   # enough when the header says so
        self.negative = self.plus = 0
        self.decimals = False
        for cell in filled:
            try:
                body, plus, minus, _ = split_sign(cell)
            except AmountError:
                continue
            self.negative += minus
            self.plus += plus
            self.decimals = self.decimals or "." in body or "," in body
        self.distinct = set(filled)
        self.constant = len(filled) > 1 and len(self.distinct) == 1
        upper = [cell for cell in filled if cell.upper() in CURRENCIES]
        self.is_currency = bool(filled) and len(upper) >= 0.9 * len(filled)
        # enough when the header says currency: a stray bad code must not make the column invisible
        self.mostly_currency = bool(filled) and sum(1 for cell in filled if is_currency(cell.upper())) >= 0.5 * len(filled)
        self.iban = bool(filled) and all(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", cell) for cell in filled)


def clean_date_like(cell: str) -> bool:
    """A data row's date cell: a date, or the literal 'Pending'."""
    from fincli.ingest.dates import formats_for
    text = cell.strip()
    return bool(text) and (text.lower().strip("'\"") == "pending" or bool(formats_for(text)))


def fits(value: str, fmt: str) -> bool:
    from fincli.ingest.dates import clean, split_time, try_format
    text = clean(value)
    return try_format(text, fmt) is not None or try_format(split_time(text), fmt) is not None
