"""Parse what a table cell or a sentence says: a number, blank, a dash-like marker, or label text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..schemas import State

DASHES = frozenset({"/", "\\", "-", "—", "——", "–", "－", "一", "无", "空", "×", "x", "X", "N/A", "n/a", "--", "---"})
_UNIT = re.compile(r"(万元|元|件|条|个|项|次|份|篇|%)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_SPACED_DIGITS = re.compile(r"^[+-]?\d+( \d+)+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Parsed:
    state: State
    value: int | float | None
    raw: str
    note: str | None = None  # why confidence should drop, e.g. digits split by a space


@lru_cache(maxsize=16384)
def parse_cell(text: str, *, decimal: bool = False) -> Parsed | None:
    """Read a cell.  Returns None when the cell is label text rather than a value.

    '1,234', '1 234', '６２．６７', '62.67886万元' parse; '/', '—', '无' are dashes;
    '' is blank.  Ordinals such as '1.' or '（三）' are label text.
    """
    raw = text
    s = unicodedata.normalize("NFKC", text).strip().replace("\u3000", " ")
    if not s:
        return Parsed(State.BLANK, None, raw)
    if s in DASHES or (len(s) > 1 and set(s) <= set("-—–/\\")):
        return Parsed(State.DASH, None, raw)
    s = _UNIT.sub("", s).strip()
    note = None
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    elif _SPACED_DIGITS.match(s):
        s = s.replace(" ", "")
        note = "digits separated by spaces were read as one number"
    if not _NUMBER.match(s):
        return None
    number: int | float
    if "." in s:
        number = float(s)
        if not decimal and number.is_integer():
            number = int(number)
    else:
        number = int(s)
    return Parsed(State.NUMBER, number, raw, note)


_SENTENCE_NUMBER = re.compile(r"\d[\d,，]*(?:\.\d+)?")


def sentence_number(text: str) -> int | float | None:
    s = unicodedata.normalize("NFKC", text).replace(",", "")
    m = _SENTENCE_NUMBER.search(s)
    if not m:
        return None
    v = float(m.group())
    return int(v) if v.is_integer() and "." not in m.group() else v
