"""Flagged fields as Label Studio tasks, and Label Studio's annotations back as corrections.

Export writes Label Studio's JSON import format: a list of tasks, each with ``data``
(what the annotator sees: the report, the key, the raw text, where it is, why it is
flagged) and ``predictions`` (the machine's reading as a ``result`` of the labelling
config below, with its confidence as ``score``), plus the labelling config beside
it as XML.  Import reads Label Studio's JSON export (tasks with ``annotations``) or
its JSON-MIN export (one flat object per task) and applies each task's latest
annotation as a correction through the store's validation; an annotation already
imported is not applied twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store.export import value_text
from .store.review import FieldView, ResultsStore
from .store.schema import StoreError, nianbao_version
from .store.validate import CorrectionError

VIA = "label-studio"
# Control and object names of LABEL_CONFIG; results are read back by these names.
TEXT, VALUE, STATE, WHY = "text", "value", "state", "why"
STATES = ("number", "blank", "dash", "not_found", "text")
LABEL_CONFIG = f"""<View>
  <Header value="$key"/>
  <Text name="{TEXT}" value="$text"/>
  <Choices name="{STATE}" toName="{TEXT}" choice="single" showInline="true" required="true">
{"".join(f'    <Choice value="{s}"/>{chr(10)}' for s in STATES)}  </Choices>
  <TextArea name="{VALUE}" toName="{TEXT}" rows="1" maxSubmissions="1" editable="true" placeholder="the value as the report shows it (empty for blank, / or not found)"/>
  <TextArea name="{WHY}" toName="{TEXT}" rows="1" maxSubmissions="1" editable="true" placeholder="why (optional)"/>
</View>
"""


def _where(f: FieldView) -> str:
    parts = []
    if f.page is not None:
        parts.append(f"page {f.page}")
    if f.image:
        parts.append(f"picture {f.image}")
    if f.bbox:
        parts.append("box " + " ".join(f"{c:g}" for c in f.bbox))
    if f.span:
        parts.append(f"characters {f.span[0]}-{f.span[1]}")
    if f.xpath:
        parts.append(f.xpath)
    return ", ".join(parts) or "not located"


def task(f: FieldView) -> dict[str, Any]:
    shown = value_text(f.value) or ""
    text = f"{f.source}\n{f.key}: {shown or f.state} ({f.state}, {f.method or 'no method'}, confidence {f.confidence:.2f})\nraw: {f.raw or ''}\nwhere: {_where(f)}\nwhy: {'; '.join(f.flags)}"
    return {
        "data": {
            TEXT: text, "source": f.source, "key": f.key, "machine_value": shown, "machine_state": f.state, "raw": f.raw or "",
            "method": f.method or "", "confidence": f.confidence, "flags": "; ".join(f.flags), "risk": f.risk_label or "",
            "where": _where(f), "report_id": f.report_id, "field_id": f.field_id,
        },
        "predictions": [{
            "model_version": f"nianbao {nianbao_version()}",
            "score": f.confidence,
            "result": [
                {"id": f"{f.field_id}-state", "from_name": STATE, "to_name": TEXT, "type": "choices", "value": {"choices": [f.state]}},
                {"id": f"{f.field_id}-value", "from_name": VALUE, "to_name": TEXT, "type": "textarea", "value": {"text": [shown]}},
            ],
        }],
    }  # fmt: skip


def export_tasks(store: ResultsStore, out: Path) -> tuple[int, Path]:
    """Write the review queue as Label Studio tasks to ``out`` and the labelling config beside it."""
    tasks = [task(f) for f in store.queue()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    config = out.with_name(out.stem + ".label_config.xml")
    config.write_text(LABEL_CONFIG, encoding="utf-8")
    return len(tasks), config


@dataclass
class Answer:
    source: str
    key: str
    state: str | None
    value: str | None
    why: str
    ref: str


@dataclass
class ImportResult:
    applied: int = 0
    skipped: int = 0  # no answer, a cancelled annotation, or already imported
    refused: list[str] = field(default_factory=list)  # "source key: why"


def _latest(annotations: list[dict[str, Any]]) -> dict[str, Any] | None:
    live = [a for a in annotations if not a.get("was_cancelled")]
    if not live:
        return None
    return max(enumerate(live), key=lambda ia: (str(ia[1].get("updated_at") or ia[1].get("created_at") or ""), ia[0]))[1]


def _results(result: list[dict[str, Any]]) -> tuple[str | None, str | None, str]:
    state = value = None
    why = ""
    for r in result:
        v = r.get("value") or {}
        if r.get("from_name") == STATE and v.get("choices"):
            state = str(v["choices"][0])
        elif r.get("from_name") == VALUE and "text" in v:
            value = "\n".join(str(t) for t in v["text"]).strip()
        elif r.get("from_name") == WHY and "text" in v:
            why = " ".join(str(t) for t in v["text"]).strip()
    return state, value, why


def _min_answer(answer: Any, kind: str) -> str | None:
    """One control's answer in JSON-MIN: a string, a list of them, or {kind: [...]}."""
    if isinstance(answer, dict):
        answer = answer.get(kind)
    if isinstance(answer, list):
        answer = "\n".join(str(a) for a in answer) if answer else None
    return None if answer is None else str(answer).strip()


def answers(exported: Any) -> Iterable[Answer | None]:
    """Each task's answer from a Label Studio JSON or JSON-MIN export; None for a task with none."""
    tasks = exported if isinstance(exported, list) else [exported]
    for t in tasks:
        if not isinstance(t, dict):
            yield None
            continue
        data = t.get("data", t)
        source, key = data.get("source"), data.get("key")
        if "annotations" in t:
            ann = _latest(t["annotations"] or [])
            if ann is None or not isinstance(source, str) or not isinstance(key, str):
                yield None
                continue
            state, value, why = _results(ann.get("result") or [])
            ref = f"label-studio task {t.get('id')} annotation {ann.get('id')} {ann.get('updated_at') or ann.get('created_at') or ''}".strip()
        else:
            # JSON-MIN: the data fields and each control's answer side by side (data keys
            # never use the control names, so the two cannot be confused).
            state, value, why = _min_answer(t.get(STATE), "choices"), _min_answer(t.get(VALUE), "text"), _min_answer(t.get(WHY), "text") or ""
            ref = f"label-studio task {t.get('id')} annotation {t.get('annotation_id')} {t.get('updated_at') or ''}".strip()
        if not isinstance(source, str) or not isinstance(key, str) or (state is None and value is None):
            yield None
            continue
        yield Answer(source, key, None if state is None else str(state), None if value is None else str(value), why, ref)


def import_labels(store: ResultsStore, path: Path, reviewer: str) -> ImportResult:
    """Apply a Label Studio export's annotations as corrections by ``reviewer``."""
    exported = json.loads(path.read_text(encoding="utf-8"))
    result = ImportResult()
    done = {c.ref for c in store.corrections() if c.via == VIA}
    for answer in answers(exported):
        if answer is None or answer.ref in done:
            result.skipped += 1
            continue
        try:
            report_id = store.find(answer.source)
            # "text" is what a name is anyway; any other choice is held to (number with no value is refused).
            state = None if answer.state in (None, "text") else answer.state
            store.correct(report_id, answer.key, answer.value or "", state=state, reviewer=reviewer, why=answer.why or "Label Studio annotation", via=VIA, ref=answer.ref)
        except (CorrectionError, StoreError) as exc:
            result.refused.append(f"{answer.source} {answer.key}: {exc}")
            continue
        done.add(answer.ref)
        result.applied += 1
    return result
