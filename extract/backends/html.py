"""HTML pages as scraped: charset detection, rowspan/colspan expanded, layout tables and site chrome skipped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from lxml import etree

from ..document import Cell, Document, ExtractionError, Image, Location, Paragraph, Table
from ..encoding import decode

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_CHROME = re.compile(r"nav|menu|footer|breadcrumb|crumb|share|toolbar|sidebar|topbar|fontsize|font-size|print", re.I)
_DROP_TAGS = {"script", "style", "noscript", "nav", "footer", "aside", "form", "button", "select", "iframe", "template", "svg"}
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article", "header", "main", "blockquote", "pre", "dt", "dd", "dl", "center", "tr", "td", "th", "caption", "figure", "figcaption", "address"}
_WS = re.compile(r"[ \t\r\n\u00a0\u3000]+")


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def texts(el: etree._Element) -> Iterator[str]:
    """The element's text pieces.  Markup is parsed from str, so lxml yields str (its stubs also allow bytes)."""
    return cast(Iterator[str], el.itertext())


def _is_chrome(el: etree._Element) -> bool:
    attrs = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("role"))))
    return bool(attrs) and bool(_CHROME.search(attrs)) and el.tag not in ("table", "td", "tr")


def _child_paths(el: etree._Element, path: str) -> list[tuple[etree._Element, str]]:
    """Each element child with its XPath, counted among siblings of its tag as XPath does.

    Paths are built while walking: lxml's ``getpath`` counts preceding siblings on every
    call, which made wide pages quadratic.
    """
    counts: dict[str, int] = {}
    out = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions are not elements in XPath
        counts[tag] = counts.get(tag, 0) + 1
        out.append((child, f"{path}/{tag}[{counts[tag]}]"))
    return out


def _rows(table: etree._Element, path: str) -> list[tuple[etree._Element, str]]:
    """The table's own rows (directly or in thead/tbody/tfoot), not a nested table's."""
    rows = []
    for child, child_path in _child_paths(table, path):
        if child.tag == "tr":
            rows.append((child, child_path))
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows += [(tr, p) for tr, p in _child_paths(child, child_path) if tr.tag == "tr"]
    return rows


def _grid(table: etree._Element, path: str) -> list[list[Cell]]:
    """Expand rowspan/colspan into a rectangular grid; covered positions are fillers."""
    grid: dict[tuple[int, int], Cell] = {}
    for r, (tr, tr_path) in enumerate(_rows(table, path)):
        c = 0
        for td, td_path in _child_paths(tr, tr_path):
            if td.tag not in ("td", "th"):
                continue
            while (r, c) in grid:
                c += 1
            try:
                rs = max(1, int(td.get("rowspan", "1") or 1))
                cs = max(1, int(td.get("colspan", "1") or 1))
            except ValueError:
                rs = cs = 1
            rs, cs = min(rs, _MAX_ROWSPAN), min(cs, _MAX_COLSPAN)
            text = _clean(" ".join(texts(td)))
            loc = Location(xpath=td_path)
            for dr in range(rs):
                for dc in range(cs):
                    grid[(r + dr, c + dc)] = Cell(text=text, loc=loc, filler=bool(dr or dc))
            c += cs
    if not grid:
        return []
    n_rows = max(r for r, _ in grid) + 1
    n_cols = max(c for _, c in grid) + 1
    return [[grid[(r, c)] if (r, c) in grid else Cell(text="", filler=True) for c in range(n_cols)] for r in range(n_rows)]


# Spans beyond these are typos or attacks (rowspan="99999"), not statistical tables.
_MAX_ROWSPAN = 200
_MAX_COLSPAN = 50


class _Walker:
    """Reading order over the page: each text line belongs to the innermost block element around it."""

    def __init__(self, doc: Document, base: Path) -> None:
        self.doc, self.base = doc, base
        self.line: list[str] = []
        self.blocks: list[str] = []  # paths of the open block elements
        self.pictures: dict[Path, bytes | None] = {}
        self.picture_bytes = 0

    def flush(self) -> None:
        text = _clean("".join(self.line))
        if text:
            self.doc.blocks.append(Paragraph(text=text, loc=Location(xpath=self.blocks[-1] if self.blocks else None)))
        self.line = []

    def text(self, s: str | None) -> None:
        if s and s.strip():
            self.line.append(s)
        elif s:
            self.line.append(" ")

    def walk(self, el: etree._Element, path: str) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or tag in _DROP_TAGS or _is_chrome(el):
            return
        if tag == "br":
            self.flush()
            return
        if tag == "img":
            self.flush()
            self.doc.blocks.append(Image(name=el.get("src") or el.get("alt") or el.get("title") or "", loc=Location(xpath=path), data=self._picture(el.get("src") or "")))
            return
        if tag == "table" and not any(True for _ in el.iterdescendants("table")) and not _layout_table(el):
            self.flush()
            rows = _grid(el, path)
            if rows:
                self.doc.blocks.append(Table(rows=rows, loc=Location(xpath=path)))
            return
        block = tag in _BLOCK_TAGS or tag == "table"
        if block:
            self.flush()
            self.blocks.append(path)
        self.text(el.text)
        for child, child_path in _child_paths(el, path):
            self.walk(child, child_path)
            self.text(child.tail)
        if block:
            self.flush()
            self.blocks.pop()

    def _picture(self, src: str) -> bytes | None:
        """A saved page's own picture file (``NAME_files/…``); remote pictures are not fetched.

        Only files inside the page's folder are read, each once, and a page's pictures
        together may not exceed ``_PICTURE_BYTES_PER_PAGE``: ten thousand ``<img>`` tags
        naming one big file cost one read.
        """
        if not src or re.match(r"^[a-z]+:", src, re.I):
            return None
        local = (self.base / src.split("?", 1)[0]).resolve()
        if local in self.pictures:
            return self.pictures[local]
        data = None
        try:
            inside = local.is_relative_to(self.base.resolve())
            size = local.stat().st_size if inside and local.is_file() else None
        except OSError:
            size = None
        if size is not None and size <= _PICTURE_BYTES and self.picture_bytes + size <= _PICTURE_BYTES_PER_PAGE:
            data = local.read_bytes()
            self.picture_bytes += len(data)
        self.pictures[local] = data
        return data


# A screenshot of a table is well under a megabyte; a page's own pictures, a few.
_PICTURE_BYTES = 20 * 10**6
_PICTURE_BYTES_PER_PAGE = 100 * 10**6


def _layout_table(el: etree._Element) -> bool:
    """A site template's wrapper table: one cell, or cells holding paragraphs and pictures, not values."""
    cells = list(el.iterdescendants("td", "th"))
    if len(cells) <= 1:
        return True
    return sum(1 for _ in el.iterdescendants("p", "div", "img")) > 2 * len(cells)


def decoded_markup(data: bytes, encoding: str | None = None) -> str:
    """The page as text, the way element paths and spans index it."""
    text = data.decode(encoding) if encoding else decode_page(data)[0]
    return _XML_DECL.sub("", text)


def decode_page(data: bytes) -> tuple[str, str]:
    m = _META_CHARSET.search(data[:4096])
    return decode(data, m.group(1).decode("ascii") if m else None)


def parse_html(data: bytes, source: str, base: Path | None = None) -> Document:
    text, encoding = decode_page(data)
    text = _XML_DECL.sub("", text)
    root = parse_markup(text)
    doc = Document(source=source, format="html", encoding=encoding)
    body = root.find("body")
    walker = _Walker(doc, base or Path("."))
    if body is not None:
        walker.walk(body, f"/{root.tag}/body[1]")
    else:
        walker.walk(root, f"/{root.tag}")
    walker.flush()
    return doc.finish()


def parse_markup(text: str) -> etree._Element:
    """The element tree that element paths index (lxml's HTML parser, plain elements)."""
    try:
        root = etree.fromstring(text, etree.HTMLParser(remove_comments=False, huge_tree=False))
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"cannot parse HTML: {exc}") from exc
    if root is None:
        raise ExtractionError("cannot parse HTML: no elements")
    return root


def load_html(path: Path, source: str) -> Document:
    return parse_html(path.read_bytes(), source, path.parent)
