"""Decode bytes whose encoding is unknown: UTF-8, UTF-16 or GBK/GB18030, detected, not assumed."""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

from .document import ExtractionError

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CJK = re.compile(r"[\u4e00-\u9fff]")
_BAD = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd]")
# GB2312 and GBK are subsets of GB18030; decoding with the superset never loses a page
# whose meta tag names the narrower charset (a common mislabelling).
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "utf8": "utf-8"}


def _plausible(text: str) -> bool:
    """Decoded text should be mostly printable; Chinese documents have CJK characters."""
    if not text:
        return True
    bad = len(_BAD.findall(text))
    return bad / len(text) < 0.001 and (len(_CJK.findall(text)) > 0 or len(text) < 200)


def _looks_utf16(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even_zero = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_zero = sample[1::2].count(0) / max(1, len(sample[1::2]))
    # ASCII-heavy UTF-16 has zero high bytes; CJK-heavy UTF-16 has none, so also try decoding.
    if odd_zero > 0.3:
        return "utf-16-le"
    if even_zero > 0.3:
        return "utf-16-be"
    return None


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding).  Raises ExtractionError when no encoding fits."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc), enc.replace("-sig", "")
    candidates: list[str] = []
    if declared:
        candidates.append(_ALIASES.get(declared.lower(), declared.lower()))
    utf16 = _looks_utf16(data)
    if utf16:
        candidates.append(utf16)
    candidates += ["utf-8", "gb18030"]
    for enc in dict.fromkeys(candidates):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if _plausible(text):
            return text, enc
    best = from_bytes(data).best()
    if best is not None and _plausible(str(best)):
        return str(best), best.encoding
    raise ExtractionError("cannot decode text: not UTF-8, UTF-16 or GB18030, and no other encoding fits")
