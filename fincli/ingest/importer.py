"""The import use case: parse each file, dedup against the workspace, append events.

Each file is one database transaction: killed halfway, nothing of it is kept,
and running it again completes it. One bad file does not stop the others.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date as Date, timedelta
from pathlib import Path

from .. import db, events as ev, projections
from ..errors import FinError, InputError
from ..events import Event
from ..money import to_minor
from ..workspace import Workspace
from . import dedup
from .rows import ParsedFile


@dataclass
class Options:
    account: str | None = None
    profile: str | None = None
    date_format: str | None = None
    decimal_mark: str | None = None
    sign: str | None = None
    currency: str | None = None
    skip_bad_rows: bool = False
    dry_run: bool = False
    save_profile: str | None = None


@dataclass
class FileReport:
    path: str
    status: str = "failed"            # imported | already imported | dry run | failed
    account: str | None = None
    import_id: str | None = None
    rows: int = 0
    added: int = 0
    already_present: int = 0
    posted: list[tuple[str, str]] = field(default_factory=list)
    pending_already_posted: list[tuple[str, str]] = field(default_factory=list)
    possible_duplicates: list[tuple[str, str]] = field(default_factory=list)
    transfers: list[tuple[str, str, str]] = field(default_factory=list)   # (out id, in id, date)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    currency: str | None = None
    currency_assumed: bool = False
    error: str | None = None


@dataclass(slots=True)
class Prepared:
    """A parsed row in the workspace's terms: minor units, its dedup key and id."""
    key: str
    date: str
    amount: int
    currency: str
    description: str
    line: int
    bank_id: str | None
    balance: int | None
    pending: bool
    value_date: str | None

    @property
    def id(self) -> str:
        return dedup.transaction_id(self.key)


def account_from_filename(path: Path) -> str:
    """`checking_2024-01-01_2024-03-31.csv` → `checking`; a name that is all digits stays whole.

    Control characters (a newline in a file name) and runs of white space become one space:
    an account name is shown on one line and typed back as `--account NAME`.
    """
    stem = " ".join("".join(c if c.isprintable() else " " for c in path.stem).split())
    head = re.match(r"^(.*?)(?:[_\s.-]*\d.*)?$", stem).group(1).strip(" _.-")
    return head or stem


def import_files(ws: Workspace, paths: list[str], options: Options, progress=None) -> list[FileReport]:
    reports = []
    for path in paths:
        report = FileReport(str(path))
        try:
            import_one(ws, Path(path), options, report, progress)
        except FinError as exc:
            report.status, report.error = "failed", str(exc)
        reports.append(report)
    return reports


def _parse(ws: Workspace, path: Path, options: Options, progress) -> ParsedFile:
    from .parse import parse_file
    from .profiles import get_profile, matching_profile, saved_profiles

    if options.profile:
        layout = get_profile(ws, options.profile)["layout"]
    else:
        layout = matching_profile(path, saved_profiles(ws))
    return parse_file(path, date_format=options.date_format, decimal_mark=options.decimal_mark,
                      sign=options.sign, profile=layout, skip_bad_rows=options.skip_bad_rows,
                      progress=progress)


def _account_currency(ws: Workspace, account: str) -> str | None:
    row = ws.conn.execute("SELECT currency FROM transactions WHERE account = ? LIMIT 1", (account,)).fetchone()
    return row[0] if row else None


APPEND_CHUNK = 50_000      # events built and appended at a time: bounds memory on big files


def import_one(ws: Workspace, path: Path, options: Options, report: FileReport, progress=None) -> None:
    parsed = _parse(ws, path, options, progress)
    with open(path, "rb") as handle:
        data_sha = hashlib.file_digest(handle, "sha256").hexdigest()
    account = options.account or account_from_filename(path)
    report.account, report.rows, report.skipped = account, len(parsed.rows), parsed.skipped

    known = options.currency or _account_currency(ws, account)
    fallback = known or ws.config().get("default_currency", "USD")
    report.currency = fallback
    report.currency_assumed = not known and any(r.currency is None for r in parsed.rows)
    prepared = _prepare(parsed, account, fallback.upper())

    with ws.lock(), db.transaction(ws.conn):
        import_id = _new_import_id(ws, account, data_sha)
        report.import_id = import_id
        if import_id is None:
            report.status = "already imported"
            return
        plan = _plan(ws, account, prepared)
        report.added, report.already_present = len(plan.add), plan.already_present
        report.posted, report.pending_already_posted = plan.posted, plan.pending_already_posted
        report.possible_duplicates = plan.possible_duplicates
        if options.dry_run:
            report.status = "dry run"
            return
        for start in range(0, len(plan.add), APPEND_CHUNK):
            if progress:
                progress(start, len(plan.add), "recording")
            _record(ws, plan.add[start:start + APPEND_CHUNK], account, import_id)
        flagged = {new for new, _ in plan.posted} | {new for new, _ in plan.possible_duplicates}
        date_of = {p.id: p.date for p in plan.add if p.id in flagged} if flagged else {}
        ev.append(ws.conn, [Event("transaction.posted", f"{import_id}:posted:{new}", date_of[new], import_id,
                                  {"id": new, "pending_id": old}) for new, old in plan.posted]
                  + [Event("transaction.duplicate_suspected", f"{import_id}:dup:{new}", date_of[new], import_id,
                           {"id": new, "of": old, "reason": "same amount within a few days where two exports overlap"})
                     for new, old in plan.possible_duplicates])
        projections.catch_up(ws.conn)

        report.transfers = _transfers(ws, account, import_id)
        later = [Event("transfer.matched", f"{import_id}:transfer:{out_id}:{in_id}", date, import_id,
                       {"transfer_id": dedup.short_hash(out_id, in_id), "out_id": out_id, "in_id": in_id})
                 for out_id, in_id, date in report.transfers]
        if options.save_profile:
            later.append(Event("profile.saved", f"{import_id}:profile:{options.save_profile}", ev.now()[:10],
                               "user", {"name": options.save_profile, "fingerprint": parsed.fingerprint,
                                        "layout": parsed.layout}))
        first = min((p.date for p in prepared), default=None)
        last = max((p.date for p in prepared), default=None)
        later.append(Event("import.recorded", f"import:{import_id}", last or ev.now()[:10], import_id,
                           {"import_id": import_id, "file": str(path.resolve()), "sha256": data_sha,
                            "account": account, "rows": len(prepared), "added": len(plan.add),
                            "date_from": first, "date_to": last, "layout": parsed.layout,
                            "currency": fallback.upper()}))
        ev.append(ws.conn, later)
        projections.catch_up(ws.conn)
        report.status = "imported"


def _prepare(parsed: ParsedFile, account: str, fallback_currency: str) -> list[Prepared]:
    """Money in minor units, dedup keys and ids. Consumes parsed.rows to keep one copy in memory."""
    prepared = []
    rows = parsed.rows
    for i, row in enumerate(rows):
        rows[i] = None
        currency = (row.currency or fallback_currency).upper()
        try:
            amount = to_minor(row.amount, currency)
            balance = to_minor(row.balance, currency) if row.balance is not None else None
        except InputError as exc:
            raise InputError(f"{parsed.path}:{row.line}: {exc.message}", exc.hint) from None
        prepared.append(Prepared("", row.date, amount, currency, row.description, row.line,
                                 row.bank_id, balance, row.pending, row.value_date))
    for row, key in zip(prepared, dedup.row_keys(account, prepared)):
        row.key = key
    return prepared


def _new_import_id(ws: Workspace, account: str, data_sha: str) -> str | None:
    """The id of this import; None when the same file was already imported into the account."""
    base = dedup.short_hash(account, data_sha, size=6)
    earlier = ws.conn.execute("SELECT import_id, undone FROM imports WHERE sha256 = ? AND account = ?",
                              (data_sha, account)).fetchall()
    if any(not undone for _, undone in earlier):
        return None
    return base if not earlier else f"{base}-{len(earlier) + 1}"


def _plan(ws: Workspace, account: str, rows: list[Prepared]) -> dedup.Plan:
    if not rows:
        return dedup.Plan()
    lo = (Date.fromisoformat(min(r.date for r in rows)) - timedelta(days=dedup.PENDING_WINDOW_DAYS + 3)).isoformat()
    hi = (Date.fromisoformat(max(r.date for r in rows)) + timedelta(days=dedup.PENDING_WINDOW_DAYS + 3)).isoformat()
    existing = [dedup.Existing(*r[:4], bool(r[4]), r[5]) for r in ws.conn.execute(
        "SELECT id, date, amount, description, pending, key FROM transactions"
        " WHERE account = ? AND date BETWEEN ? AND ? AND replaced_by IS NULL", (account, lo, hi))]
    covered = ws.conn.execute("SELECT min(date_from), max(date_to) FROM imports WHERE account = ? AND undone = 0",
                              (account,)).fetchone()
    return dedup.plan(rows, existing, covered if covered[0] else None)


def _record(ws: Workspace, rows: list[Prepared], account: str, import_id: str) -> None:
    """One transaction.imported event per row, and the rows projected from the same fields."""
    fields = [(row.id, account, row.date, row.amount, row.currency, row.description, import_id, row.line,
               row.key, row.bank_id or None, row.balance, row.pending, row.value_date or None) for row in rows]
    # event ids in file order, so the log's unique index grows at its end instead of at random places
    first = ev.append_encoded(ws.conn, "transaction.imported", import_id,
                              [(f"{import_id}:{row.line:09d}", row.date, ev.imported_transaction_json(*f))
                               for row, f in zip(rows, fields)])
    projections.apply_imported(ws.conn, [(*f[:11], int(f[11]), seq) for seq, f in enumerate(fields, first)])


def _transfers(ws: Workspace, account: str, import_id: str) -> list[tuple[str, str]]:
    cols = "id, account, date, amount, currency, description"
    live = "replaced_by IS NULL AND transfer_id IS NULL AND pending = 0"
    span = ws.conn.execute(f"SELECT min(date), max(date) FROM transactions WHERE import_id = ? AND {live}",
                           (import_id,)).fetchone()
    if span[0] is None:
        return []
    lo = (Date.fromisoformat(span[0]) - timedelta(days=dedup.TRANSFER_WINDOW_DAYS)).isoformat()
    hi = (Date.fromisoformat(span[1]) + timedelta(days=dedup.TRANSFER_WINDOW_DAYS)).isoformat()
    others = [dedup.Leg(*r) for r in ws.conn.execute(
        f"SELECT {cols} FROM transactions WHERE account != ? AND {live} AND date BETWEEN ? AND ?"
        " ORDER BY date, id", (account, lo, hi))]
    if not others:
        return []
    new = [dedup.Leg(*r) for r in ws.conn.execute(
        f"SELECT {cols} FROM transactions WHERE import_id = ? AND {live} ORDER BY date, id", (import_id,))]
    dates = {leg.id: leg.date for leg in new + others}
    return [(out_id, in_id, min(dates[out_id], dates[in_id]))
            for out_id, in_id in dedup.match_transfers(new, others)]
