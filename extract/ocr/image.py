"""Prepare pixels for OCR: decode, grayscale, upscale small images, straighten rotated scans."""

from __future__ import annotations

import cv2
import numpy as np

from ..document import ExtractionError

# PP-OCR reads best when a line of text is roughly 20–40 px tall; screenshots
# pasted into Word are often much smaller than that.
MIN_WIDTH = 1000
MAX_SKEW_DEGREES = 5.0


def decode(data: bytes) -> list[np.ndarray]:
    """Decode image bytes (PNG, JPEG, BMP, TIFF incl. multi-page, GIF…) into BGR frames."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ok, frames = cv2.imdecodemulti(buf, cv2.IMREAD_COLOR)
    if ok and frames:
        return list(frames)
    try:  # formats OpenCV lacks (GIF on some builds, odd TIFF compressions)
        import io

        from PIL import Image as PILImage, ImageSequence

        with PILImage.open(io.BytesIO(data)) as im:
            return [cv2.cvtColor(np.asarray(f.convert("RGB")), cv2.COLOR_RGB2BGR) for f in ImageSequence.Iterator(im)]
    except Exception as exc:
        raise ExtractionError(f"cannot decode image: {exc}") from exc


def gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def upscale(image: np.ndarray, min_width: int = MIN_WIDTH) -> tuple[np.ndarray, float]:
    """Enlarge images narrower than ``min_width``; returns the image and the factor applied."""
    h, w = image.shape[:2]
    if w >= min_width:
        return image, 1.0
    f = min(min_width / w, 4.0)
    return cv2.resize(image, (int(w * f), int(h * f)), interpolation=cv2.INTER_CUBIC), f


# A4 at 200 dpi.  Scans made at 300 dpi or more are read at this width: text
# stays well above the recogniser's comfortable height and OCR time halves.
MAX_PAGE_WIDTH = 1700


def downscale(image: np.ndarray, max_width: int = MAX_PAGE_WIDTH) -> np.ndarray:
    h, w = image.shape[:2]
    if w <= max_width:
        return image
    f = max_width / w
    return cv2.resize(image, (max_width, int(h * f)), interpolation=cv2.INTER_AREA)


def binarize(g: np.ndarray) -> np.ndarray:
    """Ink as 255 on 0, robust to JPEG noise and uneven scan background."""
    blur = cv2.GaussianBlur(g, (3, 3), 0)
    return cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def skew_angle(g: np.ndarray) -> float:
    """Page rotation in degrees, from the projection profile of ink rows.

    Text lines and ruling lines make sharp peaks in the row profile only when
    they are horizontal; the angle that maximises the profile's variance wins.
    """
    small = g
    scale = 1000 / max(g.shape[:2])
    if scale < 1:
        small = cv2.resize(g, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = binarize(small)
    h, w = ink.shape
    center = (w / 2, h / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(center, angle, 1.0)
        rotated = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        return float(np.var(rotated.sum(axis=1, dtype=np.float64)))

    coarse = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.5), key=score)
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=score)
    return float(round(fine, 2))


def straighten(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Rotate a scan so its lines are horizontal; returns the image and the correction in degrees."""
    angle = skew_angle(gray(image))
    if abs(angle) < 0.15:
        return image, 0.0
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = (255, 255, 255) if image.ndim == 3 else 255
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=border), angle
