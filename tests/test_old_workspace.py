"""A workspace written before migrations were named sets (PRAGMA user_version 6) still opens.

tests/fixtures/workspace-v6/fin.db was written by that fin: the bundled sample exports
imported, one transaction labelled, one rule added. expected.json beside it records, from
that same fin, its transactions, labels, rules and `fin verify` result.
"""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from fincli.store import migrations
from fincli.workspace import migration_sets, open_workspace

FIXTURE = Path(__file__).parent / "fixtures" / "workspace-v6"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


@pytest.fixture
def old_home(home):
    home.mkdir(mode=0o700)
    shutil.copy(FIXTURE / "fin.db", home / "fin.db")
    return home


def test_the_fixture_is_a_schema_6_workspace():
    conn = sqlite3.connect(f"{(FIXTURE / 'fin.db').as_uri()}?immutable=1", uri=True)   # no -wal/-shm beside it
    assert conn.execute("PRAGMA user_version").fetchone()[0] == EXPECTED["schema_version"] == 6
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'migrations'").fetchone() is None
    conn.close()


def test_an_old_workspace_opens_migrates_and_verifies_with_the_same_digest(old_home, fin):
    result = fin("verify", "--format", "json")
    assert result.exit_code == 0, result.output
    verified = json.loads(result.stdout)
    assert verified["events"] == EXPECTED["events"]
    ws = open_workspace(old_home, create=False)
    assert migrations.schema_version(ws.conn) == migrations.FORMAT
    assert migrations.applied(ws.conn) == {(s.name, step.name) for s in migration_sets() for step in s.steps}
    # every projection row the old fin had is still there, column for column (newer columns aside, and
    # the merchant, which the newer resolver derives anew from the same description)
    old = sqlite3.connect(f"{(FIXTURE / 'fin.db').as_uri()}?immutable=1", uri=True)
    for (table,) in old.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN"
                                " ('transactions', 'imports', 'labels', 'rules', 'holdings')"):
        columns = ", ".join(row[1] for row in old.execute(f"PRAGMA table_info({table})")
                            if (table, row[1]) != ("transactions", "merchant"))
        assert (ws.conn.execute(f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()
                == old.execute(f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()), table
    from fincli.merchant import resolve

    rows = ws.conn.execute("SELECT description, merchant, merchant_key FROM transactions").fetchall()
    assert rows and all(merchant == key == resolve(description).key for description, merchant, key in rows)
    old.close()
    ws.close()


def test_an_old_workspace_keeps_its_transactions_categories_labels_and_rules(old_home, fin):
    result = fin("transactions", "--format", "json")
    assert result.exit_code == 0, result.output
    fields = ("id", "amount", "currency", "category", "category_source")
    assert [{k: t[k] for k in fields} for t in json.loads(result.stdout)] == EXPECTED["transactions"]
    ws = open_workspace(old_home, create=False)
    labels = [{"id": i, "category": c} for i, c in ws.conn.execute("SELECT id, category FROM labels ORDER BY id")]
    rules = [dict(zip(("id", "pattern", "category"), r))
             for r in ws.conn.execute("SELECT id, pattern, category FROM rules ORDER BY id")]
    ws.close()
    assert labels == EXPECTED["labels"] and len(labels) == 1
    assert rules == EXPECTED["rules"] and len(rules) == 1
    assert any(t["category_source"] == "rule" for t in EXPECTED["transactions"])


def test_an_old_workspace_rebuilds_to_the_same_state(old_home, fin):
    migrated = json.loads(fin("verify", "--format", "json").stdout)["digest"]
    assert fin("rebuild", "--verify").exit_code == 0
    result = fin("verify", "--format", "json")
    assert json.loads(result.stdout)["digest"] == migrated
