"""Month totals per effective category as of a knowledge cutoff: `category_monthly_totals`.

A transaction's effective category at cutoff c is its latest label with seq <= c, else the
category of its latest categorization item after its import with seq <= c (an item without
one leaves it uncategorized), else none. Rows count when visible at c, not pending, and not
a side of a transfer in force at c. The split between spent and income is defined here and
is the spending report's rule too (fincli/services/spending.py), so as of the log head these
totals equal the report's from the `transactions` projection.
"""

from __future__ import annotations

import sqlite3

INCOME = "income"
UNCATEGORIZED = "uncategorized"
# a row is income when its category is `income`, or it is an uncategorized credit; every other row is
# spending (so a refund lowers its own category)
IS_INCOME = "(coalesce(category, '') = 'income' OR (category IS NULL AND amount > 0))"


def category_month_totals(conn: sqlite3.Connection, cutoff: int) -> list[tuple[str, str, str, int, int]]:
    """(currency, month, category, spent, income) in minor units, ordered, as of log position `cutoff`."""
    # a categorization or transfer recorded before the row's import (an id back after an undo) is not its own
    return conn.execute(
        "WITH labelled AS (SELECT id, category, max(seq) FROM feature_labels WHERE seq <= :c GROUP BY id),"
        " counted AS MATERIALIZED (SELECT t.currency, substr(t.date, 1, 7) AS month, t.amount,"
        "   coalesce(l.category, (SELECT k.category FROM feature_categorizations k WHERE k.id = t.id"
        "     AND k.seq > t.seq AND k.seq <= :c ORDER BY k.seq DESC, k.item DESC LIMIT 1)) AS category"
        "  FROM feature_txns t LEFT JOIN labelled l ON l.id = t.id"
        "  WHERE t.visible_from <= :c AND coalesce(t.visible_until, :c + 1) > :c AND t.pending = 0"
        "   AND NOT EXISTS (SELECT 1 FROM feature_transfers x WHERE (x.out_id = t.id OR x.in_id = t.id)"
        "     AND x.seq > t.seq AND x.seq <= :c AND coalesce(x.ended, :c + 1) > :c))"
        f" SELECT currency, month, coalesce(category, :none),"
        f" sum(CASE WHEN {IS_INCOME} THEN 0 ELSE -amount END), sum(CASE WHEN {IS_INCOME} THEN amount ELSE 0 END)"
        " FROM counted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", {"c": cutoff, "none": UNCATEGORIZED}).fetchall()
