"""Spending: month × category totals, budgets with pace, and next month's forecast with its error.

The totals are plain SQL aggregates over the `transactions` projection: live, posted rows
(`replaced_by IS NULL AND pending = 0`), transfers between the user's own accounts left
out (`transfer_id IS NULL`), one currency at a time. A row is income when its category is
`income` (or it is an uncategorized credit); every other row is spending, so a refund
(a credit in `groceries`) lowers its category's spending.

Budgets are `budget.set` events; the latest per (category, currency) counts.

The forecast is the nightly service (`fin run spending`): the parent sends each
(currency, category) series of month totals — the feature store's `category_monthly_totals`
as of the run's log position (fincli/features/categories.py), which equal the report's
totals — to `models/spending.py`, which backtests
XGBoost and three baselines and answers with next month's forecast, its 80% range, the
chosen method and every method's backtest. The run stores one `spending.forecast` event
per currency (with the totals it saw), so `fin report spending` answers from it at once
while nothing has changed since. A run that fails is kept as a `service.failed` event, and the
report says so until a later run stores a forecast.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import InputError
from ..features.categories import INCOME, IS_INCOME as _IS_INCOME
from .base import Plan, Service, Window

if TYPE_CHECKING:
    from ..store.log import Event
    from ..workspace import Workspace

SERVICE = "spending"
DEFAULT_MONTHS = 6
TOP_MERCHANTS = 10
# events that change the totals: a forecast made before the newest of them is out of date
CHANGES = ("transaction.imported", "transaction.posted", "transfer.matched", "import.undone", "label.set",
           "transactions.categorized", "merchant.merged", "merchant.split", "merchant.renamed", "category.renamed",
           "category.merged")
_LIVE = "replaced_by IS NULL AND pending = 0 AND transfer_id IS NULL"
_RESULT = {"currency": (str,), "category": (str,), "amount": (int,), "low": (int,), "high": (int,),
           "method": (str,), "backtest": (dict,)}


# --- totals -------------------------------------------------------------------------------------

def _where(account: str | None, currency: str | None) -> tuple[str, list]:
    sql, params = _LIVE, []
    if account:
        sql, params = sql + " AND account = ?", params + [account]
    if currency:
        sql, params = sql + " AND currency = ?", params + [currency]
    return sql, params


def month_totals(ws: Workspace, account: str | None = None, currency: str | None = None,
                 by: str = "category") -> list[tuple[str, str, str, int, int]]:
    """(currency, month, key, spent, income) in minor units; key is the category (or merchant)."""
    key = "coalesce(category, 'uncategorized')" if by == "category" else "merchant_name"
    where, params = _where(account, currency)
    return ws.conn.execute(
        f"SELECT currency, substr(date, 1, 7), {key},"
        f" sum(CASE WHEN {_IS_INCOME} THEN 0 ELSE -amount END), sum(CASE WHEN {_IS_INCOME} THEN amount ELSE 0 END)"
        f" FROM transactions WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", params).fetchall()


def _last_dates(ws: Workspace, account: str | None, currency: str | None) -> dict[str, str]:
    where, params = _where(account, currency)
    return dict(ws.conn.execute(f"SELECT currency, max(date) FROM transactions WHERE {where} GROUP BY 1", params))


def _top_merchants(ws: Workspace, currency: str, months: list[str], account: str | None) -> list[dict]:
    where, params = _where(account, currency)
    rows = ws.conn.execute(
        f"SELECT min(merchant_name), sum(-amount), count(*) FROM transactions WHERE {where} AND NOT {_IS_INCOME}"
        " AND date >= ? AND date < ? GROUP BY merchant ORDER BY 2 DESC, 1 LIMIT ?",
        params + [months[0], next_month(months[-1]), TOP_MERCHANTS]).fetchall()
    return [{"merchant": m, "spent": s, "transactions": n} for m, s, n in rows]


def top_merchants_by_window(ws: Workspace, spans: dict[str, tuple[str, str]]) -> dict[str, list[list]]:
    """currency -> for k = 1, 2, … every month of its span (first, last): the top merchants of its last k
    months, as [[merchant, spent, transactions], …] — what `_top_merchants` answers for a
    report of k months, computed in one pass so that the stored report need not scan."""
    import heapq

    per: dict[str, dict[str, list]] = {}
    for cur, month, merchant, name, spent, count in ws.conn.execute(
            f"SELECT currency, substr(date, 1, 7), merchant, min(merchant_name), sum(-amount), count(*)"
            f" FROM transactions WHERE {_LIVE} AND NOT {_IS_INCOME} GROUP BY 1, 2, 3"):
        per.setdefault(cur, {}).setdefault(month, []).append((merchant, name, spent, count))
    out = {}
    for cur, (first, last) in spans.items():
        months = per.get(cur, {})
        running: dict[str, list] = {}
        windows = []
        for month in reversed(month_range(first, last)):
            for merchant, name, spent, count in months.get(month, ()):
                total = running.setdefault(merchant, [name, 0, 0])
                total[0], total[1], total[2] = min(total[0], name), total[1] + spent, total[2] + count
            windows.append([list(v) for v in heapq.nsmallest(TOP_MERCHANTS, running.values(),
                                                             key=lambda v: (-v[1], v[0]))])
        out[cur] = windows
    return out


def month_range(first: str, last: str) -> list[str]:
    """Every calendar month from first to last, 'YYYY-MM'."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


# --- budgets ------------------------------------------------------------------------------------

def set_budget(ws: Workspace, category: str, amount: str, currency: str | None) -> dict:
    """Record a monthly budget (a `budget.set` event); amount is a decimal string like 400 or 400.00."""
    from decimal import Decimal, InvalidOperation

    from ..categories import check_category
    from ..ledger import projections
    from ..money import check_currency, to_minor
    from ..store import connection as db, log as ev
    from ..store.log import Event

    category = check_category(category)
    code = check_currency(currency, "--currency") if currency else _main_currency(ws)
    try:
        value = Decimal(amount.strip().replace(",", ""))
    except InvalidOperation:
        raise InputError(f"budget amount {amount!r} is not a number", "give it like 400 or 400.00") from None
    if not value.is_finite() or value < 0:
        raise InputError(f"budget amount {amount!r} must be zero or more", "give it like 400 or 400.00")
    minor = to_minor(value, code)
    with ws.lock(), db.transaction(ws.conn):
        head = ev.head(ws.conn)[0]
        ev.append(ws.conn, [Event("budget.set", f"budget.set:{category}:{code}:{head}", ev.now()[:10], "user",
                                  {"category": category, "currency": code, "amount": minor})])
        projections.catch_up(ws.conn)
    return {"category": category, "currency": code, "amount": minor}


def _main_currency(ws: Workspace) -> str:
    row = ws.conn.execute("SELECT currency FROM transactions WHERE replaced_by IS NULL"
                          " GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1").fetchone()
    if row is None:
        raise InputError("no transactions yet, so no currency to budget in", "give one with --currency USD")
    return row[0]


def budgets(ws: Workspace) -> dict[tuple[str, str], int]:
    """(category, currency) -> amount of the latest budget.set; a budget of 0 means none."""
    from ..categories import renames

    named = renames(ws.conn).at                     # a budget set before a rename counts under the new name
    out: dict[tuple[str, str], int] = {}
    for seq, category, currency, amount in ws.conn.execute(
            "SELECT seq, payload ->> '$.category', payload ->> '$.currency', payload ->> '$.amount'"
            " FROM events WHERE type = 'budget.set' ORDER BY seq"):
        out[(named(category, seq), currency)] = amount
    return {k: v for k, v in out.items() if v}


def budget_listing(ws: Workspace) -> list[dict]:
    from ..money import format_minor

    return [{"category": c, "currency": cur, "budget": format_minor(a, cur)}
            for (c, cur), a in sorted(budgets(ws).items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def pace(spent: int, as_of: str) -> int:
    """Where a month's spending ends if it goes on as it went up to and including day `as_of`."""
    year, month, day = int(as_of[:4]), int(as_of[5:7]), int(as_of[8:10])
    days = calendar.monthrange(year, month)[1]
    return spent * days // day


# --- the stored forecast --------------------------------------------------------------------------

def last_change(ws: Workspace) -> int:
    marks = ",".join("?" * len(CHANGES))
    return ws.conn.execute(f"SELECT coalesce(max(seq), 0) FROM events WHERE type IN ({marks})", CHANGES).fetchone()[0]


def stored_forecasts(ws: Workspace) -> dict[str, dict]:
    """currency -> the payload (with its recorded_at) of the newest spending.forecast of that currency."""
    import json

    out = {}
    for seq, recorded, payload in ws.conn.execute(
            "SELECT seq, recorded_at, payload FROM events WHERE seq IN (SELECT max(seq) FROM events"
            " WHERE type = 'spending.forecast' GROUP BY payload ->> '$.currency') ORDER BY seq"):
        data = json.loads(payload)
        data["made_at"] = recorded[:10]
        out[data["currency"]] = data
    return out


def last_failure(ws: Workspace) -> tuple[str, str] | None:
    """(reason, date) of the latest `fin run spending` when it failed after the newest stored forecast."""
    row = ws.conn.execute(
        "SELECT payload ->> '$.error', recorded_at FROM events WHERE type = 'service.failed'"
        " AND source = ? AND seq > (SELECT coalesce(max(seq), 0) FROM events WHERE type = 'spending.forecast')"
        " ORDER BY seq DESC LIMIT 1", (SERVICE,)).fetchone()
    return (row[0], row[1][:10]) if row else None


# --- the report ---------------------------------------------------------------------------------

@dataclass
class Report:
    currencies: list[dict] = field(default_factory=list)
    source: str = "transactions"          # or "stored": the totals came from the stored forecast run
    forecast_note: str | None = None      # why there is no forecast, and how to get one


def report(ws: Workspace, months: int = DEFAULT_MONTHS, account: str | None = None, currency: str | None = None,
           by: str = "category", forecast_error: str | None = None) -> Report:
    """The spending report, per currency: month × key totals, changes, top merchants, budgets, forecast.

    Totals come from the stored forecast run when nothing that changes them happened since and no
    filter narrows them; otherwise from the transactions."""
    from ..ledger import projections
    from ..money import check_currency

    if months < 1:
        raise InputError(f"--months must be 1 or more, not {months}", "for example --months 6")
    if by not in ("category", "merchant"):
        raise InputError(f"--by must be category or merchant, not {by!r}", "for example --by merchant")
    code = check_currency(currency, "--currency") if currency else None
    projections.catch_up(ws.conn)
    stored = stored_forecasts(ws)
    fresh = {c: f for c, f in stored.items() if f["made_at_seq"] >= last_change(ws)}
    out = Report()
    if by == "category" and account is None and stored and set(fresh) == set(stored):
        out.source = "stored"
        totals = [(c, m, k, s, i) for c, f in sorted(fresh.items()) for m, k, s, i in f["totals"]
                  if code is None or c == code]
        last_dates = {c: f["last_date"] for c, f in fresh.items() if "last_date" in f}
    else:
        totals = month_totals(ws, account, code, by)
        last_dates = _last_dates(ws, account, code)
    all_budgets = budgets(ws)
    by_currency: dict[str, list] = {}
    for row in totals:
        by_currency.setdefault(row[0], []).append(row[1:])
    for cur, rows in sorted(by_currency.items()):
        out.currencies.append(_currency_report(ws, cur, rows, months, account, by, last_dates.get(cur),
                                               all_budgets, stored.get(cur), cur in fresh))
    failed = last_failure(ws)
    if forecast_error:
        out.forecast_note = f"forecast unavailable: {forecast_error}"
    elif failed:
        out.forecast_note = f"forecast unavailable: {failed[0]} (at {failed[1]})"
    elif not stored:
        out.forecast_note = "no forecast yet: run `fin run spending` (nightly with `fin schedule install`)"
    return out


def _currency_report(ws, cur: str, rows: list, months: int, account, by: str, last_date: str | None,
                     all_budgets: dict, forecast: dict | None, fresh: bool) -> dict:
    all_months = month_range(rows[0][0], max(r[0] for r in rows))
    shown = all_months[-months:]
    spent: dict[tuple[str, str], int] = {}
    income: dict[tuple[str, str], int] = {}
    for month, key, s, i in rows:
        spent[(month, key)], income[(month, key)] = s, i
    keys = sorted({k for _, k, _, _ in rows})
    table = [{"month": m, by: k, "spent": spent.get((m, k), 0), "income": income.get((m, k), 0)}
             for m in shown for k in keys if (m, k) in spent]
    totals = []
    for m in shown:
        s = sum(v for (mm, _), v in spent.items() if mm == m)
        i = sum(v for (mm, _), v in income.items() if mm == m)
        totals.append({"month": m, "spent": s, "income": i, "net": i - s})
    last = all_months[-1]
    changes = []
    for k in keys:
        series = [spent.get((m, k), 0) for m in all_months]
        if not any(series):
            continue
        prev = series[-2] if len(series) > 1 else None
        before = series[:-1]
        changes.append({by: k, "spent": series[-1], "previous": prev,
                        "change": series[-1] - prev if prev is not None else None,
                        "avg_3": _mean(before[-3:]), "avg_12": _mean(before[-12:]),
                        "sparkline": series[-12:]})
    merchants = []
    if by == "category":
        stored = forecast.get("top_merchants") if forecast and fresh and account is None else None
        if stored and len(stored) == len(all_months):
            merchants = [{"merchant": m, "spent": s, "transactions": n} for m, s, n in stored[len(shown) - 1]]
        else:
            merchants = _top_merchants(ws, cur, shown, account)
    budget_rows = []
    if by == "category":
        for (category, bcur), amount in sorted(all_budgets.items()):
            if bcur != cur:
                continue
            s = spent.get((last, category), 0)
            as_of = last_date if last_date and last_date[:7] == last else f"{last}-{calendar.monthrange(int(last[:4]), int(last[5:]))[1]:02d}"
            budget_rows.append({"category": category, "budget": amount, "spent": s, "remaining": amount - s,
                                "pace": pace(s, as_of), "as_of": as_of})
    return {"currency": cur, "months": shown, "month": last, "rows": table, "totals": totals, "changes": changes,
            "top_merchants": merchants, "budgets": budget_rows,
            "forecast": _forecast_view(forecast, fresh) if forecast and by == "category" else None}


def _mean(values: list[int]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def _forecast_view(f: dict, fresh: bool) -> dict:
    return {"month": f["month"], "made_at_seq": f["made_at_seq"], "made_at": f["made_at"], "fresh": fresh,
            "categories": f["categories"]}


# --- the service --------------------------------------------------------------------------------

@dataclass
class RunState:
    series: list[dict] = field(default_factory=list)
    totals: dict[str, list] = field(default_factory=dict)      # currency -> [[month, category, spent, income]]
    last_dates: dict[str, str] = field(default_factory=dict)
    top_merchants: dict[str, list] = field(default_factory=dict)   # currency -> top_merchants_by_window
    upto: int = 0
    forecasts: int = 0


def series_rows(ws: Workspace) -> RunState:
    """One row per (currency, spending category): its month totals from the first month to the last.

    The series come from the feature store's `category_monthly_totals` as of the log head; the
    totals the report shows come from the projection (the two agree: tests/test_spending_features.py).
    """
    from ..features.categories import category_month_totals
    from ..features.store import refresh

    state = RunState()
    for cur, month, key, s, i in month_totals(ws):
        state.totals.setdefault(cur, []).append([month, key, s, i])
    state.last_dates = _last_dates(ws, None, None)
    by_currency: dict[str, list] = {}
    for cur, month, key, s, i in category_month_totals(ws.conn, refresh(ws)):
        by_currency.setdefault(cur, []).append((month, key, s, i))
    for cur, items in sorted(by_currency.items()):
        months = month_range(items[0][0], max(m for m, *_ in items))
        index = {m: n for n, m in enumerate(months)}
        per: dict[str, list[int]] = {}
        for month, key, s, i in items:
            if key == INCOME:
                continue
            per.setdefault(key, [0] * len(months))[index[month]] = s
        for key, values in sorted(per.items()):
            state.series.append({"currency": cur, "category": key, "months": months, "totals": values,
                                 "target": next_month(months[-1])})
    state.top_merchants = top_merchants_by_window(
        ws, {cur: (items[0][0], max(m for m, *_ in items)) for cur, items in by_currency.items()})
    return state


class Spending(Service):
    name = SERVICE
    follows = CHANGES
    schedule = "nightly"
    window = "history"
    result_fields = _RESULT

    def plan(self, ws: Workspace, window: Window) -> Plan:
        state = series_rows(ws)
        state.upto = window.upto
        return Plan([("predict", state.series)] if state.series else [], len(state.series), state)

    def check(self, op: str, rows: list[dict], result) -> str | None:
        for i, (row, r) in enumerate(zip(rows, result), 1):
            if (r["currency"], r["category"]) != (row["currency"], row["category"]):
                return f"result {i}: answers {r['category']!r}, not {row['category']!r}"
            if not r["low"] <= r["amount"] <= r["high"]:
                return f"result {i}: amount outside its range"
        return None

    def to_events(self, ws: Workspace, plan: Plan, results: list, run: str) -> list[Event]:
        from ..store import log as ev
        from ..store.log import Event

        state: RunState = plan.state
        predictions = [p for op, result in results if op == "predict" for p in result]
        per: dict[str, list] = {cur: [] for cur in state.totals}
        for p in predictions:
            per[p["currency"]].append({k: v for k, v in p.items() if k != "currency"})
        events = []
        for cur, categories in sorted(per.items()):
            target = next_month(max(m for m, *_ in state.totals[cur]))
            events.append(Event("spending.forecast", f"spending.forecast:{cur}:{run}", ev.now()[:10], SERVICE,
                                {"currency": cur, "month": target, "made_at_seq": state.upto,
                                 "categories": categories, "totals": state.totals[cur],
                                 "last_date": state.last_dates.get(cur, ""),
                                 "top_merchants": state.top_merchants.get(cur, [])}))
        state.forecasts = len(predictions)
        return events

    def kept_on_failure(self, ws: Workspace, plan: Plan, run: str) -> list[Event]:
        """The failure itself, so that a later `fin report spending` says why there is no new forecast."""
        from .base import failure_event

        return [failure_event(SERVICE, plan, run, plan.state.upto)]

    def detail(self, plan: Plan) -> str:
        return f"forecast {plan.state.forecasts} categories"

    def snapshot(self, ws: Workspace):
        return {cur: [(c["category"], c["amount"], c["method"]) for c in f["categories"]]
                for cur, f in stored_forecasts(ws).items()}


service = Spending()


def run_forecast(ws: Workspace, models_dir=None) -> str | None:
    """Run the forecaster now (in its own process); None when it stored its results, else why it failed."""
    from ..errors import ServiceError
    from .engine import run_one

    try:
        with ws.lock():
            run_one(ws, service, models_dir, scope="all")
    except ServiceError as exc:
        return str(exc)
    return None
