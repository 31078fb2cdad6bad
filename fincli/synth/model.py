"""The household's fixed parts, shared by the other modules: accounts and currencies, the
categories, the everyday spending model per category and the merchant names it draws from, the
``Merchant`` and ``Txn`` records, and small calendar and amount helpers.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

CATEGORIES = [
    "groceries", "restaurants", "coffee", "fuel", "transport", "shopping", "online_shopping",
    "utilities", "phone", "subscriptions", "rent", "income", "health", "travel",
    "entertainment", "fees", "transfers", "cash", "household",
]

ACCOUNTS = ["checking", "card", "eurgiro", "savings", "amex"]
CURRENCY = {"checking": "USD", "card": "USD", "eurgiro": "EUR", "savings": "USD", "amex": "USD"}
LAYOUT = {"checking": "chase-checking", "card": "chase-card", "eurgiro": "ing-de-giro",
          "savings": "lloyds", "amex": "amex"}
# The Amex card was in use before the history: its last statement is paid in the first month.
START_BALANCE = {"checking": 6_215_37, "card": 0, "eurgiro": 3_180_45, "savings": 12_500_00,
                 "amex": -812_40}
KEY_PREFIX = {"checking": "chk", "card": "crd", "eurgiro": "eur", "savings": "sav", "amex": "amx"}
CREDIT_CARDS = ["card", "amex"]   # the Chase-style card and the American Express card

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
    "restaurants": ["DOORDASH", "UBER EATS", "CHIPOTLE", "PANERA BREAD", "SHAKE SHACK", "MOD PIZZA", "DICK'S DRIVE-IN",
                    "IVAR'S", "PAGLIACCI PIZZA", "DIN TAI FUNG", "MCDONALD'S", "TACO TIME"],
    "coffee": ["STARBUCKS", "PEET'S COFFEE", "BLUE BOTTLE COFFEE", "VIVACE", "ELM COFFEE",
               "CAFFE LADRO", "DUNKIN"],
    "fuel": ["SHELL OIL", "CHEVRON", "ARCO", "76 - TESORO", "COSTCO GAS"],
    "transport": ["UBER", "LYFT", "LIME", "KING COUNTY METRO", "SOUND TRANSIT", "PAYBYPHONE",
                  "SEA PARKING"],
    "shopping": ["TARGET", "REI", "IKEA", "BEST BUY", "HOME DEPOT", "UNIQLO", "NORDSTROM",
                 "WALGREENS", "CVS/PHARMACY", "BARNES & NOBLE", "TJ MAXX", "MACY'S"],
    "online_shopping": ["AMAZON", "ETSY", "EBAY", "WAYFAIR", "CHEWY", "ZAPPOS", "TEMU",
                        "APPLE STORE ONLINE", "NIKE.COM"],
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
    "transport": ["MVG Muenchen", "ShareNow", "Tier Mobility"],
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
# Towns visited now and then: a chain's store there prints another town (and sometimes country).
_AWAY = [("SAN FRANCISCO", "CA"), ("OAKLAND", "CA"), ("PORTLAND", "OR"), ("BEAVERTON", "OR"),
         ("SPOKANE", "WA"), ("LOS ANGELES", "CA"), ("BOISE", "ID")]
_EUR_CITIES = ["Muenchen", "Muenchen", "Muenchen", "Berlin", "Augsburg", "Freising"]
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

# Merchants always in the household's history (each has its own descriptor style), first in
# their category: the hard cases of merchant resolution.
_FORCED = {"online_shopping": ["AMAZON", "EBAY", "NIKE.COM"], "transport": ["UBER", "LYFT", "LIME"],
           "restaurants": ["DOORDASH", "UBER EATS"], "entertainment": ["TICKETMASTER"],
           "shopping": ["WALGREENS"]}
# The true merchant behind a printed base name, where it is not simply the name itself: one
# company, one merchant (Uber rides and Uber Eats are two merchants: see truth/README.md).
_IDENTITY = {"AMAZON": "Amazon", "WALGREENS PHARMACY": "Walgreens", "APPLE STORE ONLINE": "Apple",
             "COSTCO WHSE": "Costco", "COSTCO GAS": "Costco", "WHOLE FOODS MKT": "Whole Foods Market",
             "CVS/PHARMACY": "CVS", "76 - TESORO": "76", "UBER": "Uber", "UBER EATS": "Uber Eats",
             "DOORDASH": "DoorDash", "EBAY": "eBay", "NIKE.COM": "Nike", "TICKETMASTER": "Ticketmaster",
             "SHELL OIL": "Shell", "FRED-MEYER": "Fred Meyer", "TRADER JOE'S": "Trader Joe's"}
# Other spellings banks print for a base name (besides the name itself).
_ALIASES = {"WHOLE FOODS MKT": ["WHOLEFDS", "WHOLEFDS MKT", "WHOLE FOODS MARKET"],
            "TRADER JOE'S": ["TRADER JOE S", "TRADER JOES"], "76 - TESORO": ["76 -", "76"],
            "CVS/PHARMACY": ["CVS", "CVS PHARMACY"], "COSTCO WHSE": ["COSTCO WHOLESALE"],
            "COSTCO GAS": ["COSTCO GASOLINE", "COSTCO WHSE GAS"], "MCDONALD'S": ["MCDONALDS", "MCDONALD S"],
            "WALGREENS PHARMACY": ["WALGREENS", "WALGREENS RX"], "SHELL OIL": ["SHELL SERVICE STATION", "SHELL"],
            "HOME DEPOT": ["THE HOME DEPOT"], "STARBUCKS": ["STARBUCKS STORE", "STARBUCKS CORP"],
            "TARGET": ["TARGET T-", "TARGET.COM"], "FRED-MEYER": ["FRED MEYER", "FRED M"],
            "PEET'S COFFEE": ["PEETS COFFEE", "PEET S"], "APPLE STORE ONLINE": ["APPLE.COM/US", "APPLE ONLINE STORE"],
            "BARNES & NOBLE": ["BARNES &AMP; NOBLE", "B&N"]}
# Web merchants: where the card network says they are, and their phone number.
_WEB_HQ = {"NIKE.COM": ("BEAVERTON", "OR", "800-806-6453"), "ETSY": ("BROOKLYN", "NY", "718-880-3660"),
           "WAYFAIR": ("BOSTON", "MA", "844-475-4798"), "CHEWY": ("DANIA BEACH", "FL", "800-672-4399"),
           "ZAPPOS": ("LAS VEGAS", "NV", "800-927-7671"), "TEMU": ("BOSTON", "MA", "888-588-3368"),
           "APPLE STORE ONLINE": ("CUPERTINO", "CA", "800-676-2775")}
# What a DoorDash / Uber Eats order prints after the platform: the restaurant, not the merchant.
_DELIVERY_FROM = ["BURMASUPERST", "PAGLIACCIPIZZ", "MAMNOON", "TAQUERIAELSOL", "PHOBACTRUNG",
                  "SHAKESHACK", "THAITOM", "DINTAIFUNG", "HOTPOTHOUSE", "MODPIZZA"]
_TICKET_EVENTS = ["EILISH", "SEAHAWKS", "SOUNDERS FC", "TAYLOR SWIFT", "KRAKEN", "COLDPLAY",
                  "MARINERS", "HAMILTON"]
# People paid or paying by Zelle or Venmo from checking: each person is a merchant of their own
# (two Marias are two merchants).  (name, role, sender-bank prefix of an incoming Zelle)
_PEOPLE = [("Maria Lopez", "babysitter", "WFCT0"), ("John Smith", "friend", "WFCT0"),
           ("Sarah Johnson", "friend", "BACJ0"), ("David Kim", "friend", "CTI0"),
           ("Emily Chen", "friend", "USB0")]
# German online shops and services on the giro: (true merchant, category, rate per day,
# median euros, sigma, payee spellings, booking texts, share paid through PayPal)
_EUR_ONLINE = [
    ("Amazon", "online_shopping", 0.06, 29.0, 0.8,
     ["AMAZON EU S.A R.L., NIEDERLASSUNG DEUTSCHLAND", "Amazon Payments Europe S.C.A.", "AMAZON.DE"],
     ["Lastschrift", "Lastschrift", "Folgelastschrift"], 0.0),
    ("Deutsche Bahn", "transport", 0.035, 39.0, 0.7,
     ["DB Vertrieb GmbH", "Deutsche Bahn AG", "DB FERNVERKEHR AG"], ["Kartenzahlung", "Lastschrift"], 0.1),
    ("Lieferando", "restaurants", 0.05, 27.0, 0.4,
     ["Lieferando.de", "Takeaway.com Payments B.V.", "LIEFERANDO"], ["Kartenzahlung", "Lastschrift"], 0.2),
    ("Eventim", "entertainment", 0.012, 68.0, 0.5,
     ["CTS EVENTIM AG & Co. KGaA", "EVENTIM.DE"], ["Lastschrift", "Überweisung"], 0.3),
    ("Otto", "online_shopping", 0.012, 55.0, 0.7, ["OTTO GmbH & Co KG", "Otto (GmbH & Co KG)"],
     ["Lastschrift", "Überweisung"], 0.2),
    ("Thalia", "shopping", 0.015, 18.0, 0.5, ["Thalia Bücher GmbH", "THALIA.DE"], ["Kartenzahlung", "Lastschrift"],
     0.3),
    ("Zalando", "online_shopping", 0.018, 49.0, 0.6, ["Zalando SE", "ZALANDO PAYMENTS GMBH"],
     ["Lastschrift", "Folgelastschrift"], 0.4),
]
_EUR_PEOPLE = ["Lena Schmidt", "Thomas Weber"]      # friends paid back by Überweisung
_EUR_ALIASES = {"REWE Markt GmbH": ["REWE SAGT DANKE", "REWE Markt GmbH-Zw"], "EDEKA": ["EDEKA CENTER", "EDEKA Markt"],
                "ALDI SUED": ["ALDI SUED SAGT DANKE", "ALDI GMBH + CO. KG"], "Lidl Dienstleistung": ["LIDL SAGT DANKE", "Lidl"],
                "dm-drogerie markt": ["DM Drogeriemarkt", "DM FIL."], "Kaufland": ["KAUFLAND SAGT DANKE", "Kaufland Filiale"],
                "Tchibo": ["TCHIBO GMBH", "Tchibo Filiale"], "MediaMarkt": ["MEDIA MARKT", "MediaMarkt Online"]}


@dataclass
class Merchant:
    name: str                # raw base name as banks print it
    merchant: str            # the true merchant (truth column `merchant`), one per company
    category: str
    currency: str
    style: str
    median: int              # cents
    sigma: float
    card_share: float
    weight: float
    stores: list = field(default_factory=list)   # store numbers
    city: str = ""
    state: str = ""
    places: list = field(default_factory=list)   # (city, state) of each store, as `stores`
    aliases: list = field(default_factory=list)  # other spellings of `name` banks print
    prices: list = field(default_factory=list)   # fixed menu prices (coffee)
    card: str = "card"       # the credit card the household mostly uses here (CREDIT_CARDS)


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
    post_date: date | None = None    # card: Post Date; giro: Valuta (amex has none)
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
