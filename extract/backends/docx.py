"""Word .docx files: paragraphs, tables with merged cells, and embedded pictures, in body order."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from ..document import Cell, Document, Image, Location, Paragraph, Table

_BLIP = qn("a:blip")
_EMBED = qn("r:embed")


def _table(tbl: DocxTable, path: str) -> Table:
    """python-docx repeats a merged cell at every grid position it covers; repeats are fillers."""
    # Keep the elements alive: lxml reuses proxy ids of freed elements.
    seen: dict[int, object] = {}
    rows: list[list[Cell]] = []
    for r, row in enumerate(tbl.rows):
        cells: list[Cell] = []
        for c, cell in enumerate(row.cells):
            tc = cell._tc
            filler = id(tc) in seen
            seen[id(tc)] = tc
            text = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
            cells.append(Cell(text=text, loc=Location(xpath=f"{path}/tr[{r + 1}]/tc[{c + 1}]"), filler=filler))
        rows.append(cells)
    return Table(rows=rows, loc=Location(xpath=path))


def _images(doc: DocxDocument, p_el, path: str) -> list[Image]:
    out = []
    for k, blip in enumerate(p_el.iter(_BLIP)):
        rid = blip.get(_EMBED)
        part = doc.part.related_parts.get(rid) if rid else None
        data = getattr(part, "blob", None)
        name = getattr(part, "partname", None) or f"image{k + 1}"
        out.append(Image(name=str(name).rsplit("/", 1)[-1], loc=Location(xpath=f"{path}/drawing[{k + 1}]"), data=data))
    return out


def load_docx(path: Path, source: str) -> Document:
    d = docx.Document(str(path))
    doc = Document(source=source, format="docx")
    n_p = n_t = 0
    for el in d.element.body.iterchildren():
        if el.tag == qn("w:p"):
            n_p += 1
            xp = f"/body/p[{n_p}]"
            para = DocxParagraph(el, d)
            text = para.text.strip()
            if text:
                doc.blocks.append(Paragraph(text=text, loc=Location(xpath=xp)))
            doc.blocks.extend(_images(d, el, xp))
        elif el.tag == qn("w:tbl"):
            n_t += 1
            doc.blocks.append(_table(DocxTable(el, d), f"/body/tbl[{n_t}]"))
    return doc.finish()
