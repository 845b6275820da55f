"""One file through the stages: source → document model → template mapping → schema → checks → record.

Each stage runs once per file, in the order of ``Stage``.  Whatever goes wrong
inside a stage becomes that file's error record, naming the stage and the cause;
the batch goes on.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from . import checks
from .extract.document import Document, ExtractionError, Image
from .extract.limits import Limits
from .extract.load import check_file, load, source_name
from .extract.locate import TABLE_SECTIONS, Layout, locate
from .extract.map_t2 import map_t2
from .extract.map_t3 import map_t3
from .extract.map_t4 import map_t4
from .extract.meta import agency_and_year
from .extract.meta import template as detect_template
from .extract.narrative import narrative_facts
from .extract.ocr.regions import ocr_document
from .schemas import Report, State, TemplateId


class Record(BaseModel):
    """What the toolkit says about one input file."""

    model_config = ConfigDict(extra="forbid")

    source: str
    sha256: str | None = None
    status: Literal["ok", "error"]
    error: str | None = None  # "stage: cause"
    error_stage: str | None = None  # load, ocr, locate, read, llm, checks or write
    format: str | None = None
    encoding: str | None = None
    pages: int | None = None
    seconds: float | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    review: dict[str, str] = Field(default_factory=dict)
    # With an LLM configured: model, prompt versions, schema version, calls, tokens, cost, seconds.
    llm: dict[str, Any] | None = None
    # Other paths whose bytes are the same file (duplicates in an archive, recorded once).
    also_at: list[str] = Field(default_factory=list)
    # The extractor fingerprint the record was made under (nianbao.engines.fingerprint): a
    # rerun into the same output folder skips a file whose sha256 and fingerprint match.
    fingerprint: str | None = None
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


# "…2024年度政府信息公开工作报告", "政府信息公开年度报告", titles broken over a line.
_REPORT_TITLE = re.compile(r"信息公开[^。\n]{0,8}报告|政府信息公开条例")


def _check_is_report(doc: Document, layout: Layout) -> None:
    """A page or fragment that carries one template table or section heading is a report (or part of one)."""
    if layout.tables or layout.sections:
        return
    if _REPORT_TITLE.search(doc.text):
        return
    raise ExtractionError("not a government information disclosure annual report (no template sections or tables found)")


def _mark_ocr_text(report: Report, doc: Document) -> None:
    """Where OCR'd page text may have hidden a fact, ask a human to look at the pages."""
    if not any(p.loc.image for p in doc.paragraphs):
        return
    for key, v in report.values():
        if key.startswith(("meta.", "s1.", "s6.")) and v.state is State.NOT_FOUND and not v.flagged:
            v.flag("not found in the OCR'd page text; check the page images")


class Stage(str, Enum):
    """The stages every file goes through, in this order, once each."""

    LOAD = "load"  # bytes → document model (format backends)
    OCR = "ocr"  # pictures → tables and text
    LOCATE = "locate"  # sections 一–六 and tables 二/三/四; is it a report at all?
    READ = "read"  # template mapping and narrative facts → Report
    LLM = "llm"  # optional grounded second reading
    CHECKS = "checks"  # 勾稽 relations and cross-checks (flag only)
    WRITE = "write"  # outputs


class StageError(Exception):
    """A file that failed in one stage; its message names the stage and the cause."""

    def __init__(self, stage: Stage, cause: str) -> None:
        super().__init__(f"{stage.value}: {cause}")
        self.stage, self.cause = stage, cause


def explain(exc: BaseException) -> str:
    """An exception in words a user understands (the file is the problem, not the toolkit)."""
    if isinstance(exc, ExtractionError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "ran out of memory reading this file"
    if isinstance(exc, RecursionError):
        return "the file is nested too deeply to read"
    if isinstance(exc, OSError):
        return f"cannot read file: {exc.strerror or exc}"
    if isinstance(exc, UnicodeError):
        return f"bad text encoding: {exc}"
    # Anything else is a bug met on this file; say so, and keep the batch going.
    return f"unexpected {type(exc).__name__}: {exc}"


@contextmanager
def stage(name: Stage) -> Iterator[None]:
    """Run one stage: whatever goes wrong inside becomes a StageError naming it."""
    try:
        yield
    except StageError:
        raise
    except Exception as exc:
        raise StageError(name, explain(exc)) from exc


def read_report(doc: Document, layout: Layout) -> Report:
    """The READ stage: meta, the three tables and the narrative facts, by the rules."""
    agency, year = agency_and_year(doc)
    year_num = year.value if year.state is State.NUMBER and isinstance(year.value, int) else None
    tmpl = detect_template(doc, layout, year)
    template_id: TemplateId = "2019" if tmpl.value == "2019" else "2021"
    report = Report.empty(template_id)
    report.meta.agency, report.meta.year, report.meta.template = agency, year, tmpl
    map_t2(doc, layout.tables.get("t2", []), template_id, report, _why_missing("t2", layout, doc))
    map_t3(doc, layout.tables.get("t3", []), template_id, report, _why_missing("t3", layout, doc))
    map_t4(doc, layout.tables.get("t4", []), report, _why_missing("t4", layout, doc))
    for key, value in narrative_facts(doc, layout, year_num).items():
        report.set(key, value)
    _mark_ocr_text(report, doc)
    return report


def build_report(doc: Document, *, run_checks: bool = True) -> Report:
    """LOCATE, READ and (by default) CHECKS over a loaded document, raising on the first failure."""
    layout = locate(doc)
    _check_is_report(doc, layout)
    report = read_report(doc, layout)
    if run_checks:
        checks.run_checks(report, doc)
    return report


@dataclass
class Extraction:
    """One file on its way through the stages: what each stage has made so far."""

    source: str
    started: float
    sha256: str | None = None
    doc: Document | None = None
    layout: Layout | None = None
    report: Report | None = None
    error: str | None = None
    error_stage: Stage | None = None
    llm: dict[str, Any] | None = None

    def fail(self, exc: StageError) -> None:
        self.error, self.error_stage = str(exc), exc.stage


def read_file(path: Path, source: str | None = None, *, limits: Limits | None = None, on_stage: Callable[[Stage], None] | None = None) -> Extraction:
    """LOAD, OCR, LOCATE and READ one file.  Never raises for a bad input: the error is recorded."""
    ex = Extraction(source=source or source_name(path), started=time.perf_counter())
    limits = limits or Limits.from_env()

    def enter(name: Stage) -> AbstractContextManager[None]:
        if on_stage is not None:
            on_stage(name)
        return stage(name)

    try:
        with enter(Stage.LOAD):
            check_file(path, limits)  # before hashing: never open a FIFO, never hash a refused giant
            ex.sha256 = file_sha256(path)
            ex.doc = load(path, ex.source, limits)
        with enter(Stage.OCR):
            ocr_document(ex.doc, limits=limits)
        with enter(Stage.LOCATE):
            ex.layout = locate(ex.doc)
            _check_is_report(ex.doc, ex.layout)
        with enter(Stage.READ):
            ex.report = read_report(ex.doc, ex.layout)
    except StageError as exc:
        ex.fail(exc)
    return ex


def check(ex: Extraction) -> Extraction:
    """The CHECKS stage, for a file that got through the earlier ones."""
    if ex.report is None or ex.doc is None or ex.error is not None:
        return ex
    try:
        with stage(Stage.CHECKS):
            checks.run_checks(ex.report, ex.doc)
    except StageError as exc:
        ex.fail(exc)
    return ex


def file_sha256(path: Path) -> str:
    """Hash in chunks: a file is never held whole just to name it."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def to_record(ex: Extraction) -> Record:
    seconds = round(time.perf_counter() - ex.started, 4)
    if ex.error is not None or ex.doc is None or ex.report is None:
        return Record(source=ex.source, sha256=ex.sha256, status="error", error=ex.error or "not read", error_stage=ex.error_stage.value if ex.error_stage else None, seconds=seconds, llm=ex.llm)
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
        llm=ex.llm,
        report=report,
    )


def extract_file(path: Path, source: str | None = None, *, limits: Limits | None = None) -> Record:
    """Every stage but the LLM, in this process.  Never raises for a bad input."""
    return to_record(check(read_file(path, source, limits=limits)))
