"""The protocol every service file speaks: one JSON request in, one JSON response out.

A service file ends with::

    from service import serve

    if __name__ == "__main__":
        serve(train, predict)            # or serve(train, predict, evaluate)

and is run by path (its folder is then sys.path[0]) as

    python SERVICE.py [REQUEST.json [RESPONSE.json]]

The request is ``{"op": "train"|"predict"|"evaluate", "rows": [...], "model_dir": "..."}``, read
from the file named by the first argument, else from stdin. The response
``{"ok": true, "result": ...}`` goes to the file named by the second argument, else to
stdout. ``train(rows, model_dir)`` returns metrics (an object); ``predict(rows,
model_dir)`` returns one result per row; ``evaluate(rows, model_dir)``, where a service
has it, fits on the rows marked ``"split": "train"`` and returns its predictions (and its
baselines') for the rows marked ``"split": "test"``, writing no model file, so the parent
can score them against labels the service never fitted on. ``model_dir`` holds the model
files the parent has already checked against their recorded sha256 (for predict) or is
where train writes new ones.

Nothing here catches a service's errors: an exception ends the process with a
non-zero exit code and its traceback on stderr, and the parent reports that. This
module imports no ML library and nothing of fin: services and fin meet only through
this JSON.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Optional

Handler = Callable[[list, Optional[str]], Any]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def read_request(argv: list[str]) -> dict:
    if argv:
        with open(argv[0], encoding="utf-8") as handle:
            request = json.load(handle, parse_constant=_reject_constant)
    else:
        request = json.load(sys.stdin, parse_constant=_reject_constant)
    if not isinstance(request, dict):
        raise ValueError("the request is not a JSON object")
    if not isinstance(request.get("rows", []), list):
        raise ValueError("the request's rows are not a list")
    return request


def write_response(argv: list[str], result: Any) -> None:
    # allow_nan=False: NaN and Infinity are not JSON; fail here rather than send them.
    text = json.dumps({"ok": True, "result": result}, separators=(",", ":"), allow_nan=False)
    if len(argv) > 1:
        partial = argv[1] + ".partial"
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(partial, argv[1])        # the parent sees a whole response or none
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def serve(train: Optional[Handler], predict: Optional[Handler], evaluate: Optional[Handler] = None,
          argv: list[str] | None = None) -> None:
    """Read one request, run train, predict or evaluate on it, write the response. Errors propagate."""
    argv = sys.argv[1:] if argv is None else argv
    request = read_request(argv)
    op = request.get("op")
    handler = {"train": train, "predict": predict, "evaluate": evaluate}.get(op) if isinstance(op, str) else None
    if handler is None:
        raise SystemExit(f"{os.path.basename(sys.argv[0])}: unsupported op {op!r}")
    result = handler(request.get("rows", []), request.get("model_dir"))
    write_response(argv, result)
