"""The feature store's commands: the catalogue, values, training sets and rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..output import Format
from .options import FORMAT, date_option, done, workspace


def features_list(fmt: Format = FORMAT):
    """The feature catalogue: name, entity, owner service, description."""
    from ..features.catalog import FEATURES
    from ..output import render

    render([{"name": f.name, "entity": f.entity, "owner": f.owner, "description": f.description}
            for f in FEATURES], ["name", "entity", "owner", "description"], fmt)


def features_show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The feature (see `fin features list`)."),
    entity: Optional[str] = typer.Option(None, "--entity", help="A transaction id, merchant, account or category."),
    as_of: Optional[str] = date_option("--as-of", "Values at the end of this day"),
    fmt: Format = FORMAT,
):
    """What a feature is, and its values now or as of a date."""
    import json

    from ..features import show
    from ..output import render, render_one

    feature = show.feature(name)
    rows = show.values(workspace(ctx), feature, entity, as_of)
    if fmt is Format.json:
        print(json.dumps({**show.describe(feature), "values": rows}, ensure_ascii=False, indent=2))
        return
    if fmt is Format.table:
        render_one(show.describe(feature), fmt)
    for row in rows:
        if not isinstance(row["value"], (str, int, float, type(None))):
            row["value"] = json.dumps(row["value"])
    render(rows, [c for c in ("entity", "currency", "months", "value") if any(c in r for r in rows)] or
           ["entity", "value"], fmt)


def features_training_set(
    ctx: typer.Context,
    service: str = typer.Argument(..., help="The service whose observations to use (categorize)."),
    out: Path = typer.Option(..., "--out", help="Output file: .csv, .jsonl or .parquet."),
    as_known_now: bool = typer.Option(False, "--as-known-now",
                                      help="Let every row see the whole log now, not only what was known then."),
    fmt: Format = FORMAT,
):
    """Write a point-in-time training set and its manifest (OUT.manifest.json)."""
    from ..features.training import training_set

    info = training_set(workspace(ctx), service, out, as_known_now)
    done(fmt, {"out": str(out), "manifest": f"{out}.manifest.json", "rows": info["observations"],
                "log_position": info["log_position"]},
          f"wrote {info['observations']} rows to {out} (log position {info['log_position']}); "
          f"manifest {out}.manifest.json")


def features_rebuild(ctx: typer.Context,
                     verify: bool = typer.Option(False, "--verify",
                                                 help="Check that the incremental state equals the rebuild."),
                     fmt: Format = FORMAT):
    """Drop the materialized features and rebuild them from the event log."""
    from ..errors import IntegrityError
    from ..features.store import rebuild

    head, after, before = rebuild(workspace(ctx), verify)
    if verify and before != after:
        raise IntegrityError("materialized features differed from a rebuild from the log (now rebuilt)",
                             "report this as a bug")
    done(fmt, {"events": head, "verified": True if verify else None, "digest": after},
          f"rebuilt features from {head} events" + (f"; verified (digest {after[:16]})" if verify else ""))


GROUPS = {"features": "The feature store: catalogue, values, point-in-time training sets."}

COMMANDS = [                 # (group, name, function), in the order `fin --help` lists them
    ("features", "list", features_list),
    ("features", "show", features_show),
    ("features", "training-set", features_training_set),
    ("features", "rebuild", features_rebuild),
]
