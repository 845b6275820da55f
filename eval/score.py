"""Score flat records against gold files exactly as spec/fields.md describes."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..schemas import TEMPLATES, flat_keys


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

    def templates(self) -> list[str]:
        """Every template the gold allows (``any_of`` included), or none when it does not say."""
        t = self.fields.get("meta.template")
        values = t["any_of"] if isinstance(t, dict) and "any_of" in t else [t]
        return [str(v) for v in values if str(v) in TEMPLATES]

    def is_absent(self, key: str) -> bool:
        return any(key == p or key.startswith(p + ".") for p in self.absent)

    def absent_keys(self, record_fields: dict[str, Any], record_template: Any = None) -> list[str]:
        """The keys under the ``absent`` prefixes, whether or not the gold lists them.

        These are the template's canonical keys under each prefix (the gold's template;
        the record's when the gold does not name one; both templates when neither does),
        plus any other key the record reports a value for under a prefix.  fields.md:
        for those keys the only correct output is no value plus a review flag.
        """
        if not self.absent:
            return []
        templates = self.templates() or ([str(record_template)] if str(record_template) in TEMPLATES else list(TEMPLATES))
        keys = dict.fromkeys(k for t in templates for k in flat_keys(t) if self.is_absent(k))  # type: ignore[arg-type]
        keys.update(dict.fromkeys(k for k, v in record_fields.items() if v is not None and self.is_absent(k)))
        return [k for k in keys if k not in self.fields]


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
    hallucination: bool  # a value reported under an `absent` prefix
    blank_zero: bool  # blank confused with 0, either way
    raw: str | None = None
    provenance: dict | None = None
    reason: str | None = None
    listed: bool = True  # False: not in the gold's `fields`, scored because it is under an `absent` prefix

    @property
    def silent(self) -> bool:
        """Wrong and not flagged for review: the error a user would trust."""
        return not self.correct and not self.flagged

    @property
    def outcome(self) -> str:
        """fields.md's four outcomes: correct, flagged (wrong but flagged), silent, or hallucination."""
        if self.correct:
            return "correct"
        if self.hallucination:
            return "hallucination"
        return "flagged" if self.flagged else "silent"


@dataclass
class Counts:
    fields: int = 0
    correct: int = 0
    wrong: int = 0  # = wrong_flagged + silent
    wrong_flagged: int = 0  # wrong, but flagged for review
    silent: int = 0  # wrong and not flagged
    hallucinations: int = 0  # values reported under `absent` prefixes (flagged or not; also in wrong)
    needless_flags: int = 0  # correct values flagged (review load); absent keys need their flag
    flagged: int = 0  # every flagged key, right or wrong
    blank_zero: int = 0
    # The keys under `absent` prefixes among the above (a table cut off or only an image:
    # correct when no value and a flag), so the other keys' accuracy can be read apart.
    absent_fields: int = 0
    absent_correct: int = 0
    absent_silent: int = 0

    def add(self, r: FieldResult) -> None:
        self.fields += 1
        self.correct += r.correct
        self.wrong += not r.correct
        self.wrong_flagged += not r.correct and r.flagged
        self.silent += r.silent
        self.hallucinations += r.hallucination
        self.needless_flags += r.correct and r.flagged and not r.absent
        self.flagged += r.flagged
        self.blank_zero += r.blank_zero
        if r.absent:
            self.absent_fields += 1
            self.absent_correct += r.correct
            self.absent_silent += r.silent

    @property
    def accuracy(self) -> float:
        return self.correct / self.fields if self.fields else 0.0

    @property
    def present_accuracy(self) -> float:
        """Accuracy over the keys not under an `absent` prefix (the values the document carries)."""
        n = self.fields - self.absent_fields
        return (self.correct - self.absent_correct) / n if n else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy": round(self.accuracy, 6), "present_accuracy": round(self.present_accuracy, 6)}


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


def _node(record: dict, key: str) -> dict | None:
    """The key's full value (raw, state, provenance…) in the record's nested report, if it has one."""
    node: Any = record.get("report")
    if not node:
        return None
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def _provenance(record: dict, key: str) -> tuple[str | None, dict | None]:
    node = _node(record, key)
    return (node.get("raw"), node.get("provenance")) if node else (None, None)


def _format(gold: Gold, name: str, record: dict) -> str:
    """The file's kind as its name tells it after the gold stem: pdf, gbk.html, img.docx, scan.pdf…"""
    if name.startswith(gold.name + ".") and name != gold.source:
        return name[len(gold.name) + 1 :].lower()
    return record.get("format") or Path(record["source"]).suffix.lstrip(".").lower() or "?"


def score_key(gold: Gold, key: str, gv: Any, fields: dict[str, Any], review: dict[str, str], state: str | None = None) -> tuple[bool, bool, bool, bool, bool]:
    """(correct, flagged, absent, hallucination, blank_zero) for one key, as fields.md scores it.

    ``state`` is the value's state in the full record where known: a written 0 reported
    as null counts as blank↔0 only when the cell was read as blank or a dash, not when
    the value was not found at all.
    """
    absent = gold.is_absent(key)
    pv = fields.get(key)
    flagged = is_flagged(key, review)
    if absent:
        # The only correct output is no value plus a review flag; any value is a hallucination.
        correct = pv is None and flagged
        hallucination = pv is not None
        blank_zero = False
    else:
        # A key the record does not carry is missed, even where the gold is null.
        correct = key in fields and values_equal(gv, pv)
        hallucination = False
        zero_as_blank = gv == 0 and not isinstance(gv, bool) and pv is None and state not in ("not_found",)
        blank_zero = not correct and key in fields and ((gv is None and pv == 0) or zero_as_blank)
    return correct, flagged, absent, hallucination, bool(blank_zero)


def score_record(gold: Gold, record: dict, ev: Evaluation) -> None:
    name = _record_name(record["source"])
    fmt = _format(gold, name, record)
    ok = record.get("status") == "ok"
    if ok:
        fields = record.get("fields") or {}
        review = record.get("review") or {}
    else:
        # A rejected file reports nothing and flags nothing: each of its gold keys is missed,
        # and counts as a silent error (a whole report lost is not a review flag on its fields).
        ev.errors[name] = record.get("error") or "error"
        fields, review = {}, {}
    keys = [(k, gv, True) for k, gv in gold.fields.items()]
    keys += [(k, None, False) for k in gold.absent_keys(fields, fields.get("meta.template"))]
    for key, gv, listed in keys:
        node = _node(record, key) if ok else None
        correct, flagged, absent, hallucination, blank_zero = score_key(gold, key, gv, fields, review, node.get("state") if node else None)
        pv = fields.get(key)
        raw, prov = _provenance(record, key) if not correct else (None, None)
        r = FieldResult(name, key, gv, pv, correct, flagged, absent, hallucination, blank_zero, raw, prov, review.get(key), listed)
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
