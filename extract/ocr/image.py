"""Prepare pixels for OCR: decode, grayscale, upscale small images, straighten rotated scans."""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from ..document import ExtractionError
from ..limits import Limits, describe

# PP-OCR reads best when a line of text is roughly 20–40 px tall; screenshots
# pasted into Word are often much smaller than that.
MIN_WIDTH = 1000
MAX_SKEW_DEGREES = 5.0

# Pillow's own bomb check (PIL.Image.MAX_IMAGE_PIXELS) is set to the same limit as ours;
# the header probe lifts it for the moment it reads sizes, so that the message can say
# what the picture declares.  The lock keeps that moment private to one thread.
_PIL_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class PictureInfo:
    """What a picture's headers declare, read without decoding its pixels."""

    format: str
    width: int
    height: int
    frames: int
    total_pixels: int  # over all frames


def _pil():
    from PIL import Image as PILImage

    return PILImage


def probe(data: bytes, limits: Limits | None = None) -> PictureInfo:
    """Format, size and frames from the headers (Pillow opens lazily), checked against the limits.

    Raises LimitError for a picture over a limit, ExtractionError for one whose headers
    cannot be read.  No pixel data is decoded.
    """
    limits = limits or Limits.from_env()
    pil = _pil()
    with _PIL_LOCK:
        pil.MAX_IMAGE_PIXELS = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im = pil.open(io.BytesIO(data))
                try:
                    return _declared(im, limits)
                finally:
                    im.close()
        except ExtractionError:
            raise
        except pil.UnidentifiedImageError as exc:
            raise ExtractionError("cannot decode image: not a picture format that can be read, or its header is damaged") from exc
        except Exception as exc:
            raise ExtractionError(f"cannot decode image: unreadable or unknown picture format ({type(exc).__name__}: {exc})") from exc
        finally:
            pil.MAX_IMAGE_PIXELS = limits.max_image_pixels


def _declared(im, limits: Limits) -> PictureInfo:
    fmt = im.format or "image"
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ExtractionError(f"cannot decode image: {fmt} declares {width}×{height} pixels")
    _check_frame(width, height, fmt, limits)
    frames = int(getattr(im, "n_frames", 1) or 1)
    limits.check("max_pages", frames, f"{fmt} image has {frames} frames")
    if frames == 1 or fmt != "TIFF":
        total = width * height * frames  # GIF and other animations share one canvas size
    else:
        total = 0
        for k in range(frames):  # TIFF pages each have their own size; seeking reads headers only
            im.seek(k)
            w, h = im.size
            _check_frame(w, h, f"{fmt} page {k + 1}", limits)
            total += w * h
    limits.check("max_image_total_pixels", total, f"{fmt} image's {frames} frames declare {describe(total, 'pixels')} together")
    return PictureInfo(format=fmt, width=width, height=height, frames=frames, total_pixels=total)


def _check_frame(width: int, height: int, what: str, limits: Limits) -> None:
    pixels = width * height
    limits.check("max_image_pixels", pixels, f"{what} declares {width}×{height} = {describe(pixels, 'pixels')}")


def verify(data: bytes, limits: Limits | None = None) -> PictureInfo:
    """``probe``, then decode every frame once with Pillow: truncated or corrupt pixel data is an error.

    OpenCV fills the missing part of a truncated JPEG with grey and says nothing; a page
    image file that cannot be decoded whole should say so instead.
    """
    limits = limits or Limits.from_env()
    info = probe(data, limits)
    pil = _pil()
    try:
        with pil.open(io.BytesIO(data)) as im:
            for k in range(info.frames):
                im.seek(k)
                im.load()
    except Exception as exc:
        raise ExtractionError(f"cannot decode image: {info.format} data is truncated or corrupt ({type(exc).__name__}: {exc})") from exc
    return info


def decode(data: bytes, limits: Limits | None = None) -> list[np.ndarray]:
    """Decode image bytes (PNG, JPEG, BMP, TIFF incl. multi-page, GIF…) into BGR frames.

    The headers are checked against the pixel limits first, so a picture that declares
    40000×40000 pixels is refused before any memory is taken for it.
    """
    limits = limits or Limits.from_env()
    probe(data, limits)
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        ok, frames = cv2.imdecodemulti(buf, cv2.IMREAD_COLOR)
    except cv2.error:
        ok, frames = False, None
    if ok and frames:
        return list(frames)
    try:  # formats OpenCV lacks (GIF on some builds, odd TIFF compressions)
        from PIL import ImageSequence

        with _pil().open(io.BytesIO(data)) as im:
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
