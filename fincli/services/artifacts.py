"""Model artifacts: files in `artifacts/<service>/`, each trusted only by its recorded sha256.

Model files are plain arrays and JSON (an `.npz`, see models/service.py), a format whose
loading runs no code; a service that wrote a pickle instead would be trusting whoever can
write the workspace. So, as a second guard, every saved file's sha256 goes into the event
log (`artifact.saved`), and before a service may load a file the parent checks it against
the latest record, copying exactly the bytes it hashed into the service's private model
folder. A file that was changed, or never recorded, is refused: the service is not even
started.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from ..ledger import projections
from ..store import connection as db, log as ev
from ..errors import WorkspaceError
from ..store.log import Event
from ..workspace import Workspace

_CHUNK = 1 << 20
_RETRAIN = {"categorize": "fin categorize --retrain"}


def _retrain(service: str) -> str:
    return _RETRAIN.get(service, f"fin run {service}")


def _check_name(service: str, file: str) -> None:
    for part, what in ((service, "service"), (file, "artifact file")):
        if not part or part in (".", "..") or Path(part).name != part or "\\" in part:
            raise WorkspaceError(f"{what} name {part!r} is not a plain file name",
                                 "artifacts are named like model.npz")


def path_of(ws: Workspace, service: str, file: str) -> Path:
    _check_name(service, file)
    return ws.artifacts / service / file


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def install(ws: Workspace, service: str, source: Path, file: str | None = None) -> Event:
    """Copy `source` into artifacts/<service>/ and return the `artifact.saved` event to append.

    The caller appends the event in its own transaction (with the results it belongs to).
    Until that commits, the file has no matching record and is refused.
    """
    source = Path(source)
    file = file or source.name
    target = path_of(ws, service, file)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(f".{file}.{uuid.uuid4().hex}.partial")
    h = hashlib.sha256()
    try:
        with open(source, "rb") as src, open(partial, "wb") as dst:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise WorkspaceError(f"cannot save artifact {target}: {exc.strerror}", "check the workspace folder") from None
    sha = h.hexdigest()             # the id: this content of this file, saved at this log position
    return Event("artifact.saved", f"artifact:{service}:{file}:{ev.head(ws.conn)[0]}:{sha[:16]}", ev.now()[:10],
                 service, {"service": service, "file": file, "sha256": sha})


def save(ws: Workspace, service: str, path: Path, file: str | None = None) -> str:
    """Save a model file as an artifact of `service` and record its sha256 in the log; returns it."""
    event = install(ws, service, path, file)
    with db.transaction(ws.conn):
        ev.append(ws.conn, [event])
        projections.catch_up(ws.conn)
    return event.payload["sha256"]


def recorded(ws: Workspace, service: str, file: str) -> str | None:
    """The sha256 last recorded for this artifact, or None."""
    row = ws.conn.execute(
        "SELECT payload ->> '$.sha256' FROM events WHERE type = 'artifact.saved'"
        " AND payload ->> '$.service' = ? AND payload ->> '$.file' = ? ORDER BY seq DESC LIMIT 1",
        (service, file)).fetchone()
    return row[0] if row else None


def verify(ws: Workspace, service: str, file: str, copy_to: Path | None = None) -> Path:
    """Check an artifact against its recorded sha256 before anything loads it.

    With `copy_to`, the bytes are copied there while they are hashed, and the copy
    (exactly what was checked) is what is returned: a file swapped after the check
    cannot reach the service. Raises WorkspaceError naming the file when there is no
    record or the hash differs; nothing is loaded either way.
    """
    from ..errors import ServiceError

    path = path_of(ws, service, file)
    expected = recorded(ws, service, file)
    if expected is None:
        raise ServiceError(service, f"artifact {path} has no recorded sha256; refusing to load it",
                           hint=f"train the model again with `{_retrain(service)}`")
    if not path.is_file():
        raise ServiceError(service, f"artifact {path} is missing", hint=f"train the model again with `{_retrain(service)}`")
    h = hashlib.sha256()
    try:
        with open(path, "rb") as src:
            dst = open(copy_to, "wb") if copy_to else None
            try:
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    if dst:
                        dst.write(chunk)
            finally:
                if dst:
                    dst.close()
    except OSError as exc:
        raise ServiceError(service, f"cannot read artifact {path}: {exc.strerror}") from None
    if h.hexdigest() != expected:
        if copy_to:
            Path(copy_to).unlink(missing_ok=True)
        raise ServiceError(service, f"artifact {path} does not match its recorded sha256 "
                           f"(expected {expected[:12]}…, found {h.hexdigest()[:12]}…); refusing to load it",
                           hint=f"the file was changed outside fin: train again with `{_retrain(service)}`")
    return Path(copy_to) if copy_to else path
