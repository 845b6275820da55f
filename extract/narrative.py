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
from .labels import mainland_chars
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
            # Mirrors in traditional characters with pinyin (主動(dòng)公開) read as mainland text;
            # offsets still point at the characters as written.
            t, kept = mainland_chars(t)
            chars.extend(t)
            offsets.extend(p.offset + i for i in kept)
        return cls("".join(chars), offsets)

    def span(self, a: int, b: int) -> tuple[int, int]:
        return (self.offsets[a], self.offsets[b - 1] + 1) if b > a else (self.offsets[a], self.offsets[a])


def _value(doc: Document, txt: _Text, m: re.Match, value: int | float, confidence: float = 0.85, start: int | None = None) -> Value:
    """The whole match (from ``start`` when given) is the raw text a reviewer needs to see,
    not just its number."""
    a, b = txt.span(m.start() if start is None else start, m.end())
    v = text_value(doc, a, b, value, confidence=confidence)
    if _APPROXIMATE.search(m.group(0)):
        v.flag("the text gives an approximate count (余/多)", 0.6)
    elif (number := next((g for g in m.groups() if g), None)) and not any(ch.isdigit() for ch in number):
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
_RECEIVED = r"(?:收到|受理|接收|新收|接到|(?<=[年共])收)"
_APPS = re.compile(
    rf"{_RECEIVED}[^。；]{{0,25}}?申请[^。；\d]{{0,12}}?(\d[\d,]*|{CN_NUMBER})\s*(?:余|多)?\s*(?:件|个|份|条|宗)"
    # The count before the noun: 共收到8份政府信息公开申请, 收到7条依申请公开政府信息的申请.
    rf"|{_RECEIVED}\s*(?:了)?\s*(?:共|共计)?\s*(\d[\d,]*|{CN_NUMBER})\s*(?:余|多)?\s*(?:件|个|份|条|宗)[^。；，,\d]{{0,16}}?申请"
)


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
            v = _num(next(g for g in m.groups() if g is not None))
            factor = (scale or {}).get(m.group(2) if m.lastindex and m.lastindex >= 2 else "", 1)
            if factor != 1:
                v = _num(str(round(float(v) * factor, 2)))
            return _value(doc, txt, m, v)
    return _not_stated(doc)


def applications(doc: Document, layout: Layout) -> Value:
    return _stated(doc, [layout.section_text(doc, 1), doc.paragraphs], _APPS_NONE, _APPS)


# ---- s6.processing_fee_yuan ---------------------------------------------------

_FEE_NONE = re.compile(r"(?:未|没有|均未|不曾|无)(?:[^。；，,\d]{0,20}?)(?:收取|收缴)[^。；]{0,20}?(?:费用|费)|(?:信息处理费|费用)[^。；]{0,6}?(?:为零|0元)")
_FEE = re.compile(r"(?:收取|收缴)[^。；\d]{0,20}?处理费(?:用)?\s*(?:为|共|计|合计)?\s*(\d[\d,]*(?:\.\d+)?)\s*(万元|元)?")


def processing_fee(doc: Document, layout: Layout) -> Value:
    return _stated(doc, [layout.section_text(doc, 6), doc.paragraphs], _FEE_NONE, _FEE, {"万元": 10000})


# ---- s6.npc_suggestions / s6.cppcc_proposals --------------------------------------

# "人大代表建议15件" or, count first, "承办的13件人大代表建议".
_NPC = re.compile(rf"人大[^。；，,]{{0,14}}?建议\s*(?:共)?\s*(\d+|{CN_NUMBER})\s*(?:件|条|个|份)|(\d+|{CN_NUMBER})\s*(?:件|条|个|份)\s*(?:市|区|县|省)?人大(?:代表)?建议")
_CPPCC = re.compile(rf"政协[^。；，,]{{0,14}}?提案\s*(?:共)?\s*(\d+|{CN_NUMBER})\s*(?:件|条|个|份)|(\d+|{CN_NUMBER})\s*(?:件|条|个|份)\s*(?:市|区|县|省)?政协(?:委员)?提案")


def _count(doc: Document, layout: Layout, rx: re.Pattern) -> Value:
    for paras in (layout.section_text(doc, 6), doc.paragraphs):
        txt = _Text.of(paras)
        m = rx.search(txt.text)
        if m:
            return _value(doc, txt, m, _num(next(g for g in m.groups() if g is not None)))
    return _not_stated(doc)


# ---- s1.proactive_count --------------------------------------------------------

# Not an ordinal (第二十条) nor the tail of a longer number; 条例 is not a unit.
_COUNT = re.compile(rf"(?<![第\d,.一二两三四五六七八九十百千万〇零])(\d[\d,]*|{CN_NUMBER})\s*(?:余|多)?\s*(?:条(?!例)|篇|件|项|则)")
_CLAUSE_BREAK = re.compile(r"[，,。；;：:！？\n]")
# A count of published items: its clause says it was published (发布, 公开, 更新, …).
_PUBLISHED = re.compile(r"发布|公开|更新|新增|推送|公布")
# Clauses whose counts are something else: applications and their handling, reactions
# to what was published, or what was withheld.
_NOT_PUBLISHED = re.compile(
    r"申请|答复|受理|办结|复议|诉讼|不予公开|不公开|报道|采访|访问|点击|浏览|阅读|留言|信箱|热线|来信|咨询|粉丝|关注|转载|采用|建议|提案"
)
# A part of a total given before it (其中…, 包括…).
_PART = re.compile(r"其中|包括|含")
# 主动公开目录 / 指南 are the catalogue and the guide, not items disclosed.
_PROACTIVE = re.compile(r"(?<!不)主动公开(?!\s*(?:基本)?(?:目录|指南))")
# 截至目前 / 截至2024年6月: a running total over years, not the year's count.  截至 the
# year's last day is the year's count.
_AS_OF = re.compile(r"(?:截至|截止)(?!\s*(?P<year>\d{4})\s*年\s*12\s*月\s*31\s*日)")


_ORDINAL_BEFORE = re.compile(r"第[\s一二两三四五六七八九十百千万〇零\d]*$")


@dataclass
class _Candidate:
    match: re.Match[str]
    clause_start: int
    value: int | float
    proactive: bool  # the clause itself says 主动公开
    scoped: bool  # the clause or sentence names the year (全年, 本年, 2023年)


def _candidates(text: str, year: int | None) -> list[_Candidate]:
    """Counts of published items in section 一, in text order."""
    year_words = ("全年", "本年", "年度", "今年") + ((f"{year}年", f"{year} 年") if year else ())
    out: list[_Candidate] = []
    for m in _COUNT.finditer(text):
        if _ORDINAL_BEFORE.search(text, max(0, m.start() - 8), m.start()):
            continue  # 第 二 十 条: an ordinal with its characters spaced apart
        clause_start = max((b.end() for b in _CLAUSE_BREAK.finditer(text, 0, m.start())), default=0)
        clause = text[clause_start : m.start()]
        if not _PUBLISHED.search(clause) or _NOT_PUBLISHED.search(clause):
            continue
        sent_start = max(text.rfind(ch, 0, m.start()) for ch in "。\n") + 1
        lead = text[sent_start : m.start()]
        # "截至目前共1681条，其中2024年公开324条": the part after 其中 has its own scope.
        parts = list(_PART.finditer(lead))
        if _AS_OF.search(lead[parts[-1].end() :] if parts else lead):
            continue
        proactive = bool(_PROACTIVE.search(clause))
        scoped = any(w in lead for w in year_words)
        if _PART.search(clause) and not (proactive or scoped):
            continue
        try:
            value = _num(m.group(1))
        except ValueError:
            continue
        out.append(_Candidate(m, clause_start, value, proactive, scoped))
    return out


def proactive_count(doc: Document, layout: Layout, year: int | None) -> Value:
    """The headline count of proactively disclosed items in section 一.

    Reports give it as the first count of published items (网站发布信息3972条), or as
    the count the text calls 主动公开; parts of it (其中…), running totals (截至目前),
    applications and reactions (访问量, 报道) are not it.  Only a count that says 主动公开
    for the year goes unflagged; any other reading is a guess a reviewer should see.
    """
    # Some 2019-template reports state it under 二、主动公开政府信息情况, before the table.
    for section in (1, 2):
        paras = layout.section_text(doc, section)
        if section == 2:
            paras = [p for p in paras if _PROSE.search(p.text)]  # not the table's header lines
        txt = _Text.of(paras)
        found = _candidates(txt.text, year)
        if found:
            break
    else:
        return _not_stated(doc)
    proactive = [c for c in found if c.proactive]
    best = proactive[0] if proactive else found[0]
    v = _value(doc, txt, best.match, best.value, confidence=_PROACTIVE_CONFIDENCE, start=best.clause_start)
    others = sorted({c.value for c in found if c.value != best.value and (c.proactive or c is found[0])})
    if not (best.proactive and best.scoped):
        v.flag("the count's sentence does not say it is this year's proactive disclosure total", _GUESS_CONFIDENCE)
    elif others:
        v.flag(f"other counts read as likely: {', '.join(f'{r:g}' for r in others)}", _GUESS_CONFIDENCE)
    return v


_PROSE = re.compile(r"[，。；,;]")
_PROACTIVE_CONFIDENCE = 0.8
_GUESS_CONFIDENCE = 0.5


def narrative_facts(doc: Document, layout: Layout, year: int | None) -> dict[str, Value]:
    return {
        "s1.proactive_count": proactive_count(doc, layout, year),
        "s1.applications_received": applications(doc, layout),
        "s6.processing_fee_yuan": processing_fee(doc, layout),
        "s6.npc_suggestions": _count(doc, layout, _NPC),
        "s6.cppcc_proposals": _count(doc, layout, _CPPCC),
    }
