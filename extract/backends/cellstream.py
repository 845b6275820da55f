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
from ..split import MARKS

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


# ---- Glued rows: label text and value text with no separator --------------------
# A scraper's text_content() runs a row's cells together ("规章021"), and where the page
# had no breaks between rows, a whole table ("…内部事务信息1400000146.属于四类…").  A line
# is read as rows when it alternates label text and value text (digits, '.', blank marks,
# spaces) the way table rows do, and not the way a sentence does.
_VALUE_CHARS = frozenset("0123456789.+/／—–-－ \t\u3000")
_DIGITS = frozenset("0123456789")
# The digit of an ordinal belongs to the label it numbers: "…1032．其他法律…" is 103, "2．其他…".
_ORDINAL_DIGIT = re.compile(r"\d\s*[．.、]\s*(?=[\u4e00-\u9fff])")
# A blank mark between two characters of a label is part of it: "本年增/减".
_MARK_IN_WORD = re.compile(r"(?<=[\u4e00-\u9fff])[/／—–\-－](?=[\u4e00-\u9fff])")
# Prose, not a table: sentence ends anywhere, or a number followed by its unit or a date.
_PROSE = re.compile(r"[。！？；;]")
_AFTER_NUMBER = re.compile(r"^\s*[条件项个次人年月日号时%％份篇家名万元亿余多）)，,、：:]")
# What a row label ends with before its values.
_LABEL_END = re.compile(r"[\u4e00-\u9fff）)”」』》]\s*$")
# A table's header may run into its first row's label on one line; it may be long.
_HEADER_MAX_CHARS = 240
# A value-only line holds glued cells when it has several stretches, a stretch with a
# leading zero, or more digits than one count cell holds.
_ONE_CELL_DIGITS = 6


@lru_cache(maxsize=16384)
def _glued(text: str) -> tuple[tuple[int, int, int, int], ...] | None:
    """(label start, label end, values start, values end) of each row a line holds, or None.

    A row's label may be empty (a value-only line such as table 四's).  None when the line
    is not glued rows: a sentence, a line without values, or values after which a unit follows.
    """
    if _PROSE.search(text) or not any(ch in _DIGITS for ch in text):
        return None
    value = [ch in _VALUE_CHARS for ch in text]
    for m in _ORDINAL_DIGIT.finditer(text):
        for k in range(m.start(), m.end()):
            value[k] = False
    for m in _MARK_IN_WORD.finditer(text):
        value[m.start()] = False
    # Stretches: alternate label and value text.
    stretches: list[tuple[bool, int, int]] = []
    for k, is_value in enumerate(value):
        if stretches and stretches[-1][0] == is_value:
            stretches[-1] = (is_value, stretches[-1][1], k + 1)
        else:
            stretches.append((is_value, k, k + 1))
    # Spaces at a label's edges are the label's; a value stretch of spaces only is a label's too.
    merged: list[tuple[bool, int, int]] = []
    for is_value, a, b in stretches:
        if is_value and not text[a:b].strip():
            is_value = False
        if merged and merged[-1][0] == is_value:
            merged[-1] = (is_value, merged[-1][1], b)
        else:
            merged.append((is_value, a, b))
    rows: list[tuple[int, int, int, int]] = []
    label: tuple[int, int] | None = None
    for is_value, a, b in merged:
        if not is_value:
            if rows and label is None and _AFTER_NUMBER.match(text[a:b]):
                return None
            label = (a, b)
            continue
        seg = text[a:b]
        va, vb = a + len(seg) - len(seg.lstrip()), b - (len(seg) - len(seg.rstrip()))
        if label is not None:
            la, lb = label
            words = text[la:lb]
            limit = _HEADER_MAX_CHARS if not rows else _LABEL_MAX_CHARS
            if not _LABEL_END.search(words) or len(words.replace(" ", "")) > limit:
                return None
            la += len(words) - len(words.lstrip())
            lb -= len(words) - len(words.rstrip())
            rows.append((la, lb, va, vb))
        else:
            rows.append((va, va, va, vb))
        label = None
    if not rows:
        return None
    if label is not None and len(rows) < _MIN_ROWS:
        return None  # one label, its values, then more label text: a sentence
    if len(rows) == 1 and rows[0][0] == rows[0][1]:
        # A value-only line: glued cells, or one cell of a cell-per-line export.
        values = text[rows[0][2] : rows[0][3]].split()
        if len(values) < 2 and not any((v[0] == "0" and len(v) > 1) or sum(ch in _DIGITS for ch in v) > _ONE_CELL_DIGITS for v in values):
            return None
    return tuple(rows)


def _glued_cells(p: Paragraph) -> list[list[Cell]]:
    """The rows of a glued line: a label cell (if any) and one run cell for the values."""
    rows = []
    for la, lb, va, vb in _glued(p.text) or ():
        cells = [_place(p, la, p.text[la:lb])] if lb > la else []
        run = _place(p, va, p.text[va:vb])
        run.run = True
        rows.append([*cells, run])
    return rows


def _is_value(p: Paragraph) -> bool:
    return _value_text(p.text)


@lru_cache(maxsize=16384)
def _value_text(text: str) -> bool:
    """Whether a line is a value cell (or empty-cell filler, or a row of values); asked often per line."""
    if _EMPTY_CELL.match(text):
        return True
    line = Paragraph(text=text)
    return parse_cell(_text(line)) is not None or bool(_tokens(line)) or _row_line(line) is not None or _glued(text) is not None


def _is_label(p: Paragraph) -> bool:
    # Spaces do not count: exports space a long label's characters apart (申 请 人 逾 期 …).
    text = _text(p)
    return len(text) - text.count(" ") <= _LABEL_MAX_CHARS and not _SENTENCE_END.search(text)


def _cells(p: Paragraph) -> list[Cell]:
    """The line's cell, or one cell per value when a line holds several."""
    if _EMPTY_CELL.match(p.text):
        return [Cell(text="", loc=Location(page=p.loc.page, bbox=p.loc.bbox, span=p.loc.span, xpath=p.loc.xpath))]
    glued = _glued_cells(p)
    if len(glued) == 1 and len(glued[0]) == 1:
        return glued[0]  # a value-only line of glued cells
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
    if (glued := _glued(p.text)) is not None:
        return sum(1 for _, _, a, b in glued for ch in p.text[a:b] if ch in _DIGITS or ch in MARKS)
    if (row := _row_line(p)) is not None:
        return len(row.group("values").split())
    if _EMPTY_CELL.match(p.text):
        return 0
    return len(_tokens(p)) or 1


def _n_cells(c: Cell) -> int:
    """Cells a cell may stand for: a run of glued cells up to one per digit or mark."""
    return sum(1 for ch in c.text if ch in _DIGITS or ch in MARKS) if c.run else 1


def _table(lines: list[Paragraph], *, after_table: bool = False) -> Table | None:
    """Rows of label lines and the value lines after them; None when the stretch is not a table.

    ``after_table``: the stretch follows a table in the same run of short lines, or the
    run is dense with values as a whole, so one row with a value is enough: 表二's
    sub-tables have one or two rows each (第二十条第（八）项 … 行政事业性收费 0).
    """
    rows: list[list[Cell]] = []
    labels: list[Paragraph] = []
    values: list[Paragraph] = []
    for p in lines:
        glued = _glued(p.text)
        if glued is not None and any(lb > la for la, lb, _, _ in glued):
            # Label and values glued on one line: each row it holds is a row of its own.
            if labels or values:
                rows.append([c for x in (*labels, *values) for c in _cells(x)])
                labels, values = [], []
            rows.extend(_glued_cells(p))
            continue
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
    with_values = [sum(_n_cells(c) for c in r if c.text and (c.run or parse_cell(c.text) is not None)) for r in rows]
    one_wide_row = max(with_values, default=0) >= _MIN_VALUES
    if after_table:
        if not any(with_values):
            return None
    elif n_values < _MIN_VALUES or (sum(1 for n in with_values if n) < _MIN_ROWS and not one_wide_row):
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
        # A stretch dense with values as a whole is a table's run even where a part of it
        # (表二's one-row sub-tables) is sparse.
        after_table = sum(_n_values(p) for p in run if _is_value(p)) >= _MIN_VALUES
        for whole in _split(run):
            # Label lines after the last value are what follows the table (a heading, a
            # line of prose), not part of it.
            end = max((k + 1 for k, p in enumerate(whole) if _is_value(p) and not _EMPTY_CELL.match(p.text)), default=len(whole))
            part, tail = whole[:end], whole[end:]
            table = _table(part, after_table=after_table)
            after_table = after_table or table is not None
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
