"""Damage that crawled and copy-pasted report pages carry around the report: site chrome, broken titles, dates.

Every change here is one a reader must see through without any gold field moving:
chrome names only the report's own agency (gold ``meta.agency``, or one of its
``any_of`` names) or generic site owners, its dates are publication dates (the year
after ``meta.year``), and dates that lose digits are period statements, never counts.
A report cut off mid-table (``cut_layout``) is the one damage that does move gold: the
keys past the cut become ``absent``.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any

from ..schemas.template import T3_ROWS, TemplateId
from .layout import Gold, ReportLayout, TableSpec

# A title is a short paragraph among the first few that names the report kind.
_TITLE_WORDS = "年度报告"
_TITLE_MAX = 60
_TITLE_SEARCH = 3
# Where real pages break a long title over two lines ('…2025年政府信息公开' / '工作年度报告').
_TITLE_CUTS = ("工作年度报告", "年度报告", "信息公开工作年度报告")

# A full date, and a month-day one (the '至12月31日' half of a period statement).
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# How real pages lose date characters: real_016 '20231月1日', real_025 '2023 11日到1231日'.
DATE_DAMAGE = ("no_year_mark", "no_marks", "year_gap")

# Generic site owners for footers: none of them could be a report's issuing agency.
_SITE_OWNERS = ("本网站", "人民政府办公室", "政务服务数据管理局", "政府信息公开办公室")
_ICP_PROVINCES = ("鲁", "豫", "京", "粤", "浙", "苏")
_CRUMB_SEPARATORS = (" > ", ">", " » ", " / ")
_PAGE_MARK_EVERY = 12  # paragraphs between flipbook page marks


def agency_name(fields: Gold, rng: random.Random) -> str | None:
    """The report's agency as gold accepts it: the value, or one of its ``any_of`` names."""
    value = fields.get("meta.agency")
    if isinstance(value, dict) and "any_of" in value:
        return str(rng.choice(value["any_of"]))
    return str(value) if value else None


def title_index(layout: ReportLayout) -> int | None:
    """Where the title paragraph is, if the report has one near the top."""
    for i, block in enumerate(layout.blocks[:_TITLE_SEARCH]):
        if isinstance(block, str) and _TITLE_WORDS in block and len(block) <= _TITLE_MAX:
            return i
    return None


def break_title(title: str, rng: random.Random) -> list[str]:
    """The title over two lines, cut before '工作年度报告' or '年度报告' (the agency and year stay whole)."""
    cuts = [title.rindex(c) for c in _TITLE_CUTS if c in title and title.rindex(c) > 0]
    if not cuts:
        return [title]
    cut = rng.choice(cuts)
    return [title[:cut], title[cut:]]


def lose_date_digits(text: str, how: str) -> str:
    """Dates with characters lost the way real pages lose them; the digits of counts are untouched."""

    def full(m: re.Match[str]) -> str:
        y, mo, d = m.groups()
        if how == "no_year_mark":
            return f"{y}{mo}月{d}日"
        if how == "no_marks":
            return f"{y}{mo}{d}日"
        return f"{y} {mo}{d}日"

    text = _DATE.sub(full, text)
    if how != "no_year_mark":
        text = _MONTH_DAY.sub(lambda m: f"{m.group(1)}{m.group(2)}日", text)
    return text


def _chrome_header(fields: Gold, title: str, rng: random.Random) -> list[str]:
    agency = agency_name(fields, rng)
    year = fields.get("meta.year")
    published = f"{int(year) + 1}-01-{rng.randint(10, 31):02d}" if isinstance(year, int) else "2024-01-29"
    sep = rng.choice(_CRUMB_SEPARATORS)
    parts: list[list[str]] = []
    if rng.random() < 0.6:
        parts.append([f"当前位置：{sep.join(['首页', '政务公开', '政府信息公开', '政府信息公开年报'])}"])
    if rng.random() < 0.6:
        # The metadata table (索引号, 发布机构 with the report's own agency), flattened to lines.
        index_no = f"{rng.randrange(10**8, 10**9)}/{published[:4]}-{rng.randrange(10**4, 10**5)}"
        meta = [f"索引号：{index_no}  分类：部门文件", f"发布机构：{agency or ''}  发文日期：{published}", "文号：", f"标题：{title}"]
        parts.append(meta if rng.random() < 0.5 else ["  ".join(meta)])
    elif rng.random() < 0.5:
        parts.append([f"标题：{title}"])
    widgets = [f"发布日期：{published}", f"来源：{agency}" if agency else "", "字体：【大 中 小】", "打印", "分享至："]
    if rng.random() < 0.7:
        parts.append(["  ".join(w for w in widgets if w)] if rng.random() < 0.5 else [w for w in widgets if w])
    if rng.random() < 0.3:
        parts.append(["用微信扫描二维码", "分享至好友和朋友圈"])
    return [line for part in parts for line in part]


def _chrome_footer(rng: random.Random) -> list[str]:
    province = rng.choice(_ICP_PROVINCES)
    lines = ["【打印本页】 【关闭窗口】"] if rng.random() < 0.5 else []
    lines.append(f"主办单位：{rng.choice(_SITE_OWNERS)}")
    lines.append(f"网站标识码：{rng.randrange(10**9, 10**10)}  {province}ICP备{rng.randrange(10**7, 10**8)}号  {province}公网安备 {rng.randrange(10**13, 10**14)}号")
    return lines


def damage_page(layout: ReportLayout, fields: Gold, rng: random.Random) -> tuple[ReportLayout, list[str]]:
    """The report as a scraped page gives it: chrome, flipbook marks, a broken title, dates losing digits.

    Each damage is drawn on its own, so any mix occurs; returns the new layout and the
    names of the damages applied (for the gold notes).
    """
    out = ReportLayout(title=layout.title, blocks=copy.copy(layout.blocks))
    applied: list[str] = []
    at = title_index(out)
    title = str(out.blocks[at]) if at is not None else f"{agency_name(fields, rng) or ''}{fields.get('meta.year')}年政府信息公开工作年度报告"
    if rng.random() < 0.4:
        how = rng.choice(DATE_DAMAGE)
        out.blocks = [b if not isinstance(b, str) or i == at else lose_date_digits(b, how) for i, b in enumerate(out.blocks)]
        applied.append(f"dates:{how}")
    if at is not None and rng.random() < 0.5:
        out.blocks[at : at + 1] = list(break_title(title, rng))
        applied.append("title_broken")
    header: list[str] = []
    if rng.random() < 0.25:
        # A flipbook page (real_013, real_014): 'Page 8 - <title>' and 'P. 8' before the text, more marks between paragraphs.
        page = rng.randint(1, 9)
        header = [rng.choice((f"Page {page} - {title}", f"Page{page}-{title}")), f"P. {page}"]
        blocks: list[Any] = []
        for i, b in enumerate(out.blocks):
            blocks.append(b)
            nxt = out.blocks[i + 1] if i + 1 < len(out.blocks) else None
            if i and i % _PAGE_MARK_EVERY == 0 and isinstance(b, str) and isinstance(nxt, str):
                page += 1
                blocks.append(f"P. {page}")
        out.blocks = blocks
        applied.append("flipbook")
    elif rng.random() < 0.8:
        header = _chrome_header(fields, title, rng)
        applied.append("chrome")
    footer = _chrome_footer(rng) if rng.random() < 0.6 else []
    if footer:
        applied.append("footer")
    out.blocks = [*header, *out.blocks, *footer]
    return out, applied


def cut_layout(layout: ReportLayout, fields: Gold, template: TemplateId, rng: random.Random) -> tuple[ReportLayout, list[str]] | None:
    """An excerpt that ends inside a table-三 row (real_001), and the gold ``absent`` prefixes it implies.

    The cut row and every row after it are absent (a partly shown row is not a
    reading), so is table 四, and so is every narrative fact the kept text does not
    state: a fact stays only where a kept paragraph carries its keyword, which is how
    the bundled seeds state them.  None where the report has no table 三 to cut.
    """
    specs = T3_ROWS[template]
    at = next((i for i, b in enumerate(layout.blocks) if isinstance(b, TableSpec) and b.kind == "t3"), None)
    if at is None:
        return None
    t3 = layout.blocks[at]
    assert isinstance(t3, TableSpec)
    header_rows = len(t3.rows) - len(specs)
    row = rng.randrange(2, len(specs) - 1)  # after 一 and 二, before 四 (the table must be readable up to the cut)
    cells = t3.rows[header_rows + row]
    lead = len(cells) - 7  # label cells before the seven values
    kept = cells[: lead + rng.randint(0, 6)]
    table = TableSpec("t3", [*t3.rows[: header_rows + row], kept], t3.n_cols)
    out = ReportLayout(title=layout.title, blocks=[*layout.blocks[:at], table])
    absent = [f"t3.{s.key}" for s in specs[row:]] + ["t4"]
    kept_text = "\n".join(b for b in out.blocks if isinstance(b, str))
    for key, words in _FACT_WORDS.items():
        if fields.get(key) is not None and not any(w in kept_text for w in words):
            absent.append(key)
    return out, absent


# The words a narrative fact is stated with; a fact whose words the kept text lacks is past the cut.
_FACT_WORDS = {
    "s1.proactive_count": ("主动公开",),
    "s1.applications_received": ("申请",),
    "s6.processing_fee_yuan": ("信息处理费", "未收取任何费用", "均未收取费用"),
    "s6.npc_suggestions": ("人大",),
    "s6.cppcc_proposals": ("政协",),
}
