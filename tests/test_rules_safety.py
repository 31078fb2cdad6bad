"""Regex rules cannot hang fin: they run on RE2 (linear time), and what RE2 cannot run is refused.

`(a+)+$` against a long run of `a` followed by something else takes a backtracking
engine exponential time; a categorization holding the workspace lock would never end.
The commands run in a real `fin` process with a generous timeout as the failure mode.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fincli.ledger import queries
from fincli.services.rules import Matcher, Rule
from fincli.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]


def fin(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "fincli.cli", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def runs_of_a(tmp_path) -> Path:
    """A workspace whose descriptions are long runs of `a` that `(a+)+$` fails to match at the end."""
    home = tmp_path / "ws"
    csv = tmp_path / "runs.csv"
    lines = ["Date,Description,Amount"]
    lines += [f"2025-01-{day:02d},{'a' * (40 + day)} {day}x,-{day}.00" for day in range(1, 21)]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = fin(home, "import", str(csv), "--no-services")
    assert done.returncode == 0, done.stderr
    return home


def test_a_catastrophic_regex_rule_finishes_and_later_categorizing_does_too(runs_of_a):
    added = fin(runs_of_a, "rules", "add", "(a+)+$", "runaway", "--regex")     # hangs on a backtracking engine
    assert added.returncode == 0, added.stderr
    listed = json.loads(fin(runs_of_a, "rules", "list", "--format", "json").stdout)
    assert [(r["pattern"], r["transactions"]) for r in listed] == [("(a+)+$", 20)]
    stored = json.loads(fin(runs_of_a, "transactions", "--format", "json").stdout)
    assert len(stored) == 20
    for t in stored:        # the description fails at its end (the backtracking case); the merchant matches
        assert t["description"].startswith("a" * 41) and t["description"].endswith("x")
        assert (t["category"], t["category_source"]) == ("runaway", "rule")
    again = fin(runs_of_a, "categorize")                                          # takes the workspace lock
    assert again.returncode == 0 and "20 by rules" in again.stderr, again.stderr


@pytest.mark.parametrize("pattern, unsupported", [
    (r"(\w+) \1", "a backreference"),
    (r"netflix(?=\.com)", "a lookahead"),
    (r"(?<!pre)paid", "a negative lookbehind"),
])
def test_a_pattern_re2_cannot_run_is_refused_in_one_line_and_nothing_is_written(runs_of_a, pattern, unsupported):
    ws = open_workspace(runs_of_a)
    before = len(queries.list_events(ws, None, 10_000))
    ws.close()
    refused = fin(runs_of_a, "rules", "add", pattern, "x", "--regex")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert unsupported in refused.stderr and repr(pattern) in refused.stderr
    ws = open_workspace(runs_of_a)
    assert len(queries.list_events(ws, None, 10_000)) == before
    ws.close()


def test_regex_rules_match_any_case_as_before():
    rule = Rule("r1", r"^caffe\s+ladro\b", "coffee", True)
    match = Matcher([rule])
    assert match("CAFFE  LADRO #12 SEATTLE", "") == rule
    assert match("THE CAFFE LADRO", "the caffe ladro") is None
    assert match("x", "Caffe Ladro") == rule
