"""What a quote must talk about to ground a value: each field's wording, and its neighbours'.

A number grounds a field only where the wording nearest to it is that field's own
(``ground.py``).  So each field lists a few stems the source uses for it, and the
stems of the fields a number could belong to instead: the other narrative facts,
or the other rows of the same table.  Table rows take their template label and,
for long labels that exports break up, a few distinctive pieces of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ...schemas.template import T2_ROWS, T3_ROWS, T4_GROUPS, TemplateId

# Characters between a field's wording and its number in prose ("代表建议15件",
# "共收到依申请公开政府信息 3 件"); a number further off is about something else.
NEAR_CHARS = 20
# A table row's label comes first and its cells after it: the last of seven cells of a
# row with a parenthetical label sits this far after the label.
ROW_NEAR_CHARS = 60


@dataclass(frozen=True)
class Topic:
    """How the source speaks of one field."""

    words: tuple[str, ...]  # its own stems; one must be the wording nearest to the number
    rivals: tuple[str, ...] = ()  # the stems of fields the same number could belong to
    # Verbs whose negation states a zero ("未收到…申请", "未收取…费"); empty: only a written 0 grounds a 0.
    zero_verbs: tuple[str, ...] = ()
    window: int = NEAR_CHARS


_RECEIVE = ("收到", "受理", "接到", "接收", "新收")
_HANDLE = ("收到", "承办", "办理", "接到", "接收")

# Longer stems win over the shorter ones they contain ("依申请公开" is about
# applications, not the "公开" of proactive disclosure).
NARRATIVE_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "s1.proactive_count": (("主动公开", "公开", "发布", "更新"), ()),
    "s1.applications_received": (("申请", "依申请公开", "公开申请", "申请公开"), _RECEIVE),
    "s6.processing_fee_yuan": (("处理费", "收费", "费用"), ("收取", "收缴", "收费", "产生", "缴纳")),
    "s6.npc_suggestions": (("人大", "代表建议", "建议"), _HANDLE),
    "s6.cppcc_proposals": (("政协", "委员提案", "提案"), _HANDLE),
}

# Distinctive pieces of table 三's labels, which PDF and OCR exports split and
# garble ("属 于 国 家 秘 密", "补正后申请内容仍不明 / 确").
_T3_STEMS: dict[str, tuple[str, ...]] = {
    "new": ("新收",),
    "carried_over": ("上年结转",),
    "granted": ("予以公开",),
    "partial": ("部分公开",),
    "denied.state_secret": ("国家秘密",),
    "denied.prohibited_by_law": ("禁止公开",),
    "denied.security_stability": ("三安全", "一稳定"),
    "denied.third_party": ("第三方",),
    "denied.internal_affairs": ("内部事务",),
    "denied.process_info": ("过程性",),
    "denied.enforcement_files": ("执法案卷",),
    "denied.admin_query": ("行政查询",),
    "unavailable.not_held": ("不掌握",),
    "unavailable.needs_creation": ("另行制作", "没有现成"),
    "unavailable.unclear": ("补正后", "不明确"),
    "not_processed.complaint": ("信访", "举报投诉"),
    "not_processed.duplicate": ("重复申请",),
    "not_processed.publication": ("出版物",),
    "not_processed.excessive": ("大量反复",),
    "not_processed.confirmation": ("重新出具", "确认或重新"),
    "other.no_correction": ("不补正",),
    "other.fee_unpaid": ("收费通知", "缴纳费用"),
    "other.other": ("其他",),
    "other.all": ("其他处理",),
    "total": ("总计",),
    "carried_forward": ("结转下年", "下年度"),
}


def _rows(kind: str, template: TemplateId) -> dict[str, tuple[str, ...]]:
    """Row key → its stems, for one table of one template."""
    if kind == "t3":
        return {r.key: (r.label, *_T3_STEMS.get(r.key, ())) for r in T3_ROWS[template]}
    if kind == "t4":
        return {g: (label,) for g, label in T4_GROUPS}
    return {r.key: (r.label,) for r in T2_ROWS[template]}


@cache
def topic(key: str, template: TemplateId) -> Topic:
    """The topic a quote must be about to ground ``key``: a narrative fact, or a table cell's row."""
    if key in NARRATIVE_TOPICS:
        words, verbs = NARRATIVE_TOPICS[key]
        rivals = tuple(w for k, (ws, _) in NARRATIVE_TOPICS.items() if k != key for w in ws)
        return Topic(words, rivals, verbs)
    kind, rest = key.split(".", 1)
    row = rest.rsplit(".", 1)[0]
    rows = _rows(kind, template)
    if row not in rows:
        raise KeyError(f"no row {row!r} in {kind} of the {template} template")
    rivals = tuple(w for r, ws in rows.items() if r != row for w in ws)
    return Topic(rows[row], rivals, window=ROW_NEAR_CHARS)
