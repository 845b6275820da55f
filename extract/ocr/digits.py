"""Digit-level care for OCR'd table cells.

Only cells that read as a number apart from look-alike characters are touched,
and every change is reported so the value is flagged, never silently corrected.
"""

from __future__ import annotations

import re

_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "〇": "0", "I": "1", "l": "1", "|": "1", "丨": "1", "S": "5", "B": "8", "，": ",", "。": ".", "．": "."})
_NUMERIC_ISH = re.compile(r"^[0-9OoDQ〇Il|丨SB,，.。．\s]+$")
# Marks that mean "no value" however they are drawn.  The plain forms are kept as read
# (parse_cell knows them all); the others are read as a dash, and that is reported.
_PLAIN_DASHES = {"—", "－", "-", "/", "／", "\\"}
_DASHES = {"一": "—", "_": "—", "•": "-", "·": "-", "・": "-"}


def is_numeric(text: str) -> bool:
    return bool(text) and bool(_NUMERIC_ISH.match(text)) and any(ch.isdigit() for ch in text)


def normalize(text: str) -> tuple[str, str | None]:
    """(text to parse, note or None).  '1 0' → '10', 'l0' → '10', '一' in a number cell → '—'.

    Whenever the text to parse differs from what OCR read, the note says what OCR read
    and what was done, so the cell is flagged for review with the original reading.
    """
    t = text.strip()
    if not t or t in _PLAIN_DASHES:
        return t, None
    if t in _DASHES:
        mark = _DASHES[t]
        # 一 is also the numeral one; a dot or an underscore may be a stray mark.
        return mark, f"OCR read {t!r}; taken as the dash {mark!r}"
    if not _NUMERIC_ISH.match(t) or (not any(ch.isdigit() for ch in t) and t not in ("O", "o", "〇")):
        return t, None
    looked = t.translate(_LOOKALIKE)
    joined = re.sub(r"\s+", "", looked)
    fixed = joined
    # '1,234' is a thousands separator; '62.67' a decimal point; '4,12' is ambiguous.
    if re.fullmatch(r"\d{1,3}(,\d{3})+", fixed):
        fixed = fixed.replace(",", "")
    if fixed == t:
        return t, None
    what = []
    if looked != t:
        changed = sorted({ch for ch in t if ch.translate(_LOOKALIKE) != ch})
        what.append("look-alike characters taken as digits (" + ", ".join(f"{ch!r}→{ch.translate(_LOOKALIKE)!r}" for ch in changed) + ")")
    if joined != looked:
        what.append("pieces joined")
    if fixed != joined:
        what.append("thousands separator dropped")
    if what == ["pieces joined"]:
        return fixed, f"OCR found {t!r} in pieces; read as {fixed}"
    return fixed, f"OCR read {t!r}; {', '.join(what)}: {fixed}"
