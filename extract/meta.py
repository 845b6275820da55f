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
from .labels import norm
from .locate import Layout

_TITLE = re.compile(r"^(?P<agency>.*?)\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?:政府)?信息公开(?:工作)?(?:年度)?报告")
_ORG = r"[\u4e00-\u9fff（）()]{2,30}?(?:委员会|管理局|局|委|办公室|人民政府|政府|中心|厅|院|署|部|办|所|站|队|会|街道办事处|镇|乡|街道)"
_AGENCY_FALLBACKS = (
    # The page's metadata (发布机构, 来源) names the publisher, often more reliably than the body.
    re.compile(rf"(?:发布机构|信息来源|来源|发文机关)\s*[:：]\s*(?P<a>{_ORG})(?![\u4e00-\u9fff])"),
    re.compile(rf"可与(?P<a>{_ORG})(?:办公室)?联系"),
    re.compile(rf"现(?:公布|发布)(?P<a>{_ORG})\s*(?:19|20)\d{{2}}\s*年"),
    re.compile(rf"(?:^|\n)(?P<a>{_ORG})\s*(?:19|20)\d{{2}}\s*年"),
)
_PERIOD = re.compile(r"(?:统计|数据)(?:时限|期限|时间|区间)?[^。]{0,12}?自?\s*((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
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


def _spam_checked(v: Value) -> Value:
    """An agency name with spam in it is no name: null and a flag, never the spam."""
    if v.state is State.TEXT and isinstance(v.value, str) and _SPAM.search(v.value):
        out = missing_value(v)
        out.flag(f"agency name replaced by spam in this copy ({v.raw!r}); check another copy", 0.0)
        return out
    return v


def missing_value(v: Value) -> Value:
    return Value(state=State.NOT_FOUND, raw=v.raw, provenance=v.provenance, method=v.method, confidence=0.0)


def agency_and_year(doc: Document) -> tuple[Value, Value]:
    paras = doc.paragraphs
    agency: Value | None = None
    year: Value | None = None
    for k, p in enumerate(paras[:40]):
        m = _TITLE.search(p.text)
        if not m or len(p.text) > 80:
            continue
        year = _text_value(doc, p, int(m.group("year")), m.group("year"), m.start("year"), State.NUMBER)
        name = _clean_agency(m.group("agency"))
        if name and _ORG_END.search(name):
            agency = _text_value(doc, p, name, m.group("agency").strip(), m.start("agency"))
        elif k > 0 and _ORG_END.search(_clean_agency(paras[k - 1].text)) and len(paras[k - 1].text) <= 40:
            prev = paras[k - 1]  # title split over two lines: agency, then "2020 年…报告"
            agency = _text_value(doc, prev, _clean_agency(prev.text), prev.text.strip(), 0)
        elif k + 1 < len(paras) and _ORG_END.search(_clean_agency(paras[k + 1].text)) and len(paras[k + 1].text) <= 40:
            nxt = paras[k + 1]  # "2022年政府信息公开工作年度报告" over the agency's name
            agency = _text_value(doc, nxt, _clean_agency(nxt.text), nxt.text.strip(), 0)
        break
    if agency is None:
        # Search the joined text: PDF lines wrap in the middle of names.
        joined = doc.text.replace("\n", "")
        starts = [p.offset - doc.text.count("\n", 0, p.offset) for p in paras]
        for rx in _AGENCY_FALLBACKS:
            m = rx.search(joined)
            if m:

                def at(j: int) -> int:
                    """Offset in Document.text of offset ``j`` in the joined text."""
                    k = bisect.bisect_right(starts, j) - 1
                    return paras[k].offset + j - starts[k]

                a, b = at(m.start("a")), at(m.end("a") - 1) + 1
                agency = text_value(doc, a, b, _clean_agency(m.group("a")), state=State.TEXT, confidence=0.9)
                agency.flag("agency taken from the text, not the title", 0.6)
                break
    if year is None:
        for p in paras:
            m = _PERIOD.search(p.text)
            if m:
                year = _text_value(doc, p, int(m.group(1)), m.group(1), m.start(1), State.NUMBER)
                year.flag("year taken from the statistics period, not the title", 0.7)
                break
    if year is None:
        counts = Counter(int(y) for y in _YEAR.findall(doc.text[:5000]))
        if counts:
            y = counts.most_common(1)[0][0]
            p = next(p for p in paras if str(y) in p.text)
            year = _text_value(doc, p, y, str(y), p.text.index(str(y)), State.NUMBER)
            year.flag("year guessed from the most frequent year in the text", 0.4)
    return _spam_checked(agency) if agency else missing(doc, "agency not found"), year or missing(doc, "year not found")


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
