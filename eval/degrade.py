"""Pictures of tables and scans of pages, made the way real archives get them.

Tables are typeset by reportlab and rasterised by PyMuPDF (which carries its
own CJK fonts), so the pixels come from real rendering, not drawn boxes.  Scan
effects — resolution, a slight rotation, paper noise, JPEG artefacts — use
OpenCV.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pymupdf

from .layout import ReportLayout, TableSpec


def _crop_to_ink(img: np.ndarray, margin: int = 6) -> np.ndarray:
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    ys, xs = np.where(g < 200)
    if not len(xs):
        return img
    y0, y1 = max(ys.min() - margin, 0), min(ys.max() + margin + 1, img.shape[0])
    x0, x1 = max(xs.min() - margin, 0), min(xs.max() + margin + 1, img.shape[1])
    return img[y0:y1, x0:x1]


def _pixmap_to_bgr(pix: pymupdf.Pixmap) -> np.ndarray:
    arr = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)
    return cv2.cvtColor(arr, cv2.COLOR_RGB2BGR if pix.n == 3 else cv2.COLOR_RGBA2BGR)


def table_images(spec: TableSpec, *, dpi: int = 150) -> list[bytes]:
    """PNG screenshots of one table; a table too long for a page gives one picture per page."""
    from .render import render_pdf

    with tempfile.TemporaryDirectory() as tmp:
        pdf_path = Path(tmp) / "table.pdf"
        render_pdf(ReportLayout(title="", blocks=[spec]), pdf_path)
        with pymupdf.open(str(pdf_path)) as pdf:
            shots = [_crop_to_ink(_pixmap_to_bgr(page.get_pixmap(dpi=dpi))) for page in pdf]
    return [cv2.imencode(".png", s)[1].tobytes() for s in shots]


def scan_pages(pdf_path: Path, rng: random.Random) -> list[np.ndarray]:
    """Rasterise a PDF as a scanner would: 150–300 dpi, up to ±1.5° skew, noise, grey paper."""
    dpi = rng.choice([150, 200, 200, 300])
    angle = rng.uniform(-1.5, 1.5)
    pages = []
    with pymupdf.open(str(pdf_path)) as pdf:
        for page in pdf:
            img = cv2.cvtColor(_pixmap_to_bgr(page.get_pixmap(dpi=dpi)), cv2.COLOR_BGR2GRAY)
            h, w = img.shape
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
            noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, img.shape)
            img = np.clip(img.astype(np.float32) * 0.93 + 10 + noise, 0, 255).astype(np.uint8)
            pages.append(img)
    return pages


def jpeg(img: np.ndarray, rng: random.Random) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randrange(55, 86)])[1].tobytes()


def scanned_pdf(pdf_path: Path, out: Path, rng: random.Random) -> None:
    """A PDF of JPEG page images and no text layer, as office scanners produce."""
    with pymupdf.open() as doc:
        for img in scan_pages(pdf_path, rng):
            h, w = img.shape
            page = doc.new_page(width=595, height=595 * h / w)
            page.insert_image(page.rect, stream=jpeg(img, rng))
        doc.save(str(out))


def scanned_tiff(pdf_path: Path, out: Path, rng: random.Random) -> None:
    """A multi-page TIFF of the scanned pages."""
    from PIL import Image as PILImage

    frames = [PILImage.fromarray(img) for img in scan_pages(pdf_path, rng)]
    frames[0].save(str(out), save_all=True, append_images=frames[1:], compression="jpeg")
