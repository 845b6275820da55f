"""Decode bytes whose encoding is unknown: UTF-8, UTF-16 or GBK/GB18030, detected, not assumed."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from .document import ExtractionError

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CJK = re.compile(r"[\u4e00-\u9fff]")
_BAD = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd]")
# GB2312 and GBK are subsets of GB18030; decoding with the superset never loses a page
# whose meta tag names the narrower charset (a common mislabelling).
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "utf8": "utf-8"}
# Python codecs that a page may name in <meta charset> but that are not document
# encodings; punycode decodes in quadratic time (a 2 MB page would take many minutes).
_NOT_DOCUMENT_CODECS = {"punycode", "idna", "raw-unicode-escape", "unicode-escape", "undefined", "utf-7", "mbcs", "oem"}


# Plausibility and detection look at bounded samples: a wrong encoding shows all over
# a text, and scanning a 20 MB text whole (or giving it to charset_normalizer, which
# tries dozens of codecs) costs seconds to minutes and, with findall, gigabytes.
_SAMPLE_WINDOWS = 16
_WINDOW_CHARS = 4096
_DETECT_BYTES = 64 * 1024
_MAX_BAD_RATIO = 0.001
_SHORT_TEXT = 200  # shorter texts need not contain CJK
_ASCII_SPACE = b" \t\r\n\x0b\x0c"


def _sample(text: str) -> list[str]:
    """The whole text when short, else evenly spaced windows over it."""
    if len(text) <= _SAMPLE_WINDOWS * _WINDOW_CHARS:
        return [text]
    step = (len(text) - _WINDOW_CHARS) // (_SAMPLE_WINDOWS - 1)
    return [text[k * step : k * step + _WINDOW_CHARS] for k in range(_SAMPLE_WINDOWS)]


def _why_implausible(text: str) -> str | None:
    """None when decoded text looks right: mostly printable, and with CJK characters if long."""
    if not text:
        return None
    windows = _sample(text)
    bad = sum(1 for w in windows for _ in _BAD.finditer(w))
    if bad / sum(len(w) for w in windows) >= _MAX_BAD_RATIO:
        return "control characters"
    if len(text) >= _SHORT_TEXT and _CJK.search(text) is None:
        return "no Chinese characters"
    return None


def _plausible(text: str) -> bool:
    """Decoded text should be mostly printable; Chinese documents have CJK characters."""
    return _why_implausible(text) is None


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
    if not data.strip(_ASCII_SPACE):
        raise ExtractionError("no text: the file holds only blank lines and spaces")
    candidates: list[str] = []
    declared_codec = _document_codec(declared) if declared else None
    if declared_codec:
        candidates.append(declared_codec)
    utf16 = _looks_utf16(data)
    if utf16:
        candidates.append(utf16)
    candidates += ["utf-8", "gb18030"]
    latin_only: str | None = None  # an encoding that decoded cleanly, but to text with no CJK
    for enc in dict.fromkeys(candidates):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        why = _why_implausible(text)
        if why is None:
            return text, enc
        if why == "no Chinese characters" and latin_only is None:
            latin_only = enc
    guess, detected = _detect(data)
    if guess is not None:
        return guess
    latin_only = latin_only or detected
    if latin_only is not None:
        raise ExtractionError(f"no Chinese text: the file decodes as {latin_only} but holds no Chinese characters")
    raise ExtractionError(f"not text: cannot decode it as UTF-8, UTF-16 or GB18030, and no other encoding fits{_binary_hint(data)}")


def _document_codec(name: str) -> str | None:
    """The codec a declared charset names, or None when it is unknown or not a document encoding."""
    name = _ALIASES.get(name.lower(), name.lower())
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # Bytes-to-bytes codecs (zlib, base64) are refused by bytes.decode; checked here as well.
    if info.name in _NOT_DOCUMENT_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return name


def _detect(data: bytes) -> tuple[tuple[str, str] | None, str | None]:
    """charset_normalizer's guess from the head of the data, if the whole decodes under it plausibly.

    Returns (the decoded text and its encoding, or None; the guessed encoding when it
    decodes cleanly but to text without Chinese characters, for the error message).
    """
    head = data[:_DETECT_BYTES]
    if len(data) > _DETECT_BYTES:
        # Cut at a line end so the sample does not end inside a multi-byte character.
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut > _DETECT_BYTES // 2 else head
    best = from_bytes(head).best()
    if best is None or not best.encoding:
        return None, None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None, None
    why = _why_implausible(text)
    if why is None:
        return (text, best.encoding), None
    return None, best.encoding if why == "no Chinese characters" else None


def _binary_hint(data: bytes) -> str:
    head = data[:_DETECT_BYTES]
    if not head:
        return ""
    control = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return f" ({control / len(head):.0%} control bytes: binary data?)" if control / len(head) > 0.05 else ""
