"""The spending report's renderings: JSON (documented in the README), CSV, terminal tables, HTML with SVG."""

from __future__ import annotations

import csv
import io
from html import escape

from ..money import format_minor
from ..output import csv_cell, message, render, Format

SPARKS = "▁▂▃▄▅▆▇█"


def _money(value, currency: str):
    return None if value is None else format_minor(int(value), currency)


def sparkline(values: list[int]) -> str:
    lo, hi = min(values, default=0), max(values, default=0)
    span = (hi - lo) or 1
    return "".join(SPARKS[round((v - lo) / span * (len(SPARKS) - 1))] for v in values)


def bar(value: int, most: int, width: int = 20) -> str:
    return "█" * max(0, round(width * value / most)) if most > 0 else ""


# --- JSON ------------------------------------------------------------------------------------------

def as_json(result, by: str) -> list[dict]:
    return [_currency_json(c, by) for c in result.currencies]


def _currency_json(c: dict, by: str) -> dict:
    cur = c["currency"]
    m = lambda v: _money(v, cur)   # noqa: E731
    forecast = c["forecast"]
    return {
        "currency": cur, "months": c["months"],
        "rows": [{"month": r["month"], by: r[by], "spent": m(r["spent"]), "income": m(r["income"])} for r in c["rows"]],
        "totals": [{k: m(v) if k != "month" else v for k, v in t.items()} for t in c["totals"]],
        "changes": [{by: x[by], "spent": m(x["spent"]), "previous": m(x["previous"]), "change": m(x["change"]),
                     "avg_3": m(x["avg_3"]), "avg_12": m(x["avg_12"])} for x in c["changes"]],
        "top_merchants": [{"merchant": x["merchant"], "spent": m(x["spent"]), "transactions": x["transactions"]}
                          for x in c["top_merchants"]],
        "budgets": [{"category": b["category"], "budget": m(b["budget"]), "spent": m(b["spent"]),
                     "remaining": m(b["remaining"]), "pace": m(b["pace"]), "as_of": b["as_of"]} for b in c["budgets"]],
        "forecast": None if forecast is None else {
            "month": forecast["month"], "made_at_seq": forecast["made_at_seq"], "made_at": forecast["made_at"],
            "fresh": forecast["fresh"],
            "categories": [{"category": f["category"], "amount": m(f["amount"]), "low": m(f["low"]),
                            "high": m(f["high"]), "method": f["method"],
                            "backtest": {name: {"mae": m(b["mae"]), "mase": b["mase"], "months": b.get("months")}
                                         for name, b in f["backtest"].items()}}
                           for f in forecast["categories"]]},
    }


# --- CSV -------------------------------------------------------------------------------------------

def as_csv(result, by: str) -> str:
    """The month × key table, one line per (currency, month, key)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["currency", "month", by, "spent", "income"]
    writer.writerow(columns)
    for c in result.currencies:
        for r in c["rows"]:
            record = {"currency": c["currency"], "month": r["month"], by: r[by],
                      "spent": _money(r["spent"], c["currency"]), "income": _money(r["income"], c["currency"])}
            writer.writerow([csv_cell(k, record[k]) for k in columns])
    return buffer.getvalue()


# --- terminal --------------------------------------------------------------------------------------

def print_tables(result, by: str) -> None:
    for c in result.currencies:
        cur = c["currency"]
        m = lambda v: _money(v, cur)   # noqa: E731
        spent = {(r["month"], r[by]): r["spent"] for r in c["rows"]}
        keys = sorted({r[by] for r in c["rows"]})
        changes = {x[by]: x for x in c["changes"]}
        rows = []
        for k in keys:
            x = changes.get(k, {})
            rows.append({by: k, **{mo: m(spent.get((mo, k), 0)) for mo in c["months"]},
                         "vs prev": m(x.get("change")), "avg 3m": m(x.get("avg_3")), "avg 12m": m(x.get("avg_12")),
                         "trend": sparkline(x.get("sparkline", []))})
        rows.append({by: "total spent", **{t["month"]: m(t["spent"]) for t in c["totals"]}})
        rows.append({by: "income", **{t["month"]: m(t["income"]) for t in c["totals"]}})
        rows.append({by: "net", **{t["month"]: m(t["net"]) for t in c["totals"]}})
        render(rows, [by, *c["months"], "vs prev", "avg 3m", "avg 12m", "trend"], Format.table,
               title=f"spending in {cur} (transfers excluded)", optional=("trend", "avg 12m", "avg 3m"))
        if c["top_merchants"]:
            most = max(x["spent"] for x in c["top_merchants"])
            render([{"merchant": x["merchant"], "spent": m(x["spent"]), "transactions": x["transactions"],
                     "": bar(x["spent"], most)} for x in c["top_merchants"]],
                   ["merchant", "spent", "transactions", ""], Format.table,
                   title=f"top merchants, {c['months'][0]} to {c['months'][-1]} ({cur})", optional=("",))
        if c["budgets"]:
            render([{"category": b["category"], "budget": m(b["budget"]), "spent": m(b["spent"]),
                     "remaining": m(b["remaining"]),
                     "at this pace": f"{m(b['pace'])} of {m(b['budget'])}" + (" (over)" if b["pace"] > b["budget"] else "")}
                    for b in c["budgets"]], ["category", "budget", "spent", "remaining", "at this pace"],
                   Format.table, title=f"budgets, {c['month']} as of {c['budgets'][0]['as_of']} ({cur})")
        f = c["forecast"]
        if f is not None:
            render([{"category": x["category"], "forecast": m(x["amount"]),
                     "80% range": f"{m(x['low'])} – {m(x['high'])}", "method": x["method"],
                     "backtest MAE": m(x["backtest"].get(x["method"], {}).get("mae")),
                     "MASE": x["backtest"].get(x["method"], {}).get("mase")} for x in f["categories"]],
                   ["category", "forecast", "80% range", "method", "backtest MAE", "MASE"], Format.table,
                   title=f"forecast for {f['month']} ({cur})")
            state = "" if f["fresh"] else "; transactions changed since: run `fin run spending` to update it"
            message(f"{cur} forecast made at log position {f['made_at_seq']} on {f['made_at']}{state}")


# --- HTML ------------------------------------------------------------------------------------------

def as_html(result, by: str) -> str:
    """One self-contained page: inline SVG charts and tables, no scripts, nothing fetched."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>fin spending report</title>",
             "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}td:first-child,th:first-child"
             "{text-align:left}svg{display:block;margin:1em 0}</style></head><body><h1>Spending</h1>"]
    if result.forecast_note:
        parts.append(f"<p class='note'>{escape(result.forecast_note)}</p>")
    for c in result.currencies:
        cur = c["currency"]
        m = lambda v: _money(v, cur)   # noqa: E731
        parts.append(f"<h2>{escape(cur)}</h2>")
        parts.append(_bars_svg([t["month"] for t in c["totals"]], [t["spent"] for t in c["totals"]],
                               f"spent per month ({cur})", "monthly"))
        last = [(r[by], r["spent"]) for r in c["rows"] if r["month"] == c["month"]]
        last.sort(key=lambda kv: -kv[1])
        parts.append(_bars_svg([k for k, _ in last], [v for _, v in last], f"{c['month']} by {by} ({cur})",
                               "categories", horizontal=True))
        spent = {(r["month"], r[by]): r["spent"] for r in c["rows"]}
        keys = sorted({r[by] for r in c["rows"]})
        head = "".join(f"<th>{escape(mo)}</th>" for mo in c["months"])
        body = "".join(f"<tr><td>{escape(k)}</td>" + "".join(f"<td>{m(spent.get((mo, k), 0))}</td>"
                                                             for mo in c["months"]) + "</tr>" for k in keys)
        body += "".join(f"<tr><th>{label}</th>" + "".join(f"<th>{m(t[key])}</th>" for t in c["totals"]) + "</tr>"
                        for label, key in (("total spent", "spent"), ("income", "income"), ("net", "net")))
        parts.append(f"<table><tr><th>{escape(by)}</th>{head}</tr>{body}</table>")
        if c["budgets"]:
            parts.append("<h3>Budgets</h3><table><tr><th>category</th><th>budget</th><th>spent</th>"
                         "<th>remaining</th><th>at this pace</th></tr>" + "".join(
                             f"<tr><td>{escape(b['category'])}</td><td>{m(b['budget'])}</td><td>{m(b['spent'])}</td>"
                             f"<td>{m(b['remaining'])}</td><td>{m(b['pace'])}</td></tr>" for b in c["budgets"])
                         + "</table>")
        f = c["forecast"]
        if f is not None:
            parts.append(f"<h3>Forecast for {escape(f['month'])}</h3><p>made at log position {f['made_at_seq']} on "
                         f"{escape(f['made_at'])}</p><table><tr><th>category</th><th>forecast</th><th>80% range</th>"
                         "<th>method</th><th>backtest MAE</th></tr>" + "".join(
                             f"<tr><td>{escape(x['category'])}</td><td>{m(x['amount'])}</td>"
                             f"<td>{m(x['low'])} – {m(x['high'])}</td><td>{escape(x['method'])}</td>"
                             f"<td>{m(x['backtest'].get(x['method'], {}).get('mae'))}</td></tr>"
                             for x in f["categories"]) + "</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _bars_svg(labels: list[str], values: list[int], title: str, kind: str, horizontal: bool = False) -> str:
    most = max([v for v in values if v > 0], default=1)
    if horizontal:
        width, row = 640, 18
        height = 30 + row * len(values)
        items = "".join(
            f"<text x='150' y='{30 + i * row + 12}' text-anchor='end' font-size='11'>{escape(str(label))}</text>"
            f"<rect x='155' y='{30 + i * row + 2}' width='{max(0, v) / most * 400:.1f}' height='{row - 4}' fill='#4a7'/>"
            for i, (label, v) in enumerate(zip(labels, values)))
    else:
        width, height = 640, 240
        step = (width - 40) / max(1, len(values))
        items = "".join(
            f"<rect x='{30 + i * step:.1f}' y='{210 - max(0, v) / most * 170:.1f}' width='{step * 0.7:.1f}' "
            f"height='{max(0, v) / most * 170:.1f}' fill='#47a'/>"
            f"<text x='{30 + i * step + step * 0.35:.1f}' y='228' text-anchor='middle' font-size='9'>"
            f"{escape(str(label))}</text>" for i, (label, v) in enumerate(zip(labels, values)))
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='chart {kind}' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}'>"
            f"<text x='10' y='18' font-size='13'>{escape(title)}</text>{items}</svg>")
