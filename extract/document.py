"""The common document model every format backend produces.

A document is an ordered list of blocks: paragraphs (one line of text each),
tables (a grid of cells with spans) and images.  Order is reading order, which
is what lets the template mapper find "the table after heading 三".  Each block
knows where it came from, in the terms of its format:

- text exports: a character span into the source file as decoded (``Document.encoding``);
- HTML: the element path in the page, as lxml's ``getpath`` writes it;
- DOCX: ``/body/p[n]`` (the n-th body paragraph) or ``/body/tbl[n]/tr[r]/tc[c]`` (grid column c);
- PDF text layer: the 1-based page and a bbox in PDF points, origin top-left;
- OCR: the picture (``image``) and a pixel bbox in it.

Readers that match patterns over ``Document.text`` (the paragraphs joined by newlines)
turn a match back into such a place with ``Document.place``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(slots=True)
class Location:
    page: int | None = None  # 1-based
    bbox: tuple[float, float, float, float] | None = None
    span: tuple[int, int] | None = None  # character offsets in the decoded source text
    xpath: str | None = None  # element path in HTML and DOCX sources
    # For OCR readings: which picture the pixel bbox is in (a page rendering such as
    # "page 3 @200dpi", or the embedded image's name); bbox is then in its pixels.
    image: str | None = None


@dataclass(slots=True)
class Paragraph:
    text: str
    loc: Location = field(default_factory=Location)
    offset: int = 0  # start of this paragraph in Document.text
    confidence: float | None = None  # set by OCR only
    # Text exports clean lines (markdown marks, bookmarks, padding): the source offset of
    # each character of ``text``.  None when ``text`` is the source from ``loc.span[0]`` on.
    chars: list[int] | None = None

    def source_offset(self, i: int) -> int | None:
        """Where character ``i`` of ``text`` is in the source, for span-located paragraphs."""
        if self.loc.span is None:
            return None
        i = max(0, min(i, len(self.text) - 1)) if self.text else 0
        return self.chars[i] if self.chars is not None and i < len(self.chars) else self.loc.span[0] + i


@dataclass(slots=True)
class Cell:
    text: str
    loc: Location = field(default_factory=Location)
    # True where the grid position is covered by a merged cell that starts
    # elsewhere (rowspan/colspan, vMerge, a PDF merged cell).  Text exports
    # cannot know this and never set it.
    filler: bool = False
    # Set by OCR only: the engine's confidence in the reading, and what was done to it.
    confidence: float | None = None
    note: str | None = None
    # Text exports: the cell is a stretch of a row's value text that may hold several
    # cells run together (a scraper's glued output); the row reader cuts it.
    run: bool = False


@dataclass(slots=True)
class Table:
    rows: list[list[Cell]]
    loc: Location = field(default_factory=Location)
    index: int = 0  # position among the document's tables
    # For a table read by OCR: PNG crops of the picture(s) it was read from, for a vision model.
    pictures: list[bytes] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def text(self) -> str:
        return "\n".join("\t".join(c.text for c in row if not c.filler) for row in self.rows)


@dataclass(slots=True)
class Image:
    """An embedded picture or an export's placeholder for one (``[image: …]``)."""

    name: str
    loc: Location = field(default_factory=Location)
    data: bytes | None = None  # pixels where the backend could get them
    # A whole page with no usable text layer (a scan, or a page image file): OCR
    # reads its text as well as its tables.
    page_scan: bool = False


Block = Paragraph | Table | Image


@dataclass(slots=True)
class Document:
    source: str
    format: str  # txt, html, docx, pdf
    blocks: list[Block] = field(default_factory=list)
    encoding: str | None = None
    pages: int | None = None
    text: str = ""  # paragraph text joined by newlines; regex spans index this
    _starts: list[int] = field(default_factory=list, repr=False)
    _paragraphs: list[Paragraph] = field(default_factory=list, repr=False)

    def finish(self) -> Document:
        """Number the tables and build ``text`` with paragraph offsets."""
        parts: list[str] = []
        pos = 0
        n_tables = 0
        self._starts, self._paragraphs = [], []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                block.offset = pos
                parts.append(block.text)
                self._starts.append(pos)
                self._paragraphs.append(block)
                pos += len(block.text) + 1
            elif isinstance(block, Table):
                block.index = n_tables
                n_tables += 1
        self.text = "\n".join(parts)
        return self

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def paragraph_at(self, offset: int) -> Paragraph | None:
        """The paragraph holding ``Document.text[offset]`` (or the newline after it)."""
        if not self._starts:
            self.finish()
        k = bisect.bisect_right(self._starts, offset) - 1
        return self._paragraphs[k] if k >= 0 else None

    def paragraphs_in(self, start: int, end: int) -> list[Paragraph]:
        """The paragraphs that ``Document.text[start:end]`` touches, in order."""
        if not self._starts:
            self.finish()
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        last = max(first, bisect.bisect_right(self._starts, max(start, end - 1)) - 1)
        return self._paragraphs[first : last + 1]

    def place(self, start: int, end: int) -> Location:
        """Where ``Document.text[start:end]`` can be seen in the source.

        A span-located text maps to the source characters from the first to the last
        one matched (what lies between, such as a line break, comes with it).  A match
        over several lines gets the bbox around them on the first one's page, or the
        element path that holds them all.
        """
        paras = self.paragraphs_in(start, end)
        if not paras:
            return Location()
        first, last = paras[0], paras[-1]
        if first.loc.span is not None and last.loc.span is not None:
            a = first.source_offset(start - first.offset)
            b = last.source_offset(max(end - 1 - last.offset, 0))
            if a is not None and b is not None:
                return Location(span=(a, b + 1))
        loc = first.loc
        same_page = [p for p in paras if p.loc.page == loc.page and p.loc.image == loc.image and p.loc.bbox]
        bbox = _union([p.loc.bbox for p in same_page if p.loc.bbox]) if loc.bbox else None
        # Several elements: an XPath union names exactly them (a common ancestor may be the whole body).
        xpath = " | ".join(dict.fromkeys(p.loc.xpath for p in paras if p.loc.xpath)) if loc.xpath else None
        return Location(page=loc.page, bbox=bbox, xpath=xpath, image=loc.image)


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


class ExtractionError(Exception):
    """A file that cannot be read as a report; its message is shown to the user."""
