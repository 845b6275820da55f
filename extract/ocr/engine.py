"""OCR engines behind one small interface.

RapidOCR is the default: it carries PaddleOCR's PP-OCR models as ONNX files inside
its wheel and runs on ONNX Runtime, so nothing is downloaded at run time.  The
native ``paddleocr`` package is optional and must be pointed at local model
directories (``NIANBAO_PADDLE_DET_DIR`` and ``NIANBAO_PADDLE_REC_DIR``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from ..document import ExtractionError

if TYPE_CHECKING:
    from rapidocr.ch_ppocr_rec import TextRecOutput
    from rapidocr.utils.output import RapidOCROutput


@dataclass(frozen=True, slots=True)
class OcrBox:
    """One line of text the engine found: pixel bbox (x0, y0, x1, y1) in the image it was given."""

    text: str
    score: float
    bbox: tuple[float, float, float, float]

    @property
    def center(self) -> tuple[float, float]:
        return ((self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2)


class OcrEngine(Protocol):
    name: str

    def read(self, image: np.ndarray) -> list[OcrBox]:
        """Detect and recognise text lines in a BGR or grayscale image."""
        ...

    def read_line(self, image: np.ndarray) -> OcrBox | None:
        """Recognise an image known to hold one short line (no detection step)."""
        ...


def _boxes(points: Iterable[Iterable[Sequence[float]]], texts: Iterable[str], scores: Iterable[float]) -> list[OcrBox]:
    out = []
    for quad, text, score in zip(points, texts, scores):
        xs = [float(p[0]) for p in quad]
        ys = [float(p[1]) for p in quad]
        out.append(OcrBox(text=str(text), score=float(score), bbox=(min(xs), min(ys), max(xs), max(ys))))
    return out


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        # Table text is upright, so the angle classifier is skipped.  The recogniser's
        # minimum input width is lowered from 320 to 48 px: table cells hold one or
        # two characters, and padding each to 320 px made recognition five times slower.
        self._ocr = RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.use_cls": False,
                "Rec.rec_img_shape": [3, 48, 48],
                "Rec.rec_batch_num": 6,
            }
        )

    def read(self, image: np.ndarray) -> list[OcrBox]:
        # RapidOCR keeps per-call switches as state, so every call names them all.
        # With detection and recognition on, RapidOCR's result is its full output (empty when nothing was read).
        result = cast("RapidOCROutput", self._ocr(image, use_det=True, use_cls=False, use_rec=True))
        if result.boxes is None:
            return []
        assert result.txts is not None and result.scores is not None, "RapidOCR gives every box its text and score"
        return _boxes(result.boxes, result.txts, result.scores)

    def read_line(self, image: np.ndarray) -> OcrBox | None:
        # Recognition alone gives the recogniser's output, or an empty full output when nothing was read.
        result = cast("TextRecOutput | RapidOCROutput", self._ocr(image, use_det=False, use_cls=False, use_rec=True))
        if not result.txts or not result.txts[0].strip():
            return None
        assert result.scores is not None, "RapidOCR scores every text it recognises"
        h, w = image.shape[:2]
        return OcrBox(text=str(result.txts[0]), score=float(result.scores[0]), bbox=(0.0, 0.0, float(w), float(h)))


class PaddleOcrEngine:
    """The native PaddleOCR pipeline with models from local directories (no download)."""

    name = "paddleocr"

    def __init__(self, det_dir: str, rec_dir: str) -> None:
        try:
            from paddleocr import PaddleOCR
        except ImportError as exc:
            raise ExtractionError("NIANBAO_OCR=paddleocr needs the paddleocr package: pip install 'nianbao[paddle]'") from exc
        for d in (det_dir, rec_dir):
            if not os.path.isdir(d):
                raise ExtractionError(f"PaddleOCR model directory not found: {d}")
        self._ocr = PaddleOCR(
            text_detection_model_dir=det_dir,
            text_recognition_model_dir=rec_dir,
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
        )

    def read(self, image: np.ndarray) -> list[OcrBox]:
        out: list[OcrBox] = []
        for page in self._ocr.predict(image):
            out += _boxes(page["rec_polys"], page["rec_texts"], page["rec_scores"])
        return out

    def read_line(self, image: np.ndarray) -> OcrBox | None:
        boxes = self.read(image)
        if not boxes:
            return None
        h, w = image.shape[:2]
        return OcrBox(text="".join(b.text for b in boxes), score=min(b.score for b in boxes), bbox=(0.0, 0.0, float(w), float(h)))


@cache
def get_engine(name: str | None = None) -> OcrEngine:
    """The configured engine, built once per process: ``NIANBAO_OCR`` = rapidocr (default) or paddleocr."""
    name = (name or os.environ.get("NIANBAO_OCR") or "rapidocr").lower()
    if name == "rapidocr":
        return RapidOcrEngine()
    if name == "paddleocr":
        det = os.environ.get("NIANBAO_PADDLE_DET_DIR", "")
        rec = os.environ.get("NIANBAO_PADDLE_REC_DIR", "")
        if not det or not rec:
            raise ExtractionError("NIANBAO_OCR=paddleocr needs NIANBAO_PADDLE_DET_DIR and NIANBAO_PADDLE_REC_DIR (local model directories)")
        return PaddleOcrEngine(det, rec)
    raise ExtractionError(f"unknown OCR engine {name!r}; use rapidocr or paddleocr")
