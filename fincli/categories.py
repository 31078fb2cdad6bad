"""Category names: the one check every way of naming a category goes through (labels, rules)."""

from __future__ import annotations

import unicodedata

from .errors import InputError

# Long enough for any real name ("Home improvement & garden supplies"), short enough to fit
# a table column and to catch a pasted paragraph or a wrong CSV column.
MAX_LENGTH = 64
# Control characters, invisible formatting (bidi overrides, zero-width spaces), line breaks
# and lone surrogates corrupt tables and terminals. The zero-width joiner stays: emoji need it.
_REFUSED = {"Cc", "Cf", "Zl", "Zp", "Cs"}
_ALLOWED = {"\u200d"}


def check_category(name: str, where: str = "") -> str:
    """The name without surrounding spaces, or InputError saying what is wrong and where."""
    at = f"{where}: " if where else ""
    text = name.strip()
    if not text:
        raise InputError(f"{at}the category is empty", "give a category name, e.g. groceries")
    if len(text) > MAX_LENGTH:
        raise InputError(f"{at}the category is {len(text)} characters long; at most {MAX_LENGTH} are allowed",
                         "give a shorter name, e.g. groceries")
    for char in text:
        if unicodedata.category(char) in _REFUSED and char not in _ALLOWED:
            raise InputError(f"{at}the category contains the control character U+{ord(char):04X}",
                             "type the name without control or invisible characters")
    return text
