"""Running services on what is new; each service's own commands come from its module (Service.commands)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..output import Format, message, visible
from .options import FORMAT, MODELS_DIR, workspace


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
        if fmt is Format.table:
            for line in report.news:                         # what must be read, even from cron
                print(visible(line))
        if report.status == "failed":
            message(f"fin: {report.error}")
        elif chatty and report.status == "ok":
            message(f"{report.service}: {report.rows} rows, cursor {report.cursor} ({report.seconds:.2f} s)")
        elif chatty:
            message(f"{report.service}: nothing new since event {report.cursor}")
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(3)



def evaluate_categorize(ws, split: Optional[str], models_dir: Optional[Path], fmt: Format) -> None:
    """`fin categorize --evaluate`: the model against two baselines, rendered."""
    from ..evaluation import evaluate

    render_evaluation(evaluate(ws, split, models_dir), fmt)


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


GROUPS: dict[str, str] = {}

COMMANDS = [                 # (group, name, function); each service adds its own (Service.commands)
    (None, "run", run),
]
