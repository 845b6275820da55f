"""Repair suggestions: injected misreadings of real tables are undone, ranked first, and verified.

Tables are built from gold (a bundled seed's, or the fixed corpus's), then damaged the way
readings go wrong; the expected repair is the injected damage undone, never the solver's output.
"""

from __future__ import annotations

import json
from pathlib import Path

from nianbao.bundled import GOLD
from nianbao.repair import Diagnosis, FixKind, relations_for, suggest
from nianbao.schemas import Method, State, Value
from nianbao.schemas.relations import Relation
from nianbao.schemas.template import T3_COLUMNS

COLS = [c for c, _ in T3_COLUMNS]
CORPUS_GOLD = Path(__file__).resolve().parents[1] / "samples" / "corpus" / "gold"


def _gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["fields"]


def _cell(v: int | str | None, method: Method = Method.OCR, confidence: float = 0.9) -> Value:
    if v is None:
        return Value(state=State.DASH, raw="-", method=method, confidence=confidence)
    if v == "":
        return Value(state=State.BLANK, raw="", method=method, confidence=confidence)
    return Value(value=v, raw=str(v), state=State.NUMBER, method=method, confidence=confidence)


def _table(fields: dict, method: Method = Method.OCR) -> dict[str, Value]:
    return {k: _cell(v, method) for k, v in fields.items() if k.startswith("t3.")}


def _set_row(values: dict[str, Value], row: str, read: list, method: Method = Method.OCR) -> None:
    for col, v in zip(COLS, read, strict=True):
        values[f"t3.{row}.{col}"] = _cell(v, method)


def _all_hold(values: dict[str, Value], relations: list[Relation]) -> bool:
    nums = _numbers(values)
    return not any(r.broken(nums) for r in relations)


def _numbers(values: dict[str, Value]) -> dict[str, float]:
    return {k: (float(v.value) if v.state is State.NUMBER else 0.0) for k, v in values.items()}


SEED = _gold(GOLD / "000_25a82b73f95a5995.json")
DENSE = _gold(CORPUS_GOLD / "gen001_001.json")
T3 = relations_for("2021", tables=("t3",))


def test_gold_tables_are_consistent_and_get_no_suggestions():
    for fields in (SEED, DENSE):
        report = suggest(_table(fields), T3)
        assert report.diagnosis is Diagnosis.CONSISTENT
        assert report.suggestions == [] and report.failing == []


def test_split_number_and_dash_read_as_one_are_ranked_first():
    """The issue's case: '1 1' (11) split over two cells, and a '-' read as '1'."""
    values = _table(SEED)
    # Row 一 of the seed is 9 2 0 0 0 0 11; its 总计 was letter-spaced '1 1', so the row had
    # eight tokens and the reader kept the last seven (the row shifted left, the 9 lost).
    assert [SEED[f"t3.new.{c}"] for c in COLS] == [9, 2, 0, 0, 0, 0, 11]
    _set_row(values, "new", [2, 0, 0, 0, 0, 1, 1])
    # The source shows '-' where OCR read '1' (a low-confidence glyph).
    values["t3.denied.third_party.commercial"] = Value(value=1, raw="1", state=State.NUMBER, method=Method.OCR, confidence=0.6)
    report = suggest(values, T3)
    assert report.diagnosis is Diagnosis.READING_DOUBTFUL and report.explained
    assert "t3 row sums to 总计 [new]" in report.failing and "t3 row sums to 总计 [denied.third_party]" in report.failing
    best = report.suggestions[0]
    assert sorted(best.kinds) == sorted([FixKind.SPLIT_NUMBER, FixKind.MARK_AS_DIGIT])
    changes = best.changes()
    assert changes["t3.denied.third_party.commercial"] == (None, State.DASH)
    expected_new = {f"t3.new.{c}": v for c, v in zip(COLS, [9, 2, 0, 0, 0, 0, 11])}
    for key, (v, state) in changes.items():
        if key.startswith("t3.new."):
            assert (v, state) == (expected_new[key], State.NUMBER)
    assert {k for k in changes if k.startswith("t3.new.")} == {k for k, v in expected_new.items() if values[k].value != v}
    fixed = best.apply(values)
    assert _all_hold(fixed, T3)
    assert set(best.repairs) == set(report.failing)
    # Every suggestion makes every relation hold, and the ranking is by cost.
    assert all(_all_hold(s.apply(values), T3) for s in report.suggestions)
    assert [s.cost for s in report.suggestions] == sorted(s.cost for s in report.suggestions)
    assert values["t3.new.total"].value == 1  # suggestions are never applied by themselves


def test_split_number_in_the_middle_of_a_row_shifts_the_rest_back():
    values = _table(DENSE)
    true = [DENSE[f"t3.granted.{c}"] for c in COLS]
    assert true == [2, 101, 7, 3, 10, 7, 130]
    _set_row(values, "granted", [2, 101, 7, 3, 1, 0, 7])  # '1 0' in 法律服务机构; 130 fell off the end
    best = suggest(values, T3).suggestions[0]
    assert best.kinds == [FixKind.SPLIT_NUMBER]
    assert best.changes() == {f"t3.granted.{c}": (v, State.NUMBER) for c, v, r in zip(COLS[4:], true[4:], [1, 0, 7])}
    assert _all_hold(best.apply(values), T3)


def test_dropped_cell_shifts_a_row():
    """A text export lost the empty 科研机构 cell of 三（二）: the rest moved one column left."""
    values = _table(DENSE, Method.TEXT_TABLE)
    true = [DENSE[f"t3.partial.{c}"] for c in COLS]
    assert true == [25, 25, 0, 1, 25, 7, 83]
    _set_row(values, "partial", [25, 25, 1, 25, 7, 83, ""], Method.TEXT_TABLE)
    report = suggest(values, T3)
    assert report.diagnosis is Diagnosis.READING_DOUBTFUL and report.explained
    best = report.suggestions[0]
    assert best.kinds == [FixKind.DROPPED_CELL]
    after = _numbers(best.apply(values))
    assert [after[f"t3.partial.{c}"] for c in COLS] == true
    assert _all_hold(best.apply(values), T3)


def test_ocr_eight_read_as_three():
    values = _table(DENSE)
    values["t3.new.natural_person"] = _cell(238)  # 288, the middle 8 read as 3
    report = suggest(values, T3)
    best = report.suggestions[0]
    assert best.kinds == [FixKind.LOOKALIKE]
    assert best.changes() == {"t3.new.natural_person": (288, State.NUMBER)}
    assert "3" in best.fixes[0].reason and "8" in best.fixes[0].reason
    # A free value on another cell could also satisfy a relation, but costs more.
    assert all(s.cost > best.cost for s in report.suggestions[1:])


def test_faithful_reading_with_wrong_arithmetic_is_source_inconsistent():
    """An HTML table read exactly as printed, whose own 总计 is off: the report is wrong, not the reading."""
    values = _table(DENSE, Method.HTML)
    values["t3.total.total"] = _cell(2163, Method.HTML)  # the report prints 2163 where its cells sum to 2136
    report = suggest(values, T3)
    assert report.diagnosis is Diagnosis.SOURCE_INCONSISTENT
    assert not report.explained
    assert "arithmetic" in report.explanation
    assert report.suggestions, "free edits are offered, labelled as corrections of the source"
    for s in report.suggestions:
        assert s.corrects_source and all(k is FixKind.FREE for k in s.kinds)
        assert _all_hold(s.apply(values), T3)
    assert report.suggestions[0].changes() == {"t3.total.total": (2136, State.NUMBER)}


def test_faithful_reading_gets_no_glyph_misreadings():
    values = _table(DENSE, Method.HTML)
    values["t3.new.natural_person"] = _cell(238, Method.HTML)  # printed so: no OCR to blame
    report = suggest(values, T3)
    assert report.diagnosis is Diagnosis.SOURCE_INCONSISTENT
    assert all(k is FixKind.FREE for s in report.suggestions for k in s.kinds)


def test_three_injected_errors_on_a_full_table_within_the_work_bound():
    values = _table(DENSE)
    values["t3.new.natural_person"] = _cell(238)  # 288: 8 read as 3
    values["t3.partial.research"] = _cell(1)  # '-' (0) read as 1
    _set_row(values, "granted", [2, 101, 7, 3, 1, 0, 7])  # '1 0' split
    bound = 20_000
    report = suggest(values, T3, max_work=bound)
    assert not report.truncated and report.work <= bound
    best = report.suggestions[0]
    assert sorted(best.kinds) == sorted([FixKind.LOOKALIKE, FixKind.MARK_AS_DIGIT, FixKind.SPLIT_NUMBER])
    after = _numbers(best.apply(values))
    assert after == {k: float(v or 0) for k, v in DENSE.items() if k.startswith("t3.")}


def test_the_work_bound_is_reported_when_it_cuts_the_search():
    values = _table(DENSE)
    for key, v in (("t3.new.natural_person", 5), ("t3.granted.commercial", 44), ("t3.denied.third_party.other_org", 9)):
        values[key] = _cell(v)  # values no misreading explains
    report = suggest(values, T3, max_work=50)
    assert report.truncated and report.work <= 51
    assert "bound" in report.explanation
