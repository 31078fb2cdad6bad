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

A model file is written with ``save_model`` and read with ``load_model``: plain arrays
and JSON in one zip (an ``.npz``), a format whose loading cannot run code, unlike a pickle.

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


_SETTINGS = "model.json"
_STAMP = (1980, 1, 1, 0, 0, 0)         # a fixed time in the zip: the same model gives the same bytes


def save_model(path: str, settings: dict, arrays: dict) -> None:
    """Write settings (JSON) and numeric arrays to one .npz file; nothing in it can execute when loaded."""
    import zipfile

    import numpy as np

    partial = path + ".partial"
    with zipfile.ZipFile(partial, "w") as archive:
        archive.writestr(zipfile.ZipInfo(_SETTINGS, _STAMP),
                         json.dumps(settings, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
        for name, array in sorted(arrays.items()):
            with archive.open(zipfile.ZipInfo(f"{name}.npy", _STAMP), "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)
    os.replace(partial, path)


def load_model(path: str) -> tuple[dict, dict]:
    """(settings, arrays) of a file written by save_model. Object arrays are refused (allow_pickle=False)."""
    import zipfile

    import numpy as np

    with zipfile.ZipFile(path) as archive:
        settings = json.loads(archive.read(_SETTINGS), parse_constant=_reject_constant)
        arrays = {}
        for name in archive.namelist():
            if name.endswith(".npy"):
                with archive.open(name) as handle:
                    arrays[name[:-4]] = np.lib.format.read_array(handle, allow_pickle=False)
    if not isinstance(settings, dict):
        raise ValueError(f"{path}: {_SETTINGS} is not a JSON object")
    return settings, arrays


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
