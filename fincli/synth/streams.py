"""More recurring streams, for scoring bill detection: every frequency, cancellations, price changes
and variable amounts (``generate(..., all_frequencies=True)``, ``--all-frequencies``), and the
biweekly streams real users have: pay moved to the business day before a weekend or a bank
holiday, and a bill whose amount varies by more than a few percent.

They draw from their own ``random.Random`` (seeded from the history's seed), so turning them on
leaves the rest of the history as it was, and a history without them is unchanged.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from .model import Txn, _add_months, _month_day, _next_business, _prev_business


def _monthly(g, every: int, rule, first: int = 0) -> list[date]:
    m0 = date(g.start.year, g.start.month, 1)
    return [rule(_add_months(m0, i)) for i in range(first, g.months + 14, every)]


def _every(g, start: date, days: int) -> list[date]:
    out, d = [], start
    while d <= g.end + timedelta(days=400):
        out.append(d)
        d += timedelta(days=days)
    return out


def add_streams(g, seed: int) -> None:
    """Biweekly, semi-monthly, semi-annual, quarterly-variable, monthly-stepped and cancelled streams."""
    rng = random.Random(seed * 7919 + 17)
    span = (g.end - g.start).days

    def ach(account, text, merchant, category, kind="ACH_DEBIT"):
        return lambda d, a: Txn(account, d, 9 * 60, a, text(d), merchant, category, btype=kind)

    def card(account, text, merchant, category):
        return lambda d, a: Txn(account, d, 5 * 60, a, text(d), merchant, category, btype="Sale",
                                post_date=d if account == "card" else None)

    # biweekly pay from a second job, every other Friday
    first = g.start + timedelta(days=(4 - g.start.weekday()) % 7 + 7 * rng.randrange(2))
    pay = rng.randrange(1_100_00, 1_600_00, 100)
    ppd = "".join(rng.choice("0123456789") for _ in range(10))
    g.stream("side-job", "Brightpath Staffing", "checking", "income", "biweekly", "fixed",
             [(d, pay) for d in _every(g, first, 14)],
             ach("checking", lambda d: f"BRIGHTPATH STAFFING PAYROLL   PPD ID: {ppd}", "Brightpath Staffing",
                 "income", "ACH_CREDIT"))
    # day care on the 1st and the 15th, moved to the next business day
    fee = rng.choice([450_00, 520_00, 610_00])
    dates = sorted(d for m in _monthly(g, 1, lambda f: f)
                   for d in (_next_business(m), _next_business(_month_day(m.year, m.month, 15))))
    g.stream("daycare", "Little Sprouts Daycare", "checking", "childcare", "semimonthly", "fixed",
             [(d, -fee) for d in dates],
             ach("checking", lambda d: "LITTLE SPROUTS DAYCARE TUITION  WEB ID: 4455667788",
                 "Little Sprouts Daycare", "childcare"))
    # car insurance every six months, dearer after the first year
    m1 = rng.randrange(6)
    base = rng.randrange(380_00, 520_00, 100)
    occ = [(d, -(base if d < g.start + timedelta(days=365) else base + 37_00))
           for d in _monthly(g, 6, lambda f: _next_business(_month_day(f.year, f.month, 20)), m1)]
    g.stream("car-insurance", "Geico", "checking", "insurance", "semiannual", "stepped", occ,
             ach("checking", lambda d: "GEICO AUTO INS PREM          PPD ID: 9912345678", "Geico", "insurance"))
    # water and sewer, quarterly on the last business day, variable with the season
    water = rng.randrange(140_00, 220_00)
    occ = [(d, -round(water * (1 + 0.3 * math.sin(2 * math.pi * d.month / 12)) * rng.lognormvariate(0, 0.06)))
           for d in _monthly(g, 3, lambda f: _prev_business(_month_day(f.year, f.month, 31)), rng.randrange(3))]
    g.stream("water", "Seattle Public Utilities", "checking", "utilities", "quarterly", "variable", occ,
             ach("checking", lambda d: "SEATTLE PUBLIC UTIL BILLPAY   WEB ID: 1234567890",
                 "Seattle Public Utilities", "utilities"))
    # a streaming service whose price rises partway, on the Amex
    day = rng.randint(2, 26)
    bump = g.start + timedelta(days=int(span * rng.uniform(0.3, 0.7)))
    g.stream("disney", "Disney Plus", "amex", "subscriptions", "monthly", "stepped",
             [(d, -(10_99 if d < bump else 13_99)) for d in _monthly(g, 1, lambda f: _month_day(f.year, f.month, day))],
             card("amex", lambda d: "DISNEY PLUS 888-905-7888 CA", "Disney Plus", "subscriptions"))
    # a meal kit every week, cancelled partway
    first = g.start + timedelta(days=rng.randrange(7))
    cancel = g.start + timedelta(days=int(span * rng.uniform(0.5, 0.8)))
    g.stream("mealkit", "HelloFresh", "card", "groceries", "weekly", "fixed",
             [(d, -69_99) for d in _every(g, first, 7)],
             card("card", lambda d: "HELLOFRESH 646-846-3663 NY", "HelloFresh", "groceries"), cancelled=cancel)
    # a language app, monthly, cancelled partway
    day = rng.randint(2, 26)
    cancel = g.start + timedelta(days=int(span * rng.uniform(0.4, 0.8)))
    g.stream("duolingo", "Duolingo", "card", "subscriptions", "monthly", "fixed",
             [(d, -12_99) for d in _monthly(g, 1, lambda f: _month_day(f.year, f.month, day))],
             card("card", lambda d: "DUOLINGO PITTSBURGH PA", "Duolingo", "subscriptions"), cancelled=cancel)
    # a warehouse club's yearly membership
    d0 = g.start + timedelta(days=rng.randrange(20, 200))
    g.stream("costco", "Costco", "card", "shopping", "yearly", "fixed",
             [(date(d0.year + k, d0.month, min(d0.day, 28)), -65_00) for k in range(g.months // 12 + 3)],
             card("card", lambda d: "COSTCO *ANNUAL RENEWAL 800-774-2678 WA", "Costco", "shopping"))
    add_biweekly_streams(g, seed)


def us_holidays(year: int) -> set[date]:
    """US federal bank holidays (their fixed dates as they fall; Saturday ones are not moved)."""
    def nth(month: int, weekday: int, n: int) -> date:        # n-th weekday of the month (n = -1: the last)
        if n > 0:
            d = date(year, month, 1)
            return d + timedelta(days=(weekday - d.weekday()) % 7 + 7 * (n - 1))
        d = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
        return d - timedelta(days=(d.weekday() - weekday) % 7)

    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    moved = [d + timedelta(days=1) if d.weekday() == 6 else d for d in fixed]       # Sunday: observed Monday
    return set(moved) | {nth(1, 0, 3), nth(2, 0, 3), nth(5, 0, -1), nth(9, 0, 1), nth(10, 0, 2), nth(11, 3, 4)}


def _business_day_before(d: date) -> date:
    """d, or the business day before it when d is a weekend day or a bank holiday."""
    while d.weekday() >= 5 or d in us_holidays(d.year):
        d -= timedelta(days=1)
    return d


def add_biweekly_streams(g, seed: int) -> None:
    """Biweekly pay every other Monday, paid the business day before when Monday is a bank holiday
    (three days early, a gap of 11 then 17 days); and a cleaning service billed every other
    Wednesday for the hours worked (amounts vary well beyond ±7.5%)."""
    rng = random.Random(seed * 6151 + 29)
    first = g.start + timedelta(days=(0 - g.start.weekday()) % 7 + 7 * rng.randrange(2))
    pay = rng.randrange(900_00, 1_400_00, 100)
    ppd = "".join(rng.choice("0123456789") for _ in range(10))
    g.stream("weekend-job", "Harborview Events", "checking", "income", "biweekly", "fixed",
             [(_business_day_before(d), pay) for d in _every(g, first, 14)],
             lambda d, a: Txn("checking", d, 6 * 60, a, f"HARBORVIEW EVENTS PAYROLL   PPD ID: {ppd}",
                              "Harborview Events", "income", btype="ACH_CREDIT"))
    first = g.start + timedelta(days=(2 - g.start.weekday()) % 7 + 7 * rng.randrange(2))
    rate = rng.choice([38_00, 42_00, 45_00])
    occ = [(d, -int(round(rate * rng.uniform(2.0, 4.5), -2))) for d in _every(g, first, 14)]   # whole dollars
    g.stream("cleaning", "Sparkle Home Cleaning", "checking", "household", "biweekly", "variable", occ,
             lambda d, a: Txn("checking", d, 10 * 60, a, "SPARKLE HOME CLEANING WEB ID: 5566778899",
                              "Sparkle Home Cleaning", "household", btype="ACH_DEBIT"))
