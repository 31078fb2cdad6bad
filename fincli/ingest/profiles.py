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
