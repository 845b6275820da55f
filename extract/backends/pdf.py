"""PDF with a text layer, via PyMuPDF: lines with bboxes, ruled tables, tables joined across pages."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pymupdf

from ..continuation import append_block, same_extent
from ..document import Cell, Document, ExtractionError, Image, Location, Paragraph, Table
from ..limits import Limits, describe

_NUMBER_CELL = re.compile(r"^[\d.,，\-/—－]+$")
# A page this number-dense is a statistics grid even when no rules are drawn: a table
# row's cells are separate text lines, or one line of several numbers.
_GRID_NUMBER_LINES = 12
_GRID_ROWS = 4


def _looks_tabular(text: str) -> bool:
    """Many lines that are numbers, or several lines of three numbers or more."""
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    numeric = sum(1 for words in lines if all(_NUMBER_CELL.match(w) for w in words))
    rows = sum(1 for words in lines if sum(bool(_NUMBER_CELL.match(w)) for w in words) >= 3)
    return numeric >= _GRID_NUMBER_LINES or rows >= _GRID_ROWS


def _in_any(bbox: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    return any(b[0] - 1 <= cx <= b[2] + 1 and b[1] - 1 <= cy <= b[3] + 1 for b in boxes)


def _ruled_area(page: pymupdf.Page) -> pymupdf.Rect | None:
    """Union of the page's line and rectangle drawings: where a ruled table can be."""
    # Rules are zero-height rectangles, which Rect union ignores: take the extremes.
    boxes = [p["rect"] for p in page.get_cdrawings() if max(p["rect"][2] - p["rect"][0], p["rect"][3] - p["rect"][1]) >= 2]
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return pymupdf.Rect(x0 - 3, y0 - 3, x1 + 3, y1 + 3)


def _tables(page: pymupdf.Page, number: int) -> list[tuple[float, Table]]:
    # Table finding reads every character in Python, so only where rules are drawn.
    # Ruling lines alone (use_layout=False): the layout model drops columns that
    # happen to be empty, which is exactly what blank statistical tables have.
    area = _ruled_area(page)
    found = page.find_tables(clip=area, strategy="lines", use_layout=False) if area is not None else None
    if (found is None or not found.tables) and _looks_tabular(page.get_text()):
        found = page.find_tables(strategy="text", use_layout=False)  # a table drawn without rules
    if found is None:
        return []
    out = []
    for t in found.tables:
        data = t.extract()
        rows: list[list[Cell]] = []
        for r, row in enumerate(data):
            cell_boxes = t.rows[r].cells if r < len(t.rows) else [None] * len(row)
            cells = []
            for c, text in enumerate(row):
                bbox = cell_boxes[c] if c < len(cell_boxes) else None
                loc = Location(page=number, bbox=tuple(round(v, 2) for v in bbox) if bbox else None)
                if text and "\n" in text and _SPLIT_NUMBER.match(text) and bbox:
                    text = _number_in_x_order(page, bbox) or text
                cells.append(Cell(text=(text or "").replace("\n", " ").strip(), loc=loc, filler=text is None))
            rows.append(cells)
        bbox = tuple(round(v, 2) for v in t.bbox)
        out.append((t.bbox[1], Table(rows=rows, loc=Location(page=number, bbox=bbox))))
    return out


# A number cell the table finder returned over two lines ("773028\n."): a glyph sits
# off the baseline (often the decimal point), so it was sorted onto a line of its own.
_SPLIT_NUMBER = re.compile(r"^[\d.,\s]+$")


def _number_in_x_order(page: pymupdf.Page, bbox: tuple[float, float, float, float]) -> str | None:
    """The cell's characters left to right when they form one visual line, as the page shows them."""
    chars = [
        ch
        for block in page.get_text("rawdict", clip=pymupdf.Rect(bbox))["blocks"]
        for line in block.get("lines", [])
        for span in line["spans"]
        for ch in span["chars"]
        if ch["c"].strip()
    ]
    if not chars:
        return None
    top, bottom = max(ch["bbox"][1] for ch in chars), min(ch["bbox"][3] for ch in chars)
    if top >= bottom:  # no height shared by every glyph: really two lines
        return None
    return "".join(ch["c"] for ch in sorted(chars, key=lambda ch: ch["bbox"][0]))


def _open(path: Path) -> pymupdf.Document:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        # MuPDF takes file names as UTF-8; a name that is not (PEP 383 surrogates) goes in as bytes.
        return pymupdf.open(stream=path.read_bytes(), filetype="pdf")
    return pymupdf.open(str(path))


def load_pdf(path: Path, source: str, limits: Limits | None = None) -> Document:
    limits = limits or Limits.from_env()
    try:
        pdf = _open(path)
    except Exception as exc:  # PyMuPDF raises several types for damaged files
        raise ExtractionError(f"cannot open PDF: {exc}") from exc
    try:
        return _read(pdf, source, limits)
    finally:
        pdf.close()


def _read(pdf: pymupdf.Document, source: str, limits: Limits) -> Document:
    try:
        if pdf.needs_pass:
            raise ExtractionError("PDF is password-protected")
        n_pages = pdf.page_count
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError(f"cannot open PDF: {exc}") from exc
    if n_pages == 0:
        raise ExtractionError("cannot open PDF: it has no pages (damaged, or not a PDF)")
    limits.check("max_pages", n_pages, f"PDF has {n_pages} pages")
    doc = Document(source=source, format="pdf", pages=n_pages)
    try:
        for page in pdf.pages():
            number = page.number + 1
            if _needs_ocr(page):
                # The OCR pass reads this page from a rendering of it.
                doc.blocks.append(_render(page, number, limits))
                continue
            tables = _tables(page, number)
            boxes = [t.loc.bbox for _, t in tables if t.loc.bbox]
            items: list[tuple[float, object]] = list(tables)
            pictures = _guarded_pictures(page, number, limits)
            # get_text("dict") decodes every picture to hand over its bytes; on a page
            # with pictures over the pixel limits, text comes without them and the
            # pictures are taken one by one.
            flags = pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_PRESERVE_IMAGES if pictures is not None else None
            for k, block in enumerate(page.get_text("dict", flags=flags)["blocks"]):
                if block.get("type") == 1:
                    items.append((block["bbox"][1], Image(name=f"page{number}-image{k + 1}", loc=Location(page=number, bbox=tuple(block["bbox"])), data=block.get("image"))))
                    continue
                for line in block.get("lines", []):
                    text = "".join(s["text"] for s in line["spans"]).strip()
                    bbox = tuple(round(v, 2) for v in line["bbox"])
                    if text and not _in_any(bbox, boxes):
                        items.append((bbox[1], Paragraph(text=text, loc=Location(page=number, bbox=bbox))))
            items += pictures or []
            items.sort(key=lambda it: it[0])
            for _, block in items:
                append_block(doc.blocks, block, _continues_on_next_page)  # type: ignore[arg-type]
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError(f"cannot read PDF content: {exc}") from exc
    return doc.finish()


def _guarded_pictures(page: pymupdf.Page, number: int, limits: Limits) -> list[tuple[float, Image]] | None:
    """None when the page's pictures are within the pixel limits; else every picture, one by one.

    Sizes come from the pictures' dictionaries, so nothing is decoded to find out.  A
    picture over ``max_image_pixels``, or past ``max_image_total_pixels`` for the page,
    becomes a placeholder that says why; the others are extracted singly.
    """
    infos = page.get_images(full=True)
    sizes = [int(info[2]) * int(info[3]) for info in infos]
    if all(px <= limits.max_image_pixels for px in sizes) and sum(sizes) <= limits.max_image_total_pixels:
        return None
    out: list[tuple[float, Image]] = []
    total = 0
    for k, (info, pixels) in enumerate(zip(infos, sizes)):
        name = f"page{number}-picture{k + 1}"
        try:
            box = page.get_image_bbox(info)
            bbox: tuple[float, float, float, float] | None = (box.x0, box.y0, box.x1, box.y1) if box.is_valid and not box.is_infinite else None
        except Exception:  # a picture the page lists but never draws
            bbox = None
        loc = Location(page=number, bbox=tuple(round(v, 2) for v in bbox) if bbox else None)  # type: ignore[arg-type]
        y = bbox[1] if bbox else page.rect.y1
        declared = f"{int(info[2])}×{int(info[3])} = {describe(pixels, 'pixels')}"
        if pixels > limits.max_image_pixels:
            why = limits.exceeded("max_image_pixels", f"picture declares {declared}")
        elif total + pixels > limits.max_image_total_pixels:
            why = limits.exceeded("max_image_total_pixels", f"pictures on page {number} declare more than {describe(total + pixels, 'pixels')} together")
        else:
            total += pixels
            data = page.parent.extract_image(info[0]).get("image") if info[0] else None
            out.append((y, Image(name=name, loc=loc, data=data)))
            continue
        out.append((y, Image(name=f"{name} (skipped: {why})", loc=loc)))
    return out


def _render(page: pymupdf.Page, number: int, limits: Limits) -> Image:
    """The page as a PNG for OCR: at SCAN_DPI, or lower for a page so large that SCAN_DPI would pass the pixel limit."""
    rect = page.rect
    pixels = (rect.width * SCAN_DPI / 72) * (rect.height * SCAN_DPI / 72)
    if pixels <= limits.max_image_pixels:
        png = page.get_pixmap(dpi=SCAN_DPI).tobytes("png")
        return Image(name=f"page {number} @{SCAN_DPI}dpi", loc=Location(page=number), data=png, page_scan=True)
    zoom = math.sqrt(limits.max_image_pixels / max(rect.width * rect.height, 1.0))
    dpi = 72 * zoom
    if dpi < MIN_RENDER_DPI:
        why = limits.exceeded(
            "max_image_pixels", f"page is {rect.width / 72:.0f}×{rect.height / 72:.0f} inches, which at {MIN_RENDER_DPI} dpi is {describe(pixels * (MIN_RENDER_DPI / SCAN_DPI) ** 2, 'pixels')}"
        )
        return Image(name=f"page {number} (not rendered for OCR: {why})", loc=Location(page=number), page_scan=True)
    png = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom)).tobytes("png")
    return Image(name=f"page {number} @{dpi:.0f}dpi", loc=Location(page=number), data=png, page_scan=True)


SCAN_DPI = 200
# Below this a rendering holds no readable text; such a page (kilometres wide) is not rendered.
MIN_RENDER_DPI = 20


def _needs_ocr(page: pymupdf.Page) -> bool:
    """No usable text layer: a scan (pictures, little text) or text that decodes to garbage."""
    text = "".join(page.get_text().split())
    has_pictures = bool(page.get_images(full=False))
    if len(text) < 20:
        return has_pictures
    # Fonts without a ToUnicode map extract as private-use or control characters.
    readable = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or (ch.isascii() and ch.isprintable()) or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f")
    return readable / len(text) < 0.5


def _continues_on_next_page(prev: Table, table: Table) -> bool:
    return prev.loc.page != table.loc.page and same_extent(prev, table, 6)
