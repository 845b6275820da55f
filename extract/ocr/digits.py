"""Digit-level care for OCR'd table cells.

Only cells that read as a number apart from look-alike characters are touched,
and every change is reported so the value is flagged, never silently corrected.
"""

from __future__ import annotations

import re

_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "〇": "0", "I": "1", "l": "1", "|": "1", "丨": "1", "S": "5", "B": "8", "，": ",", "。": ".", "．": "."})
_NUMERIC_ISH = re.compile(r"^[0-9OoDQ〇Il|丨SB,，.。．\s]+$")
_DASHES = {"一": "—", "—": "—", "－": "-", "-": "-", "_": "—", "/": "/", "／": "/", "\\": "/", "•": "-", "·": "-", "・": "-"}
# Readings that could be a short dash as easily as anything else.
_DOUBTFUL_DASHES = {"一", "•", "·", "・"}


def is_numeric(text: str) -> bool:
    return bool(text) and bool(_NUMERIC_ISH.match(text)) and any(ch.isdigit() for ch in text)


def normalize(text: str) -> tuple[str, str | None]:
    """(text to parse, note or None).  '1 0' → '10', 'l0' → '10', '一' in a number cell → '—'."""
    t = text.strip()
    if not t:
        return "", None
    if t in _DASHES:
        mark = _DASHES[t]
        # Only the CJK 一 is really ambiguous (it is also the numeral one).
        return mark, f"OCR read {t!r}; taken as the dash {mark!r}" if t in _DOUBTFUL_DASHES else None
    if not _NUMERIC_ISH.match(t) or not any(ch.isdigit() for ch in t) and t not in ("O", "o", "〇"):
        return t, None
    fixed = t.translate(_LOOKALIKE)
    fixed = re.sub(r"\s+", "", fixed)
    # '1,234' is a thousands separator; '62.67' a decimal point; '4,12' is ambiguous.
    if re.fullmatch(r"\d{1,3}(,\d{3})+", fixed):
        fixed = fixed.replace(",", "")
    if fixed == t:
        return t, None
    if re.sub(r"\s+", "", t) == fixed:
        return fixed, None if len(fixed) <= 1 else f"OCR found {t!r} in pieces; read as {fixed}"
    return fixed, f"OCR read {t!r}; look-alike characters taken as digits: {fixed}"
