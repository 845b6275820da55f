"""A report's table as a grid of its current values, for the review page to show and edit."""

from __future__ import annotations

from dataclasses import dataclass

from ..schemas.template import T2_ROWS, T3_COLUMNS, T3_ROWS, T4_COLUMNS, T4_GROUPS
from ..store import FieldView, ReportView

# The table a key belongs to, and its name on the page.
TABLE_NAMES = {"t2": "表二 主动公开", "t3": "表三 依申请公开", "t4": "表四 复议/诉讼"}


@dataclass(frozen=True)
class GridCell:
    key: str
    text: str  # the current value as a reviewer types it ('' blank, '/' dash)
    flagged: bool
    failing: bool  # in a relation that fails now
    corrected: bool


@dataclass(frozen=True)
class GridRow:
    label: str
    cells: list[GridCell | None]  # None: the template has no such cell in this row


@dataclass(frozen=True)
class Grid:
    table: str
    name: str
    columns: list[str]
    rows: list[GridRow]


def cell_text(field: FieldView) -> str:
    """What the grid's input shows: the number, '' for blank, '/' for a dash, '' for nothing found."""
    if field.state == "dash":
        return "/"
    if field.value is None:
        return ""
    return f"{field.value:g}" if isinstance(field.value, float) else str(field.value)


def table_of(key: str) -> str | None:
    prefix = key.split(".", 1)[0]
    return prefix if prefix in TABLE_NAMES else None


def grid(report: ReportView, table: str) -> Grid | None:
    """The table's grid in template order; None for a report without that table's fields."""
    fields = {f.key: f for f in report.fields if f.key.startswith(f"{table}.")}
    if not fields:
        return None
    failing = {k for c in report.checks if c.outcome == "failed" for k in c.keys}
    layout = _layout(table, report.template or "2021")

    def cell(key: str) -> GridCell | None:
        f = fields.get(key)
        if f is None:
            return None
        return GridCell(key, cell_text(f), bool(f.flags) and not f.corrected, key in failing, f.corrected)

    columns, rows = layout
    return Grid(table, TABLE_NAMES[table], columns, [GridRow(label, [cell(k) for k in keys]) for label, keys in rows])


def _layout(table: str, template: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    if table == "t3":
        specs = T3_ROWS.get(template) or T3_ROWS["2021"]  # type: ignore[call-overload]
        return [label for _, label in T3_COLUMNS], [(s.label, [f"t3.{s.key}.{c}" for c, _ in T3_COLUMNS]) for s in specs]
    if table == "t4":
        columns = [f"{g}·{c}" for _, g in T4_GROUPS for _, c in T4_COLUMNS]
        return columns, [("", [f"t4.{g}.{c}" for g, _ in T4_GROUPS for c, _ in T4_COLUMNS])]
    specs2 = T2_ROWS.get(template) or T2_ROWS["2021"]  # type: ignore[call-overload]
    width = max(len(s.columns) for s in specs2)
    # Table 二's rows have their own columns (制发/废止/现行有效, 处理决定数量, 收费金额): numbered here,
    # each cell says its own column in its key.
    rows = [(s.label, [f"t2.{s.key}.{c}" for c in s.columns] + [""] * (width - len(s.columns))) for s in specs2]
    return [f"{i + 1}" for i in range(width)], rows
