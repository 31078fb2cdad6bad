"""Ground truth of a history: the files in ``truth/`` (what really happened behind the exports)
with the README that documents them, and :func:`truth_ids`, which finds the id fin gave each
truth transaction after an import.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .model import ACCOUNTS, LAYOUT, _dec


def merchant_kind(g, t) -> str:
    """``own`` (the household's own accounts), ``person`` (someone paid or paying person to
    person) or ``business``."""
    if t.merchant in ("Own savings", "Own checking"):
        return "own"
    return "person" if t.merchant in g.people else "business"


def write_truth(g, tru: Path):
    def write_csv(path: Path, header, rows):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        path.write_bytes(buf.getvalue().encode("utf-8"))
    write_csv(tru / "transactions.csv",
              ["key", "account", "date", "amount", "currency", "description", "merchant",
               "category", "transfer_id", "fraud_kind", "stream_id", "pending_seen", "time",
               "post_date", "merchant_kind"],
              [[t.key, t.account, t.date.isoformat(), _dec(t.amount), t.currency,
                t.description, t.merchant, t.category, t.transfer_id, t.fraud_kind,
                t.stream_id, "1" if t.pending_seen else "0",
                f"{t.time // 60:02d}:{t.time % 60:02d}",
                t.post_date.isoformat() if t.post_date else "", merchant_kind(g, t)] for t in g.txns])
    cols = ["stream_id", "merchant", "account", "category", "period", "amount_model",
            "currency", "typical_amount", "min_amount", "max_amount", "status",
            "first_date", "last_date", "occurrences", "next_expected_date",
            "next_expected_amount"]
    write_csv(tru / "streams.csv", cols, [[s[c] for c in cols] for s in g.streams])
    write_csv(tru / "fraud.csv", ["key", "kind", "episode_id"],
              [[t.key, t.fraud_kind, t.fraud_episode] for t in
               sorted((t for t in g.txns if t.fraud_kind),
                      key=lambda t: (t.fraud_episode, t.key))])
    labels = g.make_labels()
    g.n_labels = len(labels)
    write_csv(tru / "labels.csv", ["key", "category", "labelled_at"], labels)
    write_csv(tru / "exports.csv", ["file", "account", "layout", "from", "to"],
              [[f"{a}_{f.isoformat()}_{t.isoformat()}.csv", a, LAYOUT[a], f.isoformat(),
                t.isoformat()] for a in ACCOUNTS for f, t in g.windows[a]])
    (tru / "README.md").write_bytes(_TRUTH_README.encode("utf-8"))


_TRUTH_README = """\
# Ground truth of a synthetic history (written by `fincli.synth.generate`)

The files in `../exports/` are what the household downloaded from its banks; the files here
are what really happened. Everything is a deterministic function of the generator's
parameters (recorded in `manifest.json`): the same parameters give byte-identical files.

## Accounts and export layouts (`../exports/<account>_<from>_<to>.csv`)

Each account was downloaded several times (every ~2 months, each covering the last ~3
months, the first one clipped at the start of the history), so consecutive exports overlap.
`<from>`/`<to>` (ISO) are the window the file covers; `exports.csv` lists them.

| account | currency | layout | encoding, delimiter, line ends | dates | amounts |
|---|---|---|---|---|---|
| `checking` | USD | Chase-style checking: `Details,Posting Date,"Description",Amount,Type,Balance,Check or Slip #,` (header and rows end with `,`); newest first; Description always quoted | ASCII, `,`, LF | `m/d/yyyy`, no zero padding | one signed column (negative = out) + running `Balance`; `Details` DEBIT/CREDIT/CHECK, `Type` ACH_CREDIT/ACH_DEBIT/DEBIT_CARD/ATM/ACCT_XFER/QUICKPAY_DEBIT/QUICKPAY_CREDIT/CHECK_PAID/FEE_TRANSACTION |
| `card` | USD | Chase credit card: `Transaction Date,Post Date,Description,Category,Type,Amount,Memo`; newest first; no status column: a pending row has an EMPTY `Post Date` (and its authorised amount); `Memo` is empty | ASCII, `,`, CRLF | `mm/dd/yyyy` | purchases NEGATIVE (`Type` Sale), payments and returns positive (`Payment`, `Return`); `Category` is the bank's category, not the user's |
| `eurgiro` | EUR | ING Germany giro: 13 metadata/blank lines (IBAN, Kunde, Zeitraum, Saldo, a note) before the header `Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung`; newest first | cp1252, `;`, LF | `dd.mm.yyyy` (booking + value date) | one signed `Betrag` with decimal comma and `.` thousands (`-1.234,56`) + running `Saldo` |
| `amex` | USD | American Express card: `Date,Description,Amount`; newest first; no pending rows | ASCII, `,`, LF | `mm/dd/yyyy` | charges POSITIVE; payments (`AUTOPAY PAYMENT RECEIVED - THANK YOU`, `ONLINE PAYMENT - THANK YOU`) and merchant refunds NEGATIVE — a refund carries the purchase's own description and no credit word (e.g. `GAP US 66049 SAN FRANCISCO CA,-19.99`) |
| `savings` | USD | Lloyds-style: `Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,Credit Amount,Balance,` (header ends with `,`); sort code written `'30-94-57`; newest first | ASCII, `,`, LF | `dd/mm/yyyy` | split unsigned `Debit Amount` / `Credit Amount` + `Balance` |

Every export spans at least three weeks and contains a day of month > 12 in each date
column, so day/month order is decidable from the file alone.

Every month or two a merchant refunds part or all of a recent `amex` purchase (one middle
`amex` download window is left without refunds, so some `amex` exports contain refunds and
some do not). Both credit cards are paid from `checking` each month (see `streams.csv`).

With `--seasonal` (`generate(..., seasonal=True)`; recorded as `"seasonal": true` in the
manifest's `params`), everyday purchases (not streams, transfers or fraud) follow a yearly
season per category and a slow price rise: each amount is multiplied by its category's factor
for the calendar month (shopping and online shopping peak in November–December at up to
~1.7×, restaurants, entertainment and groceries in December, travel in July–August and at
Christmas, fuel in summer, transport, coffee and health in winter, household in spring) and by
`(1 + trend) ** (months since the start / 12)` with a trend of 2–5% a year per category. The
factors are drawn from the seed (fincli/synth/seasons.py), so the history stays a function of
its parameters; a card return keeps its purchase's factor. Utilities are a monthly stream,
higher in winter with or without `--seasonal`.

## `transactions.csv` — one row per real transaction (after dedup)

| column | meaning |
|---|---|
| `key` | stable id: `chk-`/`crd-`/`eur-`/`sav-`/`amx-` + 6-digit sequence in (date, time) order within the account |
| `account` | `checking`, `card`, `eurgiro`, `savings`, `amex` |
| `date` | ISO date as the export prints it: checking `Posting Date`, card `Transaction Date` of the posted row, giro `Buchung`, savings `Transaction Date`, amex `Date` |
| `amount` | signed decimal string in major units (`-12.34`); negative = money leaving the account holder, whatever sign the export uses: a purchase on either card is negative, a card payment or refund positive (the `amex` file prints all three with the opposite sign) |
| `currency` | ISO code (USD or EUR) |
| `description` | as the bank printed it; for `eurgiro` the three text columns `Auftraggeber/Empfänger | Buchungstext | Verwendungszweck` joined with ` | ` |
| `merchant` | the TRUE merchant: one value per real merchant or person, identical for all its raw descriptions (see "Merchants" below) |
| `category` | the true category (one of: groceries, restaurants, coffee, fuel, transport, shopping, online_shopping, utilities, phone, subscriptions, rent, income, health, travel, entertainment, fees, transfers, cash, household) |
| `transfer_id` | set on both legs of a transfer between own accounts (`X00001`); the legs have opposite amounts and dates 0–3 days apart |
| `fraud_kind` | empty, or `card_testing`, `foreign_large`, `duplicate`, `spike`, `burst` |
| `stream_id` | the recurring stream (see `streams.csv`) this transaction belongs to, or empty |
| `pending_seen` | `1` if some `card` export showed this transaction as pending (empty `Post Date`; the posted row is the truth; the pending row is the same transaction, possibly with an earlier date and a smaller amount — a tip added later); always `0` on other accounts |
| `time` | `HH:MM` time of day (not in any export; orders events within a day, e.g. "within an hour") |
| `post_date` | card `Post Date` / giro `Valuta`; empty for checking, savings and amex |
| `merchant_kind` | `person` (a private person paid or paying: Zelle, Venmo, Überweisung, a tenant's rent), `own` (the household's own accounts: `Own savings`, `Own checking`) or `business` |

Several rows may be identical in (account, date, amount, description): two coffees on the
same day are two transactions, and a fraudulent `duplicate` is a second, separate row; an
importer must keep all of them. A pending row and its posted version are one transaction.

## Merchants: one merchant, many descriptions

Banks print one merchant in many ways; `merchant` names the real merchant behind each row, so
that clustering descriptions by merchant can be scored (`bench/evaluate.py`). The variants:

- stores and places: store numbers with and without `#` or zero padding, the store's town and
  state (a chain's stores are in several towns, some away from home: `WALGREENS #4821 TACOMA
  WA`, `WALGREENS 7719 PORTLAND OR`), sometimes the country (`... SEATTLE WA USA`), phone
  numbers (`TICKETMASTER 800-653-8000 CA`, Amex printing a store's phone instead of its town),
  web addresses (`NIKE.COM BEAVERTON OR`, `UBER *TRIP HELP.UBER.COM CA`, `AMZN Mktp US*… Amzn.com/bill
  WA`, `DOORDASH … www.doordash.com CA`), and other spellings of a name (`WHOLEFDS`,
  `TRADER JOE S`, `76 - 0123 OAKLAND CA`).
- processors and marketplaces: `SQ *`, `TST*`, `SumUp *`, `Zettle_*`/`IZ *`, `PAYPAL *`,
  `GOOGLE *YouTube` — the SELLER is the merchant (`SQ *BLUE BOTTLE COFFEE` is Blue Bottle
  Coffee, `PAYPAL *NETFLIX` is Netflix, `GOOGLE *YouTube` is YouTube). On a marketplace or
  platform the PLATFORM is the merchant: `AMZN Mktp US*2FP5V08AN`, `Amazon.com*RT5K2`,
  `Amazon Prime*…` and the giro's Amazon.de debits are all `Amazon`; every DoorDash order is
  `DoorDash` whatever restaurant it names (`DD *DOORDASH BURMASUPERST`); every eBay order
  (`EBAY O*12-34567-89012`) is `eBay`; every ticket (`TM *EILISH CA`) is `Ticketmaster`;
  `APPLE.COM/BILL` (iCloud) and the Apple online store are `Apple`.
- rides: `LYFT *RIDE FRI 4PM`, `LYFT *RIDE MON`, `LIME*RIDE GZSWF`, `UBER   *TRIP`. Uber rides
  (`UBER *TRIP …`) and Uber Eats (`UBER   *EATS help.uber.com`) are TWO merchants, `Uber` and
  `Uber Eats`: different services with different descriptors and categories (transport,
  restaurants), as a person budgeting sees them.
- one company, one merchant: `Walgreens` (also its pharmacy), `Costco` (warehouse and gas),
  `Amazon` on both cards, as debit-card purchases on checking and as direct debits on the giro.
- people (P2P, `merchant_kind` = `person`): checking pays and is paid by people —
  `Zelle payment to Maria Lopez JPM99…`, `Zelle payment from John Smith WFCT0…`,
  `VENMO PAYMENT 1023456789 MARIA LOPEZ`; the giro pays friends by `Überweisung`. The PERSON
  is the merchant: two people are two merchants (Maria Garcia, the weekly cleaner, and Maria
  Lopez, the babysitter paid most Saturdays, are different merchants).
- German giro (`eurgiro`): `Auftraggeber/Empfänger` holds the payee (the merchant, in one of
  its spellings: `REWE Markt GmbH`, `REWE SAGT DANKE 1234`; `AMAZON EU S.A R.L., NIEDERLASSUNG
  DEUTSCHLAND`, `Amazon Payments Europe S.C.A.`, `AMAZON.DE`), `Buchungstext` the kind of
  booking, shared by many payees (`Lastschrift`, `Folgelastschrift`, `Kartenzahlung`,
  `Gutschrift` for refunds, `Überweisung`, `Dauerauftrag`, `Gutschrift aus Dauerauftrag`,
  `Entgelt`), and `Verwendungszweck` references that change per row (order numbers, mandate
  references, creditor ids, dates, card details). Online payees: Amazon, Deutsche Bahn,
  Lieferando, Eventim, Otto, Thalia, Zalando. A purchase paid through PayPal has PayPal as
  payee and the shop in the Verwendungszweck (`PP.1234.PP . Zalando, Ihr Einkauf bei
  Zalando`): the shop is the merchant.

Bank-side names that are not a shop keep one merchant each, as before: `ATM` (cash
withdrawals), `Check`, `Chase` (card payments and ATM fees), `American Express`,
`Own savings`/`Own checking`, `Interest`, `ING`.

## `streams.csv` — recurring streams

`stream_id, merchant (the true merchant, as in `transactions.csv`), account, category, period (weekly|biweekly|semimonthly|monthly|quarterly|semiannual|yearly; the last few only with `--all-frequencies`),
amount_model (fixed|variable|stepped — stepped = a price increase partway), currency,
typical_amount (median), min_amount, max_amount, status (active|cancelled), first_date,
last_date, occurrences, next_expected_date, next_expected_amount` — the last two are the
stream's true next occurrence after the end of the history (empty when cancelled). Amounts
are signed like `transactions.csv` (a bill is `-85.00`, salary positive); the stream's
transactions carry its `stream_id`; `first_date`/`last_date`/`occurrences` count only
transactions inside the history. Rent is due on the 1st and moves to the next business day on
weekends; salary is paid on the 25th or the business day before. With `--all-frequencies`,
`weekend-job` is biweekly pay due every other Monday and paid the business day before when that
Monday is a US bank holiday (11 then 17 days apart), and `cleaning` is a biweekly bill whose
amount follows the hours worked (variable, far beyond ±7.5%). `card-payment` and
`amex-payment` are the monthly transfers from checking that pay each card's previous-month
statement (`Payment to Chase card ending in 4821 …` / `AMEX EPAYMENT    ACH PMT …` on
checking; in the first month `amex-payment` pays the balance the Amex card carried into the
history); the card leg has the same `stream_id`.

## `fraud.csv`

`key, kind, episode_id` — every fraudulent transaction (all on `card`), grouped into episodes:
`card_testing` (3–8 charges under $2 within an hour at an unseen merchant), `foreign_large`
(one large purchase at a never-seen foreign merchant), `duplicate` (the second of two
identical charges minutes apart; the first one is legitimate), `spike` (~10× the usual
amount at a known merchant), `burst` (10–16 charges in one day).

## `labels.csv`

`key, category, labelled_at` (ISO local datetime), sorted by `labelled_at`: the categories
the user gave over time, a few days to weeks after each transaction. A key may be labelled
twice: the later label corrects the earlier one. The latest label of a key always equals its
`category` in `transactions.csv`. Labels given after the end of the history are not
included.

## `exports.csv`

`file, account, layout, from, to` — every export file and the window it covers.

## `manifest.json`

The generator's parameters and the summary it returned (counts per account, file lists).
"""


def truth_ids(conn, history: Path) -> dict[str, str]:
    """Truth key -> the id fin gave that transaction, matched on (account, date, amount, currency,
    description); identical rows are paired in date and import order."""
    import csv
    from decimal import Decimal

    from ..money import to_minor

    free: dict[tuple, list[str]] = {}
    for row in conn.execute("SELECT id, account, date, amount, currency, description FROM transactions"
                            " WHERE replaced_by IS NULL ORDER BY date, import_id, line"):
        free.setdefault(row[1:], []).append(row[0])
    ids = {}
    with open(Path(history) / "truth" / "transactions.csv", newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            key = (r["account"], r["date"], to_minor(Decimal(r["amount"]), r["currency"]), r["currency"],
                   r["description"])
            if free.get(key):
                ids[r["key"]] = free[key].pop(0)
    return ids
