"""The import use case: parse each file, dedup against the workspace, append events.

Each file is one database transaction: killed halfway, nothing of it is kept,
and running it again completes it. One bad file does not stop the others.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date as Date, timedelta
from pathlib import Path

from ..ledger import projections
from ..store import connection as db, log as ev
from ..errors import FinError, InputError
from ..store.log import Event
from ..money import check_currency, to_minor
from ..workspace import Workspace
from . import dedup, sign as signs
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

    def __post_init__(self):
        if self.currency is not None:
            self.currency = check_currency(self.currency, "--currency")


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
    possible_transfers: list[tuple[str, str, str]] = field(default_factory=list)  # (out id, in id, reason)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    currency: str | None = None
    currency_assumed: bool = False
    sign: signs.SignDecision | None = None
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
    bank_category: str | None
    payee: str | None

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


def _parse(ws: Workspace, path: Path, options: Options, account: str,
           progress) -> tuple[ParsedFile, signs.SignDecision | None]:
    """The parsed file, and the sign decision when the account had to settle it.

    What the file alone cannot tell (the sign of amounts that are never negative, day/month
    order) the account's earlier imports of the same layout settle when they agree; the sign
    also by the rows the file shares with what is stored."""
    from .detect import UndecidedLayout
    from .parse import parse_file
    from .profiles import get_profile, matching_profile, saved_profiles

    if options.profile:
        layout = get_profile(ws, options.profile)["layout"]
    else:
        layout = matching_profile(path, saved_profiles(ws))
    settled = {"sign": options.sign, "date_format": options.date_format}
    decision = None

    def parse():
        return parse_file(path, date_format=settled["date_format"], decimal_mark=options.decimal_mark,
                          sign=settled["sign"], profile=layout, skip_bad_rows=options.skip_bad_rows, progress=progress)
    while True:
        try:
            return parse(), decision
        except UndecidedLayout as exc:
            if settled[exc.option]:
                raise
            earlier = signs.earlier_imports(ws.conn, account, exc.fingerprint)
            known = {lay.get(exc.option) for lay in earlier.values()} - {None}
            if len(known) == 1:
                settled[exc.option] = known.pop()
                reason = f"{signs.count(len(earlier), 'earlier import')} of this account (the rows alone cannot tell)"
            elif exc.option == "sign" and (shared := _sign_by_overlap(ws, account, settled, path, options, layout)):
                settled["sign"], reason = shared
            else:
                raise
            if exc.option == "sign":
                decision = signs.SignDecision(settled["sign"], "account", reasons=[reason])


def _sign_by_overlap(ws: Workspace, account: str, settled: dict, path: Path, options: Options,
                     layout) -> tuple[str, str] | None:
    """Read the file as written and compare its rows with the stored ones of the same date and
    description: (convention, reason) when they clearly agree or clearly disagree, else None."""
    from types import SimpleNamespace

    from .parse import parse_file

    parsed = parse_file(path, date_format=settled["date_format"], decimal_mark=options.decimal_mark, sign="normal",
                        profile=layout, skip_bad_rows=True)
    currency = options.currency or _account_currency(ws, account) or ws.config().get("default_currency", "USD")
    rows = []
    for row in parsed.rows:
        try:
            rows.append(SimpleNamespace(date=row.date, description=row.description,
                                        amount=to_minor(row.amount, (row.currency or currency).upper())))
        except FinError:
            continue
    same, opposite = signs.overlap(ws.conn, account, rows)
    if not same + opposite or not (same >= 3 * opposite or opposite >= 3 * same):
        return None
    return ("normal" if same > opposite else "inverted"), f"{max(same, opposite)} overlapping rows"


def _account_currency(ws: Workspace, account: str) -> str | None:
    row = ws.conn.execute("SELECT currency FROM transactions WHERE account = ? LIMIT 1", (account,)).fetchone()
    return row[0] if row else None


APPEND_CHUNK = 50_000      # events built and appended at a time: bounds memory on big files


def import_one(ws: Workspace, path: Path, options: Options, report: FileReport, progress=None) -> None:
    account = options.account or account_from_filename(path)
    parsed, sign_from_account = _parse(ws, path, options, account, progress)
    with open(path, "rb") as handle:
        data_sha = hashlib.file_digest(handle, "sha256").hexdigest()
    report.account, report.rows, report.skipped = account, len(parsed.rows), parsed.skipped

    known = options.currency or _account_currency(ws, account)
    fallback = known or check_currency(ws.config().get("default_currency", "USD"),
                                       f"{ws.config_path}: default_currency")
    report.currency = fallback
    report.currency_assumed = not known and any(r.currency is None for r in parsed.rows)
    prepared = _prepare(parsed, fallback.upper())

    with ws.lock(), db.transaction(ws.conn):
        import_id = _new_import_id(ws, account, data_sha)
        report.import_id = import_id
        if import_id is None:
            report.status = "already imported"
            return
        report.sign = sign_from_account or _settle_sign(ws, str(path), account, parsed, prepared)
        for row, key in zip(prepared, dedup.row_keys(account, prepared)):
            row.key = key
        plan = _plan(ws, account, prepared)
        report.added, report.already_present = len(plan.add), plan.already_present
        report.posted, report.pending_already_posted = plan.posted, plan.pending_already_posted
        report.possible_duplicates = plan.possible_duplicates
        if options.dry_run:
            report.status = "dry run"
            return
        held = _held(ws, account, prepared, plan)
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

        report.transfers, possible = _transfers(ws, account, import_id)
        report.possible_transfers = [(out_id, in_id, reason) for out_id, in_id, _, reason in possible]
        later = [Event("transfer.matched", f"{import_id}:transfer:{out_id}:{in_id}", date, import_id,
                       {"transfer_id": dedup.short_hash(out_id, in_id), "out_id": out_id, "in_id": in_id})
                 for out_id, in_id, date in report.transfers]
        later += [Event("transfer.possible", f"{import_id}:possible-transfer:{out_id}:{in_id}", date, import_id,
                        {"out_id": out_id, "in_id": in_id, "reason": reason})
                  for out_id, in_id, date, reason in possible]
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
                            "currency": fallback.upper(), "sign": report.sign.record(),
                            **({"held": held} if held else {})}))
        ev.append(ws.conn, later)
        projections.catch_up(ws.conn)
        report.status = "imported"


def _settle_sign(ws: Workspace, path: str, account: str, parsed: ParsedFile,
                 prepared: list[Prepared]) -> signs.SignDecision:
    """Decide the sign with the account's evidence; turn the rows round if the file was read the wrong way."""
    decision = signs.decide(ws.conn, path, account, parsed.layout, parsed.sign_evidence, prepared)
    if decision.flipped:
        for row in prepared:
            row.amount = -row.amount
        parsed.layout["sign"] = decision.convention
    return decision


def _prepare(parsed: ParsedFile, fallback_currency: str) -> list[Prepared]:
    """Money in minor units (keys come once the sign is settled). Consumes parsed.rows to keep one copy."""
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
                                 row.bank_id, balance, row.pending, row.value_date, row.bank_category,
                                 row.payee))
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


def _held(ws: Workspace, account: str, rows: list[Prepared], plan: dedup.Plan) -> list[str]:
    """Ids of rows already present that this file holds too: the same row, or the posted version of its pending one.

    Recorded with the import, so that undoing the import that added them leaves them
    in place while this one is active.
    """
    held = {posted for _, posted in plan.pending_already_posted}
    if plan.already_present:
        held.update(r[0] for r in ws.conn.execute(
            "SELECT id FROM transactions WHERE account = ? AND replaced_by IS NULL"
            " AND key IN (SELECT value FROM json_each(?))", (account, json.dumps([r.key for r in rows]))))
    return sorted(held)


def _record(ws: Workspace, rows: list[Prepared], account: str, import_id: str) -> None:
    """One transaction.imported event per row, and the rows projected from the same fields."""
    fields = [(row.id, account, row.date, row.amount, row.currency, row.description, import_id, row.line,
               row.key, row.bank_id or None, row.balance, row.pending, row.value_date or None,
               row.bank_category or None, row.payee or None) for row in rows]
    # event ids in file order, so the log's unique index grows at its end instead of at random places
    first = ev.append_encoded(ws.conn, "transaction.imported", import_id,
                              [(f"{import_id}:{row.line:09d}", row.date, ev.imported_transaction_json(*f))
                               for row, f in zip(rows, fields)])
    projections.apply_imported(ws.conn, [(*f[:11], int(f[11]), f[13], f[14], seq) for seq, f in enumerate(fields, first)])


def _transfers(ws: Workspace, account: str, import_id: str
               ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
    """Transfers (out id, in id, date) between this import's rows and other accounts' unmatched rows,
    and possible ones (out id, in id, date, reason) to list."""
    cols = "id, account, date, amount, currency, description"
    live = "replaced_by IS NULL AND transfer_id IS NULL AND pending = 0"
    span = ws.conn.execute(f"SELECT min(date), max(date) FROM transactions WHERE import_id = ? AND {live}",
                           (import_id,)).fetchone()
    if span[0] is None:
        return [], []
    lo = (Date.fromisoformat(span[0]) - timedelta(days=dedup.TRANSFER_WINDOW_DAYS)).isoformat()
    hi = (Date.fromisoformat(span[1]) + timedelta(days=dedup.TRANSFER_WINDOW_DAYS)).isoformat()
    others = [dedup.Leg(*r) for r in ws.conn.execute(
        f"SELECT {cols} FROM transactions WHERE account != ? AND {live} AND date BETWEEN ? AND ?"
        " ORDER BY date, id", (account, lo, hi))]
    if not others:
        return [], []
    new = [dedup.Leg(*r) for r in ws.conn.execute(
        f"SELECT {cols} FROM transactions WHERE import_id = ? AND {live} ORDER BY date, id", (import_id,))]
    dates = {leg.id: leg.date for leg in new + others}
    pairs, possible = dedup.match_transfers(new, others, _transfer_context(ws))
    return ([(out_id, in_id, min(dates[out_id], dates[in_id])) for out_id, in_id in pairs],
            [(out_id, in_id, min(dates[out_id], dates[in_id]), why) for out_id, in_id, why in possible])


def _transfer_context(ws: Workspace) -> dedup.TransferContext:
    """Account pairs with confirmed transfers, and the card accounts (rows mostly charges, payments aside)."""
    known = {frozenset(pair) for pair in ws.conn.execute(
        "SELECT DISTINCT min(account), max(account) FROM transactions WHERE transfer_id IS NOT NULL"
        " GROUP BY transfer_id")}
    cards = {account for account, charges, rows in ws.conn.execute(
        "SELECT account, sum(amount < 0), count(*) FROM transactions"
        " WHERE replaced_by IS NULL AND transfer_id IS NULL GROUP BY account")
        if rows and charges >= dedup.CARD_PURCHASE_SHARE * rows}
    return dedup.TransferContext(known, cards)
