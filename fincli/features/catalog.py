"""The feature catalogue: every feature fin computes, defined once.

Each feature has a name, an entity (transaction, merchant, account, category), an owner
service, a description and one definition. The definition text is the contract the
computation in `pit.py` implements; its hash goes into every training-set manifest, so a
changed definition is visible in the manifest.

Shared terms used by the definitions:
- position of an event: (occurred_at date, seq). "Before the anchor" means strictly
  smaller position; the anchor transaction itself is never part of its own history.
- visible at cutoff c: a transaction event with seq <= c that was not retracted by an
  event with seq <= c (import.undone, or a posted row replacing the pending one).
- window of w days at anchor date t: visible events before the anchor with date >= t - w
  days (half-open [t - w, t) in position order; same-day earlier events are inside).
- history is per merchant within one currency and per account within one currency.
- a charge is an amount < 0 (money leaving the account holder); money is in minor units.
- merchant: fincli.merchant.resolve(description, payee).key with the user's corrections in
  force (splits, then merges; fincli.merchant.corrections). The hash of a feature that uses
  the merchant includes the resolver's fingerprint and, where given, the corrections' digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

ENTITIES = ("transaction", "merchant", "account", "category")
OWNERS = ("categorize", "fraud", "spending", "bills")
SMALL_CHARGE = "2.00"           # "small" charges: under this many major units of the currency
GAP_CHARGES = 13                # typical interval: median of the gaps between the last 13 charges
WINDOWS = (7, 30, 90)


@dataclass(frozen=True)
class Feature:
    name: str
    entity: str
    owner: str
    dtype: str                  # str | int | float | json
    description: str
    definition: str

    @property
    def uses_merchant(self) -> bool:
        return self.name == "merchant" or self.entity == "merchant"

    @property
    def hash(self) -> str:
        return self.hash_with()

    def hash_with(self, corrections: str = "none") -> str:
        """The definition's hash; a merchant feature's also names the resolver and the corrections in force."""
        parts = (self.name, self.entity, self.dtype, self.definition)
        if self.uses_merchant:
            parts += (_resolver(), corrections)
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@cache
def _resolver() -> str:
    from ..merchant import fingerprint

    return fingerprint()


def _f(name, entity, owner, dtype, description, definition) -> Feature:
    return Feature(name, entity, owner, dtype, description, definition)


FEATURES: list[Feature] = [
    _f("merchant", "transaction", "categorize", "str", "merchant key (resolved, with the user's corrections)",
       "the merchant of the anchor transaction (see merchant above)"),
    _f("description_tokens", "transaction", "categorize", "str", "words of the bank description",
       "lower-cased runs of 2+ letters of the anchor's description, in order, joined by one space"),
    _f("amount", "transaction", "fraud", "int", "signed amount in minor units",
       "the anchor's amount in minor units of its currency (negative = money out)"),
    _f("sign", "transaction", "fraud", "int", "-1 money out, 1 money in, 0 zero",
       "sign(amount) of the anchor"),
    _f("day_of_week", "transaction", "spending", "int", "0 = Monday … 6 = Sunday",
       "weekday of the anchor's date"),
    _f("day_of_month", "transaction", "bills", "int", "1 … 31", "day of month of the anchor's date"),
    _f("currency", "transaction", "categorize", "str", "ISO currency code", "the anchor's currency"),
    _f("bank_category", "transaction", "categorize", "str", "the bank's own category, where the export has one",
       "the anchor's bank category column as exported (null when the layout has none)"),
    _f("merchant_count", "merchant", "fraud", "int", "transactions at this merchant before",
       "number of visible transactions of the same merchant and currency before the anchor"),
    _f("merchant_mean_amount", "merchant", "fraud", "float", "mean amount at this merchant before",
       "mean of their amounts in minor units, rounded to 4 decimals; null when the count is 0"),
    _f("merchant_std_amount", "merchant", "fraud", "float", "spread of amounts at this merchant before",
       "population standard deviation of their amounts, rounded to 4 decimals; null when the count is 0"),
    _f("merchant_days_since_last", "merchant", "bills", "int", "days since the previous transaction there",
       "anchor date minus the date of the latest of them, in days; null when the count is 0"),
    _f("merchant_median_gap_days", "merchant", "bills", "float", "typical interval between charges",
       f"median of the day gaps between consecutive ones of the last {GAP_CHARGES} of them "
       "(in position order); null when fewer than 2"),
    *[_f(f"account_spend_{w}d", "account", "spending", "int", f"money spent from the account in the last {w} days",
         f"sum of -amount over visible charges of the same account and currency in the {w}-day window")
      for w in WINDOWS],
    _f("account_charges_1d", "account", "fraud", "int", "charges on the account in the last day",
       "number of visible charges of the same account and currency in the 1-day window"),
    _f("account_small_charges_1d", "account", "fraud", "int", f"charges under {SMALL_CHARGE} in the last day",
       f"number of those charges with -amount below {SMALL_CHARGE} in minor units of the currency"),
    _f("category_monthly_totals", "category", "spending", "json",
       "spending per month, last 12 months (income for the category income)",
       "per currency, 12 totals (oldest first) for the 12 calendar months before the as-of month, over "
       "visible transactions that are not pending and not a side of a transfer (a transfer.matched with "
       "seq <= the cutoff, not ended by an import.undone with seq <= the cutoff) whose effective category "
       "is this one: its latest label with seq <= the cutoff, else the category of its latest "
       "transactions.categorized item after its import with seq <= the cutoff (an item with none "
       "leaves it uncategorized), else uncategorized; a category renamed or merged after a use carries "
       "the new name. A row is income when its category is income or it is an uncategorized credit; "
       "the total is the spent -amount over the other rows, for the category income the sum of amount"),
]
# The fraud signals (computed by signals.py, as of the anchor's cutoff like every history feature;
# "charge" = -amount of a charge, else 0; "recent" = at most 3 days before the anchor's date).
FRAUD_SIGNALS: list[Feature] = [
    _f("merchant_median", "merchant", "fraud", "float", "median charge at this merchant before",
       "median of the last 50 charges of the same merchant and currency before the anchor; null when none"),
    _f("merchant_ratio", "merchant", "fraud", "float", "this charge over the merchant's median",
       "charge / merchant_median, rounded to 4 decimals; null when there is no median"),
    _f("merchant_robust_z", "merchant", "fraud", "float", "robust z-score of the charge at this merchant",
       "(charge - median) / max(0.7413 × interquartile range of those 50, 0.1 × median, 100 minor units)"),
    _f("merchant_repeat_rate", "merchant", "fraud", "float", "how often a charge there repeats within 3 days",
       "share of the merchant's earlier charges with an equal charge among the 5 before it, at most 3 days earlier"),
    _f("same_charge_recent", "merchant", "fraud", "int", "equal charges at this merchant in the last 3 days",
       "number of earlier charges of the same merchant with the same amount, at most 3 days before"),
    _f("account_p95_charge", "account", "fraud", "float", "the account's usual large charge",
       "95th percentile (nearest rank) of the account's charges in the last 120 days; null when none"),
    _f("account_daily_p95", "account", "fraud", "float", "charges on the account's busy days",
       "95th percentile of charges per active day over the last 120 days, days before the anchor's"),
    _f("charges_today", "account", "fraud", "int", "charges on the anchor's day so far, itself included",
       "1 + earlier charges of the account on the anchor's date (0 when the anchor is not a charge)"),
    _f("small_new_1d", "account", "fraud", "int", "small charges at never-used merchants in the last day",
       f"charges under {SMALL_CHARGE} since the day before at merchants with no charge of {SMALL_CHARGE} or more "
       "before that day, "
       "the anchor included when it is one"),
    _f("country_share", "account", "fraud", "float", "how often the account sees the charge's country",
       "share of the account's transactions of the last 365 days whose description ends with the same "
       "foreign country code; null when the description names no foreign country"),
    _f("currency_share", "account", "fraud", "float", "how often the account sees the charge's currency",
       "share of the account's transactions (in every currency) of the last 365 days in the anchor's currency; "
       "null when the account has fewer than 20 such transactions"),
    _f("fx_fee", "account", "fraud", "int", "a foreign-transaction fee line",
       "1 when the description names a foreign-transaction fee (FOREIGN TRANSACTION FEE, FX FEE, Auslandseinsatzentgelt, "
       "Fremdwährungsgebühr, NON-STERLING, INTL TRANSACTION FEE, ...), else 0"),
]
FEATURES += FRAUD_SIGNALS
BY_NAME = {f.name: f for f in FEATURES}
# The features of a training or online row: everything anchored to one transaction (the fraud signals
# have their own path, signals.py).
ROW_FEATURES = [f for f in FEATURES if f.entity != "category" and f not in FRAUD_SIGNALS]


def definition_hashes(features: list[Feature] = FEATURES, corrections: str = "none") -> dict[str, str]:
    """Each feature's hash; `corrections` is the digest of the merchant corrections in force."""
    return {f.name: f.hash_with(corrections) for f in features}
