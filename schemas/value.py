"""One extracted value with everything needed to trust or check it."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class State(str, Enum):
    """What the source shows for a cell or fact.  Blank, 0 and '/' stay distinct."""

    NUMBER = "number"
    TEXT = "text"  # meta values such as the agency name
    BLANK = "blank"  # an empty cell
    DASH = "dash"  # '/', '—', '-', '无' and similar markers
    NOT_FOUND = "not_found"  # the document does not carry it in readable form


class Method(str, Enum):
    TEXT_TABLE = "text-table"
    HTML = "html"
    DOCX = "docx"
    PDF = "pdf"
    REGEX = "regex"
    OCR = "ocr"
    LLM = "llm"
    HUMAN = "human"
    INFERRED = "inferred"  # derived from a 勾稽 relation; always flagged
    SPLIT = "split"  # cut out of a run of glued digits by the template's relations; always flagged
    MANIFEST = "manifest"  # given by the user's manifest CSV (agency, year), over what the document says


class Provenance(BaseModel):
    """Where a value came from.  Pages are 1-based; spans index ``Document.text``."""

    model_config = ConfigDict(extra="forbid")

    file: str
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    span: tuple[int, int] | None = None
    xpath: str | None = None  # HTML/DOCX element path
    image: str | None = None  # OCR: the picture bbox is in, e.g. "page 2 @200dpi" or an embedded image's name
    table: int | None = None  # index of the table block in the document
    row: int | None = None
    col: int | None = None


Scalar = int | float | str | None


class Value(BaseModel):
    """A cell of a statistical table or a fact stated in the narrative."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    value: Scalar = None
    raw: str | None = None
    state: State = State.NOT_FOUND
    provenance: Provenance | None = None
    method: Method | None = None
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    review: list[str] = Field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return bool(self.review)

    def flag(self, reason: str, confidence: float | None = None) -> None:
        """Ask for human review; a check may lower confidence but never edits ``value``."""
        if reason not in self.review:
            self.review = [*self.review, reason]
        if confidence is not None:
            self.confidence = min(self.confidence, confidence)
