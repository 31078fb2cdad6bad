"""Category names: the one check every way of naming a category goes through (labels, rules)."""

from __future__ import annotations

import unicodedata

from .errors import InputError

# Long enough for any real name ("Home improvement & garden supplies"), short enough to fit
# a table column and to catch a pasted paragraph or a wrong CSV column.
MAX_LENGTH = 64
# Control characters, invisible formatting (bidi overrides, zero-width spaces), line breaks
# and lone surrogates corrupt tables and terminals. The zero-width joiner stays: emoji need it.
_REFUSED = {"Cc", "Cf", "Zl", "Zp", "Cs"}
_ALLOWED = {"\u200d"}


def check_category(name: str, where: str = "") -> str:
    """The name without surrounding spaces, or InputError saying what is wrong and where."""
    at = f"{where}: " if where else ""
    text = name.strip()
    if not text:
        raise InputError(f"{at}the category is empty", "give a category name, e.g. groceries")
    if len(text) > MAX_LENGTH:
        raise InputError(f"{at}the category is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
                         "give a shorter name, e.g. groceries")
    for char in text:
        if unicodedata.category(char) in _REFUSED and char not in _ALLOWED:
            raise InputError(f"{at}the category contains the control character U+{ord(char):04X}",
                             "type the name without control or invisible characters")
    return text


# --- the user's taxonomy: declared categories, renames and merges, each an event ---------------
#
# A rename or merge applies to every use of the name that exists at that point of the log
# (labels, rules, budgets, declared categories, transactions' categories); a later use of
# the old name is a new use of it. So a use recorded at seq s is called now what the
# renames after s made of it: a pure function of the log, the same on replay.

ADDED, RENAMED, MERGED = "category.added", "category.renamed", "category.merged"
# `fin categories list --format json`: the fields, in order (documented in README.md)
FIELDS = ("name", "source", "declared", "transactions", "labels", "rules", "budgets")
LIST_HINT = "see the categories with `fin categories list`"


class Renames:
    """The renames and merges of the log, in seq order: (seq, old name, new name)."""

    def __init__(self, steps: list[tuple[int, str, str]]):
        self.steps = steps

    def at(self, name: str, seq: int) -> str:
        """What a name used at log position `seq` is called now."""
        for step, old, new in self.steps:
            if step > seq and name == old:
                name = new
        return name


def renames(conn) -> Renames:
    from .store import log as ev

    steps = [(e.seq, e.payload["from"], e.payload.get("to") or e.payload.get("into"))
             for kind in (RENAMED, MERGED) for e in ev.read(conn, type_=kind) if isinstance(e, ev.Event)]
    return Renames(sorted(steps))


def seed_names() -> set[str]:
    """The categories of the shipped cold-start list (data/seeds/categories.csv)."""
    import csv

    from .paths import data_dir

    path = data_dir() / "seeds" / "categories.csv"
    if not path.is_file():
        return set()
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["category"] for row in csv.DictReader(handle) if row.get("category")}


def taxonomy(conn) -> dict[str, dict]:
    """Every category declared or in use, by name: its row of FIELDS (sorted by name, any case).

    In use: a label, a rule, a budget in force, a transaction's current category, or the seed
    list (the model offers its names; a seed name renamed away is listed under its new name).
    """
    from .store import log as ev

    names = renames(conn)
    rows: dict[str, dict] = {}

    def row(name: str) -> dict:
        return rows.setdefault(name, {"name": name, "source": "user", "declared": False, "transactions": 0,
                                      "labels": 0, "rules": 0, "budgets": 0})

    for e in ev.read(conn, type_=ADDED):
        if isinstance(e, ev.Event):
            row(names.at(e.payload["name"], e.seq))["declared"] = True
    for table, field in (("labels", "labels"), ("rules", "rules")):
        for name, count in conn.execute(f"SELECT category, count(*) FROM {table} GROUP BY category"):
            row(name)[field] = count
    budgets: dict[tuple[str, str], int] = {}          # the latest budget.set per (category, currency) counts
    for e in ev.read(conn, type_="budget.set"):
        if isinstance(e, ev.Event):
            budgets[(names.at(e.payload["category"], e.seq), e.payload["currency"])] = e.payload["amount"]
    for (name, _), amount in budgets.items():
        if amount:
            row(name)["budgets"] += 1
    for name, count in conn.execute("SELECT category, count(*) FROM transactions WHERE replaced_by IS NULL"
                                    " AND category IS NOT NULL GROUP BY category"):
        row(name)["transactions"] = count
    seeds = seed_names()
    for seed in seeds:
        row(names.at(seed, 0))
    for name, info in rows.items():
        if name in seeds and not (info["declared"] or info["labels"] or info["rules"] or info["budgets"]):
            info["source"] = "seed"
    return {name: rows[name] for name in sorted(rows, key=lambda n: (n.casefold(), n))}


def unadopted_seed_names(conn) -> list[str]:
    """Once the user's labels name a category their own way, the seed categories no name of theirs
    answers to (the same name in any case, or a shared word: `online_shopping` and "Shopping"; the first
    rules of models/categorize.py `seed_names`, which cannot import this); [] while every label uses a
    seed name, or names a payment to or from a person. What the model filed under such a name waits on
    the user's word (`fin review`)."""
    import json
    import re

    from .merchant import person_to_person

    own = {name for name, description in conn.execute(
        "SELECT DISTINCT l.category, t.description FROM labels l JOIN transactions t ON t.id = l.id"
        " WHERE l.category NOT IN (SELECT value FROM json_each(?))", (json.dumps(sorted(seed_names())),))
        if not person_to_person(description)}
    if not own:
        return []

    def words(name: str) -> set[str]:
        return {w for w in re.split(r"[\W_]+", name.casefold()) if len(w) >= 3}

    return [name for name, info in taxonomy(conn).items() if info["source"] == "seed"
            and not any(o.casefold() == name.casefold() or words(o) & words(name) for o in own)]


def current_names(conn) -> dict[str, str]:
    """Old name -> its name now, for every name renamed or merged away and not in use again.

    For names that come from outside the log's uses: a model trained on the old names and
    the seed list still answers with them.
    """
    names = renames(conn)
    if not names.steps:
        return {}
    last = {old: seq for seq, old, _ in names.steps}
    known = taxonomy(conn)
    return {old: new for old, seq in last.items()
            if old not in known and (new := names.at(old, seq - 1)) != old}


def _find(known, name: str, what: str) -> str | None:
    """The existing category `name` names: the same text, else the one equal in any case."""
    if name in known:
        return name
    same = [n for n in known if n.casefold() == name.casefold()]
    if len(same) > 1:
        raise InputError(f"{what} {name!r} matches several categories: {', '.join(same)}",
                         "give the exact name, as `fin categories list` shows it")
    return same[0] if same else None


def _need(known, name: str, what: str) -> str:
    found = _find(known, name, what)
    if found is None:
        raise InputError(f"no category {name!r}", LIST_HINT)
    return found


def add(ws, name: str) -> dict:
    """`fin categories add NAME`: declare a category before anything uses it."""
    from .ledger import projections
    from .store import connection as db, log as ev
    from .store.log import Event

    name = check_category(name, "NAME")
    with ws.lock(), db.transaction(ws.conn):
        projections.catch_up(ws.conn)
        known = taxonomy(ws.conn)
        existing = _find(known, name, "NAME")
        if existing is not None:
            if existing != name and known[existing]["source"] == "seed":
                raise InputError(f"category {existing!r} already exists (the seed list's)",
                                 f"to call it {name!r}: `fin categories rename {existing} {name}`")
            raise InputError(f"category {existing!r} already exists", LIST_HINT)
        head = ev.head(ws.conn)[0]
        ev.append(ws.conn, [Event(ADDED, f"{ADDED}:{name}:{head}", ev.now()[:10], "user", {"name": name})])
        projections.catch_up(ws.conn)
    return {"name": name}


def rename(ws, old: str, new: str) -> dict:
    """`fin categories rename OLD NEW`: every use of OLD becomes NEW, which must not exist yet."""
    return _replace(ws, old, new, merge=False)


def merge(ws, source: str, into: str) -> dict:
    """`fin categories merge FROM INTO`: every use of FROM becomes INTO, which exists; FROM is gone."""
    return _replace(ws, source, into, merge=True)


def _replace(ws, old: str, new: str, merge: bool) -> dict:
    """Record one category.renamed or category.merged event, after checking both names."""
    from .ledger import projections
    from .store import connection as db, log as ev
    from .store.log import Event

    first, second = ("FROM", "INTO") if merge else ("OLD", "NEW")
    old, new = check_category(old, first), check_category(new, second)
    with ws.lock(), db.transaction(ws.conn):
        projections.catch_up(ws.conn)
        known = taxonomy(ws.conn)
        old = _need(known, old, first)
        if merge:
            new = _need(known, new, second)
            if new == old:
                raise InputError(f"cannot merge {old!r} into itself", LIST_HINT)
        else:
            clash = _find([n for n in known if n != old], new, second)
            if clash is not None:
                raise InputError(f"category {clash!r} already exists",
                                 f"to fold {old!r} into it: `fin categories merge {old} {clash}`")
            if new == old:
                raise InputError(f"category {old!r} already has that name", LIST_HINT)
        moved = {k: known[old][k] for k in ("transactions", "labels", "rules", "budgets")}
        kind, field = (MERGED, "into") if merge else (RENAMED, "to")
        head = ev.head(ws.conn)[0]
        ev.append(ws.conn, [Event(kind, f"{kind}:{old}:{new}:{head}", ev.now()[:10], "user",
                                  {"from": old, field: new})])
        projections.catch_up(ws.conn)
    return {"from": old, field: new, **moved}
