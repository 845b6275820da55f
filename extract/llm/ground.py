"""Grounding: a value the LLM returns must be in the words it cites, and those words in the source."""

from __future__ import annotations

import re
import unicodedata

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NONE_WORDS = ("无", "未", "没有", "零", "均为0", "为0")


def squash(text: str) -> str:
    """Compare text ignoring width, whitespace and line breaks (exports scatter all three)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def quote_in_source(quote: str, source: str) -> bool:
    q = squash(quote)
    return bool(q) and q in squash(source)


def number_in_quote(value: float, quote: str) -> bool:
    """The value occurs as a number in the quote; a zero may also be said in words ('未收取')."""
    text = unicodedata.normalize("NFKC", quote).replace(",", "")
    numbers = [float(n) for n in _NUMBER.findall(text)]
    if any(abs(n - value) < 1e-9 for n in numbers):
        return True
    # Amounts stated in 万元 are asked for in 元.
    if any(abs(n * 10000 - value) < 1e-6 for n in numbers) and "万" in text:
        return True
    return value == 0 and any(w in text for w in _NONE_WORDS)


def supported(value: float | None, quote: str, source: str) -> str | None:
    """None when the value is grounded; otherwise why not."""
    if value is None:
        return None
    if not quote.strip():
        return "no source text cited"
    if not quote_in_source(quote, source):
        return "cited text is not in the source"
    if not number_in_quote(value, quote):
        return f"{value:g} does not occur in the cited text"
    return None
