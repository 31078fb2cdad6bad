"""The household's own surprises (``generate(..., surprises=True)``, ``--surprises``), for scoring
how fraud alerts learn from the user's feedback.

Every five to nine weeks the household makes a large, legitimate purchase at one of the two card
merchants it uses most (a bulk shop at the warehouse club, a new appliance): eight to twelve
times its usual charge there. A spike rule flags each one, and the user dismisses it. They are
drawn from their own ``random.Random`` seeded from the history's seed, after the rest of the
household (fraud included), so no other draw moves and a history without them is unchanged.
They are ordinary transactions in the truth files (no fraud kind).
"""

from __future__ import annotations

import random
from datetime import timedelta

from .model import Txn


def add_surprises(g, seed: int) -> int:
    """Add the surprises to ``g.txns``; return how many."""
    rng = random.Random(seed * 7_919 + 5)
    by_merchant: dict[str, list[Txn]] = {}
    for t in g.txns:
        if t.account == "card" and t.btype == "Sale" and not t.stream_id and not t.fraud_kind and t.amount < 0:
            by_merchant.setdefault(t.merchant, []).append(t)
    regular = sorted(by_merchant, key=lambda m: (-len(by_merchant[m]), m))[:2]
    added = 0
    day = g.start + timedelta(days=rng.randint(45, 75))
    while regular and day <= g.end:
        earlier = [t for t in by_merchant[rng.choice(regular)] if t.date < day]
        if len(earlier) >= 3:
            usual = sorted(-t.amount for t in earlier[-50:])[len(earlier[-50:]) // 2]
            ref = earlier[-1]
            t = Txn("card", day, rng.randrange(10 * 60, 20 * 60), -round(usual * rng.uniform(8.0, 12.0)),
                    ref.description, ref.merchant, ref.category, btype="Sale")
            t.post_date = min(day + timedelta(days=rng.choice((0, 0, 1))), g.end)
            g.add(t)
            added += 1
        day += timedelta(days=rng.randint(35, 63))
    return added
