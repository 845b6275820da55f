"""The common document model every format backend produces.

A document is an ordered list of blocks: paragraphs (one line of text each),
tables (a grid of cells with spans) and images.  Order is reading order, which
is what lets the template mapper find "the table after heading 三".  Each block
knows where it came from (page, bbox or character span in the source text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


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


Block = Union[Paragraph, Table, Image]


@dataclass(slots=True)
class Document:
    source: str
    format: str  # txt, html, docx, pdf
    blocks: list[Block] = field(default_factory=list)
    encoding: str | None = None
    pages: int | None = None
    text: str = ""  # paragraph text joined by newlines; regex spans index this

    def finish(self) -> Document:
        """Number the tables and build ``text`` with paragraph offsets."""
        parts: list[str] = []
        pos = 0
        n_tables = 0
        for block in self.blocks:
            if isinstance(block, Paragraph):
                block.offset = pos
                parts.append(block.text)
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
        found = None
        for p in self.paragraphs:
            if p.offset <= offset:
                found = p
            else:
                break
        return found


class ExtractionError(Exception):
    """A file that cannot be read as a report; its message is shown to the user."""
