"""The two statutory report templates as data: rows, columns and their labels.

Everything that knows the shape of a report (the pydantic models, the table
mappers, the checks, the flat keys) reads it from here, so a template change is
one edit.  Labels are the distinctive part of the template's wording; the
mapper matches them fuzzily against what a document actually says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TemplateId = Literal["2019", "2021"]
TEMPLATES: tuple[TemplateId, ...] = ("2019", "2021")


@dataclass(frozen=True)
class RowSpec:
    key: str  # dotted key below the table prefix, e.g. "denied.state_secret"
    label: str  # distinctive wording used to recognise the row
    ordinal: str | None = None  # "1".."8" inside a group, None for group rows


# ---- Table 三: applications -------------------------------------------------

T3_COLUMNS: tuple[tuple[str, str], ...] = (
    ("natural_person", "自然人"),
    ("commercial", "商业企业"),
    ("research", "科研机构"),
    ("nonprofit", "社会公益组织"),
    ("legal_services", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
)
T3_DETAIL_COLUMNS = tuple(c for c, _ in T3_COLUMNS if c != "total")

_T3_HEAD = (
    RowSpec("new", "本年新收政府信息公开申请数量"),
    RowSpec("carried_over", "上年结转政府信息公开申请数量"),
    RowSpec("granted", "予以公开"),
    RowSpec("partial", "部分公开"),
    RowSpec("denied.state_secret", "属于国家秘密", "1"),
    RowSpec("denied.prohibited_by_law", "其他法律行政法规禁止公开", "2"),
    RowSpec("denied.security_stability", "危及三安全一稳定", "3"),
    RowSpec("denied.third_party", "保护第三方合法权益", "4"),
    RowSpec("denied.internal_affairs", "属于三类内部事务信息", "5"),
    RowSpec("denied.process_info", "属于四类过程性信息", "6"),
    RowSpec("denied.enforcement_files", "属于行政执法案卷", "7"),
    RowSpec("denied.admin_query", "属于行政查询事项", "8"),
    RowSpec("unavailable.not_held", "本机关不掌握相关政府信息", "1"),
    RowSpec("unavailable.needs_creation", "没有现成信息需要另行制作", "2"),
    RowSpec("unavailable.unclear", "补正后申请内容仍不明确", "3"),
    RowSpec("not_processed.complaint", "信访举报投诉类申请", "1"),
    RowSpec("not_processed.duplicate", "重复申请", "2"),
    RowSpec("not_processed.publication", "要求提供公开出版物", "3"),
    RowSpec("not_processed.excessive", "无正当理由大量反复申请", "4"),
    RowSpec("not_processed.confirmation", "要求行政机关确认或重新出具已获取信息", "5"),
)
_T3_TAIL = (
    RowSpec("total", "总计"),
    RowSpec("carried_forward", "结转下年度继续办理"),
)
T3_ROWS: dict[TemplateId, tuple[RowSpec, ...]] = {
    "2021": (*_T3_HEAD, RowSpec("other.no_correction", "申请人无正当理由逾期不补正行政机关不再处理", "1"), RowSpec("other.fee_unpaid", "申请人逾期未按收费通知要求缴纳费用", "2"), RowSpec("other.other", "其他", "3"), *_T3_TAIL),
    "2019": (*_T3_HEAD, RowSpec("other.all", "其他处理"), *_T3_TAIL),
}
# Rows whose sum is the 总计 row (per column).
T3_RESULT_ROWS: dict[TemplateId, tuple[str, ...]] = {
    t: tuple(r.key for r in rows if r.key not in ("new", "carried_over", "total", "carried_forward"))
    for t, rows in T3_ROWS.items()
}

# ---- Table 四: administrative review and litigation --------------------------

T4_GROUPS: tuple[tuple[str, str], ...] = (
    ("review", "行政复议"),
    ("suit_direct", "未经复议直接起诉"),
    ("suit_after_review", "复议后起诉"),
)
T4_COLUMNS: tuple[tuple[str, str], ...] = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)


# ---- Table 二: proactive disclosure ------------------------------------------


@dataclass(frozen=True)
class T2RowSpec:
    key: str
    label: str
    columns: tuple[str, ...]
    integer: bool = True  # fees and procurement amounts are decimals


T2_ROWS: dict[TemplateId, tuple[T2RowSpec, ...]] = {
    "2021": (
        T2RowSpec("rules", "规章", ("issued", "repealed", "in_force")),
        T2RowSpec("normative", "行政规范性文件", ("issued", "repealed", "in_force")),
        T2RowSpec("licensing", "行政许可", ("decisions",)),
        T2RowSpec("penalty", "行政处罚", ("decisions",)),
        T2RowSpec("coercion", "行政强制", ("decisions",)),
        T2RowSpec("fees", "行政事业性收费", ("amount",), integer=False),
    ),
    "2019": (
        T2RowSpec("rules", "规章", ("made", "published", "public_total")),
        T2RowSpec("normative", "规范性文件", ("made", "published", "public_total")),
        T2RowSpec("licensing", "行政许可", ("prev_items", "change", "decisions")),
        T2RowSpec("other_services", "其他对外管理服务事项", ("prev_items", "change", "decisions")),
        T2RowSpec("penalty", "行政处罚", ("prev_items", "change", "decisions")),
        T2RowSpec("coercion", "行政强制", ("prev_items", "change", "decisions")),
        T2RowSpec("fees", "行政事业性收费", ("prev_items", "change")),
        T2RowSpec("procurement", "政府集中采购", ("items", "amount")),
    ),
}

# Keys whose values are decimals rather than counts, and the 2019 "本年增/减"
# column, which may be negative.
DECIMAL_KEYS = frozenset({"t2.fees.amount", "t2.procurement.amount"})
SIGNED_COLUMNS = frozenset({"change"})


def t2_keys(template: TemplateId) -> list[str]:
    return [f"t2.{r.key}.{c}" for r in T2_ROWS[template] for c in r.columns]


def t3_keys(template: TemplateId) -> list[str]:
    return [f"t3.{r.key}.{c}" for r in T3_ROWS[template] for c, _ in T3_COLUMNS]


def t4_keys() -> list[str]:
    return [f"t4.{g}.{c}" for g, _ in T4_GROUPS for c, _ in T4_COLUMNS]


# ---- Wording that places things ----------------------------------------------
# Section headings 一 to 六 and the words of each title (either may be shortened).
SECTION_TITLES: dict[int, tuple[str, ...]] = {
    1: ("总体情况",),
    2: ("主动公开政府信息",),
    3: ("收到和处理政府信息公开申请",),
    4: ("行政复议", "行政诉讼"),
    5: ("存在的主要问题", "改进情况"),
    6: ("其他需要报告的事项", "其他事项"),
}
# Words that mark each table; a table is the kind whose words it contains most.
TABLE_MARKERS: dict[str, tuple[str, ...]] = {
    "t2": ("第二十条", "信息内容", "规章", "规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费", "本年制发件数", "本年处理决定数量", "上一年项目数量"),
    "t3": ("申请人情况", "自然人", "本年新收", "上年结转", "予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "结转下年度"),
    "t4": ("行政复议", "行政诉讼", "结果维持", "结果纠正", "尚未审结", "未经复议直接起诉", "复议后起诉"),
}
# Words only a table's first (header) row carries: a part without them continues a table.
TABLE_HEADER_WORDS = ("申请人情况", "信息内容", "行政复议")
# Column and row wording found only in one template's tables 二 and 三.
TEMPLATE_MARKERS: dict[TemplateId, tuple[str, ...]] = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额", "逾期不补正", "缴纳费用"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "政府集中采购", "采购总金额"),
}
TABLE_SECTIONS = {"t2": 2, "t3": 3, "t4": 4}


META_KEYS = ("meta.agency", "meta.year", "meta.template")
NARRATIVE_KEYS = (
    "s1.proactive_count",
    "s1.applications_received",
    "s6.processing_fee_yuan",
    "s6.npc_suggestions",
    "s6.cppcc_proposals",
)


def flat_keys(template: TemplateId) -> list[str]:
    """Every canonical key of fields.md for a report on ``template``, in order."""
    return [*META_KEYS, *t2_keys(template), *t3_keys(template), *t4_keys(), *NARRATIVE_KEYS]
