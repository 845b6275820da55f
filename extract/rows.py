"""Read the n values of one table row, whatever the export did to its cells.

Exports drop empty cells, add filler cells, put several numbers in one cell or run
a row's digits together.  The reader tries the readings the row admits; where
they disagree it uses the template's own relation for the row (总计 = the sum of
the others) to choose, and says so.  It never changes a number it read: an
alignment chosen or a cell inferred by the relation is flagged for review.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..schemas import Method, State
from .document import Cell, Location
from .numbers import Parsed, parse_cell
from .split import AGREED, PINNED_BY_LENGTH, PINNED_BY_ROW, PINNED_BY_TABLE, Equation, Part, Reading, RowResult, Segment, Shape, TableResult, decide, listing, row_readings, supported

Relation = Callable[[Sequence[float | None]], bool | None]  # None: not assessable


@dataclass(slots=True)
class Slot:
    parsed: Parsed | None  # None: no reading for this column
    cell: Cell | None
    col: int | None  # grid column of the cell
    note: str | None = None  # set when confidence should drop and review is needed
    inferred: bool = False
    method: Method | None = None  # how the value was had, where not the format's own reading
    confidence: float | None = None  # with ``note``: how far the reading can be trusted


@dataclass(slots=True)
class RowRead:
    slots: list[Slot]
    label: str
    notes: list[str] = field(default_factory=list)
    # Glued row text (a scraper's output): the value text's space-free stretches, and the
    # cell each came from.  The row's slots are filled by :func:`resolve_runs`.
    run: list[Segment] | None = None
    run_cells: list[Cell] = field(default_factory=list)


def _is_label(cell: Cell) -> bool:
    return not cell.run and bool(cell.text.strip()) and parse_cell(cell.text) is None


_GLUED_DIGITS = re.compile(r"^(?P<label>.*[\u4e00-\u9fff）)])\s*(?P<digits>\d[\d ]*)$")


def value_region(cells: Sequence[Cell]) -> tuple[str, list[tuple[int, Cell]]]:
    """Split a row into its label text and the (grid column, cell) pairs after it."""
    live = [(i, c) for i, c in enumerate(cells) if not c.filler]
    last_label = max((k for k, (_, c) in enumerate(live) if _is_label(c)), default=-1)
    label = " ".join(c.text for _, c in live[: last_label + 1] if c.text.strip())
    region = live[last_label + 1 :]
    if last_label >= 0 and not any(c.text.strip() for _, c in region):
        # A flattened row: "本年新收…申请数量640020470" has its values glued to the label.
        col, cell = live[last_label]
        m = _GLUED_DIGITS.match(cell.text.strip())
        if m:
            label = label[: len(label) - len(cell.text.strip())] + m.group("label")
            start = cell.loc.span[0] + cell.text.index(m.group("digits")) if cell.loc.span else None
            loc = Location(cell.loc.page, cell.loc.bbox, (start, start + len(m.group("digits"))) if start is not None else None, cell.loc.xpath)
            region = [(col, Cell(m.group("digits"), loc, confidence=cell.confidence, note=cell.note))]
    return label, region


def _numbers(vec: Sequence[Parsed | None]) -> list[float | None]:
    return [p.value if p is not None and p.state is State.NUMBER else None for p in vec]


def row_sum_relation(n_detail: int) -> Relation:
    """The last column is the sum of the first ``n_detail`` (None when blanks leave it open)."""

    def rel(values: Sequence[float | None]) -> bool | None:
        if len(values) != n_detail + 1 or any(v is None for v in values):
            return None
        nums = [v for v in values if v is not None]  # all of them, checked above
        return abs(sum(nums[:n_detail]) - nums[n_detail]) < 1e-9

    rel.single_total = True  # type: ignore[attr-defined]  # lets _infer solve for one hole
    return rel


def grouped_relation(groups: int, size: int) -> Relation:
    """Several groups side by side, each ending in its own total (table 四)."""
    inner = row_sum_relation(size - 1)

    def rel(values: Sequence[float | None]) -> bool | None:
        results = [inner(values[g * size : (g + 1) * size]) for g in range(groups)]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True

    return rel


def _split_run(digits: str, n: int, relation: Relation | None, limit: int = 20000) -> list[list[int]]:
    """Ways to cut a run of digits into n numbers (no leading zeros) that satisfy the relation."""
    out: list[list[int]] = []
    L = len(digits)
    if n > L or n * 5 < L:
        return out
    for k, cuts in enumerate(itertools.combinations(range(1, L), n - 1)):
        if k > limit:
            break
        bounds = (0, *cuts, L)
        parts = [digits[a:b] for a, b in itertools.pairwise(bounds)]
        if any(len(p) > 1 and p[0] == "0" for p in parts):
            continue
        nums = [int(p) for p in parts]
        if relation is None or relation(nums) is True:
            out.append(nums)
            if len(out) > 1 and relation is None:
                break
    return out


def read_row(cells: Sequence[Cell], n: int, *, relation: Relation | None = None, decimal: bool = False) -> RowRead:
    label, region = value_region(cells)
    if any(c.run for _, c in region):
        return _run_row(label, [c for _, c in region], n)
    parsed = [(col, c, parse_cell(c.text, decimal=decimal)) for col, c in region]
    slots = [Slot(p, c, col, p.note if p else None) for col, c, p in parsed]

    if len(slots) > n:
        # Trailing then leading blanks are the usual padding of text exports.
        while len(slots) > n and slots[-1].parsed is not None and slots[-1].parsed.state is State.BLANK:
            slots.pop()
        while len(slots) > n and slots[0].parsed is not None and slots[0].parsed.state is State.BLANK:
            slots.pop(0)
    if len(slots) == n:
        return RowRead(slots, label)
    if len(slots) > n:
        return _too_many(slots, n, label, relation)
    return _too_few(slots, n, label, relation)


def _key(slot: Slot) -> tuple:
    p = slot.parsed
    return (p.state, p.value) if p else (None, None)


def _too_many(slots: list[Slot], n: int, label: str, relation: Relation | None) -> RowRead:
    windows = [slots[i : i + n] for i in range(len(slots) - n + 1)]
    readings = {tuple(_key(s) for s in w) for w in windows}
    note = f"row has {len(slots)} cells for {n} columns"
    if len(readings) == 1:
        # Every alignment reads the same values (a row of zeros, say): no choice to make.
        return RowRead(windows[0], label, [note + "; every alignment reads the same"])
    if relation is not None:
        good = [w for w in windows if relation(_numbers([s.parsed for s in w])) is True]
        if len({tuple(_key(s) for s in w) for w in good}) == 1:
            chosen = [Slot(s.parsed, s.cell, s.col, note + "; aligned by the row's 总计 relation") for s in good[0]]
            return RowRead(chosen, label, [note])
    return RowRead([Slot(None, None, None, note + "; alignment ambiguous") for _ in range(n)], label, [note])


def _too_few(slots: list[Slot], n: int, label: str, relation: Relation | None) -> RowRead:
    # Several numbers in one cell: "0 0 0" or "3\u30000".
    tokens: list[Slot] = []
    for s in slots:
        parts = s.cell.text.split() if s.cell is not None else []
        if len(parts) > 1 and all(parse_cell(p) is not None for p in parts):
            tokens += [Slot(parse_cell(p), s.cell, s.col, "several numbers shared one cell") for p in parts]
        else:
            tokens.append(s)
    if len(tokens) == n:
        return RowRead(tokens, label, ["numbers split out of shared cells"])

    # One run of digits for the whole row: "640020470".
    nonblank = [s for s in slots if s.parsed is not None and s.parsed.state is not State.BLANK]
    s0 = nonblank[0] if len(nonblank) == 1 else None
    if s0 is not None and s0.parsed is not None and s0.parsed.state is State.NUMBER and s0.cell is not None:
        cell = s0.cell
        digits = "".join(ch for ch in cell.text if ch.isdigit())
        if len(digits) >= n:
            ways = _split_run(digits, n, relation)
            if len(ways) == 1:
                note = "digits of the row ran together; split by the row's relation"
                return RowRead([Slot(Parsed(State.NUMBER, v, cell.text), cell, s0.col, note) for v in ways[0]], label, [note])
            note = f"digits of the row ran together; {len(ways)} readings fit the relation"
            return RowRead([Slot(None, cell, s0.col, note) for _ in range(n)], label, [note])

    # Cells dropped: try every place the missing cells could have been.
    missing = n - len(slots)
    note = f"row has {len(slots)} cells for {n} columns"
    if missing > 2 or not slots:
        return RowRead([Slot(None, None, None, note) for _ in range(n)], label, [note])
    candidates: list[list[Slot]] = []
    for gaps in itertools.combinations(range(n), missing):
        it = iter(slots)
        vec = [None if i in gaps else next(it) for i in range(n)]
        candidates.append(_infer(vec, relation, note))
    first = candidates[0]
    out: list[Slot] = []
    for i in range(n):
        keys = {_key(c[i]) if c[i].parsed else None for c in candidates}
        if len(keys) == 1 and first[i].parsed is not None:
            src = next(c[i] for c in candidates if c[i].cell is not None) if any(c[i].cell for c in candidates) else first[i]
            out.append(Slot(first[i].parsed, src.cell, src.col, note + "; every placement reads the same", inferred=any(c[i].inferred for c in candidates)))
        else:
            out.append(Slot(None, None, None, note + "; cannot tell which cell is missing"))
    return RowRead(out, label, [note])


def _infer(vec: list[Slot | None], relation: Relation | None, note: str) -> list[Slot]:
    """Fill one missing cell from the row relation when all the others are numbers."""
    holes = [i for i, s in enumerate(vec) if s is None]
    out = [s if s is not None else Slot(None, None, None, note) for s in vec]
    if relation is None or not getattr(relation, "single_total", False) or len(holes) != 1:
        return out
    nums = _numbers([s.parsed for s in out])
    if sum(v is None for v in nums) != 1:
        return out
    h = holes[0]
    total_idx = len(vec) - 1
    known = {i: v for i, v in enumerate(nums) if v is not None}  # every position but h
    if h == total_idx:
        value = sum(known.values())
    else:
        value = known[total_idx] - sum(v for i, v in known.items() if i != total_idx)
    if value < 0:
        return out
    value = int(value) if float(value).is_integer() else value
    out[h] = Slot(Parsed(State.NUMBER, value, ""), None, None, note + "; missing cell inferred from the row's 总计 relation", inferred=True)
    return out


# ---- Glued row text: runs cut by the template's relations ------------------------

_SPACE = re.compile(r"\S+")


def _run_row(label: str, region: list[Cell], n: int) -> RowRead:
    """A row whose values came as text: each space-free stretch is a segment to cut."""
    segs: list[Segment] = []
    origin: list[Cell] = []
    for c in region:
        if not c.run:
            if c.text.strip():
                segs.append(Segment(c.text.strip(), c.loc.span[0] if c.loc.span else None, whole=True))
                origin.append(c)
            continue
        base = c.loc.span[0] if c.loc.span else None
        for m in _SPACE.finditer(c.text):
            segs.append(Segment(m.group(), base + m.start() if base is not None else None))
            origin.append(c)
    blank = region[0] if region else None
    return RowRead([Slot(None, blank, None, "row not cut yet") for _ in range(n)], label, run=segs, run_cells=origin)


def _fixed(read: RowRead) -> Reading | None:
    """A row read cell by cell, as one reading (None when a cell has no reading)."""
    parts = []
    for s in read.slots:
        p = s.parsed
        if p is None or p.state not in (State.NUMBER, State.BLANK, State.DASH) or s.inferred:
            return None
        parts.append(Part(p.value, p.state))
    return tuple(parts)


def resolve_runs(reads: Sequence[RowRead | None], shape: Shape | Sequence[Shape], equations: Sequence[Equation] = ()) -> None:
    """Cut every glued row of one table, all rows together, and fill its slots.

    ``reads`` are the table's rows in the order ``equations`` number them (None: a row
    not found).  Cells are first taken to all have text, which is what lets a length
    pin a row; a table some row of which cannot be read so (it leaves cells empty and
    the export dropped them) is read again with cells that may have no text.
    """
    runs = [i for i, r in enumerate(reads) if r is not None and r.run is not None]
    if not runs:
        return
    shapes = [shape] * len(reads) if isinstance(shape, Shape) else list(shape)
    fixed: dict[int, Reading | None] = {i: _fixed(r) for i, r in enumerate(reads) if r is not None and r.run is None}

    def rows_for(vanish: bool) -> dict[int, RowResult]:
        return {i: row_readings(reads[i].run or [], shapes[i], vanish=vanish) for i in runs}  # type: ignore[union-attr]

    def table_for(rowres: dict[int, RowResult]) -> TableResult:
        variables: list[list[Reading] | None] = []
        for i in range(len(reads)):
            if i in rowres:
                variables.append(rowres[i].readings if rowres[i].complete else None)
            else:
                f = fixed.get(i)
                variables.append([f] if f is not None else None)
        return supported(variables, equations)

    strict = rows_for(False)
    loose: dict[int, RowResult] | None = None
    if any(not r.readings and r.complete for r in strict.values()):
        loose = rows_for(True)
        if not any(not strict[i].readings and loose[i].readings for i in runs):
            loose = None  # no row reads with empty cells either: the report's own sums fail
    rowres = loose or strict
    table = table_for(rowres)
    if loose is None and table.used and table.complete and not table.solved:
        # Every row reads with all cells present but the table's relations do not hold:
        # perhaps cells were left empty; the table is read so if that makes it agree.
        loose = rows_for(True)
        retry = table_for(loose)
        if retry.solved:
            rowres, table = loose, retry
    for i in runs:
        read = reads[i]
        assert read is not None and read.run is not None
        read.slots = _run_slots(read, rowres[i], table, i, shapes[i])
        read.notes.append("digits of the row ran together")


def _run_slots(read: RowRead, rr: RowResult, table: TableResult, i: int, shape: Shape) -> list[Slot]:
    n = shape.n
    text = " ".join(s.text for s in read.run or [])
    lead = f"digits of the row ran together ({text!r})"
    anchor = read.run_cells[0] if read.run_cells else None
    if not rr.complete:
        return [Slot(None, anchor, None, f"{lead}; too many ways to cut it to enumerate, not split") for _ in range(n)]
    segs = read.run or []
    if len(segs) == n and not rr.readings:
        # Spaces gave every cell and the row's own sums fail: nothing needs cutting, so the
        # row reads as written and the checks flag the relation the report breaks.
        plain = [parse_cell(seg.text, decimal=k in shape.decimal) for k, seg in enumerate(segs)]
        if all(p is not None and p.state in (State.NUMBER, State.DASH, State.BLANK) for p in plain):
            return [Slot(p, _segment_cell(read, k), None, p.note if p else None) for k, p in enumerate(plain)]
    if not rr.readings:
        why = "the row's 总计 relation" if shape.groups else "the row's cells"
        return [Slot(None, anchor, None, f"{lead}; no cut of it fits {why} (the report's own sums may be wrong)") for _ in range(n)]
    by_table = table.solved and any(any(r == i for r, _, _ in eq.terms) for eq in table.used)
    final = table.supported[i] if by_table else rr.readings
    if len(rr.readings) == 1:
        how, conf = ("only one cut fits the row's 总计 relation", PINNED_BY_ROW) if shape.groups else ("only one cut gives the row's cells", PINNED_BY_LENGTH)
    elif len(final) == 1:
        how, conf = (f"{len(rr.readings)} cuts fit the row; the table's column relations leave one", PINNED_BY_TABLE)
    else:
        how, conf = (f"{len(final)} cuts fit the relations; this cell reads the same in all", AGREED)
    if not table.complete:
        how += "; the table was too large to check its column relations"
    elif table.used and not table.solved:
        how += "; the table's column relations do not hold under any cut"
    if len(final) == 1 and len(segs) == n and all(p.seg == k and p.lo == 0 and p.hi == len(segs[k].text) for k, p in enumerate(final[0])):
        # Spaces gave every cell: nothing was cut, the row reads as written.
        return [_plain(read, k, p) for k, p in enumerate(final[0])]
    out: list[Slot] = []
    for d in decide(final, n):
        if d.part is None:
            out.append(Slot(None, anchor, None, f"{lead}; {len(final)} cuts fit the relations, none chosen; {listing(d.candidates)}"))
            continue
        part = d.part
        if part.seg is None:
            parsed = Parsed(State.BLANK, None, "")
            cell = anchor
            note = f"{lead}; {how}; no text for this cell: read as empty"
        else:
            cell = _segment_cell(read, part.seg)
            parsed = Parsed(part.state, part.value, cell.text)
            note = f"{lead}; {how}"
        out.append(Slot(parsed, cell, None, note, method=Method.SPLIT, confidence=conf))
    return out


def _segment_cell(read: RowRead, k: int) -> Cell:
    seg = (read.run or [])[k]
    origin = read.run_cells[k]
    span = (seg.start, seg.start + len(seg.text)) if seg.start is not None else origin.loc.span
    return Cell(seg.text, Location(origin.loc.page, origin.loc.bbox, span, origin.loc.xpath))


def _plain(read: RowRead, k: int, part: Part) -> Slot:
    seg = (read.run or [])[k]
    parsed = parse_cell(seg.text, decimal=isinstance(part.value, float)) or Parsed(part.state, part.value, seg.text)
    return Slot(parsed, _segment_cell(read, k), None, parsed.note)
