"""The user's categorization rules: `fin rules add PATTERN CATEGORY`, `list`, `remove`.

A rule's pattern is a case-insensitive substring (or, with --regex, a regular expression
searched case-insensitively) tried against the description as the bank printed
it and against the normalized merchant. Rules come before the model; when several match,
the newest rule wins, so a more specific rule added later overrides an older, broader one.
A transaction the user labelled keeps its label whatever the rules say.

Regular expressions run on RE2 (the `google-re2` binding), which matches in time linear
in the text: a pattern like `(a+)+$` cannot make a categorization run for minutes while
it holds the workspace lock, and every match is a short C call that Ctrl-C can follow.
RE2 has no backreferences or lookarounds; a pattern using them is refused when added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError, WorkspaceError

# What RE2 leaves out, by the start of the message it gives for it.
_UNSUPPORTED = (("invalid perl operator: (?<=", "a lookbehind (?<=…)"),
                ("invalid perl operator: (?<!", "a negative lookbehind (?<!…)"),
                ("invalid perl operator: (?=", "a lookahead (?=…)"),
                ("invalid perl operator: (?!", "a negative lookahead (?!…)"),
                ("invalid perl operator: (?P", "a named backreference (?P=…)"),
                ("bad repetition operator", "a possessive quantifier (++, *+, ?+)"))


def _unsupported(message: str) -> str:
    """What a pattern uses that RE2 lacks, in words, from RE2's error message."""
    if re.match(r"invalid escape sequence: \\\d", message):
        return "a backreference (\\1 …)"
    for start, what in _UNSUPPORTED:
        if message.startswith(start):
            return what
    return f"something RE2 cannot run ({message})"


def compile_regex(pattern: str):
    """The pattern compiled by RE2 (case-insensitive), or InputError naming what it cannot run."""
    try:
        re.compile(pattern)                   # Python's message says where the syntax is wrong
    except re.error as exc:
        raise InputError(f"the pattern {pattern!r} is not a valid regular expression: {exc}",
                         "fix it, or leave out --regex to match it as plain text") from None
    import re2                                # only when a regex rule is used: not on fin's start-up path

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False                # the one line below says it; no log noise on stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InputError(f"the pattern {pattern!r} uses {_unsupported(reason)}, which regex rules cannot use "
                         "(they run on RE2, in time linear in the text)",
                         "rewrite the pattern without it, or leave out --regex to match it as plain text") from None


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: str
    category: str
    regex: bool

    def matcher(self):
        if self.regex:
            try:
                return compile_regex(self.pattern).search
            except InputError as exc:        # stored before patterns were checked against RE2
                raise WorkspaceError(f"rule {self.id}: {exc.message}",
                                     f"remove it with `fin rules remove {self.id}` and add it again "
                                     "without that construct") from None
        needle = self.pattern.casefold()
        return lambda text: needle in text.casefold()


def check_pattern(pattern: str, regex: bool) -> None:
    if not pattern.strip():
        raise InputError("the rule's pattern is empty", "give the text to look for, e.g. 'NETFLIX'")
    if regex:
        compile_regex(pattern)


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


def listing(ws) -> list[dict]:
    counts = dict(ws.conn.execute("SELECT rule_id, count(*) FROM transactions WHERE rule_id IS NOT NULL"
                                  " AND replaced_by IS NULL GROUP BY rule_id"))
    return [{"id": i, "pattern": p, "regex": bool(r), "category": c, "added_at": a, "transactions": counts.get(i, 0)}
            for i, p, c, r, a in ws.conn.execute(
                "SELECT id, pattern, category, regex, added_at FROM rules ORDER BY seq DESC")]
