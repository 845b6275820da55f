"""Plain-text and markdown exports: tab- or pipe-separated rows become tables."""

from __future__ import annotations

import re
from pathlib import Path

from ..document import Cell, Document, Image, Location, Paragraph, Table
from ..encoding import decode
from .cellstream import regroup

_IMAGE = re.compile(r"^\s*(?:\[image:\s*(?P<a>[^\]]*)\]|!\[(?P<b>[^\]]*)\]\([^)]*\))\s*$")
_NOISE = re.compile(r"\[bookmark:[^\]]*\]|\*\*")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_SEPARATOR = re.compile(r"^[\s|:\-—]*$")  # markdown |---| rules and "-----\t---" lines


def _is_table_line(line: str) -> bool:
    if "\t" in line:
        return True
    if line.count("|") < 2:
        return False
    # "规章 | |||": one cell and its fillers, a line of a cell-per-line export, not a row
    # (a markdown row starts with its pipe).
    return line.lstrip().startswith("|") or sum(1 for part in line.split("|") if part.strip()) >= 2


def _cells(line: str, start: int) -> list[Cell]:
    """Split one row, keeping each cell's character span in the source."""
    sep = "\t" if "\t" in line else "|"
    body = line
    offset = start
    if sep == "|":
        stripped = line.strip()
        lead = line.index(stripped[0]) if stripped else 0
        body = stripped[1:] if stripped.startswith("|") else stripped
        offset = start + lead + (1 if stripped.startswith("|") else 0)
        body = body[:-1] if body.endswith("|") else body
    cells: list[Cell] = []
    pos = offset
    for part in body.split(sep):
        text = _NOISE.sub("", part).strip()
        cells.append(Cell(text=text, loc=Location(span=(pos, pos + len(part)))))
        pos += len(part) + 1
    return cells


def _clean(line: str, start: int) -> tuple[str, list[int]]:
    """The line without heading marks, bookmarks and padding, with each kept character's source offset."""
    drop: set[int] = set()
    m = _HEADING.match(line)
    if m:
        drop.update(range(m.start(), m.end()))
    for m in _NOISE.finditer(line):
        drop.update(range(m.start(), m.end()))
    kept = [i for i in range(len(line)) if i not in drop]
    while kept and line[kept[0]].isspace():
        kept.pop(0)
    while kept and line[kept[-1]].isspace():
        kept.pop()
    return "".join(line[i] for i in kept), [start + i for i in kept]


def parse_text(text: str, source: str, encoding: str | None = None) -> Document:
    doc = Document(source=source, format="txt", encoding=encoding)
    lines = text.splitlines(keepends=True)
    offsets: list[int] = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    stripped = [ln.rstrip("\r\n") for ln in lines]
    # For each line, whether the next non-blank line after it is a table row: computed
    # once backwards, so runs of blank lines cost linear time.
    next_is_row = [False] * len(stripped)
    upcoming = False
    for i in range(len(stripped) - 1, -1, -1):
        next_is_row[i] = upcoming
        if stripped[i].strip():
            upcoming = _is_table_line(stripped[i])

    table_rows: list[list[Cell]] = []
    table_start = 0

    def flush_table() -> None:
        nonlocal table_rows
        if table_rows:
            last = table_rows[-1][-1].loc.span
            end = last[1] if last else table_start
            doc.blocks.append(Table(rows=table_rows, loc=Location(span=(table_start, end))))
        table_rows = []

    for i, line in enumerate(stripped):
        if not line.strip():
            # Blank lines inside a table are common in exports; the table goes on
            # if the next non-blank line is another row.
            if table_rows and not next_is_row[i]:
                flush_table()
            continue
        if _is_table_line(line):
            if _SEPARATOR.match(line):
                continue
            if not table_rows:
                table_start = offsets[i]
            table_rows.append(_cells(line, offsets[i]))
            continue
        flush_table()
        span = (offsets[i], offsets[i] + len(line))
        m = _IMAGE.match(line)
        if m:
            doc.blocks.append(Image(name=(m.group("a") or m.group("b") or "").strip(), loc=Location(span=span)))
            continue
        clean, chars = _clean(line, offsets[i])
        if clean:
            loc = Location(span=(chars[0], chars[-1] + 1))
            contiguous = chars[-1] - chars[0] + 1 == len(chars)
            doc.blocks.append(Paragraph(text=clean, loc=loc, chars=None if contiguous else chars))
    flush_table()
    doc.blocks = regroup(doc.blocks)
    return doc.finish()


def load_text(path: Path, source: str) -> Document:
    text, encoding = decode(path.read_bytes())
    return parse_text(text, source, encoding)
