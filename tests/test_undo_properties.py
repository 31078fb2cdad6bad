"""Undo takes back only what no other active import holds: random overlapping imports and undos."""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from fincli.ledger import maintenance, queries
from fincli.ingest.importer import Options, import_files
from fincli.workspace import open_workspace

HISTORY = [((date(2024, 1, 1) + timedelta(days=i // 2)).isoformat(), f"-{3 + i * 7 % 50}.{i:02d}",
            f"SHOP {i:02d}") for i in range(36)]          # one account's history, every row distinct

step = st.one_of(st.tuples(st.just("import"), st.integers(0, len(HISTORY) - 1), st.integers(1, 20)),
                 st.tuples(st.just("undo"), st.integers(0, 10**6)))


def export(folder, n, rows):
    path = folder / f"acct_{n}.csv"
    path.write_text("Date,Description,Amount\n" + "".join(f"{d},{text},{amount}\n" for d, amount, text in rows),
                    encoding="utf-8")
    return str(path)


def shown(ws):
    return sorted((t["date"], t["amount"], t["description"]) for t in queries.list_transactions(ws))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=1, max_size=10))
def test_the_transactions_are_exactly_the_rows_of_the_active_imports(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("exports")
    ws = open_workspace(tmp_path_factory.mktemp("ws"))
    active: dict[str, list[tuple]] = {}          # import id -> the rows of its file
    try:
        for n, s in enumerate(steps):
            if s[0] == "import":
                rows = HISTORY[s[1]:s[1] + s[2]]
                report = import_files(ws, [export(folder, n, rows)], Options(account="acct"))[0]
                assert report.error is None
                if report.status == "imported":
                    active[report.import_id] = rows
                else:                             # the same file is active already
                    assert report.status == "already imported" and rows in active.values()
            elif active:
                target = sorted(active)[s[1] % len(active)]
                before = len(shown(ws))
                result = maintenance.undo_import(ws, target)
                del active[target]
                assert before - len(shown(ws)) == result.removed
            want = sorted({(d, amount, text) for rows in active.values() for d, amount, text in rows})
            assert shown(ws) == want
        maintenance.verify(ws)
        maintenance.rebuild(ws)
        assert shown(ws) == sorted({row for rows in active.values() for row in rows})
        maintenance.verify(ws)
    finally:
        ws.close()


def test_undoing_the_first_of_two_overlapping_exports_keeps_the_rows_the_second_holds(fin, tmp_path):
    import json

    first = export(tmp_path, 1, HISTORY[:20])
    second = export(tmp_path, 2, HISTORY[12:30])
    ids = [json.loads(fin("import", f, "--format", "json").stdout)[0]["import_id"] for f in (first, second)]
    listed = lambda: json.loads(fin("transactions", "--format", "json").stdout)  # noqa: E731
    assert len(listed()) == 30
    result = fin("undo", ids[0])
    assert result.exit_code == 0
    assert "12 transactions removed from view, 8 kept because other imports hold them" in result.stderr
    rows = listed()
    assert len(rows) == 18 and {r["import_id"] for r in rows} == {ids[1]}
    again = json.loads(fin("import", second, "--format", "json").stdout)[0]
    assert again["status"] == "already imported"
    back = json.loads(fin("import", first, "--format", "json").stdout)[0]
    assert back["status"] == "imported" and back["added"] == 12 and back["already_present"] == 8
    assert len(listed()) == 30
    assert "10 transactions removed" in fin("undo", ids[1]).stderr    # rows 12..19 stay: the re-import holds them
    assert len(listed()) == 20
    assert fin("rebuild", "--verify").exit_code == 0
