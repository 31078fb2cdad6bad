"""categorize: a category and a calibrated confidence for each transaction.

Rows carry the feature-store row features (``merchant``, ``description_tokens``,
``amount``, ``sign``, ``currency``, ...) and, for training, a ``label``. Seed rows
(``"seed": true``) are the shipped cold-start list: text only, no amount.

Model: sublinear TF-IDF of the description's words and word pairs, of the whole merchant
name and of the merchant's character 3–5-grams (each of the three groups L2-normalized on
its own), plus one-hot amount features (sign, sign × log2-magnitude bin, currency; none
for seeds), into a multinomial logistic regression.

Confidence is calibrated by temperature scaling with two temperatures, one for merchants
the user has labelled and one for merchants they have not (those lean on seeds and shared
words, and are wrong more often): see `_calibrate`.

Seeds weigh ``SEED_WEIGHT`` (as much as one user label each): enough to name a merchant
nobody has labelled yet; the user's own labels of a merchant outvote its seed, and the
many words and n-grams a user's merchant shares with no seed are learnt from the user only.

The features are computed here rather than by scikit-learn's vectorizers so that predict
needs only numpy and scipy (importing scikit-learn alone takes about a second), and
per distinct description and per distinct merchant rather than per row: the model is
linear, so their logits add up.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")     # each BLAS thread reserves address space under RLIMIT_AS

MODEL_FILE = "model.npz"     # arrays and JSON (models/service.py save_model): loading it runs no code
FORMAT = 2
SEED_WEIGHT = 1.0
BANK_SEED_WEIGHT = 10.0     # a bank-category seed (one row says all that bank category means) weighs as ten labels
C = 10.0                    # inverse regularization strength of the logistic regression
TOL = 1e-3                  # optimizer tolerance: 1e-4 takes 2.3x as long on 50k labels, for accuracy within a point
HOLDOUT = 0.2               # share of merchants, then of labels, held out to fit the temperatures
MIN_HOLDOUT = 10            # fewer held-out labels than this in a group: no temperature of its own
TEMPERATURES = (0.5, 5.0)   # searched range: a small, all-correct held-out set must not drive T to 0
CHAR_NGRAMS = (3, 5)
BINS = 16                   # log2 bins of the amount in major units (0 = under 1)
AMOUNT_SCALE = 0.3          # value of an amount one-hot: the words should speak first
BANK_SCALE = 1.0            # value of the bank's category: as strong as a word group, it names a merchant no seed does
_WORD = re.compile(r"[^\W\d_]{2,}")
UNNAMED = "\x1f"           # prefix of a seed category the user has no name for (never a user's name)
NAMED_AT = 0.9             # a seed category takes the user's name with this much of a vote (one merchant, 90% sure) ...
NAMED_SHARE = 0.5          # ... and at least half of them


# --- features --------------------------------------------------------------------------

def _word_features(tokens: str) -> list[str]:
    words = tokens.split()
    return ["w" + w for w in words] + ["w" + a + " " + b for a, b in zip(words, words[1:])]


def _merchant_features(merchant: str) -> list[str]:
    """The whole name ("m" group) and character n-grams of its words ("c" group)."""
    if not merchant:
        return []
    out = ["m" + merchant]
    lo, hi = CHAR_NGRAMS
    for word in _WORD.findall(merchant):
        padded = f" {word} "
        for n in range(lo, hi + 1):
            out += ["c" + padded[i:i + n] for i in range(len(padded) - n + 1)]
    return out


def _tokens(row: dict) -> str:
    return row.get("description_tokens") or ""


def _merchant(row: dict) -> str:
    return (row.get("merchant") or "").lower()


def _amount_features(row: dict) -> list[str]:
    """The bank's category, sign, sign × magnitude bin and currency; a seed has no amount, and only a
    bank-category seed (data/seeds/bank_categories.csv) has the first."""
    out = ["b" + " ".join(row["bank_category"].lower().split())] if row.get("bank_category") else []
    amount = row.get("amount")
    if amount is None:
        return out
    sign = (amount > 0) - (amount < 0)
    major = abs(amount) / 100
    bin_ = 0 if major < 1 else min(BINS - 1, 1 + int(math.log2(major)))
    out += [f"s{sign}", f"a{sign}:{bin_}"]
    if row.get("currency"):
        out.append(f"${row['currency']}")
    return out


_PARTS = ((_tokens, _word_features), (_merchant, _merchant_features))


class _Space:
    """Feature names (text first, then amount) and the idf of the text features."""

    def __init__(self, rows: list[dict]):
        import numpy as np

        idf = {}
        for key, featurize in _PARTS:        # idf over distinct descriptions, distinct merchants
            texts = {key(r) for r in rows}
            df = Counter(f for text in texts for f in set(featurize(text)))
            idf.update({f: math.log((1 + len(texts)) / (1 + n)) + 1 for f, n in df.items()})
        names = sorted(idf)
        self.vocab = {name: i for i, name in enumerate(names)}
        self.idf = np.array([idf[name] for name in names])
        amounts = sorted({f for r in rows for f in _amount_features(r)})
        self.amount = {name: len(names) + i for i, name in enumerate(amounts)}

    @classmethod
    def restore(cls, state: dict) -> "_Space":
        space = cls.__new__(cls)
        space.vocab, space.idf, space.amount = state["vocab"], state["idf"], state["amount"]
        return space

    def state(self) -> dict:
        return {"vocab": self.vocab, "idf": self.idf, "amount": self.amount}

    @property
    def size(self) -> int:
        return len(self.vocab) + len(self.amount)

    def text_matrix(self, texts: list[str], featurize):
        """Sublinear TF-IDF of texts, each feature group (first letter) L2-normalized on its own."""
        import numpy as np
        import scipy.sparse as sp

        vocab, idf = self.vocab, self.idf
        indptr, indices, values = [0], [], []
        for text in texts:
            entries, norms = [], defaultdict(float)
            for name, tf in Counter(featurize(text)).items():
                j = vocab.get(name)
                if j is not None:
                    v = (1 + math.log(tf)) * idf[j]
                    entries.append((j, v, name[0]))
                    norms[name[0]] += v * v
            indices += [j for j, _, _ in entries]
            values += [v / math.sqrt(norms[g]) for _, v, g in entries]
            indptr.append(len(indices))
        return sp.csr_matrix((np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64),
                              np.array(indptr, dtype=np.int64)), shape=(len(texts), self.size))

    def amount_matrix(self, rows: list[dict]):
        import numpy as np
        import scipy.sparse as sp

        amount = self.amount
        indptr, indices, values = [0], [], []
        for row in rows:
            names = [name for name in _amount_features(row) if name in amount]
            indices += [amount[name] for name in names]
            values += [BANK_SCALE if name[0] == "b" else AMOUNT_SCALE for name in names]
            indptr.append(len(indices))
        return sp.csr_matrix((np.array(values, dtype=np.float64), np.array(indices, dtype=np.int64),
                              np.array(indptr, dtype=np.int64)), shape=(len(rows), self.size))

    def parts(self, rows: list[dict]):
        """[(matrix over distinct values, row -> matrix row)] for words, merchant and amount."""
        import numpy as np

        out = []
        for key, featurize in _PARTS:
            where: dict = {}
            index = np.array([where.setdefault(key(r), len(where)) for r in rows], dtype=np.int64)
            out.append((self.text_matrix(list(where), featurize), index))
        out.append((self.amount_matrix(rows), np.arange(len(rows))))
        return out

    def design(self, rows: list[dict]):
        """The feature matrix, one row per row."""
        parts = self.parts(rows)
        X = parts[0][0][parts[0][1]]
        for matrix, index in parts[1:]:
            X = X + matrix[index]            # the parts use disjoint columns
        return X.tocsr()


# --- fitting ---------------------------------------------------------------------------

def _check_rows(rows: list, need_label: bool) -> None:
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"row {i} is not an object")
        if need_label and not (isinstance(row.get("label"), str) and row["label"]):
            raise ValueError(f"row {i} has no label")


def _softmax(z):
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logits(model: dict, rows: list[dict]):
    """Class scores per row: computed per distinct description and merchant, then summed."""
    import numpy as np

    space = _Space.restore(model["space"])
    coef = model["coef"]
    z = np.zeros((len(rows), coef.shape[1])) + model["intercept"]
    for matrix, index in space.parts(rows):
        z += (matrix @ coef)[index]
    return z


def _fit(rows: list, y: list[str], weights) -> dict:
    """A multinomial logistic regression on rows.

    Rows alike in every feature and label are fitted once with their summed weight.
    A single class gives a model without coefficients.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    merged: dict = {}
    for row, label, weight in zip(rows, y, weights):
        key = (_tokens(row), _merchant(row), tuple(_amount_features(row)), label)
        if key in merged:
            merged[key][1] += weight
        else:
            merged[key] = [row, weight]
    keys = sorted(merged)                   # the same rows in any order give the same model
    rows = [merged[k][0] for k in keys]
    space = _Space(rows)
    classes = sorted(set(y))
    if len(classes) < 2:
        return {"space": space.state(), "classes": classes, "coef": None, "intercept": None}
    lr = LogisticRegression(C=C, max_iter=1000, tol=TOL, random_state=0)
    lr.fit(space.design(rows), [k[3] for k in keys], sample_weight=np.array([merged[k][1] for k in keys]))
    coef, intercept = lr.coef_, lr.intercept_
    if len(classes) == 2:                   # binary: scikit-learn keeps one row; make it two
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    return {"space": space.state(), "classes": [str(c) for c in lr.classes_],
            "coef": np.ascontiguousarray(coef.T), "intercept": intercept.copy()}


def _fit_temperature(z, truth) -> float:
    """The temperature minimizing the log-loss of softmax(z / T) on held-out rows (grid search)."""
    import numpy as np

    best, best_loss = 1.0, math.inf
    lo, hi = TEMPERATURES
    for t in np.exp(np.linspace(math.log(lo), math.log(hi), 121)):
        p = _softmax(z / t)[np.arange(len(truth)), truth]
        loss = -np.log(np.maximum(p, 1e-12)).mean()
        if loss < best_loss - 1e-12:
            best, best_loss = float(t), float(loss)
    return best


def _bins(confidence, correct, edges=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0)) -> list[dict]:
    out = []
    for lo, hi in zip(edges, edges[1:]):
        inside = (confidence >= lo) & ((confidence < hi) | (hi == 1.0))
        if inside.any():
            out.append({"from": lo, "to": hi, "rows": int(inside.sum()),
                        "mean_confidence": round(float(confidence[inside].mean()), 4),
                        "accuracy": round(float(correct[inside].mean()), 4)})
    return out


def _calibrate(rows: list, y: list[str], weights, user: list[int]) -> dict:
    """Temperatures and their check for "known" and "new" merchants.

    A model is fitted without 20% of the user's merchants and 20% of the remaining labels.
    The held-out labels of merchants it has seen fit the known temperature; those of the
    merchants it has not, the new one. Too few of the latter (the user has labelled a few
    merchants in full): the new temperature is the seed list's (`_seed_calibration`), which
    measures merchants a model has not seen. A known group with too few rows takes the new
    temperature, and a new merchant is never more certain than a known one.
    """
    import numpy as np

    out: dict = {"method": "temperature scaling on held-out labels, known vs new merchants",
                 "known": {"temperature": 1.0, "rows": 0}, "new": {"temperature": 1.0, "rows": 0}}
    rng = np.random.RandomState(0)
    merchants = sorted({_merchant(rows[i]) for i in user})
    away = {merchants[k] for k in rng.permutation(len(merchants))[:int(len(merchants) * HOLDOUT)]}
    rest = [i for i in user if _merchant(rows[i]) not in away]
    held = {rest[k] for k in rng.permutation(len(rest))[:int(len(rest) * HOLDOUT)]}
    held |= {i for i in user if _merchant(rows[i]) in away}
    fit = [i for i in range(len(rows)) if i not in held]
    held = sorted(held)
    model = None
    if len(held) >= MIN_HOLDOUT:
        model = _fit([rows[i] for i in fit], [y[i] for i in fit], weights[fit])
    if model is None or model["coef"] is None:
        return _seed_calibration(rows, y, weights, out)
    seen = {_merchant(rows[i]) for i in set(fit) & set(user)}
    index = {c: k for k, c in enumerate(model["classes"])}
    z = _logits(model, [rows[i] for i in held])
    truth = np.array([index.get(y[i], -1) for i in held])
    is_known = np.array([_merchant(rows[i]) in seen for i in held])
    for name, part in (("known", is_known), ("new", ~is_known)):
        usable = part & (truth >= 0)        # a label the held-out model never saw cannot be scored
        if usable.sum() < MIN_HOLDOUT:
            continue
        t = _fit_temperature(z[usable], truth[usable])
        p = _softmax(z[part] / t)
        confidence, correct = p.max(axis=1), p.argmax(axis=1) == truth[part]
        out[name] = {"temperature": round(t, 4), "rows": int(part.sum()),
                     "accuracy": round(float(correct.mean()), 4),
                     "mean_confidence_before": round(float(_softmax(z[part]).max(axis=1).mean()), 4),
                     "mean_confidence_after": round(float(confidence.mean()), 4),
                     "bins": _bins(confidence, correct)}
    if "bins" not in out["new"]:       # too few held-out labels of unseen merchants: the seed list's check of them
        seed = _seed_calibration(rows, y, weights, {"known": {}, "new": {}})["new"]
        if "bins" in seed:
            out["new"] = {**seed, "from": "held-out seed merchants"}
    known, new = out["known"], out["new"]
    if "bins" not in known:
        known["temperature"] = new["temperature"]
    new["temperature"] = max(new["temperature"], known["temperature"])
    return out


def _seed_calibration(rows: list, y: list[str], weights, out: dict) -> dict:
    """Before the user has given enough labels to calibrate on, one temperature from the seed list itself.

    A model is fitted without 20% of the seed list's merchants; the temperature that fits its
    answers for them (merchants it has never seen, named by shared words and n-grams alone)
    is the temperature of every merchant. Without it a model of seeds alone spreads its
    probability over the categories and sends even a merchant the list names to review.
    """
    import numpy as np

    seeds = [i for i, r in enumerate(rows) if r.get("seed") and _merchant(r)]
    merchants = sorted({_merchant(rows[i]) for i in seeds})
    rng = np.random.RandomState(0)
    away = {merchants[k] for k in rng.permutation(len(merchants))[:int(len(merchants) * HOLDOUT)]}
    held = [i for i in seeds if _merchant(rows[i]) in away]
    fit = [i for i in range(len(rows)) if _merchant(rows[i]) not in away or not rows[i].get("seed")]
    if len(held) < MIN_HOLDOUT or len({y[i] for i in fit}) < 2:
        return out
    model = _fit([rows[i] for i in fit], [y[i] for i in fit], weights[fit])
    index = {c: k for k, c in enumerate(model["classes"])}
    truth = np.array([index.get(y[i], -1) for i in held])
    usable = truth >= 0
    z = _logits(model, [rows[i] for i in held])[usable]
    t = _fit_temperature(z, truth[usable])
    p = _softmax(z / t)
    confidence, correct = p.max(axis=1), p.argmax(axis=1) == truth[usable]
    seed = {"temperature": round(t, 4), "rows": int(usable.sum()), "accuracy": round(float(correct.mean()), 4),
            "bins": _bins(confidence, correct)}
    out["method"] = "temperature scaling on held-out seed merchants (too few labels to hold out)"
    out["known"] = {**seed, "rows": 0}
    out["new"] = seed
    return out


def _weights(rows: list):
    """1 per user label; the seeds of each category share SEED_WEIGHT × the mean seeds per category;
    a bank-category seed weighs BANK_SEED_WEIGHT.

    So every category's seeds weigh the same in total, and how many entries the seed list
    happens to have per category does not become a prior for that category. Where the list files
    a merchant the user has labelled under one category, its entries weigh nothing: the user's
    labels say what the merchant is to them (five labels of IKEA say shopping; seven entries,
    household). The entries of a merchant the list knows in several categories keep their weight:
    their words tell its departments apart (`COSTCO GAS` is fuel beside a label of the warehouse).
    """
    import numpy as np

    seeds = Counter(r["label"] for r in rows if r.get("seed") and not r.get("bank_category"))
    mean = sum(seeds.values()) / len(seeds) if seeds else 0
    labelled = {_merchant(r) for r in rows if not r.get("seed")} - {""}
    listed: dict[str, set] = defaultdict(set)        # the seed categories of each labelled merchant
    for r in rows:
        if r.get("seed") and _merchant(r) in labelled:
            listed[_merchant(r)].add(r["label"])
    one_category = {m for m, categories in listed.items() if len(categories) == 1}

    def weight(r: dict) -> float:
        if not r.get("seed"):
            return 1.0
        if r.get("bank_category"):
            return BANK_SEED_WEIGHT
        if _merchant(r) in one_category:
            return 0.0
        return SEED_WEIGHT * mean / seeds[r["label"]]

    return np.array([weight(r) for r in rows])


def seed_names(rows: list) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each seed category's name in the user's taxonomy, when the user's labels name categories their
    own way (any label that is not a seed category's name, but of a payment to or from a person: a
    "Family" beside the seed names is one more category, not a taxonomy of the user's own); else {} (the
    seed names are used as they are).
    And the leanings of those left unnamed: the user's name their votes favour, too few to name it.

    A seed category the user renamed is theirs (its rows are `named`). Any other is the user's
    category of the same name, case aside; otherwise the one user
    category whose name shares a word with it (`online_shopping` and "Shopping", `fees` and "Bank
    fees"); otherwise the one the user gave most of the labelled transactions that a model of the
    seeds alone calls that seed category (a payment to or from a person, marked `person`, has no vote:
    what the user calls a person is not what they call a seed category; votes weighted by that model's
    probability, a merchant's labelled transactions sharing one vote, however many of them `fin review`
    labelled; at least NAMED_AT of them and NAMED_SHARE of the share). One merchant the seeds alone are
    90% sure of is enough (Uber labelled "Getting around" names `transport`), unless another seed
    category has that name already: a landlord labelled "Groceries & household" does not make `rent`
    groceries. A seed category with no such name maps to None: its transactions wait in review. Its
    leaning (at least NAMED_SHARE of its votes, however few) only tells whether the model's answer for
    it agrees with a merchant's labels: a label of Safeway as "Food at home" (the seeds are 70% sure it
    is `groceries`) does not name `groceries`, but a Safeway store of other words that the model calls
    `groceries` is not something other than its labels say."""
    import numpy as np

    seeds = [r for r in rows if r.get("seed")]
    labelled = [r for r in rows if not r.get("seed")]
    seed_categories = sorted({r["label"] for r in seeds})
    own = {r["label"] for r in labelled if not r.get("person")} | {r["label"] for r in seeds if r.get("named")}
    if not seeds or not own or own <= set(seed_categories):
        return {}, {}
    by_case = {name.casefold(): name for name in sorted(own)}
    names: dict[str, str | None] = {s: by_case.get(s.casefold()) for s in seed_categories}
    for s in seed_categories:
        sharing = [name for name in sorted(own) if _name_words(name) & _name_words(s)]
        if names[s] is None and len(sharing) == 1:
            names[s] = sharing[0]
    unnamed = [s for s in seed_categories if names[s] is None]
    leanings: dict[str, str] = {}
    if unnamed:
        model = _fit(seeds, [r["label"] for r in seeds], _weights(seeds))
        if model["coef"] is not None:
            voting = [r for r in labelled if not r.get("person")]
            p = _softmax(_logits(model, voting))
            merchant = [_merchant(r) or f"#{i}" for i, r in enumerate(voting)]
            rows_of = Counter(merchant)     # a merchant is one voter, however many of its rows are labelled
            votes: dict[str, Counter] = defaultdict(Counter)
            voters: dict[tuple[str, str], set] = defaultdict(set)
            for i, k in enumerate(np.argmax(p, axis=1)):
                votes[model["classes"][k]][voting[i]["label"]] += float(p[i, k]) / rows_of[merchant[i]]
                voters[model["classes"][k], voting[i]["label"]].add(merchant[i])
            winners = []                    # (several merchants, weight, seed category, name)
            for s in unnamed:
                if votes[s]:
                    name, weight = max(votes[s].items(), key=lambda item: (item[1], item[0]))
                    if weight >= NAMED_SHARE * sum(votes[s].values()):
                        winners.append((len(voters[s, name]) > 1, weight, s, name))
            held = {name for name in names.values() if name}
            for several, weight, s, name in sorted(winners, reverse=True):
                if weight >= NAMED_AT and (several or name not in held):
                    names[s] = name
                    held.add(name)
                else:
                    leanings[s] = name
    return names, leanings


def _name_words(name: str) -> set[str]:
    return {w for w in re.split(r"[\W_]+", name.casefold()) if len(w) >= 3}


def _train(rows: list) -> tuple[dict, dict]:
    """(model, metrics) from labelled rows."""
    _check_rows(rows, need_label=True)
    if not rows:
        raise ValueError("no labelled rows to train on")
    user = [i for i, r in enumerate(rows) if not r.get("seed")]
    weights = _weights(rows)              # by the seed list's own categories, before any renaming
    names, leanings = seed_names(rows)
    if names:                             # the user's taxonomy wins: seeds speak it, or wait unnamed
        rows = [{**r, "label": names[r["label"]] or UNNAMED + r["label"]} if r.get("seed") else r for r in rows]
    y = [r["label"] for r in rows]
    calibration = _calibrate(rows, y, weights, user)
    model = _fit(rows, y, weights)       # not warm-started from the held-out fit: it would stop near it
    model.update(format=FORMAT, known_merchants=sorted({_merchant(rows[i]) for i in user}),
                 temperature={"known": calibration["known"]["temperature"],
                              "new": calibration["new"]["temperature"]})
    named = [c for c in model["classes"] if not c.startswith(UNNAMED)]
    metrics = {"labels": len(user), "seed_rows": len(rows) - len(user), "categories": len(named),
               "classes": named, "seed_names": names, "seed_leanings": leanings,
               "features": _Space.restore(model["space"]).size,
               "calibration": calibration}
    return model, metrics


def _predict(model: dict, rows: list) -> list:
    import numpy as np

    if not rows:
        return []
    classes = model["classes"]
    if model["coef"] is None:
        return [{"category": classes[0], "confidence": 1.0} for _ in rows]
    known, t = set(model["known_merchants"]), model["temperature"]
    temperature = np.array([t["known"] if _merchant(r) in known else t["new"] for r in rows])
    p = _softmax(_logits(model, rows) / temperature[:, None])
    best = p.argmax(axis=1)
    confidence = np.clip(p[np.arange(len(rows)), best], 0.0, 1.0)
    return [{"category": classes[k], "confidence": round(float(c), 6)} for k, c in zip(best, confidence)]


# --- the service -----------------------------------------------------------------------

def _save(model: dict, path: str) -> None:
    """The model as JSON (classes, feature names, temperatures) and arrays (idf, coefficients)."""
    from service import save_model

    space = model["space"]
    settings = {"format": FORMAT, "classes": model["classes"], "known_merchants": model["known_merchants"],
                "temperature": model["temperature"],
                "vocab": sorted(space["vocab"], key=space["vocab"].get),      # names by column
                "amount": sorted(space["amount"], key=space["amount"].get)}
    arrays = {"idf": space["idf"]}
    if model["coef"] is not None:
        arrays.update(coef=model["coef"], intercept=model["intercept"])
    save_model(path, settings, arrays)


def _load(path: str) -> dict:
    """The model `_save` wrote, checked for shape, as `_predict` takes it."""
    from service import load_model

    settings, arrays = load_model(path)
    if settings.get("format") != FORMAT:
        raise ValueError(f"{MODEL_FILE} has format {settings.get('format')!r}, expected {FORMAT}")
    vocab = {name: j for j, name in enumerate(settings["vocab"])}
    amount = {name: len(vocab) + j for j, name in enumerate(settings["amount"])}
    idf, coef, intercept = arrays["idf"], arrays.get("coef"), arrays.get("intercept")
    classes = settings["classes"]
    if idf.shape != (len(vocab),) or (coef is not None and (coef.shape != (len(vocab) + len(amount), len(classes))
                                                             or intercept.shape != (len(classes),))):
        raise ValueError(f"{MODEL_FILE}: its arrays do not fit its {len(vocab) + len(amount)} features "
                         f"and {len(classes)} classes")
    return {"format": FORMAT, "space": {"vocab": vocab, "idf": idf, "amount": amount}, "classes": classes,
            "coef": coef, "intercept": intercept, "known_merchants": settings["known_merchants"],
            "temperature": settings["temperature"]}


def train(rows: list, model_dir: str | None) -> dict:
    if not model_dir:
        raise ValueError("train needs a model_dir")
    model, metrics = _train(rows)
    os.makedirs(model_dir, exist_ok=True)
    _save(model, os.path.join(model_dir, MODEL_FILE))
    return metrics


def predict(rows: list, model_dir: str | None) -> list:
    if not model_dir:
        raise ValueError("predict needs a model_dir")
    _check_rows(rows, need_label=False)
    return _predict(_load(os.path.join(model_dir, MODEL_FILE)), rows)


def _merchant_majority(train_rows: list, test_rows: list) -> list:
    """The merchant's majority label among training rows (ties: alphabetical), its share as confidence."""
    counts: dict = defaultdict(Counter)
    for row in train_rows:
        counts[row.get("merchant") or ""][row["label"]] += 1
    out = []
    for row in test_rows:
        seen = counts.get(row.get("merchant") or "")
        if not seen:
            out.append({"category": None, "confidence": 0.0})
            continue
        label, n = min(seen.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append({"category": label, "confidence": round(n / sum(seen.values()), 6)})
    return out


def _svm(train_rows: list, test_rows: list) -> list:
    """LinearSVC on word 1–2-grams of the description (smart_importer's approach); softmax of its scores."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.svm import LinearSVC

    labels = sorted({r["label"] for r in train_rows})
    if len(labels) < 2:
        category = labels[0] if labels else None
        return [{"category": category, "confidence": 1.0 if labels else 0.0} for _ in test_rows]
    vectorizer = CountVectorizer(ngram_range=(1, 2), token_pattern=r"\S+", lowercase=False)
    X = vectorizer.fit_transform([_tokens(r) for r in train_rows])
    svm = LinearSVC(C=1.0, random_state=0).fit(X, [r["label"] for r in train_rows])
    scores = svm.decision_function(vectorizer.transform([_tokens(r) for r in test_rows]))
    if scores.ndim == 1:
        scores = np.column_stack([-scores, scores])
    p = _softmax(scores)
    best = p.argmax(axis=1)
    return [{"category": str(svm.classes_[k]), "confidence": round(float(p[i, k]), 6)}
            for i, k in enumerate(best)]


def evaluate(rows: list, model_dir: str | None) -> dict:
    """Predictions for the test rows by the model and two baselines, all fitted on the train rows only."""
    _check_rows(rows, need_label=False)
    if any(r.get("split") not in ("train", "test") for r in rows):
        raise ValueError('every row needs "split": "train" or "test"')
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [{k: v for k, v in r.items() if k != "label"} for r in rows if r["split"] == "test"]
    _check_rows(train_rows, need_label=True)
    user_rows = [r for r in train_rows if not r.get("seed")]
    model, _ = _train(train_rows)
    return {"model": _predict(model, test_rows),
            "merchant_majority": _merchant_majority(user_rows, test_rows),
            "svm": _svm(user_rows, test_rows)}


if __name__ == "__main__":
    from service import serve

    serve(train, predict, evaluate)
