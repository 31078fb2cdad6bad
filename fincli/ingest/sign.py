"""The sign convention of an account's exports, decided from all the evidence.

A signed amount column may be written either way: most banks write money out as
negative, many card exports (American Express and others) write a charge as
positive. One file's rows say which (sign_evidence in detect.py), but a short
export, or one with a refund and no payment, says it weakly. The account knows
more: the convention its earlier imports of the same layout were read with, and
the rows this file shares with what is stored — the same date and description
stored with the opposite amount means the file was read the wrong way round.

The account's evidence settles what the file leaves open; when the file's strong
evidence contradicts the account's, the import stops and asks for `--sign`.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..errors import AmbiguousInputError

LABELS = {"normal": "money out negative (as written)", "inverted": "charges positive (card)"}


@dataclass
class SignDecision:
    convention: str                      # normal | inverted
    basis: str                           # rows | account | option | layout
    flipped: bool = False                # the rows were parsed the other way and are turned round
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{LABELS[self.convention]}, from " + " and ".join(self.reasons) if self.reasons \
            else LABELS[self.convention]

    def record(self) -> dict:
        """What the import event keeps of the decision."""
        return {"convention": self.convention, "basis": self.basis, "flipped": self.flipped,
                "reason": self.summary()}


def count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _credits(n: int) -> str:
    return f"{n} payment or credit" if n == 1 else f"{n} payments or credits"


def _file_reason(evidence: dict) -> str:
    rows, pos = evidence["rows"], evidence["positive"]
    if evidence["sign"] == "inverted":
        text = f"{pos} of {rows} rows positive"
        if evidence["credits_negative"]:
            text += f", {_credits(evidence['credits_negative'])} negative"
        return text
    text = f"{rows - pos} of {rows} rows negative"
    if evidence["credits_positive"]:
        text += f", {_credits(evidence['credits_positive'])} positive"
    return text


def _other(convention: str) -> str:
    return "inverted" if convention == "normal" else "normal"


def earlier_imports(conn: sqlite3.Connection, account: str, fingerprint: str) -> dict[str, dict]:
    """The layouts the account's active imports of this layout (by fingerprint) were read with."""
    rows = conn.execute(
        "SELECT i.import_id, json_extract(e.payload, '$.layout') FROM events e"
        " JOIN imports i ON i.import_id = json_extract(e.payload, '$.import_id')"
        " WHERE e.type = 'import.recorded' AND i.account = ? AND i.undone = 0"
        " AND json_extract(e.payload, '$.layout.fingerprint') = ? ORDER BY i.seq", (account, fingerprint)).fetchall()
    return {import_id: json.loads(layout) for import_id, layout in rows if layout}


def overlap(conn: sqlite3.Connection, account: str, rows) -> tuple[int, int]:
    """Rows of this file stored already with the same date and description:
    (how many with the same amount, how many only with the opposite amount)."""
    dated = [r for r in rows if r.amount]
    if not dated:
        return 0, 0
    stored: dict[tuple[str, str], set[int]] = defaultdict(set)
    for date, description, amount in conn.execute(
            "SELECT date, description, amount FROM transactions WHERE account = ? AND date BETWEEN ? AND ?"
            " AND replaced_by IS NULL", (account, min(r.date for r in dated), max(r.date for r in dated))):
        stored[(date, " ".join(description.casefold().split()))].add(amount)
    same = opposite = 0
    for r in dated:
        amounts = stored.get((r.date, " ".join(r.description.casefold().split())))
        if not amounts:
            continue
        if r.amount in amounts:
            same += 1
        elif -r.amount in amounts:
            opposite += 1
    return same, opposite


def decide(conn: sqlite3.Connection, path: str, account: str, layout: dict, evidence: dict | None,
           rows) -> SignDecision:
    """The convention for this file's rows; `rows` carry the amounts as the file was parsed."""
    if evidence is None:               # --sign, a profile, or columns that say debit/credit themselves
        return SignDecision(layout.get("sign") or "normal", "layout")
    assumed, strong = evidence["sign"], evidence["strength"] == "strong"
    file_reason = _file_reason(evidence)
    earlier = {i: lay.get("sign") for i, lay in earlier_imports(conn, account, layout.get("fingerprint", "")).items()
               if lay.get("sign") in LABELS}
    history = Counter(earlier.values())
    same, opposite = overlap(conn, account, rows)

    account_says, account_reason = None, None
    if same + opposite and (same >= 3 * opposite or opposite >= 3 * same):
        account_says = assumed if same > opposite else _other(assumed)
        account_reason = f"{max(same, opposite)} overlapping rows"
    elif history and len(history) == 1:
        account_says = next(iter(history))
        n = history[account_says]
        account_reason = f"{count(n, 'earlier import')} of this account"

    if account_says is None:
        return SignDecision(assumed, "rows", reasons=[file_reason])
    if account_says == assumed:
        return SignDecision(assumed, "rows", reasons=[file_reason, account_reason])
    if strong:
        others = [i for i, convention in earlier.items() if convention == account_says]
        undo = f"if import {others[-1]} was read the wrong way, `fin undo {others[-1]}` and import it again; " \
            if others else ""
        raise AmbiguousInputError(
            path, None, f"the rows read as {LABELS[assumed]} ({file_reason}), but account {account!r} holds them "
                        f"as {LABELS[account_says]} ({account_reason}); {undo}otherwise pass --sign normal "
                        "(money out negative) or --sign inverted (charges positive)")
    return SignDecision(account_says, "account", flipped=True, reasons=[account_reason])
