"""Tables flattened to one cell per line: regroup the lines into rows.

Web pages copied as text often give every table cell its own line, with blank lines
between and a lone ``|`` for an empty cell.  Such a stretch reads as short label lines,
each followed by the value lines of its row.  This pass turns it back into a table of
the document model, so the label-driven mapping reads it like any other table.  It
knows nothing of the template: a stretch is a table when it is dense with value lines.
"""

from __future__ import annotations

import re

from ..document import Block, Cell, Location, Paragraph, Table
from ..numbers import parse_cell

# A label line is short and is not a sentence; prose ends a stretch.
_LABEL_MAX_CHARS = 60
_SENTENCE_END = re.compile(r"[。！？]$")
# Value lines a stretch needs to be a table, and rows (a label followed by values).
_MIN_VALUES = 6
_MIN_ROWS = 2
# So many label lines in a row after values start the header of a new table.
_NEW_HEADER_LINES = 5
_EMPTY_CELL = re.compile(r"^[|｜\s]*$")


def _is_value(p: Paragraph) -> bool:
    if _EMPTY_CELL.match(p.text):
        return True
    parsed = parse_cell(p.text)
    return parsed is not None


def _is_label(p: Paragraph) -> bool:
    return len(p.text) <= _LABEL_MAX_CHARS and not _SENTENCE_END.search(p.text)


def _cell(p: Paragraph) -> Cell:
    text = "" if _EMPTY_CELL.match(p.text) else p.text
    return Cell(text=text, loc=Location(page=p.loc.page, bbox=p.loc.bbox, span=p.loc.span, xpath=p.loc.xpath))


def _table(lines: list[Paragraph]) -> Table | None:
    """Rows of label lines and the value lines after them; None when the stretch is not a table."""
    rows: list[list[Cell]] = []
    labels: list[Paragraph] = []
    values: list[Paragraph] = []
    for p in lines:
        if _is_value(p):
            values.append(p)
            continue
        if values:
            rows.append([_cell(x) for x in (*labels, *values)])
            labels, values = [], []
        labels.append(p)
    if labels or values:
        rows.append([_cell(x) for x in (*labels, *values)])
    n_values = sum(1 for p in lines if _is_value(p) and not _EMPTY_CELL.match(p.text))
    with_values = sum(1 for r in rows if any(c.text and parse_cell(c.text) is not None for c in r))
    if n_values < _MIN_VALUES or with_values < _MIN_ROWS:
        return None
    first, last = lines[0].loc, lines[-1].loc
    span = (first.span[0], last.span[1]) if first.span and last.span else None
    return Table(rows=rows, loc=Location(page=first.page, span=span))


def _split(run: list[Paragraph]) -> list[list[Paragraph]]:
    """Cut a stretch where a long run of label lines follows values: a new table's header."""
    parts: list[list[Paragraph]] = [[]]
    seen_values = False
    k = 0
    while k < len(run):
        j = k
        while j < len(run) and not _is_value(run[j]):
            j += 1
        if seen_values and j - k >= _NEW_HEADER_LINES:
            parts.append([])
        parts[-1] += run[k:j]
        if j < len(run):
            parts[-1].append(run[j])
            seen_values = True
            j += 1
        k = j
    return [p for p in parts if p]


def regroup(blocks: list[Block]) -> list[Block]:
    """Replace each table-like stretch of one-cell lines by a table."""
    out: list[Block] = []
    run: list[Paragraph] = []

    def flush() -> None:
        for part in _split(run):
            table = _table(part)
            if table is None:
                out.extend(part)
            else:
                out.append(table)
        run.clear()

    for block in blocks:
        if isinstance(block, Paragraph) and (_is_value(block) or _is_label(block)):
            run.append(block)
            continue
        flush()
        out.append(block)
    flush()
    return out
