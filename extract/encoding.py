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


# Plausibility and detection look at bounded samples: a wrong encoding shows all over
# a text, and scanning a 20 MB text whole (or giving it to charset_normalizer, which
# tries dozens of codecs) costs seconds to minutes and, with findall, gigabytes.
_SAMPLE_WINDOWS = 16
_WINDOW_CHARS = 4096
_DETECT_BYTES = 64 * 1024
_MAX_BAD_RATIO = 0.001
_SHORT_TEXT = 200  # shorter texts need not contain CJK


def _sample(text: str) -> list[str]:
    """The whole text when short, else evenly spaced windows over it."""
    if len(text) <= _SAMPLE_WINDOWS * _WINDOW_CHARS:
        return [text]
    step = (len(text) - _WINDOW_CHARS) // (_SAMPLE_WINDOWS - 1)
    return [text[k * step : k * step + _WINDOW_CHARS] for k in range(_SAMPLE_WINDOWS)]


def _plausible(text: str) -> bool:
    """Decoded text should be mostly printable; Chinese documents have CJK characters."""
    if not text:
        return True
    windows = _sample(text)
    bad = sum(1 for w in windows for _ in _BAD.finditer(w))
    sampled = sum(len(w) for w in windows)
    return bad / sampled < _MAX_BAD_RATIO and (len(text) < _SHORT_TEXT or _CJK.search(text) is not None)


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
            try:
                return data.decode(enc), enc.replace("-sig", "")
            except UnicodeDecodeError:
                break  # binary data that happens to start like a BOM
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
    guess = _detect(data)
    if guess is not None:
        return guess
    raise ExtractionError(f"not text: cannot decode it as UTF-8, UTF-16 or GB18030, and no other encoding fits{_binary_hint(data)}")


def _detect(data: bytes) -> tuple[str, str] | None:
    """charset_normalizer's guess from the head of the data, if the whole decodes under it plausibly."""
    head = data[:_DETECT_BYTES]
    if len(data) > _DETECT_BYTES:
        # Cut at a line end so the sample does not end inside a multi-byte character.
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut > _DETECT_BYTES // 2 else head
    best = from_bytes(head).best()
    if best is None or not best.encoding:
        return None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return (text, best.encoding) if _plausible(text) else None


def _binary_hint(data: bytes) -> str:
    head = data[:_DETECT_BYTES]
    if not head:
        return ""
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return f" ({control / len(head):.0%} control bytes: binary data?)" if control / len(head) > 0.05 else ""
