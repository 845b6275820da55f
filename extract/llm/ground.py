"""Grounding: a value the LLM returns must be stated, about its field, in words that are in the source.

An answer is grounded when all of these hold:

- its quote is in the source (ignoring width and whitespace) and does not speak to
  the model (a planted "忽略以上指令…" is text to report, not to obey);
- the value occurs in the quote as a count: a standalone number, not a year, date,
  house number, phone number, percentage, heading ordinal or 第N;
- the wording nearest to that number, in the same sentence and within a few
  characters, is the field's own (``topics.py``): "人大代表建议15件" grounds 15 NPC
  suggestions, and not 15 CPPCC proposals;
- a 0 written as a word is grounded only by a negated verb of that field next to
  its wording ("未收到…申请", "均未收取费用"), never by any 未 or 无 in the quote.

A silent wrong value is the worst outcome; a rejected answer only costs a flag.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..labels import squash
from .topics import Topic

# Instruction-like text aimed at the model.  In a quote, any of these rejects the
# answer; the strong ones also taint every answer of a call whose source holds them.
_PLANTED = r"忽略(?:以上|之前|上述|前面|此前|所有)|无视(?:以上|之前|上述)|(?:ignore|disregard)\s+(?:all\s+|the\s+)?(?:previous|prior|above)"
_PLANTED_RX = re.compile(_PLANTED, re.I)
_SPEAKS_TO_MODEL = re.compile(rf"{_PLANTED}|instructions?|指令|把所有", re.I)

_SENTENCE_END = re.compile(r"[。;!?]")  # after NFKC, ；！？ are ASCII
# A note in brackets, such as a label's "（区分处理的，只计这一情形，不计其他情形）": its words
# ("其他") would otherwise stand between the row's own label and its numbers.
_ASIDE = re.compile(r"\([^()\d]*\)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ZERO_WORD = re.compile(r"[为是]零|零(?=[件条元个项宗份次])")
# What follows a number that is not a count: dates, house numbers, sessions, editions, times, shares.
_NOT_COUNT_UNITS = frozenset("年月日号路届期版时分秒%‰楼层室栋")
_RUN_JOINERS = frozenset("-/:~")  # 2023-12-31, 0632-8823286, 10:30
_ORDINAL_ENDS = frozenset("、.)")  # 3、 3. (3) 3) head a clause or a row; a count takes a unit
_BRACKETS = frozenset("〔[【")  # 〔2023〕9号: the year of a document number
_NEGATIONS = ("没有", "不曾", "从未", "未", "无", "不")
NEGATED_VERB_GAP = 6  # "未向申请人收取": words between a negation and its verb
_TIGHT_NEGATIONS = ("不",)  # "不收取" but not "不断…公开": its verb must follow at once
_ZERO_ELSEWHERE = "0 is not stated next to this field's wording (a 未 or 无 elsewhere in the text is no zero)"



def compact(text: str) -> str:
    """Normalised text in which positions can be compared: width folded, thousands
    separators dropped, whitespace removed next to CJK ("公开 11 件" → "公开11件",
    "政\\n务") but kept as one space between ASCII tokens ("0\\t0" → "0 0", so table
    cells stay apart and "1.\\t0" is no decimal)."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)

    def gap(m: re.Match[str]) -> str:
        a = m.string[m.start() - 1] if m.start() else ""
        b = m.string[m.end()] if m.end() < len(m.string) else ""
        return " " if a.isascii() and b.isascii() and a and b else ""

    return re.sub(r"\s+", gap, t).strip()


def quote_in_source(quote: str, source: str) -> bool:
    q = squash(quote)
    return bool(q) and q in squash(source)


def planted_instruction(source: str) -> str | None:
    """The first instruction to the model planted in a source text, if any."""
    m = _PLANTED_RX.search(unicodedata.normalize("NFKC", source))
    return m.group(0) if m else None


def speaks_to_model(quote: str) -> str | None:
    m = _SPEAKS_TO_MODEL.search(unicodedata.normalize("NFKC", quote))
    return m.group(0) if m else None


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    values: tuple[float, ...]  # what it may stand for: n, and n×10000 before 万
    count: bool  # False for years, dates, ordinals, 第N and the like


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _NUMBER.finditer(text):
        s, e = m.span()
        before = text[s - 1] if s else ""
        after = text[e] if e < len(text) else ""
        in_run = (before in _RUN_JOINERS and s >= 2 and text[s - 2].isdigit()) or (after in _RUN_JOINERS and e + 1 < len(text) and text[e + 1].isdigit())
        count = not (in_run or after in _NOT_COUNT_UNITS or after in _ORDINAL_ENDS or before in _BRACKETS or before == "第")
        n = float(m.group())
        if before in ("-", "+") and not in_run:
            n = -n if before == "-" else n  # a signed 本年增/减
        out.append(_Token(s, e, (n, n * 10000) if after == "万" else (n,), count))
    out += [_Token(m.start(), m.end(), (0.0,), True) for m in _ZERO_WORD.finditer(text)]
    return out


def _wording(text: str, topic: Topic) -> list[tuple[int, int, bool]]:
    """(start, end, own) for each stem in the text; a longer stem wins over one it overlaps."""
    found = []
    for own, words in ((True, topic.words), (False, topic.rivals)):
        for w in {squash(w) for w in words}:
            at = text.find(w)
            while w and at >= 0:
                found.append((at, at + len(w), own))
                at = text.find(w, at + 1)
    kept: list[tuple[int, int, bool]] = []
    for s, e, own in sorted(found, key=lambda f: (f[0] - f[1], not f[2])):  # longest first; own first on a tie
        if all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, own))
    return kept


def _nearest_is_own(text: str, start: int, end: int, wording: list[tuple[int, int, bool]], window: int, *, after_first: bool = False) -> bool:
    """Is the stem nearest to text[start:end], in its sentence and within ``window``, the field's own?"""

    def near(a: int, b: int) -> bool:
        return 0 <= b - a <= window and not _SENTENCE_END.search(text, a, b)

    before = [w for w in wording if near(w[1], start)]
    after = [w for w in wording if near(end, w[0])]
    sides = [min(after, default=None), max(before, key=lambda w: w[1], default=None)]
    # A number's subject comes before it ("建议15件"); a negated verb's object after it ("未收到…申请").
    for w in sides if after_first else sides[::-1]:
        if w is not None:
            return w[2]
    return False


def _negated_verbs(text: str, topic: Topic) -> list[tuple[int, int]]:
    """Spans of "未收到", "均未收取", "不收取", "无人大代表建议": a zero said in words for this field."""
    out = []
    for neg in _NEGATIONS:
        at = text.find(neg)
        while at >= 0:
            rest = text[at + len(neg) : at + len(neg) + NEGATED_VERB_GAP + 4]
            gap = 0 if neg in _TIGHT_NEGATIONS else NEGATED_VERB_GAP
            for verb in topic.zero_verbs:
                i = rest.find(verb)
                if 0 <= i <= gap and not re.search(r"[,。;:!?]", rest[:i]):
                    out.append((at, at + len(neg) + i + len(verb)))
                    break
            else:
                if neg in ("没有", "无") and any(rest.startswith(squash(w)) for w in topic.words):
                    out.append((at, at + len(neg)))
            at = text.find(neg, at + 1)
    return out


def _matches(token: _Token, value: float) -> bool:
    return any(abs(v - value) < 1e-6 for v in token.values)


def supported(value: float | None, quote: str, source: str, topic: Topic) -> str | None:
    """None when the value is grounded; otherwise why not."""
    if value is None:
        return None
    if not quote.strip():
        return "no source text cited"
    if said := speaks_to_model(quote):
        return f"suspected prompt injection: the cited text speaks to the model (“{said}”)"
    if not quote_in_source(quote, source):
        return "cited text is not in the source"
    text = _ASIDE.sub("", compact(quote))
    wording = _wording(text, topic)
    tokens = [t for t in _tokens(text) if _matches(t, value)]
    counts = [t for t in tokens if t.count]
    zero_words = _negated_verbs(text, topic) if value == 0 else []
    if not tokens and not zero_words:
        if value == 0 and any(neg in text for neg in _NEGATIONS):
            return _ZERO_ELSEWHERE
        return f"{value:g} does not occur in the cited text"
    if not counts and not zero_words:
        return f"{value:g} occurs in the cited text only as a year, date, number of a road or document, ordinal or the like, not as a count"
    if not any(own for _, _, own in wording):
        return f"the cited text is not about this field (it names none of {'、'.join(topic.words[:4])})"
    if any(_nearest_is_own(text, t.start, t.end, wording, topic.window) for t in counts):
        return None
    if any(_nearest_is_own(text, s, e, wording, topic.window, after_first=True) for s, e in zero_words):
        return None
    if value == 0 and not counts:
        return _ZERO_ELSEWHERE
    return f"{value:g} in the cited text is not next to this field's wording"
