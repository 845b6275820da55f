"""The OCR pass over a loaded document: decide what needs OCR and put readings in place of pictures.

Backends only report pictures; this pass decides.  A whole-page picture (a
scanned page, a page image file) is read in full: its text becomes paragraphs
and its ruled tables become tables.  Any other picture is checked for ruling
lines first, and only a picture holding a table is OCR'd (the Wendeng case:
tables pasted into Word as screenshots).  Logos and photos cost one cheap
OpenCV pass and no OCR.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import cv2
import numpy as np

from ..continuation import append_block, same_extent
from ..document import Block, Document, ExtractionError, Image, Location, Paragraph, Table
from ..limits import Limits
from ..locate import classify, has_header
from .engine import OcrEngine, get_engine
from .grid import find_grids
from .image import decode, downscale, gray
from .tables import read_tables, text_lines

# Smaller pictures are icons, bullets or seals, never a statistics table.
_MIN_SIDE = 120


@dataclass
class OcrStats:
    """What the pass did, for benchmarks and the record."""

    images_seen: int = 0
    table_images: int = 0
    pages: int = 0
    tables: int = 0
    seconds: float = 0.0
    per_image: list[tuple[str, float]] = field(default_factory=list)


def needs_ocr(doc: Document) -> bool:
    return any(isinstance(b, Image) and b.data for b in doc.blocks)


def ocr_document(doc: Document, engine: OcrEngine | None = None, *, limits: Limits | None = None) -> OcrStats:
    """Replace pictures holding tables or page text by what OCR reads in them (in place)."""
    stats = OcrStats()
    if not needs_ocr(doc):
        return stats
    out: list[Block] = []
    for block in doc.blocks:
        if not (isinstance(block, Image) and block.data):
            out.append(block)
            continue
        stats.images_seen += 1
        started = time.perf_counter()
        try:
            frames = decode(block.data, limits)
        except ExtractionError:
            out.append(block)  # not a picture we can read; the image stays a flagged placeholder
            continue
        produced: list[Block] = []
        for k, frame in enumerate(frames):
            if min(frame.shape[:2]) < _MIN_SIDE:
                continue
            name = block.name if len(frames) == 1 else f"{block.name} frame {k + 1}"
            page = block.loc.page if block.loc.page is not None else (k + 1 if block.page_scan else None)
            original = frame.shape[:2]
            if block.page_scan:
                frame = downscale(frame)
            shrink = frame.shape[1] / original[1]
            produced += _read(frame, name, page, block.page_scan, engine, partial(_to_picture, name=name, original=original, shrink=shrink))
        if not produced:
            out.append(block)
            continue
        elapsed = time.perf_counter() - started
        stats.per_image.append((block.name, elapsed))
        stats.seconds += elapsed
        stats.pages += block.page_scan
        stats.table_images += not block.page_scan
        for b in produced:
            stats.tables += isinstance(b, Table)
            append_block(out, b, _continues_picture)
    doc.blocks = out
    doc.finish()
    return stats


def _to_picture(loc: Location, name: str, original: tuple[int, int], shrink: float, *, size: tuple[float, float], angle: float, scale: float) -> None:
    """Move a bbox from the prepared image (shrunk, enlarged, straightened) to the picture as stored.

    A reviewer crops the picture named ``image`` (an embedded picture as it is in
    the file, or the page rendered at the stated dpi) at ``bbox``: no step of the
    OCR preparation has to be redone to find the cell.
    """
    loc.image = name
    if loc.bbox is None:
        return
    x0, y0, x1, y1 = loc.bbox
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], dtype=np.float64)
    if angle:
        w, h = size
        m = cv2.invertAffineTransform(cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0))
        corners = corners @ m[:, :2].T + m[:, 2]
    corners /= scale * shrink
    height, width = original
    xs = np.clip(corners[:, 0], 0, width)
    ys = np.clip(corners[:, 1], 0, height)
    loc.bbox = (round(float(xs.min()), 1), round(float(ys.min()), 1), round(float(xs.max()), 1), round(float(ys.max()), 1))


def _read(frame: np.ndarray, name: str, page: int | None, whole_page: bool, engine: OcrEngine | None, place: Callable[..., None]) -> list[Block]:
    if not whole_page and not find_grids(gray(frame)):
        return []
    result = read_tables(frame, page=page, name=name, engine=engine or get_engine(), ocr_outside=whole_page)
    # upscale() sizes the enlarged image with int(); rotation turns about its centre.
    prepared = (int(frame.shape[1] * result.scale), int(frame.shape[0] * result.scale)) if result.scale != 1.0 else (frame.shape[1], frame.shape[0])
    items: list[tuple[float, Block]] = [(t.loc.bbox[1] if t.loc.bbox else 0.0, t) for t in result.tables]
    if whole_page:
        image_name = result.tables[0].loc.image if result.tables else name
        for line in text_lines(result.outside):
            text = "".join(b.text for b in line).strip()
            if not text:
                continue
            bbox = (min(b.bbox[0] for b in line), min(b.bbox[1] for b in line), max(b.bbox[2] for b in line), max(b.bbox[3] for b in line))
            loc = Location(page=page, bbox=tuple(round(v, 1) for v in bbox), image=image_name)  # type: ignore[arg-type]
            items.append((bbox[1], Paragraph(text=text, loc=loc, confidence=min(b.score for b in line))))
    items.sort(key=lambda it: it[0])
    blocks = [b for _, b in items]
    geometry = {"size": prepared, "angle": result.angle, "scale": result.scale}
    for b in blocks:
        if isinstance(b, Table):
            place(b.loc, **geometry)
            seen: set[int] = set()
            for row in b.rows:
                for cell in row:
                    if id(cell.loc) not in seen:  # merged cells share one Location
                        seen.add(id(cell.loc))
                        place(cell.loc, **geometry)
        elif isinstance(b, Paragraph):
            place(b.loc, **geometry)
    return blocks


def _continues_picture(prev: Table, table: Table) -> bool:
    """A table cut over two pictures or scanned pages: edges aligned within 3% of the width, no header of its own."""
    if not (prev.loc.image and table.loc.image):
        return False
    width = prev.loc.bbox[2] - prev.loc.bbox[0] if prev.loc.bbox else 0.0
    return same_extent(prev, table, 0.03 * max(width, 1.0)) and _no_header(table)


def _no_header(table: Table) -> bool:
    """A continuation starts with data or a row label, not with the table's header."""
    return not has_header(table) and classify(table) in (None, "t3", "t4")
