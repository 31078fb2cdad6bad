"""Queries over the log and the core projection: status, transactions, accounts, imports, events."""

from __future__ import annotations

from ..money import format_minor
from ..store import log as ev, migrations
from ..workspace import Workspace


def status(ws: Workspace) -> dict:
    q = lambda sql, *a: ws.conn.execute(sql, a).fetchone()[0]  # noqa: E731
    last = ws.conn.execute(
        "SELECT import_id, file, recorded_at, added FROM imports ORDER BY seq DESC LIMIT 1").fetchone()
    return {
        "workspace": str(ws.home),
        "schema_version": migrations.schema_version(ws.conn),
        "events": ev.head(ws.conn)[0],
        "transactions": q("SELECT count(*) FROM transactions WHERE replaced_by IS NULL"),
        "accounts": q("SELECT count(DISTINCT account) FROM transactions"),
        "imports": q("SELECT count(*) FROM imports WHERE undone = 0"),
        "possible_duplicates": q("SELECT count(*) FROM possible_duplicates"),
        "quarantined": q("SELECT count(*) FROM quarantine"),
        "last_import": ({"import_id": last[0], "file": last[1], "recorded_at": last[2], "added": last[3]}
                        if last else None),
    }


def list_events(ws: Workspace, type_: str | None, limit: int) -> list[dict]:
    sql = "SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload FROM events"
    args: tuple = ()
    if type_:
        sql += " WHERE type = ?"
        args = (type_,)
    sql += " ORDER BY seq DESC LIMIT ?"
    rows = ws.conn.execute(sql, args + (limit,)).fetchall()
    return [dict(zip(("seq", "event_id", "type", "version", "occurred_at", "recorded_at", "source", "payload"), r))
            for r in reversed(rows)]


TRANSACTION_FIELDS = ("id", "account", "date", "amount", "currency", "description", "merchant",
                      "category", "category_source", "confidence", "import_id", "pending", "transfer_id",
                      "bank_category")


def _transaction_filter(account: str | None = None, since: str | None = None, until: str | None = None,
                        category: str | None = None, uncategorized: bool = False, review: bool = False,
                        search: str | None = None) -> tuple[str, list]:
    """The WHERE clause (and its arguments) shared by listing and counting transactions."""
    where, args = ["replaced_by IS NULL"], []
    for clause, value in (("account = ?", account), ("date >= ?", since), ("date <= ?", until),
                          ("category = ?", category)):
        if value:
            where.append(clause)
            args.append(value)
    if uncategorized:
        where.append("category IS NULL")
    if review:
        where.append("review = 1")
    if search:                     # the text as typed: %, _ and \ are not wildcards
        where.append("(description LIKE ? ESCAPE '\\' OR merchant LIKE ? ESCAPE '\\')")
        literal = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args += [f"%{literal}%"] * 2
    return " AND ".join(where), args


ORDER = ("date", "account", "import_id", "line")


def list_transactions(ws: Workspace, *, limit: int | None = None, newest_first: bool = False, **filters):
    """Yield transactions as the JSON contract describes them (amount as a signed decimal string).

    Oldest first unless `newest_first`; with a `limit`, only the newest `limit` transactions
    (in the same order). Filters: account, since, until, category, uncategorized, review, search."""
    where, args = _transaction_filter(**filters)
    fields = TRANSACTION_FIELDS + (("suggestion",) if filters.get("review") else ())
    ascending, descending = ", ".join(ORDER), ", ".join(f"{c} DESC" for c in ORDER)
    sql = f"SELECT {', '.join(fields)}, line FROM transactions WHERE {where}"
    if limit:
        sql += f" ORDER BY {descending} LIMIT ?"
        args = [*args, limit]
        if not newest_first:
            sql = f"SELECT * FROM ({sql}) ORDER BY {ascending}"
    else:
        sql += f" ORDER BY {descending if newest_first else ascending}"
    for row in ws.conn.execute(sql, args):
        record = dict(zip(fields, row))
        record["amount"] = format_minor(record["amount"], record["currency"])
        record["pending"] = bool(record["pending"])
        if record["category_source"] == "merchant":      # the merchant's labels are evidence of the model's
            record["category_source"] = "model"          # (the JSON contract: rule, model, user or null)
        yield record


def count_transactions(ws: Workspace, **filters) -> int:
    """How many transactions `list_transactions` would yield without a limit."""
    where, args = _transaction_filter(**filters)
    return ws.conn.execute(f"SELECT count(*) FROM transactions WHERE {where}", args).fetchone()[0]


def list_accounts(ws: Workspace) -> list[dict]:
    # Summed in two parts so that SQLite's 64-bit sum cannot overflow: amounts are at most
    # money.MAX_MINOR = 10^15, so each part stays below 10^9 per row; Python joins them exactly.
    rows = ws.conn.execute(
        "SELECT account, currency, count(*), sum(amount / 1000000000), sum(amount % 1000000000), min(date), max(date)"
        " FROM transactions WHERE replaced_by IS NULL GROUP BY account, currency ORDER BY account, currency").fetchall()
    return [{"account": a, "currency": c, "transactions": n, "balance_change": format_minor(high * 10**9 + low, c),
             "first_date": lo, "last_date": hi} for a, c, n, high, low, lo, hi in rows]


IMPORT_FIELDS = ("import_id", "file", "account", "date_from", "date_to", "rows", "added", "recorded_at", "status")


def list_imports(ws: Workspace) -> list[dict]:
    """Every import, oldest first: what it read, what it added, and whether it was undone."""
    rows = ws.conn.execute(
        "SELECT import_id, file, account, date_from, date_to, rows, added, recorded_at,"
        " CASE WHEN undone THEN 'undone' ELSE 'active' END FROM imports ORDER BY recorded_at, import_id").fetchall()
    return [dict(zip(IMPORT_FIELDS, row)) for row in rows]


MERCHANT_FIELDS = ("key", "name", "transactions", "totals", "first_date", "last_date", "variants")


def list_merchants(ws: Workspace, search: str | None = None) -> list[dict]:
    """Every merchant of the live transactions, most transactions first (then by key).

    `name`: the user's name, else the one most of its transactions carry; `totals`: the sum per
    currency as a decimal string; `variants`: its distinct descriptions, most frequent first.
    `search` keeps the merchants whose key, name or a variant holds the text (any case).
    """
    merchants: dict[str, dict] = {}
    names: dict[str, dict[str, int]] = {}
    live = "FROM transactions WHERE replaced_by IS NULL"
    for key, n, first, last in ws.conn.execute(f"SELECT merchant, count(*), min(date), max(date) {live}"
                                               " GROUP BY merchant"):
        merchants[key] = {"key": key, "name": None, "transactions": n, "totals": {}, "first_date": first,
                          "last_date": last, "variants": []}
        names[key] = {}
    for key, name, n in ws.conn.execute(f"SELECT merchant, merchant_name, count(*) {live}"
                                        " GROUP BY merchant, merchant_name"):
        names[key][name] = n
    # summed in two parts so that SQLite's 64-bit sum cannot overflow (see list_accounts)
    for key, currency, high, low in ws.conn.execute(
            f"SELECT merchant, currency, sum(amount / 1000000000), sum(amount % 1000000000) {live}"
            " GROUP BY merchant, currency ORDER BY merchant, currency"):
        merchants[key]["totals"][currency] = format_minor(high * 10**9 + low, currency)
    for key, description in ws.conn.execute(f"SELECT merchant, description {live} GROUP BY merchant, description"
                                            " ORDER BY merchant, count(*) DESC, description"):
        merchants[key]["variants"].append(description)
    for key, record in merchants.items():
        record["name"] = min(names[key].items(), key=lambda item: (-item[1], item[0]))[0]
    found = sorted(merchants.values(), key=lambda m: (-m["transactions"], m["key"]))
    if search:
        text = search.casefold()
        found = [m for m in found if any(text in s.casefold() for s in (m["key"], m["name"], *m["variants"]))]
    return found
