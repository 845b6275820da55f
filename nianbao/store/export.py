"""The corrected dataset out of the store: long-form JSONL, CSV and Parquet, and gold files.

A row per field of every report that was read: its current value (the latest
correction, else the machine's), state, raw text, method (``human`` where a
reviewer changed it), confidence (1.0 for a reviewer's value), where it came from,
the reasons that still stand, and the report's review state.  The machine's value
and state are kept beside a changed one.  Files that could not be read have no
fields and no rows.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..outputs import spreadsheet_safe
from ..schemas.template import TABLE_SECTIONS
from .review import ResultsStore
from .schema import StoreError, loads

EXPORT_COLUMNS = (
    "source", "sha256", "review_state", "key", "value", "number", "state", "raw", "method", "confidence",
    "corrected", "machine_value", "machine_state", "reviewer", "corrected_at", "why",
    "file", "page", "bbox", "span", "xpath", "image", "flags",
)  # fmt: skip
FORMATS = ("jsonl", "csv", "parquet")
# Cells from the document (or a file name) that a spreadsheet could run as a formula.
_GUARDED = frozenset({"source", "value", "raw", "machine_value", "why", "file", "xpath", "image", "flags", "reviewer"})
TABLE_PREFIXES = tuple(TABLE_SECTIONS)  # t2, t3, t4: a whole table may be absent from a document


def value_text(value: Any) -> str | None:
    """A value as text (CSV, Parquet): numbers as JSON writes them, text as it is."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _number(value: Any, state: str) -> float | None:
    return float(value) if state == "number" and isinstance(value, (int, float)) and not isinstance(value, bool) else None


def rows(store: ResultsStore) -> Iterator[dict[str, Any]]:
    """The export's rows, typed (value as JSON has it; bbox, span and flags as lists)."""
    sql = """SELECT f.*, r.sha256 FROM current_fields f JOIN reports r ON r.id = f.report_id
             WHERE r.status = 'ok' ORDER BY f.report_id, f.position"""
    for row in store.conn.execute(sql):
        yield _row(row)


def _row(row: sqlite3.Row) -> dict[str, Any]:
    value, machine_value = loads(row["value"]), loads(row["machine_value"])
    corrected = row["correction_id"] is not None
    changed = corrected and (row["state"], value) != (row["machine_state"], machine_value)
    return {
        "source": row["source"],
        "sha256": row["sha256"],
        "review_state": row["review_state"],
        "key": row["key"],
        "value": value,
        "number": _number(value, row["state"]),
        "state": row["state"],
        "raw": row["raw"],
        "method": row["method"],
        "confidence": row["confidence"],
        "corrected": changed,
        "machine_value": machine_value if changed else None,
        "machine_state": row["machine_state"] if changed else None,
        "reviewer": row["reviewer"],
        "corrected_at": row["corrected_at"],
        "why": row["why"],
        "file": row["file"],
        "page": row["page"],
        "bbox": loads(row["bbox"]),
        "span": [row["span_start"], row["span_end"]] if row["span_start"] is not None else None,
        "xpath": row["xpath"],
        "image": row["image"],
        "flags": loads(row["flags"]),
    }


def export(store: ResultsStore, fmt: str, out: Path) -> int:
    """Write the corrected dataset as ``fmt`` to ``out``; returns the number of rows."""
    if fmt not in FORMATS:
        raise StoreError(f"export format {fmt!r}: use one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed into place: a reader never sees half an export.
    tmp = out.with_name(out.name + ".part")
    try:
        n = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[fmt](rows(store), tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _jsonl(items: Iterator[dict[str, Any]], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
            n += 1
    return n


def _flat_cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name == "bbox":
        return " ".join(f"{c:g}" for c in value)
    if name == "span":
        return f"{value[0]}-{value[1]}"
    if name == "flags":
        value = "; ".join(value)
    elif name in ("value", "machine_value"):
        value = value_text(value)
    elif isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_safe(value) if name in _GUARDED and isinstance(value, str) else value


def _csv(items: Iterator[dict[str, Any]], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(EXPORT_COLUMNS)
        for item in items:
            w.writerow([_flat_cell(c, item[c]) for c in EXPORT_COLUMNS])
            n += 1
    return n


def parquet_schema() -> Any:
    import pyarrow as pa

    text = pa.string()
    types = {
        "page": pa.int64(), "number": pa.float64(), "confidence": pa.float64(), "corrected": pa.bool_(),
        "bbox": pa.list_(pa.float64()), "span": pa.list_(pa.int64()), "flags": pa.list_(pa.string()),
    }  # fmt: skip
    return pa.schema([(c, types.get(c, text)) for c in EXPORT_COLUMNS])


def _parquet(items: Iterator[dict[str, Any]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    batch_rows = 50_000  # a batch of rows at a time: a large store is never held whole
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        chunk: list[dict[str, Any]] = []
        for item in items:
            # Parquet columns have one type: value and machine_value as text, ``number`` for sums.
            chunk.append({**item, "value": value_text(item["value"]), "machine_value": value_text(item["machine_value"])})
            if len(chunk) >= batch_rows:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                n += len(chunk)
                chunk = []
        if chunk or n == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            n += len(chunk)
    return n


# ---- gold files ----------------------------------------------------------------


def gold_of(store: ResultsStore, report_id: int) -> dict[str, Any]:
    """A reviewed report as a gold file of spec/fields.md: its current values, ``null`` for a blank,
    a dash or a fact not stated, and each table with no value found at all as an ``absent`` prefix."""
    view = store.report(report_id)
    if view.status != "ok":
        raise StoreError(f"{view.source}: the file could not be read ({view.error}); nothing to promote")
    if view.review_state != "done":
        raise StoreError(f"{view.source} is {view.review_state.replace('_', ' ')}; mark it done when its review is finished, then promote it")
    absent = [p for p in TABLE_PREFIXES if (keys := [f for f in view.fields if f.key.startswith(p + ".")]) and all(f.state == "not_found" for f in keys)]
    fields = {f.key: f.value if f.state in ("number", "text") else None for f in view.fields if f.key.split(".", 1)[0] not in absent}
    corrections = store.corrections(report_id)
    reviewers = sorted({c.reviewer for c in corrections} | {e.reviewer for e in store.review_log(report_id)})
    changed = sum(f.changed for f in view.fields)
    notes = f"promoted from the results store: reviewed by {', '.join(reviewers) or 'nobody'}; {changed} of {len(view.fields)} values corrected, {len(corrections)} corrections"
    return {"source": Path(view.source).name, "fields": fields, "absent": absent, "notes": notes}


def promote(store: ResultsStore, source: str | int, gold_dir: Path) -> Path:
    """Write a fully reviewed report as ``GOLD_DIR/NAME.json``, named so ``nianbao eval`` pairs it
    with the report's records (the file's name without its extension, as the seeds' gold is)."""
    report_id = store.find(source)
    gold = gold_of(store, report_id)
    gold_dir.mkdir(parents=True, exist_ok=True)
    name = Path(gold["source"]).stem
    path = gold_dir / f"{name}.json"
    if path.exists() and json.loads(path.read_text(encoding="utf-8")).get("source") != gold["source"]:
        # Another document's gold has that name (000.txt and 000.html): keep both.
        path = gold_dir / f"{gold['source']}.json"
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
