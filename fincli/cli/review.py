"""`fin review`: what the model was unsure about, merchant by merchant, most transactions first.

On a terminal it asks about one merchant at a time: Enter accepts the suggestion for all its
transactions, a typed category name labels them (Tab completes your categories), `r` makes a
rule for the merchant, `s` skips it, `q` quits. Each answer is written at once (label or rule
events), so quitting keeps everything answered so far. Elsewhere, or with --format, it prints
the queue (`--format json` for scripts; answer with `fin label --merchant KEY CATEGORY`).
"""

from __future__ import annotations

from typing import Optional

import typer

from ..output import Format, message, visible
from .options import workspace

SHOWN = 5          # transactions listed per merchant before "… and N more"
MIN_DESCRIPTION = 20  # a description is cut to the terminal's width, never shorter than this
HELP = "Enter = accept the suggestion, a name = label them, r = rule, s = skip, q = quit"


def review(
    ctx: typer.Context,
    fmt: Optional[Format] = typer.Option(None, "--format", "-f",
                                         help="Print the queue as table, json or csv instead of asking "
                                              "(the default when not on a terminal: table)."),
):
    """Go through the transactions in review merchant by merchant: accept, label, make a rule, skip or quit."""
    from ..output import render, stdout_is_terminal
    from ..services import categorize

    ws = workspace(ctx)
    if fmt is None and stdout_is_terminal() and _stdin_is_terminal():
        _ask(ws)
        return
    fmt = fmt or Format.table
    queue = categorize.review_queue(ws)
    if fmt is Format.table:
        render(queue, ["merchant", "name", "transactions", "total", "currency", "suggestion", "confidence"], fmt,
               optional=("name", "currency", "confidence"))
        if not queue:
            message("nothing to review")
        return
    if fmt is Format.csv:
        queue = [dict(e, transaction_ids=" ".join(e["transaction_ids"])) for e in queue]
    render(queue, list(categorize.REVIEW_FIELDS), fmt)


def _stdin_is_terminal() -> bool:
    import sys

    return sys.stdin.isatty()


def _completion(names: list[str]) -> None:
    """Tab completes category names where the platform has readline."""
    try:
        import readline
    except ImportError:
        return

    def complete(text: str, state: int):
        options = [n for n in names if n.lower().startswith(text.lower())]
        return options[state] if state < len(options) else None

    readline.set_completer(complete)
    readline.set_completer_delims("")                 # a category name may hold spaces
    readline.parse_and_bind("bind ^I rl_complete" if "libedit" in (readline.__doc__ or "") else "tab: complete")


def _ask(ws) -> None:
    from ..services import categorize

    seen: set[str] = set()
    labelled = rules = 0
    print(HELP)
    while True:
        entry = next((e for e in categorize.review_queue(ws) if e["merchant"] not in seen), None)
        if entry is None:
            print(f"done: {labelled} transactions labelled, {rules} rules added; nothing more to review")
            return
        seen.add(entry["merchant"])
        _completion(categorize.categories(ws))
        _show(ws, entry)
        while True:
            try:
                answer = input("> ").strip()
            except EOFError:
                answer = "q"
            if answer == "q":
                print(f"stopped: {labelled} transactions labelled, {rules} rules added; the rest stays in review")
                return
            if answer == "s":
                break
            if answer == "r":
                try:
                    typed = input(f"rule category [{entry['suggestion'] or ''}]: ").strip()
                except EOFError:
                    typed = ""
                category = typed or entry["suggestion"]
                if not category:
                    print("no category given; the merchant is not changed")
                    continue
                rule, result = categorize.rule_for_merchant(ws, entry["merchant"], category)
                rules += 1
                print(f"rule {rule.id}: {visible(entry['merchant'])} -> {visible(rule.category)}"
                      f" ({result.by_rule} transactions)")
                break
            category = answer or entry["suggestion"]
            if not category:
                print("no suggestion for this merchant: type a category name (Tab completes), or s to skip")
                continue
            count = categorize.label_merchant(ws, entry["merchant"], category)
            labelled += count
            print(f"labelled {count} transaction{'s' if count != 1 else ''} of {visible(entry['name'])}"
                  f" as {visible(category)}")
            break


def _show(ws, entry: dict) -> None:
    """The merchant, its transactions (a description cut to the terminal's width) and the suggestion;
    every value from the data made visible (an escape sequence in a description is shown, not run)."""
    import shutil

    from ..money import format_minor

    total = f", {entry['total']} {visible(entry['currency'])}" if entry["total"] is not None else ""
    print(f"\n{visible(entry['name'])} [{visible(entry['merchant'])}]: {entry['transactions']} transactions{total}")
    rows = ws.conn.execute(
        "SELECT date, amount, currency, description FROM transactions WHERE id IN (SELECT value FROM json_each(?))"
        " ORDER BY date DESC", (_json(entry["transaction_ids"]),)).fetchall()
    width = shutil.get_terminal_size().columns
    for date, amount, currency, description in rows[:SHOWN]:
        line = f"  {date}  {format_minor(amount, currency):>10} {visible(currency)}  "
        text = visible(description)
        room = max(width - len(line) - 1, MIN_DESCRIPTION)
        print(line + (text if len(text) <= room else text[:room - 1] + "…"))
    if len(rows) > SHOWN:
        print(f"  … and {len(rows) - SHOWN} more")
    if entry["suggestion"]:
        print(f"suggestion: {visible(entry['suggestion'])} ({entry['confidence']:.0%} sure)")
    else:
        print("no suggestion")


def _json(ids: list[str]) -> str:
    import json

    return json.dumps(ids)


GROUPS: dict[str, str] = {}
COMMANDS = [(None, "review", review)]
