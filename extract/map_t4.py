"""Map table 四 (administrative review and litigation): three groups of five columns."""

from __future__ import annotations

from ..schemas import Report, State
from ..schemas.template import T4_COLUMNS, T4_GROUPS
from .document import Cell, Document, Table
from .fill import missing, slot_value
from .labels import containment, norm
from .numbers import parse_cell
from .rows import grouped_relation, read_row, resolve_runs, row_sum_relation, value_region
from .split import Shape

_WIDTH = len(T4_COLUMNS)


def _data_rows(tables: list[Table]) -> list[tuple[Table, int, list[Cell]]]:
    out = []
    for t in tables:
        for i, cells in enumerate(t.rows):
            _, region = value_region(cells)
            if any((p := parse_cell(c.text)) is not None and p.state is not State.BLANK for _, c in region):
                out.append((t, i, cells))
    return out


def map_t4(doc: Document, tables: list[Table], report: Report, why_missing: str) -> None:
    keys = [[f"t4.{g}.{c}" for c, _ in T4_COLUMNS] for g, _ in T4_GROUPS]
    rows = _data_rows(tables)
    if len(rows) == 1:
        table, index, cells = rows[0]
        read = read_row(cells, _WIDTH * len(T4_GROUPS), relation=grouped_relation(len(T4_GROUPS), _WIDTH))
        resolve_runs([read], Shape(_WIDTH * len(T4_GROUPS), groups=len(T4_GROUPS)))
        for key, slot in zip([k for g in keys for k in g], read.slots):
            report.set(key, slot_value(doc, slot, table, index))
        return
    if len(rows) == len(T4_GROUPS):
        # One row per group; use the row labels when they name the groups.
        labels = [norm(value_region(cells)[0]) for _, _, cells in rows]
        order = list(range(len(rows)))
        named = [max(range(len(T4_GROUPS)), key=lambda g: containment(norm(T4_GROUPS[g][1]), lab)) for lab in labels]
        if all(labels) and sorted(named) == order:
            order = named
        reads = [read_row(cells, _WIDTH, relation=row_sum_relation(_WIDTH - 1)) for _, _, cells in rows]
        resolve_runs(reads, Shape(_WIDTH, groups=1))
        for (table, index, _), g, read in zip(rows, order, reads):
            for key, slot in zip(keys[g], read.slots):
                report.set(key, slot_value(doc, slot, table, index))
        return
    reason = why_missing if not tables else f"table 四 has {len(rows)} rows of values; expected 1 or 3"
    for key in (k for g in keys for k in g):
        report.set(key, missing(doc, reason))
