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
import html
import re
from functools import lru_cache
from pathlib import Path

MAX_WORDS = 3
KEY_LENGTH = 14
_WEEKDAYS = frozenset("mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday "
                      "saturday sunday".split())
_REFERENCE_WORDS = frozenset("ref reference id nr no txn trx mandat mandate order auth".split())
_LEGAL_FORMS = frozenset("gmbh ag kg kgaa ohg ug se sa sas sarl s.a.r.l s.a r.l bv b.v nv n.v inc llc ltd plc co corp "
                         "mbh eg gbr e.v ev srl spa sl oy ab as aps bvba et cie s.c.a sca "
                         "limited gmbh&co".split())
# short processor prefixes that are also ordinary words: they count only before a `*`
_STAR_ONLY = 2
# a word: letters and digits, joined by `.`, `&`, `/` or `-` inside it (`nike.com`, `7-eleven`); or a `*`
_WORD = re.compile(r"\w+(?:[.&/-]\w+)*|\*")     # `_` is a space by then (see _clean)
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9][a-z0-9-]*)\.(com|net|org|io|co|us|de|at|ch|fr|nl|be|"
                     r"es|it|eu|uk|co\.uk|ca|ie)(?:[./].*)?$")
_JOINERS = str.maketrans("", "", "/&-. ")
_STREET = frozenset("st street ave av avenue blvd rd road dr ln way pl hwy pkwy ct broadway str strasse straße "
                    "weg platz allee".split())
PERSON, NAME, SERVICE = "person", "name", "service"
_HAS_DIGIT = re.compile(r"\d").search
_HAS_LETTER = re.compile(r"[^\W\d_]").search
_LONE_S = re.compile(r"(?<=[A-Za-z])([A-Za-z]) [sS](?=\s|$)").sub
_NUMBER_NAME = re.compile(r"^\d{1,3}-[a-z]+$").match


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(_lines(path)))


def _words(text: str) -> list[str]:
    """The words of a text as written, up to a comma that ends a name (`Otto, Ihr Einkauf bei Otto`);
    apostrophes dropped: `JOE'S` and `JOE S` are `JOES`."""
    return _WORD.findall(_clean(text))


def _clean(text: str) -> str:
    if ", " in text:
        head = text.split(", ", 1)[0]
        if _HAS_LETTER(head):
            text = head
    if "&" in text:
        text = html.unescape(text)                  # `BARNES &AMP; NOBLE`
    if "'" in text or "\u2019" in text:
        text = text.replace("'", "").replace("\u2019", "")
    if " S" in text or " s" in text:
        text = _LONE_S(r"\1s", text)
    if "_" in text:
        text = text.replace("_", " ")               # `Zettle_*SHOP`
    return text


def _lower(words: list[str]) -> tuple[str, ...]:
    return tuple(w.lower() for w in words)


class Data:
    """The resolver's data, read once from data/merchants/."""

    def __init__(self, folder: Path):
        self.leading = {_lower(_words(line)) for line in _lines(folder / "leading_words.txt")}
        self.booking = {" ".join(_lower(_words(line))) for line in _lines(folder / "booking_texts.txt")}
        self.processors = {_lower(_words(r["prefix"])): (r["kind"], r["name"]) for r in _rows(folder / "processors.csv")}
        self.p2p = {_lower(_words(r["prefix"])): r["service"] for r in _rows(folder / "p2p.csv")}
        self.generic = {_lower(_words(line)) for line in _lines(folder / "generic_words.txt")}
        self.run_together = sorted(((k[0], name) for k, (kind, name) in self.processors.items()
                                    if kind == "platform" and len(k) == 1 and len(k[0]) >= 6 and k[0].isalpha()),
                                   key=lambda p: -len(p[0]))
        self.generic_suffixes = sorted(("".join(w) for w in self.generic if len("".join(w)) >= 4), key=len,
                                       reverse=True)
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
        self.longest = max(len(k) for k in (*self.leading, *self.processors, *self.p2p, *self.cities, *self.generic))


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


def _key(words, cut: bool = True) -> str:
    """Words run together into a key of at most KEY_LENGTH characters (`cut`).

    `SUMMIT CAFE` and `SummitCafe`, `7-ELEVEN` and `7 ELEVEN`, `UNION MARKET` and `UNIONMARKET`
    agree, and so do `HILLTOP ESPRESSO` and `HILLTOP ESPRESS`, cut short by the bank. A payee
    field is not cut short: its full name is kept (`Neue Gaststätte`, `Neue Gaststätte Freising`).
    """
    key = "".join(words).translate(_JOINERS)
    generic = data().generic_suffixes
    for suffix in generic:
        if key.endswith(suffix) and len(key) - len(suffix) >= 3:
            key = key[:-len(suffix)]
            break
    return key[:KEY_LENGTH] if cut else key


def _masked(word: str) -> str:
    """A word with digits as the rules see it: only whether it is a short number, a long number or a code."""
    if len(word) <= 3:
        return word
    if word.isdigit():
        return "0000"
    return "0x00" if _HAS_DIGIT(word) and not _NUMBER_NAME(word) else word


def resolve_text(text: str, payee: bool = False) -> tuple[str, str, str]:
    """(key, display name, PERSON|NAME|SERVICE) of one field; key '' when nothing is left.

    A payee field (`payee=True`) is a name already: places in it are part of the name.
    """
    written = _words(text)
    return _finish(written, _lower(written), payee)


def _finish(written: list[str], words: tuple[str, ...], payee: bool) -> tuple[str, str, str]:
    # store numbers, references and dates make most descriptions unique; the rules only ask
    # whether a word has digits, so they run once per shape of description
    key, picked, kind = _resolve_words(tuple(w if w.isalpha() else _masked(w) for w in words), payee)
    if isinstance(picked, str):
        return key, picked, kind
    return key, _display(written, picked), kind


def _platform(d: Data, words: tuple[str, ...], start: int) -> tuple[str, str, str] | None:
    """The platform named at words[start:] (a `*` between its words does not count: `UBER *EATS`), if any."""
    plain = [w for w in words[start:] if w != "*"]
    n = _prefix(tuple(plain), d.processors, 0, d.longest)
    name = None
    if n:
        kind, name = d.processors[tuple(plain[:n])]
        starred = "*" in words[start:start + n + 1]
        if kind != "platform" or not starred and len("".join(plain[:n])) <= _STAR_ONLY:
            name = None
    elif plain and len(plain[0]) >= 6:              # `YouTubePremium`: a platform's name run together
        name = next((name for prefix, name in d.run_together if plain[0].startswith(prefix)), None)
    return (_key([name.lower()]), name, NAME) if name else None


@lru_cache(maxsize=262144)
def _resolve_words(words: tuple[str, ...], payee: bool) -> tuple[str, tuple[int, ...] | str, str]:
    """(key, the words it was made of or the platform's name, what it is: PERSON, NAME or SERVICE)."""
    d = data()
    count = len(words)
    start = 0
    # 1. person to person: the payee's name, up to the first word with a digit (unless a platform
    #    begins the same way: `Payment to Chase card`)
    platform = _platform(d, words, 0)
    if platform:
        return platform
    n = _prefix(words, d.p2p, 0, d.longest)
    if n and n < count:
        picked = [i for i in range(n, min(count, n + 5)) if words[i] != "*"]
        while picked and _HAS_DIGIT(words[picked[0]]):       # `VENMO PAYMENT 1023456789 MARIA LOPEZ`
            picked.pop(0)
        picked = picked[:next((j for j, i in enumerate(picked) if _HAS_DIGIT(words[i])), len(picked))][:MAX_WORDS]
        if picked and not (words[:n] in (("to",), ("from",)) and count > n + 4):
            return _key(words[i] for i in picked), tuple(picked), PERSON
    # 2. payment words, numbers and dates in front
    while start < count:
        n = _prefix(words, d.leading, start, d.longest)
        if n:
            start += n
        elif words[start] in ("*", "0000", "0x00"):
            start += 1                              # `POS 1234 AMZN MKTP`, `15/04/18 66-6666 UBER`
        else:
            break
    # 3. processors and marketplaces: the platform is the merchant, or the seller after the processor is
    service = None
    for _ in range(2):
        platform = _platform(d, words, start)
        if platform:
            return platform
        plain = [i for i in range(start, count) if words[i] != "*"]
        n = _prefix(tuple(words[i] for i in plain), d.processors, 0, d.longest)
        if not n or service:
            break
        end = plain[n - 1] + 1
        if "*" not in words[start:end + 1] and len("".join(words[i] for i in plain[:n])) <= _STAR_ONLY:
            break                                   # `DD`, `SP`: processors only before a `*`
        service = plain[:n]
        start = end + (end < count and words[end] == "*")
    if service and not any(words[i] not in ("*",) for i in range(start, count)):
        return _key(words[i] for i in service), tuple(service), SERVICE
    # 4. a `*` ends the name: what follows is a reference (unless nothing came before it)
    rest = list(range(start, count))
    if "*" in words[start:]:
        star = words.index("*", start)
        head = [i for i in range(start, star) if not _HAS_DIGIT(words[i])]
        rest = list(range(start, star)) if head else [i for i in range(star + 1, count) if words[i] != "*"]
    # 5. noise words
    kept: list[int] = []
    skip = 0
    for at, i in enumerate(rest):
        w = words[i]
        if skip:
            skip -= 1
            continue
        if w in _REFERENCE_WORDS and kept:
            skip = 1
            continue
        domain = _DOMAIN.match(w)
        if domain:
            if not kept:
                key = domain.group(1)
                return key, _title(key), NAME
            continue
        if w == "*" or w.startswith("www") or w in _WEEKDAYS or w in _LEGAL_FORMS and kept:
            continue
        if _HAS_DIGIT(w):
            if (i == 0 and len(w) <= 3 or i == start and 2 <= len(w) <= 3) and w.isdigit() or \
                    i == start and _NUMBER_NAME(w):
                kept.append(i)                      # `76`, `7-ELEVEN`: a name that is a number
                continue
            # `2473 MARKET ST`: a street address after the name
            skip = next((k + 1 for k in range(min(4, len(rest) - at - 1)) if words[rest[at + 1 + k]] in _STREET), 0)
            continue
        kept.append(i)
    # 6. trailing places (not in a payee field, where they are part of the name), outlet words
    while len(kept) > 1:
        last = words[kept[-1]]
        if not payee and (last in d.regions or len(last) == 1):
            kept.pop()
            continue
        tables = (d.generic,) if payee else (d.generic, d.cities)
        n = next((n for n in range(min(4, len(kept) - 1), 0, -1)
                  if any(tuple(words[i] for i in kept[-n:]) in table for table in tables)), 0)
        if not n:
            break
        del kept[-n:]
    if service and all(words[i] in _LEGAL_FORMS or (words[i],) in d.generic or words[i] in d.regions for i in kept):
        return _key(words[i] for i in service), tuple(service), SERVICE
    if len(kept) > 1 and words[kept[0]] == "the":
        kept.pop(0)
    kept = kept[:MAX_WORDS]
    return _key((words[i] for i in kept), cut=not payee), tuple(kept), NAME


def resolve_field(text: str) -> tuple[str, str, str] | None:
    """resolve_text of one field of a joined description; None when the field is only a booking text."""
    written = _WORD.findall(_clean(text))
    words = tuple("\x00".join(written).lower().split("\x00")) if written else ()
    if len(words) <= 4 and " ".join(words) in data().booking:
        return None
    key, picked, kind = _resolve_words(tuple([w if w.isalpha() else _masked(w) for w in words]), False)
    if isinstance(picked, str):
        return key, picked, kind
    return key, _display(written if len(written) == len(words) else words, picked), kind
