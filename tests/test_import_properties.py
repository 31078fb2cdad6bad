"""Idempotence and overlap: any set of overlapping exports, in any order, gives the history."""

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from fincli.ledger import maintenance, projections, queries
from fincli.ingest.importer import Options, import_files
from fincli.workspace import open_workspace

START = date(2024, 1, 1)
DESCRIPTIONS = ["COFFEE SHOP", "GROCER 12", "RENT", "SALARY ACME", "BOOKS & CO"]

day = st.integers(0, 59)
row = st.tuples(day, st.sampled_from(DESCRIPTIONS), st.integers(-50_000, 50_000).filter(lambda c: c != 0))


@st.composite
def history_and_exports(draw):
    rows = draw(st.lists(row, min_size=1, max_size=25))
    rows += [r for r in rows[:3] if draw(st.booleans())]        # genuinely identical same-day repeats
    windows = draw(st.lists(st.tuples(day, st.integers(0, 40)), min_size=1, max_size=5))
    windows = [(a, min(a + n, 59)) for a, n in windows]
    first, last = min(r[0] for r in rows), max(r[0] for r in rows)
    windows.append((first, (first + last) // 2))                 # together the exports cover everything
    windows.append(((first + last) // 2, last))
    order = draw(st.permutations(range(len(windows))))
    return rows, [windows[i] for i in order]


def write_export(path, rows, window):
    lines = ["Date,Description,Amount"]
    for d, text, cents in sorted(rows):
        if window[0] <= d <= window[1]:
            sign = "-" if cents < 0 else ""
            lines.append(f"{START + timedelta(days=d)},{text},{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}")
    lines.append(f"{START + timedelta(days=61)},MARKER,-0.01")   # every export has a day > 12 and a negative
    path.write_text("\n".join(lines) + "\n")


def expected(rows):
    return Counter((str(START + timedelta(days=d)), f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}", t)
                   for d, t, c in rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history_and_exports())
def test_overlapping_exports_in_any_order_give_exactly_the_history(tmp_path_factory, case):
    rows, windows = case
    folder = tmp_path_factory.mktemp("exports")
    paths = []
    for n, window in enumerate(windows):
        path = folder / f"acct_{n:02d}.csv"
        write_export(path, rows, window)
        paths.append(str(path))
    ws = open_workspace(tmp_path_factory.mktemp("ws"))
    try:
        reports = import_files(ws, paths, Options(sign="normal", currency="USD"))
        assert all(r.status in ("imported", "already imported") for r in reports), [r.error for r in reports]
        got = Counter((t["date"], t["amount"], t["description"]) for t in queries.list_transactions(ws)
                      if t["description"] != "MARKER")
        assert got == expected(rows)
        digest, events = projections.digest(ws.conn), ws.conn.execute("SELECT count(*) FROM events").fetchone()
        again = import_files(ws, paths, Options(sign="normal", currency="USD"))
        assert all(r.status == "already imported" for r in again)
        assert projections.digest(ws.conn) == digest
        assert ws.conn.execute("SELECT count(*) FROM events").fetchone() == events
        maintenance.verify(ws)
    finally:
        ws.close()
