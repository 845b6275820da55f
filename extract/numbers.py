"""Parse what a table cell or a sentence says: a number, blank, a dash-like marker, or label text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..schemas import State

DASHES = frozenset({"/", "\\", "-", "—", "——", "–", "－", "一", "无", "空", "×", "x", "X", "N/A", "n/a", "--", "---"})
# Units a count or an amount is written with, longest first ('件次' before '件').  After
# NFKC, full-width brackets are half-width: '1909（件）', '1909(件)', '1909 件次' all end in one.
_UNITS = r"(?:万元|元|件次|件|条次|条|个|项|人次|次|份|篇|%)"
_UNIT = re.compile(rf"\s*(?:\(\s*{_UNITS}\s*\)|{_UNITS})$")
_UNIT_AT = re.compile(rf"\s*(?:\(\s*{_UNITS}\s*\)|{_UNITS})")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_SPACED_DIGITS = re.compile(r"^[+-]?\d+( \d+)+(\.\d+)?$")
_NUMBER_AT = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SEPARATORS = re.compile(r"[\s,;、/]+")


@dataclass(frozen=True, slots=True)
class Parsed:
    state: State
    value: int | float | None
    raw: str
    note: str | None = None  # why confidence should drop, e.g. digits split by a space


@lru_cache(maxsize=16384)
def parse_cell(text: str, *, decimal: bool = False) -> Parsed | None:
    """Read a cell.  Returns None when the cell is label text rather than a value.

    '1,234', '1 234', '６２．６７', '62.67886万元', '1909（件）', '1909 件次' parse (the unit,
    bracketed or not, is dropped; ``raw`` keeps it); '/', '—', '无' are dashes; '' is blank.
    Ordinals such as '1.' or '（三）' are label text.  Text made only of several numbers
    ('1909 件 12', '3件5件') is a value the cell does not give unambiguously: state
    ``NOT_FOUND``, no value, with a note so that it is flagged.
    """
    raw = text
    s = unicodedata.normalize("NFKC", text).strip().replace("\u3000", " ")
    if not s:
        return Parsed(State.BLANK, None, raw)
    if s in DASHES or (len(s) > 1 and set(s) <= set("-—–/\\")):
        return Parsed(State.DASH, None, raw)
    whole = s
    s = _UNIT.sub("", s).strip()
    note = None
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    elif _SPACED_DIGITS.match(s):
        s = s.replace(" ", "")
        note = "digits separated by spaces were read as one number"
    if not _NUMBER.match(s):
        if _several_numbers(whole):
            # '1909 件 12', '3件5件', '1,9': a value cell, but not one number.  Keep what
            # it says and ask for review rather than pick one of the numbers.
            return Parsed(State.NOT_FOUND, None, raw, f"the cell reads {raw.strip()!r}: more than one number, none taken")
        return None
    number: int | float
    if "." in s:
        number = float(s)
        if not decimal and number.is_integer():
            number = int(number)
    else:
        number = int(s)
    return Parsed(State.NUMBER, number, raw, note)


def _several_numbers(s: str) -> bool:
    """True for text made only of two or more numbers, each with an optional unit, apart by
    spaces, commas, '、', ';' or '/' (or by a unit alone: '3件5件').  Not dates ('2023-01')."""
    pos, count = 0, 0
    while True:
        m = _NUMBER_AT.match(s, pos)
        if not m:
            return False
        count += 1
        pos = m.end()
        unit = _UNIT_AT.match(s, pos)
        if unit:
            pos = unit.end()
        sep = _SEPARATORS.match(s, pos)
        if sep:
            pos = sep.end()
        if pos >= len(s):
            return count >= 2
        if not unit and not sep:
            return False


_SENTENCE_NUMBER = re.compile(r"\d[\d,，]*(?:\.\d+)?")


def sentence_number(text: str) -> int | float | None:
    s = unicodedata.normalize("NFKC", text).replace(",", "")
    m = _SENTENCE_NUMBER.search(s)
    if not m:
        return None
    v = float(m.group())
    return int(v) if v.is_integer() and "." not in m.group() else v
