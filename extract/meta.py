"""Agency, year and template of a report."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter

from ..schemas import Method, State, TemplateId, Value
from ..schemas.template import TEMPLATE_MARKERS
from .document import Cell, Document, Paragraph, Table
from .fill import missing, provenance, text_value
from .labels import mainland, mainland_chars, norm, strip_pinyin
from .locate import Layout

_TITLE = re.compile(r"^(?P<agency>.*?)\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?:政府)?信息公开(?:工作)?(?:年度)?报告")
_ORG = r"[\u4e00-\u9fff（）()]{2,30}?(?:委员会|管理局|局|委|办公室|人民政府|政府|中心|厅|院|署|部|办|所|站|队|会|街道办事处|镇|乡|街道)"
_AGENCY_FALLBACKS = (
    # The page's metadata (发布机构, 来源) names the publisher, often more reliably than the body.
    re.compile(rf"(?:发布机构|信息来源|来源|发文机关)\s*[:：]\s*(?P<a>{_ORG})(?![\u4e00-\u9fff])"),
    # Who compiled the report, whom to ask about it, where it is published.
    re.compile(rf"由(?P<a>{_ORG})(?:党政办公室|办公室|党政办)?(?:根据|依据|按照|编制|负责编制)"),
    re.compile(rf"(?:可与|请与|请联系)(?P<a>{_ORG})(?:党政办公室|办公室|党政办)?联系"),
    re.compile(rf"可(?:从|在|登录)(?P<a>{_ORG})(?:门户)?网站"),
    re.compile(rf"现(?:公布|发布)(?P<a>{_ORG})\s*(?:19|20)\d{{2}}\s*年"),
    re.compile(rf"(?:^|\n)(?P<a>{_ORG})\s*(?:19|20)\d{{2}}\s*年"),
    # The subject of the narrative's opening: "2023年，在区委、区政府的领导下，官洲街道办事处认真…".
    re.compile(
        rf"(?:^|[。；;\n，,])\s*(?:(?:19|20)\d{{2}}\s*年(?:度|以来)?\s*[,，]?\s*)?(?:在[^。；]{{0,30}}?下\s*[,，]\s*)?"
        rf"(?P<a>{_ORG})(?=认真|坚持|积极|全面|严格|按照|紧紧|深入|不断|聚焦|高度|始终|切实|持续|进一步|围绕|根据|在[^。；]{{0,20}}?(?:领导|指导)下)"
    ),
)
# A flipbook's document name, on a line of its own: "Page 9 - 2020年报_审计局".
_FLIPBOOK_NAME = re.compile(rf"年报[_\-—](?P<a>{_ORG})\s*$")
# The statistics period, also where dates lost their 年/月 (自202311日起至20231231日).
_PERIOD = re.compile(r"(?:统计|数据)(?:时限|期限|时间|区间)?[^。]{0,12}?自?\s*((?:19|20)\d{2})\s*年?\s*0?1\s*月?\s*0?1\s*日")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_ORG_END = re.compile(r"(?:委员会|局|委|办公室|政府|中心|厅|院|署|部|办|所|站|队|会|镇|乡|街道|办事处|处)$")


def _text_value(doc: Document, p: Paragraph, value: str | int, raw: str, start: int, state: State = State.TEXT) -> Value:
    return text_value(doc, p.offset + start, p.offset + start + len(raw), value, state=state, confidence=0.9)


def _clean_agency(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"\s+", "", s)
    s = _FLIPBOOK.sub("", s)
    s = re.sub(r"^(?:关于|印发|标题[:：])", "", s)
    return s.strip("：:，,。 ")


# Flipbook viewers prefix page texts with "Page 8 -".
_FLIPBOOK = re.compile(r"^Page\d+[-–—:]?", re.I)
# Hijacked mirrors put gambling spam where the name was: no agency is named in Latin letters.
_SPAM = re.compile(r"[A-Za-z]{2,}|体育|官网|娱乐|棋牌|彩票|博彩|投注|赌|平台|客户端|网站")


# The part after the last separator of a spam-prefixed title.
_SPAM_TAIL = re.compile(rf"[:：_|｜]\s*(?P<a>{_ORG})\s*$")


def _is_spam(v: Value) -> bool:
    return v.state is State.TEXT and isinstance(v.value, str) and bool(_SPAM.search(v.value))


def _spam_checked(v: Value) -> Value:
    """An agency name with spam in it is no name: null and a flag, never the spam."""
    if v.state is State.TEXT and isinstance(v.value, str) and _SPAM.search(v.value):
        out = missing_value(v)
        out.flag(f"agency name replaced by spam in this copy ({v.raw!r}); check another copy", 0.0)
        return out
    return v


def missing_value(v: Value) -> Value:
    return Value(state=State.NOT_FOUND, raw=v.raw, provenance=v.provenance, method=v.method, confidence=0.0)


_TITLE_LINE_CHARS = 60
_TITLE_START = re.compile(r"(?:19|20)\d{2}\s*年度?\s*(?:政府)?(?:信息)?(?:公开)?(?:工作)?$")
# Words no agency name holds: a match holding one is a piece of a sentence.
_NOT_A_NAME = re.compile(r"我|情况|报告|年度|通知|要求|条例|^[（(]")


def _plausible(name: str) -> bool:
    return bool(name) and not _NOT_A_NAME.search(mainland(name))


def _agency_in_text(doc: Document, paras: list[Paragraph]) -> tuple[int, int] | None:
    """Where the text names the agency (Document.text offsets), by the fallback patterns in order."""
    # Search the joined text: PDF lines wrap in the middle of names.
    joined = doc.text.replace("\n", "")
    starts = [p.offset - doc.text.count("\n", 0, p.offset) for p in paras]
    mjoined, kept = mainland_chars(joined)

    def at(j: int) -> int:
        """Offset in Document.text of offset ``j`` in the mainland joined text."""
        j = kept[j]
        k = bisect.bisect_right(starts, j) - 1
        return paras[k].offset + j - starts[k]

    for rx in _AGENCY_FALLBACKS:
        found = next((m for m in rx.finditer(mjoined) if _plausible(m.group("a")) and not _SPAM.search(m.group("a"))), None)
        if found:
            return at(found.start("a")), at(found.end("a") - 1) + 1
    for p in paras[:40]:
        if m := _FLIPBOOK_NAME.search(p.text):
            return p.offset + m.start("a"), p.offset + m.end("a")
    return None


def agency_and_year(doc: Document) -> tuple[Value, Value]:
    paras = doc.paragraphs
    agency: Value | None = None
    year: Value | None = None
    spam_title = ""
    for k, p in enumerate(paras[:40]):
        # Mirrors write the title in traditional characters (拖市鎮(zhèn)…年度報告).
        mtext, kept = mainland_chars(p.text)
        m = _TITLE.search(mtext)
        if not m and k + 1 < len(paras) and len(p.text) <= _TITLE_LINE_CHARS and _TITLE_START.search(mtext):
            # A title broken over two lines: "…2025年政府信息公开" / "工作年度报告".
            m = _TITLE.search(mtext + mainland(paras[k + 1].text)[:_TITLE_LINE_CHARS])
            if m and m.start("year") >= len(mtext):
                m = None
        if not m or len(p.text) > 80:
            continue
        y0 = kept[m.start("year")]
        year = _text_value(doc, p, int(m.group("year")), p.text[y0 : y0 + 4], y0, State.NUMBER)
        a0, a1 = (kept[m.start("agency")], kept[m.end("agency") - 1] + 1) if m.group("agency") else (0, 0)
        written = p.text[a0:a1]
        spam_title = written if _SPAM.search(written) else spam_title
        behind_spam = False
        if _SPAM.search(written) and (tail := _SPAM_TAIL.search(written)) and not _SPAM.search(tail.group("a")):
            # "必威体育app官网:教育局": the spam was put before the name, not in its place.
            a0, written, behind_spam = a0 + tail.start("a"), tail.group("a"), True
        name = _clean_agency(strip_pinyin(written))
        if name and _ORG_END.search(mainland(name)):
            agency = _text_value(doc, p, name, written.strip(), a0 + len(written) - len(written.lstrip()))
            if behind_spam:
                agency.flag("spam stood before the agency name in this copy; check the name", 0.5)
        elif k > 0 and _ORG_END.search(_clean_agency(paras[k - 1].text)) and len(paras[k - 1].text) <= 40:
            prev = paras[k - 1]  # title split over two lines: agency, then "2020 年…报告"
            agency = _text_value(doc, prev, _clean_agency(prev.text), prev.text.strip(), 0)
        elif k + 1 < len(paras) and _ORG_END.search(_clean_agency(paras[k + 1].text)) and len(paras[k + 1].text) <= 40:
            nxt = paras[k + 1]  # "2022年政府信息公开工作年度报告" over the agency's name
            agency = _text_value(doc, nxt, _clean_agency(nxt.text), nxt.text.strip(), 0)
        break
    if agency is None or _is_spam(agency):
        place = _agency_in_text(doc, paras)
        if place is not None:
            a, b = place
            name = _clean_agency(strip_pinyin(doc.text[a:b].replace("\n", "")))
            agency = text_value(doc, a, b, name, state=State.TEXT, confidence=0.9)
            agency.flag("agency taken from the text, not the title", 0.6)
    period = next(((p, m) for p in paras if (m := _PERIOD.search(p.text))), None)
    if year is None and period is not None:
        p, m = period
        year = _text_value(doc, p, int(m.group(1)), m.group(1), m.start(1), State.NUMBER)
        year.flag("year taken from the statistics period, not the title", 0.7)
    elif year is not None and period is not None and int(period[1].group(1)) != year.value:
        # Which one is wrong is for a reviewer to say; the title's year stays.
        year.flag(f"the title says {year.value} but the statistics period starts in {period[1].group(1)}", 0.5)
    if year is None:
        counts = Counter(int(y) for y in _YEAR.findall(doc.text[:5000]))
        if counts:
            y = counts.most_common(1)[0][0]
            p = next(p for p in paras if str(y) in p.text)
            year = _text_value(doc, p, y, str(y), p.text.index(str(y)), State.NUMBER)
            year.flag("year guessed from the most frequent year in the text", 0.4)
    if agency is None:
        reason = f"agency name replaced by spam in this copy ({spam_title.strip()!r}); check another copy" if spam_title else "agency not found"
        return missing(doc, reason), year or missing(doc, "year not found")
    return _spam_checked(agency), year or missing(doc, "year not found")


def _cell_with(tables: list[Table], word: str) -> Cell | None:
    """The first table cell whose label holds ``word``: where a reviewer sees why a template was chosen."""
    for t in tables:
        for row in t.rows:
            for cell in row:
                if not cell.filler and word in norm(cell.text):
                    return cell
    return None


def template(doc: Document, layout: Layout, year: Value) -> Value:
    """Tables decide first (a report may cite one notice and use the other's tables)."""
    tables = [t for kind in ("t2", "t3") for t in layout.tables.get(kind, [])]
    table_text = norm("\n".join(t.text() for t in tables))
    votes: Counter[str] = Counter()
    for tid, words in TEMPLATE_MARKERS.items():
        votes[tid] += sum(w in table_text for w in words)
    if votes["2021"] != votes["2019"]:
        choice: TemplateId = "2021" if votes["2021"] > votes["2019"] else "2019"
        words = TEMPLATE_MARKERS[choice]
        found = [(w, c) for w in words if w in table_text for c in [_cell_with(tables, w)] if c is not None]
        if found:
            _w, cell = found[0]
            return Value(value=choice, raw=cell.text, state=State.TEXT, provenance=provenance(doc, cell.loc), method=Method.REGEX, confidence=0.95)
        raw = next(w for w in words if w in table_text)  # the word is split over cells
        return Value(value=choice, raw=raw, state=State.TEXT, provenance=provenance(doc, tables[0].loc), method=Method.REGEX, confidence=0.95)
    text = unicodedata.normalize("NFKC", doc.text)
    cites = {"2021": "〔2021〕30号" in text or "[2021]30号" in text, "2019": "〔2019〕60号" in text or "[2019]60号" in text}
    year_num = year.value if year.state is State.NUMBER and isinstance(year.value, int) else None
    if year_num is not None:
        choice = "2021" if year_num >= 2021 else "2019"
        v = year.model_copy(update={"value": choice, "state": State.TEXT, "confidence": 0.8, "review": []})
        if cites["2021"] != cites["2019"] and not cites[choice]:
            v.flag("report year and the notice it cites disagree on the template", 0.5)
        return v
    if cites["2021"] != cites["2019"]:
        choice = "2021" if cites["2021"] else "2019"
        m = re.search(r"[〔\[]\s*2021\s*[〕\]]\s*30\s*号" if choice == "2021" else r"[〔\[]\s*2019\s*[〕\]]\s*60\s*号", doc.text)
        if m:
            return text_value(doc, m.start(), m.end(), choice, state=State.TEXT, confidence=0.7)
    return missing(doc, "template could not be determined")
