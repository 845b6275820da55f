"""Response models for each LLM task: strict parts of the report schema, each value with its quote."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from ...schemas.template import T2_ROWS, T3_COLUMNS, T3_ROWS, T4_COLUMNS, T4_GROUPS, TemplateId


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float | None = Field(description="the number as the text states it; null if the text does not state it")
    quote: str = Field(description="the exact words of the text that state it; empty if not stated")


class NarrativeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    proactive_count: Fact
    applications_received: Fact
    processing_fee_yuan: Fact
    npc_suggestions: Fact
    cppcc_proposals: Fact


NARRATIVE_KEYS = {
    "proactive_count": "s1.proactive_count",
    "applications_received": "s1.applications_received",
    "processing_fee_yuan": "s6.processing_fee_yuan",
    "npc_suggestions": "s6.npc_suggestions",
    "cppcc_proposals": "s6.cppcc_proposals",
}


class RecheckAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float | None
    quote: str


class RowAnswerBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row: str
    values: list[float | None]
    quote: str = Field(description="the row's text as it appears in the source, numbers included")


def columns(kind: str, template: TemplateId) -> dict[str, list[str]]:
    """Row key → column keys, in the order the prompt asks for them."""
    if kind == "t3":
        return {r.key: [c for c, _ in T3_COLUMNS] for r in T3_ROWS[template]}
    if kind == "t4":
        return {g: [c for c, _ in T4_COLUMNS] for g, _ in T4_GROUPS}
    return {r.key: list(r.columns) for r in T2_ROWS[template]}


def row_legend(kind: str, template: TemplateId) -> str:
    if kind == "t3":
        return "\n".join(f"- {r.key}: {r.label}" for r in T3_ROWS[template])
    if kind == "t4":
        return "\n".join(f"- {g}: {label}" for g, label in T4_GROUPS)
    return "\n".join(f"- {r.key}: {r.label}（{'、'.join(r.columns)}）" for r in T2_ROWS[template])


@cache
def table_answer(kind: str, template: TemplateId) -> type[BaseModel]:
    """``{rows: [{row, values, quote}]}`` with row keys and value counts fixed by the template."""
    cols = columns(kind, template)
    row_key = Literal[tuple(cols)]  # type: ignore[valid-type]

    def check_width(self: BaseModel) -> BaseModel:
        want = len(cols[self.row])  # type: ignore[attr-defined]
        if len(self.values) != want:  # type: ignore[attr-defined]
            raise ValueError(f"row {self.row} needs {want} values, got {len(self.values)}")  # type: ignore[attr-defined]
        return self

    row_model = create_model(
        f"{kind}_{template}_Row",
        __base__=RowAnswerBase,
        row=(row_key, ...),  # type: ignore[arg-type]  # a Literal built at run time
        __validators__={"width": model_validator(mode="after")(check_width)},  # type: ignore[dict-item]  # pydantic's decorator proxy
    )
    return create_model(f"{kind}_{template}_Answer", __config__=ConfigDict(extra="forbid"), rows=(list[row_model], ...))  # type: ignore[valid-type]
