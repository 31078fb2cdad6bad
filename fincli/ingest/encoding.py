"""Reading a bank export's bytes and choosing its text encoding.

The encoding is chosen from the whole file: a byte-order mark wins; otherwise strict
UTF-8, then the single-byte code pages, each decoded strictly and scored by how
plausible its non-ASCII letters are (cp1250 only wins on Central-European letters).
A file where some lines are valid multi-byte UTF-8 and others are not is decoded line
by line: no single encoding reads it right.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from fincli.errors import InputError, ParseError

FIRST_CHUNK = 4 * 1024 * 1024      # a CSV without a line break in the first 4 MB is not a CSV
CHUNK = 8 * 1024 * 1024

# How typical a non-ASCII character is in bank text; bytes that cp1252 and cp1250 read
# differently are weighed against each other (à 3 vs ŕ 0.5, č 3 vs è 2 …). Other letters
# count 1, other symbols -1.
_WEIGHT = {
    "à": 3, "è": 2, "ì": 1, "ò": 1, "ù": 1, "ø": 1, "ñ": 2, "õ": 1, "û": 1, "ã": 1, "Ã": 0.2, "ð": 0.3, "È": 0.5,
    "Ì": 0.3, "Ò": 0.3, "Ù": 0.3, "Ø": 0.5, "Ñ": 1, "£": 2, "€": 2, "¥": 1, "¤": -0.5, "¦": -0.5, "ª": 0.2,
    "º": 0.2, "¼": -0.5, "½": 0, "¾": -0.5, "Ð": 0.2, "Þ": 0.2, "þ": 0.2, "ý": 1, "Ý": 0.5, "°": 1, "§": 1,
    "č": 3, "ě": 3, "ř": 3, "ů": 2, "ň": 2, "ť": 2, "ď": 2, "ľ": 2, "ĺ": 1, "ŕ": 0.5, "ń": 1, "ő": 2, "ű": 2,
    "ă": 2, "Ă": 1, "đ": 1, "Č": 2, "Ě": 2, "Ř": 2, "Ů": 1, "Ň": 1, "Ť": 1, "Ď": 1, "Ľ": 1, "Ĺ": 0.5,
    "Ŕ": 0.3, "Ń": 0.5, "Ő": 1, "Ű": 1, "Đ": 0.5, "Ł": 1, "ł": 2, "ą": 2, "ę": 2, "ś": 2, "ź": 2, "ż": 2,
    "Ś": 1, "Ź": 1, "Ż": 1, "ţ": 1, "ş": 1, "Ţ": 0.5, "Ş": 0.5,
}


def read_input(path, progress=None) -> bytes:
    """Read a file's bytes, refusing what cannot be a CSV before reading it all."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{path}: is a directory, not a CSV file", "give the path of an exported .csv file")
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: is not a regular file", "give the path of an exported .csv file")
        size = st.st_size
        with open(p, "rb") as fh:
            head = fh.read(FIRST_CHUNK)
            check_head(head, path, size)
            parts = [head]
            done = len(head)
            if progress:
                progress(done, size)
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                parts.append(chunk)
                done += len(chunk)
                if progress:
                    progress(done, max(size, done))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", "check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a CSV file", "give the path of an exported .csv file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied", "check the file's permissions") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror or e})") from None
    return b"".join(parts) if len(parts) > 1 else parts[0]


def check_head(head: bytes, path, size: int | None = None) -> None:
    """Reject empty, binary and line-less inputs from their first bytes."""
    if not head.strip():
        raise ParseError(path, None, "file is empty", "export the transactions again from your bank")
    if head.startswith(b"%PDF"):
        raise ParseError(path, None, "is a PDF document, not a CSV export", "download the CSV export from your bank instead")
    for magic, kind in ((b"PK\x03\x04", "a ZIP or Excel (.xlsx) file"), (b"\xd0\xcf\x11\xe0", "an Excel (.xls) file"),
                        (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"\x1f\x8b", "a gzip archive")):
        if head.startswith(magic):
            raise ParseError(path, None, f"is {kind}, not a CSV export", "save or export it as CSV")
    total = size if size is not None else len(head)
    if total > FIRST_CHUNK and b"\n" not in head[:FIRST_CHUNK] and b"\r" not in head[:FIRST_CHUNK]:
        raise ParseError(path, None, f"no line break in the first {FIRST_CHUNK // (1024 * 1024)} MB; this is not a CSV export")


def decode(data: bytes, path) -> tuple[str, str]:
    """Return (text, encoding name) for the whole file, or raise ParseError."""
    check_head(data[:FIRST_CHUNK], path, len(data))
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", path), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _strict(data, "utf-16", path)
        return text, "utf-16"
    sample = data[:65536]
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        enc = "utf-16-le" if odd > even else "utf-16-be"
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            raise ParseError(path, None, "looks like a binary file, not a CSV export") from None
        _reject_binary(text, path)
        return text, enc
    if b"\x00" in sample:
        raise ParseError(path, None, "looks like a binary file (contains NUL bytes), not a CSV export")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data" and e.start >= len(data) - 3 and _utf8_before(data, e.start):
            raise ParseError(path, None, "UTF-8 text is truncated: the file ends in the middle of a character",
                             "the download was cut short; export the file again") from None
        text, enc = _by_line(data) or _single_byte(data)
    else:
        enc = "utf-8"
    _reject_binary(text, path)
    return text, enc


def _utf8_before(data: bytes, end: int) -> bool:
    try:
        data[:end].decode("utf-8")
        return any(b >= 0x80 for b in data[:end]) or end > 0
    except UnicodeDecodeError:
        return False


def _strict(data: bytes, enc: str, path) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as e:
        raise ParseError(path, None, f"is not valid {enc.upper()} text (byte offset {e.start})",
                         "export the file again from your bank") from None


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def _by_line(data: bytes) -> tuple[str, str] | None:
    """Decode a file that mixes UTF-8 lines with single-byte lines (one export appended to another,
    or a file edited in two programs), or None when it is not such a file.

    Each line that is valid UTF-8 is read as UTF-8, every other line as cp1252 (the Western
    code page, by far the most common; a single short line is too little evidence to weigh
    code pages against each other)."""
    if not _UTF8_SEQUENCE.search(data):
        return None
    parts, utf8_lines, other_lines = [], 0, 0
    for line in data.splitlines(keepends=True):
        if line.isascii():
            parts.append(line.decode("ascii"))
            continue
        try:
            parts.append(line.decode("utf-8"))
            utf8_lines += 1
        except UnicodeDecodeError:
            parts.append(_cp1252(line))
            other_lines += 1
    if not utf8_lines or not other_lines:
        return None
    return "".join(parts), "utf-8+cp1252"     # no codec has this name: a saved profile falls back to detection


def _cp1252(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:          # one of the five bytes cp1252 leaves undefined
        return line.decode("latin-1")


def _single_byte(data: bytes) -> tuple[str, str]:
    best = None
    for enc in ("cp1252", "cp1250"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = sum(text.count(c) * _WEIGHT.get(c, 1 if c.isalpha() else -1) for c in set(text) if ord(c) > 127)
        if best is None or score > best[0]:       # ties go to cp1252, the more common
            best = (score, text, enc)
    if best is None:
        return data.decode("latin-1"), "latin-1"
    return best[1], best[2]


def _reject_binary(text: str, path) -> None:
    sample = text[:65536]
    if not sample:
        return
    control = sum(1 for c in sample if (c < " " and c not in "\t\r\n") or c == "\x7f" or "\x80" <= c < "\xa0")
    if "\x00" in sample or control > max(2, len(sample) // 100):
        raise ParseError(path, None, "looks like a binary file, not a CSV export")

