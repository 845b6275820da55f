"""Map table 二 (proactive disclosure) rows by their labels."""

from __future__ import annotations

from ..schemas import Report, TemplateId
from ..schemas.template import DECIMAL_KEYS, SIGNED_COLUMNS, T2_ROWS, T2RowSpec
from .document import Cell, Document, Table
from .fill import missing, slot_value
from .labels import containment, norm
from .rows import RowRead, read_row, resolve_runs, value_region
from .split import Shape

_MIN_SIM = 0.8


def _find(label: str, tables: list[Table]) -> tuple[Table, int, list[Cell]] | None:
    want = norm(label)
    best: tuple[float, int, Table, int, list[Cell]] | None = None
    for t in tables:
        for i, cells in enumerate(t.rows):
            got = norm(value_region(cells)[0])
            if not got:
                continue
            sim = max(containment(want, got), containment(got, want) if len(got) >= 2 else 0.0)
            # Prefer the closest label, then the shortest (a header row mentions many labels).
            if sim >= _MIN_SIM and (best is None or (sim, -len(got)) > (best[0], best[1])):
                best = (sim, -len(got), t, i, cells)
    return None if best is None else (best[2], best[3], best[4])


def _shape(spec: T2RowSpec) -> Shape:
    """No relation ties a row of table 二 together: only its cells' kinds and number."""
    cols = spec.columns
    return Shape(
        len(cols),
        signed=frozenset(j for j, c in enumerate(cols) if c in SIGNED_COLUMNS),
        decimal=frozenset(j for j, c in enumerate(cols) if f"t2.{spec.key}.{c}" in DECIMAL_KEYS),
    )


def map_t2(doc: Document, tables: list[Table], template: TemplateId, report: Report, why_missing: str) -> None:
    specs = T2_ROWS[template]
    found = [_find(spec.label, tables) if tables else None for spec in specs]
    reads: list[RowRead | None] = [read_row(f[2], len(spec.columns)) if f is not None else None for spec, f in zip(specs, found)]
    # Glued rows of one shape are cut together, so that a row showing the table leaves
    # cells empty keeps a length from pinning the others.
    resolve_runs(reads, [_shape(spec) for spec in specs])
    for spec, hit, read in zip(specs, found, reads):
        if hit is None or read is None:
            reason = why_missing if not tables else f"row '{spec.label}' not found in table 二"
            for col in spec.columns:
                report.set(f"t2.{spec.key}.{col}", missing(doc, reason))
            continue
        table, index, _ = hit
        for col, slot in zip(spec.columns, read.slots):
            report.set(f"t2.{spec.key}.{col}", slot_value(doc, slot, table, index))
