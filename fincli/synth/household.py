"""The household simulation: ``_Gen`` draws, from one seeded ``random.Random``, the merchants,
the download schedule, recurring streams, everyday spending, transfers, fraud and the user's
labels, and keeps the result as ``Txn`` records (``txns``), ``streams``, fraud ``episodes``
and export ``windows``.  It writes no files.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from .model import (
    _ADJ, _ALIASES, _ALNUM, _AWAY, _CAT_MODEL, _CITIES, _DELIVERY_FROM, _EUR_ADJ, _EUR_ALIASES,
    _EUR_CITIES, _EUR_KNOWN, _EUR_MODEL, _EUR_NOUN, _EUR_ONLINE, _EUR_PEOPLE, _FAST_FOOD, _FORCED,
    _IDENTITY, _KNOWN, _NOUN, _PEOPLE, _TICKET_EVENTS, _WEB_HQ, ACCOUNTS, BANK_CATEGORY, CARD_SUFFIX,
    CREDIT_CARDS, CURRENCY, DEBIT_SUFFIX, KEY_PREFIX, SAVINGS_ACCT, START_BALANCE, Merchant, Txn,
    _add_months, _dec, _month_day, _next_business, _normal_name, _poisson, _prev_business,
)


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
        # private people the household pays or is paid by (truth `merchant_kind` person)
        self.people = {name for name, _, _ in _PEOPLE} | set(_EUR_PEOPLE) | {"Maria Garcia", "Jürgen Müller"}

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
        t.description = t.description.strip()           # a cut descriptor never ends in a space
        t.fields = tuple(f.strip() for f in t.fields)
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
            forced = _FORCED.get(cat, [])     # Amazon first: the household's most used online shop
            names = [x for x in _KNOWN[cat] if x not in forced]
            rng.shuffle(names)
            names = (forced + names)[: max(2, len(forced), min(len(_KNOWN[cat]), n // 2 + 1))]
            while len(names) < n:
                nm = f"{rng.choice(_ADJ)} {rng.choice(_NOUN[cat])}"
                if nm not in used and nm not in names:
                    names.append(nm)
            for i, nm in enumerate(names):
                used.add(nm)
                style = self._style(cat, nm)
                city, st = rng.choice(_CITIES)
                chain = nm in _KNOWN[cat]
                stores = [str(rng.randrange(100, 9999)) for _ in range(rng.randint(1, 4 if chain else 2))]
                places = [(city, st)] + [rng.choice(_AWAY if chain and rng.random() < 0.5 else _CITIES)
                                         for _ in stores[1:]]
                m = Merchant(
                    name=nm, merchant=_IDENTITY.get(nm, _normal_name(nm)), category=cat, currency="USD",
                    style=style,
                    median=max(150, round(med * 100 * rng.lognormvariate(0, 0.35))),
                    sigma=sigma * rng.uniform(0.7, 1.2),
                    card_share=min(1.0, card_share * rng.uniform(0.85, 1.15)),
                    weight=1.0 / (i + 1) ** 0.9,
                    stores=stores, city=city, state=st, places=places, aliases=_ALIASES.get(nm, []))
                if nm == "AMAZON":          # also bought with the checking debit card
                    m.card_share = 0.85
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
                    stores=[str(rng.randrange(1000, 9999))], city=rng.choice(_EUR_CITIES),
                    aliases=_EUR_ALIASES.get(nm, []))
                if cat == "coffee":
                    m.prices = sorted({max(150, m.median + rng.randrange(-100, 150, 10))
                                       for _ in range(3)})
                self.eur_merchants[cat].append(m)

    def choose_cards(self):
        """Which credit card the household mostly uses at each US merchant (about 40% Amex)."""
        for cat in _CAT_MODEL:
            for m in self.merchants[cat]:
                m.card = "amex" if self.rng.random() < 0.4 else "card"

    def _style(self, cat: str, nm: str) -> str:
        rng = self.rng
        special = {"AMAZON": "amzn", "UBER": "uber", "UBER EATS": "ubereats", "LYFT": "lyft", "LIME": "lime",
                   "DOORDASH": "doordash", "EBAY": "ebay", "TICKETMASTER": "tm"}
        if nm in special:
            return special[nm]
        if nm in _WEB_HQ:
            return "web"
        if cat == "fuel":
            return "fuel"
        if nm in _KNOWN[cat] and cat not in ("coffee", "restaurants", "entertainment"):
            return rng.choice(["plain", "plain", "store"])       # chains print their own name
        if cat == "coffee":
            return rng.choice(["sq", "sq", "store", "plain", "sumup", "zettle"])
        if cat == "restaurants":
            return rng.choice(["tst", "sq", "plain", "plain", "store", "sumup"])
        if cat == "online_shopping":
            return rng.choice(["paypal", "web", "web"])
        if cat == "entertainment":
            return rng.choice(["plain", "web", "sq", "paypal"])
        return rng.choice(["plain", "plain", "store", "sq", "zettle"])

    def store(self, m: Merchant) -> tuple[str, str, str]:
        """One of the merchant's stores: (number, city, state)."""
        i = self.rng.randrange(len(m.stores))
        city, st = m.places[i] if m.places else (m.city, m.state)
        return m.stores[i], city, st

    def printed(self, m: Merchant) -> str:
        """The merchant's base name as one bank prints it: mostly the name, now and then another spelling."""
        if m.aliases and self.rng.random() < 0.35:
            return self.rng.choice(m.aliases)
        return m.name

    def card_desc(self, m: Merchant, d: date | None = None, tm: int | None = None) -> str:
        """The merchant as a card network prints it: varies per transaction (store, town, processor,
        reference codes, ride times)."""
        rng = self.rng
        s = m.style
        num, city, st = self.store(m)
        name = self.printed(m)
        squashed = m.name.replace(" ", "")
        if s == "amzn":
            return rng.choice([f"AMZN Mktp US*{self.code(9)}", f"AMZN Mktp US*{self.code(9)}",
                               f"Amazon.com*{self.code(5)}", f"AMAZON MKTPL*{self.code(9)}",
                               f"AMZN Mktp US*{self.code(9)} Amzn.com/bill WA",
                               f"Amazon.com*{self.code(9)} amzn.com/bill WA"])
        if s == "uber":
            return rng.choice(["UBER   *TRIP", "UBER *TRIP HELP.UBER.COM CA",
                               f"UBER *TRIP {self.code(4)} 800-592-8996 CA", "UBER* TRIP"])
        if s == "ubereats":
            return rng.choice(["UBER   *EATS help.uber.com", f"UBER *EATS {self.code(6)} HELP.UBER.COM CA",
                               "UBER* EATS"])
        if s == "lyft":
            if d is None:
                d = self.start + timedelta(days=rng.randrange(28))
            tm = self.time_for(m.category) if tm is None else tm
            day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][d.weekday()]
            hour = f"{(tm // 60 - 1) % 12 + 1}{'AM' if tm < 12 * 60 else 'PM'}"
            return rng.choice([f"LYFT *RIDE {day} {hour}", f"LYFT *RIDE {day}", f"LYFT   *RIDE {self.code(3)}",
                               "LYFT *RIDE LYFT.COM CA"])
        if s == "lime":
            return rng.choice([f"LIME*RIDE {self.code(5)}", f"LIME*{rng.randint(2, 4)} RIDES {self.code(5)}",
                               "LIME RIDE LI.ME CA"])
        if s == "doordash":
            rest = rng.choice(_DELIVERY_FROM)
            return rng.choice([f"DD *DOORDASH {rest}"[:25], f"DOORDASH*{rest}"[:22],
                               f"DD DOORDASH {rest[:9]} 855-973-1040 CA", f"DOORDASH {rest[:9]} www.doordash.com CA"])
        if s == "ebay":
            return rng.choice([f"EBAY O*{self.digits(2)}-{self.digits(5)}-{self.digits(5)}",
                               f"eBay O*{self.digits(2)}-{self.digits(5)}-{self.digits(5)} 408-376-7400 CA"])
        if s == "tm":
            return rng.choice([f"TM *{rng.choice(_TICKET_EVENTS)} {st}", f"TM *{rng.choice(_TICKET_EVENTS)}"[:22],
                               "TICKETMASTER 800-653-8000 CA", f"TICKETMASTER {self.digits(6)} CA"])
        if s == "fuel":
            return rng.choice([f"{name} {num}{self.digits(6)}", f"{name} {num:0>4} {city} {st}"])
        if s == "sq":
            return rng.choice([f"SQ *{m.name}"[:24], f"SQ *{m.name}"[:24], f"SQ *{m.name} {city.title()} {st}",
                               f"SQ *{m.name} gosq.com {st}"])
        if s == "tst":
            return rng.choice([f"TST* {m.name}"[:24], f"TST*{m.name} - {city.title()} {city.title()} {st}"[:40]])
        if s == "sumup":
            return rng.choice([f"SumUp *{m.name.title()}"[:22], f"SUMUP *{m.name} {city} {st}"])
        if s == "zettle":
            return rng.choice([f"Zettle_*{squashed.title()}"[:22], f"IZ *{m.name}"[:20],
                               f"Zettle_*{m.name.title()} {city.title()} {st}"])
        if s == "paypal":
            return rng.choice([f"PAYPAL *{squashed}"[:22], f"PAYPAL *{squashed} 402-935-7733 CA"])
        if s == "web":
            hq, hq_st, phone = _WEB_HQ.get(m.name, (city, st, "888-555-0100"))
            site = m.name if "." in m.name else f"{squashed}.COM"
            return rng.choice([f"{site}*{self.code(6)}", f"{site} {hq} {hq_st}", f"{site} {phone} {hq_st}",
                               f"WWW.{site} {hq_st}"])
        if s == "store":
            return rng.choice([f"{name} #{num}", f"{name} {num} {city} {st}", f"{name} #{num} {city} {st}"])
        return rng.choice([f"{name} #{num} {city} {st}", f"{name} #{num} {city} {st}", f"{name} {num:0>5} {city} {st}",
                           f"{name} {city} {st}", f"{name} #{num} {city} {st} USA"])

    def amex_desc(self, m: Merchant, d: date | None = None, tm: int | None = None) -> str:
        """The merchant as the Amex statement prints it: network descriptors as on the other
        card, a store's name, number and town without the ``#``, or its phone number."""
        if m.style in ("plain", "store"):
            num, city, st = self.store(m)
            if self.rng.random() < 0.15:
                return f"{self.printed(m)} {self.digits(3)}-{self.digits(3)}-{self.digits(4)} {st}"
            return f"{self.printed(m)} {num} {city} {st}"
        if m.style == "fuel":
            num, city, st = self.store(m)
            return f"{self.printed(m)} {num:0>4} {city} {st}"
        return self.card_desc(m, d, tm)

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
        """One purchase at ``m``: on a credit card (mostly the merchant's usual one) or by debit
        card from checking; ``on_card=True`` forces the Chase-style card."""
        rng = self.rng
        amt = self.amount(m) if amount is None else amount
        tm = self.time_for(m.category) if tm is None else tm
        if on_card is None:
            on_card = rng.random() < m.card_share
            if on_card and self.card_for(m) == "amex":
                return self.add(Txn("amex", d, tm, -amt, self.amex_desc(m, d, tm) if desc is None else desc,
                                    m.merchant, m.category, btype="Sale"))
        cd = self.card_desc(m, d, tm) if desc is None else desc
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

    def card_for(self, m: Merchant) -> str:
        """The credit card one purchase goes on: the merchant's usual one, now and then the other."""
        if self.rng.random() < 0.85:
            return m.card
        return next(c for c in CREDIT_CARDS if c != m.card)

    def make_amex_refunds(self):
        """Every month or two a merchant refunds part or all of a recent Amex purchase.  The
        credit is printed under the purchase's own description, with no credit word.  One
        middle download window stays free of refunds, so some exports have none."""
        rng = self.rng
        wins = self.windows["amex"]
        quiet = rng.choice(wins[1:-1]) if len(wins) >= 3 else None
        refunded: set[int] = set()
        d = self.start + timedelta(days=rng.randint(10, 30))
        while d <= self.end:
            if quiet is None or not quiet[0] <= d <= quiet[1]:
                recent = [i for i, t in enumerate(self.txns) if t.account == "amex"
                          and t.btype == "Sale" and not t.stream_id and i not in refunded
                          and 3 <= (d - t.date).days <= 30]
                goods = [i for i in recent if self.txns[i].category in
                         ("shopping", "online_shopping", "household")]
                if goods or recent:
                    i = rng.choice(goods or recent)
                    refunded.add(i)
                    p = self.txns[i]
                    full = -p.amount
                    amt = full if full < 5_00 or rng.random() < 0.6 else \
                        round(full * rng.uniform(0.2, 0.8))
                    self.add(Txn("amex", d, rng.randrange(9 * 60, 20 * 60), amt, p.description,
                                 p.merchant, p.category, btype="Refund"))
            d += timedelta(days=rng.randint(20, 70))

    def eur_purchase(self, m: Merchant, d: date, *, amount: int | None = None,
                     tm: int | None = None, zweck: str | None = None) -> Txn:
        """A shop purchase on the giro: by Visa debit card (``Kartenzahlung``) or by girocard
        direct debit (``Lastschrift``); the payee column carries one of the shop's spellings."""
        rng = self.rng
        amt = self.amount(m) if amount is None else amount
        tm = self.time_for(m.category) if tm is None else tm
        payee = m.name
        if zweck is None:
            if m.aliases and rng.random() < 0.4:
                payee = rng.choice(m.aliases)
                payee = f"{payee} {rng.choice(m.stores)}" if rng.random() < 0.5 else payee
            if rng.random() < 0.7:
                zweck = (f"VISA Debitkarte {m.name.upper()[:18]} {rng.choice(m.stores)}//{m.city}/DE "
                         f"{d.isoformat()}T{tm // 60:02d}:{tm % 60:02d}:{rng.randrange(60):02d} "
                         f"Folgenr. {rng.randrange(1, 9):03d} Verfalld. 2912")
                btext = "Kartenzahlung"
            else:
                zweck = (f"NR XXXX 5531 {m.city.upper()} KAUFUMSATZ {d.day:02d}.{d.month:02d} "
                         f"{tm // 60:02d}{tm % 60:02d}{rng.randrange(60):02d} ARN{self.digits(15)}")
                btext = "Lastschrift"
        else:
            btext = "Kartenzahlung"
        valuta = d + timedelta(days=rng.choice([0, 0, 0, 1, 2]))
        return self.add(Txn("eurgiro", d, tm, -amt, "", m.merchant, m.category, btype=btext,
                            post_date=valuta, fields=(payee, btext, zweck)))

    def make_eur_online(self):
        """German online shops and services on the giro: many payees under the same booking
        texts, references (order numbers, mandates, dates) in the Verwendungszweck, some paid
        through PayPal (payee PayPal, the shop named in the Verwendungszweck), and returns
        credited back (``Gutschrift``)."""
        rng = self.rng
        mandates = {spec[0]: f"{self.code(3)}{self.digits(9)}" for spec in _EUR_ONLINE}
        for d in self.days():
            for true, cat, rate, med, sigma, payees, btexts, paypal in _EUR_ONLINE:
                for _ in range(_poisson(rng, rate * self.density)):
                    amt = max(250, round(med * 100 * rng.lognormvariate(0, sigma)))
                    tm = rng.randrange(7 * 60, 23 * 60)
                    order = f"{self.digits(3)}-{self.digits(7)}-{self.digits(7)}"
                    if rng.random() < paypal:
                        fields = ("PayPal Europe S.a.r.l. et Cie S.C.A", "Lastschrift",
                                  f"PP.{self.digits(4)}.PP . {true}, Ihr Einkauf bei {true} "
                                  f"AWV-MELDEPFLICHT beachten Mandatsref. {mandates[true][:6]}PP")
                    else:
                        btext = rng.choice(btexts)
                        ref = {"Amazon": f"{order} Amazon.de {self.code(10)}",
                               "Deutsche Bahn": f"Fahrschein {self.code(6)} {d.day:02d}.{d.month:02d}.{d.year}",
                               "Lieferando": f"Bestellung {self.digits(8)} {rng.choice(_DELIVERY_FROM).title()}",
                               "Eventim": f"Auftrag {self.digits(9)} Tickets",
                               "Otto": f"Kd-Nr. {self.digits(8)} Rg-Nr. {self.digits(10)}",
                               "Thalia": f"Bestellnr. {self.code(8)} {d.isoformat()}",
                               "Zalando": f"Bestellung {self.digits(8)} vom {d.day:02d}.{d.month:02d}.{d.year}"}[true]
                        if btext in ("Lastschrift", "Folgelastschrift"):
                            ref += f" Mandatsref. {mandates[true]} Gläubiger-ID DE{self.digits(2)}ZZZ{self.digits(11)}"
                        fields = (rng.choice(payees), btext, ref)
                    t = self.add(Txn("eurgiro", d, tm, -amt, "", true, cat, btype=fields[1],
                                     post_date=d + timedelta(days=rng.choice([0, 0, 1, 2])), fields=fields))
                    back = d + timedelta(days=rng.randint(6, 25))
                    if cat in ("online_shopping", "shopping") and rng.random() < 0.12 and back <= self.end:
                        self.add(Txn("eurgiro", back, rng.randrange(6 * 60, 9 * 60), round(-t.amount * rng.choice([1, 1, 0.5])),
                                     "", true, cat, btype="Gutschrift", post_date=back,
                                     fields=(fields[0], "Gutschrift", f"Erstattung Retoure {self.digits(10)} "
                                             f"zu {fields[2][:30]}".strip())))
            if rng.random() < 0.02 * self.density:        # paying a friend back
                who = rng.choice(_EUR_PEOPLE)
                self.add(Txn("eurgiro", d, rng.randrange(8 * 60, 22 * 60), -rng.randrange(15_00, 90_00, 50),
                             "", who, "restaurants", btype="Überweisung", post_date=d,
                             fields=(who, "Überweisung", rng.choice(["Anteil Abendessen", "Konzertkarten",
                                                                     f"Danke! {d.day:02d}.{d.month:02d}.",
                                                                     "Geschenk Sammlung"]))))

    def make_p2p(self):
        """Person-to-person payments on checking (Zelle, Venmo): a babysitter paid most
        weekends, friends paid and paying back for shared dinners and tickets."""
        rng = self.rng
        codes = {name: self.code(6) for name, _, _ in _PEOPLE}
        venmo_id = self.digits(10)
        for d in self.days():
            for name, role, bank in _PEOPLE:
                if role == "babysitter":
                    if d.weekday() != 5 or rng.random() < 0.3:
                        continue
                    amt, cat = rng.randrange(3, 7) * 22_00, "household"
                    tm = rng.randrange(20 * 60, 23 * 60)
                elif rng.random() < 0.025 * self.density:
                    amt, cat = rng.randrange(12_00, 95_00, 25), "restaurants"
                    tm = rng.randrange(9 * 60, 22 * 60)
                else:
                    continue
                if role == "friend" and rng.random() < 0.45:
                    self.add(Txn("checking", d, tm, amt,
                                 f"Zelle payment from {name if rng.random() < 0.7 else name.upper()} "
                                 f"{bank}{self.code(5)}", name, cat, btype="QUICKPAY_CREDIT"))
                elif rng.random() < 0.5:
                    self.add(Txn("checking", d, tm, -amt,
                                 f"VENMO PAYMENT {venmo_id} {name.upper()}", name, cat, btype="ACH_DEBIT"))
                else:
                    self.add(Txn("checking", d, tm, -amt,
                                 f"Zelle payment to {name} JPM99{codes[name][:2]}{self.code(4)}", name, cat,
                                 btype="QUICKPAY_DEBIT"))

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
                    lambda d, a: Txn("card", d, 3 * 60, a, ("NETFLIX.COM" if d < bump else rng.choice(
                        ["NETFLIX.COM 866-579-7172 CA", "PAYPAL *NETFLIX"])), "Netflix",
                                     "subscriptions", btype="Sale", post_date=d))
        sday = rng.randint(3, 27)
        cancel = self.start + timedelta(days=max(35, int(span * 0.6)))
        self.stream("spotify", "Spotify", "card", "subscriptions", "monthly", "fixed",
                    [(d, -11_99) for d in self.monthly_dates(sday, ident)],
                    lambda d, a: Txn("card", d, 4 * 60, a, "Spotify USA", "Spotify",
                                     "subscriptions", btype="Sale", post_date=d),
                    cancelled=cancel if cancel < self.end else None)
        iday = rng.randint(3, 27)
        self.stream("icloud", "Apple", "card", "subscriptions", "monthly", "fixed",
                    [(d, -2_99) for d in self.monthly_dates(iday, ident)],
                    lambda d, a: Txn("card", d, 5 * 60, a, rng.choice(
                        ["APPLE.COM/BILL 866-712-7753 CA", "APPLE.COM/BILL", "APPLE.COM/BILL ONE APPLE PARK WAY CA"]),
                                     "Apple", "subscriptions", btype="Sale", post_date=d))
        yday = rng.randint(3, 27)
        self.stream("youtube", "YouTube", "amex", "subscriptions", "monthly", "fixed",
                    [(d, -13_99) for d in self.monthly_dates(yday, ident)],
                    lambda d, a: Txn("amex", d, 5 * 60, a, rng.choice(
                        ["GOOGLE *YouTube", "GOOGLE *YouTubePremium g.co/helppay#", "GOOGLE*YOUTUBE PREMIUM"]),
                                     "YouTube", "subscriptions", btype="Sale"))
        gday = rng.randint(1, 10)
        self.stream("gym", "Planet Fitness", "card", "health", "monthly", "fixed",
                    [(d, -24_99) for d in self.monthly_dates(gday, ident)],
                    lambda d, a: Txn("card", d, 5 * 60, a, f"PLANET FITNESS #{self.digits(4)}",
                                     "Planet Fitness", "health", btype="Sale",
                                     post_date=min(d + timedelta(days=1), self.end)))
        nday = rng.randint(3, 27)
        self.stream("nytimes", "New York Times", "amex", "subscriptions", "monthly", "fixed",
                    [(d, -17_00) for d in self.monthly_dates(nday, ident)],
                    lambda d, a: Txn("amex", d, 4 * 60, a, "NYTIMES*NYTDIGITALSUBSCRIP NEW YORK NY",
                                     "New York Times", "subscriptions", btype="Sale"))
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
                                     "utilities", btype="Folgelastschrift", post_date=d,
                                     fields=("Rundfunk ARD, ZDF, DRadio", "Folgelastschrift",
                                             f"Rundfunk {d.month:02d}.{d.year}-{_add_months(d, 2).month:02d}.{d.year} "
                                             f"Beitragsnr. {bnr} Mandatsref. {bnr}001 "
                                             f"Gläubiger-ID DE94ZZZ00000561653")))
        # yearly: Amazon Prime, card
        y0 = self.start + timedelta(days=rng.randint(10, min(100, max(10, span - 5))))
        occ = [(date(y0.year + k, y0.month, min(y0.day, 28)), -139_00)
               for k in range(self.months // 12 + 3)]
        self.stream("prime", "Amazon", "card", "subscriptions", "yearly", "fixed", occ,
                    lambda d, a: Txn("card", d, 2 * 60, a, f"Amazon Prime*{self.code(9)}",
                                     "Amazon", "subscriptions", btype="Sale",
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
        def mk_strom(d, a):             # a mandate's first direct debit, then follow-ups
            text = "Folgelastschrift" if any(t.stream_id == "strom" for t in self.txns) else "Lastschrift"
            return Txn("eurgiro", d, 6 * 60, a, "", "Stadtwerke München", "utilities", btype=text, post_date=d,
                       fields=("Stadtwerke München GmbH", text, f"Abschlag Strom {d.month:02d}/{d.year} "
                               f"Vertragskonto {bnr[:8]} Mandatsref. SWM{bnr[:6]}"))
        self.stream("strom", "Stadtwerke München", "eurgiro", "utilities", "monthly", "fixed",
                    [(d, -swm) for d in self.monthly_dates(28, _next_business)], mk_strom)
        self.stream("kontofuehrung", "ING", "eurgiro", "fees", "monthly", "fixed",
                    [(_prev_business(_month_day(d.year, d.month, 31)), -4_90)
                     for d in self.monthly_dates(1, ident)],
                    lambda d, a: Txn("eurgiro", d, 23 * 60, a, "", "ING", "fees",
                                     btype="Entgelt", post_date=d,
                                     fields=("ING", "Entgelt", "Kontoführungsentgelt")))
        # a standing order for the rented-out flat's service charge (Hausgeld)
        hausgeld = rng.choice([310_00, 345_00, 380_00])
        self.stream("hausgeld", "Hausverwaltung Huber", "eurgiro", "household", "monthly", "fixed",
                    [(d, -hausgeld) for d in self.monthly_dates(3, _next_business)],
                    lambda d, a: Txn("eurgiro", d, 7 * 60, a, "", "Hausverwaltung Huber", "household",
                                     btype="Dauerauftrag", post_date=d,
                                     fields=("Hausverwaltung Huber GmbH", "Dauerauftrag",
                                             f"Hausgeld {d.month:02d}/{d.year} WEG Isarstr. 12 Whg. 4")))
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

    # -- each credit card's statement is paid from checking each month (a transfer)
    def make_card_payments(self):
        rng = self.rng
        self.pay_card("card", "card-payment", "Chase", 8, "ACCT_XFER",
                      lambda d: "Payment Thank You-Mobile",
                      lambda d: f"Payment to Chase card ending in {CARD_SUFFIX} {d.month:02d}/{d.day:02d}",
                      [0, 1, 1, 2, 3])
        web = self.digits(10)
        self.pay_card("amex", "amex-payment", "American Express", 18, "ACH_DEBIT",
                      lambda d: ("AUTOPAY PAYMENT RECEIVED - THANK YOU" if rng.random() < 0.75
                                 else "ONLINE PAYMENT - THANK YOU"),
                      lambda d: f"AMEX EPAYMENT    ACH PMT    {self.code(5)}        WEB ID: {web}",
                      [0, 0, 1])

    def pay_card(self, card: str, sid: str, issuer: str, day: int, checking_type: str,
                 card_text, checking_text, lags: list[int]):
        """Pay ``card``'s previous-month charges around ``day`` of each month (in the first
        month, what it owed when the history starts); the card leg (``card_text``) is credited
        ``lags`` days after the checking leg (``checking_text``)."""
        rng = self.rng
        m0 = date(self.start.year, self.start.month, 1)
        occ = []
        if START_BALANCE[card] < 0:
            occ.append((_next_business(m0 + timedelta(days=rng.randint(day, day + 4))),
                        START_BALANCE[card]))
        for i in range(1, self.months + 1):
            stmt_from = _add_months(m0, i - 1)
            stmt_to = _add_months(m0, i) - timedelta(days=1)
            bal = -sum(t.amount for t in self.txns if t.account == card
                       and stmt_from <= t.date <= stmt_to and t.btype != "Payment")
            if bal <= 0:
                continue
            pay = _next_business(_add_months(m0, i) + timedelta(days=rng.randint(day, day + 4)))
            occ.append((pay, -bal))
        entries = []

        def mk(d, a):
            xid = self.new_transfer()
            cd = min(self.end, d + timedelta(days=rng.choice(lags)))
            post = cd if card == "card" else None
            entries.append(Txn(card, cd, 11 * 60, -a, card_text(cd), issuer, "transfers",
                               btype="Payment", transfer_id=xid, post_date=post, stream_id=sid))
            return Txn("checking", d, 11 * 60, a, checking_text(d), issuer, "transfers",
                       btype=checking_type, transfer_id=xid)
        self.stream(sid, issuer, "checking", "transfers", "monthly", "variable", occ, mk)
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
        for t in self.txns:
            counters[t.account] += 1
            t.seq = counters[t.account]
            t.key = f"{KEY_PREFIX[t.account]}-{t.seq:06d}"
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
