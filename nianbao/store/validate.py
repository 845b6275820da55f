"""What a reviewer may type into a field: impossible input is refused with a message saying why.

Counts are non-negative whole numbers; amounts (``t2.fees.amount``,
``t2.procurement.amount``, ``s6.processing_fee_yuan``) non-negative decimals; the 2019
template's 本年增/减 column whole numbers of either sign.  Any cell may instead be
blank (an empty cell), a dash (``/``, ``—``, ``-``, ``无``: the cell holds a marker) or
not found (the document does not carry it).  Full-width digits and thousands
separators are accepted; anything else is refused, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from ..schemas import State
from ..schemas.template import DECIMAL_KEYS, SIGNED_COLUMNS, TEMPLATES

Kind = Literal["count", "signed", "amount", "year", "template", "text"]
AMOUNT_KEYS = DECIMAL_KEYS | {"s6.processing_fee_yuan"}
# A lone 一 is left out: typed by a person it may be the numeral one.
DASH_MARKERS = frozenset({"/", "／", "—", "——", "–", "-", "－", "无"})
YEARS = range(1990, 2101)
MAX_TEXT = 200
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

_KIND_WORDS: dict[Kind, str] = {
    "count": "a count: a whole number 0 or more",
    "signed": "a change: a whole number, + or -",
    "amount": "an amount: a number 0 or more, decimals allowed",
    "year": f"a year from {YEARS.start} to {YEARS.stop - 1}",
    "template": f"the template: one of {', '.join(TEMPLATES)}",
    "text": "text",
}


class CorrectionError(ValueError):
    """Input a field cannot take; the message says what it can take."""


@dataclass(frozen=True)
class Parsed:
    state: State
    value: int | float | str | None
    typed: str


def kind_of(key: str) -> Kind:
    if key == "meta.agency":
        return "text"
    if key == "meta.template":
        return "template"
    if key == "meta.year":
        return "year"
    if key in AMOUNT_KEYS:
        return "amount"
    if key.startswith("t2.") and key.rsplit(".", 1)[1] in SIGNED_COLUMNS:
        return "signed"
    return "count"


def _refuse(key: str, typed: str, why: str) -> CorrectionError:
    shown = repr(typed) if typed else "nothing"
    return CorrectionError(f"{key} is {_KIND_WORDS[kind_of(key)]}; {shown} {why}. Type a number, or mark the cell blank, / (dash) or not found.")


def parse(key: str, value: object, state: str | State | None = None) -> Parsed:
    """The state and value a correction of ``key`` means, or CorrectionError.

    ``value`` is what the reviewer gave (text as typed, or a number from an API call);
    ``state`` may say blank, dash or not_found outright, else it follows from the value.
    """
    if isinstance(value, bool):
        raise _refuse(key, str(value), "is not a number")
    typed = "" if value is None else str(value)
    text = unicodedata.normalize("NFKC", typed).strip()
    try:
        wanted = State(state) if state is not None else None
    except ValueError:
        raise CorrectionError(f"{key}: unknown state {state!r}; use one of {', '.join(s.value for s in State)}") from None
    if wanted in (State.BLANK, State.DASH, State.NOT_FOUND):
        if text and not (wanted is State.DASH and text in DASH_MARKERS):
            raise CorrectionError(f"{key}: a cell marked {wanted.value} has no value, but {typed!r} was given")
        return Parsed(wanted, None, typed)
    if wanted is None:
        if not text:
            return Parsed(State.BLANK, None, typed)
        if text in DASH_MARKERS:
            return Parsed(State.DASH, None, typed)
    kind = kind_of(key)
    if kind == "text":
        if not text:
            raise CorrectionError(f"{key}: an empty name; mark it not found instead")
        if len(text) > MAX_TEXT:
            raise CorrectionError(f"{key}: {len(text)} characters is too long for a name (at most {MAX_TEXT})")
        return Parsed(State.TEXT, text, typed)
    if kind == "template":
        if text not in TEMPLATES:
            raise _refuse(key, typed, "is not a template")
        return Parsed(State.TEXT, text, typed)
    if wanted not in (None, State.NUMBER):
        raise CorrectionError(f"{key}: state {wanted.value} is not for a number")
    return Parsed(State.NUMBER, _number(key, kind, value, text, typed), typed)


def _number(key: str, kind: Kind, value: object, text: str, typed: str) -> int | float:
    if isinstance(value, int):
        number: Decimal = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _refuse(key, typed, "is not a number")
        number = Decimal(repr(value))
    else:
        plain = _THOUSANDS.sub("", text)
        if not _NUMBER.fullmatch(plain):
            raise _refuse(key, typed, "is not a number")
        try:
            number = Decimal(plain)
        except InvalidOperation:
            raise _refuse(key, typed, "is not a number") from None
    if number < 0 and kind != "signed":
        raise _refuse(key, typed, "is negative")
    if kind == "amount":
        return float(number)
    if number != number.to_integral_value():
        raise _refuse(key, typed, "is not a whole number")
    whole = int(number)
    if kind == "year" and whole not in YEARS:
        raise _refuse(key, typed, "is out of range")
    return whole
