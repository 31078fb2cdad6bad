"""The user's merchant corrections: merges, splits and renames, read from the event log.

The resolver turns a description into a merchant key; the user can correct it with
events (`fin merchants merge|split|rename`). The corrections in force are always those of
the whole log, read directly from it (there are few), so a projection that applies them
gives the same rows whether it catches up, rebuilds, or replays after `fin undo`.

A transaction's effective key: splits first — the newest split of its key (or of the
merchant that key is merged into) whose pattern matches the description moves it to the
split's key, and so on — then merges, followed to the end (a merge that would close a
cycle detaches the key it merges into: the latest event wins).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ..store import log as ev

TYPES = ("merchant.merged", "merchant.split", "merchant.renamed")
_GLOB = re.compile(r"[*?\[]")


def clean_key(text: str) -> str:
    """A merchant key as the user may type it: lower case, single spaces."""
    return " ".join(text.lower().split())


def key_from_pattern(pattern: str) -> str:
    """The default key of a split: the pattern's words, without glob characters or punctuation."""
    return " ".join(re.sub(r"[^\w]+", " ", pattern.lower()).split())


def name_from_pattern(pattern: str) -> str:
    """The default name of a split-off merchant: the pattern's text as typed, without glob characters."""
    return " ".join(_GLOB.sub(" ", pattern).replace("]", " ").split())


def matches(pattern: str, description: str) -> bool:
    """Case-insensitive: a glob (with * ? [) matches the whole description, other text any part of it."""
    text, pattern = description.lower(), pattern.lower()
    return fnmatchcase(text, pattern) if _GLOB.search(pattern) else pattern in text


@dataclass(frozen=True)
class Split:
    key: str
    pattern: str
    into: str


@dataclass
class Corrections:
    """The corrections in force, in log order; `digest` names them in feature hashes and manifests."""
    splits: list[Split] = field(default_factory=list)
    merges: dict[str, str] = field(default_factory=dict)       # key -> the key it was merged into
    renames: dict[str, str] = field(default_factory=dict)      # effective key -> display name
    split_names: dict[str, str] = field(default_factory=dict)  # split-off key -> its default name
    events: list[tuple[str, dict]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events)

    def apply(self, type_: str, payload: dict) -> None:
        self.events.append((type_, payload))
        if type_ == "merchant.renamed":
            self.renames[payload["key"]] = payload["name"]
        elif type_ == "merchant.split":
            self.splits.append(Split(payload["key"], payload["pattern"], payload["into"]))
            self.split_names.setdefault(payload["into"], name_from_pattern(payload["pattern"]) or payload["into"])
        elif type_ == "merchant.merged":
            into = payload["into"]
            for key in payload["keys"]:
                if key != into:
                    self.merges[key] = into
            if self._cycles_from(into):            # the latest event wins: `into` is no longer merged away
                del self.merges[into]

    def _cycles_from(self, key: str) -> bool:
        seen = {key}
        while key in self.merges:
            key = self.merges[key]
            if key in seen:
                return True
            seen.add(key)
        return False

    def root(self, key: str) -> str:
        """Where merges take a key (no cycles: apply() breaks them)."""
        while key in self.merges:
            key = self.merges[key]
        return key

    def key(self, resolved: str, description: str) -> str:
        """The effective merchant key of a transaction from its resolver key and description."""
        key, seen = resolved, {resolved}
        while self.splits:
            root = self.root(key)
            split = next((s for s in reversed(self.splits)
                          if s.key in (key, root) and s.into not in seen and matches(s.pattern, description)), None)
            if split is None:
                break
            key = split.into
            seen.add(key)
        return self.root(key)

    def name(self, key: str, resolved_name: str) -> str:
        """The display name of a transaction's effective merchant: the user's name, else the resolver's."""
        return self.renames.get(key) or self.split_names.get(key) or resolved_name

    def digest(self) -> str:
        """A short hash of the corrections in force ("none" without any)."""
        if not self.events:
            return "none"
        return hashlib.sha256(ev.canonical({"events": self.events}).encode()).hexdigest()[:16]


def load(conn: sqlite3.Connection) -> Corrections:
    """The corrections of the whole log, in seq order; invalid events are skipped (quarantined elsewhere)."""
    corrections = Corrections()
    rows = conn.execute("SELECT seq, event_id, type, version, occurred_at, recorded_at, source, payload"
                        f" FROM events WHERE type IN ({', '.join('?' * len(TYPES))}) ORDER BY seq", TYPES)
    for row in rows.fetchall():
        event = ev.decode(*row)
        if isinstance(event, ev.Event):
            corrections.apply(event.type, event.payload)
    return corrections


def changed(conn: sqlite3.Connection, after: int, upto: int) -> bool:
    """Whether a correction event lies in (after, upto]."""
    return conn.execute(f"SELECT 1 FROM events WHERE type IN ({', '.join('?' * len(TYPES))})"
                        " AND seq > ? AND seq <= ? LIMIT 1", (*TYPES, after, upto)).fetchone() is not None


def digest_of(conn: sqlite3.Connection) -> str:
    return load(conn).digest()

