"""The LLM pass over one report: which calls to make, and how their answers meet the deterministic values.

- Narrative facts: one call over sections 一, 三 (its prose) and 六.
- A table with many doubtful cells (not found, inferred, a broken relation, low
  OCR confidence): one call over that section's text.  A table with a few: one
  small re-check call per doubtful cell.
- A table answer that breaks the template's relations is re-asked once, naming
  each broken relation with its operands; then it stands, and the checks flag it.
- With a vision model configured, an OCR'd table with doubtful cells is also sent
  as its picture.  A picture reading cannot be grounded in text, so it only flags.

Every answer is grounded (``ground.py``) before it can touch the report.  An
ungrounded number is never output; a grounded one fills only a value the rules
did not find, and where both paths give a number and they differ, the field is
flagged with the LLM's reading.  A filled value stays flagged for review unless a
relation with the rules' values pins it down (``corroborate``): a silent wrong
value is the worst outcome, a flagged one is cheap.  A source that carries an
instruction to the model fills nothing, and a call that fails flags every field it
asked about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ...checks import narrative_agreement, table_relations
from ...schemas import Method, Outcome, Provenance, Report, State, Value
from ...schemas.relations import t3_relations
from ...schemas.template import DECIMAL_KEYS, T3_COLUMNS, TemplateId
from ..document import Document, Paragraph, Table
from ..locate import TABLE_SECTIONS, Layout
from . import prompts
from .answers import NARRATIVE_KEYS, NarrativeAnswer, RecheckAnswer, columns, row_legend, table_answer
from .client import CallFailed, LLMClient, Usage, estimate_tokens
from .ground import planted_instruction, supported
from .topics import topic

# Up to this many doubtful cells in a table are re-checked one by one; more re-read the table.
RECHECK_AT_MOST = 3
MAX_SECTION_CHARS = 12000
LLM_CONFIDENCE = 0.8
UNCORROBORATED = "filled by LLM; no rule corroborates it"


@dataclass
class Call:
    """One planned call: what to send and where the answer goes."""

    task: str
    messages: list[dict[str, Any]]
    prompt_tag: str
    response_model: type[BaseModel]
    source: str  # the text answers must be grounded in
    kind: str = ""  # t2/t3/t4 for table calls
    key: str = ""  # for re-check calls
    model: str = ""  # another model than the configured one (the vision model)
    asks: tuple[str, ...] = ()  # the fields it is asked about: flagged if it fails


def section_text(doc: Document, layout: Layout, numbers: tuple[int, ...], *, tables: bool) -> str:
    parts: list[str] = []
    for n in numbers:
        if n not in layout.sections:
            continue
        a, b = layout.sections[n]
        for block in doc.blocks[a:b]:
            if isinstance(block, Paragraph):
                parts.append(block.text)
            elif tables and isinstance(block, Table):
                parts.append(block.text())
    return "\n".join(parts)[:MAX_SECTION_CHARS]


def _doubtful(report: Report, kind: str, failing: set[str]) -> list[str]:
    return [k for k, v in report.values() if k.startswith(kind + ".") and (v.state is State.NOT_FOUND or v.flagged or k in failing)]


_TITLES = {"t2": "主动公开政府信息情况", "t3": "收到和处理政府信息公开申请情况", "t4": "政府信息公开行政复议、行政诉讼情况"}


def _vision_call(kind: str, template: TemplateId, table: Table, model: str, asks: tuple[str, ...]) -> Call:
    import base64

    vp = prompts.load("vision_table")
    text = vp.messages(title=_TITLES[kind], rows=row_legend(kind, template))
    parts: list[dict[str, Any]] = [{"type": "text", "text": text[1]["content"]}]
    parts += [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}} for png in table.pictures]
    return Call("vision_table", [text[0], {"role": "user", "content": parts}], vp.tag, table_answer(kind, template), "", kind=kind, model=model, asks=asks)


def plan(doc: Document, layout: Layout, report: Report, failing: set[str], *, vision_model: str = "") -> list[Call]:
    calls: list[Call] = []
    narrative = section_text(doc, layout, (1, 3, 6), tables=False) or doc.text[:MAX_SECTION_CHARS]
    p = prompts.load("narrative")
    calls.append(Call("narrative", p.messages(text=narrative), p.tag, NarrativeAnswer, narrative, asks=tuple(NARRATIVE_KEYS.values())))
    template: TemplateId = report.template or "2021"  # an undetermined template: read_report built the tables on 2021
    for kind, section in TABLE_SECTIONS.items():
        doubtful = _doubtful(report, kind, failing)
        if not doubtful or not layout.tables.get(kind):
            continue  # nothing doubtful, or no table in the text (an image without OCR): nothing to ground in
        pictured = [t for t in layout.tables[kind] if t.pictures]
        if vision_model and pictured:
            calls.append(_vision_call(kind, template, pictured[0], vision_model, tuple(doubtful)))
        text = section_text(doc, layout, (section,), tables=True) or "\n".join(t.text() for t in layout.tables.get(kind, []))
        if not any(ch.isdigit() for ch in text):
            continue  # nothing readable to ground an answer in (a table only as an image)
        if len(doubtful) <= RECHECK_AT_MOST:
            rp = prompts.load("recheck")
            for key in doubtful:
                v = report.get(key)
                msgs = rp.messages(key=key, meaning=_meaning(key, template), current=_shown(v), reason="; ".join(v.review) or "not found", text=text)
                calls.append(Call("recheck", msgs, rp.tag, RecheckAnswer, text, kind=kind, key=key, asks=(key,)))
            continue
        tp = prompts.load(f"table_{kind}")
        # The whole table is asked for, but its doubtful cells are why: a failure flags them, not every cell.
        calls.append(Call(f"table_{kind}", tp.messages(rows=row_legend(kind, template), text=text), tp.tag, table_answer(kind, template), text, kind=kind, asks=tuple(doubtful)))
    return calls


def _meaning(key: str, template: TemplateId) -> str:
    parts = key.split(".")
    if parts[0] in ("t2", "t3", "t4"):
        row = ".".join(parts[1:-1])
        return f"table {parts[0][1]}, row {row}, column {parts[-1]} (columns: {', '.join(columns(parts[0], template).get(row, []))})"
    return key


def _shown(v: Value) -> str:
    return "(none)" if v.state is State.NOT_FOUND else (v.raw or str(v.value))


def estimate(calls: list[Call]) -> tuple[int, int]:
    """(prompt tokens, completion tokens) a plan would cost, without calling anything."""
    expected_out = {"narrative": 250, "recheck": 60, "table_t2": 400, "table_t3": 1500, "table_t4": 200}
    # A picture costs roughly what a page of text does; providers differ, so this is rough.
    pt = sum(estimate_tokens(m["content"]) if isinstance(m["content"], str) else sum(estimate_tokens(p.get("text", "")) + (1000 if p["type"] == "image_url" else 0) for p in m["content"]) for c in calls for m in c.messages)
    return pt, sum(expected_out.get(c.task, 300) for c in calls)


async def run(client: LLMClient, doc: Document, report: Report, calls: list[Call], usage: Usage) -> None:
    filled: list[str] = []
    for call in calls:
        try:
            answer = await client.ask(call.messages, call.response_model, prompt_tag=call.prompt_tag, usage=usage, model=call.model)
        except CallFailed as exc:
            _note_failure(report, call, str(exc))
            continue
        readings: list[tuple[str, float | None, str]] = []  # (key, value, quote)
        if call.task == "narrative":
            readings = [(key, getattr(answer, name).value, getattr(answer, name).quote) for name, key in NARRATIVE_KEYS.items()]
        elif call.task == "vision_table":
            cols = columns(call.kind, report.template or "2021")
            for row, (values, _) in _rows(answer).items():
                for col, value in zip(cols[row], values):
                    second_opinion(report, f"{call.kind}.{row}.{col}", value)
        elif call.task == "recheck":
            readings = [(call.key, answer.value, answer.quote)]  # type: ignore[attr-defined]
        else:
            rows = _rows(answer)
            broken = relations(report.template, rows) if call.kind == "t3" and report.template else []
            if broken:
                follow = [*call.messages, {"role": "assistant", "content": answer.model_dump_json()}, {"role": "user", "content": _reask(broken)}]
                try:
                    answer = await client.ask(follow, call.response_model, prompt_tag=call.prompt_tag, usage=usage)
                    rows = _rows(answer)
                except CallFailed as exc:
                    _note_failure(report, call, str(exc))
            cols = columns(call.kind, report.template or "2021")
            readings = [(f"{call.kind}.{row}.{col}", value, quote) for row, (values, quote) in rows.items() for col, value in zip(cols[row], values)]
        planted = planted_instruction(call.source)
        filled += [key for key, value, quote in readings if merge(doc, report, key, value, quote, call.source, planted=planted)]
    corroborate(report, doc, filled)


def corroborate(report: Report, doc: Document, filled: list[str]) -> None:
    """Flag each value the LLM filled, unless a relation that holds pins it down from the rules' values.

    A passing relation whose other operands all come from the rules (a row's cells
    and its 总计, the narrative count and t3.new.total) leaves the filled value only
    one possibility, so the rules vouch for it.
    """
    if not filled:
        return
    from_llm = {k for k, v in report.values() if v.method is Method.LLM}
    held = [c for c in (*table_relations(report), *narrative_agreement(report, doc)) if c.outcome is Outcome.PASSED]
    for key in filled:
        if not any(key in c.keys and not (set(c.keys) - {key}) & from_llm for c in held):
            report.get(key).flag(UNCORROBORATED)


def _rows(answer: Any) -> dict[str, tuple[list[float | None], str]]:
    return {r.row: (list(r.values), r.quote) for r in answer.rows}


def relations(template: TemplateId, rows: dict[str, tuple[list[float | None], str]]) -> list[str]:
    """Table 三's relations (the template's, as the checks use them) broken by an answer, with operands."""
    names = [c for c, _ in T3_COLUMNS]
    values = {f"t3.{row}.{col}": v for row, (vals, _) in rows.items() for col, v in zip(names, vals)}
    out = []
    for rel in t3_relations(template, rows):
        sides = rel.sides(values)
        if sides is not None and rel.broken(values):
            left = " + ".join(f"{k[3:]} {values[k]:g}" for k in rel.left)
            right = " + ".join(f"{k[3:]} {values[k]:g}" for k in rel.right)
            out.append(f"{rel.name}: {left} = {sides[0]:g}, but {right} = {sides[1]:g}")
    return out


def _reask(broken: list[str]) -> str:
    listed = "\n".join(f"- {b}" for b in broken[:12])
    return (
        "你的答案不满足表格的勾稽关系：\n"
        f"{listed}\n"
        "请对照原文重新核对这些数字，改正抄错的地方。如果原文表格本身就对不上，请保持原文数字，不要为了凑数而修改。"
    )


def _note_failure(report: Report, call: Call, why: str) -> None:
    """Every field the call asked about is flagged: its second reading did not happen."""
    for key in call.asks:
        report.get(key).flag(f"LLM call failed: {why[:160]}")


def second_opinion(report: Report, key: str, value: float | None) -> None:
    """A vision model's reading of a picture: it cannot be checked against text, so it only flags."""
    current = report.get(key)
    value = _as_count(key, value)
    if value is None:
        return  # '看不清' or blank: no opinion worth a reviewer's time
    if current.state is State.NUMBER:
        if abs(float(current.value) - value) > 1e-9:  # type: ignore[arg-type]
            current.flag(f"vision model reads {value:g} in the picture")
    else:
        current.flag(f"vision model reads {value:g} in the picture (not output: a picture reading cannot be checked against text)")


def merge(doc: Document, report: Report, key: str, value: float | None, quote: str, source: str, *, planted: str | None = None) -> bool:
    """Put one LLM reading beside the deterministic value; never output an ungrounded number.

    Returns whether it filled the value.  ``planted``: an instruction to the model
    found in the source, after which the model's answers fill nothing.
    """
    current = report.get(key)
    value = _as_count(key, value)
    rules = float(current.value) if current.state is State.NUMBER else None  # type: ignore[arg-type]
    if value is None:
        if rules is not None:
            current.flag("LLM finds no value here")
        return False
    if rules is not None and abs(rules - value) < 1e-9:
        return False  # both paths agree: there is nothing to change and nothing to review
    why = supported(value, quote, source, topic(key, report.template))
    if why is not None:
        current.flag(f"LLM answer {value:g} rejected as unsupported: {why}")
        return False
    if rules is not None:
        current.flag(f"LLM reads {value:g} (“{quote.strip()[:40]}”)")
        return False
    if current.state in (State.BLANK, State.DASH):
        current.flag(f"LLM reads {value:g} where the rules read {current.state.value}")
        return False
    if planted:
        current.flag(f"LLM answer {value:g} not used: the source text holds an instruction to the model (suspected prompt injection: “{planted}”)")
        return False
    prov = Provenance(file=doc.source, span=_span(doc, quote))
    report.set(key, Value(value=value, raw=quote.strip()[:200], state=State.NUMBER, provenance=prov, method=Method.LLM, confidence=LLM_CONFIDENCE))
    return True


def _as_count(key: str, value: float | None) -> float | None:
    if value is None:
        return None
    return value if key in DECIMAL_KEYS or key == "s6.processing_fee_yuan" or not float(value).is_integer() else int(value)


def _span(doc: Document, quote: str) -> tuple[int, int] | None:
    at = doc.text.find(quote.strip())
    return (at, at + len(quote.strip())) if at >= 0 and quote.strip() else None

