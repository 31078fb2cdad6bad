"""fincli.synth: determinism, and ground-truth invariants checked against the written exports.

The exports are parsed here with the csv module and per-layout rules written out in this
file (not with fincli's importer), so these tests check the generator, not the importer.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from fincli import synth

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"


# ---------------------------------------------------------------- helpers

def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _cents(text: str, decimal_comma: bool = False) -> int:
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    m = re.fullmatch(r"(-?)(\d+)\.(\d{2})", text)
    assert m, f"bad amount {text!r}"
    v = int(m.group(2)) * 100 + int(m.group(3))
    return -v if m.group(1) else v


def _iso(d: str, fmt: str) -> date:
    return datetime.strptime(d, fmt).date()


def parse_export(path: Path) -> dict:
    """Rows of one export as dicts: date, amount (cents, signed like the truth: negative = money
    leaving the holder), description, balance, post_date, pending (card: `file_amount`, `type`,
    `memo`; amex: `file_amount`, the amount as the file prints it); plus per-date-column lists
    of dates."""
    acct, frm, to = path.stem.split("_")
    raw = path.read_bytes()
    rows, date_cols = [], defaultdict(list)
    if acct == "checking":
        text = raw.decode("ascii")
        r = list(csv.reader(io.StringIO(text, newline="")))
        assert r[0] == ["Details", "Posting Date", "Description", "Amount", "Type", "Balance",
                        "Check or Slip #", ""]
        for row in r[1:]:
            d = _iso(row[1], "%m/%d/%Y")
            date_cols["Posting Date"].append(d)
            rows.append(dict(date=d, amount=_cents(row[3]), description=row[2],
                             balance=_cents(row[5]), post_date=None, pending=False))
    elif acct == "card":
        text = raw.decode("ascii")
        assert "\r\n" in text
        r = list(csv.reader(io.StringIO(text, newline="")))
        assert r[0] == ["Transaction Date", "Post Date", "Description", "Category", "Type",
                        "Amount", "Memo"]
        for row in r[1:]:
            assert len(row) == 7 and re.fullmatch(r"\d\d/\d\d/\d{4}", row[0]), row
            d = _iso(row[0], "%m/%d/%Y")
            date_cols["Transaction Date"].append(d)
            pending = row[1] == ""                     # Chase: no Post Date yet = pending
            pd = None if pending else _iso(row[1], "%m/%d/%Y")
            if pd:
                date_cols["Post Date"].append(pd)
            rows.append(dict(date=d, amount=_cents(row[5]), file_amount=_cents(row[5]),
                             description=row[2], balance=None, post_date=pd, pending=pending,
                             type=row[4], memo=row[6]))
    elif acct == "amex":
        text = raw.decode("ascii")
        assert "\r" not in text
        r = list(csv.reader(io.StringIO(text, newline="")))
        assert r[0] == ["Date", "Description", "Amount"]
        for row in r[1:]:
            assert len(row) == 3 and re.fullmatch(r"\d\d/\d\d/\d{4}", row[0]), row
            d = _iso(row[0], "%m/%d/%Y")
            date_cols["Date"].append(d)
            rows.append(dict(date=d, amount=-_cents(row[2]), file_amount=_cents(row[2]),
                             description=row[1], balance=None, post_date=None, pending=False))
    elif acct == "eurgiro":
        text = raw.decode("cp1252")
        lines = text.split("\n")
        h = next(i for i, ln in enumerate(lines) if ln.startswith("Buchung;"))
        assert h >= 5, "metadata lines precede the header"
        r = list(csv.reader(io.StringIO("\n".join(lines[h:]), newline=""), delimiter=";"))
        assert r[0] == ["Buchung", "Valuta", "Auftraggeber/Empfänger", "Buchungstext",
                        "Verwendungszweck", "Saldo", "Währung", "Betrag", "Währung"]
        for row in r[1:]:
            if not row:
                continue
            d = _iso(row[0], "%d.%m.%Y")
            date_cols["Buchung"].append(d)
            date_cols["Valuta"].append(_iso(row[1], "%d.%m.%Y"))
            rows.append(dict(date=d, amount=_cents(row[7], True),
                             description=" | ".join(row[2:5]), balance=_cents(row[5], True),
                             post_date=_iso(row[1], "%d.%m.%Y"), pending=False))
    elif acct == "savings":
        text = raw.decode("ascii")
        r = list(csv.reader(io.StringIO(text, newline="")))
        assert r[0][:8] == ["Transaction Date", "Transaction Type", "Sort Code", "Account Number",
                            "Transaction Description", "Debit Amount", "Credit Amount", "Balance"]
        for row in r[1:]:
            d = _iso(row[0], "%d/%m/%Y")
            date_cols["Transaction Date"].append(d)
            assert (row[5] == "") != (row[6] == ""), "exactly one of debit/credit"
            amt = _cents(row[6]) if row[6] else -_cents(row[5])
            assert amt != 0
            rows.append(dict(date=d, amount=amt, description=row[4], balance=_cents(row[7]),
                             post_date=None, pending=False))
    else:  # pragma: no cover
        raise AssertionError(path)
    return dict(account=acct, frm=date.fromisoformat(frm), to=date.fromisoformat(to), rows=rows,
                date_cols=dict(date_cols), path=path)


def load(root: Path) -> dict:
    truth = list(csv.DictReader(open(root / "truth" / "transactions.csv", encoding="utf-8",
                                     newline="")))
    for t in truth:
        t["d"] = date.fromisoformat(t["date"])
        t["pd"] = date.fromisoformat(t["post_date"]) if t["post_date"] else None
        t["cents"] = _cents(t["amount"])
    exports = [parse_export(p) for p in sorted((root / "exports").glob("*.csv"))]
    exports.sort(key=lambda e: (e["account"], e["to"], e["frm"]))

    def read(name):
        return list(csv.DictReader(open(root / "truth" / name, encoding="utf-8", newline="")))
    return dict(truth=truth, exports=exports, streams=read("streams.csv"),
                fraud=read("fraud.csv"), labels=read("labels.csv"), root=root)


def _sig(t) -> tuple:
    return (t["d"], t["cents"], t["description"])


def _row_sig(r) -> tuple:
    return (r["date"], r["amount"], r["description"])


GEN_PARAMS = dict(start=date(2024, 3, 1), months=14, merchants=200, density=1.0)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth_big")
    summary = synth.generate(5, root, **GEN_PARAMS)
    return load(root), summary


@pytest.fixture(scope="module", params=["generated", "sample", "short"])
def hist(request, big, tmp_path_factory):
    if request.param == "sample":
        return load(SAMPLES)
    if request.param == "short":
        root = tmp_path_factory.mktemp("synth_short")
        synth.generate(21, root, start=date(2026, 6, 1), months=2, merchants=40, density=0.5)
        return load(root)
    return big[0]


def _months(h) -> int:
    ds = [t["d"] for t in h["truth"]]
    return (max(ds).year - min(ds).year) * 12 + max(ds).month - min(ds).month + 1


# ---------------------------------------------------------------- determinism

def test_same_seed_gives_byte_identical_files(tmp_path):
    kw = dict(start=date(2024, 11, 1), months=3, merchants=60, density=0.5)
    s1 = synth.generate(11, tmp_path / "a", **kw)
    s2 = synth.generate(11, tmp_path / "b", **kw)
    fa, fb = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(fa) == sorted(fb)
    assert len([f for f in fa if f.startswith("exports/")]) >= 8
    for name in fa:
        assert fa[name] == fb[name], name
    assert s1 == s2


def test_same_seed_identical_across_processes_and_hash_seeds(tmp_path):
    outs = []
    for hs in ("0", "4242"):
        out = tmp_path / f"h{hs}"
        env = dict(os.environ, PYTHONHASHSEED=hs, PYTHONPATH=str(REPO))
        subprocess.run([sys.executable, "-m", "fincli.synth", "--seed", "3", "--months", "3",
                        "--merchants", "50", "--density", "0.4", "--start", "2024-01-01",
                        str(out)], check=True, env=env, capture_output=True, cwd=tmp_path)
        outs.append(_files(out))
    assert outs[0] == outs[1]
    assert outs[0]


def test_different_seeds_give_different_histories(tmp_path):
    kw = dict(start=date(2024, 11, 1), months=3, merchants=60, density=0.5)
    synth.generate(1, tmp_path / "a", **kw)
    synth.generate(2, tmp_path / "b", **kw)
    ta = (tmp_path / "a" / "truth" / "transactions.csv").read_bytes()
    tb = (tmp_path / "b" / "truth" / "transactions.csv").read_bytes()
    assert ta != tb
    rows_a = {tuple(r[2:6]) for r in csv.reader(io.StringIO(ta.decode()))}
    rows_b = {tuple(r[2:6]) for r in csv.reader(io.StringIO(tb.decode()))}
    # not just shifted: most (date, amount, currency, description) tuples differ
    assert len(rows_a & rows_b) < 0.2 * len(rows_a)


def test_committed_sample_matches_generator(tmp_path):
    synth.write_sample(tmp_path / "s")
    fresh, committed = _files(tmp_path / "s"), _files(SAMPLES)
    assert sorted(fresh) == sorted(committed), "data/samples is stale: run python -m fincli.synth --sample data/samples"
    for name in fresh:
        assert fresh[name] == committed[name], f"data/samples/{name} differs from generate()"


def test_synth_imports_no_numpy_or_pandas():
    code = ("import sys, fincli.synth; "
            "bad=[m for m in ('numpy','pandas','sklearn') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- exports vs truth

def test_summary_counts_match_truth(big):
    h, summary = big
    counts = Counter(t["account"] for t in h["truth"])
    assert summary["transactions"] == dict(counts)
    assert set(counts) == {"checking", "card", "eurgiro", "savings", "amex"}
    files = {e["path"].name for e in h["exports"]}
    assert files == {f for fs in summary["exports"].values() for f in fs}
    assert {t["currency"] for t in h["truth"]} == {"USD", "EUR"}


def test_each_export_is_exactly_its_window_of_truth(hist):
    """Posted rows of an export = truth rows of that account in the window (card: posted by
    the download day), as multisets — so nothing is missing and nothing is invented."""
    by_acct = defaultdict(list)
    for t in hist["truth"]:
        by_acct[t["account"]].append(t)
    for e in hist["exports"]:
        want = Counter(_sig(t) for t in by_acct[e["account"]]
                       if e["frm"] <= t["d"] <= e["to"] and (t["pd"] is None or e["account"] != "card"
                                                           or t["pd"] <= e["to"]))
        got = Counter(_row_sig(r) for r in e["rows"] if not r["pending"])
        assert got == want, e["path"].name


def test_every_truth_transaction_appears_posted_in_some_export(hist):
    seen = defaultdict(Counter)
    for e in hist["exports"]:
        c = Counter(_row_sig(r) for r in e["rows"] if not r["pending"])
        for k, n in c.items():
            seen[e["account"]][k] = max(seen[e["account"]][k], n)
    need = Counter((t["account"], _sig(t)) for t in hist["truth"])
    for (acct, sig), n in need.items():
        assert seen[acct][sig] >= n, (acct, sig)


def test_exports_overlap_and_agree_on_shared_rows(hist):
    by_acct = defaultdict(list)
    for e in hist["exports"]:
        by_acct[e["account"]].append(e)
    for acct, es in by_acct.items():
        assert len(es) >= 2, acct
        for a, b in zip(es, es[1:]):
            lo, hi = max(a["frm"], b["frm"]), min(a["to"], b["to"])
            assert lo <= hi, f"consecutive {acct} exports do not overlap"

            def shared(e):
                return Counter((r["date"], r["amount"], r["description"], r["balance"], r["post_date"])
                               for r in e["rows"] if not r["pending"] and lo <= r["date"] <= hi
                               and (r["post_date"] is None or acct != "card" or r["post_date"] <= hi))
            sa, sb = shared(a), shared(b)
            assert sa == sb, (a["path"].name, b["path"].name)
            assert sum(sa.values()) > 0


def test_date_columns_decidable_and_exports_span_three_weeks(hist):
    for e in hist["exports"]:
        assert (e["to"] - e["frm"]).days >= 20, e["path"].name
        assert e["date_cols"], e["path"].name
        for col, ds in e["date_cols"].items():
            assert any(d.day > 12 for d in ds), (e["path"].name, col)
            assert all(e["frm"] - timedelta(days=3) <= d <= e["to"] + timedelta(days=3) for d in ds)
        amounts = [r["amount"] for r in e["rows"]]
        if e["account"] != "savings":           # savings uses split debit/credit columns
            assert any(a < 0 for a in amounts), e["path"].name


def test_running_balances_are_consistent(hist):
    for e in hist["exports"]:
        rows = [r for r in e["rows"] if r["balance"] is not None]
        for newer, older in zip(rows, rows[1:]):          # newest first
            assert newer["balance"] - newer["amount"] == older["balance"], e["path"].name


def test_card_purchases_are_negative_and_payments_positive(hist):
    for e in hist["exports"]:
        if e["account"] != "card":
            continue
        for r in e["rows"]:
            if r["type"] == "Sale":
                assert r["amount"] < 0
            elif r["type"] in ("Payment", "Return"):
                assert r["amount"] > 0


CREDIT_WORDS = re.compile(r"\b(CREDIT|CR|REFUND|RETURN|REVERSAL|PAYMENT|THANK)\b")
AMEX_PAYMENTS = {"AUTOPAY PAYMENT RECEIVED - THANK YOU", "ONLINE PAYMENT - THANK YOU"}


def _amex_kind(t) -> str:
    if t["transfer_id"]:
        return "payment"
    return "refund" if t["cents"] > 0 else "purchase"


def test_amex_file_prints_charges_positive_and_payments_and_refunds_negative(hist):
    """Each amex row, matched to its truth transaction, has the Amex sign: a purchase positive,
    a payment (THANK YOU text, a transfer from checking) and a merchant refund (the purchase's
    own description, no credit word) negative."""
    truth = Counter((t["d"], t["cents"], t["description"], _amex_kind(t))
                    for t in hist["truth"] if t["account"] == "amex")
    kinds = Counter()
    for e in (e for e in hist["exports"] if e["account"] == "amex"):
        for r in e["rows"]:
            found = [k for (d, c, desc, k) in truth
                     if (d, c, desc) == (r["date"], -r["file_amount"], r["description"])]
            assert len(found) == 1, (e["path"].name, r)
            kind = found[0]
            kinds[kind] += 1
            if kind == "purchase":
                assert r["file_amount"] > 0, r
            elif kind == "payment":
                assert r["file_amount"] < 0 and r["description"] in AMEX_PAYMENTS, r
            else:
                assert r["file_amount"] < 0 and not CREDIT_WORDS.search(r["description"]), r
    assert kinds["purchase"] > 0
    if _months(hist) >= 2:
        assert kinds["payment"] > 0


def test_amex_refunds_give_back_part_or_all_of_an_earlier_purchase(hist):
    amex = [t for t in hist["truth"] if t["account"] == "amex"]
    refunds = [t for t in amex if _amex_kind(t) == "refund"]
    for r in refunds:
        bought = [t for t in amex if _amex_kind(t) == "purchase" and t["merchant"] == r["merchant"]
                  and t["description"] == r["description"] and t["d"] < r["d"]
                  and -t["cents"] >= r["cents"]]
        assert bought, r
        assert r["category"] == bought[-1]["category"] and r["transfer_id"] == ""


@pytest.mark.parametrize("which", ["generated", "sample"])
def test_some_amex_exports_contain_refunds_and_some_do_not(big, which):
    h = big[0] if which == "generated" else load(SAMPLES)
    refunds = Counter((t["d"], t["cents"], t["description"]) for t in h["truth"]
                      if t["account"] == "amex" and _amex_kind(t) == "refund")
    per_file = [sum(1 for r in e["rows"] if (r["date"], r["amount"], r["description"]) in refunds)
                for e in h["exports"] if e["account"] == "amex"]
    assert any(n > 0 for n in per_file) and any(n == 0 for n in per_file), per_file
    if which == "generated":                            # about one every month or two
        assert _months(h) / 3 <= sum(refunds.values()) <= _months(h)


@pytest.mark.parametrize("which", ["generated", "sample"])
def test_card_pending_rows_have_an_empty_post_date_and_the_authorised_amount(big, which):
    """The Chase card layout has no Status column: a pending row is one without a Post Date;
    it shows the authorised amount (before the tip) and is flagged pending_seen in the truth."""
    h = big[0] if which == "generated" else load(SAMPLES)
    seen = [t for t in h["truth"] if t["pending_seen"] == "1"]
    assert seen and all(t["account"] == "card" for t in seen)
    pending = [(e, r) for e in h["exports"] if e["account"] == "card" for r in e["rows"]
               if r["pending"]]
    assert pending
    for e, r in pending:
        assert r["post_date"] is None and r["type"] == "Sale" and r["amount"] < 0
        assert any(t["description"] == r["description"] and t["pd"] > e["to"]
                   and -t["cents"] >= -r["amount"] for t in seen), r
    assert any(r["amount"] != t["cents"] for _, r in pending for t in seen
               if t["description"] == r["description"]), "a tip was added after authorisation"
    posted = [r for e in h["exports"] if e["account"] == "card" for r in e["rows"]
              if not r["pending"]]
    assert all(r["post_date"] >= r["date"] for r in posted)
    assert all(r["memo"] == "" for _, r in pending) and all(r["memo"] == "" for r in posted)


def test_identical_same_day_pairs_appear_twice_in_one_export(hist):
    groups = Counter((t["account"],) + _sig(t) for t in hist["truth"])
    pairs = {k: n for k, n in groups.items() if n >= 2}
    assert any(k[0] == "card" for k in pairs), "a legit identical card pair exists"
    assert any(k[0] == "eurgiro" for k in pairs), "a legit identical giro pair exists"
    for (acct, *sig), n in pairs.items():
        best = max(Counter(_row_sig(r) for r in e["rows"] if not r["pending"])[tuple(sig)]
                   for e in hist["exports"] if e["account"] == acct)
        assert best >= n, (acct, sig)
    # a legit pair is not fraud: some identical group has no fraud at all
    legit = [k for k in pairs if not any(t["fraud_kind"] for t in hist["truth"]
                                         if (t["account"],) + _sig(t) == k)]
    assert legit


def test_transfers_balance(hist):
    legs = defaultdict(list)
    for t in hist["truth"]:
        if t["transfer_id"]:
            legs[t["transfer_id"]].append(t)
    assert legs
    kinds = set()
    for xid, ls in legs.items():
        assert len(ls) == 2, xid
        a, b = ls
        assert a["account"] != b["account"] and a["currency"] == b["currency"]
        assert a["cents"] + b["cents"] == 0, xid
        assert abs((a["d"] - b["d"]).days) <= 3, xid
        assert a["category"] == b["category"] == "transfers"
        kinds.add(tuple(sorted((a["account"], b["account"]))))
    assert ("checking", "savings") in kinds
    if _months(hist) >= 2:
        assert ("card", "checking") in kinds
        assert ("amex", "checking") in kinds


def test_pending_rows_are_earlier_versions_of_one_truth_transaction(hist):
    truth_card = [t for t in hist["truth"] if t["account"] == "card"]
    card_exports = [e for e in hist["exports"] if e["account"] == "card"]
    matched = set()
    tipped = 0
    for i, e in enumerate(card_exports):
        posted_here = Counter(_row_sig(r) for r in e["rows"] if not r["pending"])
        used = set()                  # each pending row is a different truth transaction
        for r in (r for r in e["rows"] if r["pending"]):
            cands = [t for t in truth_card if t["description"] == r["description"]
                     and t["key"] not in used
                     and t["pending_seen"] == "1" and t["pd"] > e["to"]
                     and 0 <= (t["d"] - r["date"]).days <= 3
                     and abs(t["cents"]) >= abs(r["amount"])
                     and abs(t["cents"]) <= abs(r["amount"]) * 1.3]
            assert cands, (e["path"].name, r)
            t = min(cands, key=lambda t: (t["cents"] != r["amount"], abs(t["cents"] - r["amount"]),
                                          t["key"]))          # an exact amount first, then the tip
            used.add(t["key"])
            matched.add(t["key"])
            tipped += t["cents"] != r["amount"]
            # the export that shows it pending does not also show it posted ...
            assert posted_here[_sig(t)] == 0 or any(
                x["key"] != t["key"] and _sig(x) == _sig(t) for x in truth_card)
            # ... and a later export does
            later = [x for x in card_exports[i + 1:]
                     if Counter(_row_sig(rr) for rr in x["rows"] if not rr["pending"])[_sig(t)]]
            assert later, t["key"]
    assert tipped >= 1, "a pending restaurant charge later posted with a tip"
    assert matched == {t["key"] for t in truth_card if t["pending_seen"] == "1"}


# ---------------------------------------------------------------- truth files

def test_truth_amounts_are_exact_decimal_strings(hist):
    for t in hist["truth"]:
        assert re.fullmatch(r"-?\d+\.\d{2}", t["amount"]), t
        assert t["category"] in synth.CATEGORIES
    keys = [t["key"] for t in hist["truth"]]
    assert len(keys) == len(set(keys))


def test_fraud_episodes_have_their_shape(hist):
    truth = {t["key"]: t for t in hist["truth"]}
    eps = defaultdict(list)
    for f in hist["fraud"]:
        t = truth[f["key"]]
        assert t["fraud_kind"] == f["kind"] and t["account"] == "card"
        eps[(f["episode_id"], f["kind"])].append(t)
    assert {k for _, k in eps} == {"card_testing", "foreign_large", "duplicate", "spike", "burst"}
    assert sum(len(v) for v in eps.values()) == sum(1 for t in truth.values() if t["fraud_kind"])

    def minutes(t):
        hh, mm = t["time"].split(":")
        return int(hh) * 60 + int(mm)
    card = sorted((t for t in truth.values() if t["account"] == "card"),
                  key=lambda t: (t["d"], minutes(t)))
    for (ep, kind), ts in eps.items():
        if kind == "card_testing":
            assert 3 <= len(ts) <= 8 and len({t["d"] for t in ts}) == 1
            assert all(-200 < t["cents"] < 0 for t in ts)
            assert max(map(minutes, ts)) - min(map(minutes, ts)) <= 60
        elif kind == "burst":
            assert len(ts) >= 10 and len({t["d"] for t in ts}) == 1
        elif kind == "duplicate":
            (t,) = ts
            twins = [x for x in card if x is not t and _sig(x) == _sig(t) and not x["fraud_kind"]]
            assert twins and any(0 < minutes(t) - minutes(x) <= 5 for x in twins)
        elif kind == "foreign_large":
            (t,) = ts
            assert t["cents"] <= -800_00
            assert not any(x["merchant"] == t["merchant"] and x is not t for x in card
                           if (x["d"], minutes(x)) < (t["d"], minutes(t)))
        elif kind == "spike":
            (t,) = ts
            prior = [-x["cents"] for x in card if x["merchant"] == t["merchant"] and not x["fraud_kind"]
                     and x["d"] < t["d"] and x["cents"] < 0]
            assert prior
            med = sorted(prior)[len(prior) // 2]
            assert -t["cents"] >= 8 * med


def test_labels_arrive_later_and_end_on_the_truth(hist):
    truth = {t["key"]: t for t in hist["truth"]}
    labels = hist["labels"]
    assert labels
    stamps = [lab["labelled_at"] for lab in labels]
    assert stamps == sorted(stamps)
    last = {}
    count = Counter()
    for lab in labels:
        t = truth[lab["key"]]
        at = datetime.fromisoformat(lab["labelled_at"]).date()
        assert at >= t["d"] + timedelta(days=2)
        last[lab["key"]] = lab["category"]
        count[lab["key"]] += 1
    for k, c in last.items():
        assert truth[k]["category"] == c
    relabelled = [k for k, n in count.items() if n > 1]
    assert relabelled, "some labels correct an earlier one"
    firsts = {}
    for lab in labels:
        firsts.setdefault(lab["key"], lab["category"])
    assert any(firsts[k] != last[k] for k in relabelled)


def test_streams_match_their_transactions(hist):
    by_stream = defaultdict(list)
    for t in hist["truth"]:
        if t["stream_id"]:
            by_stream[t["stream_id"]].append(t)
    streams = {s["stream_id"]: s for s in hist["streams"]}
    assert {"salary", "rent", "utilities", "phone", "cleaner", "rundfunk", "prime", "netflix",
            "spotify", "card-payment", "amex-payment", "nytimes"} <= set(streams)
    periods = {s["period"] for s in streams.values()}
    assert {"weekly", "monthly", "quarterly", "yearly"} <= periods
    for sid, s in streams.items():
        if s["occurrences"] == "0":
            assert s["first_date"] == "" and s["status"] == "active" and s["next_expected_date"]
            continue
        ts = sorted((t for t in by_stream[sid] if t["account"] == s["account"]), key=lambda t: t["d"])
        assert len(ts) == int(s["occurrences"]), sid
        assert ts[0]["date"] == s["first_date"] and ts[-1]["date"] == s["last_date"]
        amts = [t["cents"] for t in ts]
        assert min(amts) == _cents(s["min_amount"]) and max(amts) == _cents(s["max_amount"])
        if s["status"] == "cancelled":
            assert s["next_expected_date"] == "" and s["next_expected_amount"] == ""
        else:
            assert s["next_expected_date"] > max(t["date"] for t in hist["truth"])
            if s["amount_model"] == "fixed":
                assert _cents(s["next_expected_amount"]) == amts[-1]
        if s["amount_model"] == "fixed":
            assert len(set(amts)) == 1, sid
    for t in by_stream["rent"]:
        assert t["d"].weekday() < 5 and (t["d"].day == 1 or
                                         (t["d"].day <= 3 and t["d"].weekday() == 0))
    assert len({t["cents"] for t in by_stream["utilities"]}) > 1
    if _months(hist) >= 3:
        assert streams["spotify"]["status"] == "cancelled"
        assert len({t["cents"] for t in by_stream["netflix"]}) == 2    # the price increase
    weekly = [t["d"] for t in by_stream["cleaner"]]
    assert all((b - a).days == 7 for a, b in zip(weekly, weekly[1:]))


def test_one_merchant_many_raw_descriptions(big):
    h, _ = big
    raw = defaultdict(set)
    for t in h["truth"]:
        raw[t["merchant"]].add(t["description"])
    assert len(raw["Amazon"]) >= 10
    assert sum(1 for v in raw.values() if len(v) >= 3) >= 20
    descs = " ".join(t["description"] for t in h["truth"])
    for marker in ("SQ *", "AMZN Mktp US*", "POS ", "Lastschrift", "PAYPAL *", "CARD 7730"):
        assert marker in descs, marker


def test_weekend_restaurants_and_december_shopping(tmp_path):
    synth.generate(9, tmp_path, start=date(2023, 1, 1), months=24, merchants=200)
    truth = list(csv.DictReader(open(tmp_path / "truth" / "transactions.csv", encoding="utf-8")))
    wk = Counter()
    mon = Counter()
    for t in truth:
        d = date.fromisoformat(t["date"])
        if t["category"] == "restaurants" and not t["fraud_kind"]:
            wk[d.weekday() >= 4] += 1
        if t["category"] in ("shopping", "online_shopping") and not t["fraud_kind"]:
            mon[d.month] += 1
    assert wk[True] / 3 > wk[False] / 4            # per day: Fri–Sun busier than Mon–Thu
    assert mon[12] > 1.3 * (sum(mon.values()) - mon[12]) / 11


# ---------------------------------------------------------------- script and large export

def test_main_writes_a_history(tmp_path, capsys):
    assert synth.main(["--seed", "4", "--months", "2", "--density", "0.3", str(tmp_path)]) == 0
    assert (tmp_path / "truth" / "README.md").is_file()
    assert len(list((tmp_path / "exports").glob("*.csv"))) >= 4
    assert '"transactions"' in capsys.readouterr().out


def test_large_export_is_valid_and_has_no_duplicate_rows(tmp_path):
    p = tmp_path / "big.csv"
    synth.write_large_export(p, 30_000, seed=3)
    text = p.read_text("ascii")
    lines = text.splitlines()
    assert lines[0] == 'Details,Posting Date,"Description",Amount,Type,Balance,Check or Slip #,'
    assert len(lines) == 30_001
    assert len(set(lines)) == len(lines)
    rows = list(csv.reader(io.StringIO(text)))[1:]
    for newer, older in zip(rows, rows[1:]):
        assert _cents(newer[5]) - _cents(newer[3]) == _cents(older[5])
    assert len({r[2] for r in rows}) > 10_000
    days = {_iso(r[1], "%m/%d/%Y") for r in rows}
    assert any(d.day > 12 for d in days)
    q = tmp_path / "again.csv"
    synth.write_large_export(q, 30_000, seed=3)
    assert q.read_bytes() == p.read_bytes()
