"""`fin report spending` and `fin budget set|list`: the spending report and the budgets it compares with."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..output import Format, message
from .options import FORMAT, MODELS_DIR, workspace


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


def spending(
    ctx: typer.Context,
    months: int = typer.Option(6, "--months", help="How many months to show, ending with the latest."),
    account: Optional[str] = typer.Option(None, "--account", help="Only this account."),
    currency: Optional[str] = typer.Option(None, "--currency", help="Only this currency (e.g. USD)."),
    by: str = typer.Option("category", "--by", help="Rows by category or by merchant."),
    forecast: bool = typer.Option(False, "--forecast",
                                  help="Run the forecaster now (as `fin run spending` does) before reporting."),
    fmt: ReportFormat = typer.Option(ReportFormat.table, "--format", help="table, json, csv or html."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the report to this file instead of stdout."),
    models_dir: Optional[Path] = MODELS_DIR,
):
    """Spending per month and category (transfers left out, each currency apart), budgets, the forecast."""
    from ..services import spending as svc

    ws = workspace(ctx)
    error = svc.run_forecast(ws, models_dir) if forecast else None
    result = svc.report(ws, months, account, currency, by, forecast_error=error)
    text = _render(result, fmt, by)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    elif text:
        sys.stdout.write(text)
    if not result.currencies:
        message("no spending yet: import transactions with `fin import FILE`")
    if result.forecast_note:
        message(result.forecast_note)
    if error:
        raise typer.Exit(3)


def _render(result, fmt: ReportFormat, by: str) -> str:
    from . import report_views as views

    if fmt is ReportFormat.json:
        return json.dumps(views.as_json(result, by), ensure_ascii=False, indent=2) + "\n"
    if fmt is ReportFormat.csv:
        return views.as_csv(result, by)
    if fmt is ReportFormat.html:
        return views.as_html(result, by)
    views.print_tables(result, by)
    return ""


def budget_set(
    ctx: typer.Context,
    category: str = typer.Argument(..., help="The category, e.g. groceries."),
    amount: str = typer.Argument(..., help="Its monthly budget, e.g. 400 or 400.00 (0 removes it)."),
    currency: Optional[str] = typer.Option(None, "--currency", help="Its currency (default: your main one)."),
    fmt: Format = FORMAT,
):
    """Set a category's monthly budget (recorded as an event; the latest one counts)."""
    from ..money import format_minor
    from ..services.spending import set_budget
    from .options import done

    saved = set_budget(workspace(ctx), category, amount, currency)
    shown = format_minor(saved["amount"], saved["currency"])
    done(fmt, {**saved, "amount": shown},
         f"budget for {saved['category']}: {shown} {saved['currency']} a month")


def budget_list(ctx: typer.Context, fmt: Format = FORMAT):
    """The monthly budgets in force."""
    from ..output import render
    from ..services.spending import budget_listing

    render(budget_listing(workspace(ctx)), ["category", "currency", "budget"], fmt)


GROUPS = {"report": "Reports over your transactions.", "budget": "Monthly budgets per category."}

COMMANDS = [
    ("report", "spending", spending),
    ("budget", "set", budget_set),
    ("budget", "list", budget_list),
]
