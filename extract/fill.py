"""Turn what the readers found into schema Values with provenance and confidence."""

from __future__ import annotations

from ..schemas import Method, Provenance, State, Value
from ..schemas.value import Scalar
from .document import Cell, Document, Location, Table
from .rows import Slot

# .doc, .wps and RTF are read as the DOCX LibreOffice converts them to (extract/backends/legacy.py).
FORMAT_METHOD = {"txt": Method.TEXT_TABLE, "html": Method.HTML, "docx": Method.DOCX, "doc": Method.DOCX, "wps": Method.DOCX, "rtf": Method.DOCX, "pdf": Method.PDF, "image": Method.OCR}


def provenance(doc: Document, loc: Location | None, *, table: Table | None = None, row: int | None = None, col: int | None = None) -> Provenance:
    loc = loc or Location()
    return Provenance(
        file=doc.source,
        page=loc.page,
        bbox=loc.bbox,
        span=loc.span,
        xpath=loc.xpath,
        image=loc.image,
        table=table.index if table is not None else None,
        row=row,
        col=col,
    )


def slot_value(doc: Document, slot: Slot, table: Table, row: int, *, method: Method | None = None) -> Value:
    method = method or FORMAT_METHOD.get(doc.format, Method.TEXT_TABLE)
    cell: Cell | None = slot.cell
    prov = provenance(doc, cell.loc if cell else table.loc, table=table, row=row, col=slot.col)
    if slot.parsed is None:
        v = Value(state=State.NOT_FOUND, raw=cell.text if cell else None, provenance=prov, method=method, confidence=0.0)
        v.flag(slot.note or "no reading for this cell")
        if cell is not None and cell.note:
            v.flag(cell.note)  # what OCR saw in the cell
        return v
    p = slot.parsed
    if slot.inferred:
        v = Value(value=p.value, raw=None, state=p.state, provenance=prov, method=Method.INFERRED, confidence=0.5)
        v.flag(slot.note or "inferred from a relation")
        return v
    if cell is not None and cell.confidence is not None:
        return _ocr_value(p.value, p.raw, p.state, prov, cell, slot.note)
    v = Value(value=p.value, raw=p.raw, state=p.state, provenance=prov, method=slot.method or method, confidence=1.0)
    if slot.note:
        v.flag(slot.note, slot.confidence if slot.confidence is not None else 0.6)
    return v


# Below this engine score a digit reading is sent for review.  Measured on the
# generated image and scan corpus: misread digits scored under it, while most
# correct readings score above 0.95.
OCR_REVIEW_BELOW = 0.9


def _ocr_value(value: Scalar, raw: str | None, state: State, prov: Provenance, cell: Cell, note: str | None) -> Value:
    conf = float(cell.confidence or 0.0)
    v = Value(value=value, raw=raw, state=state, provenance=prov, method=Method.OCR, confidence=round(conf, 4))
    if conf < OCR_REVIEW_BELOW:
        v.flag(f"low OCR confidence ({conf:.2f})")
    if cell.note:
        v.flag(cell.note)
    if note:
        v.flag(note, 0.6)
    return v


# Facts read from OCR'd page lines scoring under this go to review.
OCR_TEXT_REVIEW_BELOW = 0.95


def text_value(doc: Document, start: int, end: int, value: int | float | str, *, state: State = State.NUMBER, confidence: float) -> Value:
    """A value a pattern read from ``Document.text[start:end]``: that text is its raw, placed in the source."""
    paras = doc.paragraphs_in(start, end)
    prov = provenance(doc, doc.place(start, end))
    v = Value(value=value, raw=doc.text[start:end], state=state, provenance=prov, method=Method.REGEX, confidence=confidence)
    scores = [p.confidence for p in paras if p.loc.image]
    if scores:
        conf = min(c if c is not None else 0.0 for c in scores)
        v.method = Method.OCR
        if conf < OCR_TEXT_REVIEW_BELOW:
            v.flag(f"read from OCR'd text (line confidence {conf:.2f})", conf)
    return v


def missing(doc: Document, reason: str, *, method: Method | None = None) -> Value:
    v = Value(state=State.NOT_FOUND, provenance=Provenance(file=doc.source), method=method, confidence=0.0)
    v.flag(reason)
    return v
