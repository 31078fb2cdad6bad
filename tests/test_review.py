"""A label teaches its merchant, `fin label --merchant`, and `fin review` (queue and the interactive flow).

The bundled sample exports are imported through the CLI; the interactive flow is driven
through a pseudo-terminal against the real `fin` command.
"""

import json
import os
import re
import sys
from pathlib import Path

import pytest

from fincli.ledger import maintenance
from fincli.services.categorize import kind, merchant_confidence
from fincli.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]


def of_merchant(fin, key: str) -> list[dict]:
    rows = json.loads(fin("transactions", "--format", "json", "--limit", "0").stdout)
    return [r for r in rows if r["merchant"] == key]


def queue(fin) -> list[dict]:
    result = fin("review", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def costco_warehouse_and_fuel(fin, tmp_path) -> tuple[list[dict], list[dict]]:
    """A card export of Costco's warehouse and fuel, imported: (the warehouse rows, the fuel rows)."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-03-{day:02d},COSTCO {'WHSE' if day % 2 else 'GAS'} #1234 ISSAQUAH WA,-{40 + day}.10\n"
        for day in range(1, 13)), encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    costco = of_merchant(fin, "costco")
    return [r for r in costco if "WHSE" in r["description"]], [r for r in costco if "GAS" in r["description"]]


def verified(home: Path) -> None:
    ws = open_workspace(home)
    try:
        maintenance.verify(ws)
    finally:
        ws.close()


def test_one_label_gives_the_merchants_other_transactions_its_category(sample, home):
    safeway = of_merchant(sample, "safeway")
    assert len(safeway) >= 4 and any(r["category"] is None for r in safeway)     # unsure before any label
    result = sample("label", safeway[0]["id"], "Food at home")
    assert result.exit_code == 0 and f"{len(safeway) - 1} more of the same merchants follow" in result.stderr
    after = of_merchant(sample, "safeway")
    assert after[0]["category_source"] == "user"
    # merchant evidence is the model's (category_source stays within the JSON contract), calibrated apart
    assert all(r["category"] == "Food at home" and r["category_source"] == "model"
               and r["confidence"] == merchant_confidence(1) >= 0.95 for r in after[1:])
    assert "safeway" not in {e["merchant"] for e in queue(sample)}
    ws = open_workspace(home)
    try:
        (taught_by_label,) = [json.loads(p) for (p,) in ws.conn.execute(
            "SELECT payload FROM events WHERE type = 'transactions.categorized' ORDER BY seq DESC LIMIT 1")]
    finally:
        ws.close()
    assert {i["id"] for i in taught_by_label["items"]} == {r["id"] for r in safeway[1:]}
    assert {i["source"] for i in taught_by_label["items"]} == {"merchant"}
    # a full run keeps them (it retrains: "Food at home" is a name of the user's own, no seed category's)
    summary = json.loads(sample("categorize", "--format", "json").stdout)
    assert summary["merchant"] == len(safeway) - 1
    assert sample("rebuild", "--verify").exit_code == 0
    verified(home)
    assert [(r["category"], r["category_source"]) for r in of_merchant(sample, "safeway")] == \
        [(r["category"], r["category_source"]) for r in after]


def test_a_label_does_not_teach_a_kind_of_transaction_its_merchant_history_sets_apart(home, fin, tmp_path):
    """A warehouse's groceries labelled: its fuel, of other words, which the model retrained on that label
    still calls fuel, is not taught groceries; it is the model's (here: in review with its suggestion)."""
    warehouse, fuel = costco_warehouse_and_fuel(fin, tmp_path)
    assert len(warehouse) == len(fuel) == 6
    assert fin("label", warehouse[0]["id"], "groceries").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    after = {r["id"]: r for r in of_merchant(fin, "costco")}
    assert all((after[r["id"]]["category"], after[r["id"]]["confidence"]) == ("groceries", merchant_confidence(1))
               for r in warehouse[1:])
    assert all(after[r["id"]]["category"] in (None, "fuel") for r in fuel)
    entries = {e["merchant"]: e for e in queue(fin)}
    held = [r["id"] for r in fuel if after[r["id"]]["category"] is None]
    assert held and entries["costco"]["suggestion"] == "fuel" and entries["costco"]["transaction_ids"] == held
    assert fin("rebuild", "--verify").exit_code == 0


def test_a_store_number_or_a_payment_reference_does_not_make_another_kind():
    """Kinds are what a merchant's labels cover: the words, sign and bank category, not the numbers."""
    assert kind("Zelle payment to Maria Garcia JPM99cfu6gj", -14000, None) == \
        kind("Zelle payment to Maria Garcia JPM99grpphc", -9000, None)
    assert kind("SAFEWAY #1234 SEATTLE WA", -2000, "Groceries") == kind("SAFEWAY 0987 SEATTLE WA", -50, "groceries")
    assert kind("COSTCO GAS #1234 ISSAQUAH WA", -4000, None) != kind("COSTCO WHSE #1234 ISSAQUAH WA", -4000, None)
    assert kind("AMAZON MKTPL", -2000, None) != kind("AMAZON MKTPL", 2000, None)
    assert kind("AMAZON MKTPL", -2000, "Shopping") != kind("AMAZON MKTPL", -2000, "Travel")


def test_a_kind_the_model_puts_in_a_category_the_user_has_no_name_for_waits_in_review(home, fin, tmp_path):
    """The warehouse labelled in a name of the user's own, the fuel is in a seed category they have no name
    for yet: it waits in review, with no suggestion, rather than taking the warehouse's category."""
    warehouse, fuel = ([r["id"] for r in rows] for rows in costco_warehouse_and_fuel(fin, tmp_path))
    assert fin("label", warehouse[0], "Food at home").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    after = {r["id"]: r for r in of_merchant(fin, "costco")}
    assert [after[i]["category"] for i in warehouse] == ["Food at home"] * len(warehouse)
    assert [after[i]["category"] for i in fuel] == [None] * len(fuel)
    entry = {e["merchant"]: e for e in queue(fin)}["costco"]
    assert (entry["transaction_ids"], entry["suggestion"]) == (fuel, None)
    assert fin("rebuild", "--verify").exit_code == 0


def test_a_seed_category_the_user_renamed_is_theirs_beside_names_of_their_own(home, fin, tmp_path):
    """The warehouse labelled in a name of the user's own, `fuel` renamed "Car": the fuel is the user's
    "Car", not a category they have no name for."""
    warehouse, fuel = ([r["id"] for r in rows] for rows in costco_warehouse_and_fuel(fin, tmp_path))
    assert fin("label", warehouse[0], "Food at home").exit_code == 0
    assert fin("categories", "rename", "fuel", "Car").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    after = {r["id"]: r for r in of_merchant(fin, "costco")}
    assert [after[i]["category"] for i in warehouse] == ["Food at home"] * len(warehouse)
    assert [(after[i]["category"], after[i]["category_source"]) for i in fuel] == [("Car", "model")] * len(fuel)
    assert "costco" not in {e["merchant"] for e in queue(fin)}


def test_a_model_that_does_not_give_a_labelled_transaction_its_label_does_not_overrule_its_merchant(
        home, fin, tmp_path):
    """Shell labelled "Snacks" beside ARCO labelled "Fuel": the model still calls the labelled Shell row
    fuel, so its answer for Shell's other kind (SERVICE STATION) says nothing against the label."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-03-{day:02d},SHELL {'OIL' if day % 2 else 'SERVICE STATION'} 57442 SEATTLE WA,-{10 + day}.45\n"
        f"2024-03-{day:02d},ARCO AMPM 4248 BOISE ID,-{30 + day}.10\n" for day in range(1, 21)), encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    assert fin("label", of_merchant(fin, "arcoampm")[0]["id"], "Fuel").exit_code == 0
    shell = of_merchant(fin, "shell")
    oil = [r["id"] for r in shell if "OIL" in r["description"]]
    assert fin("label", oil[0], "Snacks").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    after = of_merchant(fin, "shell")
    assert {r["id"] for r in after if "SERVICE STATION" in r["description"]} == {
        r["id"] for r in after if r["category"] == "Snacks" and r["category_source"] == "model"} - set(oil)
    assert {(r["category"], r["category_source"]) for r in after} == {("Snacks", "user"), ("Snacks", "model")}
    assert fin("rebuild", "--verify").exit_code == 0


def test_the_users_labels_of_a_merchant_outweigh_the_seed_lists_entries_for_it(home, fin, tmp_path):
    """The seed list files IKEA under household; the user calls it shopping. Its stores in other towns (other
    words, so other kinds) are asked of the model, which learnt the user's labels and not the list's entries."""
    towns = ["SEATTLE WA", "BOISE ID", "BELLEVUE WA", "PORTLAND OR"]
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-03-{day:02d},IKEA #{day:03d} {towns[day % 4]},-{60 + day}.25\n" for day in range(1, 13)),
        encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    ikea = of_merchant(fin, "ikea")
    seattle = [r["id"] for r in ikea if "SEATTLE" in r["description"]]
    assert fin("label", seattle[0], "shopping").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    assert {(r["category"], r["confidence"]) for r in of_merchant(fin, "ikea") if r["id"] != seattle[0]} \
        == {("shopping", merchant_confidence(1))}
    assert fin("rebuild", "--verify").exit_code == 0


def test_a_payment_to_a_person_waits_for_the_user_and_their_first_label_teaches_the_rest(home, fin, tmp_path):
    """What a payment to a person is for, only the user knows: the model suggests, never assigns, however
    sure it is (here: any answer of 0.5 or more would be assigned)."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text("[categorize]\nreview_below = 0.5\n", encoding="utf-8")
    export = tmp_path / "checking.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-03-{day:02d},Zelle payment to Maria Lopez JPM99{day:02d}x7q,-140.00\n" for day in (1, 8, 15, 22))
        + "2024-03-05,KROGER #512 SEATTLE WA,-52.10\n", encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    maria = of_merchant(fin, "marialopez")
    assert len(maria) == 4 and all(r["category"] is None for r in maria)
    assert of_merchant(fin, "kroger")[0]["category"] == "groceries"
    assert {e["merchant"]: e["transactions"] for e in queue(fin)}["marialopez"] == 4
    assert fin("label", maria[0]["id"], "Cleaning").exit_code == 0
    assert [(r["category"], r["category_source"]) for r in of_merchant(fin, "marialopez")] == \
        [("Cleaning", "user")] + [("Cleaning", "model")] * 3
    assert "marialopez" not in {e["merchant"] for e in queue(fin)}


def test_a_merchant_split_across_categories_goes_back_to_the_model(sample, home):
    walgreens = of_merchant(sample, "walgreens")
    assert len(walgreens) >= 3
    assert sample("label", walgreens[0]["id"], "Pharmacy").exit_code == 0
    assert {(r["category_source"], r["confidence"]) for r in of_merchant(sample, "walgreens")[1:]} == \
        {("model", merchant_confidence(1))}
    assert sample("label", walgreens[1]["id"], "Household").exit_code == 0      # the user splits it
    rest = of_merchant(sample, "walgreens")[2:]
    assert rest and all(r["category_source"] == "model" for r in rest)
    assert all(r["category"] not in ("Pharmacy", "Household") or r["confidence"] < merchant_confidence(1)
               for r in rest)
    assert sample("rebuild", "--verify").exit_code == 0


def test_label_merchant_labels_all_its_transactions_and_refuses_an_unknown_key(sample, home):
    first = queue(sample)[0]
    result = sample("label", "--merchant", first["merchant"], "Family", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["labelled"] == len(of_merchant(sample, first["merchant"]))
    assert {(r["category"], r["category_source"]) for r in of_merchant(sample, first["merchant"])} == {("Family", "user")}
    assert first["merchant"] not in {e["merchant"] for e in queue(sample)}

    ws = open_workspace(home)
    before = ws.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    ws.close()
    bad = sample("label", "--merchant", "no-such-merchant", "Family")
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and "no transactions of merchant 'no-such-merchant'" \
        in bad.stderr
    ws = open_workspace(home)
    assert ws.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
    ws.close()


def test_review_json_is_the_queue_by_merchant_most_transactions_first(sample):
    entries = queue(sample)
    in_review = {r["id"]: r for r in json.loads(sample("transactions", "--review", "--format", "json").stdout)}
    assert entries and sum(e["transactions"] for e in entries) == len(in_review)
    counts = [e["transactions"] for e in entries]
    assert counts == sorted(counts, reverse=True)
    for e in entries:
        assert set(e) == {"merchant", "name", "transactions", "total", "currency", "suggestion", "confidence",
                          "transaction_ids"}
        rows = [in_review[i] for i in e["transaction_ids"]]
        assert len(rows) == e["transactions"] and {r["merchant"] for r in rows} == {e["merchant"]}
        if e["currency"]:
            from decimal import Decimal
            assert Decimal(e["total"]) == sum(Decimal(r["amount"]) for r in rows)
        if e["suggestion"]:
            assert 0 <= e["confidence"] <= 1 and e["suggestion"] in {r["suggestion"] for r in rows}


def test_once_labels_use_the_users_own_names_the_queue_asks_about_what_was_filed_under_other_names(
        home, fin, tmp_path):
    """On day one Netflix is filed under the seed list's `subscriptions`, Safeway under `groceries`, Home
    Depot under `household`: none waits in review. Once a label says "Food shopping", those names are not
    the user's: their merchants join the queue (the next training would send them to review unnamed), each
    with its seed name as the suggestion. Once the label says "Groceries & household" instead, `groceries`
    and `household` answer to it (a shared word) and only Netflix is asked about."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-{month:02d}-05,NETFLIX.COM,-15.49\n2024-{month:02d}-09,HOME DEPOT #4711 SEATTLE WA,-88.40\n"
        f"2024-{month:02d}-12,SAFEWAY STORE 1432,-40.00\n2024-{month:02d}-20,ELM COUNTRY STORE,-21.00\n"
        for month in (1, 2, 3)), encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    rows = json.loads(fin("transactions", "--format", "json").stdout)
    filed = {r["merchant"]: r["category"] for r in rows}
    assert (filed["netflix"], filed["safeway"], filed["homedepot"]) == ("subscriptions", "groceries", "household")
    assert not {"netflix", "safeway", "homedepot"} & {e["merchant"] for e in queue(fin)}
    store = next(r for r in rows if r["merchant"] == "elmcountry")
    assert fin("label", store["id"], "Food shopping").exit_code == 0
    asked = {e["merchant"]: (e["suggestion"], e["transactions"]) for e in queue(fin)}
    assert {m: asked.get(m) for m in ("netflix", "safeway", "homedepot")} == {
        "netflix": ("subscriptions", 3), "safeway": ("groceries", 3), "homedepot": ("household", 3)}
    assert fin("label", store["id"], "Groceries & household").exit_code == 0
    asked = {e["merchant"] for e in queue(fin)}
    assert "netflix" in asked and not {"safeway", "homedepot"} & asked


def test_a_name_for_the_people_the_user_pays_is_one_more_category_beside_the_seed_names(home, fin, tmp_path):
    """A "Family" label on payments to a person says what that person is to the user, nothing of what they
    call groceries: Netflix, Safeway and Home Depot keep the seed list's names, before and after the
    retraining, and none of them is asked about; the person's payments are "Family"."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-{month:02d}-05,NETFLIX.COM,-15.49\n2024-{month:02d}-09,HOME DEPOT #4711 SEATTLE WA,-88.40\n"
        f"2024-{month:02d}-12,SAFEWAY STORE 1432,-40.00\n"
        f"2024-{month:02d}-20,Zelle payment to Maria Garcia JPM99cfu6g{month},-140.00\n"
        for month in (1, 2, 3)), encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    assert fin("label", "--merchant", "mariagarcia", "Family").exit_code == 0
    assert not {"netflix", "safeway", "homedepot"} & {e["merchant"] for e in queue(fin)}
    assert fin("categorize", "--retrain").exit_code == 0
    filed = {(r["merchant"], r["category"]) for r in json.loads(fin("transactions", "--format", "json").stdout)}
    assert filed == {("netflix", "subscriptions"), ("safeway", "groceries"), ("homedepot", "household"),
                     ("mariagarcia", "Family")}
    assert queue(fin) == []


def test_review_without_a_terminal_prints_the_queue_as_a_table(sample):
    result = sample("review")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and lines[0].split("\t")[:3] == ["merchant", "name", "transactions"]
    assert lines[1].split("\t")[0] == queue(sample)[0]["merchant"]


def test_interactive_review_labels_skips_makes_rules_and_quits_keeping_answers(sample, home):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="dumb", COLUMNS="120")
    child = pexpect.spawn(sys.executable, ["-m", "fincli.cli", "--home", str(home), "review"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 120))
    header = re.compile(r"\n(.+?) \[(\S+)\]: (\d+) transactions")

    def next_merchant() -> str:
        child.expect(header)
        key = child.match.group(2)
        child.expect("> ")
        return key

    typed = next_merchant()
    child.sendline("Family")                                  # a typed name labels them all
    skipped = next_merchant()
    child.sendline("s")
    accepted = next_merchant()
    suggestion = next(e for e in queue(sample) if e["merchant"] == accepted)["suggestion"]
    child.sendline("")                                        # Enter accepts the suggestion
    ruled = next_merchant()
    child.sendline("r")
    child.expect("rule category")
    child.sendline("Coffee & Snacks")
    completed = next_merchant()
    child.send("Fam\t")                                       # Tab completes the user's category
    child.sendline("")
    next_merchant()
    child.sendline("q")
    child.expect("stopped: ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    def sources(key):
        return {(r["category"], r["category_source"]) for r in of_merchant(sample, key)}

    assert sources(typed) == {("Family", "user")}
    assert sources(completed) == {("Family", "user")}
    assert suggestion and sources(accepted) == {(suggestion, "user")}
    assert sources(ruled) == {("Coffee & Snacks", "rule")}
    assert skipped in {e["merchant"] for e in queue(sample)}
    rules = sample("rules", "list", "--format", "json")
    assert [r["category"] for r in json.loads(rules.stdout)] == ["Coffee & Snacks"]
    assert sample("rebuild", "--verify").exit_code == 0


def test_interactive_review_shows_hostile_descriptions_escaped_and_cut_to_the_terminal(home, fin, tmp_path):
    """An escape sequence in a description is shown, not run; a long one is cut to the terminal's width."""
    pexpect = pytest.importorskip("pexpect")
    export = tmp_path / "card.csv"
    long = "KARTENZAHLUNG GIROCARD " + " ".join(f"REF{n:04d}" for n in range(30))
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-03-{day:02d},\"EVIL\x1b[2J CORP {long}\",-{10 + day}.00\n" for day in range(1, 4)), encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="dumb", COLUMNS="80")
    child = pexpect.spawn(sys.executable, ["-m", "fincli.cli", "--home", str(home), "review"],
                          env=env, encoding="utf-8", timeout=60, dimensions=(40, 80))
    child.expect("> ")
    shown = child.before
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "\x1b" not in shown and "EVIL\\x1b[2J CORP" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    lines = [line for line in shown.splitlines() if "EVIL" in line]
    assert len(lines) == 3 and all(line.endswith("…") for line in lines)


def test_a_later_import_of_a_labelled_merchant_takes_its_category(fin, home):
    exports = ROOT / "data" / "samples" / "exports"
    assert fin("import", exports / "checking_2025-01-01_2025-02-18.csv").exit_code == 0
    [first] = of_merchant(fin, "safeway")
    assert fin("label", first["id"], "Food at home").exit_code == 0
    assert fin("import", exports / "checking_2025-01-28_2025-04-30.csv").exit_code == 0
    later = of_merchant(fin, "safeway")[1:]
    assert later and all((r["category"], r["category_source"], r["confidence"]) ==
                         ("Food at home", "model", merchant_confidence(1)) for r in later)
    assert fin("rebuild", "--verify").exit_code == 0
