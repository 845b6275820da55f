"""Show a value's place in its source beside it, for the review app.

``source_view`` opens one place (the ``Provenance`` fields: page, bbox, span, xpath,
image) in the file and returns a ``SourceView``:

- ``text``: TXT/Markdown spans, HTML elements and DOCX paragraphs or cells give the text
  at the place (``shown``) with the text around it (``before``, ``after``): ±150
  characters of the decoded file for a span, the row's other cells for a table cell,
  the neighbouring blocks for a paragraph.  Plain text: escaping is the template's job.
- ``image``: a PDF text-layer place is its page rendered at 110 dpi, an OCR place the
  picture as stored (or the scanned page rendered at the stated dpi); either is cut to
  a band around the box (the whole width, so the row's label shows) with the box drawn
  in red, as PNG bytes, with the box in the PNG's pixels.  A PDF place also gives the
  text in its box.
- ``none``: a value with no place, a file that is missing or changed, a place that does
  not resolve; ``note`` says which.

``view_for`` does the same for a store field (``nianbao.store.FieldView``).  Neither
raises: every failure is a ``none`` view with a note.  Files are treated as hostile:
only regular files within the size limits are read, pictures and rendered pages stay
under ``Limits.max_image_pixels``, element paths must be plain steps (no XPath
functions), and nothing in a file is run.  Rendered pages, decoded pictures, parsed
documents and finished views are kept in small LRU caches keyed by the file's path,
modification time and size.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..extract.document import ExtractionError
from ..extract.limits import Limits, describe
from ..extract.load import check_file, source_name

if TYPE_CHECKING:
    import numpy as np

    from ..store.review import FieldView, ReportView

__all__ = ["CONTEXT_CHARS", "PDF_VIEW_DPI", "SourceView", "clear_caches", "source_view", "view_for"]

Box = tuple[float, float, float, float]

CONTEXT_CHARS = 150  # text before and after a span
PDF_VIEW_DPI = 110  # a text-layer page as the reviewer sees it
MAX_VIEW_WIDTH = 1600  # PNG width; wider bands are scaled down
MAX_SHOWN_CHARS = 2000  # an element path that names a whole page shows its start
_VIEW_PIXELS = 40_000_000  # a page rendered for viewing, whatever the pixel limit
_RED = (0, 0, 255)  # BGR


@dataclass(frozen=True)
class SourceView:
    """What the review app shows beside a value: text with the place marked, a picture with the box drawn, or why nothing."""

    kind: Literal["image", "text", "none"]
    note: str = ""  # what is shown ("page 3 of report.pdf", "picture t3-1.png in report.html") or why nothing is
    before: str = ""  # text: context before the place
    shown: str = ""  # text: the text at the place (image: the PDF text in the box, if any)
    after: str = ""  # text: context after the place
    png: bytes | None = None  # image: a band of the page or picture around the box, the box drawn in red
    box: tuple[int, int, int, int] | None = None  # image: the box in the PNG's pixels (x0, y0, x1, y1)


class _Unplaced(Exception):
    """A place that cannot be shown; the message is the view's note."""


def _none(note: str) -> SourceView:
    return SourceView(kind="none", note=note)


# --- caches ---------------------------------------------------------------------------

T = TypeVar("T")


class _LRU:
    """A small thread-safe LRU bounded by entries and by (estimated) bytes; an entry over the byte budget is not kept."""

    def __init__(self, items: int, nbytes: int) -> None:
        self.items, self.nbytes = items, nbytes
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T], size: Callable[[T], int]) -> T:
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                return hit[0]
        value = make()
        n = size(value)
        if n <= self.nbytes:
            with self._lock:
                if key not in self._data:
                    self._data[key] = (value, n)
                    self._used += n
                while len(self._data) > self.items or self._used > self.nbytes:
                    _, (_, m) = self._data.popitem(last=False)
                    self._used -= m
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._used = 0


_PAGES = _LRU(8, 160 * 2**20)  # rendered pages: (file, page, dpi) → BGR array
_PICTURES = _LRU(8, 256 * 2**20)  # decoded pictures: (file, name) → BGR array
_DOCS = _LRU(4, 256 * 2**20)  # decoded texts, parsed HTML trees and DOCX documents
_VIEWS = _LRU(64, 64 * 2**20)  # finished views (the app asks once for the page, once for the PNG)
_HASHES = _LRU(256, 2**20)  # file sha256 by (file, mtime, size)
# PyMuPDF is not thread-safe; the app may serve requests from several threads.
_PDF_LOCK = threading.RLock()


def clear_caches() -> None:
    """Forget every cached page, picture, document and view."""
    for c in (_PAGES, _PICTURES, _DOCS, _VIEWS, _HASHES):
        c.clear()


def _nbytes(a: Any) -> int:
    return int(getattr(a, "nbytes", 0)) or 1


# --- entry points ---------------------------------------------------------------------


def source_view(
    path: Path,
    *,
    fmt: str,
    encoding: str | None = None,
    page: int | None = None,
    bbox: Box | None = None,
    span: tuple[int, int] | None = None,
    xpath: str | None = None,
    image: str | None = None,
    limits: Limits | None = None,
) -> SourceView:
    """The view of one place in ``path`` (a file of format ``fmt`` as the record names it: txt, html, docx, pdf, image).

    The place fields are those of ``Provenance``; ``encoding`` is the record's.  Never
    raises: a place that cannot be shown is a ``none`` view whose note says why.
    """
    path = Path(path)
    name = source_name(path.name)
    if page is None and bbox is None and span is None and not xpath and not image:
        return _none("no place in the source was recorded for this value")
    try:
        limits = limits or Limits.from_env()
    except ValueError as exc:
        return _none(f"cannot show the place: {exc}")
    try:
        stamp = _stamp(path, limits)
        key = (stamp, limits, fmt, encoding, page, tuple(bbox) if bbox else None, tuple(span) if span else None, xpath, image)
        return _VIEWS.get(key, lambda: _view(path, stamp, name, fmt, encoding, page, bbox, span, xpath, image, limits), lambda v: len(v.png or b"") + len(v.before) + len(v.shown) + len(v.after) + 256)
    except _Unplaced as exc:
        return _none(str(exc))
    except ExtractionError as exc:
        return _none(f"cannot open {name}: {exc}")
    except Exception as exc:  # a damaged file may fail anywhere in a parser; the page still shows
        return _none(f"cannot show the place in {name}: {type(exc).__name__}: {exc}")


def view_for(field: FieldView, report: ReportView, base: Path | None = None, *, inputs: Path | None = None) -> SourceView:
    """The view of a store field's place.

    The stored ``file`` (else the report's ``source``) is the path as given when the
    file was read, relative to the working folder then: ``base`` names that folder
    when the app runs elsewhere.  A file whose sha256 no longer matches the report's is
    not shown, since its places may have moved.  Never raises.
    """
    try:
        if field.page is None and field.bbox is None and field.span is None and not field.xpath and not field.image:
            return _none(_why_unplaced(field))
        stored = field.file or report.source
        if not stored:
            return _none("the store names no file for this report")
        if not report.format:
            return _none(f"the store has no format for {stored}")
        path = Path(stored)
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        if ARCHIVE_MARK in stored and not path.exists() and inputs is not None:
            path = _member(inputs, stored, report.sha256) or path
        try:
            limits = Limits.from_env()
            _stamp(path, limits)
        except ExtractionError as exc:
            where = f" (looked in {base})" if base is not None else ""
            return _none(f"source file {stored} cannot be opened{where}: {exc}")
        if report.sha256:
            digest = _sha256(path, limits)
            if digest != report.sha256:
                return _none(f"{stored} has changed since it was read (sha256 {digest[:12]}…, the report's {report.sha256[:12]}…): its places no longer apply")
        return source_view(path, fmt=report.format, encoding=report.encoding, page=field.page, bbox=field.bbox, span=field.span, xpath=field.xpath, image=field.image, limits=limits)
    except Exception as exc:
        return _none(f"cannot show the place: {type(exc).__name__}: {exc}")


# Zip members are named ``archive.zip!member/path`` and extracted by the run into
# ``OUT/.inputs/<archive digest>/member/path`` (``nianbao.inputs``).
ARCHIVE_MARK = ".zip!"


def _member(inputs: Path, stored: str, sha256: str | None) -> Path | None:
    """The run's extracted copy of a zip member: the one under ``inputs`` with the report's sha256."""
    member = stored.rsplit("!", 1)[1]
    if not member or ".." in Path(member).parts or Path(member).is_absolute():
        return None
    found = [p for p in inputs.glob(f"*/{member}") if p.is_file()]
    if sha256 is not None:
        limits = Limits.from_env()
        found = [p for p in found if _sha256(p, limits) == sha256]
    return found[0] if len(found) == 1 else None


def _why_unplaced(field: FieldView) -> str:
    state = field.machine_state
    if state == "not_found":
        return "not found in the document: there is no place to show"
    if field.machine_method == "inferred":
        return "inferred from other values: it has no place of its own in the source"
    return f"no place in the source was recorded for this value ({state})"


def _stamp(path: Path, limits: Limits) -> tuple[str, int, int]:
    """(real path, mtime, size) of a regular file within the size limit; ExtractionError otherwise."""
    st = check_file(path, limits)
    return (os.path.realpath(path), st.st_mtime_ns, st.st_size)


def _sha256(path: Path, limits: Limits) -> str:
    from ..pipeline import file_sha256

    return _HASHES.get(_stamp(path, limits), lambda: file_sha256(path), lambda _: 100)


def _view(
    path: Path,
    stamp: tuple[str, int, int],
    name: str,
    fmt: str,
    encoding: str | None,
    page: int | None,
    bbox: Box | None,
    span: tuple[int, int] | None,
    xpath: str | None,
    image: str | None,
    limits: Limits,
) -> SourceView:
    if image:
        if bbox is None:
            raise _Unplaced(f"picture {image} in {name} is named without a box")
        return _picture_view(path, stamp, name, fmt, image, bbox, limits)
    if span is not None and fmt in ("txt", "html"):
        return _span_view(path, stamp, name, fmt, encoding, span, limits)
    if xpath and fmt == "html":
        return _html_view(path, stamp, name, xpath, limits)
    if xpath and fmt == "docx":
        return _docx_view(path, stamp, name, xpath, limits)
    if fmt == "pdf" and page is not None and bbox is not None:
        return _pdf_view(path, stamp, name, page, bbox, limits)
    raise _Unplaced(f"a place that cannot be opened in a {fmt} file ({_describe_place(page, bbox, span, xpath)})")


def _describe_place(page: int | None, bbox: Box | None, span: tuple[int, int] | None, xpath: str | None) -> str:
    parts = [f"page {page}" if page is not None else "", f"box {bbox}" if bbox else "", f"span {span}" if span else "", f"path {xpath}" if xpath else ""]
    return ", ".join(p for p in parts if p) or "nothing"


def _clip(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _head(text: str) -> str:
    """Context after a place: its first CONTEXT_CHARS characters."""
    return text if len(text) <= CONTEXT_CHARS else text[:CONTEXT_CHARS] + "…"


def _tail(text: str) -> str:
    """Context before a place: its last CONTEXT_CHARS characters."""
    return text if len(text) <= CONTEXT_CHARS else "…" + text[-CONTEXT_CHARS:]


# --- text: spans ------------------------------------------------------------------------


def _read(path: Path, fmt: str, limits: Limits) -> bytes:
    size = path.stat().st_size
    if fmt == "html":
        limits.check("max_html_bytes", size, f"page is {describe(size, 'bytes')}")
    elif fmt == "txt":
        limits.check("max_text_bytes", size, f"text is {describe(size, 'bytes')}")
    return path.read_bytes()


def _decoded(path: Path, stamp: tuple[str, int, int], fmt: str, encoding: str | None, limits: Limits) -> str:
    """The file's text as the extractor decoded it (spans index it)."""

    def make() -> str:
        from ..extract.encoding import _document_codec, decode

        data = _read(path, fmt, limits)
        try:
            if fmt == "html":
                from ..extract.backends.html import decode_page

                return decode_page(data)[0]
            return decode(data, encoding)[0]
        except ExtractionError:
            codec = _document_codec(encoding) if encoding else None
            if codec is None:
                raise
            return data.decode(codec, errors="replace")

    return _DOCS.get(("text", stamp, fmt, encoding), make, lambda t: 2 * len(t) + 64)


def _span_view(path: Path, stamp: tuple[str, int, int], name: str, fmt: str, encoding: str | None, span: tuple[int, int], limits: Limits) -> SourceView:
    text = _decoded(path, stamp, fmt, encoding, limits)
    a, b = span
    if not 0 <= a <= b <= len(text):
        raise _Unplaced(f"characters {a}–{b} are outside {name} ({len(text)} characters): the file may have changed")
    return SourceView(
        kind="text",
        note=f"characters {a}–{b} of {name}",
        before=_tail(text[max(0, a - CONTEXT_CHARS - 1) : a]),
        shown=_clip(text[a:b]),
        after=_head(text[b : b + CONTEXT_CHARS + 1]),
    )


# --- text: HTML elements ---------------------------------------------------------------

_HTML_STEP = r"/[A-Za-z][A-Za-z0-9_.:-]{0,40}(?:\[[0-9]{1,7}\])?"
_HTML_PATH = re.compile(rf"^(?:{_HTML_STEP}){{1,200}}$")
_WS = re.compile(r"[ \t\r\n\u00a0\u3000]+")


def _parts(xpath: str, pattern: re.Pattern[str], what: str) -> list[str]:
    parts = [p.strip() for p in xpath.split("|")]
    if not parts or len(parts) > 200 or not all(pattern.match(p) for p in parts):
        raise _Unplaced(f"not {what} element path: {_clip(xpath, 200)}")
    return parts


def _html_tree(path: Path, stamp: tuple[str, int, int], limits: Limits) -> Any:
    def make() -> Any:
        from ..extract.backends.html import decoded_markup, parse_markup

        return parse_markup(decoded_markup(_read(path, "html", limits))).getroottree()

    # An lxml tree takes roughly ten times its markup.
    return _DOCS.get(("html", stamp), make, lambda _: 10 * stamp[2] + 4096)


def _el_text(el: Any) -> str:
    return _WS.sub(" ", " ".join(t for t in el.itertext() if isinstance(t, str))).strip()


def _html_view(path: Path, stamp: tuple[str, int, int], name: str, xpath: str, limits: Limits) -> SourceView:
    from lxml import etree

    tree = _html_tree(path, stamp, limits)
    found = []
    for part in _parts(xpath, _HTML_PATH, "an HTML"):
        hits = tree.xpath(part)
        els = [el for el in hits if isinstance(el, etree._Element)] if isinstance(hits, list) else []
        if not els:
            raise _Unplaced(f"no element at {part} in {name}: the page may have changed")
        found.append(els[0])
    shown = "\n".join(_el_text(el) for el in found)
    before, _ = _html_context(found[0])
    _, after = _html_context(found[-1])
    what = "table cell" if found[0].tag in ("td", "th") else f"<{found[0].tag}> element"
    return SourceView(kind="text", note=f"{what} in {name}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""), before=before, shown=_clip(shown), after=after)


def _html_context(el: Any) -> tuple[str, str]:
    """(before, after): the row's other cells for a cell, else the neighbouring elements' text."""
    cell = el if el.tag in ("td", "th") else next((a for a in el.iterancestors("td", "th")), None)
    if cell is not None and el is cell:
        row = cell.getparent()
        if row is not None and row.tag == "tr":
            cells = [c for c in row if c.tag in ("td", "th")]
            k = cells.index(cell)
            return _tail(" | ".join(_el_text(c) for c in cells[:k])) + (" | " if k else ""), (" | " if k + 1 < len(cells) else "") + _head(" | ".join(_el_text(c) for c in cells[k + 1 :]))
    prev = el.getprevious()
    while prev is not None and not (isinstance(prev.tag, str) and _el_text(prev)):
        prev = prev.getprevious()
    nxt = el.getnext()
    while nxt is not None and not (isinstance(nxt.tag, str) and _el_text(nxt)):
        nxt = nxt.getnext()
    before = _tail(_el_text(prev)) + "\n" if prev is not None else ""
    after = "\n" + _head(_el_text(nxt)) if nxt is not None else ""
    return before, after


# --- text: DOCX paragraphs and cells ---------------------------------------------------

_DOCX_PATH = re.compile(r"^/body/(?:p\[[0-9]{1,7}\](?:/drawing\[[0-9]{1,5}\])?|tbl\[[0-9]{1,7}\](?:/tr\[[0-9]{1,7}\]/tc\[[0-9]{1,5}\])?)$")
_DOCX_NUMBERS = re.compile(r"\[([0-9]+)\]")


def _docx(path: Path, stamp: tuple[str, int, int], limits: Limits) -> Any:
    def make() -> Any:
        import docx

        from ..extract.backends.docx import check_docx

        check_docx(path, limits)  # not a zip bomb, no DTD, within the part limits
        return docx.Document(str(path))

    return _DOCS.get(("docx", stamp), make, lambda _: 10 * stamp[2] + 4096)


def _docx_view(path: Path, stamp: tuple[str, int, int], name: str, xpath: str, limits: Limits) -> SourceView:
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = _docx(path, stamp, limits)
    body = list(d.element.body.iterchildren())
    paras = [el for el in body if el.tag == qn("w:p")]
    tables = [el for el in body if el.tag == qn("w:tbl")]
    shown, befores, afters, notes = [], [], [], []
    for part in _parts(xpath, _DOCX_PATH, "a DOCX"):
        numbers = [int(n) for n in _DOCX_NUMBERS.findall(part)]
        if part.startswith("/body/p["):
            n = numbers[0]
            if not 1 <= n <= len(paras):
                raise _Unplaced(f"no paragraph {n} in {name} ({len(paras)} paragraphs): the file may have changed")
            texts = [Paragraph(el, d).text for el in paras]
            shown.append(texts[n - 1])
            prev = next((t for t in reversed(texts[: n - 1]) if t.strip()), None)
            nxt = next((t for t in texts[n:] if t.strip()), None)
            befores.append(_tail(prev) + "\n" if prev is not None else "")
            afters.append("\n" + _head(nxt) if nxt is not None else "")
            notes.append(f"paragraph {n}")
            continue
        t = numbers[0]
        if not 1 <= t <= len(tables):
            raise _Unplaced(f"no table {t} in {name} ({len(tables)} tables): the file may have changed")
        table = Table(tables[t - 1], d)
        rows = table.rows
        if len(numbers) == 1:
            shown.append("\n".join(" | ".join(_distinct_texts(row.cells)) for row in rows))
            befores.append("")
            afters.append("")
            notes.append(f"table {t}")
            continue
        r, c = numbers[1], numbers[2]
        if not 1 <= r <= len(rows):
            raise _Unplaced(f"no row {r} in table {t} of {name}: the file may have changed")
        cells = rows[r - 1].cells
        if not 1 <= c <= len(cells):
            raise _Unplaced(f"no column {c} in row {r} of table {t} in {name}: the file may have changed")
        target = cells[c - 1]._tc
        left = _distinct_texts([x for x in cells[: c - 1] if x._tc is not target])
        right = _distinct_texts([x for x in cells[c:] if x._tc is not target])
        shown.append(cells[c - 1].text)
        befores.append(_tail(" | ".join(left)) + " | " if left else "")
        afters.append(" | " + _head(" | ".join(right)) if right else "")
        notes.append(f"table {t}, row {r}, column {c}")
    more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
    return SourceView(kind="text", note=f"{notes[0]} of {name}{more}", before=befores[0], shown=_clip("\n".join(shown)), after=afters[-1])


def _distinct_texts(cells: list[Any]) -> list[str]:
    """python-docx repeats a merged cell at each grid column it covers; each is shown once."""
    seen: list[Any] = []
    out = []
    for c in cells:
        if any(c._tc is s for s in seen):
            continue
        seen.append(c._tc)
        out.append(_WS.sub(" ", c.text).strip())
    return out


# --- images: rendering, pictures, the band around a box ------------------------------------


def _open_pdf(path: Path) -> Any:
    import pymupdf

    pdf = pymupdf.open(str(path), filetype="pdf")
    if pdf.needs_pass:
        pdf.close()
        raise _Unplaced("the PDF is password-protected")
    return pdf


def _pdf_page(pdf: Any, page: int, name: str) -> Any:
    if not 1 <= page <= pdf.page_count:
        raise _Unplaced(f"no page {page} in {name} ({pdf.page_count} pages): the file may have changed")
    return pdf[page - 1]


def _pixels(pix: Any) -> np.ndarray:
    import cv2
    import numpy as np

    a = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)
    if pix.n == 1:
        return cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(a[:, :, :3], cv2.COLOR_RGB2BGR)


def _rendered(path: Path, stamp: tuple[str, int, int], name: str, page: int, dpi: float, limits: Limits, *, exact: bool) -> tuple[np.ndarray, float]:
    """The page rendered at ``dpi`` (cached), and the dpi used.

    ``exact``: an OCR place's box is in the pixels of a rendering at the stated dpi, which
    must then stay under the pixel limit; a page rendered only for viewing is rendered
    at a lower dpi instead when it is very large.
    """

    def make() -> tuple[np.ndarray, float]:
        with _PDF_LOCK, _open_pdf(path) as pdf:
            p = _pdf_page(pdf, page, name)
            rect = p.rect
            area = max(rect.width * rect.height, 1.0)
            pixels = area * (dpi / 72) ** 2
            used = dpi
            if exact:
                limits.check("max_image_pixels", pixels, f"page {page} at {dpi:g} dpi is {describe(pixels, 'pixels')}")
            else:
                cap = min(limits.max_image_pixels, _VIEW_PIXELS)
                if pixels > cap:
                    used = 72 * math.sqrt(cap / area)
            if used < 1:
                raise _Unplaced(f"page {page} of {name} is too large to render ({rect.width:.0f}×{rect.height:.0f} points)")
            return _pixels(p.get_pixmap(dpi=max(1, int(used)), alpha=False)), float(int(used))

    return _PAGES.get(("page", stamp, page, dpi, exact, limits.max_image_pixels), make, lambda r: _nbytes(r[0]))


_PAGE_RENDER = re.compile(r"^page ([0-9]{1,6}) @([0-9]{1,4})dpi$")
_PDF_PICTURE = re.compile(r"^page([0-9]{1,6})-(image|picture)([0-9]{1,6})$")
_FRAME = re.compile(r"^(.*) frame ([0-9]{1,6})$")
_PICTURE_BYTES = 50 * 10**6  # a picture file beside a page or inside a DOCX


def _picture_bytes(path: Path, name: str, fmt: str, limits: Limits) -> bytes:
    """The encoded picture an OCR place names, as stored in (or beside) the file."""
    if fmt == "docx":
        import zipfile

        from ..extract.backends.docx import check_docx

        check_docx(path, limits)
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            info = next((i for i in infos if i.filename == f"word/media/{name}"), None) or next((i for i in infos if i.filename.rsplit("/", 1)[-1] == name), None)
            if info is None:
                raise _Unplaced(f"no picture {name} in {path.name}")
            if info.file_size > _PICTURE_BYTES:
                raise _Unplaced(f"picture {name} is {describe(info.file_size, 'bytes')}, too large to show")
            return z.read(info)
    if fmt == "html":
        folder = path.resolve().parent
        local = (folder / name).resolve()
        if not local.is_relative_to(folder):
            raise _Unplaced(f"picture {name} is outside the page's folder")
        st = check_file(local, limits)
        if st.st_size > _PICTURE_BYTES:
            raise _Unplaced(f"picture {name} is {describe(st.st_size, 'bytes')}, too large to show")
        return local.read_bytes()
    if fmt == "image":
        return path.read_bytes()  # the picture is the file (its size was checked)
    if fmt == "pdf" and (m := _PDF_PICTURE.match(name)):
        return _pdf_picture(path, int(m.group(1)), m.group(2), int(m.group(3)), limits)
    raise _Unplaced(f"cannot open picture {name!r} of a {fmt} file")


def _pdf_picture(path: Path, page: int, kind: str, k: int, limits: Limits) -> bytes:
    """``pageN-imageK`` (K-th block of the page's text dict) or ``pageN-pictureK`` (K-th of its pictures), as the PDF reader names them."""
    with _PDF_LOCK, _open_pdf(path) as pdf:
        p = _pdf_page(pdf, page, path.name)
        infos = p.get_images(full=True)
        sizes = [int(i[2]) * int(i[3]) for i in infos]
        if kind == "picture":
            if not 1 <= k <= len(infos):
                raise _Unplaced(f"no picture {k} on page {page}")
            limits.check("max_image_pixels", sizes[k - 1], f"picture declares {infos[k - 1][2]}×{infos[k - 1][3]} pixels")
            return bytes(pdf.extract_image(infos[k - 1][0]).get("image") or b"")
        # The text dict decodes every picture of the page: only when all are within the limits
        # (the reader names pictures ``-pictureK`` otherwise).
        if any(px > limits.max_image_pixels for px in sizes) or sum(sizes) > limits.max_image_total_pixels:
            raise _Unplaced(f"the pictures on page {page} are over the pixel limits")
        blocks = p.get_text("dict")["blocks"]
        if not 1 <= k <= len(blocks) or blocks[k - 1].get("type") != 1:
            raise _Unplaced(f"no picture at block {k} of page {page}")
        return bytes(blocks[k - 1].get("image") or b"")


def _picture(path: Path, stamp: tuple[str, int, int], name: str, fmt: str, limits: Limits) -> np.ndarray:
    """The decoded picture (one frame) an OCR place names, checked against the pixel limits before decoding."""

    def make() -> np.ndarray:
        from ..extract.ocr.image import decode

        frame, stored = 0, name
        if m := _FRAME.match(name):
            stored, frame = m.group(1), int(m.group(2)) - 1
        data = _picture_bytes(path, stored, fmt, limits)
        if not data:
            raise _Unplaced(f"picture {stored} holds no data")
        frames = decode(data, limits)
        if not 0 <= frame < len(frames):
            raise _Unplaced(f"picture {stored} has no frame {frame + 1}")
        return frames[frame]

    return _PICTURES.get(("picture", stamp, fmt, name, limits.max_image_pixels, limits.max_image_total_pixels), make, _nbytes)


def _band(image: np.ndarray, box: Box, *, margin: float) -> tuple[bytes, tuple[int, int, int, int]]:
    """A band of ``image`` around ``box`` (pixels), the box drawn in red; PNG bytes and the box in the PNG's pixels."""
    import cv2

    h, w = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h or x1 <= x0 or y1 <= y0:
        raise _Unplaced(f"box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) is outside the {w}×{h} picture")
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
    my = max(margin, 2.5 * (y1 - y0))
    top, bottom = max(0, int(y0 - my)), min(h, math.ceil(y1 + my))
    if w <= 1.5 * MAX_VIEW_WIDTH:
        left, right = 0, w  # the whole width: the row's label shows
    else:
        half = max(MAX_VIEW_WIDTH / 2, (x1 - x0) / 2 + margin)
        cx = (x0 + x1) / 2
        left, right = max(0, int(cx - half)), min(w, math.ceil(cx + half))
    part = image[top:bottom, left:right]
    if part.ndim == 2:
        part = cv2.cvtColor(part, cv2.COLOR_GRAY2BGR)
    elif part.shape[2] == 4:
        part = cv2.cvtColor(part, cv2.COLOR_BGRA2BGR)
    else:
        part = part.copy()
    scale = min(1.0, MAX_VIEW_WIDTH / max(part.shape[1], 1))
    if scale < 1.0:
        part = cv2.resize(part, (max(1, round(part.shape[1] * scale)), max(1, round(part.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    ph, pw = part.shape[:2]
    bx = (
        max(0, min(pw - 1, int((x0 - left) * scale))),
        max(0, min(ph - 1, int((y0 - top) * scale))),
        max(1, min(pw, math.ceil((x1 - left) * scale))),
        max(1, min(ph, math.ceil((y1 - top) * scale))),
    )
    # The frame is drawn just outside the box, so it covers none of the box's pixels.
    cv2.rectangle(part, (max(0, bx[0] - 3), max(0, bx[1] - 3)), (min(pw - 1, bx[2] + 2), min(ph - 1, bx[3] + 2)), _RED, 2)
    ok, png = cv2.imencode(".png", part, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise _Unplaced("cannot encode the picture as PNG")
    return png.tobytes(), bx


def _pdf_view(path: Path, stamp: tuple[str, int, int], name: str, page: int, bbox: Box, limits: Limits) -> SourceView:
    """A text-layer place: the page at PDF_VIEW_DPI, a band around the box; the text in the box and beside it on its line."""
    import pymupdf

    pixels, dpi = _rendered(path, stamp, name, page, PDF_VIEW_DPI, limits, exact=False)
    f = dpi / 72
    png, box = _band(pixels, (bbox[0] * f, bbox[1] * f, bbox[2] * f, bbox[3] * f), margin=0.9 * dpi)
    with _PDF_LOCK, _open_pdf(path) as pdf:
        p = _pdf_page(pdf, page, name)
        rect = pymupdf.Rect(bbox)
        shown = str(p.get_textbox(rect))
        left, right = [], []
        for x0, y0, x1, y1, word, *_ in p.get_text("words", clip=pymupdf.Rect(p.rect.x0, rect.y0, p.rect.x1, rect.y1)):
            mid = (y0 + y1) / 2
            if not rect.y0 <= mid <= rect.y1:
                continue
            if x1 <= rect.x0 + 1:
                left.append((x0, word))
            elif x0 >= rect.x1 - 1:
                right.append((x0, word))
    before = _tail(" ".join(w for _, w in sorted(left)))
    after = _head(" ".join(w for _, w in sorted(right)))
    return SourceView(kind="image", note=f"page {page} of {name}", before=before, shown=_clip(shown.strip()), after=after, png=png, box=box)


def _picture_view(path: Path, stamp: tuple[str, int, int], name: str, fmt: str, image: str, bbox: Box, limits: Limits) -> SourceView:
    """An OCR place: the picture as stored, or the scanned page rendered at the stated dpi, a band around the pixel box."""
    if fmt == "pdf" and (m := _PAGE_RENDER.match(image)):
        page, dpi = int(m.group(1)), int(m.group(2))
        if not 1 <= dpi <= 1200:
            raise _Unplaced(f"page {page} is named at {dpi} dpi")
        pixels, _ = _rendered(path, stamp, name, page, dpi, limits, exact=True)
        png, box = _band(pixels, bbox, margin=0.9 * dpi)
        return SourceView(kind="image", note=f"page {page} of {name} (scanned; read by OCR at {dpi} dpi)", png=png, box=box)
    pixels = _picture(path, stamp, image, fmt, limits)
    png, box = _band(pixels, bbox, margin=80)
    where = f"page {m.group(1)} of {name}" if fmt == "pdf" and (m := _PDF_PICTURE.match(image)) else name
    return SourceView(kind="image", note=f"picture {image} in {where} (read by OCR)", png=png, box=box)
