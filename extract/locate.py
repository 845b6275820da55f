"""Find the statistical tables and the narrative sections of a report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .document import Document, Image, Paragraph, Table
from .labels import norm

# Words that mark each table; a table is the kind whose words it contains most.
_MARKERS: dict[str, tuple[str, ...]] = {
    "t2": ("第二十条", "信息内容", "规章", "规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费", "本年制发件数", "本年处理决定数量", "上一年项目数量"),
    "t3": ("申请人情况", "自然人", "本年新收", "上年结转", "予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "结转下年度"),
    "t4": ("行政复议", "行政诉讼", "结果维持", "结果纠正", "尚未审结", "未经复议直接起诉", "复议后起诉"),
}

# Section headings 一 to 六; the dash variant of 一 and arabic numbering occur in the wild.
_HEADING = re.compile(r"^\s*(?:第?([一二三四五六—-])|([1-6]))\s*[、.．]\s*(.{0,40})$")
_SECTION_WORDS = {
    1: ("总体情况",),
    2: ("主动公开政府信息",),
    3: ("收到和处理政府信息公开申请",),
    4: ("行政复议", "行政诉讼"),
    5: ("存在的主要问题", "改进情况"),
    6: ("其他需要报告的事项", "其他事项"),
}
_CN = {"一": 1, "—": 1, "-": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
TABLE_SECTIONS = {"t2": 2, "t3": 3, "t4": 4}


def classify(table: Table) -> str | None:
    text = norm(table.text())
    scores = {kind: sum(1 for w in words if w in text) for kind, words in _MARKERS.items()}
    kind, best = max(scores.items(), key=lambda kv: kv[1])
    return kind if best >= 2 else None


@dataclass
class Layout:
    """Where things are: block index ranges of sections, tables by kind, images by section."""

    sections: dict[int, tuple[int, int]] = field(default_factory=dict)  # number -> [start, end)
    tables: dict[str, list[Table]] = field(default_factory=dict)
    images: dict[int, list[Image]] = field(default_factory=dict)

    def section_text(self, doc: Document, number: int) -> list[Paragraph]:
        if number not in self.sections:
            return []
        a, b = self.sections[number]
        return [blk for blk in doc.blocks[a:b] if isinstance(blk, Paragraph)]


def _heading_number(text: str) -> int | None:
    m = _HEADING.match(text)
    if not m:
        return None
    n = _CN.get(m.group(1) or "", 0) or int(m.group(2) or 0)
    title = norm(m.group(3))
    if n and any(w in title for w in _SECTION_WORDS[n]):
        return n
    return None


def locate(doc: Document) -> Layout:
    layout = Layout()
    starts: list[tuple[int, int]] = []
    last = 0
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            n = _heading_number(block.text)
            # Headings come in order; a later "一、" inside section 三 is a sub-list, not a section.
            if n and n > last:
                starts.append((n, i))
                last = n
        elif isinstance(block, Table):
            kind = classify(block)
            if kind:
                layout.tables.setdefault(kind, []).append(block)
    for k, (n, i) in enumerate(starts):
        end = starts[k + 1][1] if k + 1 < len(starts) else len(doc.blocks)
        layout.sections[n] = (i, end)
    for n, (a, b) in layout.sections.items():
        imgs = [blk for blk in doc.blocks[a:b] if isinstance(blk, Image)]
        if imgs:
            layout.images[n] = imgs
    return layout
