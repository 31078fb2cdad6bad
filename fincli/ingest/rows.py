"""What the parser hands to the importer: a detected layout and parsed rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple


class ParsedRow(NamedTuple):
    """One transaction row. A tuple: a million of them must stay small and quick to build."""

    line: int                      # 1-based physical line in the file where the row starts
    date: str                      # ISO yyyy-mm-dd (booking/transaction date)
    amount: Decimal                # signed, major units: positive = money into the account
    description: str               # as the bank printed it (multi-field descriptions joined with " | ")
    currency: str | None = None    # ISO code when the file says it (column or symbol)
    bank_id: str | None = None     # the bank's own transaction id/reference, if any
    balance: Decimal | None = None # running balance after the row, if the file has one
    pending: bool = False          # the bank marks the row as pending/not yet booked
    value_date: str | None = None  # ISO value/settlement date, if any
    bank_category: str | None = None  # the bank's own category of the row, where the export has one
    payee: str | None = None       # the payee column's text, when the description joins several columns


@dataclass
class ParsedFile:
    path: str
    layout: dict                   # JSON-able detected layout; saved as a profile as is
    rows: list[ParsedRow]
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) with --skip-bad-rows
    fingerprint: str = ""          # shape of the file (header/column count/delimiter) to match profiles
    sign_evidence: dict | None = None  # what the rows said about the amount's sign, when they decided it
