"""Categorization end to end: labels beat rules, rules beat the model, unsure goes to review.

Everything runs for real: the bundled sample exports are imported, the shipped
`models/categorize.py` runs in its own process, and failures are provoked with real
limits in config.toml or with a changed model file.
"""

import json
import sqlite3
from pathlib import Path

import pytest

from fincli.ledger import maintenance, queries
from fincli.merchant import person_to_person
from fincli.services import categorize, engine
from fincli.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data" / "samples" / "exports").glob("*.csv"))


def transactions(fin, *args) -> list[dict]:
    result = fin("transactions", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def by_id(rows):
    return {r["id"]: r for r in rows}


def set_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text, encoding="utf-8")


def verified(home: Path) -> None:
    ws = open_workspace(home)
    try:
        maintenance.verify(ws)
    finally:
        ws.close()


def test_import_categorizes_the_new_transactions_in_its_own_process(sample, home):
    rows = transactions(sample)
    assert rows and all(r["category_source"] == "model" or r["category"] is None for r in rows)
    assigned = [r for r in rows if r["category"]]
    assert assigned and all(categorize.DEFAULT_REVIEW_BELOW <= r["confidence"] <= 1 for r in assigned)
    review = transactions(sample, "--review")
    assert {r["id"] for r in review} == {r["id"] for r in rows if r["category"] is None}
    assert all(r["suggestion"] and 0 <= r["confidence"] < categorize.DEFAULT_REVIEW_BELOW
               or person_to_person(r["description"]) for r in review)     # a person's payment is the user's
    assert sample("run", "categorize").stderr.count("nothing new") == 0   # stderr is not a terminal: silent
    ws = open_workspace(home)
    try:
        assert engine.cursor(ws.conn, "categorize") == ws.conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    finally:
        ws.close()
    verified(home)


def test_a_rule_beats_the_model_the_newest_rule_wins_and_a_label_beats_both(sample, home):
    rows = transactions(sample, "--search", "FREMONT ROASTERS")
    assert rows
    added = sample("rules", "add", "fremont roasters", "treats")
    assert added.exit_code == 0 and f"{len(rows)} transactions match it now" in added.stderr
    assert {(r["category"], r["category_source"], r["confidence"]) for r in transactions(sample, "--search", "FREMONT ROASTERS")} \
        == {("treats", "rule", None)}
    assert sample("rules", "add", r"^fremont\s+roasters\b", "coffee", "--regex").exit_code == 0
    newest = transactions(sample, "--search", "FREMONT ROASTERS")
    assert {r["category"] for r in newest} == {"coffee"}
    first = newest[0]["id"]
    assert sample("label", first, "business").exit_code == 0
    assert sample("rules", "add", "Roasters", "snacks").exit_code == 0
    after = by_id(transactions(sample, "--search", "FREMONT ROASTERS"))
    assert (after[first]["category"], after[first]["category_source"]) == ("business", "user")
    assert {r["category"] for i, r in after.items() if i != first} == {"snacks"}
    listed = json.loads(sample("rules", "list", "--format", "json").stdout)
    assert [r["id"] for r in listed] == ["r3", "r2", "r1"]
    assert listed[0]["transactions"] == len(rows) - 1
    removed = sample("rules", "remove", "r3")
    assert removed.exit_code == 0, removed.output
    back = by_id(transactions(sample, "--search", "FREMONT ROASTERS"))
    assert {r["category"] for i, r in back.items() if i != first} == {"coffee"}      # r2 applies again
    assert back[first]["category"] == "business"
    verified(home)


def test_bad_rules_are_one_line_errors_and_write_nothing(sample, home):
    before = len(queries.list_events(open_workspace(home), None, 10_000))
    for args, text in ((["rules", "add", "(unclosed", "x", "--regex"], "not a valid regular expression"),
                       (["rules", "add", "  ", "x"], "pattern is empty"),
                       (["rules", "add", "shell", " "], "category is empty"),
                       (["rules", "remove", "r99"], "no rule 'r99'")):
        result = sample(*args)
        assert result.exit_code == 1 and text in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(queries.list_events(open_workspace(home), None, 10_000)) == before


def test_a_failing_model_never_fails_the_import_and_rules_still_apply(home, fin):
    assert fin("import", SAMPLES[0]).exit_code == 0
    first = {r["id"] for r in transactions(fin)}
    assert fin("rules", "add", "QFC", "groceries").exit_code == 0
    config = (home / "config.toml").read_text()
    set_config(home, config.replace("[services.categorize]\nmemory_mb = 2048", "[services.categorize]\nmemory_mb = 60"))
    result = fin("import", *SAMPLES[1:])
    assert result.exit_code == 3                                  # the import stands; the service failed
    failure = [line for line in result.stderr.splitlines() if "categorize" in line]
    assert len(failure) == 1 and "memory limit of 60 MB reached" in failure[0] \
        and "the import is kept" in failure[0] and "fin run categorize" in failure[0]
    rows = transactions(fin)
    assert len(rows) > 100
    qfc = [r for r in rows if "QFC" in r["description"].upper()]
    assert qfc and all(r["category_source"] == "rule" for r in qfc)
    new = [r for r in rows if r["id"] not in first and "QFC" not in r["description"].upper()]
    assert new and all(r["category"] is None for r in new)                 # nothing of the failed model was stored
    ran = fin("categorize")
    assert ran.exit_code == 3 and "memory limit" in ran.stderr
    verified(home)
    set_config(home, config)
    assert fin("run", "categorize").exit_code == 0               # what the failed runs left is still new
    assert all(r["category_source"] in ("model", "rule") for r in transactions(fin))
    verified(home)


def test_a_changed_model_file_is_refused_before_any_process_loads_it(sample, home):
    model = home / "artifacts" / "categorize" / categorize.MODEL_FILE
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    logs_before = set((home / "logs").iterdir())
    result = sample("categorize")
    assert result.exit_code == 3
    assert "does not match its recorded sha256" in result.stderr and "refusing to load it" in result.stderr
    assert set((home / "logs").iterdir()) == logs_before           # no service process was started
    assert sample("categorize", "--retrain").exit_code == 0        # training writes a new, recorded file
    verified(home)


def test_enough_new_labels_retrain_the_model_and_the_labels_are_learned(sample, home):
    set_config(home, (home / "config.toml").read_text().replace("retrain_after_labels = 20", "retrain_after_labels = 3"))
    rows = transactions(sample, "--search", "SAFEWAY")
    assert len(rows) >= 4
    for r in rows[:3]:
        assert sample("label", r["id"], "supermarket").exit_code == 0
    result = sample("categorize")
    assert result.exit_code == 0 and "trained on 3 labels" in result.stderr
    rest = [r for r in transactions(sample, "--search", "SAFEWAY") if r["id"] not in {x["id"] for x in rows[:3]}]
    assert rest and all((r["category"] or r["suggestion"]) == "supermarket"
                        for r in transactions(sample, "--search", "SAFEWAY", "--review")
                        + [x for x in rest if x["category"]])
    again = sample("categorize", "--format", "json")
    assert again.exit_code == 0 and "trained" not in again.stderr
    summary = json.loads(again.stdout)
    assert summary["changed"] == 0 and summary["trained_on_labels"] is None and summary["error"] is None
    assert summary["considered"] == len(transactions(sample)) - 3 == (summary["merchant"] + summary["transfer"]
                                                                                 + summary["model"] + summary["review"])


def test_a_bad_categorize_setting_is_a_clear_error(sample, home):
    set_config(home, "[categorize]\nreview_below = 1.5\n")
    result = sample("categorize")
    assert result.exit_code == 1 and "review_below must be a number from 0 to 1" in result.stderr


def test_opening_a_workspace_of_schema_3_replays_the_projections_into_the_new_shape(sample, home):
    before = transactions(sample)
    conn = sqlite3.connect(home / "fin.db")
    conn.execute("PRAGMA user_version = 3")
    conn.execute("DROP TABLE rules")
    conn.commit()
    conn.close()
    assert transactions(sample) == before
    verified(home)


def test_evaluate_scores_later_labels_against_both_baselines(ws, fin, tmp_path):
    from test_features_reference import labelled_history

    labelled_history(ws, tmp_path / "history", seed=5, months=8)
    result = fin("categorize", "--evaluate", "--split", "2023-08-01", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["split"] == "2023-08-01" and report["train_labels"] > 100 and report["test_transactions"] > 50
    methods = report["methods"]
    assert set(methods) == {"model", "merchant_majority", "svm"}
    for scores in methods.values():
        assert 0 <= scores["accuracy"] <= 1 and list(scores["accuracy_at_coverage"])[-1] == "100%"
        assert scores["accuracy_at_coverage"]["100%"] == scores["accuracy"]
    assert methods["model"]["accuracy"] > methods["merchant_majority"]["accuracy"]
    assert methods["model"]["accuracy"] >= 0.85
    assert sum(row["support"] for row in report["per_category"]) == report["test_transactions"]
    table = fin("categorize", "--evaluate", "--split", "2023-08-01")
    assert "merchant_majority" in table.stdout and "per category" in table.stdout
    bad = fin("categorize", "--evaluate", "--split", "2020-01-01")
    assert bad.exit_code == 1 and "leaves 0 to train on" in bad.stderr


def test_evaluation_figures_by_hand():
    from fincli.evaluation import macro_f1, scores, split_labels

    truth = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", None]
    # a: tp 1, fn 1 -> p 1, r .5, f1 2/3; b: tp 1, fp 1 -> p .5, r 1, f1 2/3; c: f1 0
    assert macro_f1(truth, predicted) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    got = scores(truth, predicted, [0.9, 0.3, 0.8, 0.0], threshold=0.5)
    assert got["accuracy"] == 0.5
    assert got["accuracy_at_coverage"]["50%"] == 1.0             # the two most confident are right
    assert got["accuracy_at_coverage"]["80%"] == round(2 / 4, 4) # ceil(3.2) = 4 rows
    assert (got["coverage_at_threshold"], got["accuracy_at_threshold"]) == (0.5, 1.0)
    # t1 is labelled before the split and corrected after it: it trains with its earlier label, is not scored
    split, train, test = split_labels(["2024-01-01", "2024-02-01", "2024-03-01", "2024-03-02"], [1, 2, 3, 4],
                                      ["t1", "t2", "t1", "t3"], "2024-02-15")
    assert (split, train, test) == ("2024-02-15", [0, 1], [3])


def test_a_label_comes_back_when_an_undone_import_is_imported_again(home, fin):
    assert fin("import", "--no-services", SAMPLES[0]).exit_code == 0
    first = transactions(fin)[0]
    assert fin("label", first["id"], "groceries").exit_code == 0
    assert fin("undo", first["import_id"]).exit_code == 0
    assert transactions(fin) == []
    assert fin("import", "--no-services", SAMPLES[0]).exit_code == 0
    again = by_id(transactions(fin))[first["id"]]
    assert (again["category"], again["category_source"]) == ("groceries", "user")
    assert fin("rebuild", "--verify").exit_code == 0


def test_the_users_own_category_names_win_over_the_seed_lists(home, fin, tmp_path):
    """Labels in the user's own names rename the seed categories they share merchants with (a full vote
    of the seeds-only model's probability: here two labels each); a seed category the user has no name
    for leaves its transactions in review, with no suggestion."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n"
                      "2024-03-01,KROGER #512 SEATTLE WA,-52.10\n"
                      "2024-03-04,SAFEWAY STORE 1432,-40.00\n"
                      "2024-03-05,NETFLIX.COM,-15.49\n"
                      "2024-03-06,SPOTIFY USA,-10.99\n"
                      "2024-03-07,SHELL OIL 57442,-35.00\n"
                      "2024-03-08,TRADER JOE'S #123 SEATTLE WA,-23.75\n"
                      "2024-03-09,HULU 877-8244858,-7.99\n", encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    rows = transactions(fin)
    named = {r["category"] for r in rows} | {r["suggestion"] for r in transactions(fin, "--review")}
    assert "groceries" in named                           # day one: the seed list's names
    by_text = {r["description"].split()[0]: r for r in rows}
    for text, name in (("KROGER", "Food shopping"), ("SAFEWAY", "Food shopping"), ("NETFLIX.COM", "TV & music"),
                       ("SPOTIFY", "TV & music")):
        assert fin("label", by_text[text]["id"], name).exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    review = {r["id"]: r for r in transactions(fin, "--review")}
    after = {r["description"]: {**r, "suggestion": review.get(r["id"], {}).get("suggestion")} for r in transactions(fin)}
    said = {r[k] for r in after.values() for k in ("category", "suggestion")} - {None}
    assert said <= {"Food shopping", "TV & music"}, said    # no seed name is suggested any more
    for text, name in (("TRADER JOE'S #123 SEATTLE WA", "Food shopping"), ("HULU 877-8244858", "TV & music")):
        assert name in (after[text]["category"], after[text]["suggestion"]), after[text]
    shell = after["SHELL OIL 57442"]                      # fuel: no name of the user's for it yet
    assert shell["category"] is None and shell["suggestion"] is None
    assert shell["id"] in review


def test_a_seed_category_takes_the_one_user_name_that_shares_a_word_with_it(home, fin, tmp_path):
    """"Groceries & household" names the seed list's `household` too: Home Depot is suggested under it,
    although no labelled transaction is household-like; `fuel` shares no word and waits unnamed."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n"
                      "2024-03-01,KROGER #512 SEATTLE WA,-52.10\n"
                      "2024-03-02,HOME DEPOT #4711 SEATTLE WA,-88.40\n"
                      "2024-03-03,SHELL OIL 57442,-35.00\n"
                      "2024-03-08,KROGER #512 SEATTLE WA,-23.75\n", encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    kroger = next(r for r in transactions(fin) if r["description"].startswith("KROGER"))
    assert fin("label", kroger["id"], "Groceries & household").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    review = {r["id"]: r["suggestion"] for r in transactions(fin, "--review")}
    said = {r["description"]: r["category"] or review.get(r["id"]) for r in transactions(fin)}
    assert said["HOME DEPOT #4711 SEATTLE WA"] == "Groceries & household"
    assert said["SHELL OIL 57442"] is None


def test_a_transfer_between_own_accounts_takes_the_users_name_for_transfers_and_a_label_still_wins(
        home, fin, tmp_path):
    """Both legs found on import make a transfer, whatever its words (`FROM A/C ... CHECKING` is in no seed
    list): categorized at once, never in review, under the name the user renamed `transfers` to. A label of
    the merchant, of the same kind, still comes first."""
    checking = tmp_path / "checking_1.csv"
    checking.write_text("Date,Description,Amount\n2024-03-15,Online Transfer to SAVINGS ...4568,-400.00\n"
                        "2024-03-16,GROCER,-60.00\n2024-04-15,Online Transfer to SAVINGS ...4568,-250.00\n",
                        encoding="utf-8")
    savings = tmp_path / "savings_1.csv"
    savings.write_text("Date,Description,Amount\n2024-03-15,FROM A/C 39104455 CHECKING,400.00\n"
                       "2024-03-20,MONTHLY FEE,-2.00\n2024-04-15,FROM A/C 39104455 CHECKING,250.00\n", encoding="utf-8")
    assert fin("import", str(checking), str(savings)).exit_code == 0
    legs = [r for r in transactions(fin) if r["transfer_id"]]
    assert len(legs) == 4
    assert {(r["category"], r["category_source"], r["confidence"]) for r in legs} == {("transfers", "model", 0.99)}
    assert not {r["id"] for r in legs} & {r["id"] for r in transactions(fin, "--review")}
    assert fin("categories", "rename", "transfers", "Moving money").exit_code == 0
    result = fin("categorize")
    assert result.exit_code == 0 and "4 as transfers between your accounts" in result.stderr
    assert {r["category"] for r in transactions(fin) if r["transfer_id"]} == {"Moving money"}
    first = next(r for r in legs if r["description"].startswith("FROM") and r["amount"] == "400.00")
    assert fin("label", first["id"], "Savings").exit_code == 0
    after = {r["id"]: r["category"] for r in transactions(fin)}
    assert [after[r["id"]] for r in legs if r["description"].startswith("FROM")] == ["Savings", "Savings"]
    assert [after[r["id"]] for r in legs if r["description"].startswith("Online")] == ["Moving money"] * 2


def test_what_the_user_calls_the_people_they_pay_does_not_name_a_seed_category(home, fin, tmp_path):
    """Four people paid by Zelle, labelled "Cleaning", and the bank's fee "Bank charges" (a name of the
    user's own): the seed list calls such payments `transfers`, but what a person is to the user says
    nothing of what they call transfers, so the transfer between their accounts is not filed under
    "Cleaning" (it waits in review, unnamed, until they name transfers)."""
    checking = tmp_path / "checking_1.csv"
    checking.write_text("Date,Description,Amount\n"
                        "2024-03-01,Zelle payment to Maria Lopez JPM99cfu6gj,-120.00\n"
                        "2024-03-02,Zelle payment to Maria Garcia JPM99grpphc,-120.00\n"
                        "2024-03-03,Zelle payment to Emily Chen JPM99cezne0,-120.00\n"
                        "2024-03-04,Zelle payment to Anna Weber JPM99bhglyk,-120.00\n"
                        "2024-03-15,Online Transfer to SAVINGS ...4568,-400.00\n", encoding="utf-8")
    savings = tmp_path / "savings_1.csv"
    savings.write_text("Date,Description,Amount\n2024-03-15,FROM A/C 39104455 CHECKING,400.00\n"
                       "2024-03-20,MONTHLY FEE,-2.00\n", encoding="utf-8")
    assert fin("import", str(checking), str(savings)).exit_code == 0
    rows = transactions(fin)
    for row in rows:
        if row["description"].startswith("Zelle"):
            assert fin("label", row["id"], "Cleaning").exit_code == 0
        if row["description"] == "MONTHLY FEE":
            assert fin("label", row["id"], "Bank charges").exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    review = {r["id"]: r["suggestion"] for r in transactions(fin, "--review")}
    legs = [r for r in transactions(fin) if r["transfer_id"]]
    assert len(legs) == 2
    assert [(r["category"], review.get(r["id"])) for r in legs] == [(None, None), (None, None)]


def test_one_merchant_labelled_in_full_does_not_name_a_seed_category(home, fin, tmp_path):
    """`fin review` labels every transaction of a merchant at once: eight paychecks labelled "Salary" are one
    merchant's word, not eight votes, so whatever the seed list calls them does not become "Salary"."""
    export = tmp_path / "checking.csv"
    export.write_text("Date,Description,Amount\n" + "".join(
        f"2024-{month:02d}-15,ACME ROBOTICS    DIRECT DEP    PPD ID: 9994532995,2500.00\n" for month in range(1, 9))
        + "2024-03-02,TARGET T-1234 SEATTLE WA,-41.20\n2024-03-09,NORDSTROM #8504 SEATTLE WA,-88.10\n"
        + "2024-03-12,AMAZON MKTPL*2K4XY7,-23.99\n", encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    acme = next(r["merchant"] for r in transactions(fin) if r["description"].startswith("ACME"))
    result = fin("label", "--merchant", acme, "Salary")
    assert result.exit_code == 0 and "labelled 8 transactions" in result.stderr
    assert fin("categorize", "--retrain").exit_code == 0
    review = {r["id"]: r["suggestion"] for r in transactions(fin, "--review")}
    said = {r["description"]: r["category"] or review.get(r["id"]) for r in transactions(fin)}
    assert [text for text, name in said.items() if name == "Salary"] == \
        ["ACME ROBOTICS    DIRECT DEP    PPD ID: 9994532995"]


def test_one_merchant_the_seed_list_is_sure_of_names_its_category_unless_another_has_that_name(
        home, fin, tmp_path):
    """Uber labelled "Getting around": the seed list is sure Uber is `transport`, so Lyft is "Getting
    around" too. A landlord labelled "Groceries & household", a name `groceries` already has, leaves
    `rent` unnamed: the other rent payment waits in review with no suggestion."""
    export = tmp_path / "card.csv"
    export.write_text("Date,Description,Amount\n"
                      "2024-03-01,KROGER #512 SEATTLE WA,-52.10\n"
                      "2024-03-02,UBER *TRIP HELP.UBER.COM,-18.40\n"
                      "2024-03-03,LYFT *RIDE FRI 4PM,-12.75\n"
                      "2024-03-04,PINEWOOD PROPERTIES RENT,-1800.00\n"
                      "2024-03-05,ZILLOW RENT PAYMENT,-950.00\n", encoding="utf-8")
    assert fin("import", str(export)).exit_code == 0
    first = {r["description"].split()[0]: r["id"] for r in transactions(fin)}
    for text, name in (("KROGER", "Groceries & household"), ("UBER", "Getting around"),
                       ("PINEWOOD", "Groceries & household")):
        assert fin("label", first[text], name).exit_code == 0
    assert fin("categorize", "--retrain").exit_code == 0
    review = {r["id"]: r["suggestion"] for r in transactions(fin, "--review")}
    said = {r["description"].split()[0]: r["category"] or review.get(r["id"]) for r in transactions(fin)}
    assert said["LYFT"] == "Getting around"
    assert said["ZILLOW"] is None and first["ZILLOW"] in review

