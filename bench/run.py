"""fin's benchmarks: one command, one table.

    python bench/run.py [--rows N] [--runs K]

Builds the large inputs it needs (cached in bench/.cache/), runs each benchmark
K times in fresh processes, and prints the median of each figure with its goal
and, where the peer tool is installed, the peer's figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int


def fin_command() -> list[str]:
    script = Path(sys.executable).with_name("fin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fincli.cli"]


def measure(argv: list[str], *, stdout=subprocess.DEVNULL, env=None) -> Run:
    """Wall time and peak resident memory of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])}… exited {code}: {err.strip()[-500:]}")
    return Run(elapsed, usage.ru_maxrss / 1024, code)


def median_runs(make_argv, runs: int, setup=None) -> tuple[float, float]:
    seconds, peaks = [], []
    for i in range(runs):
        context = setup(i) if setup else None
        r = measure(make_argv(context))
        seconds.append(r.seconds)
        peaks.append(r.peak_mb)
    return statistics.median(seconds), statistics.median(peaks)


def large_export(rows: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"checking_large_{rows}.csv"
    if not path.exists():
        from fincli.synth import write_large_export

        write_large_export(path, rows, seed=1)
    return path


def imported_workspace(rows: int) -> Path:
    """A workspace holding the large export, built once and reused by read benchmarks."""
    home = CACHE / f"ws_{rows}"
    if not (home / "fin.db").exists():
        shutil.rmtree(home, ignore_errors=True)
        measure(fin_command() + ["--home", str(home), "import", "--no-services", str(large_export(rows))])
    return home


def storage_floor_seconds(source: Path, tmp: Path, runs: int) -> float:
    """Median seconds SQLite takes to store an import's rows already built (bench/floor.py)."""
    seconds = []
    for i in range(runs):
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "floor.py"), str(source), str(tmp / f"floor{i}")],
                             capture_output=True, text=True, check=True)
        seconds.append(float(out.stdout))
    return statistics.median(seconds)


def empty_service_call_ms(calls: int) -> float:
    """Median wall time of one service call that does nothing, on no rows: process start, limits, files, checks."""
    from fincli.services import runner
    from fincli.workspace import open_workspace

    home = Path(tempfile.mkdtemp(prefix="fin-bench-run-"))
    models = home / "models"
    models.mkdir()
    shutil.copy(ROOT / "models" / "service.py", models / "service.py")
    (models / "empty.py").write_text("from service import serve\n\nserve(lambda rows, model_dir: {}, None)\n")
    ws = open_workspace(home / "ws")
    try:
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            runner.run(ws, "empty", "train", [], models_dir=models).cleanup()
            times.append(time.perf_counter() - start)
    finally:
        ws.close()
        shutil.rmtree(home, ignore_errors=True)
    return statistics.median(times) * 1000


def features_bench(fin: list[str], rows: int, runs: int, table: list) -> None:
    """The feature store over the large workspace plus label observations (a copy; the cache stays as is)."""
    import sqlite3

    work = Path(tempfile.mkdtemp(prefix="fin-bench-features-"))
    home = work / "ws"
    shutil.copytree(imported_workspace(rows), home)
    labels = min(100_000, max(rows // 10, 1))
    conn = sqlite3.connect(home / "fin.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM transactions WHERE replaced_by IS NULL ORDER BY id")]
    conn.close()
    step = max(len(ids) // labels, 1)
    cats = ("groceries", "coffee", "restaurants", "fuel", "rent")
    (work / "labels.csv").write_text("id,category\n" + "".join(
        f"{txn},{cats[i % len(cats)]}\n" for i, txn in enumerate(ids[::step][:labels])))
    run = measure(fin + ["--home", str(home), "label", "--file", str(work / "labels.csv")])
    table.append((f"label --file, {labels:,} labels", f"{run.seconds:.1f}", "s", "", f"peak {run.peak_mb:,.0f} MB"))
    secs, peak = median_runs(lambda _: fin + ["--home", str(home), "features", "rebuild"], runs)
    table.append((f"features rebuild from {rows + labels:,}+ events", f"{secs:.1f}", "s", "< 10",
                  f"peak {peak:,.0f} MB"))
    out = work / "train.csv"
    secs, peak = median_runs(lambda _: fin + ["--home", str(home), "features", "training-set", "categorize",
                                              "--out", str(out)], runs)
    table.append((f"training set: {labels:,} observations over {rows:,} events", f"{secs:.1f}", "s", "< 2", ""))
    table.append(("training set: peak memory", f"{peak:,.0f}", "MB", "< 1,000", ""))
    shutil.rmtree(work, ignore_errors=True)


RESOLVE_DESCRIPTIONS = 1_000_000
# Times fincli.merchant.resolve over the descriptions of a CSV, caches cleared first; prints seconds.
_RESOLVE_SCRIPT = """
import csv, sys, time
from fincli import merchant
with open(sys.argv[1], newline="", encoding="ascii") as handle:
    descriptions = [row[2] for row in csv.reader(handle)][1:]
for name in ("resolve", "normalize"):
    if hasattr(getattr(merchant, name, None), "cache_clear"):
        getattr(merchant, name).cache_clear()
resolve = merchant.resolve
start = time.perf_counter()
for description in descriptions:
    resolve(description)
print(time.perf_counter() - start, len(descriptions))
"""


def resolve_bench(runs: int, table: list) -> None:
    """fincli.merchant.resolve over 1,000,000 bank descriptions of a large generated export, cold caches."""
    source = large_export(RESOLVE_DESCRIPTIONS)
    seconds = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _RESOLVE_SCRIPT, str(source)], capture_output=True, text=True,
                             check=True)
        elapsed, count = out.stdout.split()
        seconds.append(float(elapsed))
    secs = statistics.median(seconds)
    table.append((f"resolve {int(count):,} descriptions (fincli.merchant.resolve, fresh process)",
                  f"{secs:.1f}", "s", "< 5", f"{int(count) / secs:,.0f} descriptions/s"))


CATEGORIZE_ROWS = 100_000
TRAIN_LABELS = 50_000


def categorize_bench(fin: list[str], runs: int, table: list) -> None:
    """`fin run categorize` on 100,000 new transactions with a trained model, and training on 50,000 labels."""
    import sqlite3

    base = imported_workspace(CATEGORIZE_ROWS)
    work = Path(tempfile.mkdtemp(prefix="fin-bench-categorize-"))
    trained = work / "trained"
    shutil.copytree(base, trained)
    conn = sqlite3.connect(trained / "fin.db")
    rows = conn.execute("SELECT id, merchant FROM transactions WHERE replaced_by IS NULL ORDER BY id").fetchall()
    conn.close()
    cats = ("groceries", "coffee", "restaurants", "fuel", "shopping", "online_shopping", "health", "travel")
    step = max(len(rows) // TRAIN_LABELS, 1)
    (work / "labels.csv").write_text("id,category\n" + "".join(   # a merchant always gets the same category
        f"{txn},{cats[sum(map(ord, merchant)) % len(cats)]}\n" for txn, merchant in rows[::step][:TRAIN_LABELS]))
    measure(fin + ["--home", str(trained), "label", "--file", str(work / "labels.csv")])
    train = [sys.executable, "-c", "import sys; from fincli.services.categorize import train; "
             "from fincli.workspace import open_workspace; train(open_workspace(sys.argv[1]))", str(trained)]
    secs, peak = median_runs(lambda _: train, runs)
    table.append((f"categorize: train on {TRAIN_LABELS:,} labels (+ seeds)", f"{secs:.1f}", "s", "< 15",
                  f"peak {peak:,.0f} MB"))

    def fresh(i: int) -> Path:                  # the trained workspace with the service's cursor at 0
        home = work / f"run{i}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(trained, home)
        conn = sqlite3.connect(home / "fin.db")
        conn.execute("DELETE FROM projection_cursors WHERE name = 'service:categorize'")
        conn.commit()
        conn.close()
        return home

    secs, peak = median_runs(lambda home: fin + ["--home", str(home), "run", "categorize"], runs, setup=fresh)
    table.append((f"categorize {CATEGORIZE_ROWS:,} new transactions (fin run categorize)", f"{secs:.1f}", "s",
                  "< 5", f"peak {peak:,.0f} MB"))
    shutil.rmtree(work, ignore_errors=True)


def service_runs(fin: list[str], base: Path, work: Path, service: str, runs: int) -> tuple[float, float]:
    """Median seconds and peak MB of `fin run SERVICE`, each run on a fresh copy of `base` with the
    service's cursor at 0 (it takes the whole workspace as new)."""
    import sqlite3

    def fresh(i: int) -> Path:
        home = work / f"run{i}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(base, home)
        conn = sqlite3.connect(home / "fin.db")
        conn.execute("DELETE FROM projection_cursors WHERE name = ?", (f"service:{service}",))
        conn.commit()
        conn.close()
        os.sync()           # the copy's pages reach the disk now, not in the timed run's closing checkpoint
        return home

    return median_runs(lambda home: fin + ["--home", str(home), "run", service], runs, setup=fresh)


def bills_bench(fin: list[str], rows: int, runs: int, table: list) -> None:
    """`fin run bills`: recurring streams searched over every transaction of the large workspace."""
    base = imported_workspace(rows)
    work = Path(tempfile.mkdtemp(prefix="fin-bench-bills-"))

    secs, peak = service_runs(fin, base, work, "bills", runs)
    table.append((f"bill detection over {rows:,} transactions (fin run bills)", f"{secs:.1f}", "s", "< 10",
                  f"peak {peak:,.0f} MB"))
    shutil.rmtree(work, ignore_errors=True)


FRAUD_ROWS = 100_000


def fraud_bench(fin: list[str], runs: int, table: list) -> None:
    """`fin run fraud` on 100,000 new transactions: signals, rules, the IsolationForest process, storing."""
    base = imported_workspace(FRAUD_ROWS)
    measure(fin + ["--home", str(base), "features", "rebuild"])      # the feature store is kept at import
    work = Path(tempfile.mkdtemp(prefix="fin-bench-fraud-"))

    secs, peak = service_runs(fin, base, work, "fraud", runs)
    table.append((f"fraud scoring of {FRAUD_ROWS:,} new transactions (fin run fraud, process start included)",
                  f"{secs:.1f}", "s", "< 5", f"peak {peak:,.0f} MB"))
    shutil.rmtree(work, ignore_errors=True)


def spending_bench(fin: list[str], rows: int, runs: int, table: list) -> None:
    """`fin report spending` over the imported rows, from scratch and from a stored run; the forecaster
    with its backtest over 3 years of 20 categories."""
    import json
    import random

    home = Path(tempfile.mkdtemp(prefix="fin-bench-spending-")) / "ws"
    shutil.copytree(imported_workspace(rows), home)
    report = fin + ["--home", str(home), "report", "spending", "--format", "json"]
    secs, _ = median_runs(lambda _: report, runs)
    table.append((f"report spending over {rows:,} transactions, from scratch", f"{secs:.2f}", "s", "< 10", ""))
    measure(fin + ["--home", str(home), "run", "spending"])
    secs, _ = median_runs(lambda _: report, runs)
    table.append((f"report spending over {rows:,} transactions, from the stored run", f"{secs:.2f}", "s", "< 1", ""))
    shutil.rmtree(home.parent, ignore_errors=True)
    rng = random.Random(1)
    months = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]
    series = [{"currency": "USD", "category": f"c{c}", "months": months, "target": "2026-01",
               "totals": [round(rng.uniform(50, 150) * 100 * (1.5 if m.endswith("12") else 1)) for m in months]}
              for c in range(20)]
    request = Path(tempfile.mkdtemp(prefix="fin-bench-forecast-")) / "request.json"
    request.write_text(json.dumps({"op": "predict", "rows": series}))
    model = Path(__file__).resolve().parents[1] / "models" / "spending.py"
    secs, peak = median_runs(lambda _: [sys.executable, str(model), str(request), str(request.with_suffix(".out"))],
                             runs)
    table.append(("spending forecast + backtest, 3 years × 20 categories", f"{secs:.1f}", "s", "",
                  f"peak {peak:,.0f} MB"))


def startup_bench(fin: list[str], runs: int, table: list) -> None:
    help_s, _ = median_runs(lambda _: fin + ["--help"], max(runs, 7))
    table.append(("fin --help wall time", f"{help_s * 1000:.0f}", "ms", "< 200", ""))
    table.append(("one empty service call", f"{empty_service_call_ms(max(runs, 11)):.0f}", "ms", "< 100", ""))


def import_bench(fin: list[str], rows: int, runs: int, table: list) -> None:
    export = large_export(rows)
    tmp = Path(tempfile.mkdtemp(prefix="fin-bench-"))
    secs, peak = median_runs(lambda home: fin + ["--home", str(home), "import", "--no-services", str(export)], runs,
                             setup=lambda i: tmp / f"import{i}")
    peer = ""
    hledger = shutil.which("hledger")
    if hledger:
        rules = CACHE / "chase.rules"
        rules.write_text("skip 1\nfields details, date, description, amount, type, balance, check, extra\n"
                         "date-format %-m/%-d/%Y\naccount1 assets:checking\n")
        h_secs, h_peak = median_runs(lambda _: [hledger, "-f", str(export), "--rules-file", str(rules),
                                                "print", "-O", "csv"], 1)
        peer = f"hledger {rows / h_secs:,.0f} rows/s, {h_peak:,.0f} MB; fin is {h_secs / secs:.1f}x"
    table.append((f"import {rows:,} rows (events included, --no-services)", f"{rows / secs:,.0f}", "rows/s",
                  ">= 125,000", peer))
    table.append((f"import {rows:,} rows: peak memory", f"{peak:,.0f}", "MB", "< 1,000", ""))

    home = imported_workspace(rows)
    floor = storage_floor_seconds(home, tmp, runs)
    table.append((f"import floor: SQLite storing those {rows:,} rows' events and transactions, pre-built",
                  f"{rows / floor:,.0f}", "rows/s", "", f"{floor:.1f} s; no import can be faster"))
    secs, peak = median_runs(lambda _: fin + ["--home", str(home), "transactions", "--format", "json"], runs)
    table.append((f"transactions --format json, {rows:,} rows", f"{secs:.1f}", "s", "", ""))
    secs, peak = median_runs(lambda _: fin + ["--home", str(home), "rebuild"], runs)
    table.append((f"rebuild from {rows:,}+ events", f"{secs:.1f}", "s", "< 10", f"peak {peak:,.0f} MB"))
    shutil.rmtree(tmp, ignore_errors=True)


SECTIONS = ("startup", "import", "resolve", "features", "categorize", "bills", "fraud", "spending")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", choices=SECTIONS, default=[],
                        help="run only this part (repeatable); all parts by default")
    args = parser.parse_args()
    fin = fin_command()
    table: list[tuple[str, str, str, str, str]] = []
    only = set(args.only or SECTIONS)
    rows, runs = args.rows, args.runs
    sections = {
        "startup": lambda: startup_bench(fin, runs, table),
        "import": lambda: import_bench(fin, rows, runs, table),
        "resolve": lambda: resolve_bench(runs, table),
        "features": lambda: features_bench(fin, rows, runs, table),
        "categorize": lambda: categorize_bench(fin, runs, table),
        "bills": lambda: bills_bench(fin, rows, runs, table),
        "fraud": lambda: fraud_bench(fin, runs, table),
        "spending": lambda: spending_bench(fin, rows, runs, table),
    }
    for name in SECTIONS:
        if name in only:
            sections[name]()

    widths = [max(len(r[i]) for r in table + [("figure", "value", "unit", "goal", "peer")]) for i in range(5)]
    header = ("figure", "value", "unit", "goal", "peer")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(c.rjust(w) if i == 1 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))


if __name__ == "__main__":
    main()
