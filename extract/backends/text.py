"""Plain-text and markdown exports: tab- or pipe-separated rows become tables."""

from __future__ import annotations

import re
from pathlib import Path

from ..document import Cell, Document, Image, Location, Paragraph, Table
from ..encoding import decode

_IMAGE = re.compile(r"^\s*(?:\[image:\s*(?P<a>[^\]]*)\]|!\[(?P<b>[^\]]*)\]\([^)]*\))\s*$")
_NOISE = re.compile(r"\[bookmark:[^\]]*\]|\*\*")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_SEPARATOR = re.compile(r"^[\s|:\-—]*$")  # markdown |---| rules and "-----\t---" lines


def _is_table_line(line: str) -> bool:
    return "\t" in line or line.count("|") >= 2


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


def parse_text(text: str, source: str, encoding: str | None = None) -> Document:
    doc = Document(source=source, format="txt", encoding=encoding)
    lines = text.splitlines(keepends=True)
    offsets: list[int] = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    stripped = [ln.rstrip("\r\n") for ln in lines]

    table_rows: list[list[Cell]] = []
    table_start = 0

    def flush_table() -> None:
        nonlocal table_rows
        if table_rows:
            end = table_rows[-1][-1].loc.span[1] if table_rows[-1][-1].loc.span else table_start
            doc.blocks.append(Table(rows=table_rows, loc=Location(span=(table_start, end))))
        table_rows = []

    for i, line in enumerate(stripped):
        if not line.strip():
            # Blank lines inside a table are common in exports; the table goes on
            # if the next non-blank line is another row.
            nxt = next((ln for ln in stripped[i + 1 :] if ln.strip()), "")
            if table_rows and not _is_table_line(nxt):
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
        clean = _NOISE.sub("", _HEADING.sub("", line)).strip()
        if clean:
            doc.blocks.append(Paragraph(text=clean, loc=Location(span=span)))
    flush_table()
    return doc.finish()


def load_text(path: Path, source: str) -> Document:
    text, encoding = decode(path.read_bytes())
    return parse_text(text, source, encoding)
