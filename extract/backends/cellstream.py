"""Tables flattened to one cell per line: regroup the lines into rows.

Web pages copied as text often give every table cell its own line, with blank lines
between and a lone ``|`` for an empty cell.  Such a stretch reads as short label lines,
each followed by the value lines of its row.  This pass turns it back into a table of
the document model, so the label-driven mapping reads it like any other table.  It
knows nothing of the template: a stretch is a table when it is dense with value lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

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
_FILLERS = " \t|｜"


def _text(p: Paragraph) -> str:
    """The cell's text without the pipes and padding that exports put around it."""
    return p.text.strip(_FILLERS)


_TOKEN = re.compile(r"[^\s|｜]+")


def _tokens(p: Paragraph) -> list[tuple[int, str]]:
    """A line of several values separated by spaces ("0 0 0 … 0"): each value with its offset."""
    found = [(m.start(), m.group()) for m in _TOKEN.finditer(p.text)]
    if len(found) > 1 and all(parse_cell(t) is not None and parse_cell(t, decimal=True) is not None for _, t in found):
        return found
    return []


_ROW_LINE = re.compile(r"^(?P<label>.*[\u4e00-\u9fff）)])\s+(?P<values>(?:[\d.,/—-]+\s+)*[\d.,]+|(?:[\d.,/—-]+\s+)+[/—-])\s*$")


def _row_line(p: Paragraph) -> re.Match[str] | None:
    """A whole row on one line: "四、结转下年度继续办理 0 0 0 0 0 0 0"."""
    return _ROW_LINE.match(_text(p))


def _is_value(p: Paragraph) -> bool:
    return _value_text(p.text)


@lru_cache(maxsize=16384)
def _value_text(text: str) -> bool:
    """Whether a line is a value cell (or empty-cell filler, or a row of values); asked often per line."""
    if _EMPTY_CELL.match(text):
        return True
    line = Paragraph(text=text)
    return parse_cell(_text(line)) is not None or bool(_tokens(line)) or _row_line(line) is not None


def _is_label(p: Paragraph) -> bool:
    return len(_text(p)) <= _LABEL_MAX_CHARS and not _SENTENCE_END.search(_text(p))


def _cells(p: Paragraph) -> list[Cell]:
    """The line's cell, or one cell per value when a line holds several."""
    if _EMPTY_CELL.match(p.text):
        return [Cell(text="", loc=Location(page=p.loc.page, bbox=p.loc.bbox, span=p.loc.span, xpath=p.loc.xpath))]
    tokens = _tokens(p)
    row = _row_line(p) if not tokens else None
    if row is not None:
        shift = len(p.text) - len(p.text.lstrip(_FILLERS))
        label = _place(p, shift + row.start("label"), row.group("label"))
        values = [_place(p, shift + row.start("values") + m.start(), m.group()) for m in _TOKEN.finditer(row.group("values"))]
        return [label, *values]
    if not tokens:
        return [Cell(text=_text(p), loc=Location(page=p.loc.page, bbox=p.loc.bbox, span=p.loc.span, xpath=p.loc.xpath))]
    out = []
    for start, token in tokens:
        a, b = p.source_offset(start), p.source_offset(start + len(token) - 1)
        span = (a, b + 1) if a is not None and b is not None else None
        out.append(Cell(text=token, loc=Location(page=p.loc.page, bbox=p.loc.bbox, span=span, xpath=p.loc.xpath)))
    return out


def _place(p: Paragraph, start: int, text: str) -> Cell:
    """A cell for ``text`` found at ``start`` in the line, with its own source span."""
    a, b = p.source_offset(start), p.source_offset(start + len(text) - 1)
    span = (a, b + 1) if a is not None and b is not None else p.loc.span
    return Cell(text=text, loc=Location(page=p.loc.page, bbox=p.loc.bbox, span=span, xpath=p.loc.xpath))


def _n_values(p: Paragraph) -> int:
    if (row := _row_line(p)) is not None:
        return len(row.group("values").split())
    if _EMPTY_CELL.match(p.text):
        return 0
    return len(_tokens(p)) or 1


def _table(lines: list[Paragraph]) -> Table | None:
    """Rows of label lines and the value lines after them; None when the stretch is not a table."""
    rows: list[list[Cell]] = []
    labels: list[Paragraph] = []
    values: list[Paragraph] = []
    for p in lines:
        if _row_line(p) is not None and not _tokens(p):
            # A whole row on one line is a row of its own.
            if labels or values:
                rows.append([c for x in (*labels, *values) for c in _cells(x)])
                labels, values = [], []
            rows.append(_cells(p))
            continue
        if _is_value(p):
            values.append(p)
            continue
        if values:
            rows.append([c for x in (*labels, *values) for c in _cells(x)])
            labels, values = [], []
        labels.append(p)
    if labels or values:
        rows.append([c for x in (*labels, *values) for c in _cells(x)])
    n_values = sum(_n_values(p) for p in lines if _is_value(p))
    with_values = [sum(1 for c in r if c.text and parse_cell(c.text) is not None) for r in rows]
    one_wide_row = max(with_values, default=0) >= _MIN_VALUES
    if n_values < _MIN_VALUES or (sum(1 for n in with_values if n) < _MIN_ROWS and not one_wide_row):
        return None
    first, last = lines[0].loc, lines[-1].loc
    span = (first.span[0], last.span[1]) if first.span and last.span else None
    return Table(rows=rows, loc=Location(page=first.page, span=span))


def _split(run: list[Paragraph]) -> list[list[Paragraph]]:
    """Cut a stretch where a long run of label lines follows values: a new table's header.

    Empty-cell lines (``|``) are fillers in headers as much as in rows, so they neither
    count as values nor break a run of labels.
    """
    parts: list[list[Paragraph]] = [[]]
    seen_values = False
    labels = 0
    for p in run:
        if _EMPTY_CELL.match(p.text):
            parts[-1].append(p)
            continue
        if _is_value(p):
            seen_values, labels = True, 0
            parts[-1].append(p)
            continue
        labels += 1
        if seen_values and labels == _NEW_HEADER_LINES:
            # The header started _NEW_HEADER_LINES - 1 label lines ago (and its fillers).
            k = len(parts[-1])
            seen = 0
            while k > 0 and seen < _NEW_HEADER_LINES - 1:
                k -= 1
                if not _EMPTY_CELL.match(parts[-1][k].text):
                    seen += 1
            parts.append(parts[-1][k:])
            del parts[-2][k:]
            seen_values = False
        parts[-1].append(p)
    return [p for p in parts if p]


def regroup(blocks: list[Block]) -> list[Block]:
    """Replace each table-like stretch of one-cell lines by a table."""
    out: list[Block] = []
    run: list[Paragraph] = []

    def flush() -> None:
        for whole in _split(run):
            # Label lines after the last value are what follows the table (a heading, a
            # line of prose), not part of it.
            end = max((k + 1 for k, p in enumerate(whole) if _is_value(p) and not _EMPTY_CELL.match(p.text)), default=len(whole))
            part, tail = whole[:end], whole[end:]
            table = _table(part)
            if table is None:
                out.extend(whole)
                continue
            # The lines before the first value are a title, a section heading or the
            # table's header: they stay readable as text too (meta, sections), and in
            # the table they are its header.
            lead = next((k for k, p in enumerate(part) if _is_value(p)), len(part))
            out.extend(p for p in part[:lead] if not _EMPTY_CELL.match(p.text))
            out.append(table)
            out.extend(p for p in tail if not _EMPTY_CELL.match(p.text))
        run.clear()

    for block in blocks:
        if isinstance(block, Paragraph) and (_is_value(block) or _is_label(block)):
            run.append(block)
            continue
        flush()
        out.append(block)
    flush()
    return out
