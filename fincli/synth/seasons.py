"""Yearly seasonality and a slow price trend in everyday spending (``generate(..., seasonal=True)``,
``--seasonal``), for scoring the spending forecast.

Every everyday purchase (not a recurring stream, a transfer or fraud) in a category below has
its amount multiplied by that category's factor for its calendar month and by a trend of a few
percent a year since the history starts. The factors and trends are drawn from their own
``random.Random`` seeded from the history's seed, after the rest of the household is drawn, so
turning them on changes amounts only (no other draw moves), and a history without them is
unchanged. Utilities are a recurring stream whose amounts are already higher in winter.
"""

from __future__ import annotations

import random

# category -> {calendar month: factor}; months not named are 1.0. The seed scales each
# category's deviation from 1 by 0.8–1.2.
PROFILE: dict[str, dict[int, float]] = {
    "shopping":        {1: 0.8, 2: 0.85, 10: 1.05, 11: 1.3, 12: 1.7},
    "online_shopping": {1: 0.85, 2: 0.85, 11: 1.35, 12: 1.65},
    "restaurants":     {1: 0.85, 2: 0.9, 6: 1.05, 7: 1.1, 11: 1.1, 12: 1.4},
    "entertainment":   {1: 0.85, 7: 1.15, 8: 1.1, 12: 1.3},
    "groceries":       {1: 0.95, 11: 1.08, 12: 1.2},
    "travel":          {1: 0.6, 2: 0.7, 3: 0.85, 6: 1.3, 7: 1.6, 8: 1.5, 11: 0.8, 12: 1.25},
    "fuel":            {1: 0.9, 2: 0.9, 6: 1.15, 7: 1.25, 8: 1.2},
    "transport":       {1: 1.15, 2: 1.1, 7: 0.85, 8: 0.85, 12: 1.1},
    "coffee":          {1: 1.1, 2: 1.1, 7: 0.9, 8: 0.85, 12: 1.05},
    "health":          {1: 1.25, 2: 1.2, 3: 1.1, 7: 0.85, 8: 0.85},
    "household":       {3: 1.15, 4: 1.25, 5: 1.15, 12: 1.1},
}
TREND = (0.02, 0.05)          # yearly price rise, drawn per category


def factors(seed: int) -> dict[str, tuple[list[float], float]]:
    """category -> (factor for months 1..12, yearly trend), deterministic from the seed."""
    rng = random.Random(seed * 104_729 + 31)
    out = {}
    for cat, months in PROFILE.items():
        scale = rng.uniform(0.8, 1.2)
        out[cat] = ([1 + scale * (months.get(m, 1.0) - 1) for m in range(1, 13)], rng.uniform(*TREND))
    return out


def apply_seasons(g, seed: int) -> None:
    """Scale the amounts of the everyday purchases drawn so far; a card return keeps its purchase's factor."""
    table = factors(seed)
    previous = None                        # (txn, original amount, factor) of the last scaled row
    for t in g.txns:
        if t.category not in table or t.stream_id or t.transfer_id or t.fraud_kind:
            continue
        original = t.amount
        if (t.btype == "Return" and previous is not None and previous[0].merchant == t.merchant
                and previous[1] == -original):
            f = previous[2]
        else:
            months, trend = table[t.category]
            age = (t.date.year - g.start.year) * 12 + t.date.month - g.start.month
            f = months[t.date.month - 1] * (1 + trend) ** (age / 12)
        t.amount = round(original * f) or (1 if original > 0 else -1)
        if t.auth_amount is not None:      # a pending authorisation (before its tip) scales alike
            t.auth_amount = round(t.auth_amount * f) or t.amount
        previous = (t, original, f)
