"""Find ruled tables in an image and their cell grids, merged cells included (OpenCV).

Horizontal and vertical ruling lines are isolated with morphological opening;
their positions give the row and column boundaries; a boundary segment with no
ink between two neighbouring grid cells means those cells are merged.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import cv2
import numpy as np

from .image import binarize


@dataclass
class Region:
    """A cell of the table: top-left grid position, spans, and pixel bbox."""

    row: int
    col: int
    rowspan: int
    colspan: int
    bbox: tuple[int, int, int, int]


@dataclass
class Grid:
    ys: list[int]  # row boundaries, top to bottom
    xs: list[int]  # column boundaries, left to right
    regions: list[Region] = field(default_factory=list)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.ys) - 1, len(self.xs) - 1)


def _positions(mask: np.ndarray, axis: int, min_len: int) -> list[tuple[int, int, int]]:
    """Line segments in a line mask as (position, start, end); axis 0 = horizontal lines."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    segs = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if axis == 0 and w >= min_len:
            segs.append((y + h // 2, x, x + w))
        elif axis == 1 and h >= min_len:
            segs.append((x + w // 2, y, y + h))
    return segs


def _cluster(values: list[int], tol: int) -> list[int]:
    out: list[list[int]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [round(sum(c) / len(c)) for c in out]


def _coverage(mask: np.ndarray, horizontal: bool, pos: int, a: int, b: int, pad: int = 2) -> float:
    """Share of [a, b) along a boundary line at ``pos`` that carries ink."""
    if b - a <= 2 * pad:
        return 1.0
    if horizontal:
        band = mask[max(pos - pad, 0) : pos + pad + 1, a + pad : b - pad]
        hit = band.max(axis=0) if band.size else np.zeros(0)
    else:
        band = mask[a + pad : b - pad, max(pos - pad, 0) : pos + pad + 1]
        hit = band.max(axis=1) if band.size else np.zeros(0)
    return float((hit > 0).mean()) if hit.size else 0.0


def line_masks(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of horizontal and vertical ruling lines."""
    ink = binarize(g)
    h, w = ink.shape
    hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 25, 20), 1))
    horizontal = cv2.dilate(cv2.morphologyEx(ink, cv2.MORPH_OPEN, hk), np.ones((3, 1), np.uint8))
    ys = _cluster([p for p, _, _ in _positions(horizontal, 0, max(w // 25, 20))], 4)
    gaps = [b - a for a, b in itertools.pairwise(ys) if b - a > 8]
    # A vertical kernel shorter than the shortest row but taller than a character stroke.
    vlen = max(10, int(min(gaps) * 0.7)) if gaps else max(h // 40, 10)
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, vlen))
    vertical = cv2.dilate(cv2.morphologyEx(ink, cv2.MORPH_OPEN, vk), np.ones((1, 3), np.uint8))
    return horizontal, vertical


def find_grids(g: np.ndarray, *, min_rows: int = 2, min_cols: int = 2, masks: tuple[np.ndarray, np.ndarray] | None = None) -> list[Grid]:
    """Every ruled table in a grayscale image, top to bottom (``masks``: its line masks, if already made)."""
    horizontal, vertical = masks if masks is not None else line_masks(g)
    both = cv2.bitwise_or(horizontal, vertical)
    n, _, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=8)
    grids = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if w < 60 or h < 30:
            continue
        grid = _grid_in(horizontal[y : y + h + 1, x : x + w + 1], vertical[y : y + h + 1, x : x + w + 1], x, y)
        if grid and grid.shape[0] >= min_rows and grid.shape[1] >= min_cols:
            grids.append(grid)
    grids.sort(key=lambda gr: gr.ys[0])
    return grids


def _grid_in(hmask: np.ndarray, vmask: np.ndarray, ox: int, oy: int) -> Grid | None:
    _h, w = hmask.shape
    hsegs = _positions(hmask, 0, max(w // 10, 20))
    vsegs = _positions(vmask, 1, 10)
    # Outer borders are sometimes not drawn: the ends of the ruling lines bound the table too.
    ys = _cluster([p for p, _, _ in hsegs] + [min((a for _, a, _ in vsegs), default=0), max((b for _, _, b in vsegs), default=0)], 4)
    xs = _cluster([p for p, _, _ in vsegs] + [min((a for _, a, _ in hsegs), default=0), max((b for _, _, b in hsegs), default=0)], 4)
    if len(ys) < 2 or len(xs) < 2:
        return None
    rows, cols = len(ys) - 1, len(xs) - 1
    # Union-find over grid cells: a missing boundary segment merges two cells.
    parent = list(range(rows * cols))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and _coverage(vmask, False, xs[c + 1], ys[r], ys[r + 1]) < 0.5:
                parent[find(r * cols + c + 1)] = find(r * cols + c)
            if r + 1 < rows and _coverage(hmask, True, ys[r + 1], xs[c], xs[c + 1]) < 0.5:
                parent[find((r + 1) * cols + c)] = find(r * cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(rows):
        for c in range(cols):
            groups.setdefault(find(r * cols + c), []).append((r, c))
    regions = []
    for cells in groups.values():
        r0 = min(r for r, _ in cells)
        r1 = max(r for r, _ in cells)
        c0 = min(c for _, c in cells)
        c1 = max(c for _, c in cells)
        bbox = (xs[c0] + ox, ys[r0] + oy, xs[c1 + 1] + ox, ys[r1 + 1] + oy)
        regions.append(Region(r0, c0, r1 - r0 + 1, c1 - c0 + 1, bbox))
    regions.sort(key=lambda rg: (rg.row, rg.col))
    return Grid(ys=[y + oy for y in ys], xs=[x + ox for x in xs], regions=regions)
