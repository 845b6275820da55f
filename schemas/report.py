"""Strict pydantic models of a report, generated from the template specs.

The nesting mirrors the flat keys of fields.md: ``report.t3.denied.state_secret.total``
is the flat key ``t3.denied.state_secret.total``.  Both templates have their own
table 二 and 三 models; table 四, meta and the narrative facts are shared.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from .template import (
    T2_ROWS,
    T3_COLUMNS,
    T3_ROWS,
    T4_COLUMNS,
    T4_GROUPS,
    TemplateId,
)
from .value import Value

SCHEMA_VERSION: Literal["1"] = "1"
_STRICT = ConfigDict(extra="forbid", validate_assignment=True)


class Section(BaseModel):
    """Base of every generated table/section model."""

    model_config = _STRICT


def _register(model: type[BaseModel]) -> type[BaseModel]:
    """Generated models live in this module under their own names, so reports pickle
    (the batch worker sends them between processes)."""
    model.__module__ = __name__
    model.__qualname__ = model.__name__
    globals()[model.__name__] = model
    return model


def _value_fields(names: list[str]) -> dict[str, Any]:
    return {n: (Value, Field(default_factory=Value)) for n in names}


def _nest(name: str, leaves: dict[str, type[BaseModel]]) -> type[BaseModel]:
    """Build nested models for dotted keys such as ``denied.state_secret``."""
    groups: dict[str, dict[str, type[BaseModel]]] = {}
    order: list[str] = []  # keeps template order, so flat keys come out as fields.md lists them
    for dotted, model in leaves.items():
        head, _, rest = dotted.partition(".")
        if head not in order:
            order.append(head)
        groups.setdefault(head, {})[rest] = model
    fields: dict[str, Any] = {}
    for head in order:
        sub = groups[head]
        if "" in sub:
            model = sub[""]
        else:
            model = _nest(f"{name}{head.title().replace('_', '')}", sub)
        fields[head] = (model, Field(default_factory=model))
    return _register(create_model(name, __base__=Section, **fields))


T3Row = _register(create_model("T3Row", __base__=Section, **_value_fields([c for c, _ in T3_COLUMNS])))
T4Group = _register(create_model("T4Group", __base__=Section, **_value_fields([c for c, _ in T4_COLUMNS])))

T3Table2021 = _nest("T3Table2021", {r.key: T3Row for r in T3_ROWS["2021"]})
T3Table2019 = _nest("T3Table2019", {r.key: T3Row for r in T3_ROWS["2019"]})
T4Table = _nest("T4Table", {g: T4Group for g, _ in T4_GROUPS})


def _t2_model(template: TemplateId) -> type[BaseModel]:
    leaves = {
        r.key: _register(create_model(f"T2Row{template}{r.key.title().replace('_', '')}", __base__=Section, **_value_fields(list(r.columns))))
        for r in T2_ROWS[template]
    }
    return _nest(f"T2Table{template}", leaves)


T2Table2021 = _t2_model("2021")
T2Table2019 = _t2_model("2019")

T2_MODELS: dict[str, type[BaseModel]] = {"2021": T2Table2021, "2019": T2Table2019}
T3_MODELS: dict[str, type[BaseModel]] = {"2021": T3Table2021, "2019": T3Table2019}


class Meta(Section):
    agency: Value = Field(default_factory=Value)
    year: Value = Field(default_factory=Value)
    template: Value = Field(default_factory=Value)


class S1(Section):
    proactive_count: Value = Field(default_factory=Value)
    applications_received: Value = Field(default_factory=Value)


class S6(Section):
    processing_fee_yuan: Value = Field(default_factory=Value)
    npc_suggestions: Value = Field(default_factory=Value)
    cppcc_proposals: Value = Field(default_factory=Value)


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_ASSESSABLE = "not_assessable"


class CheckResult(BaseModel):
    """One 勾稽 relation or cross-check, with the operands it was judged on."""

    model_config = ConfigDict(extra="forbid")

    name: str
    relation: str  # human-readable, e.g. "t3.new.total + t3.carried_over.total = …"
    outcome: Outcome
    left: float | None = None
    right: float | None = None
    operands: dict[str, Any] = Field(default_factory=dict)
    keys: list[str] = Field(default_factory=list)  # fields flagged when it fails
    note: str | None = None


class Report(BaseModel):
    """A whole report on either template.  ``to_flat()`` gives the keys of fields.md."""

    model_config = _STRICT

    schema_version: Literal["1"] = SCHEMA_VERSION
    meta: Meta = Field(default_factory=Meta)
    t2: T2Table2021 | T2Table2019 | None = None  # type: ignore[valid-type]
    t3: T3Table2021 | T3Table2019 | None = None  # type: ignore[valid-type]
    t4: T4Table = Field(default_factory=T4Table)  # type: ignore[valid-type]
    s1: S1 = Field(default_factory=S1)
    s6: S6 = Field(default_factory=S6)
    checks: list[CheckResult] = Field(default_factory=list)

    @classmethod
    def empty(cls, template: TemplateId) -> Report:
        return cls(t2=T2_MODELS[template](), t3=T3_MODELS[template]())

    @property
    def template(self) -> TemplateId | None:
        return self.meta.template.value  # type: ignore[return-value]

    def values(self) -> Iterator[tuple[str, Value]]:
        """Every (flat key, Value) pair, in template order."""
        for name in ("meta", "t2", "t3", "t4", "s1", "s6"):
            section = getattr(self, name)
            if section is not None:
                yield from _walk(section, name)

    def get(self, key: str) -> Value:
        node: Any = self
        for part in key.split("."):
            node = getattr(node, part)
        if not isinstance(node, Value):
            raise KeyError(key)
        return node

    def set(self, key: str, value: Value) -> None:
        head, _, last = key.rpartition(".")
        node: Any = self
        for part in head.split("."):
            node = getattr(node, part)
        setattr(node, last, value)

    def to_flat(self) -> dict[str, Any]:
        """The canonical flat mapping of fields.md: key -> value (None for blank/dash/absent)."""
        return {k: v.value for k, v in self.values()}

    def review(self) -> dict[str, str]:
        """Flat key -> review reason, for every flagged key."""
        return {k: "; ".join(v.review) for k, v in self.values() if v.review}


def _walk(model: BaseModel, prefix: str) -> Iterator[tuple[str, Value]]:
    for name in type(model).model_fields:
        child = getattr(model, name)
        key = f"{prefix}.{name}"
        if isinstance(child, Value):
            yield key, child
        elif isinstance(child, BaseModel):
            yield from _walk(child, key)
