"""Deterministic baseline for the narrative facts (s1.*, s6.*) of fields.md.

Each fact is read by a few patterns over the section it belongs to, falling back
to the whole text.  The value keeps the matched sentence span, so a reviewer can
see exactly which words produced it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ..schemas import Method, State, Value
from .document import Document, Paragraph
from .fill import provenance, text_value
from .locate import Layout

_END = "。；;！？!?：:"


@dataclass
class _Text:
    """Section text with wrapped lines re-joined, mapped back to Document.text offsets."""

    text: str
    offsets: list[int]  # offsets[i] = Document.text offset of text[i]

    @classmethod
    def of(cls, paragraphs: Iterable[Paragraph]) -> _Text:
        chars: list[str] = []
        offsets: list[int] = []
        for p in paragraphs:
            if chars and chars[-1] not in _END:
                pass  # a line wrapped mid-sentence: join without a break
            elif chars:
                chars.append("\n")
                offsets.append(p.offset - 1)
            t = unicodedata.normalize("NFKC", p.text)
            # NFKC keeps length for CJK text; fall back to the raw text if not.
            if len(t) != len(p.text):
                t = p.text
            chars.extend(t)
            offsets.extend(range(p.offset, p.offset + len(t)))
        return cls("".join(chars), offsets)

    def span(self, a: int, b: int) -> tuple[int, int]:
        return (self.offsets[a], self.offsets[b - 1] + 1) if b > a else (self.offsets[a], self.offsets[a])


def _value(doc: Document, txt: _Text, m: re.Match, value: int | float, confidence: float = 0.85) -> Value:
    """The whole match is the raw text a reviewer needs to see, not just its number."""
    a, b = txt.span(*m.span())
    v = text_value(doc, a, b, value, confidence=confidence)
    if _APPROXIMATE.search(m.group(0)):
        v.flag("the text gives an approximate count (余/多)", 0.6)
    elif m.re.groups and m.group(1) and not any(ch.isdigit() for ch in m.group(1)):
        v.flag("count written in Chinese numerals", 0.7)
    return v


def _not_stated(doc: Document) -> Value:
    # Many reports do not state these facts, but just as many state them in words the
    # patterns do not read (一件, 四十余条, a count in another section).  A null the rules
    # cannot vouch for is cheap to check and costly to trust, so it is flagged.
    v = Value(state=State.NOT_FOUND, provenance=provenance(doc, None), method=Method.REGEX, confidence=0.6)
    v.flag("not found in a form the rules read; check whether the text states it")
    return v


# Counts written in Chinese numerals: 一件, 四十余条, 一百二十三篇.
CN_NUMBER = "[一二两三四五六七八九十百千万〇零]+"
_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(s: str) -> int | None:
    """'四十' → 40, '一百零五' → 105, '十二' → 12, '两万' → 20000; None when it is not a number."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _num(s: str) -> int | float:
    if not any(ch.isdigit() for ch in s):
        cn = chinese_number(s)
        if cn is None:
            raise ValueError(s)
        return cn
    v = float(s.replace(",", ""))
    return int(v) if v.is_integer() else v


_APPROXIMATE = re.compile(r"(?:\d|[一二两三四五六七八九十百千万])\s*[余多]")


# ---- s1.applications_received -------------------------------------------------

_APPS_NONE = re.compile(r"(?:未|没有)(?:收到|受理|接到|接收)[^。；\d]{0,20}?申请")
_APPS = re.compile(rf"(?:收到|受理|接收|新收|接到)[^。；]{{0,25}}?申请[^。；\d]{{0,12}}?(\d[\d,]*|{CN_NUMBER})\s*(?:余|多)?\s*(?:件|个|份|条|宗)")


def _stated(doc: Document, sections: list[list[Paragraph]], none_rx: re.Pattern, number_rx: re.Pattern, scale: dict[str, float] | None = None) -> Value:
    """The first statement in the first section that has one: "none" (0) or a number."""
    for paras in sections:
        txt = _Text.of(paras)
        hits = [(m.start(), True, m) for m in none_rx.finditer(txt.text)]
        hits += [(m.start(), False, m) for m in number_rx.finditer(txt.text)]
        if hits:
            _, is_none, m = min(hits, key=lambda h: h[0])
            if is_none:
                return _value(doc, txt, m, 0)
            v = _num(m.group(1))
            factor = (scale or {}).get(m.group(2) if m.lastindex and m.lastindex >= 2 else "", 1)
            if factor != 1:
                v = _num(str(round(float(v) * factor, 2)))
            return _value(doc, txt, m, v)
    return _not_stated(doc)


def applications(doc: Document, layout: Layout) -> Value:
    return _stated(doc, [layout.section_text(doc, 1), doc.paragraphs], _APPS_NONE, _APPS)


# ---- s6.processing_fee_yuan ---------------------------------------------------

_FEE_NONE = re.compile(r"(?:未|没有|均未|不曾|无)(?:收取|收缴)[^。；]{0,20}?(?:费|费用)|(?:信息处理费|费用)[^。；]{0,6}?(?:为零|0元)")
_FEE = re.compile(r"(?:收取|收缴)[^。；\d]{0,20}?处理费(?:用)?\s*(?:为|共|计|合计)?\s*(\d[\d,]*(?:\.\d+)?)\s*(万元|元)?")


def processing_fee(doc: Document, layout: Layout) -> Value:
    return _stated(doc, [layout.section_text(doc, 6), doc.paragraphs], _FEE_NONE, _FEE, {"万元": 10000})


# ---- s6.npc_suggestions / s6.cppcc_proposals --------------------------------------

_NPC = re.compile(rf"人大[^。；，,]{{0,14}}?建议\s*(?:共)?\s*(\d+|{CN_NUMBER})\s*(?:件|条|个|份)")
_CPPCC = re.compile(rf"政协[^。；，,]{{0,14}}?提案\s*(?:共)?\s*(\d+|{CN_NUMBER})\s*(?:件|条|个|份)")


def _count(doc: Document, layout: Layout, rx: re.Pattern) -> Value:
    for paras in (layout.section_text(doc, 6), doc.paragraphs):
        txt = _Text.of(paras)
        m = rx.search(txt.text)
        if m:
            return _value(doc, txt, m, _num(m.group(1)))
    return _not_stated(doc)


# ---- s1.proactive_count --------------------------------------------------------

_COUNT = re.compile(rf"(\d[\d,]*|{CN_NUMBER})\s*(?:余|多)?\s*(?:条|篇|件|项|则)")
_CLAUSE_BREAK = re.compile(r"[，,。；;：:！？\n]")


def proactive_count(doc: Document, layout: Layout, year: int | None) -> Value:
    """The headline count of proactively disclosed items in section 一, by a scored reading."""
    txt = _Text.of(layout.section_text(doc, 1))
    text = txt.text
    scored: list[tuple[int, re.Match[str]]] = []
    year_words = ("全年", "本年", "年度", "今年") + ((f"{year}年", f"{year} 年") if year else ())
    for m in _COUNT.finditer(text):
        clause_start = max((b.end() for b in _CLAUSE_BREAK.finditer(text, 0, m.start())), default=0)
        clause = text[clause_start : m.start()]
        if not re.search(r"发布|公开|更新", clause):
            continue
        sent_start = max(text.rfind(ch, 0, m.start()) for ch in "。\n") + 1
        sent_end = min((i for i in (text.find(ch, m.end()) for ch in "。\n") if i >= 0), default=len(text))
        sentence = text[sent_start:sent_end]
        score = 2
        score += 3 if "主动公开" in sentence else 0
        scoped = any(w in clause for w in year_words)
        score += 2 if scoped else 0
        score -= 3 if re.search(r"总计|累计|截至|截止", clause) else 0
        score -= 2 if ("其中" in clause and not scoped) else 0
        scored.append((score, m))
    if not scored or max(s for s, _ in scored) < 3:
        return _not_stated(doc)
    best = max(scored, key=lambda sm: sm[0])
    v = _value(doc, txt, best[1], _num(best[1].group(1)), confidence=0.7)
    rivals = {_num(m.group(1)) for s, m in scored if s == best[0]} - {v.value}
    if best[0] < _PROACTIVE_SURE:
        v.flag("the count's sentence does not say it is this year's proactive disclosure total", 0.5)
    elif rivals:
        v.flag(f"other counts read as likely: {', '.join(f'{r:g}' for r in sorted(rivals))}", 0.5)
    return v


# A candidate in a sentence saying 主动公开 and scoped to the year (全年, 本年, 2023年) scores 7.
_PROACTIVE_SURE = 7


def narrative_facts(doc: Document, layout: Layout, year: int | None) -> dict[str, Value]:
    return {
        "s1.proactive_count": proactive_count(doc, layout, year),
        "s1.applications_received": applications(doc, layout),
        "s6.processing_fee_yuan": processing_fee(doc, layout),
        "s6.npc_suggestions": _count(doc, layout, _NPC),
        "s6.cppcc_proposals": _count(doc, layout, _CPPCC),
    }
