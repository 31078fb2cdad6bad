"""The workspace: a folder holding fin.db, artifacts/, logs/ and config.toml."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import WorkspaceError
from .store import connection

DEFAULT_CONFIG = """\
# fin workspace settings.

# Currency assumed for files that do not say theirs.
default_currency = "USD"

[categorize]
# A prediction less confident than this is not assigned: it goes to `fin transactions --review`.
review_below = 0.85
# Train the model again once this many new labels have arrived (or run `fin categorize --retrain`).
retrain_after_labels = 20

[logs]
# Each service run writes a log to logs/; only the newest this many per service are kept.
keep_per_service = 20

# Each model service runs in its own process with these limits.
[services.categorize]
memory_mb = 2048
timeout_s = 300
"""


def resolve_home(home: str | Path | None) -> Path:
    """--home, else $FIN_HOME, else the platform's user data directory; always absolute,
    so that service subprocesses (which run elsewhere), logs and messages all name one place."""
    if home:
        path = Path(home).expanduser()
    elif os.environ.get("FIN_HOME"):
        path = Path(os.environ["FIN_HOME"]).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("fin", appauthor=False))
    return Path(os.path.abspath(path))


@dataclass
class Workspace:
    home: Path
    conn: sqlite3.Connection

    @property
    def db_path(self) -> Path:
        return self.home / "fin.db"

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def config_path(self) -> Path:
        return self.home / "config.toml"

    def config(self) -> dict:
        try:
            return tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return tomllib.loads(DEFAULT_CONFIG)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"{self.config_path}: {exc}", "fix the file or delete it to get the defaults") from None

    lock_depth: int = 0

    @contextmanager
    def lock(self):
        """An exclusive lock for work that must not interleave (imports, rebuilds).

        Re-entrant: work already holding it (the real-time services after an import) may call
        code that takes it again, which would otherwise wait on itself.
        """
        if self.lock_depth:
            self.lock_depth += 1
            try:
                yield
            finally:
                self.lock_depth -= 1
            return
        with open(self.home / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self.lock_depth = 1
            try:
                yield
            finally:
                self.lock_depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        self.conn.close()


def _check_owner(path: Path) -> None:
    """Refuse a folder another user owns: whoever owns it can change its config, models and log."""
    owner = path.stat().st_uid
    if owner != os.geteuid():
        raise WorkspaceError(f"{path} belongs to another user (uid {owner}, you are uid {os.geteuid()}); "
                             "fin opens only a workspace you own",
                             "use a folder of your own with --home or FIN_HOME")


def open_workspace(home: str | Path | None = None, *, create: bool = True) -> Workspace:
    path = resolve_home(home)
    if path.exists() and not path.is_dir():
        raise WorkspaceError(f"{path} is not a directory", "point --home or FIN_HOME at a folder")
    if not path.exists() and not create:
        raise WorkspaceError(f"no workspace at {path}", "run `fin import FILE` to create one")
    if path.exists():
        _check_owner(path)
    try:
        path.mkdir(parents=True, mode=0o700, exist_ok=True)   # another fin may be creating it too
        for sub in ("artifacts", "logs"):
            (path / sub).mkdir(exist_ok=True, mode=0o700)
        with open(path / "config.toml", "x", encoding="utf-8") as config:
            config.write(DEFAULT_CONFIG)
    except FileExistsError:
        pass
    except OSError as exc:
        raise WorkspaceError(f"cannot create workspace {path}: {exc.strerror}",
                             "choose another folder with --home") from None
    check_writable(path)
    return Workspace(path, connection.connect(path / "fin.db", migration_sets()))


def migration_sets() -> list:
    """Every component's migration set, in the order they apply: the log first, then what reads it."""
    from .features import store as features_store
    from .ledger import projections
    from .store import log

    return [log.MIGRATIONS, projections.MIGRATIONS, features_store.MIGRATIONS]


def check_writable(path: Path) -> None:
    """Refuse a workspace fin could only half write to, before anything is written.

    SQLite needs to create fin.db-wal and fin.db-shm beside the database, a lock
    file sits in the folder, and each service run writes its log into logs/: a
    folder where files cannot be created would otherwise fail after an import
    was committed. A probe file is created and removed in each (root ignores
    permission bits, so asking os.access is not enough).
    """
    for folder in (path, path / "artifacts", path / "logs"):
        probe = folder / f".fin-write-test-{os.getpid()}"
        try:
            os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            os.unlink(probe)
            if folder == path:
                with open(path / ".lock", "a"):
                    pass
        except FileExistsError:
            continue
        except OSError as exc:
            raise WorkspaceError(f"workspace {path} is not writable: cannot create files in {folder} "
                                 f"({exc.strerror})",
                                 "make the folder writable, or copy the workspace elsewhere and use --home") from None
