"""source → document model → template mapping → schema → checks → record."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from . import checks
from .extract.document import Document, ExtractionError, Image
from .extract.load import load
from .extract.locate import TABLE_SECTIONS, Layout, locate
from .extract.map_t2 import map_t2
from .extract.map_t3 import map_t3
from .extract.map_t4 import map_t4
from .extract.meta import agency_and_year, template as detect_template
from .extract.narrative import narrative_facts
from .extract.ocr.regions import ocr_document
from .schemas import Report, State


class Record(BaseModel):
    """What the toolkit says about one input file."""

    model_config = ConfigDict(extra="forbid")

    source: str
    sha256: str | None = None
    status: Literal["ok", "error"]
    error: str | None = None
    format: str | None = None
    encoding: str | None = None
    pages: int | None = None
    seconds: float | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    review: dict[str, str] = Field(default_factory=dict)
    # With an LLM configured: model, prompt versions, schema version, calls, tokens, cost, seconds.
    llm: dict[str, Any] | None = None
    report: Report | None = None


_TABLE_NAMES = {"t2": "二", "t3": "三", "t4": "四"}


def _why_missing(kind: str, layout: Layout, doc: Document) -> str:
    section = TABLE_SECTIONS[kind]
    if layout.images.get(section):
        names = ", ".join(i.name or "image" for i in layout.images[section][:3])
        return f"table {_TABLE_NAMES[kind]} is present only as an image ({names}); needs OCR or a human"
    if not layout.sections and any(isinstance(b, Image) for b in doc.blocks):
        return f"table {_TABLE_NAMES[kind]} not found; the document has images that may hold it"
    return f"table {_TABLE_NAMES[kind]} not found"


def _check_is_report(doc: Document, layout: Layout) -> None:
    if layout.tables or len(layout.sections) >= 2:
        return
    if "信息公开" in doc.text and "年度报告" in doc.text:
        return
    raise ExtractionError("not a government information disclosure annual report (no template sections or tables found)")


def _mark_ocr_text(report: Report, doc: Document) -> None:
    """Where OCR'd page text may have hidden a fact, ask a human to look at the pages."""
    if not any(p.loc.image for p in doc.paragraphs):
        return
    for key, v in report.values():
        if key.startswith(("meta.", "s1.", "s6.")) and v.state is State.NOT_FOUND and not v.flagged:
            v.flag("not found in the OCR'd page text; check the page images")


def build_report(doc: Document, *, run_checks: bool = True) -> Report:
    layout = locate(doc)
    _check_is_report(doc, layout)
    agency, year = agency_and_year(doc)
    year_num = year.value if year.state is State.NUMBER else None
    tmpl = detect_template(doc, layout, year)
    template_id = tmpl.value if tmpl.value in ("2019", "2021") else "2021"
    report = Report.empty(template_id)  # type: ignore[arg-type]
    report.meta.agency, report.meta.year, report.meta.template = agency, year, tmpl
    map_t2(doc, layout.tables.get("t2", []), template_id, report, _why_missing("t2", layout, doc))  # type: ignore[arg-type]
    map_t3(doc, layout.tables.get("t3", []), template_id, report, _why_missing("t3", layout, doc))  # type: ignore[arg-type]
    map_t4(doc, layout.tables.get("t4", []), report, _why_missing("t4", layout, doc))
    for key, value in narrative_facts(doc, layout, year_num).items():  # type: ignore[arg-type]
        report.set(key, value)
    _mark_ocr_text(report, doc)
    if run_checks:
        checks.run_checks(report, doc)
    return report


@dataclass
class Extraction:
    """A file read by the rules, before or after checks: what an LLM pass works on."""

    source: str
    started: float
    sha256: str | None = None
    doc: Document | None = None
    report: Report | None = None
    error: str | None = None


def read_file(path: Path, source: str | None = None, *, run_checks: bool = True) -> Extraction:
    """Load, OCR where needed and map one file.  Never raises for a bad input."""
    ex = Extraction(source=source or str(path), started=time.perf_counter())
    try:
        ex.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        ex.doc = load(path, ex.source)
        ocr_document(ex.doc)
        ex.report = build_report(ex.doc, run_checks=run_checks)
    except ExtractionError as exc:
        ex.error = str(exc)
    except OSError as exc:
        ex.error = f"cannot read file: {exc}"
    return ex


def to_record(ex: Extraction, llm: dict[str, Any] | None = None) -> Record:
    seconds = time.perf_counter() - ex.started
    if ex.error is not None or ex.doc is None or ex.report is None:
        return Record(source=ex.source, sha256=ex.sha256, status="error", error=ex.error or "not read", seconds=seconds, llm=llm)
    doc, report = ex.doc, ex.report
    return Record(
        source=ex.source,
        sha256=ex.sha256,
        status="ok",
        format=doc.format,
        encoding=doc.encoding,
        pages=doc.pages,
        seconds=seconds,
        fields=report.to_flat(),
        review=report.review(),
        llm=llm,
        report=report,
    )


def extract_file(path: Path, source: str | None = None) -> Record:
    """Extract one file with the rules (and OCR) only.  Never raises for a bad input."""
    return to_record(read_file(path, source))
