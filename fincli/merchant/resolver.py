"""From a bank description to a merchant: the rules, driven by the data in data/merchants/.

A description is read word by word (lower case, `*` kept as its own word):

1. a person-to-person payment keeps the person (`Zelle payment to Maria Lopez JPM99…`);
2. leading payment words go (`POS`, `DEBIT CARD PURCHASE`);
3. a processor or marketplace prefix is resolved: the seller after `SQ *` is the merchant,
   the platform of `AMZN Mktp US*2FP5V08AN` is;
4. what follows a `*` is a reference (`LYFT *RIDE FRI`, `EBAY O*12-345`);
5. words with digits (store numbers, dates, times, phone numbers), `#123`, web addresses after
   the name, weekdays and stray letters go;
6. trailing regions and cities go, also when the bank cut the city short (`SAN FRANCISC`).

What is left (at most three words) is the key; the display name is its title case, or the
platform's name from the data. A description joined from several fields (`payee | booking text
| memo`) is read field by field, skipping fields that are only a booking text (`Folgelastschrift`).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

MAX_WORDS = 3
_WEEKDAYS = frozenset("mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday "
                      "saturday sunday".split())
_REFERENCE_WORDS = frozenset("ref reference id nr no txn trx mandat mandate order auth".split())
_LEGAL_FORMS = frozenset("gmbh ag kg kgaa ohg ug se sa sas sarl s.a.r.l s.a bv b.v nv n.v inc llc ltd plc co corp mbh eg gbr "
                         "e.v ev srl spa sl oy ab as aps bvba "
                         "limited gmbh&co".split())
# short processor prefixes that are also ordinary words: they count only before a `*`
_STAR_ONLY = 2
# a word: letters and digits, joined by `.`, `&`, `/` or `-` inside it (`nike.com`, `7-eleven`); or a `*`
_WORD = re.compile(r"[^\W_]+(?:[.&/-][^\W_]+)*|\*")
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9][a-z0-9-]*)\.(com|net|org|io|co|us|de|at|ch|fr|nl|be|"
                     r"es|it|eu|uk|co\.uk|ca|ie)(?:[./].*)?$")
_JOINERS = str.maketrans("/&-", "   ")
_HAS_DIGIT = re.compile(r"\d").search
_NUMBER_NAME = re.compile(r"^\d{1,3}-[a-z]+$").match


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(_lines(path)))


def _words(text: str) -> list[str]:
    """The words of a text as written (apostrophes dropped: `JOE'S` is `JOES`)."""
    return _WORD.findall(text.replace("'", "").replace("\u2019", ""))


def _lower(words: list[str]) -> tuple[str, ...]:
    return tuple(w.lower() for w in words)


class Data:
    """The resolver's data, read once from data/merchants/."""

    def __init__(self, folder: Path):
        self.leading = {_lower(_words(line)) for line in _lines(folder / "leading_words.txt")}
        self.booking = {" ".join(_lower(_words(line))) for line in _lines(folder / "booking_texts.txt")}
        self.processors = {_lower(_words(r["prefix"])): (r["kind"], r["name"]) for r in _rows(folder / "processors.csv")}
        self.p2p = {_lower(_words(r["prefix"])): r["service"] for r in _rows(folder / "p2p.csv")}
        self.regions = frozenset(w for line in _lines(folder / "regions.txt") for w in line.split())
        self.cities = set()
        for line in _lines(folder / "cities.txt"):
            words = _lower(_words(line))
            self.cities.add(words)
            for i in range(1, len(words)):          # `san francisc`, `san`: the bank cut the city short
                self.cities.add(words[:i])
                for cut in range(5, len(words[i])):
                    self.cities.add((*words[:i], words[i][:cut]))
            if len(words) == 1:
                for cut in range(6, len(words[0])):
                    self.cities.add((words[0][:cut],))
        self.longest = max(len(k) for k in (*self.leading, *self.processors, *self.p2p, *self.cities))


@lru_cache(maxsize=1)
def data() -> Data:
    from ..paths import data_dir

    return Data(data_dir() / "merchants")


def _prefix(words: tuple[str, ...], table: dict | set, start: int, longest: int) -> int:
    """Length of the longest entry of `table` at words[start:], or 0."""
    for n in range(min(longest, len(words) - start), 0, -1):
        if words[start:start + n] in table:
            return n
    return 0


def _title(key: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in key.split())


def _display(written: list[str], picked: tuple[int, ...]) -> str:
    """The picked words as the bank wrote them, when it wrote them in mixed case; else in title case."""
    return " ".join(w if w != w.upper() else w[:1] + w[1:].lower() for w in (written[i] for i in picked))


def _key(words) -> str:
    """Words joined into a key; `CVS/PHARMACY`, `CVS PHARMACY` and `7-ELEVEN`, `7 ELEVEN` agree."""
    return " ".join(" ".join(words).translate(_JOINERS).split())


def _masked(word: str) -> str:
    """A word with digits as the rules see it: only whether it is a short number, a long number or a code."""
    if not _HAS_DIGIT(word) or len(word) <= 3 or _NUMBER_NAME(word):
        return word
    return "0000" if word.isdigit() else "0x00"


def resolve_text(text: str) -> tuple[str, str, bool]:
    """(key, display name, whether it names a person) of one description field; key '' when nothing is left."""
    written = _words(text)
    return _finish(written, _lower(written))


def _finish(written: list[str], words: tuple[str, ...]) -> tuple[str, str, bool]:
    # store numbers, references and dates make most descriptions unique; the rules only ask
    # whether a word has digits, so they run once per shape of description
    key, picked, person = _resolve_words(tuple(map(_masked, words)))
    if isinstance(picked, str):
        return key, picked, person
    return key, _display(written, picked), person


@lru_cache(maxsize=65536)
def _resolve_words(words: tuple[str, ...]) -> tuple[str, tuple[int, ...] | str, bool]:
    """(key, the words it was made of or the platform's name, whether it names a person)."""
    d = data()
    count = len(words)
    start = 0
    # 1. person to person: the payee's name, up to the first word with a digit
    n = _prefix(words, d.p2p, 0, d.longest)
    if n and n < count:
        picked = [i for i in range(n, min(count, n + 5)) if words[i] != "*"]
        while picked and _HAS_DIGIT(words[picked[0]]):       # `VENMO PAYMENT 1023456789 MARIA LOPEZ`
            picked.pop(0)
        picked = picked[:next((j for j, i in enumerate(picked) if _HAS_DIGIT(words[i])), len(picked))][:MAX_WORDS]
        if picked and not (words[:n] in (("to",), ("from",)) and count > n + 4):
            return _key(words[i] for i in picked), tuple(picked), True
    # 2. payment words in front
    while start < count:
        n = _prefix(words, d.leading, start, d.longest)
        if n:
            start += n
        elif words[start] in ("*", "0000", "0x00"):
            start += 1                              # `POS 1234 AMZN MKTP`, `15/04/18 66-6666 UBER`: numbers, dates
        else:
            break
    # 3. processors and marketplaces
    n = _prefix(words, d.processors, start, d.longest)
    if n:
        kind, name = d.processors[words[start:start + n]]
        starred = start + n < count and words[start + n] == "*"
        short = len("".join(words[start:start + n])) <= _STAR_ONLY
        if starred or not short:
            if kind == "platform":
                return name.lower(), name, False
            if starred and start + n + 1 < count:
                start += n + 1
    # 4. a `*` ends the name: what follows is a reference (unless nothing came before it)
    rest = list(range(start, count))
    if "*" in words[start:]:
        star = words.index("*", start)
        head = [i for i in range(start, star) if not _HAS_DIGIT(words[i])]
        rest = list(range(start, star)) if head else [i for i in range(star + 1, count) if words[i] != "*"]
    # 5. noise words
    kept: list[int] = []
    skip = False
    for at, i in enumerate(rest):
        w = words[i]
        if skip:
            skip = False
            continue
        if w in _REFERENCE_WORDS and kept:
            skip = True
            continue
        domain = _DOMAIN.match(w)
        if domain:
            if not kept:
                if domain.group(2) in ("com", "net", "org", "io", "co"):
                    key = domain.group(1)
                    return key, _title(key), False
                kept.append(i)
            continue
        if w == "*" or w.startswith("www") or w in _WEEKDAYS or w in _LEGAL_FORMS and kept:
            continue
        if _HAS_DIGIT(w):
            if i == 0 and (len(w) <= 3 and w.isdigit() or _NUMBER_NAME(w)):
                kept.append(i)                      # `76`, `7-ELEVEN`: a name that is a number
            continue
        kept.append(i)
    # 6. trailing regions and cities, leaving at least one word
    while len(kept) > 1:
        last = words[kept[-1]]
        if last in d.regions or len(last) == 1:
            kept.pop()
            continue
        n = next((n for n in range(min(4, len(kept) - 1), 0, -1)
                  if tuple(words[i] for i in kept[-n:]) in d.cities), 0)
        if not n:
            break
        del kept[-n:]
    kept = kept[:MAX_WORDS]
    return _key(words[i] for i in kept), tuple(kept), False


def resolve_field(text: str) -> tuple[str, str, bool] | None:
    """resolve_text of one field of a joined description; None when the field is only a booking text."""
    written = _words(text)
    words = _lower(written)
    if " ".join(words) in data().booking:
        return None
    return _finish(written, words)
