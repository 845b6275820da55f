"""Cross-year checks: one agency's reports in consecutive years must agree.  They judge, never change.

For reports of the same agency in years y−1 and y (see *grouping* below):

- ``上年结转 = 结转下年度`` per column of table 三: ``t3.carried_over.<col>`` (y) =
  ``t3.carried_forward.<col>`` (y−1), the six applicant columns and 总计;
- ``现行有效件数`` (2021 template in both years), for 规章 (``t2.rules``) and 行政规范性文件
  (``t2.normative``): ``in_force`` (y−1) + ``issued`` (y) = ``in_force`` (y) + ``repealed`` (y),
  i.e. 现行有效 (y−1) + 本年制发 (y) − 本年废止 (y) = 现行有效 (y);
- ``上一年项目数量`` (2019 template in both years), for 行政许可, 其他对外管理服务事项, 行政处罚,
  行政强制 and 行政事业性收费: ``prev_items`` (y) = ``prev_items`` (y−1) + ``change`` (y−1), the
  earlier year's count after its 本年增/减, where both years give them.

A check whose operands are not all numbers (blank, '/', not found) is *not assessable*.
A failed check names its operands with their years (``t3.carried_forward.total@2021``);
the store flags the fields of both years with them (``nianbao.store.crossyear``).

**Grouping** (``group_key``, replaceable): the agency name made NFKC, without spaces and
punctuation; where ``nianbao.regions.resolve`` places it, the region's most specific code
plus the name without its leading place names (so 淄博市张店区民政局 and 张店区民政局 are one
agency, 370303|民政局).  Several reports of one agency in one year (the same report in two
formats) are each checked against each report of the year before.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .schemas.relations import TOLERANCE
from .schemas.template import T3_COLUMNS

ORIGIN = "cross-year"
# Every flag a cross-year check sets starts with this (and so ranks as a failed relation).
FLAG_PREFIX = "check failed: cross-year "
T2_IN_FORCE_ROWS = (("rules", "规章"), ("normative", "行政规范性文件"))
T2_PREV_ITEMS_ROWS = (("licensing", "行政许可"), ("other_services", "其他对外管理服务事项"), ("penalty", "行政处罚"), ("coercion", "行政强制"), ("fees", "行政事业性收费"))
PREV, CUR = "prev", "cur"


@dataclass(frozen=True)
class YearReport:
    """One report as the cross-year checks see it: its current values (numbers) and states."""

    report_id: int
    source: str
    agency: str
    year: int
    template: str | None
    values: Mapping[str, float | None]  # key → number, None where the field holds none
    states: Mapping[str, str] = field(default_factory=dict)  # key → state (number, blank, dash, not_found)
    region: str | None = None  # a region code given with the report (a manifest column), if any


@dataclass(frozen=True)
class CrossRelation:
    """Sum of ``left`` = sum of ``right``; each operand is (side, key), side ``prev`` (y−1) or ``cur`` (y)."""

    name: str
    left: tuple[tuple[str, str], ...]
    right: tuple[tuple[str, str], ...]
    applies: Callable[[str | None, str | None], bool] = lambda prev, cur: True

    @property
    def operands(self) -> tuple[tuple[str, str], ...]:
        return (*self.left, *self.right)

    def text(self, prev_year: int, cur_year: int) -> str:
        def name(side: str, key: str) -> str:
            return f"{key}@{prev_year if side == PREV else cur_year}"

        return f"{' + '.join(name(*o) for o in self.left)} = {' + '.join(name(*o) for o in self.right)}"


@dataclass(frozen=True)
class CrossYearCheck:
    group: str
    name: str
    relation: str
    outcome: str  # passed, failed, not_assessable
    left: float | None
    right: float | None
    prev_id: int
    cur_id: int
    prev_year: int
    cur_year: int
    operands: dict[str, Any]  # "key@year" → number or state
    prev_keys: list[str]  # the fields of year y−1 a failure flags
    cur_keys: list[str]  # the fields of year y a failure flags
    note: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def reason(self) -> str:
        """The flag set on the fields of both years when it fails: the relation with its operands."""
        detail = ", ".join(f"{k} = {v}" for k, v in self.operands.items())
        sides = f"{self.left:g} ≠ {self.right:g}" if self.left is not None and self.right is not None else ""
        return f"{FLAG_PREFIX}{self.name} {self.prev_year}→{self.cur_year} ({sides}: {detail})"


def _both(template: str) -> Callable[[str | None, str | None], bool]:
    return lambda prev, cur: prev == cur == template


def relations() -> list[CrossRelation]:
    out = [CrossRelation(f"上年结转 = 结转下年度 [{label}]", ((CUR, f"t3.carried_over.{col}"),), ((PREV, f"t3.carried_forward.{col}"),)) for col, label in T3_COLUMNS]
    for row, label in T2_IN_FORCE_ROWS:
        out.append(
            CrossRelation(
                f"现行有效件数 [{label}]",
                ((PREV, f"t2.{row}.in_force"), (CUR, f"t2.{row}.issued")),
                ((CUR, f"t2.{row}.in_force"), (CUR, f"t2.{row}.repealed")),
                _both("2021"),
            )
        )
    for row, label in T2_PREV_ITEMS_ROWS:
        out.append(CrossRelation(f"上一年项目数量 [{label}]", ((CUR, f"t2.{row}.prev_items"),), ((PREV, f"t2.{row}.prev_items"), (PREV, f"t2.{row}.change")), _both("2019")))
    return out


RELATIONS = relations()


def judge(relation: CrossRelation, prev: YearReport, cur: YearReport, group: str = "") -> CrossYearCheck:
    by_side = {PREV: prev, CUR: cur}
    nums = [by_side[s].values.get(k) for s, k in relation.operands]
    operands: dict[str, Any] = {}
    for (s, k), n in zip(relation.operands, nums):
        r = by_side[s]
        operands[f"{k}@{r.year}"] = (int(n) if float(n).is_integer() else n) if n is not None else r.states.get(k, "not_found")
    prev_keys = sorted({k for s, k in relation.operands if s == PREV})
    cur_keys = sorted({k for s, k in relation.operands if s == CUR})
    text = relation.text(prev.year, cur.year)
    args = (group, relation.name, text)
    ids = (prev.report_id, cur.report_id, prev.year, cur.year)
    if any(n is None for n in nums):
        missing = [f"{k}@{by_side[s].year}" for (s, k), n in zip(relation.operands, nums) if n is None]
        return CrossYearCheck(*args, "not_assessable", None, None, *ids, operands, prev_keys, cur_keys, f"not a number: {', '.join(missing)}")
    n_left = len(relation.left)
    left = sum(n for n in nums[:n_left] if n is not None)
    right = sum(n for n in nums[n_left:] if n is not None)
    outcome = "failed" if abs(left - right) > TOLERANCE else "passed"
    return CrossYearCheck(*args, outcome, left, right, *ids, operands, prev_keys, cur_keys)


def pair_checks(prev: YearReport, cur: YearReport, group: str = "") -> list[CrossYearCheck]:
    """Every cross-year relation that applies to this pair of years, judged."""
    return [judge(r, prev, cur, group) for r in RELATIONS if r.applies(prev.template, cur.template)]


# ---- grouping ----------------------------------------------------------------------

_DROP = re.compile(r"[\s\u3000·・,，.。、:：;；'\"“”‘’()（）\[\]【】《》<>-]+")


def normalise_agency(name: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", name))


@lru_cache(maxsize=65536)
def resolved(agency: str) -> Any:
    """``nianbao.regions.resolve(agency)`` (a Region), or None where there is no resolver or it fails."""
    try:
        from . import regions
    except ImportError:
        return None
    try:
        return regions.resolve(agency)
    except Exception:  # a resolver that cannot place a name must not stop the checks
        return None


def group_key(agency: str, region: str | None = None) -> str:
    """Which agency a report belongs to across years: region code | name without places, else the name."""
    name = normalise_agency(agency)
    place = resolved(agency)
    code = region or (getattr(place, "code", None) if place is not None else None)
    if not code:
        return name
    rest = name
    for part in (getattr(place, a, None) for a in ("province", "city", "county", "town")):
        if part and rest.startswith(part) and len(rest) > len(part):
            rest = rest[len(part) :]
    return f"{code}|{rest}"


def cross_year(reports: Iterable[YearReport], *, group: Callable[[str, str | None], str] = group_key) -> list[CrossYearCheck]:
    """Judge every pair of consecutive years of each agency (reports grouped by ``group``)."""
    groups: dict[str, dict[int, list[YearReport]]] = defaultdict(lambda: defaultdict(list))
    for r in reports:
        groups[group(r.agency, r.region)][r.year].append(r)
    out: list[CrossYearCheck] = []
    for key in sorted(groups):
        years = groups[key]
        for y in sorted(years):
            for prev in years.get(y - 1, []):
                for cur in years[y]:
                    out += pair_checks(prev, cur, key)
    return out
