"""summary: per-account totals of new transactions.

Rows: ``{"account": str, "date": "YYYY-MM-DD", "amount": int (minor units, negative is
money out), "currency": str}``. ``train`` returns, per (account, currency), the count,
the money in and the money out (both non-negative integers of minor units) and the date
range. There is no model, so there is nothing to predict.
"""

from __future__ import annotations


def train(rows: list, model_dir: str | None) -> dict:
    totals: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["account"], row["currency"])
        amount = row["amount"]
        if type(amount) is not int:
            raise TypeError(f"amount {amount!r} of a {row['account']} row is not an integer")
        entry = totals.get(key)
        if entry is None:
            entry = totals[key] = {"account": key[0], "currency": key[1], "count": 0,
                                   "money_in": 0, "money_out": 0,
                                   "first_date": row["date"], "last_date": row["date"]}
        entry["count"] += 1
        if amount >= 0:
            entry["money_in"] += amount
        else:
            entry["money_out"] -= amount
        entry["first_date"] = min(entry["first_date"], row["date"])
        entry["last_date"] = max(entry["last_date"], row["date"])
    return {"transactions": len(rows), "accounts": [totals[k] for k in sorted(totals)]}


if __name__ == "__main__":
    from service import serve

    serve(train, None)
