"""`fin categories`: your category names: list them, declare one, rename or merge them (each an event)."""

from __future__ import annotations

import typer

from ..output import Format
from .options import FORMAT, done, workspace


def categories_list(ctx: typer.Context, fmt: Format = FORMAT):
    """Every category declared or in use, with how many transactions, labels, rules and budgets carry it."""
    from ..categories import FIELDS, taxonomy
    from ..output import render

    render(list(taxonomy(workspace(ctx).conn).values()), list(FIELDS), fmt)


def categories_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The category, e.g. groceries."),
    fmt: Format = FORMAT,
):
    """Declare a category, so it is offered before any label uses it."""
    from ..categories import add

    record = add(workspace(ctx), name)
    done(fmt, record, f"added category {record['name']!r}")


def _moved(record: dict) -> str:
    counts = [f"{record[k]} {k}" for k in ("transactions", "labels", "rules", "budgets")]
    return ", ".join(counts)


def categories_rename(
    ctx: typer.Context,
    old: str = typer.Argument(..., help="The category to rename (see `fin categories list`)."),
    new: str = typer.Argument(..., help="Its new name (a category that does not exist yet)."),
    fmt: Format = FORMAT,
):
    """Rename a category in every label, rule, budget and transaction that carries it."""
    from ..categories import rename

    record = rename(workspace(ctx), old, new)
    done(fmt, record, f"renamed {record['from']!r} to {record['to']!r} ({_moved(record)})")


def categories_merge(
    ctx: typer.Context,
    source: str = typer.Argument(..., metavar="FROM", help="The category that goes away."),
    into: str = typer.Argument(..., help="The existing category that takes its place."),
    fmt: Format = FORMAT,
):
    """Merge category FROM into INTO: every label, rule, budget and transaction of FROM becomes INTO's."""
    from ..categories import merge

    record = merge(workspace(ctx), source, into)
    done(fmt, record, f"merged {record['from']!r} into {record['into']!r} ({_moved(record)})")


GROUPS = {"categories": "Your categories: list them, declare one, rename or merge them."}
COMMANDS = [
    ("categories", "list", categories_list),
    ("categories", "add", categories_add),
    ("categories", "rename", categories_rename),
    ("categories", "merge", categories_merge),
]
