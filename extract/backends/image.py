"""Page images (PNG, JPEG, TIFF incl. multi-page): each frame is a page for the OCR pass.

A page image file is the whole document, so one that is over the pixel limits, or
whose data is truncated or corrupt, is an error here rather than a silent blank page
later: its headers are checked and every frame is decoded once before OCR.
"""

from __future__ import annotations

from pathlib import Path

from ..document import Document, ExtractionError, Image, Location
from ..limits import Limits
from ..load import check_file, source_name


def load_image(path: Path, source: str, limits: Limits | None = None) -> Document:
    from ..ocr.image import verify

    limits = limits or Limits.from_env()
    check_file(path, limits)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    verify(data, limits)
    doc = Document(source=source, format="image")
    doc.blocks.append(Image(name=source_name(path.name), loc=Location(), data=data, page_scan=True))
    return doc.finish()
