"""Synthetic household history: realistic bank exports plus the ground truth behind them.

``generate(seed, out_dir, start=..., months=...)`` writes, deterministically from ``seed``
(same seed => byte-identical files), one household's finances as the person would have
downloaded them from four banks over time, in four different export layouts, together with
the truth the exports were made from (``truth/``: transactions after dedup, recurring
streams, fraud, user labels).  ``truth/README.md`` (written by :func:`generate`) documents
every file.

``write_large_export(path, rows, seed)`` writes one big Chase-style checking CSV fast, for
benchmarks.

Pure standard library.  Money is an integer number of cents everywhere inside; it becomes
text only when a file is written.  One ``random.Random(seed)`` drives everything; nothing
reads the clock or the global random state, and every iteration is over lists or sorted
keys, so the output does not depend on ``PYTHONHASHSEED``.

Run as a script: ``python -m fincli.synth --seed 7 --months 4 OUT_DIR``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

__all__ = ["generate", "write_large_export", "SAMPLE_PARAMS", "write_sample", "truth_ids", "main"]

# The bundled sample in data/samples/ is exactly generate(**SAMPLE_PARAMS).
SAMPLE_PARAMS: dict = {"seed": 7, "start": date(2025, 1, 1), "months": 4,
                       "merchants": 80, "density": 0.4}

CATEGORIES = [
    "groceries", "restaurants", "coffee", "fuel", "transport", "shopping", "online_shopping",
    "utilities", "phone", "subscriptions", "rent", "income", "health", "travel",
    "entertainment", "fees", "transfers", "cash", "household",
]

ACCOUNTS = ["checking", "card", "eurgiro", "savings"]
CURRENCY = {"checking": "USD", "card": "USD", "eurgiro": "EUR", "savings": "USD"}
LAYOUT = {"checking": "chase-checking", "card": "chase-card", "eurgiro": "ing-de-giro",
          "savings": "lloyds"}
START_BALANCE = {"checking": 4_215_37, "card": 0, "eurgiro": 3_180_45, "savings": 12_500_00}

CARD_SUFFIX = "4821"          # credit card
DEBIT_SUFFIX = "7730"         # checking debit card
SAVINGS_SORT = "'30-94-57"
SAVINGS_ACCT = "71234568"

# Bank-side category column of the card export (not the user's categories).
BANK_CATEGORY = {
    "groceries": "Groceries", "restaurants": "Food & Drink", "coffee": "Food & Drink",
    "fuel": "Gas", "transport": "Travel", "shopping": "Shopping",
    "online_shopping": "Shopping", "utilities": "Bills & Utilities",
    "phone": "Bills & Utilities", "subscriptions": "Entertainment",
    "health": "Health & Wellness", "travel": "Travel", "entertainment": "Entertainment",
    "fees": "Fees & Adjustments", "household": "Home", "income": "", "transfers": "",
}

# ---------------------------------------------------------------- merchants

# (category, share of merchants, base rate per day, median dollars, sigma, card share)
_CAT_MODEL = {
    "groceries":       (0.12, 0.45, 48.0, 0.55, 0.70),
    "restaurants":     (0.20, 0.35, 34.0, 0.50, 0.90),
    "coffee":          (0.08, 0.45, 5.5, 0.25, 0.85),
    "fuel":            (0.05, 0.12, 42.0, 0.30, 0.80),
    "transport":       (0.05, 0.22, 17.0, 0.55, 0.95),
    "shopping":        (0.16, 0.18, 46.0, 0.80, 0.85),
    "online_shopping": (0.10, 0.22, 31.0, 0.75, 0.97),
    "health":          (0.06, 0.05, 28.0, 0.70, 0.70),
    "travel":          (0.05, 0.02, 210.0, 0.70, 1.00),
    "entertainment":   (0.09, 0.09, 26.0, 0.60, 0.90),
    "household":       (0.04, 0.05, 38.0, 0.70, 0.60),
}
# EUR-side activity on the German giro account: (category, rate per day, median euros, sigma)
_EUR_MODEL = {
    "groceries": (0.16, 36.0, 0.55), "restaurants": (0.07, 28.0, 0.5),
    "coffee": (0.08, 3.9, 0.25), "transport": (0.08, 9.0, 0.6),
    "shopping": (0.05, 35.0, 0.8), "health": (0.03, 14.0, 0.6),
}

_KNOWN = {
    "groceries": ["TRADER JOE'S", "SAFEWAY", "WHOLE FOODS MKT", "KROGER", "COSTCO WHSE",
                  "QFC", "FRED-MEYER", "H MART", "UWAJIMAYA", "PCC COMMUNITY MKT"],
    "restaurants": ["CHIPOTLE", "PANERA BREAD", "SHAKE SHACK", "MOD PIZZA", "DICK'S DRIVE-IN",
                    "IVAR'S", "PAGLIACCI PIZZA", "DIN TAI FUNG", "MCDONALD'S", "TACO TIME"],
    "coffee": ["STARBUCKS", "PEET'S COFFEE", "BLUE BOTTLE COFFEE", "VIVACE", "ELM COFFEE",
               "CAFFE LADRO", "DUNKIN"],
    "fuel": ["SHELL OIL", "CHEVRON", "ARCO", "76 - TESORO", "COSTCO GAS"],
    "transport": ["UBER", "LYFT", "KING COUNTY METRO", "SOUND TRANSIT", "PAYBYPHONE",
                  "SEA PARKING"],
    "shopping": ["TARGET", "REI", "IKEA", "BEST BUY", "HOME DEPOT", "UNIQLO", "NORDSTROM",
                 "WALGREENS", "CVS/PHARMACY", "BARNES & NOBLE", "TJ MAXX", "MACY'S"],
    "online_shopping": ["AMAZON", "ETSY", "EBAY", "WAYFAIR", "CHEWY", "ZAPPOS", "TEMU",
                        "APPLE STORE ONLINE"],
    "health": ["WALGREENS PHARMACY", "BARTELL DRUGS", "ONE MEDICAL", "ZOOM CARE",
               "PACIFIC DENTAL"],
    "travel": ["ALASKA AIR", "DELTA AIR", "MARRIOTT", "AIRBNB", "HILTON HOTELS", "EXPEDIA"],
    "entertainment": ["AMC THEATRES", "REGAL CINEMAS", "TICKETMASTER", "STEAM GAMES",
                      "SEATTLE AQUARIUM", "ROUND 1 BOWLING"],
    "household": ["ACE HARDWARE", "THE CONTAINER STORE", "BED BATH", "PETCO", "MAUS DRY CLEAN"],
}
_EUR_KNOWN = {
    "groceries": ["REWE Markt GmbH", "EDEKA", "ALDI SUED", "Lidl Dienstleistung", "dennree",
                  "Kaufland"],
    "restaurants": ["Vapiano", "L'Osteria", "Hans im Glück", "Wirtshaus Zum Löwen",
                    "Pizzeria Bella Napoli"],
    "coffee": ["Café Frischhut", "Balzac Coffee", "Tchibo", "Bäckerei Müller"],
    "transport": ["Deutsche Bahn", "MVG Muenchen", "ShareNow", "Tier Mobility"],
    "shopping": ["dm-drogerie markt", "Hugendubel", "MediaMarkt", "Müller Drogerie",
                 "Galeria"],
    "health": ["Apotheke am Markt", "Stadt-Apotheke", "Dr. med. Schröder"],
}
_FAST_FOOD = {"CHIPOTLE", "PANERA BREAD", "SHAKE SHACK", "MOD PIZZA", "DICK'S DRIVE-IN",
              "MCDONALD'S", "TACO TIME"}       # no tips, so no pending-then-tipped charges
_ADJ = ["BLUE", "RED", "GOLDEN", "OLD TOWN", "NORTH", "HARBOR", "MAPLE", "CEDAR", "SUNSET",
        "PIKE", "LAKE", "UNION", "EMERALD", "RAINIER", "BALLARD", "FREMONT", "ALKI", "CASCADE",
        "PACIFIC", "SUMMIT", "IRON", "SILVER", "WILD", "LITTLE", "BIG", "HAPPY", "LUCKY",
        "GREEN", "COPPER", "ORCA", "JUNIPER", "WILLOW", "ASPEN", "BAYVIEW", "HILLTOP"]
_NOUN = {
    "groceries": ["MARKET", "GROCERY", "FOODS", "FARM STAND", "MERCANTILE", "PRODUCE"],
    "restaurants": ["BISTRO", "TAQUERIA", "PHO", "SUSHI", "KITCHEN", "GRILL", "PIZZERIA",
                    "DINER", "THAI", "RAMEN", "BBQ", "BURGER", "NOODLE HOUSE", "TAVERN"],
    "coffee": ["COFFEE", "ROASTERS", "ESPRESSO", "CAFE", "BAKERY"],
    "fuel": ["FUEL", "GAS N GO", "PETRO"],
    "transport": ["PARKING", "TAXI", "BIKE SHARE"],
    "shopping": ["OUTFITTERS", "BOUTIQUE", "SUPPLY", "GOODS", "BOOKS", "HARDWARE", "GIFTS"],
    "online_shopping": ["ONLINE", "SHOP", "DIRECT", "STORE"],
    "health": ["PHARMACY", "CLINIC", "DENTAL", "OPTICAL", "PHYSIO"],
    "travel": ["INN", "LODGE", "HOTEL", "TOURS"],
    "entertainment": ["THEATER", "CINEMA", "ARCADE", "CLIMBING", "MUSIC HALL"],
    "household": ["HOME", "CLEANERS", "GARDEN", "PET SUPPLY"],
}
_EUR_ADJ = ["Alte", "Neue", "Grüne", "Goldene", "Kleine", "Süd", "Ost", "West", "Markt",
            "Isar", "Stadt", "Dorf"]
_EUR_NOUN = {"groceries": "Markt", "restaurants": "Gaststätte", "coffee": "Bäckerei",
             "transport": "Mobil", "shopping": "Laden", "health": "Apotheke"}
_CITIES = [("SEATTLE", "WA"), ("SEATTLE", "WA"), ("SEATTLE", "WA"), ("BELLEVUE", "WA"),
           ("REDMOND", "WA"), ("KIRKLAND", "WA"), ("TACOMA", "WA"), ("PORTLAND", "OR")]
_EUR_CITIES = ["Muenchen", "Muenchen", "Muenchen", "Berlin", "Augsburg", "Freising"]
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass
class Merchant:
    name: str                # raw base name as banks print it
    merchant: str            # normalized name (truth column `merchant`)
    category: str
    currency: str
    style: str
    median: int              # cents
    sigma: float
    card_share: float
    weight: float
    stores: list = field(default_factory=list)
    city: str = ""
    state: str = ""
    prices: list = field(default_factory=list)   # fixed menu prices (coffee)


_KEEP_UPPER = {"REI", "AMC", "QFC", "PCC", "MKT", "CVS/PHARMACY", "WHSE", "H", "WWW"}


def _normal_name(raw: str) -> str:
    return " ".join(w if w in _KEEP_UPPER else w.capitalize() for w in raw.split())


# ---------------------------------------------------------------- transactions

@dataclass
class Txn:
    account: str
    date: date
    time: int                # minute of day
    amount: int              # cents, signed, negative = money out
    description: str
    merchant: str
    category: str
    btype: str = ""          # bank's type code (Chase Type, card Type, Lloyds type, Buchungstext)
    transfer_id: str = ""
    fraud_kind: str = ""
    fraud_episode: str = ""
    stream_id: str = ""
    post_date: date | None = None    # card: Post Date; giro: Valuta
    auth_date: date | None = None    # card: date/amount of the pending authorization
    auth_amount: int | None = None
    check_no: str = ""
    bank_category: str = ""
    fields: tuple = ()               # giro: (Auftraggeber/Empfänger, Buchungstext, Verwendungszweck)
    key: str = ""
    pending_seen: bool = False
    balance: int = 0
    seq: int = 0

    @property
    def currency(self) -> str:
        return CURRENCY[self.account]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def _month_day(y: int, m: int, day: int) -> date:
    first = date(y, m, 1)
    last = (_add_months(first, 1) - timedelta(days=1)).day
    return date(y, m, min(day, last))


def _next_business(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _prev_business(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _dec(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    q, r = divmod(abs(cents), 100)
    return f"{sign}{q}.{r:02d}"


def _dec_de(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    q, r = divmod(abs(cents), 100)
    return f"{sign}{q:,}".replace(",", ".") + f",{r:02d}"


def _mdy(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def _mdy0(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def _dmy(d: date, sep: str) -> str:
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


# ---------------------------------------------------------------- the generator

class _Gen:
    def __init__(self, seed: int, start: date, months: int, merchants: int, density: float):
        if months < 1:
            raise ValueError("months must be at least 1")
        self.rng = random.Random(seed)
        self.start = start
        self.months = months
        self.end = _add_months(date(start.year, start.month, 1), months) - timedelta(days=1)
        if start.day != 1:
            self.end = _add_months(start, months) - timedelta(days=1)
        self.n_merchants = max(merchants, 2 * len(_CAT_MODEL) + 2 * len(_EUR_MODEL))
        self.density = density
        self.txns: list[Txn] = []
        self.streams: list[dict] = []
        self.episodes: list[tuple[str, str]] = []
        self.xfer_n = 0
        self.check_no = 1040 + self.rng.randrange(200)

    # -- helpers
    def code(self, n: int, alphabet: str = _ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def days(self):
        d = self.start
        while d <= self.end:
            yield d
            d += timedelta(days=1)

    def new_transfer(self) -> str:
        self.xfer_n += 1
        return f"X{self.xfer_n:05d}"

    def add(self, t: Txn) -> Txn:
        if not t.bank_category and t.account == "card":
            t.bank_category = BANK_CATEGORY.get(t.category, "")
        self.txns.append(t)
        return t

    # -- merchants
    def make_merchants(self):
        rng = self.rng
        n_eur = max(2 * len(_EUR_MODEL), round(self.n_merchants * 0.12))
        n_usd = self.n_merchants - n_eur
        self.merchants: dict[str, list[Merchant]] = {c: [] for c in _CAT_MODEL}
        self.eur_merchants: dict[str, list[Merchant]] = {c: [] for c in _EUR_MODEL}
        used: set[str] = set()
        for cat, (share, _rate, med, sigma, card_share) in _CAT_MODEL.items():
            n = max(2, round(n_usd * share))
            names = list(_KNOWN[cat])
            rng.shuffle(names)
            if "AMAZON" in names:              # the household's most used online shop
                names.remove("AMAZON")
                names.insert(0, "AMAZON")
            names = names[: max(2, min(len(names), n // 2 + 1))]
            while len(names) < n:
                nm = f"{rng.choice(_ADJ)} {rng.choice(_NOUN[cat])}"
                if nm not in used and nm not in names:
                    names.append(nm)
            for i, nm in enumerate(names):
                used.add(nm)
                style = self._style(cat, nm)
                city, st = rng.choice(_CITIES)
                m = Merchant(
                    name=nm, merchant=_normal_name(nm), category=cat, currency="USD",
                    style=style,
                    median=max(150, round(med * 100 * rng.lognormvariate(0, 0.35))),
                    sigma=sigma * rng.uniform(0.7, 1.2),
                    card_share=min(1.0, card_share * rng.uniform(0.85, 1.15)),
                    weight=1.0 / (i + 1) ** 0.9,
                    stores=[str(rng.randrange(100, 9999)) for _ in range(rng.randint(1, 3))],
                    city=city, state=st)
                if cat == "coffee":
                    base = m.median
                    m.prices = sorted({max(250, base + rng.randrange(-200, 260, 5))
                                       for _ in range(4)})
                self.merchants[cat].append(m)
        for cat, (_rate, med, sigma) in _EUR_MODEL.items():
            n = max(2, round(n_eur * _CAT_MODEL.get(cat, (0.1,))[0] * 1.6))
            names = list(_EUR_KNOWN[cat])
            rng.shuffle(names)
            names = names[: max(2, min(len(names), n // 2 + 1))]
            while len(names) < n:
                nm = f"{rng.choice(_EUR_ADJ)} {_EUR_NOUN[cat]}"
                if nm in names:
                    nm = f"{nm} {rng.choice(_EUR_CITIES)}"
                if nm not in names:
                    names.append(nm)
            for i, nm in enumerate(names):
                m = Merchant(
                    name=nm, merchant=nm, category=cat, currency="EUR", style="de",
                    median=max(120, round(med * 100 * rng.lognormvariate(0, 0.3))),
                    sigma=sigma, card_share=1.0, weight=1.0 / (i + 1) ** 0.9,
                    stores=[str(rng.randrange(1000, 9999))], city=rng.choice(_EUR_CITIES))
                if cat == "coffee":
                    m.prices = sorted({max(150, m.median + rng.randrange(-100, 150, 10))
                                       for _ in range(3)})
                self.eur_merchants[cat].append(m)

    def _style(self, cat: str, nm: str) -> str:
        rng = self.rng
        if nm == "AMAZON":
            return "amzn"
        if nm in ("UBER", "LYFT"):
            return "ride"
        if cat == "fuel":
            return "fuel"
        if cat == "coffee":
            return rng.choice(["sq", "sq", "store", "plain"])
        if cat == "restaurants":
            return rng.choice(["tst", "sq", "plain", "plain", "store"])
        if cat == "online_shopping":
            return rng.choice(["paypal", "web", "web"])
        if cat == "entertainment":
            return rng.choice(["plain", "web", "sq", "paypal"])
        return rng.choice(["plain", "plain", "store", "sq"])

    def card_desc(self, m: Merchant) -> str:
        """The merchant as a card network prints it: varies per transaction for many styles."""
        rng = self.rng
        s = m.style
        if s == "amzn":
            return rng.choice(["AMZN Mktp US*", "AMZN Mktp US*", "Amazon.com*", "AMAZON MKTPL*"]) \
                + self.code(9)
        if s == "ride":
            return (f"{m.name}   *TRIP" if m.name == "UBER" else f"LYFT   *RIDE {self.code(3)}")
        if s == "fuel":
            return f"{m.name} {rng.choice(m.stores)}{self.digits(6)}"
        if s == "sq":
            return f"SQ *{m.name}"[:24]
        if s == "tst":
            return f"TST* {m.name}"[:24]
        if s == "paypal":
            return f"PAYPAL *{m.name.replace(' ', '')}"[:22]
        if s == "web":
            return f"{m.name.replace(' ', '')}.COM*{self.code(6)}"
        if s == "store":
            return f"{m.name} #{rng.choice(m.stores)}"
        return f"{m.name} #{rng.choice(m.stores)} {m.city} {m.state}"

    def debit_desc(self, m: Merchant, d: date, card_desc: str) -> str:
        if self.rng.random() < 0.5:
            return f"POS {self.digits(4)} {card_desc}"
        return f"CARD PURCHASE {d.month:02d}/{d.day:02d} {card_desc} CARD {DEBIT_SUFFIX}"

    def amount(self, m: Merchant) -> int:
        if m.prices:
            return self.rng.choice(m.prices)
        c = round(m.median * self.rng.lognormvariate(0, m.sigma))
        return max(99, c)

    def time_for(self, cat: str) -> int:
        rng = self.rng
        if cat == "coffee":
            return rng.randrange(6 * 60 + 30, 11 * 60)
        if cat == "restaurants":
            return rng.choice([rng.randrange(11 * 60 + 30, 14 * 60), rng.randrange(17 * 60 + 30, 21 * 60 + 30)])
        return rng.randrange(8 * 60, 21 * 60)

    def card_post(self, d: date) -> date:
        r = self.rng.random()
        lag = 0 if r < 0.6 else (1 if r < 0.9 else 2)
        return min(d + timedelta(days=lag), self.end)

    # -- export schedule (decided first: pending rows are placed at download boundaries)
    def plan_exports(self):
        rng = self.rng
        self.windows: dict[str, list[tuple[date, date]]] = {}
        total = (self.end - self.start).days + 1
        for acct in ACCOUNTS:
            wins = []
            first = rng.randint(38, 52)
            if total >= 42:                     # room for two exports of >= 3 weeks each
                first = min(first, total - 12)
            dl = self.start + timedelta(days=min(total - 1, first))
            while True:
                if wins and dl >= self.end - timedelta(days=10):
                    dl = self.end
                back = rng.randint(84, 96)
                frm = max(self.start, dl - timedelta(days=back))
                if (dl - frm).days < 21:            # every export spans at least three weeks
                    frm = max(self.start, dl - timedelta(days=21))
                wins.append((frm, dl))
                if dl >= self.end:
                    break
                dl = min(self.end, dl + timedelta(days=rng.randint(52, 68)))
            self.windows[acct] = wins

    # -- everyday spending
    def make_daily(self):
        rng = self.rng
        for d in self.days():
            wd = d.weekday()
            season = {12: 1.7, 11: 1.2, 1: 0.85, 7: 1.1, 8: 1.1}.get(d.month, 1.0)
            for cat, (_sh, rate, _med, _sig, _cs) in _CAT_MODEL.items():
                mult = 1.0
                if cat in ("restaurants", "entertainment"):
                    mult = 1.7 if wd >= 4 else 0.8
                elif cat == "coffee":
                    mult = 1.2 if wd < 5 else 0.7
                elif cat == "groceries":
                    mult = 1.4 if wd >= 5 else 0.9
                if cat in ("shopping", "online_shopping"):
                    mult *= season
                if cat == "travel" and d.month in (6, 7, 8, 12):
                    mult *= 2.0
                for _ in range(_poisson(rng, rate * mult * self.density)):
                    ms = self.merchants[cat]
                    m = rng.choices(ms, weights=[x.weight for x in ms])[0]
                    self.purchase(m, d)
            for cat, (rate, _med, _sig) in _EUR_MODEL.items():
                mult = 1.5 if (wd >= 5 and cat == "groceries") else 1.0
                for _ in range(_poisson(rng, rate * mult * self.density)):
                    ms = self.eur_merchants[cat]
                    m = rng.choices(ms, weights=[x.weight for x in ms])[0]
                    self.eur_purchase(m, d)
            # cash, checks
            if rng.random() < 0.05 * self.density * 2:
                amt = rng.choice([4000, 6000, 10000, 20000])
                city = rng.choice(_CITIES)[0]
                self.add(Txn("checking", d, rng.randrange(9 * 60, 20 * 60), -amt,
                             f"ATM WITHDRAWAL {self.digits(6)}  {d.month:02d}/{d.day:02d} "
                             f"{rng.randrange(100, 2999)} {rng.choice(['3RD AVE', 'PINE ST', 'BROADWAY', 'MARKET ST'])} {city}",
                             "ATM", "cash", btype="ATM"))
                if rng.random() < 0.4:
                    self.add(Txn("checking", d, 23 * 60, -300, "NON-CHASE ATM FEE-WITH",
                                 "Chase", "fees", btype="FEE_TRANSACTION"))
            if rng.random() < 0.03 * self.density * 2 and d.weekday() < 5:
                self.check_no += 1
                amt = round(rng.lognormvariate(math.log(180_00), 0.6))
                self.add(Txn("checking", d, 12 * 60, -amt, f"CHECK {self.check_no}", "Check",
                             "household", btype="CHECK_PAID", check_no=str(self.check_no)))

    def purchase(self, m: Merchant, d: date, *, amount: int | None = None, tm: int | None = None,
                 desc: str | None = None, on_card: bool | None = None) -> Txn:
        rng = self.rng
        amt = self.amount(m) if amount is None else amount
        tm = self.time_for(m.category) if tm is None else tm
        cd = self.card_desc(m) if desc is None else desc
        if on_card is None:
            on_card = rng.random() < m.card_share
        if on_card:
            t = self.add(Txn("card", d, tm, -amt, cd, m.merchant, m.category, btype="Sale",
                             post_date=self.card_post(d)))
            if m.category in ("shopping", "online_shopping") and rng.random() < 0.04:
                rd = d + timedelta(days=rng.randint(4, 20))
                if rd <= self.end:
                    self.add(Txn("card", rd, rng.randrange(9 * 60, 20 * 60), amt, cd, m.merchant,
                                 m.category, btype="Return", post_date=self.card_post(rd)))
            return t
        return self.add(Txn("checking", d, tm, -amt, self.debit_desc(m, d, cd), m.merchant,
                            m.category, btype="DEBIT_CARD"))

    def eur_purchase(self, m: Merchant, d: date, *, amount: int | None = None,
                     tm: int | None = None, zweck: str | None = None) -> Txn:
        rng = self.rng
        amt = self.amount(m) if amount is None else amount
        tm = self.time_for(m.category) if tm is None else tm
        if zweck is None:
            if rng.random() < 0.7:
                zweck = (f"VISA Debitkarte {m.name.upper()[:18]} {rng.choice(m.stores)}//{m.city}/DE "
                         f"{d.isoformat()}T{tm // 60:02d}:{tm % 60:02d}:{rng.randrange(60):02d} "
                         f"Folgenr. {rng.randrange(1, 9):03d} Verfalld. 2912")
                btext = "Lastschrift"
            else:
                zweck = (f"NR XXXX 5531 {m.city.upper()} KAUFUMSATZ {d.day:02d}.{d.month:02d} "
                         f"{tm // 60:02d}{tm % 60:02d}{rng.randrange(60):02d} ARN{self.digits(15)}")
                btext = "Lastschrift"
        else:
            btext = "Lastschrift"
        valuta = d + timedelta(days=rng.choice([0, 0, 0, 1, 2]))
        return self.add(Txn("eurgiro", d, tm, -amt, "", m.merchant, m.category, btype=btext,
                            post_date=valuta, fields=(m.name, btext, zweck)))

    # -- recurring streams
    def stream(self, sid: str, merchant: str, account: str, category: str, period: str,
               model: str, occ: list[tuple[date, int]], make, *, cancelled: date | None = None):
        """occ: (date, cents) over the history and beyond; make(d, cents) -> Txn (not added)."""
        inside = [(d, a) for d, a in occ if self.start <= d <= self.end
                  and (cancelled is None or d <= cancelled)]
        after = [(d, a) for d, a in occ if d > self.end and cancelled is None]
        for d, a in inside:
            t = make(d, a)
            t.stream_id = sid
            self.add(t)
        amounts = [a for _, a in inside]
        self.streams.append({
            "stream_id": sid, "merchant": merchant, "account": account, "category": category,
            "period": period, "amount_model": model, "currency": CURRENCY[account],
            "typical_amount": _dec(sorted(amounts)[len(amounts) // 2]) if amounts else "",
            "min_amount": _dec(min(amounts)) if amounts else "",
            "max_amount": _dec(max(amounts)) if amounts else "",
            "status": "cancelled" if cancelled is not None else "active",
            "first_date": inside[0][0].isoformat() if inside else "",
            "last_date": inside[-1][0].isoformat() if inside else "",
            "occurrences": len(inside),
            "next_expected_date": after[0][0].isoformat() if after else "",
            "next_expected_amount": _dec(after[0][1]) if after else "",
        })

    def monthly_dates(self, day: int, adjust, extra_months: int = 2):
        out = []
        m0 = date(self.start.year, self.start.month, 1)
        for i in range(self.months + extra_months + 1):
            f = _add_months(m0, i)
            out.append(adjust(_month_day(f.year, f.month, day)))
        return out

    def make_streams(self):
        rng = self.rng
        ident = lambda d: d  # noqa: E731
        span = (self.end - self.start).days
        # salary: 25th, previous business day
        sal = rng.randrange(6_800_00, 8_200_00, 100) + rng.randrange(0, 100)
        ppd = self.digits(10)
        self.stream("salary", "Acme Robotics", "checking", "income", "monthly", "fixed",
                    [(d, sal) for d in self.monthly_dates(25, _prev_business)],
                    lambda d, a: Txn("checking", d, 6 * 60, a,
                                     f"ACME ROBOTICS    DIRECT DEP                 PPD ID: {ppd}",
                                     "Acme Robotics", "income", btype="ACH_CREDIT"))
        # rent: 1st, next business day
        rent = rng.randrange(2_100_00, 2_900_00, 2500)
        web = self.digits(10)
        self.stream("rent", "Pinewood Property Mgmt", "checking", "rent", "monthly", "fixed",
                    [(d, -rent) for d in self.monthly_dates(1, _next_business)],
                    lambda d, a: Txn("checking", d, 7 * 60, a,
                                     f"PINEWOOD PROPERTY WEB PMTS   {self.code(6)}      WEB ID: {web}",
                                     "Pinewood Property Mgmt", "rent", btype="ACH_DEBIT"))
        # utilities: ~8th, variable, seasonal
        base = rng.randrange(90_00, 140_00)
        occ = []
        for d in self.monthly_dates(8, _next_business):
            f = 1 + 0.45 * math.cos(2 * math.pi * (d.month - 1) / 12)
            occ.append((d + timedelta(days=rng.choice([0, 0, 1, 2])) if d.weekday() < 3 else d,
                        -round(base * f * rng.lognormvariate(0, 0.08))))
        web2 = self.digits(10)
        self.stream("utilities", "Puget Sound Energy", "checking", "utilities", "monthly",
                    "variable", occ,
                    lambda d, a: Txn("checking", d, 8 * 60, a,
                                     f"PUGET SOUND ENER BILLPAY   {self.digits(8)}       WEB ID: {web2}",
                                     "Puget Sound Energy", "utilities", btype="ACH_DEBIT"))
        # phone: fixed, 18th
        phone = rng.choice([75_00, 85_00, 92_50])
        ppd2 = self.digits(10)
        self.stream("phone", "Verizon Wireless", "checking", "phone", "monthly", "fixed",
                    [(d, -phone) for d in self.monthly_dates(18, _next_business)],
                    lambda d, a: Txn("checking", d, 9 * 60, a,
                                     f"VERIZON WIRELESS PAYMENTS                  PPD ID: {ppd2}",
                                     "Verizon Wireless", "phone", btype="ACH_DEBIT"))
        # subscriptions on the card
        nday = rng.randint(3, 27)
        bump = self.start + timedelta(days=max(1, span // 2))
        self.stream("netflix", "Netflix", "card", "subscriptions", "monthly", "stepped",
                    [(d, -15_49 if d < bump else -17_99) for d in self.monthly_dates(nday, ident)],
                    lambda d, a: Txn("card", d, 3 * 60, a, "NETFLIX.COM", "Netflix",
                                     "subscriptions", btype="Sale", post_date=d))
        sday = rng.randint(3, 27)
        cancel = self.start + timedelta(days=max(35, int(span * 0.6)))
        self.stream("spotify", "Spotify", "card", "subscriptions", "monthly", "fixed",
                    [(d, -11_99) for d in self.monthly_dates(sday, ident)],
                    lambda d, a: Txn("card", d, 4 * 60, a, "Spotify USA", "Spotify",
                                     "subscriptions", btype="Sale", post_date=d),
                    cancelled=cancel if cancel < self.end else None)
        iday = rng.randint(3, 27)
        self.stream("icloud", "Apple iCloud", "card", "subscriptions", "monthly", "fixed",
                    [(d, -2_99) for d in self.monthly_dates(iday, ident)],
                    lambda d, a: Txn("card", d, 5 * 60, a, "APPLE.COM/BILL 866-712-7753 CA",
                                     "Apple iCloud", "subscriptions", btype="Sale", post_date=d))
        gday = rng.randint(1, 10)
        self.stream("gym", "Planet Fitness", "card", "health", "monthly", "fixed",
                    [(d, -24_99) for d in self.monthly_dates(gday, ident)],
                    lambda d, a: Txn("card", d, 5 * 60, a, f"PLANET FITNESS #{self.digits(4)}",
                                     "Planet Fitness", "health", btype="Sale",
                                     post_date=min(d + timedelta(days=1), self.end)))
        # weekly: cleaner paid by Zelle every Friday
        clean = rng.choice([120_00, 135_00, 140_00])
        d = self.start + timedelta(days=(4 - self.start.weekday()) % 7)
        occ = []
        while d <= self.end + timedelta(days=14):
            occ.append((d, -clean))
            d += timedelta(days=7)
        self.stream("cleaner", "Maria Garcia", "checking", "household", "weekly", "fixed", occ,
                    lambda d, a: Txn("checking", d, 16 * 60, a,
                                     f"Zelle payment to Maria Garcia JPM99{self.code(6).lower()}",
                                     "Maria Garcia", "household", btype="QUICKPAY_DEBIT"))
        # quarterly: German broadcasting fee on the EUR giro
        q0 = rng.randrange(3)
        occ = []
        m0 = date(self.start.year, self.start.month, 1)
        for i in range(q0, self.months + 15, 3):
            f = _add_months(m0, i)
            occ.append((_next_business(date(f.year, f.month, 15)), -55_08))
        bnr = self.digits(9)
        self.stream("rundfunk", "Rundfunk ARD ZDF DRadio", "eurgiro", "utilities", "quarterly",
                    "fixed", occ,
                    lambda d, a: Txn("eurgiro", d, 6 * 60, a, "", "Rundfunk ARD ZDF DRadio",
                                     "utilities", btype="Lastschrift", post_date=d,
                                     fields=("Rundfunk ARD, ZDF, DRadio", "Lastschrift",
                                             f"Rundfunk {d.month:02d}.{d.year}-{_add_months(d, 2).month:02d}.{d.year} "
                                             f"Beitragsnr. {bnr} Mandatsref. {bnr}001 "
                                             f"Gläubiger-ID DE94ZZZ00000561653")))
        # yearly: Amazon Prime, card
        y0 = self.start + timedelta(days=rng.randint(10, min(100, max(10, span - 5))))
        occ = [(date(y0.year + k, y0.month, min(y0.day, 28)), -139_00)
               for k in range(self.months // 12 + 3)]
        self.stream("prime", "Amazon Prime", "card", "subscriptions", "yearly", "fixed", occ,
                    lambda d, a: Txn("card", d, 2 * 60, a, f"Amazon Prime*{self.code(9)}",
                                     "Amazon Prime", "subscriptions", btype="Sale",
                                     post_date=min(d + timedelta(days=1), self.end)))
        # EUR giro: rent income from a flat, electricity instalment, account fee
        mday = rng.randint(1, 5)
        self.stream("mieteinnahme", "Jürgen Müller", "eurgiro", "income", "monthly", "fixed",
                    [(d, 950_00) for d in self.monthly_dates(mday, _next_business)],
                    lambda d, a: Txn("eurgiro", d, 7 * 60, a, "", "Jürgen Müller", "income",
                                     btype="Gutschrift aus Dauerauftrag", post_date=d,
                                     fields=("Jürgen Müller", "Gutschrift aus Dauerauftrag",
                                             f"Miete {d.month:02d}/{d.year} Whg. 2. OG links")))
        swm = rng.choice([68_00, 74_00, 82_00])
        self.stream("strom", "Stadtwerke München", "eurgiro", "utilities", "monthly", "fixed",
                    [(d, -swm) for d in self.monthly_dates(28, _next_business)],
                    lambda d, a: Txn("eurgiro", d, 6 * 60, a, "", "Stadtwerke München",
                                     "utilities", btype="Lastschrift", post_date=d,
                                     fields=("Stadtwerke München GmbH", "Lastschrift",
                                             f"Abschlag Strom {d.month:02d}/{d.year} Vertragskonto "
                                             f"{bnr[:8]} Mandatsref. SWM{bnr[:6]}")))
        self.stream("kontofuehrung", "ING", "eurgiro", "fees", "monthly", "fixed",
                    [(_prev_business(_month_day(d.year, d.month, 31)), -4_90)
                     for d in self.monthly_dates(1, ident)],
                    lambda d, a: Txn("eurgiro", d, 23 * 60, a, "", "ING", "fees",
                                     btype="Entgelt", post_date=d,
                                     fields=("ING", "Entgelt", "Kontoführungsentgelt")))
        # savings transfer, checking -> savings, 15th
        save = rng.choice([400_00, 500_00, 750_00])
        self.savings_in: list[tuple[date, int, str]] = []

        def mk_save(d, a):
            xid = self.new_transfer()
            self.savings_in.append((d, -a, xid))
            return Txn("checking", d, 10 * 60, a,
                       f"Online Transfer to SAV ...{SAVINGS_ACCT[-4:]} transaction#: {self.digits(11)} "
                       f"{d.month:02d}/{d.day:02d}", "Own savings", "transfers",
                       btype="ACCT_XFER", transfer_id=xid)
        self.stream("savings-transfer", "Own savings", "checking", "transfers", "monthly",
                    "fixed", [(d, -save) for d in self.monthly_dates(15, _next_business)], mk_save)

    # -- the card's statement is paid from checking each month (a transfer)
    def make_card_payments(self):
        rng = self.rng
        m0 = date(self.start.year, self.start.month, 1)
        occ = []
        for i in range(1, self.months + 1):
            stmt_from = _add_months(m0, i - 1)
            stmt_to = _add_months(m0, i) - timedelta(days=1)
            bal = -sum(t.amount for t in self.txns if t.account == "card"
                       and stmt_from <= t.date <= stmt_to and t.btype != "Payment")
            if bal <= 0:
                continue
            pay = _next_business(_add_months(m0, i) + timedelta(days=rng.randint(8, 12)))
            occ.append((pay, -bal))
        entries = []

        def mk(d, a):
            xid = self.new_transfer()
            cd = min(self.end, d + timedelta(days=rng.choice([0, 1, 1, 2, 3])))
            entries.append(Txn("card", cd, 11 * 60, -a, "Payment Thank You-Mobile", "Chase",
                               "transfers", btype="Payment", transfer_id=xid, post_date=cd,
                               stream_id="card-payment"))
            return Txn("checking", d, 11 * 60, a,
                       f"Payment to Chase card ending in {CARD_SUFFIX} {d.month:02d}/{d.day:02d}",
                       "Chase", "transfers", btype="ACCT_XFER", transfer_id=xid)
        self.stream("card-payment", "Chase", "checking", "transfers", "monthly", "variable",
                    occ, mk)
        for t in entries:
            self.add(t)

    # -- savings: transfers in, monthly interest, the odd withdrawal
    def make_savings(self):
        rng = self.rng
        flows = [(d, a, xid) for d, a, xid in self.savings_in if d <= self.end]
        # occasional withdrawal back to checking
        d = self.start + timedelta(days=rng.randint(40, 200))
        while d <= self.end:
            d = _next_business(d)
            if d > self.end:
                break
            amt = rng.randrange(800_00, 3_000_00, 50_00)
            xid = self.new_transfer()
            flows.append((d, -amt, xid))
            self.add(Txn("checking", d, 13 * 60, amt,
                         f"Online Transfer from SAV ...{SAVINGS_ACCT[-4:]} transaction#: {self.digits(11)}",
                         "Own savings", "transfers", btype="ACCT_XFER", transfer_id=xid))
            d += timedelta(days=rng.randint(120, 240))
        flows.sort(key=lambda f: (f[0], f[2]))
        for d, a, xid in flows:
            if a > 0:
                self.add(Txn("savings", d, 10 * 60, a,
                             f"FROM A/C 39104455 CHECKING {xid[1:]}{self.digits(4)}", "Own checking",
                             "transfers", btype="TFR", transfer_id=xid))
            else:
                self.add(Txn("savings", d, 13 * 60, a,
                             f"TO A/C 39104455 CHECKING {xid[1:]}{self.digits(4)}", "Own checking",
                             "transfers", btype="TFR", transfer_id=xid))
        # interest at each month end on the balance through that day (4.10% AER-ish)
        bal = START_BALANCE["savings"]
        occ = []
        m0 = date(self.start.year, self.start.month, 1)
        fi = 0
        for i in range(self.months + 1):
            mend = _add_months(m0, i + 1) - timedelta(days=1)
            while fi < len(flows) and flows[fi][0] <= mend:
                bal += flows[fi][1]
                fi += 1
            interest = round(bal * 0.041 / 12)
            occ.append((mend, interest))
            bal += interest
        self.stream("savings-interest", "Interest", "savings", "income", "monthly", "variable",
                    occ, lambda d, a: Txn("savings", d, 23 * 60, a, "INTEREST (GROSS)",
                                          "Interest", "income", btype="BGC"))

    # -- identical pairs, pending tips, fraud
    def make_specials(self):
        rng = self.rng
        span = (self.end - self.start).days
        # legit identical same-day pairs: two coffees
        n_pairs = max(2, self.months // 2)
        for _ in range(n_pairs):
            d = self.start + timedelta(days=rng.randrange(span + 1))
            m = rng.choice(self.merchants["coffee"])
            amt, cd, tm = rng.choice(m.prices), f"SQ *{m.name}"[:24] if m.style == "sq" else f"{m.name} #{m.stores[0]}", rng.randrange(7 * 60, 10 * 60)
            first = self.purchase(m, d, amount=amt, tm=tm, desc=cd, on_card=True)
            second = self.purchase(m, d, amount=amt, tm=tm + 12, desc=cd, on_card=True)
            second.post_date = first.post_date
        # one identical pair on the EUR giro (the running Saldo tells them apart)
        d = self.start + timedelta(days=rng.randrange(span + 1))
        m = rng.choice(self.eur_merchants["coffee"])
        amt = rng.choice(m.prices)
        z = f"VISA Debitkarte {m.name.upper()[:18]} {m.stores[0]}//{m.city}/DE"
        first = self.eur_purchase(m, d, amount=amt, tm=8 * 60, zweck=z)
        second = self.eur_purchase(m, d, amount=amt, tm=8 * 60 + 20, zweck=z)
        second.post_date = first.post_date
        # pending-then-posted restaurant charges with a tip, at each non-final card download
        for frm, to in self.windows["card"][:-1]:
            j = rng.choice([0, 1])
            auth = to - timedelta(days=j)
            posted = auth + timedelta(days=j + rng.randint(1, 2))
            if posted > self.end:
                continue
            sit_down = [m for m in self.merchants["restaurants"] if m.name not in _FAST_FOOD]
            m = rng.choice(sit_down)
            pre = self.amount(m)
            tip = round(pre * rng.choice([0.15, 0.18, 0.20, 0.22]))
            cd = self.card_desc(m)
            t = self.purchase(m, posted, amount=pre + tip, tm=rng.randrange(18 * 60, 21 * 60),
                              desc=cd, on_card=True)
            t.post_date = posted
            t.auth_date, t.auth_amount = auth, -pre
        self.make_fraud()

    def card_history(self, before: date) -> list[Txn]:
        return [t for t in self.txns if t.account == "card" and t.btype == "Sale"
                and not t.stream_id and not t.fraud_kind and t.date < before]

    def make_fraud(self):
        rng = self.rng
        span = (self.end - self.start).days
        per_kind = max(1, self.months // 8)
        kinds = ["card_testing", "foreign_large", "duplicate", "spike", "burst"]
        plan = []
        for kind in kinds:
            for _ in range(per_kind):
                plan.append((kind, self.start + timedelta(days=rng.randint(min(30, span // 3), span))))
        plan.sort(key=lambda p: (p[1], p[0]))
        foreign = [("MAISON LUXE", "PARIS", "FR"), ("ELECTRONICA SHENZHEN", "SHENZHEN", "CN"),
                   ("JOYERIA DEL SOL", "MADRID", "ES"), ("LAGOS DIGITAL STORE", "LAGOS", "NG"),
                   ("BIJOUTERIE ROYALE", "GENEVE", "CH"), ("TECHMART DUBAI", "DUBAI", "AE"),
                   ("ORO VENEZIA", "VENEZIA", "IT"), ("KIEV GADGETS", "KYIV", "UA")]
        for n, (kind, d) in enumerate(plan, 1):
            ep = f"F{n:03d}"
            self.episodes.append((ep, kind))
            if kind == "card_testing":
                t0 = rng.randrange(0, 22 * 60)
                name = rng.choice(["PAYPAL *DIGITALGDS", "SQ *GIFTCARD HUB", "WWW.PAYMNT-VERIFY",
                                   "GOOGLE *TEMPORARY H"])
                for k in range(rng.randint(3, 8)):
                    self.fraud(Txn("card", d, t0 + k * rng.randint(2, 8), -rng.randrange(50, 199),
                                   name, _normal_name(name.split("*")[-1].strip()), "shopping",
                                   btype="Sale"), kind, ep)
            elif kind == "foreign_large":
                if not foreign:
                    foreign.append((f"GLOBAL TRADE {self.code(4)}", "LONDON", "GB"))
                shop, city, cc = foreign.pop(rng.randrange(len(foreign)))   # never seen before
                self.fraud(Txn("card", d, rng.randrange(0, 5 * 60), -rng.randrange(800_00, 2_500_00),
                               f"{shop} {city} {cc}", _normal_name(shop), "shopping",
                               btype="Sale"), kind, ep)
            elif kind == "duplicate":
                m = rng.choice(self.merchants["shopping"] + self.merchants["online_shopping"])
                amt = max(40_00, self.amount(m) * 3)
                first = self.purchase(m, d, amount=amt, on_card=True)
                dup = Txn("card", d, first.time + rng.randint(1, 4), first.amount, first.description,
                          first.merchant, first.category, btype="Sale", post_date=first.post_date)
                self.fraud(dup, kind, ep)
            elif kind == "spike":
                hist = self.card_history(d)
                counts: dict[str, list[Txn]] = {}
                for t in hist:
                    counts.setdefault(t.merchant, []).append(t)
                known = sorted((m for m, ts in counts.items() if len(ts) >= 3),
                               key=lambda m: (-len(counts[m]), m))
                if known:
                    ts = counts[known[0] if rng.random() < 0.5 else rng.choice(known)]
                else:
                    ts = hist[-1:] or [self.purchase(rng.choice(self.merchants["groceries"]), d,
                                                     on_card=True)]
                amts = sorted(-t.amount for t in ts)
                med = amts[len(amts) // 2]
                ref = ts[-1]
                self.fraud(Txn("card", d, rng.randrange(10 * 60, 22 * 60),
                               -round(med * rng.uniform(9.5, 12.0)), ref.description, ref.merchant,
                               ref.category, btype="Sale"), kind, ep)
            elif kind == "burst":
                pool = self.merchants["shopping"] + self.merchants["online_shopping"]
                t0 = rng.randrange(8 * 60, 12 * 60)
                for k in range(rng.randint(10, 16)):
                    m = rng.choice(pool)
                    self.fraud(Txn("card", d, t0 + k * rng.randint(10, 40),
                                   -max(20_00, self.amount(m)), self.card_desc(m), m.merchant,
                                   m.category, btype="Sale"), kind, ep)

    def fraud(self, t: Txn, kind: str, ep: str):
        t.fraud_kind, t.fraud_episode = kind, ep
        if t.post_date is None:
            t.post_date = self.card_post(t.date)
        self.add(t)

    # -- keys, balances, pending flags
    def finalize(self):
        order = {a: i for i, a in enumerate(ACCOUNTS)}
        self.txns.sort(key=lambda t: (order[t.account], t.date, t.time, t.amount, t.description))
        counters = {a: 0 for a in ACCOUNTS}
        bal = dict(START_BALANCE)
        prefix = {"checking": "chk", "card": "crd", "eurgiro": "eur", "savings": "sav"}
        for t in self.txns:
            counters[t.account] += 1
            t.seq = counters[t.account]
            t.key = f"{prefix[t.account]}-{t.seq:06d}"
            bal[t.account] += t.amount
            t.balance = bal[t.account]
            if t.account == "card":
                if t.post_date is None:
                    t.post_date = t.date
                if t.auth_date is None:
                    t.auth_date, t.auth_amount = t.date, t.amount
            if t.account == "eurgiro":
                if t.post_date is None:
                    t.post_date = t.date
                t.description = " | ".join(t.fields)
        for frm, to in self.windows["card"]:
            for t in self.txns:
                if t.account == "card" and t.auth_date <= to < t.post_date and t.auth_date >= frm:
                    t.pending_seen = True

    # ---------------------------------------------------------------- writing
    def export_rows(self, acct: str, frm: date, to: date) -> tuple[list[Txn], list[Txn]]:
        posted = [t for t in self.txns if t.account == acct and frm <= t.date <= to
                  and (acct != "card" or t.post_date <= to)]
        pending = []
        if acct == "card":
            pending = [t for t in self.txns if t.account == "card"
                       and frm <= t.auth_date <= to < t.post_date]
        return posted, pending

    def write(self, out: Path) -> dict:
        exp = out / "exports"
        tru = out / "truth"
        exp.mkdir(parents=True, exist_ok=True)
        tru.mkdir(parents=True, exist_ok=True)
        files: dict[str, list[str]] = {a: [] for a in ACCOUNTS}
        export_rows = 0
        for acct in ACCOUNTS:
            for frm, to in self.windows[acct]:
                posted, pending = self.export_rows(acct, frm, to)
                name = f"{acct}_{frm.isoformat()}_{to.isoformat()}.csv"
                data = getattr(self, f"fmt_{acct}")(posted, pending, frm, to)
                (exp / name).write_bytes(data)
                files[acct].append(name)
                export_rows += len(posted) + len(pending)
        self.write_truth(tru)
        counts = {a: sum(1 for t in self.txns if t.account == a) for a in ACCOUNTS}
        summary = {
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "transactions": counts, "total_transactions": len(self.txns),
            "export_rows": export_rows, "exports": files,
            "layouts": dict(LAYOUT), "currencies": dict(CURRENCY),
            "streams": len(self.streams), "fraud_transactions":
                sum(1 for t in self.txns if t.fraud_kind),
            "fraud_episodes": len(self.episodes), "labels": self.n_labels,
            "pending_seen": sum(1 for t in self.txns if t.pending_seen),
        }
        return summary

    def fmt_checking(self, posted, pending, frm, to) -> bytes:
        lines = ['Details,Posting Date,"Description",Amount,Type,Balance,Check or Slip #,']
        for t in reversed(posted):                       # newest first, like Chase
            details = "CHECK" if t.check_no else ("CREDIT" if t.amount > 0 else "DEBIT")
            lines.append(f'{details},{_mdy(t.date)},"{t.description}",{_dec(t.amount)},'
                         f'{t.btype},{_dec(t.balance)},{t.check_no},')
        return ("\n".join(lines) + "\n").encode("ascii")

    def fmt_card(self, posted, pending, frm, to) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(["Transaction Date", "Post Date", "Description", "Category", "Type",
                    "Amount", "Status"])
        rows = [(t.auth_date, t.time, t.seq, [_mdy0(t.auth_date), "", t.description,
                                              t.bank_category, t.btype, _dec(t.auth_amount),
                                              "Pending"]) for t in pending]
        rows += [(t.date, t.time, t.seq, [_mdy0(t.date), _mdy0(t.post_date), t.description,
                                          t.bank_category, t.btype, _dec(t.amount), "Posted"])
                 for t in posted]
        rows.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
        for r in rows:
            w.writerow(r[3])
        return buf.getvalue().encode("ascii")

    def fmt_eurgiro(self, posted, pending, frm, to) -> bytes:
        bal_to = START_BALANCE["eurgiro"]
        for t in self.txns:
            if t.account == "eurgiro" and t.date <= to:
                bal_to = t.balance
        made = to + timedelta(days=0)
        hh, mm = 8 + (to.toordinal() * 7) % 12, (to.toordinal() * 13) % 60
        buf = io.StringIO()
        buf.write(f"Umsatzanzeige;Datei erstellt am: {_dmy(made, '.')} {hh:02d}:{mm:02d}\n")
        buf.write(";Letztes Update: aktuell\n\n")
        buf.write("IBAN;DE89 3704 0044 0532 0130 00\nKontoname;Girokonto\nBank;ING\n")
        buf.write("Kunde;Alex Beispiel\n")
        buf.write(f"Zeitraum;{_dmy(frm, '.')} - {_dmy(to, '.')}\n")
        buf.write(f"Saldo;{_dec_de(bal_to)};EUR\n\nSortierung;Datum absteigend\n\n")
        buf.write("In der CSV-Datei finden Sie alle bereits gebuchten Umsätze. Die vorgemerkten "
                  "Umsätze werden nicht aufgenommen, auch wenn sie in Ihrem Internetbanking "
                  "angezeigt werden.\n\n")
        w = csv.writer(buf, delimiter=";", lineterminator="\n")
        w.writerow(["Buchung", "Valuta", "Auftraggeber/Empfänger", "Buchungstext",
                    "Verwendungszweck", "Saldo", "Währung", "Betrag", "Währung"])
        for t in reversed(posted):
            w.writerow([_dmy(t.date, "."), _dmy(t.post_date, "."), t.fields[0], t.fields[1],
                        t.fields[2], _dec_de(t.balance), "EUR", _dec_de(t.amount), "EUR"])
        return buf.getvalue().encode("cp1252")

    def fmt_savings(self, posted, pending, frm, to) -> bytes:
        lines = ["Transaction Date,Transaction Type,Sort Code,Account Number,"
                 "Transaction Description,Debit Amount,Credit Amount,Balance,"]
        for t in reversed(posted):
            debit = _dec(-t.amount) if t.amount < 0 else ""
            credit = _dec(t.amount) if t.amount > 0 else ""
            lines.append(f"{_dmy(t.date, '/')},{t.btype},{SAVINGS_SORT},{SAVINGS_ACCT},"
                         f"{t.description},{debit},{credit},{_dec(t.balance)}")
        return ("\n".join(lines) + "\n").encode("ascii")

    def make_labels(self) -> list[tuple[str, str, str]]:
        rng = self.rng
        limit = (self.end, 23 * 60 + 59)
        labels = []
        corrected = False
        wrong_pool = {"coffee": "restaurants", "restaurants": "coffee", "groceries": "shopping",
                      "shopping": "online_shopping", "online_shopping": "shopping",
                      "household": "shopping", "health": "shopping", "entertainment":
                      "subscriptions", "subscriptions": "entertainment", "transport": "travel",
                      "travel": "transport", "fuel": "transport", "utilities": "phone",
                      "phone": "utilities", "fees": "cash", "cash": "fees", "rent": "household",
                      "income": "transfers"}
        for t in sorted(self.txns, key=lambda t: (t.date, t.time, t.key)):
            if t.category == "transfers" or rng.random() >= 0.45:
                continue
            lag = t.date + timedelta(days=min(60, max(2, round(rng.lognormvariate(math.log(9), 0.7)))))
            tm = rng.randrange(7 * 60, 23 * 60)
            first_cat = t.category
            corr = None
            force = not corrected and t.date <= self.end - timedelta(days=45)
            if (force or rng.random() < 0.08) and t.category in wrong_pool:
                first_cat = wrong_pool[t.category]
                corr = (lag + timedelta(days=rng.randint(1, 30)), rng.randrange(7 * 60, 23 * 60))
            if (lag, tm) > limit or (corr and corr > limit):
                continue
            labels.append((lag, tm, t.key, first_cat))
            if corr:
                corrected = True
                labels.append((corr[0], corr[1], t.key, t.category))
        labels.sort(key=lambda x: (x[0], x[1], x[2]))
        return [(k, c, f"{d.isoformat()}T{m // 60:02d}:{m % 60:02d}:00") for d, m, k, c in labels]

    def write_truth(self, tru: Path):
        def write_csv(path: Path, header, rows):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
            path.write_bytes(buf.getvalue().encode("utf-8"))
        write_csv(tru / "transactions.csv",
                  ["key", "account", "date", "amount", "currency", "description", "merchant",
                   "category", "transfer_id", "fraud_kind", "stream_id", "pending_seen", "time",
                   "post_date"],
                  [[t.key, t.account, t.date.isoformat(), _dec(t.amount), t.currency,
                    t.description, t.merchant, t.category, t.transfer_id, t.fraud_kind,
                    t.stream_id, "1" if t.pending_seen else "0",
                    f"{t.time // 60:02d}:{t.time % 60:02d}",
                    t.post_date.isoformat() if t.post_date else ""] for t in self.txns])
        cols = ["stream_id", "merchant", "account", "category", "period", "amount_model",
                "currency", "typical_amount", "min_amount", "max_amount", "status",
                "first_date", "last_date", "occurrences", "next_expected_date",
                "next_expected_amount"]
        write_csv(tru / "streams.csv", cols, [[s[c] for c in cols] for s in self.streams])
        write_csv(tru / "fraud.csv", ["key", "kind", "episode_id"],
                  [[t.key, t.fraud_kind, t.fraud_episode] for t in
                   sorted((t for t in self.txns if t.fraud_kind),
                          key=lambda t: (t.fraud_episode, t.key))])
        labels = self.make_labels()
        self.n_labels = len(labels)
        write_csv(tru / "labels.csv", ["key", "category", "labelled_at"], labels)
        write_csv(tru / "exports.csv", ["file", "account", "layout", "from", "to"],
                  [[f"{a}_{f.isoformat()}_{t.isoformat()}.csv", a, LAYOUT[a], f.isoformat(),
                    t.isoformat()] for a in ACCOUNTS for f, t in self.windows[a]])
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
| `checking` | USD | Chase-style checking: `Details,Posting Date,"Description",Amount,Type,Balance,Check or Slip #,` (header and rows end with `,`); newest first; Description always quoted | ASCII, `,`, LF | `m/d/yyyy`, no zero padding | one signed column (negative = out) + running `Balance`; `Details` DEBIT/CREDIT/CHECK, `Type` ACH_CREDIT/ACH_DEBIT/DEBIT_CARD/ATM/ACCT_XFER/QUICKPAY_DEBIT/CHECK_PAID/FEE_TRANSACTION |
| `card` | USD | Chase-style credit card: `Transaction Date,Post Date,Description,Category,Type,Amount,Status`; newest first | ASCII, `,`, CRLF | `mm/dd/yyyy` | purchases NEGATIVE (`Type` Sale), payments and returns positive (`Payment`, `Return`); `Status` `Posted` or `Pending` (pending rows have an empty Post Date); `Category` is the bank's category, not the user's |
| `eurgiro` | EUR | ING Germany giro: 13 metadata/blank lines (IBAN, Kunde, Zeitraum, Saldo, a note) before the header `Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung`; newest first | cp1252, `;`, LF | `dd.mm.yyyy` (booking + value date) | one signed `Betrag` with decimal comma and `.` thousands (`-1.234,56`) + running `Saldo` |
| `savings` | USD | Lloyds-style: `Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,Credit Amount,Balance,` (header ends with `,`); sort code written `'30-94-57`; newest first | ASCII, `,`, LF | `dd/mm/yyyy` | split unsigned `Debit Amount` / `Credit Amount` + `Balance` |

Every export spans at least three weeks and contains a day of month > 12 in each date
column, so day/month order is decidable from the file alone.

## `transactions.csv` — one row per real transaction (after dedup)

| column | meaning |
|---|---|
| `key` | stable id: `chk-`/`crd-`/`eur-`/`sav-` + 6-digit sequence in (date, time) order within the account |
| `account` | `checking`, `card`, `eurgiro`, `savings` |
| `date` | ISO date as the export prints it: checking `Posting Date`, card `Transaction Date` of the posted row, giro `Buchung`, savings `Transaction Date` |
| `amount` | signed decimal string in major units (`-12.34`); negative = money leaving the account holder (a card purchase is negative, a card payment positive) |
| `currency` | ISO code (USD or EUR) |
| `description` | as the bank printed it; for `eurgiro` the three text columns `Auftraggeber/Empfänger | Buchungstext | Verwendungszweck` joined with ` | ` |
| `merchant` | normalized merchant (one merchant appears under many raw descriptions) |
| `category` | the true category (one of: groceries, restaurants, coffee, fuel, transport, shopping, online_shopping, utilities, phone, subscriptions, rent, income, health, travel, entertainment, fees, transfers, cash, household) |
| `transfer_id` | set on both legs of a transfer between own accounts (`X00001`); the legs have opposite amounts and dates 0–3 days apart |
| `fraud_kind` | empty, or `card_testing`, `foreign_large`, `duplicate`, `spike`, `burst` |
| `stream_id` | the recurring stream (see `streams.csv`) this transaction belongs to, or empty |
| `pending_seen` | `1` if some card export showed this transaction as `Pending` (the posted row is the truth; the pending row is the same transaction, possibly with an earlier date and a smaller amount — a tip added later) |
| `time` | `HH:MM` time of day (not in any export; orders events within a day, e.g. "within an hour") |
| `post_date` | card `Post Date` / giro `Valuta`; empty for checking and savings |

Several rows may be identical in (account, date, amount, description): two coffees on the
same day are two transactions, and a fraudulent `duplicate` is a second, separate row; an
importer must keep all of them. A pending row and its posted version are one transaction.

## `streams.csv` — recurring streams

`stream_id, merchant, account, category, period (weekly|monthly|quarterly|yearly),
amount_model (fixed|variable|stepped — stepped = a price increase partway), currency,
typical_amount (median), min_amount, max_amount, status (active|cancelled), first_date,
last_date, occurrences, next_expected_date, next_expected_amount` — the last two are the
stream's true next occurrence after the end of the history (empty when cancelled). Amounts
are signed like `transactions.csv` (a bill is `-85.00`, salary positive); the stream's
transactions carry its `stream_id`; `first_date`/`last_date`/`occurrences` count only
transactions inside the history. Rent is due on the 1st and moves to the next business day on
weekends; salary is paid on the 25th or the business day before. `card-payment` is the
monthly transfer from checking that pays the card's previous-month statement; its card leg
has the same `stream_id`.

## `fraud.csv`

`key, kind, episode_id` — every fraudulent card transaction, grouped into episodes:
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


def generate(seed: int, out_dir: Path, *, start: date, months: int, merchants: int = 300,
             density: float = 1.0) -> dict:
    """Write ``out_dir/exports/*.csv`` and ``out_dir/truth/*``; return a summary dict.

    ``density`` scales everyday discretionary spending (1.0 ≈ 70 USD purchases and 15 EUR
    purchases a month); recurring streams, transfers and fraud episodes are not scaled.
    """
    out_dir = Path(out_dir)
    g = _Gen(seed, start, months, merchants, density)
    g.make_merchants()
    g.plan_exports()
    g.make_streams()
    g.make_daily()
    g.make_specials()
    g.make_card_payments()
    g.make_savings()
    g.finalize()
    summary = g.write(out_dir)
    summary["params"] = {"seed": seed, "start": start.isoformat(), "months": months,
                         "merchants": merchants, "density": density}
    (out_dir / "truth" / "manifest.json").write_bytes(
        (json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
    return summary


def write_sample(out_dir: Path) -> dict:
    """Regenerate the bundled sample (data/samples) into ``out_dir``."""
    return generate(SAMPLE_PARAMS["seed"], out_dir, start=SAMPLE_PARAMS["start"],
                    months=SAMPLE_PARAMS["months"], merchants=SAMPLE_PARAMS["merchants"],
                    density=SAMPLE_PARAMS["density"])


# ---------------------------------------------------------------- one big export, fast

def write_large_export(path: Path, rows: int, seed: int) -> None:
    """One Chase-style checking CSV with ``rows`` transaction rows, newest first.

    Descriptions come from a pool of realistic templates with per-row reference codes;
    the running balance makes every row distinct (a (date, balance) collision is nudged
    by a cent), so the file has no exact duplicate rows.
    """
    rng = random.Random(seed)
    g = _Gen(seed, date(2000, 1, 1), 1, 300, 1.0)
    g.rng = rng
    g.make_merchants()
    # pool of (quoted description prefix, type, median cents, sigma, sign, needs code)
    pool = []
    for cat in _CAT_MODEL:
        for m in g.merchants[cat]:
            for _ in range(3):
                pool.append((f"POS {g.digits(4)} {g.card_desc(m)}", "DEBIT_CARD", m.median,
                             m.sigma, -1, m.weight))
    pool.append(("ACME ROBOTICS    DIRECT DEP                 PPD ID: 4410293381", "ACH_CREDIT",
                 3_600_00, 0.05, 1, 0.6))
    pool.append(("Zelle payment from J SMITH", "QUICKPAY_CREDIT", 60_00, 0.8, 1, 0.4))
    pool.append(("ATM WITHDRAWAL 004411  1200 3RD AVE SEATTLE", "ATM", 80_00, 0.5, -1, 0.5))
    pool.append(("PUGET SOUND ENER BILLPAY", "ACH_DEBIT", 110_00, 0.3, -1, 0.2))
    weights = [p[5] for p in pool]
    deposit = [("MOBILE DEPOSIT : REF NUMBER :8120" + "41" * 3, "CHECK_DEPOSIT", 4_000_00, 0.3, 1),
               ("ACME ROBOTICS    DIRECT DEP                 PPD ID: 4410293381", "ACH_CREDIT",
                5_200_00, 0.05, 1)]
    low = 2_000_00
    n_days = max(1, rows // 300)
    start = date(2015, 1, 1)
    per_day_base = rows / n_days
    picks = rng.choices(range(len(pool)), weights=weights, k=rows)
    lnv = rng.lognormvariate
    codes = [g.code(6) for _ in range(5000)]
    out_lines = []
    bal = 25_000_00
    seen: set[int] = set()
    i = 0
    day = 0
    while i < rows:
        d = start + timedelta(days=day)
        ds = f"{d.month}/{d.day}/{d.year}"
        n = rows - i if day == n_days - 1 else min(rows - i, max(1, round(per_day_base)))
        dkey = day * 10_000_000_000
        for _ in range(n):
            if bal < low:       # keep the account funded: a deposit instead of spending
                desc, typ, med, sig, sign = deposit[i % 2]
            else:
                desc, typ, med, sig, sign, _w = pool[picks[i]]
            amt = sign * max(1, int(med * lnv(0, sig)))
            if typ == "DEBIT_CARD":
                desc = f"{desc} {codes[i % 5000]}"
            bal += amt
            while dkey + bal in seen:
                amt -= 1
                bal -= 1
            seen.add(dkey + bal)
            details = "CREDIT" if amt > 0 else "DEBIT"
            sa = f"-{-amt // 100}.{-amt % 100:02d}" if amt < 0 else f"{amt // 100}.{amt % 100:02d}"
            sb = f"-{-bal // 100}.{-bal % 100:02d}" if bal < 0 else f"{bal // 100}.{bal % 100:02d}"
            out_lines.append(f'{details},{ds},"{desc}",{sa},{typ},{sb},,')
            i += 1
        day += 1
    out_lines.append('Details,Posting Date,"Description",Amount,Type,Balance,Check or Slip #,')
    out_lines.reverse()
    Path(path).write_text("\n".join(out_lines) + "\n", encoding="ascii")


def truth_ids(conn, history: Path) -> dict[str, str]:
    """Truth key -> the id fin gave that transaction, matched on (account, date, amount, currency,
    description); identical rows are paired in date and import order."""
    import csv
    from decimal import Decimal

    from .money import to_minor

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


# ---------------------------------------------------------------- script

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fincli.synth",
                                description="Write a synthetic household history "
                                            "(bank exports + ground truth) to OUT_DIR.")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    p.add_argument("--merchants", type=int, default=300)
    p.add_argument("--density", type=float, default=1.0,
                   help="scale of everyday spending (default 1.0)")
    p.add_argument("--sample", action="store_true",
                   help="write the bundled sample (data/samples) parameters, ignoring the others")
    p.add_argument("--large", type=int, metavar="ROWS",
                   help="instead write one big Chase-style CSV of ROWS rows to OUT_DIR/large.csv")
    a = p.parse_args(argv)
    if a.large:
        a.out_dir.mkdir(parents=True, exist_ok=True)
        write_large_export(a.out_dir / "large.csv", a.large, a.seed)
        print(a.out_dir / "large.csv")
        return 0
    if a.sample:
        s = write_sample(a.out_dir)
    else:
        s = generate(a.seed, a.out_dir, start=a.start, months=a.months, merchants=a.merchants,
                     density=a.density)
    print(json.dumps({k: s[k] for k in ("start", "end", "transactions", "export_rows")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
