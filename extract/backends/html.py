"""HTML pages as scraped: charset detection, rowspan/colspan expanded, layout tables and site chrome skipped."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
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


def _is_chrome(el: etree._Element) -> bool:
    attrs = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("role"))))
    return bool(attrs) and bool(_CHROME.search(attrs)) and el.tag not in ("table", "td", "tr")


def _grid(table: etree._Element, tree: etree._ElementTree) -> list[list[Cell]]:
    """Expand rowspan/colspan into a rectangular grid; covered positions are fillers."""
    rows = [tr for tr in table.iter("tr") if tr.getparent() is table or tr.getparent().getparent() is table]
    grid: dict[tuple[int, int], Cell] = {}
    parent_paths: dict[etree._Element, str] = {}
    tr_index: dict[etree._Element, int] = {}
    for r, tr in enumerate(rows):
        c = 0
        parent = tr.getparent()
        if parent not in parent_paths:
            parent_paths[parent] = tree.getpath(parent)  # getpath is slow on deep pages
        tr_index[parent] = tr_index.get(parent, 0) + 1
        tr_path = f"{parent_paths[parent]}/tr[{tr_index[parent]}]"
        n_tag: dict[str, int] = {}  # XPath indexes count siblings of the same tag
        for td in tr:
            if td.tag not in ("td", "th"):
                continue
            while (r, c) in grid:
                c += 1
            try:
                rs = max(1, int(td.get("rowspan", "1") or 1))
                cs = max(1, int(td.get("colspan", "1") or 1))
            except ValueError:
                rs = cs = 1
            rs, cs = min(rs, 200), min(cs, 50)
            n_tag[td.tag] = n_tag.get(td.tag, 0) + 1
            text = _clean(" ".join(td.itertext()))
            loc = Location(xpath=f"{tr_path}/{td.tag}[{n_tag[td.tag]}]")
            for dr in range(rs):
                for dc in range(cs):
                    grid[(r + dr, c + dc)] = Cell(text=text, loc=loc, filler=bool(dr or dc))
            c += cs
    if not grid:
        return []
    n_rows = max(r for r, _ in grid) + 1
    n_cols = max(c for _, c in grid) + 1
    return [[grid[(r, c)] if (r, c) in grid else Cell(text="", filler=True) for c in range(n_cols)] for r in range(n_rows)]


class _Walker:
    def __init__(self, doc: Document, tree: etree._ElementTree, base: Path) -> None:
        self.doc, self.tree, self.base = doc, tree, base
        self.line: list[str] = []
        self.line_el: etree._Element | None = None

    def flush(self) -> None:
        text = _clean("".join(self.line))
        if text:
            loc = Location(xpath=self.tree.getpath(self.line_el)) if self.line_el is not None else Location()
            self.doc.blocks.append(Paragraph(text=text, loc=loc))
        self.line, self.line_el = [], None

    def text(self, s: str | None, el: etree._Element) -> None:
        if s and s.strip():
            if self.line_el is None:
                self.line_el = el
            self.line.append(s)
        elif s:
            self.line.append(" ")

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or tag in _DROP_TAGS or _is_chrome(el):
            return
        if tag == "br":
            self.flush()
            return
        if tag == "img":
            self.flush()
            src = el.get("src") or ""
            data = None
            local = (self.base / src).resolve() if src and not re.match(r"^[a-z]+:", src) else None
            if local is not None and local.is_file():
                data = local.read_bytes()
            self.doc.blocks.append(Image(name=el.get("alt") or el.get("title") or src, loc=Location(xpath=self.tree.getpath(el)), data=data))
            return
        if tag == "table" and not any(True for _ in el.iterdescendants("table")) and not _layout_table(el):
            self.flush()
            rows = _grid(el, self.tree)
            if rows:
                self.doc.blocks.append(Table(rows=rows, loc=Location(xpath=self.tree.getpath(el))))
            return
        block = tag in _BLOCK_TAGS or tag == "table"
        if block:
            self.flush()
        self.text(el.text, el)
        for child in el:
            self.walk(child)
            self.text(child.tail, el)
        if block:
            self.flush()


def _layout_table(el: etree._Element) -> bool:
    """A site template's wrapper table: one cell, or cells holding paragraphs and pictures, not values."""
    cells = list(el.iterdescendants("td", "th"))
    if len(cells) <= 1:
        return True
    return sum(1 for _ in el.iterdescendants("p", "div", "img")) > 2 * len(cells)


def parse_html(data: bytes, source: str, base: Path | None = None) -> Document:
    m = _META_CHARSET.search(data[:4096])
    text, encoding = decode(data, m.group(1).decode("ascii") if m else None)
    text = _XML_DECL.sub("", text)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"cannot parse HTML: {exc}") from exc
    tree = root.getroottree()
    doc = Document(source=source, format="html", encoding=encoding)
    body = root.find("body")
    _Walker(doc, tree, base or Path(".")).walk(body if body is not None else root)
    return doc.finish()


def load_html(path: Path, source: str) -> Document:
    return parse_html(path.read_bytes(), source, path.parent)
