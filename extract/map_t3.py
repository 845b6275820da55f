"""Map table 三 (applications) onto its template rows by label, in template order."""

from __future__ import annotations

from dataclasses import dataclass

from ..schemas import Report, State, TemplateId
from ..schemas.relations import t3_relations
from ..schemas.template import T3_COLUMNS, T3_ROWS, RowSpec
from .document import Cell, Document, Paragraph, Table
from .fill import missing, slot_value
from .labels import containment, leading_ordinal, norm
from .locate import heading_number
from .numbers import parse_cell
from .rows import RowRead, Slot, read_row, resolve_runs, row_sum_relation, value_region
from .split import Equation, Shape

_MIN_SIM = 0.6
_RELATION = row_sum_relation(len(T3_COLUMNS) - 1)
# Glued rows: seven cells, the last the sum of the six.
_SHAPE = Shape(len(T3_COLUMNS), groups=1)


def equations(template: TemplateId) -> list[Equation]:
    """Table 三's column relations (schemas.relations) over (row index, column index).

    Each row's own 总计 relation is left out: the row cutter applies it inside a row.
    """
    rows = {spec.key: k for k, spec in enumerate(T3_ROWS[template])}
    cols = {c: j for j, (c, _) in enumerate(T3_COLUMNS)}
    out = []
    for rel in t3_relations(template, ()):
        terms = []
        for sign, keys in ((1, rel.left), (-1, rel.right)):
            for key in keys:
                row, col = key.removeprefix("t3.").rsplit(".", 1)
                terms.append((rows[row], cols[col], sign))
        out.append(Equation(rel.name, tuple(terms)))
    return out


_EQUATIONS = {t: equations(t) for t in T3_ROWS}


@dataclass
class _Row:
    table: Table
    index: int
    cells: list[Cell]
    label: str
    context: str  # label plus the label-only lines that continue it
    has_values: bool


def _rows(tables: list[Table]) -> list[_Row]:
    rows: list[_Row] = []
    for t in tables:
        for i, cells in enumerate(t.rows):
            label, region = value_region(cells)
            has_values = any(c.run or ((p := parse_cell(c.text)) is not None and p.state is not State.BLANK) for _, c in region)
            rows.append(_Row(t, i, cells, label, norm(label), has_values))
    # A label-only line that does not start a new numbered item continues the
    # label of the row above it (labels wrapped over lines in text exports).
    for k in range(len(rows) - 1, 0, -1):
        r = rows[k]
        if not r.has_values and r.label and leading_ordinal(r.label) is None:
            prev = rows[k - 1]
            prev.context += r.context
    return rows


def _score(spec: RowSpec, label: str, row: _Row) -> float:
    sim = containment(label, row.context)
    if sim < _MIN_SIM:
        return 0.0
    bonus = 0.3 if row.has_values else 0.0
    if spec.ordinal and spec.ordinal in row.label:
        bonus += 0.05
    return sim + bonus


def align(specs: tuple[RowSpec, ...], rows: list[_Row]) -> dict[int, _Row]:
    """Order-preserving best match of template rows to document rows (a small LCS-style DP)."""
    n, m = len(specs), len(rows)
    labels = [norm(s.label) for s in specs]
    score = [[_score(specs[i], labels[i], rows[j]) for j in range(m)] for i in range(n)]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = score[i][j]
            take = s + best[i + 1][j + 1] if s > 0 else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out: dict[int, _Row] = {}
    i = j = 0
    while i < n and j < m:
        s = score[i][j]
        if s > 0 and abs(best[i][j] - (s + best[i + 1][j + 1])) < 1e-9:
            out[i] = rows[j]
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


# What may follow a table cut off by the end of an excerpt: page furniture (打印本页,
# 关闭窗口, footers), not prose or another part of the report.
_FURNITURE_CHARS = 80


def _cut_off(doc: Document, row: _Row) -> bool:
    """The row ends the text's last table and only page furniture follows: the excerpt may end inside it."""
    if row.index != len(row.table.rows) - 1:
        return False
    at = next((k for k, b in enumerate(doc.blocks) if b is row.table), None)
    if at is None:
        return False
    after = doc.blocks[at + 1 :]
    return all(isinstance(b, Paragraph) and len(b.text) <= _FURNITURE_CHARS and heading_number(b.text) is None for b in after)


def _incomplete(slots: list[Slot]) -> bool:
    """Some cell has no reading, or the row's last cells are empty after values: the cut took them."""
    if any(slot.parsed is None or slot.inferred or slot.note for slot in slots):
        return True
    states = [slot.parsed.state for slot in slots if slot.parsed is not None]
    return bool(states) and states[-1] is State.BLANK and any(st is not State.BLANK for st in states)


def _without_next_ordinal(row: _Row, following: RowSpec) -> RowRead | None:
    """The row read without its last cell when that cell is the next row's ordinal and the
    rest is a whole row whose 总计 holds."""
    _, region = value_region(row.cells)
    if not region or not following.ordinal or region[-1][1].text.strip().rstrip(".．、") != following.ordinal:
        return None
    last = region[-1][1]
    read = read_row([c for c in row.cells if c is not last], len(T3_COLUMNS), relation=_RELATION)
    values = [s.parsed.value if s.parsed is not None and s.parsed.state is State.NUMBER else None for s in read.slots]
    if _incomplete(read.slots) or _RELATION(values) is not True:
        return None
    return read


def map_t3(doc: Document, tables: list[Table], template: TemplateId, report: Report, why_missing: str) -> None:
    specs = T3_ROWS[template]
    matched = align(specs, _rows(tables)) if tables else {}
    reads: list[RowRead | None] = [read_row(matched[k].cells, len(T3_COLUMNS), relation=_RELATION) if k in matched else None for k in range(len(specs))]
    # Rows that came as glued text are cut all together, under the column relations too.
    resolve_runs(reads, _SHAPE, _EQUATIONS[template])
    for k, spec in enumerate(specs):
        row = matched.get(k)
        read = reads[k]
        if row is None or read is None:
            reason = why_missing if not tables else f"row '{spec.label}' not found in table 三"
            for col, _ in T3_COLUMNS:
                report.set(f"t3.{spec.key}.{col}", missing(doc, reason))
            continue
        if _cut_off(doc, row) and _incomplete(read.slots) and k + 1 < len(specs):
            # "…属于国家秘密 0 0 0 0 0 0 0 2": the excerpt ends at the next row's ordinal.
            read = _without_next_ordinal(row, specs[k + 1]) or read
        if _cut_off(doc, row) and _incomplete(read.slots):
            # The text ends inside this row (a page excerpt): what follows the cut is unknown,
            # so nothing of the row is read, however its visible cells would fit.
            for col, _ in T3_COLUMNS:
                report.set(f"t3.{spec.key}.{col}", missing(doc, f"row '{spec.label}' is cut off where the text ends"))
            continue
        for (col, _), slot in zip(T3_COLUMNS, read.slots):
            report.set(f"t3.{spec.key}.{col}", slot_value(doc, slot, row.table, row.index))
