"""勾稽 relations and cross-checks.  They judge and flag; they never change a value.

Every check is recorded on the report with its operands and outcome.  A failed
check flags each field it involves and lowers its confidence; a check whose
operands are blank, '/' or missing is recorded as not assessable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .extract.document import Document
from .schemas import CheckResult, Outcome, Report, State, Value
from .schemas.relations import TOLERANCE, Relation, t3_relations, t4_relations
from .schemas.template import DECIMAL_KEYS, SIGNED_COLUMNS

FAILED_CONFIDENCE = 0.5


def _num(v: Value) -> float | None:
    return float(v.value) if v.state is State.NUMBER and isinstance(v.value, (int, float)) else None


def _relation(report: Report, relation: Relation) -> CheckResult:
    """Judge one relation on the report's values."""
    name, left, right, keys = relation.name, relation.left, relation.right, list(relation.keys)
    values = {k: report.get(k) for k in keys}
    operands = {k: values[k].value if values[k].state is State.NUMBER else values[k].state.value for k in keys}
    text = relation.text
    nums = {k: _num(v) for k, v in values.items()}
    sides = relation.sides(nums)
    if sides is None:
        open_keys = [k for k, n in nums.items() if n is None]
        # Counts are never negative, so a side with open operands is at least the sum of
        # its known ones: known parts exceeding a complete other side is a definite failure.
        known_l = sum(nums[k] or 0 for k in left)
        known_r = sum(nums[k] or 0 for k in right)
        left_done = all(nums[k] is not None for k in left)
        right_done = all(nums[k] is not None for k in right)
        if (right_done and known_l > known_r + TOLERANCE) or (left_done and known_r > known_l + TOLERANCE):
            number_keys = [k for k in keys if nums[k] is not None]
            return CheckResult(name=name, relation=text, outcome=Outcome.FAILED, left=known_l, right=known_r, operands=operands, keys=number_keys, note=f"the known parts already exceed the other side; open: {', '.join(open_keys[:5])}")
        return CheckResult(name=name, relation=text, outcome=Outcome.NOT_ASSESSABLE, operands=operands, keys=keys, note=f"not a number: {', '.join(open_keys[:5])}{'…' if len(open_keys) > 5 else ''}")
    lhs, rhs = sides
    outcome = Outcome.FAILED if relation.broken(nums) else Outcome.PASSED
    return CheckResult(name=name, relation=text, outcome=outcome, left=lhs, right=rhs, operands=operands, keys=keys)


def relations(report: Report) -> list[Relation]:
    """The template's relations that apply to this report."""
    out: list[Relation] = []
    template = report.template
    if report.t3 is not None and template is not None:
        rows = [k[3:].rsplit(".", 1)[0] for k, _ in report.values() if k.startswith("t3.") and k.endswith(".total")]
        out += t3_relations(template, rows)
    return out + t4_relations()


def table_relations(report: Report) -> list[CheckResult]:
    return [_relation(report, r) for r in relations(report)]


def value_sanity(report: Report) -> list[CheckResult]:
    """Counts are non-negative integers; amounts are non-negative; 本年增/减 may be signed."""
    out = []
    for key, v in report.values():
        if not key.startswith(("t2.", "t3.", "t4.")) or v.state is not State.NUMBER:
            continue
        column = key.rsplit(".", 1)[1]
        ok = True
        note = None
        if key in DECIMAL_KEYS:
            ok = float(v.value) >= 0  # type: ignore[arg-type]
            note = "amount is negative"
        elif column in SIGNED_COLUMNS:
            ok = float(v.value).is_integer()  # type: ignore[arg-type]
            note = "change is not a whole number"
        else:
            ok = isinstance(v.value, int) and v.value >= 0
            note = "count is not a non-negative integer"
        if not ok:
            out.append(CheckResult(name="value is a valid count", relation=f"{key} ≥ 0, whole", outcome=Outcome.FAILED, operands={key: v.value}, keys=[key], note=note))
    return out


_REVIEW_MENTION = re.compile(r"行政复议\s*(?:案件)?\s*(\d+)\s*(?:件|起|宗|次)")


def narrative_agreement(report: Report, doc: Document) -> list[CheckResult]:
    """What the narrative says against what the tables say; disagreement is a finding."""
    out = []
    s1 = report.s1.applications_received
    new = report.get("t3.new.total") if report.t3 is not None else None
    if s1.state is State.NUMBER:
        if new is not None and new.state is State.NUMBER:
            outcome = Outcome.PASSED if s1.value == new.value else Outcome.FAILED
            out.append(CheckResult(name="narrative applications = t3.new.total", relation="s1.applications_received = t3.new.total", outcome=outcome, left=float(s1.value), right=float(new.value), operands={"s1.applications_received": s1.value, "t3.new.total": new.value}, keys=["s1.applications_received", "t3.new.total"]))
        else:
            out.append(CheckResult(name="narrative applications = t3.new.total", relation="s1.applications_received = t3.new.total", outcome=Outcome.NOT_ASSESSABLE, operands={"s1.applications_received": s1.value}, keys=["s1.applications_received", "t3.new.total"], note="t3.new.total is not a number"))
    text = unicodedata.normalize("NFKC", doc.text)
    m = _REVIEW_MENTION.search(text)
    review = report.get("t4.review.total")
    if m:
        stated = int(m.group(1))
        if review.state is State.NUMBER and isinstance(review.value, (int, float)):
            outcome = Outcome.PASSED if stated == review.value else Outcome.FAILED
            out.append(CheckResult(name="narrative 行政复议 count = t4.review.total", relation="narrative 行政复议 N件 = t4.review.total", outcome=outcome, left=stated, right=float(review.value), operands={"narrative": m.group(0), "t4.review.total": review.value}, keys=["t4.review.total"]))
        else:
            out.append(CheckResult(name="narrative 行政复议 count = t4.review.total", relation="narrative 行政复议 N件 = t4.review.total", outcome=Outcome.NOT_ASSESSABLE, operands={"narrative": m.group(0)}, keys=["t4.review.total"], note="t4.review.total is not a number"))
    return out


def apply(report: Report, checks: Iterable[CheckResult]) -> None:
    """Record checks on the report and flag every field of each failed one."""
    for check in checks:
        report.checks.append(check)
        if check.outcome is not Outcome.FAILED:
            continue
        detail = f"{check.left:g} ≠ {check.right:g}" if check.left is not None and check.right is not None else (check.note or "")
        reason = f"check failed: {check.name} ({detail})"
        for key in check.keys:
            report.get(key).flag(reason, FAILED_CONFIDENCE)


def run_checks(report: Report, doc: Document) -> None:
    apply(report, [*table_relations(report), *value_sanity(report), *narrative_agreement(report, doc)])
