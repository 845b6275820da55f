"""The template's 勾稽 relations, as data over flat keys.

Each relation says that the sum of its left keys equals the sum of its right keys.
The checks judge a report by them, the LLM pass names the broken ones when it
re-asks, and the row reader uses a row's 总计 relation to choose between readings
of a damaged row: all from this one list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .template import T3_COLUMNS, T3_RESULT_ROWS, T4_COLUMNS, T4_GROUPS, TemplateId

# Sums of counts are exact; amounts carry two decimals.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Relation:
    name: str
    left: tuple[str, ...]
    right: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.left, *self.right)

    @property
    def text(self) -> str:
        return f"{' + '.join(self.left)} = {' + '.join(self.right)}"

    def sides(self, values: Mapping[str, float | None]) -> tuple[float, float] | None:
        """(left, right) sums when every operand is a number, else None."""
        nums = [values.get(k) for k in self.keys]
        if any(n is None for n in nums):
            return None
        return sum(values[k] for k in self.left), sum(values[k] for k in self.right)  # type: ignore[misc]

    def broken(self, values: Mapping[str, float | None]) -> bool:
        s = self.sides(values)
        return s is not None and abs(s[0] - s[1]) > TOLERANCE


def t3_relations(template: TemplateId, rows: Iterable[str]) -> list[Relation]:
    """Table 三: per column the balance and the result rows' sum; per row the 总计 of its six columns."""
    out = []
    for col, label in T3_COLUMNS:
        out.append(Relation(f"t3 balance [{label}]", (f"t3.new.{col}", f"t3.carried_over.{col}"), (f"t3.total.{col}", f"t3.carried_forward.{col}")))
        out.append(Relation(f"t3 results sum to 总计 [{label}]", tuple(f"t3.{r}.{col}" for r in T3_RESULT_ROWS[template]), (f"t3.total.{col}",)))
    for row in rows:
        detail = tuple(f"t3.{row}.{c}" for c, _ in T3_COLUMNS if c != "total")
        out.append(Relation(f"t3 row sums to 总计 [{row}]", detail, (f"t3.{row}.total",)))
    return out


def t4_relations() -> list[Relation]:
    """Table 四: each group's 总计 is the sum of its four result columns."""
    return [Relation(f"t4 {label} 总计", tuple(f"t4.{group}.{c}" for c, _ in T4_COLUMNS if c != "total"), (f"t4.{group}.total",)) for group, label in T4_GROUPS]
