"""fin import end to end: golden samples, dedup, pending/posted, transfers, batches, bad input."""

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from fincli.paths import data_dir

SAMPLES = data_dir() / "samples"


def txn_keys(records):
    return Counter((r["account"], r["date"], r["amount"], r["currency"], r["description"]) for r in records)


def truth_keys():
    with open(SAMPLES / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        return txn_keys(csv.DictReader(handle))


def listed(fin):
    result = fin("transactions", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def event_count(fin):
    return json.loads(fin("status", "--format", "json").stdout)["events"]


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_bundled_sample_exports_import_to_exactly_their_ground_truth(fin, order):
    exports = sorted((SAMPLES / "exports").glob("*.csv"), reverse=order == "newest first")
    assert len({p.name.split("_")[0] for p in exports}) >= 4
    result = fin("import", *exports, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert all(r["status"] == "imported" for r in json.loads(result.stdout))
    assert txn_keys(listed(fin)) == truth_keys()
    assert fin("verify").exit_code == 0


def test_the_same_file_again_is_a_reported_no_op(fin):
    export = sorted((SAMPLES / "exports").glob("checking_*.csv"))[0]
    assert fin("import", export).exit_code == 0
    before = event_count(fin)
    again = fin("import", export, "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)[0]["status"] == "already imported"
    assert "already imported" in again.stderr
    assert event_count(fin) == before


HEADER = "Date,Description,Amount\n"
GOOD_ROWS = "".join(f"2024-02-{d:02d},SHOP {d},-{d}.25\n" for d in range(10, 20))


def test_identical_same_day_rows_stay_two_across_overlapping_exports(fin, tmp_path):
    first = write(tmp_path / "acct_1.csv", HEADER + "2024-03-01,COFFEE SHOP,-3.50\n2024-03-01,COFFEE SHOP,-3.50\n"
                  "2024-03-14,SALARY,2000.00\n")
    second = write(tmp_path / "acct_2.csv", HEADER + "2024-03-01,COFFEE SHOP,-3.50\n2024-03-01,COFFEE SHOP,-3.50\n"
                   "2024-03-14,SALARY,2000.00\n2024-03-20,BOOKS,-12.00\n")
    assert fin("import", first, second).exit_code == 0
    rows = listed(fin)
    assert Counter(r["description"] for r in rows) == {"COFFEE SHOP": 2, "SALARY": 1, "BOOKS": 1}


STATUS_HEADER = "Transaction Date,Description,Amount,Status\n"


@pytest.mark.parametrize("order", ["pending first", "posted first"])
def test_a_pending_row_and_its_posted_version_become_one_transaction(fin, tmp_path, order):
    early = write(tmp_path / "card_1.csv", STATUS_HEADER + "03/13/2024,GROCER,-40.00,Posted\n"
                  "03/14/2024,SQ *FREMONT PIZZERIA,-25.00,Pending\n")
    late = write(tmp_path / "card_2.csv", STATUS_HEADER + "03/13/2024,GROCER,-40.00,Posted\n"
                 "03/16/2024,SQ *FREMONT PIZZERIA,-30.00,Posted\n03/17/2024,GAS,-20.00,Posted\n")
    files = [early, late] if order == "pending first" else [late, early]
    result = fin("import", *files)
    assert result.exit_code == 0, result.stderr
    rows = listed(fin)
    pizza = [r for r in rows if "PIZZERIA" in r["description"]]
    assert [(p["date"], p["amount"], p["pending"]) for p in pizza] == [("2024-03-16", "-30.00", False)]
    assert len(rows) == 3
    assert ("is now posted" in result.stderr) if order == "pending first" else ("already imported as posted" in result.stderr)
    assert fin("rebuild", "--verify").exit_code == 0


def test_near_duplicates_in_overlapping_exports_are_kept_and_listed(fin, tmp_path):
    first = write(tmp_path / "acct_1.csv", HEADER + "2024-03-01,HARDWARE STORE 123,-10.00\n2024-03-15,RENT,-900.00\n")
    second = write(tmp_path / "acct_2.csv", HEADER + "2024-03-02,HARDWARE STORE,-10.00\n2024-03-15,RENT,-900.00\n"
                   "2024-03-20,TEA,-4.00\n")
    assert fin("import", first).exit_code == 0
    result = fin("import", second, "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)[0]
    assert summary["added"] == 2 and summary["possible_duplicates"] == 1
    assert "possible duplicate" in result.stderr
    assert len(listed(fin)) == 4


def test_a_card_payment_between_own_accounts_is_marked_as_a_transfer(fin, tmp_path):
    checking = write(tmp_path / "checking_1.csv", HEADER + "2024-03-14,Payment to card ending 4821,-500.00\n"
                     "2024-03-15,SALARY,2500.00\n")
    card = write(tmp_path / "card_1.csv", HEADER + "2024-03-16,PAYMENT THANK YOU,500.00\n"
                 "2024-03-17,GROCER,-60.00\n")
    assert fin("import", checking, card).exit_code == 0
    rows = {r["description"]: r for r in listed(fin)}
    out, into = rows["Payment to card ending 4821"], rows["PAYMENT THANK YOU"]
    assert out["transfer_id"] and out["transfer_id"] == into["transfer_id"]
    assert rows["SALARY"]["transfer_id"] is None and rows["GROCER"]["transfer_id"] is None


def test_one_bad_file_does_not_stop_the_others(fin, tmp_path):
    good = write(tmp_path / "good_1.csv", HEADER + "2024-03-01,A,-1.00\n2024-03-14,B,2.00\n")
    bad = write(tmp_path / "bad_1.csv", HEADER + "2024-03-01,A,-1.00\n2024-03-14,B,2.x0\n" + GOOD_ROWS)
    result = fin("import", bad, good, "--format", "json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert [s["status"] for s in summary] == ["failed", "imported"]
    assert "bad_1.csv:3:" in result.stderr
    assert {r["account"] for r in listed(fin)} == {"good"}


def test_dry_run_writes_nothing(fin, tmp_path):
    export = write(tmp_path / "acct_1.csv", HEADER + "2024-03-01,A,-1.00\n2024-03-14,B,2.00\n")
    result = fin("import", export, "--dry-run", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["added"] == 2
    assert event_count(fin) == 0


def test_skip_bad_rows_imports_the_rest_and_lists_what_was_skipped(fin, tmp_path):
    export = write(tmp_path / "acct_1.csv", HEADER + "2024-03-01,A,-1.00\n2024-03-14,B,2.x0\n2024-03-15,C,3.00\n"
                   + GOOD_ROWS)
    result = fin("import", export, "--skip-bad-rows")
    assert result.exit_code == 0, result.stderr
    assert "acct_1.csv:3: skipped" in result.stderr
    assert sorted(r["description"] for r in listed(fin))[:2] == ["A", "C"]
    assert len(listed(fin)) == 12


AMBIGUOUS = "Date,Description,Amount\n03/04/2024,A,-1.00\n05/06/2024,B,2.00\n"


def test_a_saved_profile_is_reused_for_files_of_the_same_shape(fin, tmp_path):
    first = write(tmp_path / "bank_1.csv", AMBIGUOUS)
    refused = fin("import", first)
    assert refused.exit_code == 1 and "--date-format" in refused.stderr
    assert fin("import", first, "--date-format", "%d/%m/%Y", "--save-profile", "mybank").exit_code == 0
    assert "mybank" in fin("profiles", "list").stdout
    second = write(tmp_path / "bank_2.csv", AMBIGUOUS.replace("A,", "C,").replace("B,", "D,"))
    result = fin("import", second)
    assert result.exit_code == 0, result.stderr
    dates = sorted(r["date"] for r in listed(fin))
    assert dates == ["2024-04-03", "2024-04-03", "2024-06-05", "2024-06-05"]


def test_undo_then_reimport_brings_the_rows_back(fin, tmp_path):
    export = write(tmp_path / "acct_1.csv", HEADER + "2024-03-01,A,-1.00\n2024-03-14,B,2.00\n")
    summary = json.loads(fin("import", export, "--format", "json").stdout)[0]
    assert fin("undo", summary["import_id"]).exit_code == 0
    assert listed(fin) == []
    again = json.loads(fin("import", export, "--format", "json").stdout)[0]
    assert again["status"] == "imported" and again["added"] == 2
    assert fin("rebuild", "--verify").exit_code == 0


def _bad_inputs(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    yield "a missing file", tmp_path / "missing.csv", "missing.csv"
    yield "a directory", tmp_path / "folder.csv", "folder.csv"
    yield "an empty file", write(tmp_path / "empty.csv", ""), "empty"
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 40)
    yield "a binary file", tmp_path / "bin.csv", "bin.csv"
    pdf = tmp_path / "statement.csv"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 8)
    yield "a PDF renamed .csv", pdf, "PDF"
    yield "no date column", write(tmp_path / "nodate.csv", "Name,Amount\nA,-1.00\nB,2.00\n"), "date"
    yield "a bad amount", write(tmp_path / "amount.csv", HEADER + "2024-03-01,A,-1.00\n2024-03-14,B,12.3x4\n"
                                "2024-03-15,C,3.00\n" + GOOD_ROWS), "amount.csv:3"
    truncated = tmp_path / "trunc.csv"
    truncated.write_bytes((HEADER + "2024-03-01,CAFÉ,-1.00\n2024-03-14,NAÏVE").encode("utf-8")[:-1])
    yield "truncated UTF-8", truncated, "trunc.csv"
    huge = tmp_path / "oneline.csv"
    with open(huge, "wb") as handle:
        handle.write(b"a," * (25 * 1024 * 1024))
    yield "50 MB without a line break", huge, "oneline.csv"


def test_bad_inputs_fail_with_one_line_exit_1_and_nothing_written(fin, tmp_path):
    cases = list(_bad_inputs(tmp_path))
    assert len(cases) == 9
    for what, path, expected in cases:
        result = fin("import", path)
        assert result.exit_code == 1, what
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (what, result.stderr)
        assert expected.lower() in lines[0].lower(), (what, lines[0])
        assert "Traceback" not in result.stderr + result.stdout
        assert event_count(fin) == 0, what
