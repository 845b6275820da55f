"""Label normalisation and fuzzy matching, tolerant of spaces, width, breaks and punctuation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_DROP = re.compile(r"[\s\u3000\u00a0\"'“”‘’「」『』()（）\[\]【】《》<>〈〉、，,。.．:：;；!！?？·…_\-—–/／\\|*#]+")
_ORDINAL = re.compile(r"^\s*(?:[（(]\s*([一二三四五六七八九十]+)\s*[)）]|([一二三四五六七八九十]+)\s*[、.．]|(\d+)\s*[、.．])")


# Mirror sites inject pinyin after characters: 動(dòng)態(tài).
_PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\s*[(（][a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ\u0300-\u036f ]{1,12}[)）]")
# Traditional characters to the simplified ones the template uses: for matching only;
# values and provenance keep the text as written.  OpenCC's Taiwan phrase tables are not
# used: they rewrite words the template itself uses (文件 → 文档, 新增 → 添加).  The few
# Taiwan words mirrors put in template labels are mapped here instead (same length, so
# offsets survive).
_TO_SIMPLIFIED = opencc.OpenCC("t2s")
_TAIWAN_WORDS = {"檔案": "文件", "資訊": "信息"}
_TAIWAN = re.compile("|".join(_TAIWAN_WORDS))


def strip_pinyin(text: str) -> str:
    """The text without the pinyin mirrors inject after characters."""
    return _PINYIN.sub("", text)


def mainland(text: str) -> str:
    """Simplified text without injected pinyin (its length may differ)."""
    return _simplified(_PINYIN.sub("", text))


def _simplified(text: str) -> str:
    return _TO_SIMPLIFIED.convert(_TAIWAN.sub(lambda m: _TAIWAN_WORDS[m.group()], text))


def mainland_chars(text: str) -> tuple[str, list[int]]:
    """``mainland(text)`` with, for each character of the result, its index in ``text``.

    Narrative facts are matched on mainland text but must point at the original, so
    the conversion keeps a map.  Phrase conversion may change length (rare); then each
    character is converted on its own, which keeps the map one to one.
    """
    keep = list(range(len(text)))
    for m in reversed(list(_PINYIN.finditer(text))):
        del keep[m.start() : m.end()]
    stripped = "".join(text[i] for i in keep)
    converted = _simplified(stripped)
    if len(converted) != len(stripped):
        converted = "".join(c if len(c := _TO_SIMPLIFIED.convert(ch)) == 1 else ch for ch in stripped)
    return converted, keep


def squash(text: str) -> str:
    """Text compared the way a reader sees it: width-folded, without whitespace or line breaks
    (exports scatter all three)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=4096)
def norm(text: str) -> str:
    """Compare-ready form: mainland simplified, NFKC (full-width → half-width), no spaces or punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", mainland(text)))


def leading_ordinal(text: str) -> str | None:
    """'（三）不予公开' -> '三', '2. 重复申请' -> '2', '一、本年…' -> '一'."""
    m = _ORDINAL.match(unicodedata.normalize("NFKC", text))
    if not m:
        return None
    return next(g for g in m.groups() if g)


@lru_cache(maxsize=8192)
def _bigrams(s: str) -> frozenset[str]:
    return frozenset(s[i : i + 2] for i in range(len(s) - 1)) if len(s) > 1 else frozenset((s,))


@lru_cache(maxsize=65536)
def containment(label: str, text: str) -> float:
    """How much of ``label`` appears in ``text`` (0..1), both already normalised.

    Bigrams reward the template's word order; the character-set fallback survives
    shuffled or dropped characters in mangled exports (``期未按费知要求纳缴用``).
    """
    if not label or not text:
        return 0.0
    if label in text:
        return 1.0
    grams = _bigrams(label)
    by_bigram = len(grams & _bigrams(text)) / len(grams)
    chars = set(label)
    by_char = len(chars & set(text)) / len(chars)
    return max(by_bigram, 0.8 * by_char)
