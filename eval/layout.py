"""A format-neutral layout of a report (paragraphs and span-aware tables) built from gold values.

The renderers turn it into HTML, DOCX or PDF with real libraries, so tests and the
evaluation corpus exercise the same backends users' files do.  Tables follow the
official templates' layout, merged cells included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schemas.template import T2_ROWS, T3_COLUMNS, T3_ROWS, T4_COLUMNS, T4_GROUPS, TemplateId

Gold = dict[str, Any]


@dataclass
class TCell:
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass
class TableSpec:
    kind: str  # t2, t3, t4
    rows: list[list[TCell]]
    n_cols: int


@dataclass
class Picture:
    """A table pasted as a screenshot: PNG bytes and the resolution they were made at."""

    name: str
    png: bytes
    dpi: int


@dataclass
class ReportLayout:
    title: str
    blocks: list[str | TableSpec | Picture] = field(default_factory=list)  # str = paragraph


def cell_text(value: Any) -> str:
    """Gold value as a report would print it: blank stays blank, numbers as written."""
    if isinstance(value, dict) and "any_of" in value:
        value = value["any_of"][0]
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


_T2_SECTIONS_2021 = (
    ("第二十条第（一）项", ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"), ("rules", "normative")),
    ("第二十条第（五）项", ("信息内容", "本年处理决定数量"), ("licensing",)),
    ("第二十条第（六）项", ("信息内容", "本年处理决定数量"), ("penalty", "coercion")),
    ("第二十条第（八）项", ("信息内容", "本年收费金额（单位：万元）"), ("fees",)),
)
_T2_SECTIONS_2019 = (
    ("第二十条第（一）项", ("信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"), ("rules", "normative")),
    ("第二十条第（五）项", ("信息内容", "上一年项目数量", "本年增/减", "处理决定数量"), ("licensing", "other_services")),
    ("第二十条第（六）项", ("信息内容", "上一年项目数量", "本年增/减", "处理决定数量"), ("penalty", "coercion")),
    ("第二十条第（八）项", ("信息内容", "上一年项目数量", "本年增/减"), ("fees",)),
    ("第二十条第（九）项", ("信息内容", "采购项目数量", "采购总金额"), ("procurement",)),
)
_T2_LABELS = {"2021": {"rules": "规章", "normative": "行政规范性文件"}, "2019": {"rules": "规章", "normative": "规范性文件"}}


def _shown(gold: Gold, key: str, display: dict[str, str] | None) -> TCell:
    """The cell as printed: a display override ('/', '—') where given, else the gold value."""
    if display and key in display:
        return TCell(display[key])
    return TCell(cell_text(gold.get(key)))


def table2(gold: Gold, template: TemplateId, display: dict[str, str] | None = None) -> TableSpec:
    specs = {r.key: r for r in T2_ROWS[template]}
    rows: list[list[TCell]] = []
    for heading, header, keys in _T2_SECTIONS_2021 if template == "2021" else _T2_SECTIONS_2019:
        rows.append([TCell(heading, colspan=4)])
        head = [TCell(h) for h in header]
        if len(header) < 4:
            head[-1].colspan = 4 - len(header) + 1
        rows.append(head)
        for key in keys:
            spec = specs[key]
            label = _T2_LABELS[template].get(key, spec.label)
            cells = [TCell(label)] + [_shown(gold, f"t2.{key}.{c}", display) for c in spec.columns]
            if len(cells) < 4:
                cells[-1].colspan = 4 - len(cells) + 1
            rows.append(cells)
    return TableSpec("t2", rows, 4)


_T3_LABELS = {
    "new": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "other.all": "（六）其他处理",
    "total": "（七）总计",
    "carried_forward": "四、结转下年度继续办理",
}
_T3_GROUPS = {"denied": "（三）不予公开", "unavailable": "（四）无法提供", "not_processed": "（五）不予处理", "other": "（六）其他处理"}


def table3(gold: Gold, template: TemplateId, display: dict[str, str] | None = None) -> TableSpec:
    specs = T3_ROWS[template]
    rows: list[list[TCell]] = [
        [TCell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3), TCell("申请人情况", colspan=7)],
        [TCell("自然人", rowspan=2), TCell("法人或其他组织", colspan=5), TCell("总计", rowspan=2)],
        [TCell(label) for _, label in T3_COLUMNS[1:6]],
    ]
    result_rows = [s for s in specs if s.key not in ("new", "carried_over", "carried_forward")]
    group_sizes: dict[str, int] = {}
    for s in specs:
        if "." in s.key and s.key != "other.all":
            group_sizes[s.key.split(".")[0]] = group_sizes.get(s.key.split(".")[0], 0) + 1
    started: set[str] = set()
    for s in specs:
        values = [_shown(gold, f"t3.{s.key}.{c}", display) for c, _ in T3_COLUMNS]
        if s.key in ("new", "carried_over", "carried_forward"):
            rows.append([TCell(_T3_LABELS[s.key], colspan=3), *values])
            continue
        lead: list[TCell] = []
        if s is result_rows[0]:
            lead.append(TCell("三、本年度办理结果", rowspan=len(result_rows)))
        group = s.key.split(".")[0]
        if s.key in _T3_LABELS:
            lead.append(TCell(_T3_LABELS[s.key], colspan=2))
        else:
            if group not in started:
                started.add(group)
                lead.append(TCell(_T3_GROUPS[group], rowspan=group_sizes[group]))
            lead.append(TCell(f"{s.ordinal}．{_full_label(s.key, s.label)}"))
        rows.append([*lead, *values])
    return TableSpec("t3", rows, 10)


_FULL = {
    "denied.security_stability": "危及“三安全一稳定”",
    "other.no_correction": "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other.fee_unpaid": "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
}


def _full_label(key: str, label: str) -> str:
    return _FULL.get(key, label)


def table4(gold: Gold, display: dict[str, str] | None = None) -> TableSpec:
    sub = [TCell(label) for _, label in T4_COLUMNS]
    rows = [
        [TCell("行政复议", colspan=5), TCell("行政诉讼", colspan=10)],
        [*(TCell(label, rowspan=2) for _, label in T4_COLUMNS), TCell("未经复议直接起诉", colspan=5), TCell("复议后起诉", colspan=5)],
        [*sub, *(TCell(c.text) for c in sub)],
        [_shown(gold, f"t4.{g}.{c}", display) for g, _ in T4_GROUPS for c, _ in T4_COLUMNS],
    ]
    return TableSpec("t4", rows, 15)


def tables_for(gold: Gold, template: TemplateId, display: dict[str, str] | None = None) -> dict[str, TableSpec]:
    return {"t2": table2(gold, template, display), "t3": table3(gold, template, display), "t4": table4(gold, display)}


def placed(spec: TableSpec) -> list[tuple[int, int, TCell]]:
    """(row, col, cell) of every cell at its top-left grid position, spans accounted for."""
    out = []
    taken: set[tuple[int, int]] = set()
    for r, row in enumerate(spec.rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            taken.update((r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
            out.append((r, c, cell))
            c += cell.colspan
    return out


def spans(spec: TableSpec) -> list[tuple[int, int, int, int]]:
    """(row, col, rowspan, colspan) of every merged cell."""
    return [(r, c, cell.rowspan, cell.colspan) for r, c, cell in placed(spec) if cell.rowspan > 1 or cell.colspan > 1]
