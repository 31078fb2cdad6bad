"""Profiles: named layouts, saved by the user (events) or shipped in data/profiles."""

from __future__ import annotations

import json

from ..errors import InputError
from ..workspace import Workspace


def list_profiles(ws: Workspace) -> list[dict]:
    from .parse import builtin_profiles

    saved = [{"name": n, "origin": "saved", "fingerprint": f}
             for n, f in ws.conn.execute("SELECT name, fingerprint FROM profiles ORDER BY name")]
    shipped = [{"name": n, "origin": "built-in", "fingerprint": layout.get("fingerprint", "")}
               for n, layout in sorted(builtin_profiles().items())]
    return saved + shipped


def get_profile(ws: Workspace, name: str) -> dict:
    from .parse import builtin_profiles

    row = ws.conn.execute("SELECT fingerprint, layout FROM profiles WHERE name = ?", (name,)).fetchone()
    if row:
        return {"name": name, "origin": "saved", "fingerprint": row[0], "layout": json.loads(row[1])}
    builtin = builtin_profiles()
    if name in builtin:
        return {"name": name, "origin": "built-in", "layout": builtin[name]}
    raise InputError(f"no profile named {name!r}", "list them with `fin profiles list`")


SNIFF_BYTES = 256 * 1024


def saved_profiles(ws: Workspace) -> dict[str, tuple[str, dict]]:
    return {name: (fp, json.loads(layout)) for name, fp, layout in
            ws.conn.execute("SELECT name, fingerprint, layout FROM profiles ORDER BY name")}


def matching_profile(path, saved: dict[str, tuple[str, dict]]) -> dict | None:
    """The saved layout for files shaped like this one (same header and delimiter), if any."""
    if not saved:
        return None
    from ..errors import FinError
    from .encoding import decode
    from .parse import fingerprint
    from .sniff import find_table, sample_text

    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return None                              # the parser reports unreadable files
    if len(head) == SNIFF_BYTES and b"\n" in head:
        head = head[:head.rfind(b"\n") + 1]      # never cut a character in half
    try:
        text, _ = decode(head, str(path))
        table = find_table(sample_text(text.lstrip("\ufeff"))[0])
    except FinError:
        return None
    if table is None:
        return None
    shape = fingerprint(table.header, table.delimiter, table.ncols)
    return next((layout for fp, layout in saved.values() if fp == shape), None)
