"""The store's cursors and named migration sets."""

import sqlite3

import pytest

from fincli.errors import CursorMoved, WorkspaceError
from fincli.store import connection, cursors, migrations
from fincli.workspace import open_workspace


@pytest.fixture
def conn(tmp_path):
    conn = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    conn.execute(cursors.TABLE)
    yield conn
    conn.close()


def test_a_cursor_starts_at_zero_and_advances_from_where_it_is(conn):
    assert cursors.position(conn, "core") == 0
    cursors.advance(conn, "core", 0, 5)
    cursors.advance(conn, "core", 5, 9)
    assert cursors.position(conn, "core") == 9
    cursors.reset(conn, "core")
    assert cursors.position(conn, "core") == 0


@pytest.mark.parametrize("expected", [0, 4, 9])
def test_a_cursor_that_is_not_where_the_run_found_it_is_refused(conn, expected):
    cursors.advance(conn, "core", 0, 5)
    with pytest.raises(CursorMoved, match="'core' is no longer at"):
        cursors.advance(conn, "core", expected, 12)
    assert cursors.position(conn, "core") == 5


def test_the_second_of_two_runs_that_read_the_same_window_stores_nothing(tmp_path):
    first, second = (open_workspace(tmp_path / "ws") for _ in range(2))
    with connection.transaction(first.conn):
        cursors.advance(first.conn, "service:x", 0, 3)
    seen = [cursors.position(ws.conn, "service:x") for ws in (first, second)]
    with connection.transaction(first.conn):
        cursors.advance(first.conn, "service:x", seen[0], 7)
    with pytest.raises(CursorMoved), connection.transaction(second.conn):
        cursors.advance(second.conn, "service:x", seen[1], 8)
    assert cursors.position(second.conn, "service:x") == 7


def sets(log):
    one, two = migrations.Migrations("one"), migrations.Migrations("two")

    @one(legacy=1)
    def first(conn):
        log.append("one.first")
        conn.execute("CREATE TABLE a (x)")

    @one()
    def second(conn):
        log.append("one.second")

    @two()
    def only(conn):
        log.append("two.only")

    return [one, two]


def open_with(path, log):
    return connection.connect(path, sets(log))


def test_steps_apply_once_in_order_of_set_then_step(tmp_path):
    log = []
    open_with(tmp_path / "m.db", log).close()
    open_with(tmp_path / "m.db", log).close()
    assert log == ["one.first", "one.second", "two.only"]


def test_a_numbered_schema_counts_as_the_steps_it_had_applied(tmp_path):
    conn = sqlite3.connect(tmp_path / "m.db")
    conn.execute("CREATE TABLE a (x)")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    log = []
    conn = open_with(tmp_path / "m.db", log)
    assert log == ["one.second", "two.only"]
    assert migrations.schema_version(conn) == migrations.FORMAT


def test_a_step_that_fails_is_not_recorded_and_runs_again(tmp_path):
    one = migrations.Migrations("one")
    calls = []

    @one()
    def breaks(conn):
        calls.append(1)
        conn.execute("CREATE TABLE b (x)")
        if len(calls) == 1:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        connection.connect(tmp_path / "m.db", [one])
    connection.connect(tmp_path / "m.db", [one]).close()
    assert len(calls) == 2


@pytest.mark.parametrize("newer", ["PRAGMA user_version = 99",
                                   "INSERT INTO migrations VALUES ('one', 'third', 'later')",
                                   "INSERT INTO migrations VALUES ('fraud', 'tables', 'later')"])
def test_a_database_from_a_newer_fin_is_refused(tmp_path, newer):
    open_with(tmp_path / "m.db", []).close()
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    conn.execute(newer)
    conn.close()
    with pytest.raises(WorkspaceError, match="was written by a newer fin") as caught:
        open_with(tmp_path / "m.db", [])
    assert "upgrade fin" in str(caught.value)


def test_a_set_cannot_name_two_steps_alike():
    one = migrations.Migrations("one")
    one()(lambda conn: None)
    with pytest.raises(ValueError, match="already has a step"):
        one()(lambda conn: None)
