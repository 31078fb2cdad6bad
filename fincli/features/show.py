"""`fin features show`: what a feature is, and its values now or as of a date.

`--as-of DATE` means at the end of that day: transactions dated DATE or earlier count,
windows are [DATE + 1 - w, DATE + 1), and everything in the log now is known.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..store import log as ev
from ..errors import InputError
from .catalog import BY_NAME, Feature


def describe(feature: Feature) -> dict:
    return {"name": feature.name, "entity": feature.entity, "owner": feature.owner, "type": feature.dtype,
            "description": feature.description, "definition": feature.definition, "hash": feature.hash}


def feature(name: str) -> Feature:
    if name not in BY_NAME:
        raise InputError(f"unknown feature {name!r}", "see `fin features list`")
    return BY_NAME[name]


def _as_of(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else date.fromisoformat(ev.now()[:10])
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a date", "write it as YYYY-MM-DD") from None


def values(ws, f: Feature, entity: str | None, as_of: str | None) -> list[dict]:
    from .store import refresh

    head = refresh(ws)
    day = _as_of(as_of)
    if f.entity == "transaction":
        if entity is None:
            return []
        from .pit import online_features

        row = online_features(ws, [entity])[0]
        if row["merchant"] is None:
            raise InputError(f"unknown transaction id {entity!r}", "see the ids with `fin transactions --format json`")
        return [{"entity": entity, "value": row[f.name]}]
    if f.entity == "category":
        return _category_totals(ws.conn, entity, day, head)
    return _history_values(ws.conn, f, entity, day, head)


def _history_values(conn, f: Feature, entity: str | None, day: date, head: int) -> list[dict]:
    import numpy as np

    from .pit import History, day_number, history_values

    hist = History(conn)
    groups = hist.groups[f.entity]
    used = np.unique(hist.merchant_code if f.entity == "merchant" else hist.account_code).tolist()
    keys = sorted(((groups[code], code) for code in used if entity is None or groups[code][0] == entity),
                  key=lambda item: "\x1f".join(item[0]))        # in order of "name\x1fcurrency"
    if entity is not None and not keys:
        raise InputError(f"no {f.entity} {entity!r} in the history", f"see `fin features show {f.name}`")
    n = len(keys)
    codes = np.array([code for _, code in keys], dtype=np.int64)
    none = np.full(n, -1, dtype=np.int64)
    at = np.full(n, day_number(day.isoformat()) + 1, dtype=np.int64)
    result = history_values(hist, codes if f.entity == "merchant" else none,
                            codes if f.entity == "account" else none, at, np.zeros(n, np.int64),
                            np.full(n, head, np.int64))
    array, present = result[f.name]
    out = []
    for i, ((name, currency), _) in enumerate(keys):
        value = array[i].item() if present[i] else None
        out.append({"entity": name, "currency": currency,
                    "value": round(value, 4) if isinstance(value, float) else value})
    return out


def _months_before(day: date, count: int = 12) -> list[str]:
    first = day.replace(day=1)
    months = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first.isoformat()[:7])
    return months[::-1]


def _category_totals(conn, entity: str | None, day: date, head: int) -> list[dict]:
    """The 12 months before the as-of day's month, from the month totals per effective category."""
    from ..services.spending import INCOME
    from .categories import category_month_totals

    months = _months_before(day)
    rows = category_month_totals(conn, head)
    totals: dict[tuple[str, str], list[int]] = {}
    for currency, month, category, spent, income in rows:
        if month in months and (entity is None or category == entity):
            totals.setdefault((category, currency), [0] * 12)[months.index(month)] = \
                income if category == INCOME else spent
    if entity is not None and not totals and not any(row[2] == entity for row in rows):
        raise InputError(f"no category {entity!r} in the history",
                         "see the categories with `fin categories list`")
    return [{"entity": c, "currency": cur, "months": f"{months[0]}..{months[-1]}", "value": v}
            for (c, cur), v in sorted(totals.items())]
