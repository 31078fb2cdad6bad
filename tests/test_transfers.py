"""Transfer pairs need evidence on both legs; weaker pairs are listed as possible, never marked."""

import json
from pathlib import Path

from fincli.ingest.dedup import Leg, TransferContext, match_transfers

HEADER = "Date,Description,Amount\n"


def write(path: Path, text: str) -> Path:
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def imported(fin, *files):
    result = fin("import", *files, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def by_description(fin):
    rows = json.loads(fin("transactions", "--format", "json").stdout)
    return {r["description"]: r for r in rows}


def test_a_purchase_and_a_person_to_person_payment_of_the_same_amount_are_not_a_transfer(fin, tmp_path):
    checking = write(tmp_path / "checking_1.csv", "2024-03-14,COSTCO WHSE #1234 SEATTLE WA,-34.57\n"
                     "2024-03-15,SALARY,2500.00\n")
    other = write(tmp_path / "joint_1.csv", "2024-03-15,Zelle payment from J SMITH,34.57\n"
                  "2024-03-16,GROCER,-60.00\n")
    summaries, _ = imported(fin, checking, other)
    rows = by_description(fin)
    assert rows["COSTCO WHSE #1234 SEATTLE WA"]["transfer_id"] is None
    assert rows["Zelle payment from J SMITH"]["transfer_id"] is None
    assert [s["transfers"] for s in summaries] == [0, 0]
    assert [s["possible_transfers"] for s in summaries] == [0, 0]


def test_a_checking_payment_naming_the_card_and_the_cards_thank_you_are_marked(fin, tmp_path):
    checking = write(tmp_path / "checking_1.csv", "2024-03-14,PAYMENT TO CHASE CARD ENDING 1234,-500.00\n"
                     "2024-03-15,SALARY,2500.00\n")
    card = write(tmp_path / "chase_1234.csv", "2024-03-16,PAYMENT THANK YOU,500.00\n"
                 "2024-03-10,GROCER,-60.00\n2024-03-11,BOOKSHOP,-12.00\n")
    summaries, _ = imported(fin, checking, card)
    rows = by_description(fin)
    out, into = rows["PAYMENT TO CHASE CARD ENDING 1234"], rows["PAYMENT THANK YOU"]
    assert out["transfer_id"] and out["transfer_id"] == into["transfer_id"]
    assert summaries[1]["transfers"] == 1 and summaries[1]["possible_transfers"] == 0


def test_two_equal_candidates_are_listed_as_possible_transfers_and_not_marked(fin, tmp_path, home):
    checking = write(tmp_path / "checking_1.csv", "2024-03-14,Online transfer to savings,-200.00\n")
    savings = write(tmp_path / "savings_1.csv", "2024-03-14,Transfer from checking,200.00\n"
                    "2024-03-20,MONTHLY FEE,-2.00\n")
    other = write(tmp_path / "holiday_1.csv", "2024-03-15,Transfer from checking,200.00\n"
                  "2024-03-20,MONTHLY FEE,-2.00\n")
    summaries, stderr = imported(fin, savings, other, checking)
    assert all(r["transfer_id"] is None for r in json.loads(fin("transactions", "--format", "json").stdout))
    assert summaries[2]["transfers"] == 0 and summaries[2]["possible_transfers"] == 2
    assert "possible transfer" in stderr and "2 candidates" in stderr
    from fincli.workspace import open_workspace
    ws = open_workspace(home)
    try:
        assert ws.conn.execute("SELECT count(*) FROM possible_transfers").fetchone()[0] == 2
    finally:
        ws.close()
    assert fin("rebuild", "--verify").exit_code == 0


def test_a_savings_transfer_naming_the_account_is_marked(fin, tmp_path):
    checking = write(tmp_path / "checking_1.csv", "2024-03-15,Online Transfer to SAVINGS ...4568,-400.00\n"
                     "2024-03-16,GROCER,-60.00\n")
    savings = write(tmp_path / "savings_1.csv", "2024-03-15,FROM A/C 39104455 CHECKING,400.00\n"
                    "2024-03-20,MONTHLY FEE,-2.00\n")
    summaries, _ = imported(fin, checking, savings)
    rows = by_description(fin)
    assert rows["Online Transfer to SAVINGS ...4568"]["transfer_id"]
    assert rows["Online Transfer to SAVINGS ...4568"]["transfer_id"] == rows["FROM A/C 39104455 CHECKING"]["transfer_id"]
    assert summaries[1]["transfers"] == 1


def test_transfer_words_on_both_legs_without_more_evidence_are_only_possible():
    out = Leg("a", "brokerage", "2024-03-14", -10000, "USD", "ACH TRANSFER OUT")
    into = Leg("b", "joint", "2024-03-15", 10000, "USD", "ONLINE TRANSFER IN")
    assert match_transfers([out], [into]) == ([], [("a", "b", "no evidence beyond the words")])
    known = TransferContext(known_pairs={frozenset(("brokerage", "joint"))})
    assert match_transfers([out], [into], known) == ([("a", "b")], [])


def test_a_transfer_word_on_one_leg_only_is_not_even_possible():
    out = Leg("a", "checking", "2024-03-14", -3457, "USD", "COSTCO WHSE #1234")
    into = Leg("b", "joint", "2024-03-14", 3457, "USD", "Online transfer from checking")
    assert match_transfers([into], [out]) == ([], [])
