"""User-facing errors.

Library code raises these and never prints or exits; the CLI's single error
boundary turns them into one line on stderr and an exit code. Anything else
that escapes is a bug.
"""

from __future__ import annotations

from pathlib import Path


class FinError(Exception):
    """An error the user can act on: what went wrong, and what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return one_line(f"{self.message} ({self.hint})" if self.hint else self.message)


def one_line(text: str) -> str:
    """The text with control characters escaped (a file name may hold a newline): one line on a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class InputError(FinError):
    """The input given to fin (a file, an argument) is wrong."""


class ParseError(InputError):
    """A file could not be read: names the file and, where known, the line."""

    def __init__(self, path, line: int | None, message: str, hint: str | None = None):
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {message}", hint)
        self.path = str(path)
        self.line = line


class AmbiguousInputError(ParseError):
    """The file can be read more than one way; an option must decide."""


class WorkspaceError(FinError):
    """The workspace (database, config, artifacts) is missing, locked or damaged."""


class IntegrityError(WorkspaceError):
    """The log or a projection failed verification."""


class CursorMoved(WorkspaceError):
    """A consumer's cursor was not where this run found it: another run advanced it first."""


class ServiceError(FinError):
    """A model service failed: crashed, was killed, hit a limit or answered wrongly."""

    exit_code = 3

    def __init__(self, service: str, what: str, log: Path | None = None, hint: str | None = None):
        where = f" (log: {log})" if log else ""
        super().__init__(f"service {service}: {what}{where}", hint)
        self.service = service
        self.what = what
        self.log = log


class UsageError(FinError):
    """The command was called wrongly."""

    exit_code = 2
