"""`fin schedule show|install|remove`: fin's jobs in the user's crontab.

Each line runs fin by its absolute path with the workspace spelled out (cron has no $FIN_HOME and
a bare PATH) and carries a comment naming the job and the workspace, so `install` finds its own
lines: a second install changes nothing, `remove` takes out only fin's lines for this workspace,
and every other line of the crontab stays as it was. The crontab is read and written through the
`crontab` program (python-crontab).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import typer

from ..errors import WorkspaceError
from ..output import Format
from .options import FORMAT, done, workspace

TAG = "fin-schedule"
# job, when, arguments: the weekly bill reminder; nightly spending; fraud on its own, hourly, after nothing else
JOBS = [
    ("predict-bills", "0 8 * * 1", ["predict-bills"]),
    ("spending", "30 2 * * *", ["run", "spending"]),
    ("fraud", "15 * * * *", ["run", "fraud"]),
]


def fin_command() -> list[str]:
    """fin by its absolute path: the `fin` script beside this Python, else on PATH, else python -m."""
    beside = Path(sys.executable).parent / "fin"
    if beside.is_file():
        return [str(beside.absolute())]
    found = shutil.which("fin")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "fincli.cli"]


def lines(home: Path) -> list[tuple[str, str, str]]:
    """(schedule, command, comment) of each of fin's jobs for the workspace at `home`."""
    home = Path(home).absolute()
    base = fin_command() + ["--home", str(home)]
    return [(when, shlex.join(base + args), f"{TAG} {job} {home}") for job, when, args in JOBS]


def _crontab():
    from crontab import CronTab

    if shutil.which("crontab") is None:
        raise WorkspaceError("no `crontab` program on this machine", "install cron (e.g. apt-get install cron)")
    try:
        return CronTab(user=True)
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"cannot read your crontab: {exc}", "check that cron is installed and usable") from None


def _ours(tab, home: Path) -> list:
    suffix = f" {Path(home).absolute()}"
    return [job for job in tab if job.comment.startswith(TAG + " ") and job.comment.endswith(suffix)]


def show(ctx: typer.Context, fmt: Format = FORMAT):
    """Print fin's crontab lines for this workspace (install them with `fin schedule install`)."""
    jobs = lines(workspace(ctx).home)
    if fmt is Format.table:
        for when, command, comment in jobs:
            print(f"{when} {command} # {comment}")
        return
    from ..output import render

    render([{"schedule": w, "command": c, "comment": m, "line": f"{w} {c} # {m}"} for w, c, m in jobs],
           ["schedule", "command", "comment", "line"], fmt)


def install(ctx: typer.Context, fmt: Format = FORMAT):
    """Add fin's jobs to your crontab; other lines stay, and a second install changes nothing."""
    home = workspace(ctx).home
    tab = _crontab()
    present = {(str(job.slices), job.command, job.comment) for job in _ours(tab, home)}
    wanted = lines(home)
    if present == {tuple(w) for w in wanted}:
        done(fmt, {"added": 0, "jobs": len(wanted)}, "fin's jobs are already in your crontab; nothing changed")
        return
    tab.remove(*_ours(tab, home))
    for when, command, comment in wanted:
        tab.new(command=command, comment=comment).setall(when)
    tab.write()
    done(fmt, {"added": len(wanted), "jobs": len(wanted)},
         f"added {len(wanted)} jobs to your crontab (see them with `crontab -l`)")


def remove(ctx: typer.Context, fmt: Format = FORMAT):
    """Take fin's jobs for this workspace out of your crontab; other lines stay."""
    home = workspace(ctx).home
    tab = _crontab()
    ours = _ours(tab, home)
    if ours:
        tab.remove(*ours)
        tab.write()
    done(fmt, {"removed": len(ours)}, f"removed {len(ours)} of fin's jobs from your crontab")


GROUPS = {"schedule": "Run fin from cron: the weekly bill reminder and the nightly services."}

COMMANDS = [("schedule", "show", show), ("schedule", "install", install), ("schedule", "remove", remove)]
