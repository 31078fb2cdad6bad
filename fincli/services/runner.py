"""Run one model service in its own process, with limits, and check what it returns.

A service is a file `models/<name>.py` speaking the JSON protocol of
`models/service.py`. The runner starts it by path with this Python, in a new
process group, under an address-space limit (RLIMIT_AS) and a wall-clock timeout
from `config.toml` `[services.<name>]`, with its stdout and stderr going to its own
log file under `logs/` (the newest `[logs] keep_per_service` of each service are kept).
The request and the response travel through files in a private folder of the
workspace, `.run-<service>-<parent pid>-<random>`.

After a crash of fin itself: on Linux the service is started with a parent-death
signal (SIGKILL), so a `kill -9` of fin takes the service down with it rather than
leaving it running with no one to enforce its timeout; and the next run removes the
run folders (request data, a copy of the model) whose fin process is gone. The response is validated before the
caller sees any of it; every way a service can fail becomes one ServiceError whose
one-line message names the service, what happened and the log.

The runner never touches the database: storing results is the caller's job, after
validation, in one transaction (see engine.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ServiceError, WorkspaceError
from ..workspace import Workspace

DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT_S = 300
DEFAULT_KEEP_LOGS = 20
PR_SET_PDEATHSIG = 1          # linux/prctl.h
MAX_RESPONSE_BYTES = 512 * 1024 * 1024
# What running out of address space looks like in Python, C++, the dynamic loader and OpenBLAS
# (which fails to allocate its buffers before Python can raise MemoryError).
_MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory",
                 "failed to map segment", "OpenBLAS error: Memory allocation")


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    timeout_s: float


def limits(ws: Workspace, service: str) -> Limits:
    """The service's limits from config.toml, with defaults; a bad value is a WorkspaceError."""
    services = ws.config().get("services", {})
    if not isinstance(services, dict):
        raise WorkspaceError(f"{ws.config_path}: `services` must be a table of [services.NAME] tables",
                             "fix the file or delete it to get the defaults")
    table = services.get(service, {})
    if not isinstance(table, dict):
        raise WorkspaceError(f"{ws.config_path}: services.{service} must be a table ([services.{service}])",
                             "fix the file or delete it to get the defaults")

    def positive(key: str, default, kinds: tuple[type, ...], unit: str):
        value = table.get(key, default)
        if type(value) not in kinds or not value > 0:
            raise WorkspaceError(
                f"{ws.config_path}: [services.{service}] {key} must be a positive number of {unit}, "
                f"not {value!r}", f"for example {key} = {default}")
        return value

    return Limits(positive("memory_mb", DEFAULT_MEMORY_MB, (int,), "megabytes"),
                  positive("timeout_s", DEFAULT_TIMEOUT_S, (int, float), "seconds"))


def logs_kept(ws: Workspace) -> int:
    """How many logs of each service to keep: `[logs] keep_per_service` in config.toml."""
    table = ws.config().get("logs", {})
    if not isinstance(table, dict):
        raise WorkspaceError(f"{ws.config_path}: `logs` must be a table ([logs])",
                             "fix the file or delete it to get the defaults")
    keep = table.get("keep_per_service", DEFAULT_KEEP_LOGS)
    if type(keep) is not int or keep < 1:
        raise WorkspaceError(f"{ws.config_path}: [logs] keep_per_service must be a positive whole number, "
                             f"not {keep!r}", f"for example keep_per_service = {DEFAULT_KEEP_LOGS}")
    return keep


def service_path(name: str, models_dir: Path | None = None) -> Path:
    from ..paths import models_dir as shipped

    return Path(models_dir or shipped()) / f"{name}.py"


@dataclass
class Outcome:
    result: Any
    model_dir: Path          # what train wrote; deleted with the run's folder by cleanup()
    log: Path
    seconds: float
    _tmp: Path

    def cleanup(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


# --- validating the response -----------------------------------------------------------

Fields = dict[str, tuple[type, ...]]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _field_problem(item: Any, fields: Fields) -> str | None:
    if type(item) is not dict:
        return f"{type(item).__name__} instead of an object"
    for name, kinds in fields.items():
        if name not in item:
            return f"missing field {name!r}"
        if type(item[name]) not in kinds:
            return f"field {name!r} is {type(item[name]).__name__}, not {'/'.join(k.__name__ for k in kinds)}"
    return None


def check_response(text: bytes, op: str, n_rows: int, fields: Fields | None) -> Any:
    """The result of a response, or ValueError saying why the response is not acceptable."""
    try:
        response = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({str(exc).splitlines()[0][:120]})") from None
    if type(response) is not dict:
        raise ValueError(f"a JSON {type(response).__name__} instead of an object")
    if response.get("ok") is not True:
        raise ValueError("ok is not true")
    if "result" not in response:
        raise ValueError("no result")
    result = response["result"]
    if op == "predict":
        if type(result) is not list:
            raise ValueError(f"predict returned a {type(result).__name__}, not a list of results")
        if len(result) != n_rows:
            raise ValueError(f"{len(result)} results for {n_rows} rows")
        for i, item in enumerate(result):
            if problem := _field_problem(item, fields or {}):
                raise ValueError(f"result {i + 1}: {problem}")
    else:
        if problem := _field_problem(result, fields or {}):
            raise ValueError(f"{op} result: {problem}")
    return result


# --- running -----------------------------------------------------------------------------

def _parent_death_signal():
    """libc's prctl on Linux, looked up here in the parent (not between fork and exec); else None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _child_setup(memory_bytes: int) -> Callable[[], None]:
    """What the child does between fork and exec: its limits, and dying with this process."""
    prctl = _parent_death_signal()
    parent = os.getpid()

    def preexec() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
            if os.getppid() != parent:         # fin died before the signal was armed
                os._exit(1)
    return preexec


def _owner_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:                    # alive, someone else's
        return False
    return False


def remove_stale_runs(ws: Workspace) -> list[Path]:
    """Remove the run folders left by a fin process that no longer exists; returns them.

    The owner's pid is in the folder's name (`.run-<service>-<pid>-<random>`); a folder
    whose owner is alive, or whose name carries no pid, is left alone.
    """
    removed = []
    for folder in ws.home.glob(".run-*"):
        pid = folder.name.rsplit("-", 2)[-2] if folder.name.count("-") >= 3 else ""
        if pid.isdigit() and folder.is_dir() and not folder.is_symlink() and _owner_gone(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _log_path(ws: Workspace, service: str) -> Path:
    ws.logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    path = ws.logs / f"{service}-{stamp}.log"
    n = 1
    while path.exists():
        n += 1
        path = ws.logs / f"{service}-{stamp}-{n}.log"
    return path


def _log_order(name: str, service: str) -> tuple[str, int] | None:
    """A service log's (time stamp, repeat number), the order the logs were written in; None if not its log."""
    match = re.fullmatch(re.escape(service) + r"-(\d{8}T\d{6}\.\d{6}Z)(?:-(\d+))?\.log", name)
    return (match[1], int(match[2] or 1)) if match else None


def prune_logs(ws: Workspace, service: str, keep: int) -> None:
    """Delete all but the newest `keep` logs of a service."""
    logs = sorted((order, path) for path in ws.logs.iterdir() if (order := _log_order(path.name, service)))
    for _, path in logs[:-keep]:
        path.unlink(missing_ok=True)


def _log_tail(log: Path, size: int) -> str:
    """The last `size` bytes of a service log ("" when it cannot be read)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, log.stat().st_size - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in _log_tail(log, 8192).splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _hit_memory_limit(log: Path) -> bool:
    tail = _log_tail(log, 65536)
    return any(sign in tail for sign in _MEMORY_SIGNS)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(ws: Workspace, service: str, op: str, rows: list, *, fields: Fields | None = None,
        artifacts: Iterable[str] = (), models_dir: Path | None = None,
        check: Callable[[list, Any], str | None] | None = None) -> Outcome:
    """Run `op` of one service on `rows`; return its validated result, or raise ServiceError.

    `fields` declares what each predict result (or the train result) must hold: field
    name -> allowed JSON types. `check(rows, result)` may add the caller's own checks and
    returns a reason to refuse, or None. `artifacts` names model files of the service in
    `artifacts/<service>/`: each is checked against its recorded sha256 here, in the
    parent, before the service starts, and only the checked copy is given to it.
    """
    from . import artifacts as art

    if op not in ("train", "predict", "evaluate"):
        raise ValueError(f"unknown op {op!r}")
    script = service_path(service, models_dir)
    if not script.is_file():
        raise ServiceError(service, f"no service file {script}")
    lim, keep_logs = limits(ws, service), logs_kept(ws)
    remove_stale_runs(ws)
    tmp = Path(tempfile.mkdtemp(prefix=f".run-{service}-{os.getpid()}-", dir=ws.home))
    ok = False
    try:
        model_dir = tmp / "model"
        model_dir.mkdir()
        for name in artifacts:                     # refused here: a tampered file is never loaded
            art.verify(ws, service, name, copy_to=model_dir / name)
        request, response = tmp / "request.json", tmp / "response.json"
        with open(request, "w", encoding="utf-8") as handle:     # dumps, not dump: the C encoder, 10x faster
            handle.write(json.dumps({"op": op, "rows": rows, "model_dir": str(model_dir)},
                                    separators=(",", ":"), allow_nan=False))
        log = _log_path(ws, service)
        started = time.perf_counter()
        with open(log, "wb") as log_handle:
            prune_logs(ws, service, keep_logs)
            # Few malloc arenas: otherwise every thread of a numeric library reserves 64 MB of
            # address space, and RLIMIT_AS would measure reservations instead of use.
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", MALLOC_ARENA_MAX="2")
            try:
                proc = subprocess.Popen(
                    [sys.executable, str(script), str(request), str(response)],
                    stdin=subprocess.DEVNULL, stdout=log_handle, stderr=log_handle, cwd=tmp, env=env,
                    preexec_fn=_child_setup(lim.memory_mb * 1024 * 1024), start_new_session=True,
                    close_fds=True)
            except OSError as exc:
                raise ServiceError(service, f"could not start: {exc.strerror}", log) from None
            try:
                code = proc.wait(timeout=lim.timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
                raise ServiceError(service, f"timeout after {lim.timeout_s:g} s", log,
                                   f"raise timeout_s in [services.{service}] of {ws.config_path}") from None
            except BaseException:                  # Ctrl-C: the service goes down with us
                _kill_group(proc.pid)
                proc.wait()
                raise
            finally:
                _kill_group(proc.pid)              # nothing it started outlives the run
        seconds = time.perf_counter() - started
        memory_hint = f"raise memory_mb in [services.{service}] of {ws.config_path}"
        if code != 0:
            if _hit_memory_limit(log):
                raise ServiceError(service, f"memory limit of {lim.memory_mb} MB reached", log, memory_hint)
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"signal {-code}"
                raise ServiceError(service, f"killed by signal {name}", log)
            last = _last_line(log)
            raise ServiceError(service, f"exited with code {code}" + (f": {last}" if last else ""), log)
        try:
            size = response.stat().st_size
        except FileNotFoundError:
            raise ServiceError(service, "invalid response: none was written", log) from None
        if size > MAX_RESPONSE_BYTES:
            raise ServiceError(service, f"invalid response: {size} bytes is too large", log)
        try:
            result = check_response(response.read_bytes(), op, len(rows), fields)
            if check and (problem := check(rows, result)):
                raise ValueError(problem)
        except ValueError as exc:
            raise ServiceError(service, f"invalid response: {exc}", log) from None
        ok = True
        return Outcome(result, model_dir, log, seconds, tmp)
    finally:
        if not ok:
            shutil.rmtree(tmp, ignore_errors=True)
