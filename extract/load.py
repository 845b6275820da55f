"""Pick the backend for a file by its content (and name), and produce a Document.

The load stage is also the gate for hostile input: a file is stat'ed before it is
opened (a FIFO is never opened, a device never read), its size is checked against
the limits before it is read, and only then is a format backend given it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .document import Document, ExtractionError
from .limits import Limits, describe

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")
# Word 97-2003 files, and password-protected .docx files (Office wraps the encrypted
# package in the same OLE compound-file container).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names (UTF-16LE, as the compound file's directory stores them) that say what an
# OLE file holds: Word and WPS Writer documents have WordDocument; Office wraps a
# password-protected .docx in EncryptedPackage.
_OLE_STREAMS = {n: n.encode("utf-16-le") for n in ("WordDocument", "EncryptedPackage", "Workbook", "Book", "PowerPoint Document")}
_OLE_OVERLAP = max(len(m) for m in _OLE_STREAMS.values())
# Word 97-2003 and Kingsoft WPS Writer (Word-binary compatible): converted by LibreOffice.
LEGACY_SUFFIXES = {".doc", ".wps", ".dot", ".wpt"}
LEGACY_KINDS = {"doc", "wps", "rtf"}
SNIFF_BYTES = 2048
# A note that stands for an input refused before it could be read (a zip member that is a
# bomb or escapes its archive; see nianbao.inputs): its text is the error.
REFUSED_SUFFIX = ".nianbao-refused"
_REFUSED_MAX_BYTES = 4096
PDF_HEADER_WINDOW = 1024  # PDF readers accept the %PDF header anywhere in the first 1 kB

_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def source_name(path: Path | str) -> str:
    """The path as a printable string that encodes as UTF-8 (for records, CSV and the console).

    A file name that is not valid UTF-8 decodes with lone surrogates (PEP 383); each one
    is written as the byte it stands for, ``\\xNN``, so the name stays readable and
    distinct.  Control characters in names are escaped the same way.
    """
    text = os.fsdecode(path)
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF or code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def check_file(path: Path, limits: Limits | None = None) -> os.stat_result:
    """Stat ``path`` (following links) and refuse what is not a regular file within the size limit.

    Nothing is opened: opening a FIFO blocks until a writer comes, and reading a device
    such as /dev/zero never ends.  Callers that read the file themselves (hashing it)
    should call this first.
    """
    limits = limits or Limits.from_env()
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _NOT_REGULAR if test(st.st_mode)), "not a regular file")
        raise ExtractionError(f"not a regular file: it is {kind}; only regular files are read")
    limits.check("max_file_bytes", st.st_size, f"file is {describe(st.st_size, 'bytes')}")
    return st


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc


def _looks_html(head: bytes) -> bool:
    low = head.lower()
    return b"<html" in low or b"<!doctype html" in low or b"<body" in low


def sniff(path: Path, head: bytes | None = None) -> str:
    """The backend for a file: its magic bytes first, then its name.

    A name alone is not believed over HTML content: scrapers save a server's error
    page under the name of the PDF or picture they asked for.
    """
    head = _head(path) if head is None else head
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF") or (suffix == ".pdf" and b"%PDF" in head[:PDF_HEADER_WINDOW]):
        return "pdf"
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(path, suffix)
    if head.startswith(b"{\\rtf"):
        return "rtf"  # Word saves RTF, and sites serve it as .doc: converted like a .doc
    if head.startswith(b"PK"):
        return "docx"
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if suffix in HTML_SUFFIXES or _looks_html(head):
        return "html"
    if suffix == ".pdf":
        return "pdf"
    if suffix == ".docx":
        return "docx"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in LEGACY_SUFFIXES:
        raise ExtractionError(f"a {suffix} file that is not a Word 97-2003/WPS document (no OLE compound-file header); convert it to .docx or PDF")
    return "txt"


def _ole_streams(path: Path) -> set[str]:
    """Which telling stream names an OLE compound file's directory holds, by a bounded scan.

    The directory sits anywhere in the file (often at its end); the file is already
    within ``max_file_bytes``, and is read in chunks, never whole.
    """
    found: set[str] = set()
    tail = b""
    try:
        with open(path, "rb") as f:
            while len(found) < len(_OLE_STREAMS):
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                window = tail + chunk
                found.update(name for name, mark in _OLE_STREAMS.items() if mark in window)
                tail = window[-_OLE_OVERLAP:]
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    return found


def _ole_kind(path: Path, suffix: str) -> str:
    """An OLE compound file: a Word 97-2003 or WPS Writer document (converted), or a refusal that says what it is."""
    streams = _ole_streams(path)
    if "EncryptedPackage" in streams:
        raise ExtractionError("a password-protected Word file (an encrypted package in an OLE compound file); save it unprotected as .docx or PDF")
    if "WordDocument" in streams or (suffix in LEGACY_SUFFIXES and not streams):
        return "wps" if suffix == ".wps" else "doc"
    if "Workbook" in streams or "Book" in streams:
        raise ExtractionError("a legacy Excel workbook (.xls, OLE compound document), not a report document; save the report as .docx or PDF")
    if "PowerPoint Document" in streams:
        raise ExtractionError("a legacy PowerPoint file (.ppt, OLE compound document), not a report document; save the report as .docx or PDF")
    if suffix == ".docx":
        raise ExtractionError("an OLE compound file named .docx, with no Word document inside: a password-protected or damaged Word file; save it unprotected as .docx or PDF")
    raise ExtractionError("an OLE compound document that is not a Word 97-2003 or WPS file; convert it to .docx or PDF")


def load(path: Path, source: str | None = None, limits: Limits | None = None) -> Document:
    """Read one file into the document model.  Raises ExtractionError for anything it cannot read.

    ``limits`` defaults to ``Limits.from_env()``: the defaults with NIANBAO_* overrides.
    """
    path = Path(path)
    source = source or source_name(path)
    limits = limits or Limits.from_env()
    size = check_file(path, limits).st_size
    if path.suffix == REFUSED_SUFFIX and path.parent.name == "refused" and size <= _REFUSED_MAX_BYTES:
        raise ExtractionError(path.read_text("utf-8", "replace").strip() or "refused while the inputs were expanded")
    if size == 0:
        raise ExtractionError("empty file")
    kind = sniff(path)
    try:
        return _dispatch(kind, path, source, size, limits)
    except RecursionError as exc:
        # Parsers and walkers recurse over nesting; a hostile file nests without end.
        raise ExtractionError(f"{kind}: the document is nested too deeply to read") from exc
    except MemoryError as exc:
        raise ExtractionError(f"{kind}: out of memory while reading the document") from exc


def _dispatch(kind: str, path: Path, source: str, size: int, limits: Limits) -> Document:
    if kind == "pdf":
        from .backends.pdf import load_pdf

        return load_pdf(path, source, limits)
    if kind == "docx":
        from .backends.docx import load_docx

        return load_docx(path, source, limits)
    if kind in LEGACY_KINDS:
        from .backends.legacy import load_legacy

        return load_legacy(path, source, limits, fmt=kind)
    if kind == "image":
        from .backends.image import load_image

        return load_image(path, source, limits)
    if kind == "html":
        limits.check("max_html_bytes", size, f"HTML page is {describe(size, 'bytes')}")
        from .backends.html import load_html

        return load_html(path, source)
    limits.check("max_text_bytes", size, f"text file is {describe(size, 'bytes')}")
    from .backends.text import load_text

    return load_text(path, source)
