"""Find the statistical tables and the narrative sections of a report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from ..schemas.template import SECTION_TITLES, TABLE_HEADER_WORDS, TABLE_MARKERS, TABLE_SECTIONS
from .document import Document, Image, Paragraph, Table
from .labels import norm

__all__ = ["TABLE_SECTIONS", "Layout", "classify", "has_header", "locate"]

# Section headings 一 to 六; the dash variant of 一 and arabic numbering occur in the wild.
# Mirrors put mojibake (????) before a heading.
_HEADING = re.compile(r"^[\s?？\ufffd]*(?:第?([一二三四五六—-])|([1-6]))\s*[、.．]\s*(.{0,40})$")
_CN = {"一": 1, "—": 1, "-": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}


def classify(table: Table) -> str | None:
    text = norm(table.text())
    scores = {kind: sum(1 for w in words if w in text) for kind, words in TABLE_MARKERS.items()}
    kind, best = max(scores.items(), key=lambda kv: kv[1])
    if best >= 2:
        return kind
    # A fragment of a table (the last row of 表三 at the top of a page) carries one marker.
    if best == 1 and len(table.rows) <= _FRAGMENT_ROWS and sum(1 for n in scores.values() if n) == 1:
        return kind
    return None


# A table this short may be the part of one that a page or excerpt cut off.
_FRAGMENT_ROWS = 3


def has_header(table: Table) -> bool:
    """Whether the table's first row is a template table's header (else it may continue one)."""
    first = norm("".join(c.text for c in table.rows[0])) if table.rows else ""
    return any(w in first for w in TABLE_HEADER_WORDS)


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


def heading_number(text: str) -> int | None:
    """The section number (1–6) of a heading line such as '四、政府信息公开行政复议…', else None."""
    m = _HEADING.match(text)
    if not m:
        return None
    n = _CN.get(m.group(1) or "", 0) or int(m.group(2) or 0)
    title = norm(m.group(3))
    if n and any(w in title for w in SECTION_TITLES[n]):
        return n
    return None


def _at_headings(table: Table) -> list[Table]:
    """A table that runs over a section heading (text exports that lost the breaks between
    tables 二, 三 and 四) is cut there, so each part is classified on its own."""
    cuts = [r for r, row in enumerate(table.rows) if r and row and heading_number(next((c.text for c in row if c.text.strip()), "")) in TABLE_SECTIONS.values()]
    if not cuts:
        return [table]
    bounds = [0, *cuts, len(table.rows)]
    return [Table(rows=table.rows[a:b], loc=table.loc, index=table.index, pictures=table.pictures) for a, b in pairwise(bounds) if b > a]


def locate(doc: Document) -> Layout:
    layout = Layout()
    starts: list[tuple[int, int]] = []
    last = 0
    for i, block in enumerate(doc.blocks):
        if isinstance(block, Paragraph):
            n = heading_number(block.text)
            # Headings come in order; a later "一、" inside section 三 is a sub-list, not a section.
            if n and n > last:
                starts.append((n, i))
                last = n
        elif isinstance(block, Table):
            for part in _at_headings(block):
                kind = classify(part)
                if kind:
                    layout.tables.setdefault(kind, []).append(part)
    for k, (n, i) in enumerate(starts):
        end = starts[k + 1][1] if k + 1 < len(starts) else len(doc.blocks)
        layout.sections[n] = (i, end)
    for n, (a, b) in layout.sections.items():
        imgs = [blk for blk in doc.blocks[a:b] if isinstance(blk, Image)]
        if imgs:
            layout.images[n] = imgs
    return layout
