"""Open a value's place in its source file and return the text a reviewer sees there.

The conventions are those of ``extract/document.py``: a character span into the decoded
text, an HTML element path, a DOCX body path, a PDF page and bbox in points (origin
top-left).  OCR places name a picture and a pixel box; their text is read by OCR, so
this module only resolves the box (see ``picture_box``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .extract.labels import squash
from .schemas import Provenance

__all__ = ["PlaceError", "crop", "picture", "picture_pixels", "shows", "squash", "text_at"]

_DOCX_STEP = re.compile(r"^(p|tbl|tr|tc|drawing)\[(\d+)\]$")


class PlaceError(Exception):
    """A place that does not resolve in its source."""


def text_at(path: Path, prov: Provenance, encoding: str | None, fmt: str) -> str:
    """The source text at ``prov``; raises PlaceError when the place does not resolve."""
    if prov.span is not None and fmt in ("txt", "html"):
        text = path.read_bytes().decode(encoding or "utf-8")
        a, b = prov.span
        if not 0 <= a <= b <= len(text):
            raise PlaceError(f"span {a}-{b} outside the text ({len(text)} characters)")
        return text[a:b]
    if fmt == "html" and prov.xpath:
        return _html_text(path, prov.xpath, encoding)
    if fmt == "docx" and prov.xpath:
        # A fact read over several paragraphs names them as an XPath union.
        return "\n".join(_docx_text(path, part.strip()) for part in prov.xpath.split("|"))
    if fmt == "pdf" and prov.page is not None and prov.bbox is not None and prov.image is None:
        return _pdf_text(path, prov.page, prov.bbox)
    raise PlaceError("no place that can be opened as text")


def _html_text(path: Path, xpath: str, encoding: str | None) -> str:
    from lxml import etree

    from .extract.backends.html import decoded_markup, parse_markup, texts

    found = parse_markup(decoded_markup(path.read_bytes(), encoding)).getroottree().xpath(xpath)
    if not found:
        raise PlaceError(f"no element at {xpath}")
    if not isinstance(found, list):
        raise PlaceError(f"{xpath} gives a value, not elements")
    return " ".join(" ".join(texts(el)) for el in found if isinstance(el, etree._Element))


def _docx_text(path: Path, xpath: str) -> str:
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(str(path))
    steps = [s for s in xpath.split("/") if s][1:]  # after "body"
    matches = [_DOCX_STEP.match(s) for s in steps]
    if not steps or not all(matches):
        raise PlaceError(f"not a DOCX body path: {xpath}")
    kind, n = matches[0].group(1), int(matches[0].group(2))  # type: ignore[union-attr]
    same = [el for el in d.element.body.iterchildren() if el.tag == qn(f"w:{kind}")]
    if n > len(same):
        raise PlaceError(f"no {kind}[{n}] in the body")
    el = same[n - 1]
    if kind == "p":
        return Paragraph(el, d).text
    table = Table(el, d)
    if len(matches) < 3:
        return "\n".join(c.text for row in table.rows for c in row.cells)
    r, c = int(matches[1].group(2)), int(matches[2].group(2))  # type: ignore[union-attr]
    return table.rows[r - 1].cells[c - 1].text


def _pdf_text(path: Path, page: int, bbox: tuple[float, float, float, float]) -> str:
    import pymupdf

    with pymupdf.open(str(path)) as pdf:
        if not 1 <= page <= pdf.page_count:
            raise PlaceError(f"no page {page}")
        return str(pdf[page - 1].get_textbox(pymupdf.Rect(bbox)))


def shows(raw: str, seen: str) -> bool:
    """Whether ``raw`` can be seen in ``seen`` (ignoring width and line breaks)."""
    return squash(raw) in squash(seen)


_PAGE_RENDER = re.compile(r"^page (\d+) @(\d+)dpi$")
_PDF_PICTURE = re.compile(r"^page(\d+)-image(\d+)$")
_FRAME = re.compile(r"^(.*) frame (\d+)$")


def picture(path: Path, prov: Provenance, fmt: str) -> bytes:
    """The encoded picture an OCR place names: the page rendered at its dpi, or the picture as stored."""
    import pymupdf

    name = prov.image
    if not name:
        raise PlaceError("not an OCR place")
    page = _PAGE_RENDER.match(name)
    if fmt == "pdf" and page:
        with pymupdf.open(str(path)) as pdf:
            return bytes(pdf[int(page.group(1)) - 1].get_pixmap(dpi=int(page.group(2))).tobytes("png"))
    embedded = _PDF_PICTURE.match(name)
    if fmt == "pdf" and embedded:
        with pymupdf.open(str(path)) as pdf:
            blocks = pdf[int(embedded.group(1)) - 1].get_text("dict")["blocks"]
            return bytes(blocks[int(embedded.group(2)) - 1]["image"])
    if fmt == "docx":
        import zipfile

        with zipfile.ZipFile(path) as z:
            return z.read(f"word/media/{name}")
    if fmt == "html":
        return (path.parent / name).read_bytes()
    if fmt == "image":
        return path.read_bytes()
    raise PlaceError(f"cannot open picture {name!r} of a {fmt} file")


def picture_pixels(path: Path, prov: Provenance, fmt: str) -> Any:
    """The decoded picture (NumPy array) an OCR place names, the frame of a multi-page image included."""
    from .extract.ocr.image import decode

    frame = 0
    if prov.image and (m := _FRAME.match(prov.image)):
        frame = int(m.group(2)) - 1
    return decode(picture(path, prov, fmt))[frame]


def crop(image: Any, bbox: tuple[float, float, float, float]) -> Any:
    """The pixel box of a picture, grey; raises PlaceError when the box is not inside it."""
    import cv2

    x0, y0, x1, y1 = (round(v) for v in bbox)
    h, w = image.shape[:2]
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise PlaceError(f"box {bbox} outside the {w}×{h} picture")
    part = image[y0:y1, x0:x1]
    return part if part.ndim == 2 else cv2.cvtColor(part, cv2.COLOR_BGR2GRAY)
