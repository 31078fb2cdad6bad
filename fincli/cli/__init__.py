"""The `fin` command line: thin commands over the use-case modules, and the only layer that prints.

The commands live by area (ledger, features, services); each area lists its commands in
one table, registered here behind the one error boundary, which turns a FinError into
one line on stderr and its exit code. Heavy modules (rich tables, the importer, anything
ML) are imported inside the commands that need them, so `fin --help` stays fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import typer

from ..errors import FinError, one_line
from ..output import message
from . import categories, features, ledger, merchants, report, review, schedule, services

app = typer.Typer(
    name="fin",
    help="Personal finance from any bank CSV: import, list, categorize and verify your transactions "
         "in a local event-sourced workspace.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def command(target: typer.Typer = app, name: str | None = None):
    """Register a command behind the one error boundary."""
    return lambda fn: target.command(name)(guard(fn))


def guard(fn):
    """The one error boundary around a command."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FinError as exc:
            message(f"fin: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            message("fin: interrupted; nothing of the unfinished step was written")
            raise typer.Exit(130) from None
        except BrokenPipeError:               # `fin transactions | head`: the reader has all it wanted
            import os
            import sys

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
            raise typer.Exit(141) from None
        except Exception as exc:
            line = _environment_problem(exc, kwargs.get("ctx"))
            if line is None:
                raise                          # anything else is a bug: its traceback helps fix it
            message(f"fin: {line}")
            raise typer.Exit(1) from None
    return guarded


def _environment_problem(exc: Exception, ctx: Optional[typer.Context]) -> Optional[str]:
    """One line for a failure of the machine rather than of fin: a file system or a damaged database."""
    import sqlite3

    from ..store.connection import DAMAGED_HINT

    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return one_line(f"{where}{exc.strerror or exc}")
    if type(exc) in (sqlite3.DatabaseError, sqlite3.OperationalError):
        db_path = (ctx.obj or {}).get("db_path", "fin.db") if ctx is not None else "fin.db"
        damaged = "malformed" in str(exc) or "not a database" in str(exc)
        hint = DAMAGED_HINT if damaged else "check the workspace, or use another with --home"
        return one_line(f"{db_path}: {exc} ({hint})")
    return None


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("fin-ledger-toolkit")
        except PackageNotFoundError:             # run from a checkout that is not installed
            from .. import __version__ as number
        print(f"fin {number}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", envvar="FIN_HOME",
                                        help="Workspace folder (default: $FIN_HOME, else the user data dir)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print fin's version and exit."),
):
    ctx.obj = {"home": home}


def register(area) -> None:
    """Add an area's command groups and its commands (its GROUPS and COMMANDS tables) to `fin`."""
    groups = {}
    for name, help in area.GROUPS.items():
        groups[name] = typer.Typer(help=help, no_args_is_help=True)
        app.add_typer(groups[name], name=name)
    for group, name, fn in area.COMMANDS:
        command(groups[group] if group else app, name)(fn)


for _area in (ledger, features, services, review, schedule, report, categories):
    register(_area)
merchants.register(app, command, guard)


def _register_services() -> None:
    """Each built-in service's own commands, from its module (see fincli/services/registry.py), built on
    what the CLI shares with them: its options, the workspace opener and its renderers."""
    from types import SimpleNamespace

    from ..output import Format, render, render_one
    from ..services import registry
    from .options import FORMAT, MODELS_DIR, date_option, done, workspace

    kit = SimpleNamespace(Format=Format, FORMAT=FORMAT, MODELS_DIR=MODELS_DIR, date_option=date_option,
                          workspace=workspace, done=done, message=message, render=render, render_one=render_one,
                          evaluate_categorize=services.evaluate_categorize)
    for name in registry.names():
        groups, commands = registry.get(name).commands(kit)
        register(SimpleNamespace(GROUPS=groups, COMMANDS=commands))


_register_services()


def main() -> None:
    app(prog_name="fin")

