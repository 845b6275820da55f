"""How risky a flagged field is: the order of the review queue.

The rank is derived from the field's method, its standing review reasons and the
checks it fails, riskiest first:

1. a 勾稽 relation it takes part in fails (a reason ``check failed: …``);
2. it was cut out of glued digits or inferred from a relation (method ``split`` or
   ``inferred``, or a reason saying the digits ran together or a cell was inferred);
3. OCR was in doubt (method ``ocr``, or a reason naming OCR);
4. an LLM filled or disputed it (method ``llm``, or a reason naming the LLM or a vision model);
5. another judgement of the rules (agency from the body text, an approximate count, …);
6. it was not found (state ``not_found``: nothing read, so nothing wrong was read).

A field takes the riskiest rank any of its reasons gives, except that a field not
found is rank 6 whatever its reasons say (a table only in a picture "needs OCR or a
human", but no reading of it can be wrong).  Within a rank the queue
puts lower confidence first.
"""

from __future__ import annotations

from collections.abc import Sequence

RELATION = 1
SPLIT_OR_INFERRED = 2
OCR_DOUBT = 3
LLM_FILL = 4
OTHER = 5
NOT_FOUND = 6

RISK_LABELS = {
    RELATION: "failed relation",
    SPLIT_OR_INFERRED: "split or inferred",
    OCR_DOUBT: "OCR doubt",
    LLM_FILL: "LLM fill",
    OTHER: "rule judgement",
    NOT_FOUND: "not found",
}
CHECK_FAILED = "check failed: "
_SPLIT_WORDS = ("ran together", "split by", "inferred")
_LLM_WORDS = ("LLM", "vision model")


def risk_rank(method: str | None, state: str, flags: Sequence[str]) -> int | None:
    """The queue rank of a field with these standing reasons; None when nothing is flagged."""
    if not flags:
        return None
    if any(f.startswith(CHECK_FAILED) for f in flags):
        return RELATION
    if state == "not_found":
        return NOT_FOUND
    if method in ("split", "inferred") or any(w in f for f in flags for w in _SPLIT_WORDS):
        return SPLIT_OR_INFERRED
    if method == "ocr" or any("OCR" in f for f in flags):
        return OCR_DOUBT
    if method == "llm" or any(w in f for f in flags for w in _LLM_WORDS):
        return LLM_FILL
    return OTHER
