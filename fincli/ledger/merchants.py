"""The user's merchant corrections as events: merge, split and rename (`fin merchants …`).

Each command checks its keys against the transactions now, then appends one event and
projects it, in one transaction; an unknown key writes nothing. What the events mean is
fincli/merchant/corrections.py.
"""

from __future__ import annotations

from ..errors import InputError
from ..merchant.corrections import clean_key, key_from_pattern, matches
from ..store import connection as db, log as ev
from ..store.log import Event
from ..workspace import Workspace
from . import projections

_HINT = "see the merchant keys with `fin merchants`"


def _known(ws: Workspace, key: str) -> str:
    """The key as stored, or an InputError naming it."""
    key = clean_key(key)
    found = ws.conn.execute("SELECT 1 FROM transactions WHERE merchant = ? OR merchant_key = ? LIMIT 1",
                            (key, key)).fetchone()
    if not key or found is None:
        raise InputError(f"unknown merchant {key!r}", _HINT)
    return key


def _record(ws: Workspace, type_: str, payload: dict, check) -> dict:
    """Check (inside the write transaction, after catching up), append the event, project it."""
    with ws.lock(), db.transaction(ws.conn):
        projections.catch_up(ws.conn)
        payload = check(payload)
        seq = ev.head(ws.conn)[0] + 1
        ev.append(ws.conn, [Event(type_, f"{type_}:{seq}", ev.now()[:10], "user", payload)])
        projections.catch_up(ws.conn)
    return payload


def merge(ws: Workspace, into: str, keys: list[str]) -> dict:
    """Merge the merchants `keys` into `into`: from now on their transactions are `into`'s."""
    def check(payload):
        target = _known(ws, payload["into"])
        others = list(dict.fromkeys(_known(ws, k) for k in payload["keys"]))
        if target in others:
            raise InputError(f"cannot merge merchant {target!r} into itself", "name the other merchants only")
        return {"into": target, "keys": others}
    return _record(ws, "merchant.merged", {"into": into, "keys": keys}, check)


def split(ws: Workspace, key: str, pattern: str, into: str | None = None) -> dict:
    """Move the transactions of `key` whose description matches `pattern` to a merchant of their own."""
    def check(payload):
        key = _known(ws, payload["key"])
        pattern = payload["pattern"].strip()
        if not pattern:
            raise InputError("the pattern is empty", "give the text the descriptions to move contain")
        new = clean_key(into) if into is not None else key_from_pattern(pattern)
        if not new or new == key:
            raise InputError(f"cannot tell the new merchant's key from the pattern {pattern!r}",
                             "name it with --into KEY")
        described = [d for (d,) in ws.conn.execute("SELECT DISTINCT description FROM transactions"
                                                    " WHERE (merchant = ? OR merchant_key = ?) AND replaced_by IS NULL",
                                                    (key, key))]
        if not any(matches(pattern, d) for d in described):
            raise InputError(f"the pattern {pattern!r} matches no transaction of merchant {key!r}",
                             "see its descriptions with `fin merchants --search` and the variants column")
        return {"key": key, "pattern": pattern, "into": new}
    return _record(ws, "merchant.split", {"key": key, "pattern": pattern}, check)


def rename(ws: Workspace, key: str, name: str) -> dict:
    """Give a merchant the display name the user wants."""
    def check(payload):
        name = " ".join(payload["name"].split())
        if not name:
            raise InputError("the new name is empty", "give the name to show, e.g. \"Corner Bakery\"")
        return {"key": _known(ws, payload["key"]), "name": name}
    return _record(ws, "merchant.renamed", {"key": key, "name": name}, check)
