"""Pick the backend for a file by its content (and name), and produce a Document."""

from __future__ import annotations

import zipfile
from pathlib import Path

from .document import Document, ExtractionError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")


def sniff(path: Path) -> str:
    head = path.read_bytes()[:2048]
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF") or suffix == ".pdf":
        return "pdf"
    if head.startswith(b"PK") or suffix == ".docx":
        return "docx"
    if head.startswith(_IMAGE_MAGIC) or suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in HTML_SUFFIXES:
        return "html"
    low = head.lower()
    if b"<html" in low or b"<!doctype html" in low or b"<body" in low:
        return "html"
    if suffix == ".doc":
        raise ExtractionError("legacy .doc (Word 97-2003) is not supported; convert it to .docx or PDF")
    return "txt"


def load(path: Path, source: str | None = None) -> Document:
    source = source or str(path)
    if not path.is_file():
        raise ExtractionError(f"not a file: {path}")
    if path.stat().st_size == 0:
        raise ExtractionError("empty file")
    kind = sniff(path)
    if kind == "pdf":
        from .backends.pdf import load_pdf

        return load_pdf(path, source)
    if kind == "docx":
        from .backends.docx import load_docx

        try:
            return load_docx(path, source)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ExtractionError(f"corrupt or non-DOCX zip file: {exc}") from exc
    if kind == "image":
        from .backends.image import load_image

        return load_image(path, source)
    if kind == "html":
        from .backends.html import load_html

        return load_html(path, source)
    from .backends.text import load_text

    return load_text(path, source)
