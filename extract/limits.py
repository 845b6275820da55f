"""How much one input file may cost: bytes, pixels, pages, seconds and memory.

Scraped batches hold damaged and hostile files (zip bombs, pictures that declare
40000×40000 pixels, endless FIFOs).  Each limit here is checked before the costly
step it protects, and a breach is an ``ExtractionError`` naming the limit and the
environment variable that raises it, so the batch goes on with an error record.

Every limit can be set from the environment: ``NIANBAO_MAX_FILE_BYTES=500MB``,
``NIANBAO_MAX_IMAGE_PIXELS=200M``, ``NIANBAO_SECONDS_PER_FILE=600``.  Sizes take
the suffixes k, M, G (decimal) or KiB, MiB, GiB (binary), with or without a B.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .document import ExtractionError

KB, MB, GB = 10**3, 10**6, 10**9

# Defaults, with the reasoning behind each.  A real annual report is a 20 KB text,
# a 1 MB DOCX or PDF, or a few 200–300 dpi page scans; every default is far above that.
DEFAULT_MAX_FILE_BYTES = 200 * MB  # the largest scanned PDFs seen are ~50 MB
# Text and HTML are parsed whole in Python; 20 MB of text is thousands of pages, and a
# saved page over that is an archive or an attack, not one report.
DEFAULT_MAX_TEXT_BYTES = 20 * MB
DEFAULT_MAX_HTML_BYTES = 20 * MB
# A 300 dpi A0 sheet is 140 M pixels; A4 at 300 dpi is 8.7 M.  One frame of 100 M
# pixels is 300 MB as BGR, the most one picture may take while OCR works on it.
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000
# All frames of one picture are decoded together (multi-page TIFF): 250 M pixels is
# 750 MB as BGR, ~28 A4 pages at 300 dpi.
DEFAULT_MAX_IMAGE_TOTAL_PIXELS = 250_000_000
DEFAULT_MAX_PAGES = 500  # PDF pages, and frames of a multi-page image
# python-docx reads every part into memory and parses its XML whole (lxml trees
# take ~10× the XML's bytes), so XML is the cost, not the zip.
DEFAULT_MAX_DOCX_PART_BYTES = 100 * MB
DEFAULT_MAX_DOCX_TOTAL_BYTES = 300 * MB
# Word's XML deflates 5–30×; zeros deflate ~1000×.  Checked on parts over 1 MB inflated.
DEFAULT_MAX_DOCX_RATIO = 200
# A Word file has 10–2,000 members; Python's zipfile keeps ~600 bytes per member, so a
# 200 MB zip of empty members would take 1.5 GB just to list.
DEFAULT_MAX_DOCX_MEMBERS = 10_000
DEFAULT_SECONDS_PER_FILE = 300.0
DEFAULT_MEMORY_PER_FILE_BYTES = 2_500 * MB

ENV_PREFIX = "NIANBAO_"


def _limit(default: float, unit: str, doc: str) -> Any:
    return field(default=default, metadata={"unit": unit, "doc": doc})


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits.  ``Limits()`` holds the defaults; ``Limits.from_env()`` applies NIANBAO_* overrides."""

    max_file_bytes: int = _limit(DEFAULT_MAX_FILE_BYTES, "bytes", "size of any input file, checked before it is read")
    max_text_bytes: int = _limit(DEFAULT_MAX_TEXT_BYTES, "bytes", "size of a TXT/MD file")
    max_html_bytes: int = _limit(DEFAULT_MAX_HTML_BYTES, "bytes", "size of an HTML page")
    max_image_pixels: int = _limit(DEFAULT_MAX_IMAGE_PIXELS, "pixels", "pixels of one picture or frame, read from its header before decoding; PDF pages are rendered under it")
    max_image_total_pixels: int = _limit(DEFAULT_MAX_IMAGE_TOTAL_PIXELS, "pixels", "pixels of all frames of one picture together")
    max_pages: int = _limit(DEFAULT_MAX_PAGES, "pages", "pages of a PDF, frames of an image file")
    max_docx_part_bytes: int = _limit(DEFAULT_MAX_DOCX_PART_BYTES, "bytes", "inflated size of one DOCX zip member")
    max_docx_total_bytes: int = _limit(DEFAULT_MAX_DOCX_TOTAL_BYTES, "bytes", "inflated size of all DOCX zip members")
    max_docx_ratio: int = _limit(DEFAULT_MAX_DOCX_RATIO, "×", "compression ratio of a DOCX zip member over 1 MB inflated")
    max_docx_members: int = _limit(DEFAULT_MAX_DOCX_MEMBERS, "members", "number of members in a DOCX zip, read from its directory's end record")
    seconds_per_file: float = _limit(DEFAULT_SECONDS_PER_FILE, "seconds", "wall time for one file (enforced by the batch worker)")
    memory_per_file_bytes: int = _limit(DEFAULT_MEMORY_PER_FILE_BYTES, "bytes", "memory for one file (enforced by the batch worker)")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or not math.isfinite(value):
                raise ValueError(f"limit {f.name} must be a positive number, got {value!r}")

    @staticmethod
    def env_name(name: str) -> str:
        """The environment variable that sets limit ``name``: max_pages → NIANBAO_MAX_PAGES."""
        return ENV_PREFIX + name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: float) -> Limits:
        """The defaults, overridden by NIANBAO_* variables, overridden by keyword arguments.

        A variable that is set but not a positive number is a configuration mistake and
        raises ValueError naming it, rather than silently running without the limit.
        """
        env = os.environ if environ is None else environ
        values: dict[str, float] = {}
        for f in fields(cls):
            raw = env.get(cls.env_name(f.name))
            if raw is None or not raw.strip():
                continue
            try:
                number = parse_amount(raw)
            except ValueError:
                raise ValueError(f"{cls.env_name(f.name)}={raw!r} is not a number (examples: 200MB, 100M, 1.5G, 300)") from None
            values[f.name] = number if f.type in ("float", float) else int(number)
        values.update(overrides)
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{exc} (check the NIANBAO_* limit variables)") from None

    def unit(self, name: str) -> str:
        return next(f.metadata["unit"] for f in fields(self) if f.name == name)

    def exceeded(self, name: str, what: str) -> LimitError:
        """The error for breaking limit ``name``; ``what`` says what was found, e.g. "file is 250 MB"."""
        limit = getattr(self, name)
        return LimitError(
            f"{what}, over the limit of {describe(limit, self.unit(name))} (raise it with {self.env_name(name)})",
            limit=name,
        )

    def check(self, name: str, value: float, what: str) -> None:
        """Raise ``exceeded`` when ``value`` is over limit ``name``."""
        if value > getattr(self, name):
            raise self.exceeded(name, what)


class LimitError(ExtractionError):
    """A file refused because it breaks a limit; ``limit`` is the Limits field's name."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)(i?)(b?)\s*$", re.I)
_DECIMAL = {"": 1, "k": KB, "m": MB, "g": GB, "t": 10**12}
_BINARY = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_amount(text: str) -> float:
    """'200MB' → 2e8, '1.5G' → 1.5e9, '64MiB' → 67108864, '300' → 300."""
    m = _AMOUNT.match(text)
    if not m:
        raise ValueError(text)
    number, prefix, binary, _ = m.groups()
    prefix = prefix.lower()
    if binary and not prefix:
        raise ValueError(text)
    return float(number) * (_BINARY[prefix] if binary else _DECIMAL[prefix])


def describe(value: float, unit: str = "") -> str:
    """Short human form: 1600000000 pixels → '1.6 G pixels', 209715200 bytes → '210 MB'."""
    if unit == "bytes":
        for step, name in ((GB, "GB"), (MB, "MB"), (KB, "kB")):
            if value >= step:
                return f"{_short(value / step)} {name}"
        return f"{int(value)} bytes"
    if unit == "pixels":
        for step, name in ((GB, "G"), (MB, "M")):
            if value >= step:
                return f"{_short(value / step)} {name} pixels"
        return f"{int(value)} pixels"
    if unit == "×":
        return f"{_short(value)}×"
    return f"{_short(value)} {unit}".strip()


def _short(x: float) -> str:
    return f"{x:.0f}" if x >= 100 or x == int(x) else f"{x:.3g}"
