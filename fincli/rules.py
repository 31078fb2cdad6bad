"""The user's categorization rules: `fin rules add PATTERN CATEGORY`, `list`, `remove`.

A rule's pattern is a case-insensitive substring (or, with --regex, a Python regular
expression searched case-insensitively) tried against the description as the bank printed
it and against the normalized merchant. Rules come before the model; when several match,
the newest rule wins, so a more specific rule added later overrides an older, broader one.
A transaction the user labelled keeps its label whatever the rules say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .categories import check_category
from .errors import InputError


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: str
    category: str
    regex: bool

    def matcher(self):
        if self.regex:
            return re.compile(self.pattern, re.IGNORECASE).search
        needle = self.pattern.casefold()
        return lambda text: needle in text.casefold()


def check_pattern(pattern: str, regex: bool) -> None:
    if not pattern.strip():
        raise InputError("the rule's pattern is empty", "give the text to look for, e.g. 'NETFLIX'")
    if regex:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InputError(f"the pattern {pattern!r} is not a valid regular expression: {exc}",
                             "fix it, or leave out --regex to match it as plain text") from None


def load(conn) -> list[Rule]:
    """Every rule, newest first (the order in which they are tried)."""
    return [Rule(i, p, c, bool(r)) for i, p, c, r in
            conn.execute("SELECT id, pattern, category, regex FROM rules ORDER BY seq DESC")]


def next_id(conn) -> str:
    """r1, r2, …: numbers are never reused, so a removed rule's id stays unambiguous in the log."""
    count = conn.execute("SELECT count(*) FROM events WHERE type = 'rule.added'").fetchone()[0]
    return f"r{count + 1}"


class Matcher:
    """The first (newest) rule matching a transaction's description or merchant."""

    def __init__(self, rules: list[Rule]):
        self.rules = [(rule, rule.matcher()) for rule in rules]

    def __call__(self, description: str, merchant: str) -> Rule | None:
        for rule, matches in self.rules:
            if matches(description) or matches(merchant):
                return rule
        return None


def add(ws, pattern: str, category: str, regex: bool = False):
    """Record a rule and apply it to the transactions it matches now; returns (rule, categorize result)."""
    from . import categorize, db, events as ev, projections
    from .events import Event

    check_pattern(pattern, regex)
    category = check_category(category)
    with ws.lock():
        with db.transaction(ws.conn):
            projections.catch_up(ws.conn)
            rule = Rule(next_id(ws.conn), pattern, category, regex)
            ev.append(ws.conn, [Event("rule.added", f"rule.added:{rule.id}", ev.now()[:10], "user",
                                      {"id": rule.id, "pattern": pattern, "category": category, "regex": regex})])
            projections.catch_up(ws.conn)
        matches = rule.matcher()
        ids = [i for i, d, m in ws.conn.execute(
            "SELECT id, description, merchant FROM transactions WHERE replaced_by IS NULL"
            " AND category_source IS NOT 'user'") if matches(d) or matches(m)]
        result = categorize.categorize(ws, ids)
        categorize.store(ws, result)
    return rule, result


def remove(ws, rule_id: str):
    """Remove a rule; the transactions it categorized are categorized again (other rules, then the model)."""
    from . import categorize, db, events as ev, projections
    from .events import Event

    with ws.lock():
        with db.transaction(ws.conn):
            projections.catch_up(ws.conn)
            if ws.conn.execute("SELECT 1 FROM rules WHERE id = ?", (rule_id,)).fetchone() is None:
                known = ", ".join(r.id for r in load(ws.conn)) or "none"
                raise InputError(f"no rule {rule_id!r}", f"see them with `fin rules list` (rules now: {known})")
            ev.append(ws.conn, [Event("rule.removed", f"rule.removed:{rule_id}", ev.now()[:10], "user",
                                      {"id": rule_id})])
            projections.catch_up(ws.conn)
        ids = [r[0] for r in ws.conn.execute("SELECT id FROM transactions WHERE rule_id = ?", (rule_id,))]
        result = categorize.categorize(ws, ids)
        categorize.store(ws, result)
    return result


def listing(ws) -> list[dict]:
    counts = dict(ws.conn.execute("SELECT rule_id, count(*) FROM transactions WHERE rule_id IS NOT NULL"
                                  " AND replaced_by IS NULL GROUP BY rule_id"))
    return [{"id": i, "pattern": p, "regex": bool(r), "category": c, "added_at": a, "transactions": counts.get(i, 0)}
            for i, p, c, r, a in ws.conn.execute(
                "SELECT id, pattern, category, regex, added_at FROM rules ORDER BY seq DESC")]
