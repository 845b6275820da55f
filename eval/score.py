"""Score flat records against gold files exactly as spec/fields.md describes."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Gold:
    name: str  # file stem, e.g. 000_25a82b73f95a5995
    fields: dict[str, Any]
    absent: list[str]
    source: str | None = None

    @classmethod
    def load(cls, path: Path) -> Gold:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(name=path.stem, fields=data["fields"], absent=list(data.get("absent", [])), source=data.get("source"))

    @property
    def template(self) -> str:
        t = self.fields.get("meta.template")
        return str(t["any_of"][0] if isinstance(t, dict) else t)


def load_gold_dir(folder: Path) -> list[Gold]:
    return [Gold.load(p) for p in sorted(folder.glob("*.json"))]


def values_equal(gold: Any, predicted: Any) -> bool:
    """Numbers as numbers, any_of accepted, null equals only null."""
    if isinstance(gold, dict) and "any_of" in gold:
        return any(values_equal(g, predicted) for g in gold["any_of"])
    if gold is None or predicted is None:
        return gold is None and predicted is None
    if isinstance(gold, bool) or isinstance(predicted, bool):
        return gold == predicted
    if isinstance(gold, (int, float)) and isinstance(predicted, (int, float)):
        return abs(float(gold) - float(predicted)) < 1e-9
    if isinstance(gold, (int, float)) or isinstance(predicted, (int, float)):
        try:
            return abs(float(gold) - float(predicted)) < 1e-9
        except (TypeError, ValueError):
            return False
    return str(gold).strip() == str(predicted).strip()


def is_flagged(key: str, review: dict[str, str]) -> bool:
    """A key is flagged by itself or by any prefix (``t3`` flags every t3 key)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in review for i in range(1, len(parts) + 1))


def group_of(key: str) -> str:
    head = key.split(".", 1)[0]
    return "s*" if head.startswith("s") else head


@dataclass
class FieldResult:
    report: str
    key: str
    gold: Any
    predicted: Any
    correct: bool
    flagged: bool
    absent: bool  # under an `absent` prefix of the gold file
    hallucination: bool
    blank_zero: bool  # blank confused with 0, either way
    raw: str | None = None
    provenance: dict | None = None
    reason: str | None = None

    @property
    def silent(self) -> bool:
        return not self.correct and not self.flagged


@dataclass
class Counts:
    fields: int = 0
    correct: int = 0
    wrong: int = 0
    silent: int = 0
    hallucinations: int = 0
    needless_flags: int = 0
    flagged: int = 0
    blank_zero: int = 0

    def add(self, r: FieldResult) -> None:
        self.fields += 1
        self.correct += r.correct
        self.wrong += not r.correct
        self.silent += r.silent
        self.hallucinations += r.hallucination
        self.needless_flags += r.correct and r.flagged and not r.absent
        self.flagged += r.flagged
        self.blank_zero += r.blank_zero

    @property
    def accuracy(self) -> float:
        return self.correct / self.fields if self.fields else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy": round(self.accuracy, 6)}


@dataclass
class Evaluation:
    overall: Counts = field(default_factory=Counts)
    by_table: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_format: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_template: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_report: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    results: list[FieldResult] = field(default_factory=list)
    unmatched_gold: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def groups(d: dict[str, Counts]) -> dict[str, Any]:
            return {k: v.as_dict() for k, v in sorted(d.items())}

        return {
            "overall": self.overall.as_dict(),
            "by_table": groups(self.by_table),
            "by_format": groups(self.by_format),
            "by_template": groups(self.by_template),
            "by_report": groups(self.by_report),
            "wrong": [asdict(r) for r in self.results if not r.correct],
            "status": {f"{r.report}|{r.key}": r.correct for r in self.results},
            "unmatched_gold": self.unmatched_gold,
            "errors": self.errors,
        }


def _record_name(source: str) -> str:
    return Path(source).name


def match(gold: Gold, records: list[dict]) -> list[dict]:
    """Records extracted from this gold's document, in any format (000_x.txt, 000_x.gbk.html…)."""
    return [r for r in records if _record_name(r["source"]) == gold.source or _record_name(r["source"]).startswith(gold.name + ".")]


def _provenance(record: dict, key: str) -> tuple[str | None, dict | None]:
    report = record.get("report")
    if not report:
        return None, None
    node: Any = report
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None, None
        node = node[part]
    return node.get("raw"), node.get("provenance")


def _format(gold: Gold, name: str, record: dict) -> str:
    """The file's kind as its name tells it after the gold stem: pdf, gbk.html, img.docx, scan.pdf…"""
    if name.startswith(gold.name + ".") and name != gold.source:
        return name[len(gold.name) + 1 :].lower()
    return record.get("format") or Path(record["source"]).suffix.lstrip(".").lower() or "?"


def score_record(gold: Gold, record: dict, ev: Evaluation) -> None:
    name = _record_name(record["source"])
    fmt = _format(gold, name, record)
    ok = record.get("status") == "ok"
    if not ok:
        ev.errors[name] = record.get("error") or "error"
    fields = record.get("fields") or {}
    review = record.get("review") or {}
    for key, gv in gold.fields.items():
        absent = any(key == p or key.startswith(p + ".") for p in gold.absent)
        pv = fields.get(key) if ok else None
        # An error record is visible to the user as a whole: nothing in it is silent.
        flagged = (not ok) or is_flagged(key, review)
        if absent:
            correct = pv is None and flagged
            hallucination = pv is not None
        else:
            correct = ok and key in fields and values_equal(gv, pv)
            hallucination = False
        blank_zero = not correct and ((gv is None and pv == 0) or (gv == 0 and pv is None and key in fields))
        raw, prov = _provenance(record, key) if not correct else (None, None)
        r = FieldResult(name, key, gv, pv, correct, flagged, absent, hallucination, bool(blank_zero), raw, prov, review.get(key))
        ev.results.append(r)
        for counts in (ev.overall, ev.by_table[group_of(key)], ev.by_format[fmt], ev.by_template[gold.template], ev.by_report[name]):
            counts.add(r)


def evaluate(golds: list[Gold], records: list[dict]) -> Evaluation:
    ev = Evaluation()
    for gold in golds:
        matched = match(gold, records)
        if not matched:
            ev.unmatched_gold.append(gold.name)
        for record in matched:
            score_record(gold, record, ev)
    return ev
