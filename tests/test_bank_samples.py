"""Every real bank export in ../shared/bank-samples parses to the MANIFEST's count and sum.

Files are read in place, never copied into the repo. A file the parser cannot read
without help must raise AmbiguousInputError naming the option; the table below says
which option each such file needs and why, and the test then parses it with that option.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from fincli.errors import AmbiguousInputError
from fincli.ingest.parse import builtin_profiles, parse_file

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "bank-samples"
if not SAMPLES.is_dir():
    pytest.skip("../shared/bank-samples is not present", allow_module_level=True)

# file -> (option the error must name, keyword arguments, why the file cannot tell)
NEEDS_OPTION = {
    "uk-first-direct.csv": ("--date-format %d/%m/%Y", {"date_format": "%d/%m/%Y"},
                            "its only date, 10/02/2018, fits both dd/mm/yyyy and mm/dd/yyyy"),
    "uk-barclaycard.csv": ("--sign inverted", {"sign": "inverted"},
                           "headerless card export: one unsigned amount, no debit/credit marker"),
    "sg-posb-savings.csv": ("--sign inverted", {"sign": "inverted"},
                            "headerless, one row: the filled debit column cannot be told from a credit column"),
}


def manifest() -> dict[str, tuple[int, Decimal]]:
    out = {}
    for line in (SAMPLES / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
        out[cells[1].strip("`")] = (int(cells[10]), Decimal(cells[11]))
    return out


MANIFEST = manifest()


def test_manifest_lists_every_sample():
    files = {p.name for p in SAMPLES.iterdir() if p.suffix.lower() == ".csv"}
    assert files == set(MANIFEST)
    assert len(MANIFEST) >= 30


def parse_as_documented(name: str):
    path = SAMPLES / name
    if name in NEEDS_OPTION:
        option, kwargs, _why = NEEDS_OPTION[name]
        with pytest.raises(AmbiguousInputError) as err:
            parse_file(path)
        assert option in str(err.value)
        assert "\n" not in str(err.value)
        return parse_file(path, **kwargs)
    return parse_file(path)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_sample_count_and_sum(name):
    txns, total = MANIFEST[name]
    pf = parse_as_documented(name)
    assert len(pf.rows) == txns
    assert sum(r.amount for r in pf.rows) == total
    for r in pf.rows:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r.date)
        assert r.line >= 1


def test_cdflag_rows_with_eur_instead_of_a_flag_are_skipped_not_guessed():
    # The manifest counts 70 rows (sum -4441.16) and leaves out the last 3 rows, whose
    # flag column says `EUR`: their direction cannot be read, so they are skipped and
    # recorded, never imported as a guess. (They are outflows of -139.54 per at-raiffeisen.csv.)
    pf = parse_file(SAMPLES / "at-raiffeisen-variant-cdflag.csv")
    unreadable = [(line, why) for line, why in pf.skipped if "'EUR'" in why]
    assert [line for line, _ in unreadable] == [72, 73, 74]
    junk = [why for _, why in pf.skipped if "null transaction" in why]
    assert len(junk) == 1
    full = parse_file(SAMPLES / "at-raiffeisen.csv")
    assert sum(r.amount for r in full.rows) - sum(r.amount for r in pf.rows) == Decimal("-139.54")


def test_revolut_amount_is_amount_minus_fee_and_pending_rows_kept():
    pf = parse_file(SAMPLES / "revolut.csv")
    assert pf.layout["columns"]["fee"] is not None
    assert [r.pending for r in pf.rows].count(True) == 2
    assert pf.rows[0].date == "2022-01-02" and pf.rows[0].currency == "EUR"


def test_paypal_uses_net_and_marks_pending():
    pf = parse_file(SAMPLES / "paypal.csv")
    assert pf.layout["columns"]["amount"] == 9          # Net, not Gross
    assert pf.layout["columns"]["fee"] is None
    assert [r.pending for r in pf.rows].count(True) == 3
    assert pf.rows[-1].amount == Decimal("9.41")
    assert pf.rows[0].bank_id == "06P57143A2806728E"


def test_john_lewis_pending_rows_take_the_latest_date_and_cr_is_credit():
    pf = parse_file(SAMPLES / "uk-john-lewis-partnership-card.csv")
    pending = [r for r in pf.rows if r.pending]
    assert len(pending) == 3 and {r.date for r in pending} == {"2019-12-12"}
    assert pf.rows[-1].amount == Decimal("1100.00")
    assert pf.rows[3].amount == Decimal("-1183.23") and pf.rows[3].currency == "GBP"


def test_ocbc_continuation_lines_join_the_description():
    pf = parse_file(SAMPLES / "sg-ocbc.csv")
    assert pf.rows[0].description.startswith("DEBIT PURCHASE | 15/04/18")
    assert pf.rows[0].line == 7 and pf.rows[0].currency == "SGD"


def test_swedbank_balance_and_turnover_records_are_skipped():
    pf = parse_file(SAMPLES / "lt-swedbank.csv")
    reasons = [why for _, why in pf.skipped]
    assert len(reasons) == 4 and all("summary" in w for w in reasons)


def test_de_ing_preamble_header_and_value_date():
    pf = parse_file(SAMPLES / "de-ing.csv")
    assert pf.layout["header_line"] == 15
    assert pf.rows[0].value_date == "2018-12-28" and pf.rows[6].balance == Decimal("319.9")


def test_encodings_detected():
    enc = {n: parse_as_documented(n).layout["encoding"] for n in
           ("cz-raiffeisenbank.csv", "fr-sample-cp1252.csv", "uk-john-lewis-partnership-card.csv", "de-ing.csv")}
    assert enc == {"cz-raiffeisenbank.csv": "cp1250", "fr-sample-cp1252.csv": "cp1252",
                   "uk-john-lewis-partnership-card.csv": "utf-8-sig", "de-ing.csv": "cp1252"}
    cz = parse_file(SAMPLES / "cz-raiffeisenbank.csv")
    assert "Datum provedení" in cz.layout["header"][0]


def test_builtin_profiles_match_their_banks():
    profiles = builtin_profiles()
    for name, sample in (("lloyds", "uk-lloyds.csv"), ("chase-checking", "us-chase-style-checking.csv"),
                         ("monzo", "uk-monzo.csv"), ("ing-nl", "nl-ing.csv")):
        pf = parse_file(SAMPLES / sample)
        assert pf.fingerprint == profiles[name]["fingerprint"]
        assert pf.layout["columns"] == profiles[name]["columns"]
    chase = parse_file(SAMPLES / "us-chase-style-checking.csv")
    assert chase.rows[0].description.startswith("Payment to Chafe")      # DEBIT/CREDIT is not description


def test_every_sample_imports_end_to_end_with_the_manifest_count_and_sum(tmp_path):
    """Through `fin import` itself: no options, or the one-line error naming the option, then that option."""
    import json

    from typer.testing import CliRunner

    from fincli.cli import app

    runner = CliRunner()
    home = str(tmp_path / "ws")
    for name, (txns, total) in sorted(MANIFEST.items()):
        account = Path(name).stem
        args = ["--home", home, "import", str(SAMPLES / name), "--account", account]
        result = runner.invoke(app, args)
        if name in NEEDS_OPTION:
            option = NEEDS_OPTION[name][0]
            assert result.exit_code == 1, name
            assert len(result.stderr.strip().splitlines()) == 1 and option in result.stderr, name
            result = runner.invoke(app, args + option.split(" ", 1))
        assert result.exit_code == 0, (name, result.stderr)
        listed = json.loads(runner.invoke(app, ["--home", home, "transactions", "--account", account,
                                                "--format", "json"]).stdout)
        assert len(listed) == txns, name
        assert sum(Decimal(t["amount"]) for t in listed) == total, name
