"""Page images (PNG, JPEG, TIFF incl. multi-page): each frame is a page for the OCR pass."""

from __future__ import annotations

from pathlib import Path

from ..document import Document, Image, Location


def load_image(path: Path, source: str) -> Document:
    doc = Document(source=source, format="image")
    doc.blocks.append(Image(name=path.name, loc=Location(), data=path.read_bytes(), page_scan=True))
    return doc.finish()
