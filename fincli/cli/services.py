"""The model services' commands: categorize, its rules, and running services on what is new."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..output import Format, message
from .options import FORMAT, MODELS_DIR, date_option, done, workspace


def rules_add(
    ctx: typer.Context,
    pattern: str = typer.Argument(..., help="Text to find in the description or merchant (any case)."),
    category: str = typer.Argument(..., help="The category to give, e.g. groceries."),
    regex: bool = typer.Option(False, "--regex", help="PATTERN is a regular expression (searched, any case)."),
    fmt: Format = FORMAT,
):
    """Add a rule and apply it now; the newest matching rule wins, a label beats any rule."""
    from ..services.categorize import add_rule as add

    rule, result = add(workspace(ctx), pattern, category, regex)
    done(fmt, {"id": rule.id, "pattern": pattern, "regex": regex, "category": rule.category,
                "transactions": result.by_rule},
          f"added rule {rule.id}: {pattern!r} -> {rule.category}; {result.by_rule} transaction"
          f"{'s' if result.by_rule != 1 else ''} match it now")


def rules_list(ctx: typer.Context, fmt: Format = FORMAT):
    """The rules, in the order they are tried (newest first)."""
    from ..output import render
    from ..services.rules import listing

    render(listing(workspace(ctx)), ["id", "pattern", "regex", "category", "added_at", "transactions"], fmt)


def rules_remove(ctx: typer.Context, rule_id: str = typer.Argument(..., help="The rule's id (see `fin rules list`)."),
                 fmt: Format = FORMAT):
    """Remove a rule; what it categorized is categorized again by the other rules and the model."""
    from ..services.categorize import remove_rule as remove

    result = remove(workspace(ctx), rule_id)
    done(fmt, {"id": rule_id, "considered": result.considered, "rule": result.by_rule, "model": result.by_model,
                "review": result.to_review, "error": str(result.error) if result.error else None},
          f"removed rule {rule_id}; {result.considered} transactions categorized again "
          f"({result.by_rule} by rules, {result.by_model} by the model, {result.to_review} to review)")
    if result.error is not None:
        message(f"fin: {result.error}; run `fin categorize` to try again")
        raise typer.Exit(3)


def categorize(
    ctx: typer.Context,
    retrain: bool = typer.Option(False, "--retrain", help="Train the model again on every label first."),
    evaluate: bool = typer.Option(False, "--evaluate",
                                  help="Train on the earlier labels, score the later ones, compare with baselines."),
    split: Optional[str] = date_option("--split", "With --evaluate: labels given before this date train, "
                                       "later ones are scored (default: the last 20%)"),
    models_dir: Optional[Path] = MODELS_DIR,
    fmt: Format = FORMAT,
):
    """Categorize every transaction without a label: your rules first, then the model; unsure ones go to review."""
    ws = workspace(ctx)
    if evaluate:
        from ..evaluation import evaluate as run_evaluation

        render_evaluation(run_evaluation(ws, split, models_dir), fmt)
        return
    from ..services.categorize import run_all

    result = run_all(ws, retrain=retrain, models_dir=models_dir)
    if fmt is not Format.table:
        from ..output import render_one

        render_one({"considered": result.considered, "rule": result.by_rule, "model": result.by_model,
                    "review": result.to_review, "changed": result.changed,
                    "trained_on_labels": result.trained["labels"] if result.trained else None,
                    "error": str(result.error) if result.error else None}, fmt)
    if result.trained:
        message(f"trained on {result.trained['labels']} labels and {result.trained['seed_rows']} seed entries")
    message(result.summary())
    if result.error is not None:
        message(f"fin: {result.error}")
        raise typer.Exit(3)


def run(
    ctx: typer.Context,
    names: List[str] = typer.Argument(..., metavar="SERVICE...", help="Services to run, or `all`."),
    models_dir: Optional[Path] = MODELS_DIR,
    fmt: Format = FORMAT,
):
    """Run model services on what is new in the log; exit 3 when some failed while others finished."""
    from ..services.engine import run_services

    reports = run_services(workspace(ctx), list(names), models_dir=models_dir)
    if fmt is not Format.table:
        from ..output import render

        render([{"service": r.service, "status": r.status, "rows": r.rows, "cursor": r.cursor,
                 "seconds": round(r.seconds, 3), "detail": r.detail, "error": r.error, "log": r.log}
                for r in reports], ["service", "status", "rows", "cursor", "seconds", "detail", "error", "log"], fmt)
    chatty = sys.stderr.isatty() and fmt is Format.table   # from cron: silent on success, one line per failure
    for report in reports:
        if report.status == "failed":
            message(f"fin: {report.error}")
        elif chatty and report.status == "ok":
            message(f"{report.service}: {report.rows} rows, cursor {report.cursor} ({report.seconds:.2f} s)")
        elif chatty:
            message(f"{report.service}: nothing new since event {report.cursor}")
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(3)



def render_evaluation(report: dict, fmt: Format) -> None:
    """JSON as documented; as a table or CSV, one row per figure and one column per method."""
    import json

    from ..output import render

    if fmt is Format.json:
        print(json.dumps(report, indent=2))
        return
    methods = report["methods"]
    figures = [("accuracy", lambda s: s["accuracy"]), ("macro_f1", lambda s: s["macro_f1"])]
    figures += [(f"accuracy at {k} coverage", lambda s, k=k: s["accuracy_at_coverage"][k])
                for k in methods["model"]["accuracy_at_coverage"]]
    figures += [(f"coverage at review_below {report['review_below']}", lambda s: s["coverage_at_threshold"]),
                (f"accuracy at review_below {report['review_below']}", lambda s: s["accuracy_at_threshold"])]
    rows = [{"figure": name, **{m: get(s) for m, s in methods.items()}} for name, get in figures]
    if fmt is Format.table:
        message(f"trained on {report['train_labels']} labels given before {report['split']}; scored "
                f"{report['test_transactions']} transactions labelled later (baselines' confidences are "
                "not calibrated: their threshold rows are for reference only)")
    render(rows, ["figure", *methods], fmt, title="model and baselines")
    if fmt is Format.table:
        render(report["per_category"], ["category", "support", "precision", "recall", "f1",
                                        "coverage_at_threshold"], fmt, title="model, per category")


GROUPS = {"rules": "Your categorization rules: they come before the model."}

COMMANDS = [                 # (group, name, function), in the order `fin --help` lists them
    ("rules", "add", rules_add),
    ("rules", "list", rules_list),
    ("rules", "remove", rules_remove),
    (None, "categorize", categorize),
    (None, "run", run),
]
