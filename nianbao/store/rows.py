"""Between records and rows: a Record's report as ``fields`` and ``checks`` rows, and back to a Report."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..pipeline import Record
from ..schemas import TEMPLATES, CheckResult, Method, Provenance, Report, State, TemplateId, Value, flat_keys
from .risk import risk_rank
from .schema import dumps, loads

FIELD_COLUMNS = (
    "position", "key", "state", "value", "raw", "method", "confidence",
    "file", "page", "bbox", "span_start", "span_end", "xpath", "image", "table_index", "row_index", "col_index",
    "review", "flags", "risk",
)  # fmt: skip
CHECK_COLUMNS = ("origin", "current", "checked_at", "name", "relation", "outcome", "left", "right", "operands", "keys", "note")
HUMAN_CONFIDENCE = 1.0


@dataclass
class PreparedRecord:
    """A record serialised for the store before anything is written, so a record that
    cannot be serialised fails before the output files take it."""

    report: dict[str, Any]
    fields: list[tuple[Any, ...]] = field(default_factory=list)
    checks: list[tuple[Any, ...]] = field(default_factory=list)


def _meta_text(report: Report, key: str) -> Any:
    v = report.get(key)
    return v.value if v.state in (State.NUMBER, State.TEXT) else None


def field_row(position: int, key: str, v: Value) -> tuple[Any, ...]:
    p = v.provenance
    method = v.method.value if v.method else None
    return (
        position, key, v.state.value, dumps(v.value), v.raw, method, v.confidence,
        p.file if p else None, p.page if p else None, dumps(list(p.bbox)) if p and p.bbox else None,
        p.span[0] if p and p.span else None, p.span[1] if p and p.span else None,
        p.xpath if p else None, p.image if p else None, p.table if p else None, p.row if p else None, p.col if p else None,
        dumps(v.review), dumps(v.review), risk_rank(method, v.state.value, v.review),
    )  # fmt: skip


def check_row(c: CheckResult, origin: str, at: str) -> tuple[Any, ...]:
    return (origin, 1, at, c.name, c.relation, c.outcome.value, c.left, c.right, dumps(c.operands), dumps(c.keys), c.note)


def prepare(record: Record, at: str) -> PreparedRecord:
    report = record.report
    row: dict[str, Any] = {
        "source": record.source,
        "sha256": record.sha256,
        "status": record.status,
        "error": record.error,
        "error_stage": record.error_stage,
        "format": record.format,
        "encoding": record.encoding,
        "pages": record.pages,
        "seconds": record.seconds,
        "template": _meta_text(report, "meta.template") if report else None,
        "year": _meta_text(report, "meta.year") if report else None,
        "agency": _meta_text(report, "meta.agency") if report else None,
        "report_schema": report.schema_version if report else None,
        "llm": dumps(record.llm),
    }
    if report is None:
        return PreparedRecord(row)
    return PreparedRecord(row, [field_row(i, k, v) for i, (k, v) in enumerate(report.values())], [check_row(c, "machine", at) for c in report.checks])


def template_of(keys: Iterable[str]) -> TemplateId:
    """The template whose flat keys the stored fields are (table 二 and 三 differ)."""
    stored = set(keys)
    for t in TEMPLATES:
        if stored == set(flat_keys(t)):
            return t
    # A partial key set: the template with most of them.
    return max(TEMPLATES, key=lambda t: len(stored & set(flat_keys(t))))


def provenance(row: sqlite3.Row) -> Provenance | None:
    if row["file"] is None:
        return None
    span = (row["span_start"], row["span_end"]) if row["span_start"] is not None else None
    bbox = loads(row["bbox"])
    return Provenance(
        file=row["file"], page=row["page"], bbox=tuple(bbox) if bbox else None, span=span, xpath=row["xpath"],
        image=row["image"], table=row["table_index"], row=row["row_index"], col=row["col_index"],
    )  # fmt: skip


def current_value(row: sqlite3.Row) -> Value:
    """A current_fields row as a Value: the reviewer's value where corrected (method human), else the machine's.

    The review reasons are left out: checks re-run on this value add their own.
    """
    corrected = row["method"] == "human"
    method = Method.HUMAN if corrected else (Method(row["method"]) if row["method"] in Method._value2member_map_ else None)
    return Value(
        value=loads(row["value"]),
        raw=row["raw"],
        state=State(row["state"]),
        provenance=provenance(row),
        method=method,
        confidence=HUMAN_CONFIDENCE if corrected else row["confidence"],
    )


def rebuild_report(rows: list[sqlite3.Row]) -> Report:
    """A Report holding the current values of one report's current_fields rows."""
    report = Report.empty(template_of(r["key"] for r in rows))
    for row in rows:
        try:
            report.set(row["key"], current_value(row))
        except AttributeError:
            continue  # a key of the other template (a record read under a template it was not on)
    return report
