"""`fin merchants`: list merchants, and merge, split and rename them (the user's corrections are events)."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..output import Format
from .options import FORMAT, done, workspace

VARIANTS_SHOWN = 3          # raw descriptions a table shows per merchant (JSON and CSV give them all)


def merchants_list(
    ctx: typer.Context,
    search: Optional[str] = typer.Option(None, "--search", help="Text in the key, name or a raw description."),
    fmt: Format = FORMAT,
):
    """List merchants (most transactions first), or correct them: merge, split, rename."""
    if ctx.invoked_subcommand is not None:
        return
    from ..ledger.queries import MERCHANT_FIELDS, list_merchants
    from ..output import render

    rows = list_merchants(workspace(ctx), search)
    if fmt is Format.json:
        render(rows, list(MERCHANT_FIELDS), fmt)
        return
    for row in rows:
        row["totals"] = "; ".join(f"{amount} {currency}" for currency, amount in row["totals"].items())
        if fmt is Format.table and len(row["variants"]) > VARIANTS_SHOWN:
            more = len(row["variants"]) - VARIANTS_SHOWN
            row["variants"] = row["variants"][:VARIANTS_SHOWN] + [f"… {more} more"]
        if fmt is Format.table:
            row["variants"] = " | ".join(row["variants"])
    render(rows, list(MERCHANT_FIELDS), fmt, optional=("first_date", "last_date", "variants"))


def merchants_merge(
    ctx: typer.Context,
    into: str = typer.Argument(..., help="The merchant to keep (its key, see `fin merchants`)."),
    keys: List[str] = typer.Argument(..., help="The merchants to merge into it."),
    fmt: Format = FORMAT,
):
    """Merge merchants B… into A: their transactions become A's."""
    from ..ledger.merchants import merge

    event = merge(workspace(ctx), into, keys)
    done(fmt, event, f"merged {', '.join(event['keys'])} into {event['into']}")


def merchants_split(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The merchant to split (its key)."),
    pattern: str = typer.Option(..., "--pattern", help="Text in the descriptions to move (any case; * ? [ glob)."),
    into: Optional[str] = typer.Option(None, "--into", help="Key of the new merchant (default: from the pattern)."),
    fmt: Format = FORMAT,
):
    """Move a merchant's transactions whose description matches PATTERN to a merchant of their own."""
    from ..ledger.merchants import split

    event = split(workspace(ctx), key, pattern, into)
    done(fmt, event, f"split {event['key']}: descriptions matching {event['pattern']!r} are now {event['into']}")


def merchants_rename(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The merchant (its key)."),
    name: str = typer.Argument(..., help="The name to show."),
    fmt: Format = FORMAT,
):
    """Give a merchant the name to show."""
    from ..ledger.merchants import rename

    event = rename(workspace(ctx), key, name)
    done(fmt, event, f"renamed {event['key']} to {event['name']!r}")


def register(app: typer.Typer, command, guard) -> None:
    """`fin merchants` lists; its subcommands correct; each behind the error boundary (`command`, `guard`)."""
    group = typer.Typer(help="Merchants: list them; merge, split and rename them.", invoke_without_command=True)
    command(group, "merge")(merchants_merge)
    command(group, "split")(merchants_split)
    command(group, "rename")(merchants_rename)
    group.callback(invoke_without_command=True)(guard(merchants_list))
    app.add_typer(group, name="merchants")
