"""Read ruled tables from an image: grid by ruling lines, text by OCR, cells into the document model."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..document import Cell, Location, Table
from ..numbers import parse_cell
from .digits import is_numeric, normalize
from .engine import OcrBox, OcrEngine, get_engine
from .grid import Grid, find_grids, line_masks
from .image import gray, straighten, upscale

# A cell with this share of dark pixels but no OCR text holds something unread.
_INK_UNREAD = 0.004
_REREAD_BELOW = 0.8


@dataclass
class ImageTables:
    tables: list[Table]
    boxes: list[OcrBox]  # every OCR box, in the prepared image's pixels
    outside: list[OcrBox]  # boxes not inside any table (page text on a scan)
    angle: float  # deskew correction applied, degrees
    scale: float  # upscale factor applied


def _prepare(image: np.ndarray, deskew: bool) -> tuple[np.ndarray, float, float]:
    image, scale = upscale(image)
    angle = 0.0
    if deskew:
        image, angle = straighten(image)
    return gray(image), angle, scale


def read_tables(image: np.ndarray, *, page: int | None = None, name: str, deskew: bool = True, engine: OcrEngine | None = None, ocr_outside: bool = False) -> ImageTables:
    """Find every ruled table in ``image`` and read its cells.

    ``ocr_outside`` also reads the text around the tables (whole scanned pages);
    otherwise OCR runs only on the tables' area.
    """
    g, angle, scale = _prepare(image, deskew)
    horizontal, vertical = line_masks(g)
    grids = find_grids(g, masks=(horizontal, vertical))
    if not grids and not ocr_outside:
        return ImageTables([], [], [], angle, scale)
    engine = engine or get_engine()
    clean = g.copy()
    # Ruling lines confuse the text detector (a '1' beside a line, boxes bridging cells).
    clean[(horizontal > 0) | (vertical > 0)] = 255
    if ocr_outside or not grids:
        x0, y0, x1, y1 = 0, 0, g.shape[1], g.shape[0]
    else:
        x0 = max(min(gr.bbox[0] for gr in grids) - 4, 0)
        y0 = max(min(gr.bbox[1] for gr in grids) - 4, 0)
        x1 = min(max(gr.bbox[2] for gr in grids) + 4, g.shape[1])
        y1 = min(max(gr.bbox[3] for gr in grids) + 4, g.shape[0])
    boxes = [
        OcrBox(b.text, b.score, (b.bbox[0] + x0, b.bbox[1] + y0, b.bbox[2] + x0, b.bbox[3] + y0))
        for b in engine.read(cv2.cvtColor(clean[y0:y1, x0:x1], cv2.COLOR_GRAY2BGR))
    ]
    image_name = name if scale == 1.0 and not angle else f"{name} (scaled ×{scale:.2f}, rotated {angle:+.2f}°)"
    tables = []
    used: set[int] = set()
    for grid in grids:
        table, taken = _table(grid, boxes, clean, page, image_name, engine)
        gx0, gy0, gx1, gy1 = grid.bbox
        table.pictures.append(cv2.imencode(".png", g[max(gy0 - 2, 0) : gy1 + 3, max(gx0 - 2, 0) : gx1 + 3])[1].tobytes())
        used |= taken
        tables.append(table)
    outside = [b for i, b in enumerate(boxes) if i not in used]
    return ImageTables(tables, boxes, outside, angle, scale)


def text_lines(boxes: list[OcrBox]) -> list[list[OcrBox]]:
    """Group boxes into lines (a box joins a line its vertical centre falls in), each left to right."""
    lines: list[tuple[float, float, list[OcrBox]]] = []
    for b in sorted(boxes, key=lambda b: b.bbox[1]):
        cy = b.center[1]
        for i, (top, bottom, members) in enumerate(lines):
            if top <= cy <= bottom:
                members.append(b)
                lines[i] = (min(top, b.bbox[1]), max(bottom, b.bbox[3]), members)
                break
        else:
            lines.append((b.bbox[1], b.bbox[3], [b]))
    return [sorted(members, key=lambda b: b.bbox[0]) for _, _, members in sorted(lines, key=lambda ln: ln[0])]


def reading_order(boxes: list[OcrBox]) -> list[OcrBox]:
    return [b for line in text_lines(boxes) for b in line]


def stroke_lean(region: np.ndarray) -> float | None:
    """Lean of a single thin stroke in degrees from vertical (negative = leaning right, like '/').

    None when the ink is not one long thin stroke (too little ink, or a blob).
    """
    ys, xs = np.where(region < 128)
    if len(xs) < 8:
        return None
    cov = np.cov(np.vstack([xs, ys]).astype(np.float64))
    evals, evecs = np.linalg.eigh(cov)
    if evals.min() <= 0 or evals.max() / evals.min() < 30:
        return None
    vx, vy = evecs[:, int(np.argmax(evals))]
    angle = math.degrees(math.atan2(vx, vy))
    if angle > 90:
        angle -= 180
    elif angle <= -90:
        angle += 180
    return angle


def _second_look(inner: np.ndarray, engine: OcrEngine) -> OcrBox | None:
    ys, xs = np.where(inner < 128)
    if not len(ys):
        return None
    pad = 4
    crop = inner[max(ys.min() - pad, 0) : ys.max() + pad + 1, max(xs.min() - pad, 0) : xs.max() + pad + 1]
    crop = cv2.copyMakeBorder(crop, 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=255)
    return engine.read_line(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR))


def _inside(box: OcrBox, bbox: tuple[int, int, int, int]) -> bool:
    cx, cy = box.center
    return bbox[0] <= cx < bbox[2] and bbox[1] <= cy < bbox[3]


def _table(grid: Grid, boxes: list[OcrBox], clean: np.ndarray, page: int | None, image_name: str, engine: OcrEngine) -> tuple[Table, set[int]]:
    rows, cols = grid.shape
    cells: list[list[Cell | None]] = [[None] * cols for _ in range(rows)]
    taken: set[int] = set()
    for region in grid.regions:
        mine = [(i, b) for i, b in enumerate(boxes) if i not in taken and _inside(b, region.bbox)]
        taken |= {i for i, _ in mine}
        cell = _cell([b for _, b in mine], region.bbox, clean, page, image_name, engine)
        for dr in range(region.rowspan):
            for dc in range(region.colspan):
                r, c = region.row + dr, region.col + dc
                cells[r][c] = cell if not (dr or dc) else Cell(text=cell.text, loc=cell.loc, filler=True, confidence=cell.confidence, note=cell.note)
    grid_rows = [[c if c is not None else Cell(text="", filler=True) for c in row] for row in cells]
    bbox = tuple(float(v) for v in grid.bbox)
    return Table(rows=grid_rows, loc=Location(page=page, bbox=bbox, image=image_name)), taken  # type: ignore[arg-type]


def _cell(boxes: list[OcrBox], bbox: tuple[int, int, int, int], clean: np.ndarray, page: int | None, image_name: str, engine: OcrEngine) -> Cell:
    loc = Location(page=page, bbox=tuple(float(v) for v in bbox), image=image_name)  # type: ignore[arg-type]
    if not boxes:
        x0, y0, x1, y1 = bbox
        inner = clean[y0 + 3 : y1 - 2, x0 + 3 : x1 - 2]
        if inner.size and float((inner < 128).mean()) > _INK_UNREAD:
            # The detector missed something (a lone thin '1' or '0' often): read the
            # cell's ink directly, without detection, before giving up on it.
            second = _second_look(inner, engine)
            if second is None:
                return Cell(text="", loc=loc, confidence=0.0, note="marks in the cell that OCR could not read")
            boxes = [second]
        else:
            return Cell(text="", loc=loc, confidence=1.0)
    ordered = reading_order(boxes)
    spaced = " ".join(b.text for b in ordered)
    text, note = normalize(spaced)
    if note is None and text == spaced.strip():
        text = "".join(b.text for b in ordered)  # a label wrapped over lines
        if sum(any(ch.isdigit() for ch in b.text) for b in ordered) > 1 and parse_cell(text) is not None:
            # Digits from several boxes joined into one value ('1' + '2件' → '12件'): say so.
            note = f"OCR found {spaced!r} in pieces; read as {text!r}"
    score = min(b.score for b in boxes)
    if text == "1":
        x0, y0, x1, y1 = bbox
        lean = stroke_lean(clean[y0 + 3 : y1 - 2, x0 + 3 : x1 - 2])
        if lean is not None and lean <= -15:
            # PP-OCR reads a '/' blank marker as '1'; a '1' stands upright, a '/' leans right.
            # The reading changes, so the cell is flagged with what OCR saw.
            seen = f"OCR read {spaced.strip()!r}" if spaced.strip() != "1" else "OCR read '1'"
            return Cell(text="/", loc=loc, confidence=score, note=f"{seen}; taken as '/' by stroke lean ({-lean:.0f}° from upright)")
        if lean is not None and lean <= -10:
            return Cell(text=text, loc=loc, confidence=score, note=_join(note, f"OCR read '1' but the stroke leans {-lean:.0f}°; it may be '/'"))
    if score < _REREAD_BELOW and len(text) <= 3 and not is_numeric(text):
        # A short, doubtful, non-numeric reading in what may be a number cell ('刀' for 77):
        # recognise the cell's ink once more without the detector's crop.
        x0, y0, x1, y1 = bbox
        again = _second_look(clean[y0 + 3 : y1 - 2, x0 + 3 : x1 - 2], engine)
        if again is not None:
            fixed, fixed_note = normalize(again.text)
            if is_numeric(fixed):
                first = f"OCR first read {spaced.strip()!r}, then {again.text!r} on a second look"
                return Cell(text=fixed, loc=loc, confidence=min(again.score, score + 0.2), note=_join(first, fixed_note))
    return Cell(text=text, loc=loc, confidence=score, note=note)


def _join(*notes: str | None) -> str | None:
    kept = [n for n in notes if n]
    return "; ".join(kept) if kept else None
