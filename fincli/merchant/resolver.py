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
import string
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

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
_STREET = frozenset("st street ave av avenue blvd rd road dr ln way pl hwy pkwy ct broadway str strasse straße "
                    "weg platz allee".split())
PERSON, NAME, SERVICE = "person", "name", "service"
_HAS_DIGIT = re.compile(r"\d").search
_HAS_LETTER = re.compile(r"[^\W\d_]").search
_LONE_S = re.compile(r"(?<=[A-Za-z])([A-Za-z]) [sS](?=\s|$)").sub
_NUMBER_NAME = re.compile(r"^\d{1,3}-[a-z]+$").match


class Resolved(NamedTuple):
    key: str        # what groups transactions: lower case, stable across resolver runs
    name: str       # how fin shows the merchant to the user


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
    if (" S" in text or " s" in text) and (" S " in text or " s " in text or text.endswith((" S", " s"))
                                           or not (text.isascii() and text.isprintable())):
        text = _LONE_S(r"\1s", text)           # (in printable ASCII, a lone S has a space or the end after it)
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
        self.city_ends = set()                      # a city's last word, also cut short by the bank
        for line in _lines(folder / "cities.txt"):
            words = _lower(_words(line))
            self.cities.add(words)
            self.city_ends.update(words[-1][:cut] for cut in range(min(5, len(words[-1])), len(words[-1]) + 1))
            for i in range(1, len(words)):          # `san francisc`, `san`: the bank cut the city short
                if len(words[i - 1]) <= 3:              # (`SAN`, `LOS`; never `GARDEN` of Olive Garden)
                    self.cities.add(words[:i])
                for cut in range(5, len(words[i])):
                    self.cities.add((*words[:i], words[i][:cut]))
            if len(words) == 1:
                for cut in range(6, len(words[0])):
                    self.cities.add((words[0][:cut],))
        self.region_parts = frozenset(form for r in self.regions for form in (r, r.upper(), r.title()))
        self.places = self.generic | self.cities
        self.run_together_match = re.compile("|".join(re.escape(prefix) for prefix, _ in self.run_together)).match
        self.run_together_names = dict(self.run_together)
        self.suffix_lengths = sorted({len(s) for s in self.generic_suffixes}, reverse=True)
        self.suffixes = frozenset(self.generic_suffixes)
        self.suffix_tuple = tuple(self.generic_suffixes)
        # the lengths of the entries that begin (end) with a word: most words begin (end) none
        self.leading_starts, self.processor_starts, self.p2p_starts = (
            _lengths(table, 0) for table in (self.leading, self.processors, self.p2p))
        self.platform_starts = {k[0] for k, (kind, _) in self.processors.items() if kind == "platform"}
        self.generic_ends, self.place_ends = _lengths(self.generic, -1), _lengths(self.places, -1)


def _lengths(entries, at: int) -> dict[str, tuple[int, ...]]:
    """Word -> the lengths of the entries (word tuples) that have it at `at`, longest first."""
    lengths: dict[str, set[int]] = {}
    for entry in entries:
        lengths.setdefault(entry[at], set()).add(len(entry))
    return {word: tuple(sorted(found, reverse=True)) for word, found in lengths.items()}


@lru_cache(maxsize=1)
def data() -> Data:
    from ..paths import data_dir

    return Data(data_dir() / "merchants")


def _prefix(words: tuple[str, ...], table: dict | set, starts: dict, start: int) -> int:
    """Length of the longest entry of `table` at words[start:], or 0 (`starts`: see _lengths)."""
    if start < len(words):
        for n in starts.get(words[start], ()):
            if start + n <= len(words) and words[start:start + n] in table:
                return n
    return 0


def _title(key: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in key.split())


def _display(written: list[str], picked: tuple[int, ...]) -> str:
    """The picked words as the bank wrote them, when it wrote them in mixed case; else in title case."""
    return " ".join([w if w != w.upper() else w[:1] + w[1:].lower() for w in [written[i] for i in picked]])


def _key(words, cut: bool = True) -> str:
    """Words run together into a key of at most KEY_LENGTH characters (`cut`).

    `SUMMIT CAFE` and `SummitCafe`, `7-ELEVEN` and `7 ELEVEN`, `UNION MARKET` and `UNIONMARKET`
    agree, and so do `HILLTOP ESPRESSO` and `HILLTOP ESPRESS`, cut short by the bank. A payee
    field is not cut short: its full name is kept (`Neue Gaststätte`, `Neue Gaststätte Freising`),
    hyphens included (`Stadt-Apotheke` and `Stadt Apotheke` are two account holders).
    """
    key = "".join(words)
    if not key.isalnum():
        key = key.replace(" ", "").replace(".", "").replace("&", "").replace("/", "")
        if cut:
            key = key.replace("-", "")
    d = data()
    if key.endswith(d.suffix_tuple):
        for n in d.suffix_lengths:
            if len(key) - n >= 3 and key[-n:] in d.suffixes:
                key = key[:-n]
                break
    return key[:KEY_LENGTH] if cut else key


def _masked(word: str) -> str:
    """A word as the rules see it: a word with digits (store number, date, reference) is only `0x00`,
    unless it is short (`76`, `3RD`) or a name that is a number (`7-ELEVEN`)."""
    if len(word) <= 3 or not _HAS_DIGIT(word) or _NUMBER_NAME(word):
        return word
    return "0x00"


# `_masked` at once over a whole ASCII text: every word with digits that `_masked` turns into `0x00`.
# A word starts where no word goes on (after neither a letter/digit nor one joined by `.&/-`), has a
# digit in one of its parts, is longer than three characters and is not a number name.
_PUNCTUATION = string.punctuation.replace("*", "")      # `*` is a word to the rules
_WORD_END = r"(?!\w|[.&/-]\w)"
_CODES = re.compile(r"(?<!\w)(?<!\w[.&/-])"
                    rf"(?!(?:\w{{1,3}}|\w[.&/-]\w){_WORD_END})"
                    rf"(?!\d{{1,3}}-[a-zA-Z]+{_WORD_END})"
                    r"(?:[^\W\d]+[.&/-](?=\w))*[^\W\d]*\d\w*(?:[.&/-]\w+)*")


def resolve_text(text: str, payee: bool = False) -> tuple[Resolved, str]:
    """(merchant, PERSON|NAME|SERVICE) of one field; key '' when nothing is left.

    A payee field (`payee=True`) is a name already: places in it are part of the name.
    """
    return _resolve_clean(" ".join(_masked_parts(_clean(text))), payee)


def resolve_field(text: str) -> tuple[Resolved, str] | None:
    """resolve_text of one field of a joined description; None when the field is only a booking text."""
    return _resolve_description(" ".join(_masked_parts(_clean(text))))


@lru_cache(maxsize=262144)
def _resolve_description(text: str) -> tuple[Resolved, str] | None:
    """What follows a city and its region (`NORTH OPTICAL 08554 KIRKLAND WA FVQJTX`) is a reference:
    cut before the rules (and their cache) see it."""
    parts = text.split(" ")
    d = data()
    region = next(filter(d.region_parts.__contains__, parts[2:-1]), None)
    if region:
        for i in range(parts.index(region, 2), len(parts) - 1):
            if parts[i] in d.region_parts and parts[i - 1].lower() in d.city_ends:
                return _resolve_clean(" ".join(parts[:i + 1]), None)
    return _resolve_clean(text, None)


def _masked_parts(text: str) -> list[str]:
    """The text's parts between spaces, codes masked: descriptions that differ only in store numbers,
    dates and references share one cache entry (the rules read words, never spaces). A text beyond
    ASCII is masked word by word in _resolve_clean."""
    if not text.isascii():
        return text.split()
    return [part if part.isalpha() or len(part) <= 3 else "0x00" if part.isalnum() else _masked_part(part)
            for part in text.split()]


@lru_cache(maxsize=65536)
def _masked_part(part: str) -> str:
    """One part of an ASCII text between spaces, masked (`*TRIP`, `HELP.UBER.COM` and phone numbers
    recur: cached). Only its words count, so a part that is one word between punctuation (`#4301`)
    is just that word."""
    word = part.strip(_PUNCTUATION)
    if word.isalnum():
        return word if word.isalpha() or len(word) <= 3 else "0x00"
    return _CODES.sub("0x00", part)


@lru_cache(maxsize=262144)
def _resolve_clean(text: str, payee: bool | None) -> tuple[Resolved, str] | None:
    """`payee` None: a field of a description, which may be only a booking text (then None)."""
    written = _WORD.findall(text)
    words = tuple("\0".join(written).lower().split("\0")) if written else ()
    if payee is None and len(words) <= 4 and " ".join(words) in data().booking:
        return None
    masked = words if text.isascii() else tuple([_masked(w) for w in words])
    key, picked, kind = _resolve_words(masked, bool(payee))
    return Resolved(key, picked if isinstance(picked, str) else _display(written, picked)), kind


def _platform(d: Data, words: tuple[str, ...], start: int) -> tuple[str, str, str] | None:
    """The platform named at words[start:] (a `*` between its words does not count: `UBER *EATS`), if any."""
    first = _first_word(words, start)
    if first not in d.platform_starts and (len(first) < 6 or not d.run_together_match(first)):
        return None                                 # most descriptions: not a platform's first word
    plain = tuple([w for w in words[start:] if w != "*"])
    n = _prefix(plain, d.processors, d.processor_starts, 0)
    name = None
    if n:
        kind, name = d.processors[plain[:n]]
        starred = "*" in words[start:start + n + 1]
        if kind != "platform" or not starred and len("".join(plain[:n])) <= _STAR_ONLY:
            name = None
    elif plain and len(plain[0]) >= 6:              # `YouTubePremium`: a platform's name run together
        found = d.run_together_match(plain[0])
        name = d.run_together_names[found.group()] if found else None
    return (_key([name.lower()]), name, NAME) if name else None


def _first_word(words: tuple[str, ...], start: int) -> str:
    """The first word at or after `start` that is not a `*`, or ''."""
    while start < len(words) and words[start] == "*":
        start += 1
    return words[start] if start < len(words) else ""


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
    n = _prefix(words, d.p2p, d.p2p_starts, 0)
    if n and n < count:
        picked = [i for i in range(n, min(count, n + 5)) if words[i] != "*"]
        while picked and _HAS_DIGIT(words[picked[0]]):       # `VENMO PAYMENT 1023456789 MARIA LOPEZ`
            picked.pop(0)
        picked = picked[:next((j for j, i in enumerate(picked) if _HAS_DIGIT(words[i])), len(picked))][:MAX_WORDS]
        if picked and not (words[:n] in (("to",), ("from",)) and count > n + 4):
            return _key(words[i] for i in picked), tuple(picked), PERSON
    # 2. payment words, numbers and dates in front
    while start < count:
        n = _prefix(words, d.leading, d.leading_starts, start)
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
        if _first_word(words, start) not in d.processor_starts:
            break
        plain = [i for i in range(start, count) if words[i] != "*"]
        n = _prefix(tuple([words[i] for i in plain]), d.processors, d.processor_starts, 0)
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
        domain = "." in w and _DOMAIN.match(w)
        if domain:
            if not kept:
                key = domain.group(1)
                return key, _title(key), NAME
            continue
        if w == "*" or w.startswith("www") or w in _WEEKDAYS or w in _LEGAL_FORMS and kept:
            continue
        if not w.isalpha() and _HAS_DIGIT(w):
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
        table, ends = (d.generic, d.generic_ends) if payee else (d.places, d.place_ends)
        n = next((n for n in ends.get(last, ()) if n < len(kept) and n <= 4
                  and tuple([words[i] for i in kept[-n:]]) in table), 0)
        if not n:
            break
        del kept[-n:]
    if service and all(words[i] in _LEGAL_FORMS or (words[i],) in d.generic or words[i] in d.regions for i in kept):
        return _key(words[i] for i in service), tuple(service), SERVICE
    if len(kept) > 1 and words[kept[0]] == "the":
        kept.pop(0)
    kept = kept[:MAX_WORDS]
    return _key([words[i] for i in kept], cut=not payee), tuple(kept), NAME
