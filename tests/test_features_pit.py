"""Point-in-time rules (DESIGN.md §5) as properties of training sets built from random logs."""

import json
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from fincli.store import connection as db, log as ev
from fincli.store.log import Event
from fincli.features import online_features
from fincli.features.store import refresh
from fincli.features.training import build, training_set
from fincli.workspace import open_workspace

from eventkit import append_and_project, import_events

BASE = date(2024, 3, 1)
DESCRIPTIONS = ["COFFEE BAR", "TEA HOUSE", "BOOK SHOP", "ACME PAYROLL"]
row = st.tuples(st.integers(0, 30), st.sampled_from([-150, -199, -200, -1250, -4000, 2500]),
                st.sampled_from(DESCRIPTIONS), st.sampled_from(["checking", "card"]))
step = st.tuples(st.sampled_from(["import", "import", "label", "label", "undo", "post"]),
                 st.integers(0, 10_000), st.lists(row, min_size=1, max_size=5))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Log:
    """Turns abstract steps into events appended the way fin's use cases append them."""

    def __init__(self, ws):
        self.ws, self.imports, self.live, self.undone, self.n = ws, [], [], set(), 0

    def day(self, offset):
        return (BASE + timedelta(days=offset)).isoformat()

    def apply(self, kind, pick, rows):
        if kind == "label" and self.live:
            txn = self.live[pick % len(self.live)]
            self.append([Event("label.set", f"label:{self.n}", self.day(31), "user",
                               {"id": txn, "category": random.Random(pick).choice(["a", "b", "c"])})])
        elif kind == "undo" and set(self.imports) - self.undone:
            target = sorted(set(self.imports) - self.undone)[pick % len(set(self.imports) - self.undone)]
            self.undone.add(target)
            self.append([Event("import.undone", f"undo:{target}", self.day(31), "user", {"import_id": target})])
        elif kind == "post" and self.live:
            pending = self.live[pick % len(self.live)]
            events = self.new_import(rows[:1])
            posted = Event("transaction.posted", f"post:{self.n}", events[0].occurred_at, events[0].source,
                           {"id": events[0].payload["id"], "pending_id": pending})
            self.append(events[:-1] + [posted, events[-1]])
        else:
            self.append(self.new_import(rows))

    def new_import(self, rows):
        import_id = f"i{len(self.imports)}"
        self.imports.append(import_id)
        by_account = rows[0][3]
        txns = []
        for offset, amount, text, _ in rows:
            self.n += 1
            txns.append((f"t{self.n}", self.day(offset), amount, text))
            self.live.append(f"t{self.n}")
        return import_events(import_id, by_account, txns)

    def append(self, events):
        self.n += 1
        append_and_project(self.ws, events)


def rows_of(ws, as_known_now=False):
    refresh(ws)
    return build(ws.conn, "categorize", as_known_now=as_known_now)[1]


def label_seqs(ws):
    return [r[0] for r in ws.conn.execute("SELECT seq FROM events WHERE type = 'label.set' ORDER BY seq")]


@SETTINGS
@given(st.lists(step, min_size=1, max_size=10), st.lists(step, min_size=1, max_size=10))
def test_appending_to_the_log_never_changes_an_existing_row(first, later):
    with tempfile.TemporaryDirectory() as home:
        ws = open_workspace(Path(home))
        log = Log(ws)
        for s in first:
            log.apply(*s)
        before = rows_of(ws)
        assert [r["observation"] for r in before] == label_seqs(ws)     # one row per label, in log order
        for s in later:
            log.apply(*s)
        after = rows_of(ws)
        assert [r["observation"] for r in after] == label_seqs(ws)
        assert after[:len(before)] == before
        ws.close()


@SETTINGS
@given(st.lists(step, min_size=2, max_size=14), st.randoms(use_true_random=False))
def test_physical_row_order_never_decides(steps, rnd):
    with tempfile.TemporaryDirectory() as home:
        ws = open_workspace(Path(home))
        log = Log(ws)
        for s in steps:
            log.apply(*s)
        expected = rows_of(ws)
        with db.transaction(ws.conn):       # same rows, inserted again in a shuffled physical order
            for table in ("feature_txns", "feature_labels"):
                rows = ws.conn.execute(f"SELECT * FROM {table}").fetchall()
                rnd.shuffle(rows)
                ws.conn.execute(f"DELETE FROM {table}")
                ws.conn.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows) \
                    if rows else None
        assert rows_of(ws) == expected
        ws.close()


def test_duplicate_observations_stay_two_rows_in_input_order(ws):
    append_and_project(ws, import_events("i1", "checking", [("t1", "2024-03-01", -500, "COFFEE BAR"),
                                                             ("t2", "2024-03-02", -600, "COFFEE BAR")]))
    labels = [("t2", "coffee"), ("t1", "coffee"), ("t2", "coffee"), ("nope", "x")]
    append_and_project(ws, [Event("label.set", f"l{i}", "2024-03-05", "user", {"id": t, "category": c})
                            for i, (t, c) in enumerate(labels)])
    rows = rows_of(ws)
    assert [(r["txn_id"], r["label"]) for r in rows] == labels
    assert rows[0] == {**rows[2], "observation": rows[0]["observation"]}
    # an observation whose transaction is unknown still gives its row: count 0, mean null
    assert rows[3]["merchant_count"] == 0 and rows[3]["merchant_mean_amount"] is None
    assert rows[3]["account_spend_7d"] == 0 and rows[3]["amount"] is None


def test_windows_are_exact_at_their_edges(ws):
    t = date(2024, 3, 20)
    d = lambda n: (t - timedelta(days=n)).isoformat()        # noqa: E731
    append_and_project(ws, import_events("i1", "checking", [
        ("out", d(8), -1, "SHOP"),          # one day before the 7-day window: out
        ("edge", d(7), -10, "SHOP"),        # exactly t - 7: in
        ("early", d(0), -100, "SHOP"),      # same day, earlier seq: in
        ("anchor", d(0), -1000, "SHOP"),    # the anchor itself: never
        ("later", d(0), -10000, "SHOP"),    # same day, later seq: out
        ("edge1", d(1), -150, "SHOP"),      # t - 1 exactly, a small charge: in the 1-day window
    ]))
    [row] = online_features(ws, ["anchor"])
    assert row["account_spend_7d"] == 10 + 100 + 150
    assert row["account_spend_30d"] == 1 + 10 + 100 + 150
    assert row["account_charges_1d"] == 2 and row["account_small_charges_1d"] == 2
    assert row["merchant_count"] == 4 and row["merchant_days_since_last"] == 0
    assert row["merchant_mean_amount"] == -(1 + 10 + 150 + 100) / 4
    assert row["merchant_median_gap_days"] == 1.0          # gaps 1, 6, 1 in (date, seq) order


def test_ties_are_decided_by_seq_not_by_insertion_order(ws):
    # two transactions of the same day: the one with the smaller seq comes first, whatever the rowid
    append_and_project(ws, import_events("i1", "card", [("a", "2024-03-10", -300, "TEA HOUSE")]))
    append_and_project(ws, import_events("i2", "card", [("b", "2024-03-10", -700, "TEA HOUSE")]))
    first, second = online_features(ws, ["a", "b"])
    assert first["merchant_count"] == 0 and second["merchant_count"] == 1
    assert second["merchant_mean_amount"] == -300


def test_a_retraction_applies_only_to_observations_at_or_after_it(ws):
    append_and_project(ws, import_events("old", "checking", [("o1", "2024-01-05", -900, "BOOK SHOP")]))
    append_and_project(ws, import_events("b", "checking", [("b1", "2024-02-01", -100, "BOOK SHOP")]))
    append_and_project(ws, [Event("import.undone", "undo:old", "2024-02-02", "user", {"import_id": "old"})])
    append_and_project(ws, import_events("c", "checking", [("c1", "2024-02-03", -100, "BOOK SHOP")]))
    # a pending row replaced by its posted version
    append_and_project(ws, import_events("p", "checking", [("p1", "2024-02-04", -50, "BOOK SHOP")]))
    posted = import_events("q", "checking", [("q1", "2024-02-05", -55, "BOOK SHOP")])
    append_and_project(ws, posted[:-1] + [Event("transaction.posted", "post:q1", "2024-02-05", "q",
                                                {"id": "q1", "pending_id": "p1"}), posted[-1]])
    append_and_project(ws, import_events("d", "checking", [("d1", "2024-02-06", -100, "BOOK SHOP")]))
    append_and_project(ws, [Event("label.set", f"l{t}", "2024-03-01", "user", {"id": t, "category": "books"})
                            for t in ("b1", "c1", "d1")])
    b, c, d = rows_of(ws)
    assert b["merchant_count"] == 1 and b["merchant_mean_amount"] == -900      # before the undo
    assert c["merchant_count"] == 1 and c["merchant_mean_amount"] == -100      # after it
    assert d["merchant_count"] == 3                                             # b1, c1, q1 — not p1
    assert [r["retracted"] for r in (b, c, d)] == [0, 0, 0]
    known_now = rows_of(ws, as_known_now=True)
    assert [r["merchant_count"] for r in known_now] == [0, 1, 3]
    append_and_project(ws, [Event("import.undone", "undo:b", "2024-03-02", "user", {"import_id": "b"})])
    assert rows_of(ws)[0] == b                                                  # the row never changes
    assert rows_of(ws, as_known_now=True)[0]["retracted"] == 1                  # known now: it was undone


def test_a_correction_applies_only_at_or_after_it_and_as_known_now_sees_it(ws):
    append_and_project(ws, import_events("i1", "card", [("t1", "2024-03-01", -500, "COFFEE BAR")]))
    append_and_project(ws, [Event("label.set", "l1", "2024-03-02", "user", {"id": "t1", "category": "restaurants"})])
    append_and_project(ws, [Event("label.set", "l2", "2024-03-09", "user", {"id": "t1", "category": "coffee"})])
    assert [r["label"] for r in rows_of(ws)] == ["restaurants", "coffee"]
    assert [r["label"] for r in rows_of(ws, as_known_now=True)] == ["coffee", "coffee"]
    assert {r["cutoff"] for r in rows_of(ws, as_known_now=True)} == {ev.head(ws.conn)[0]}


@SETTINGS
@given(st.lists(step, min_size=1, max_size=10))
def test_building_twice_gives_identical_bytes(steps):
    with tempfile.TemporaryDirectory() as home:
        ws = open_workspace(Path(home) / "ws")
        log = Log(ws)
        for s in steps:
            log.apply(*s)
        for suffix in (".csv", ".jsonl", ".parquet"):
            one, two = Path(home) / f"one{suffix}", Path(home) / f"two{suffix}"
            first = training_set(ws, "categorize", one)
            second = training_set(ws, "categorize", two)
            assert one.read_bytes() == two.read_bytes()
            assert {**first, "output": ""} == {**second, "output": ""}
            assert first["observations"] == len(label_seqs(ws))
            assert json.loads(Path(f"{one}.manifest.json").read_text())["log_position"] == ev.head(ws.conn)[0]
        ws.close()
