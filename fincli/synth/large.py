"""One big Chase-style checking export, written fast, for benchmarks and import tests."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from .household import _Gen
from .model import _CAT_MODEL


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
