"""Scraped text whose table cells ran together: the runs are cut by the template's relations.

Generated reports (both templates) are flattened the way scrapers take pages
(``eval.flatten``: a row per line, a table per line, or a table per line with spaces and
spaced-apart labels) and read back.  Every value cut out of a run must be the gold value;
every cell left open must be flagged with candidates that include the gold value.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from nianbao.eval.corpus import generate
from nianbao.eval.flatten import MODES, flatten
from nianbao.extract.backends.text import parse_text
from nianbao.extract.split import Equation, Segment, Shape, decide, row_readings, supported
from nianbao.pipeline import build_report
from nianbao.schemas import Method, State

# ---- The solver on hand-made rows and tables ----------------------------------------


def _segs(text: str) -> list[Segment]:
    return [Segment(t) for t in text.split()]


def _values(readings: list) -> list[list[int | None]]:
    return [[p.value for p in r] for r in readings]


def test_a_row_is_cut_by_its_total() -> None:
    got = row_readings(_segs("640020470"), Shape(7, groups=1), vanish=False)
    assert got.complete and _values(got.readings) == [[64, 0, 0, 2, 0, 4, 70]]


def test_no_leading_zeros_and_spaces_are_cuts() -> None:
    # "02" can only be 0 and 2; the space after "1" is a cut.
    got = row_readings(_segs("101130100101 1 02"), Shape(15, groups=3), vanish=False)
    assert _values(got.readings) == [[1, 0, 1, 1, 3, 0, 1, 0, 0, 1, 0, 1, 1, 0, 2]]


def test_a_row_no_relation_ties_is_pinned_by_length_only() -> None:
    assert _values(row_readings(_segs("021"), Shape(3), vanish=False).readings) == [[0, 2, 1]]
    # Four digits in three cells: three cuts, none chosen.
    assert len(row_readings(_segs("3100"), Shape(3), vanish=False).readings) > 1


def test_signed_and_decimal_cells() -> None:
    signed = _values(row_readings(_segs("240-1812"), Shape(3, signed=frozenset({1})), vanish=False).readings)
    assert [240, -18, 12] in signed and len(signed) > 1
    amounts = _values(row_readings(_segs("2135.5"), Shape(2, decimal=frozenset({1})), vanish=False).readings)
    assert sorted(amounts) == [[2, 135.5], [21, 35.5], [213, 5.5]]


def test_a_broken_row_has_no_cut() -> None:
    # 1 + 0 + 2 + 0 + 0 + 0 is not 4: no cut, however the cells are placed.
    for vanish in (False, True):
        assert row_readings(_segs("1020004"), Shape(7, groups=1), vanish=vanish).readings == []


def test_empty_cells_multiply_readings_and_the_column_relation_pins_them() -> None:
    """Row 0 alone: '77' is 7 in some column and its total.  Row 1 is a plain row.
    The column relation (row 0 + row 1 = row 2, per column) leaves one placement."""
    shape = Shape(3, groups=1)
    row0 = row_readings(_segs("77"), shape, vanish=True).readings
    assert len(row0) >= 2  # 7 in the first or the second column
    row1 = row_readings(_segs("1 0 1"), shape, vanish=False).readings
    row2 = row_readings(_segs("1 7 8"), shape, vanish=False).readings
    eqs = [Equation(f"col {c}", ((0, c, 1), (1, c, 1), (2, c, -1))) for c in range(3)]
    table = supported([row0, row1, row2], eqs)
    assert table.solved
    assert [[p.value for p in r] for r in table.supported[0]] == [[None, 7, 7]]
    cells = decide(table.supported[0], 3)
    assert cells[1].part is not None and cells[1].part.value == 7


def test_ambiguous_table_keeps_every_candidate() -> None:
    """Two rows with one 5 each, in columns the sums cannot tell apart: both placements stay."""
    shape = Shape(3, groups=1)
    a = row_readings(_segs("55"), shape, vanish=True).readings
    b = row_readings(_segs("55"), shape, vanish=True).readings
    total = row_readings(_segs("5 5 10"), shape, vanish=False).readings
    eqs = [Equation(f"col {c}", ((0, c, 1), (1, c, 1), (2, c, -1))) for c in range(3)]
    table = supported([a, b, total], eqs)
    assert table.solved and len(table.supported[0]) == 2
    assert decide(table.supported[0], 3)[0].part is None


def test_no_consistent_table_is_reported() -> None:
    shape = Shape(3, groups=1)
    rows = [row_readings(_segs(t), shape, vanish=False).readings for t in ("112", "213", "326")]
    eqs = [Equation(f"col {c}", ((0, c, 1), (1, c, 1), (2, c, -1))) for c in range(3)]
    assert not supported(rows, eqs).solved  # 1 + 2 is 3, but 1 + 1 is not 2


# ---- Generated reports, flattened ------------------------------------------------------

SEEDS = (3, 4)
COUNT = 9  # three of each table style (zero, number, blank) per seed
_CANDIDATES = re.compile(r"candidates: (.*)$")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes, dict]]:
    out = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"flat{seed}")
        generate(folder, seed=seed, count=COUNT, formats=("html",))
        for page in sorted((folder / "docs").glob("*.html")):
            gold = json.loads((folder / "gold" / f"{page.stem}.json").read_text(encoding="utf-8"))
            out.append((page.stem, page.read_bytes(), gold))
    return out


def _shown(value: object) -> str:
    return "blank" if value is None else str(value)


@pytest.mark.parametrize("mode", MODES)
def test_flattened_reports_cut_right_or_flag_with_candidates(corpus: list[tuple[str, bytes, dict]], mode: str) -> None:
    templates = set()
    split = flagged_open = 0
    for name, page, gold in corpus:
        text = flatten(page, mode, random.Random(name))
        report = build_report(parse_text(text, f"{name}.txt"))
        fields = gold["fields"]
        templates.add(fields["meta.template"])
        for key, want in fields.items():
            if not key.startswith(("t2.", "t3.", "t4.")):
                continue
            v = report.get(key)
            assert v is not None, key
            if v.method is Method.SPLIT:
                split += 1
                assert v.flagged, f"{name} {key}: a cut value is always flagged"
                assert v.value == want or (v.value is None and want is None), f"{name} {key}: cut {v.value!r}, gold {want!r}"
                if v.state is State.NUMBER:
                    assert v.raw and str(abs(v.value)).split(".")[0] in v.raw.replace("-", ""), f"{name} {key}: raw keeps the run"
                continue
            if v.value is None and v.state is State.NOT_FOUND:
                notes = " ".join(v.review)
                m = _CANDIDATES.search(notes)
                if m and want is not None:
                    flagged_open += 1
                    listed = [c.strip() for c in m.group(1).split("|")]
                    assert _shown(want) in listed or "…" in listed, f"{name} {key}: gold {want!r} not among {listed}"
                continue
            # Read directly (spaces gave the cells): must be right.
            assert v.value == want or (isinstance(want, float) and v.value == pytest.approx(want)), f"{name} {key}: read {v.value!r}, gold {want!r}"
    assert templates == {"2019", "2021"}
    assert split > 100 and flagged_open > 0


def test_glued_rows_become_table_rows_with_spans() -> None:
    text = "三、收到和处理政府信息公开申请情况\n自然人商业企业科研机构社会公益组织法律服务机构其他总计\n一、本年新收政府信息公开申请数量43625323\n二、上年结转政府信息公开申请数量010 1013\n"
    doc = parse_text(text, "x.txt")
    rows = [r for t in doc.tables for r in t.rows if any(c.run for c in r)]
    assert len(rows) == 2
    run = next(c for c in rows[0] if c.run)
    assert run.text == "43625323" and run.loc.span is not None
    a, b = run.loc.span
    assert text[a:b] == "43625323"


def test_ordinal_after_a_run_belongs_to_the_next_label() -> None:
    text = "（三）不予公开1．属于国家秘密 2101 1032．其他法律行政法规禁止公开773．危及“三安全一稳定”101101\n"
    doc = parse_text(text * 2, "x.txt")
    runs = [c.text for t in doc.tables for r in t.rows for c in r if c.run]
    assert runs[:3] == ["2101 103", "77", "101101"]
