"""Word .docx files: paragraphs, tables with merged cells, and embedded pictures, in body order.

python-docx reads every zip member into memory and parses its XML with lxml, so a
hostile zip (a bomb, damaged deflate data, entity declarations, a workbook renamed
.docx) is inspected with ``zipfile`` first: ``check_docx`` inflates each member as a
stream under the limits and only a file that passes is given to python-docx.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from ..document import Cell, Document, ExtractionError, Image, Location, Paragraph, Table
from ..limits import LimitError, Limits, describe

_BLIP = qn("a:blip")
_EMBED = qn("r:embed")

MAIN_PART = "word/document.xml"
_WORD_MAIN_TYPE = b"wordprocessingml.document.main"
# What a zip that is not a Word file usually is, by a member only that kind has.
_OTHER_ZIPS = (
    ("xl/", "an Excel workbook (.xlsx)?"),
    ("ppt/", "a PowerPoint presentation (.pptx)?"),
    ("visio/", "a Visio drawing (.vsdx)?"),
    ("content.xml", "an OpenDocument file (.odt/.ods)?"),
    ("META-INF/container.xml", "an EPUB e-book?"),
    ("META-INF/MANIFEST.MF", "a Java archive (.jar)?"),
    ("Documents/", "an XPS or OFD document?"),
    ("Doc_0/", "an OFD document (.ofd)?"),
)
_XML_MEMBER = re.compile(r"\.(xml|rels|vml)$", re.I)
# An XML part must not declare a DTD: python-docx's lxml parser would expand its
# entities ("billion laughs"), and Word never writes one.  Searched in UTF-8 and UTF-16.
_DTD_MARKS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_OVERLAP = max(len(m) for m in _DTD_MARKS)
_CHUNK = 1 << 20
# Small members (styles, rels) are highly repetitive; the ratio says nothing below this.
_RATIO_MIN_BYTES = 1 << 20


def _zip_kind(names: list[str], zf: zipfile.ZipFile) -> str:
    if "mimetype" in names and zf.getinfo("mimetype").file_size < 1000:
        try:
            mime = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
        except Exception:
            mime = ""
        if mime:
            return f"its mimetype is {mime}"
    for member, guess in _OTHER_ZIPS:
        hit = next((n for n in names if n.startswith(member)), None)
        if hit is not None:
            return f"it holds {hit}: {guess}"
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    return f"it holds {shown or 'no files'}"


def _member_count(path: Path) -> int | None:
    """Members listed by the zip's end-of-directory record, read before zipfile lists them all."""
    end_record = getattr(zipfile, "_EndRecData", None)  # the stdlib's own reader, zip64 aware
    if end_record is None:
        return None
    try:
        with open(path, "rb") as f:
            rec = end_record(f)
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    return int(rec[getattr(zipfile, "_ECD_ENTRIES_TOTAL", 4)]) if rec else None


def _is_word(zf: zipfile.ZipFile, names: list[str]) -> bool:
    if MAIN_PART in names:
        return True
    # Some generators name the main part differently; [Content_Types].xml says which.
    if "[Content_Types].xml" in names and zf.getinfo("[Content_Types].xml").file_size < _CHUNK:
        return _WORD_MAIN_TYPE in zf.read("[Content_Types].xml")
    return False


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, limits: Limits) -> int:
    """Inflate one member as a stream (the CRC is checked at its end); returns its real size.

    Declared sizes can lie, so the byte count is enforced while reading, and XML
    members are searched for DTD declarations on the way.
    """
    is_xml = bool(_XML_MEMBER.search(info.filename))
    total = 0
    tail = b""
    with zf.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                return total
            total += len(chunk)
            if total > limits.max_docx_part_bytes:
                raise limits.exceeded("max_docx_part_bytes", f"DOCX member {info.filename} inflates to more than {describe(total, 'bytes')} (its header said {describe(info.file_size, 'bytes')})")
            if total > cap:
                raise limits.exceeded("max_docx_total_bytes", "DOCX members together inflate to more than the total allowed")
            if is_xml:
                window = tail + chunk
                if any(mark in window for mark in _DTD_MARKS):
                    raise ExtractionError(f"DOCX member {info.filename} declares a DTD or entities (<!DOCTYPE/<!ENTITY): refused, as Word never writes one and entity expansion can exhaust memory")
                tail = window[-_OVERLAP:]


def check_docx(path: Path, limits: Limits | None = None) -> None:
    """Refuse a file python-docx must not be given: not a zip, not Word, damaged, a bomb, or with a DTD."""
    limits = limits or Limits.from_env()
    count = _member_count(path)
    if count is not None:
        limits.check("max_docx_members", count, f"DOCX zip lists {count} members")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            limits.check("max_docx_members", len(infos), f"DOCX zip lists {len(infos)} members")
            if not _is_word(zf, names):
                raise ExtractionError(f"a zip file but not a Word document ({_zip_kind(names, zf)})")
            declared = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise ExtractionError(f"DOCX member {info.filename} is encrypted; save the document without a password")
                limits.check("max_docx_part_bytes", info.file_size, f"DOCX member {info.filename} declares {describe(info.file_size, 'bytes')} inflated")
                declared += info.file_size
                limits.check("max_docx_total_bytes", declared, f"DOCX members declare {describe(declared, 'bytes')} inflated together")
                if info.file_size > _RATIO_MIN_BYTES:
                    ratio = info.file_size / max(info.compress_size, 1)
                    limits.check("max_docx_ratio", ratio, f"DOCX member {info.filename} is compressed {ratio:.0f}× (a zip bomb?)")
            inflated = 0
            for info in infos:
                inflated += _inflate(zf, info, limits.max_docx_total_bytes - inflated, limits)
    except ExtractionError:
        raise
    except zipfile.BadZipFile as exc:
        raise ExtractionError(f"corrupt or truncated DOCX (zip): {exc}") from exc
    except zlib.error as exc:
        raise ExtractionError(f"corrupt DOCX: damaged compressed data ({exc})") from exc
    except (EOFError, OSError, ValueError) as exc:
        raise ExtractionError(f"corrupt or truncated DOCX: {type(exc).__name__}: {exc}") from exc
    except NotImplementedError as exc:  # deflate64, or another method zipfile lacks
        raise ExtractionError(f"DOCX uses a zip compression method that cannot be read: {exc}") from exc
    except RuntimeError as exc:  # zipfile's "password required"
        raise ExtractionError(f"DOCX zip cannot be read: {exc}") from exc


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


def _picture(data: bytes | None, name: str, limits: Limits) -> tuple[bytes | None, str]:
    """An embedded picture over the pixel limit is skipped: the note goes in its name, the document goes on."""
    if not data:
        return data, name
    from ..ocr.image import probe

    try:
        probe(data, limits)
    except LimitError as exc:
        return None, f"{name} (skipped: {exc})"
    except ExtractionError:
        pass  # not a format Pillow knows (EMF, WMF): the OCR pass decides, as before
    return data, name


def _images(doc: DocxDocument, p_el, path: str, limits: Limits) -> list[Image]:
    out = []
    for k, blip in enumerate(p_el.iter(_BLIP)):
        rid = blip.get(_EMBED)
        part = doc.part.related_parts.get(rid) if rid else None
        data = getattr(part, "blob", None)
        name = str(getattr(part, "partname", None) or f"image{k + 1}").rsplit("/", 1)[-1]
        data, name = _picture(data, name, limits)
        out.append(Image(name=name, loc=Location(xpath=f"{path}/drawing[{k + 1}]"), data=data))
    return out


def load_docx(path: Path, source: str, limits: Limits | None = None) -> Document:
    limits = limits or Limits.from_env()
    check_docx(path, limits)
    try:
        return _read(path, source, limits)
    except ExtractionError:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors… for malformed parts
        raise ExtractionError(f"cannot read DOCX: {type(exc).__name__}: {exc}") from exc


def _read(path: Path, source: str, limits: Limits) -> Document:
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
            doc.blocks.extend(_images(d, el, xp, limits))
        elif el.tag == qn("w:tbl"):
            n_t += 1
            doc.blocks.append(_table(DocxTable(el, d), f"/body/tbl[{n_t}]"))
    return doc.finish()
