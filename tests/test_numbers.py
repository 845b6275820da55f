"""Number cells as reports write them: units, brackets, full width, and text that is not one number."""

from __future__ import annotations

import pytest

from nianbao.extract.document import Cell, Document, Table
from nianbao.extract.fill import slot_value
from nianbao.extract.numbers import parse_cell
from nianbao.extract.rows import read_row, row_sum_relation
from nianbao.schemas import State


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1909（件）", 1909),
        ("1909(件)", 1909),
        ("1909 （件）", 1909),
        ("1909件", 1909),
        ("1909 件次", 1909),
        ("1909件次", 1909),
        ("1909个", 1909),
        ("12条", 12),
        ("2条次", 2),
        ("3 项", 3),
        ("5人次", 5),
        ("3次", 3),
        ("2篇", 2),
        ("10元", 10),
        ("62.67（万元）", 62.67),
        ("62.67886万元", 62.67886),
        ("1,909", 1909),
        ("1,909件", 1909),
        ("１９０９", 1909),
        ("１９０９（件）", 1909),
        ("1909\u3000件", 1909),
        ("0件", 0),
        ("-5件", -5),
    ],
)
def test_numbers_with_units(text: str, value: object) -> None:
    p = parse_cell(text)
    assert p is not None and p.state is State.NUMBER and p.value == value
    assert p.raw == text  # the text as written, unit and all
    assert p.note is None


@pytest.mark.parametrize("text", ["1909 件 12", "1909件次12", "3件5件", "3件 5件", "1,9", "+2 -1", "3/5", "12（件）3"])
def test_several_numbers_give_no_number(text: str) -> None:
    p = parse_cell(text)
    assert p is not None and p.state is State.NOT_FOUND and p.value is None
    assert p.raw == text and p.note and text in p.note


@pytest.mark.parametrize(
    ("text", "state"), [("", State.BLANK), ("  ", State.BLANK), ("/", State.DASH), ("／", State.DASH), ("—", State.DASH), ("-", State.DASH), ("无", State.DASH), ("0", State.NUMBER)]
)
def test_blank_dash_and_zero_stay_apart(text: str, state: State) -> None:
    p = parse_cell(text)
    assert p is not None and p.state is state and p.raw == text
    assert (p.value == 0) if state is State.NUMBER else (p.value is None)


@pytest.mark.parametrize("text", ["件", "（件）", "单位：件", "1.", "1、", "（三）", "第1条", "2023-01-01", "68余条", "1.2.3", "本年新收政府信息公开申请数量"])
def test_label_text_stays_label(text: str) -> None:
    assert parse_cell(text) is None


def test_spaced_digits_are_joined_only_with_a_note() -> None:
    p = parse_cell("12 34")
    assert p is not None and p.value == 1234 and p.note  # flagged, never silent


REL = row_sum_relation(6)


def test_a_row_with_units_reads_every_cell() -> None:
    read = read_row([Cell(t) for t in ("一、本年新收政府信息公开申请数量", "1（件）", "0件", "0 件", "0", "0", "0", "1件")], 7, relation=REL)
    assert [s.parsed.value for s in read.slots] == [1, 0, 0, 0, 0, 0, 1]
    assert all(s.note is None for s in read.slots)


def test_an_ambiguous_cell_is_kept_raw_and_flagged() -> None:
    cells = [Cell(t) for t in ("规章", "3", "1909 件 12", "5")]
    read = read_row(cells, 3)
    assert [s.parsed.state for s in read.slots] == [State.NUMBER, State.NOT_FOUND, State.NUMBER]
    assert read.label == "规章"  # the odd cell does not swallow its neighbours into the label
    table = Table(rows=[cells])
    doc = Document(source="x.txt", format="txt", blocks=[table])
    v = slot_value(doc, read.slots[1], table, 0)
    assert v.value is None and v.state is State.NOT_FOUND and v.raw == "1909 件 12"
    assert v.flagged and "more than one number" in v.review[0]
