"""Numbers, rows and encodings as real exports write them."""

from __future__ import annotations

import pytest

from nianbao.extract.backends.text import parse_text
from nianbao.extract.document import Cell, ExtractionError
from nianbao.extract.encoding import decode
from nianbao.extract.numbers import parse_cell
from nianbao.extract.rows import grouped_relation, read_row, row_sum_relation
from nianbao.schemas import State


@pytest.mark.parametrize(
    ("text", "state", "value"),
    [
        ("0", State.NUMBER, 0),
        ("1,234", State.NUMBER, 1234),
        ("1 234", State.NUMBER, 1234),
        ("６２．６７", State.NUMBER, 62.67),
        ("62.67886万元", State.NUMBER, 62.67886),
        ("+2", State.NUMBER, 2),
        ("-18", State.NUMBER, -18),
        ("", State.BLANK, None),
        ("/", State.DASH, None),
        ("—", State.DASH, None),
        ("-", State.DASH, None),
        ("无", State.DASH, None),
    ],
)
def test_parse_cell(text: str, state: State, value: object) -> None:
    p = parse_cell(text)
    assert p is not None and p.state is state and p.value == value and p.raw == text


@pytest.mark.parametrize("text", ["1.", "（三）", "属于国家秘密", "1、"])
def test_labels_are_not_values(text: str) -> None:
    assert parse_cell(text) is None


def cells(*texts: str) -> list[Cell]:
    return [Cell(t) for t in texts]


def values(read) -> list:
    return [s.parsed.value if s.parsed else "?" for s in read.slots]


REL = row_sum_relation(6)


def test_trailing_padding_is_dropped() -> None:
    read = read_row(cells("一、本年新收", "", "", "", "", "", "", "0", ""), 7, relation=REL)
    assert [s.parsed.state for s in read.slots][:6] == [State.BLANK] * 6
    assert values(read)[6] == 0


def test_run_together_digits_are_split_by_the_row_relation() -> None:
    read = read_row(cells("本年新收政府信息公开申请数量640020470"), 7, relation=REL)
    assert values(read) == [64, 0, 0, 2, 0, 4, 70]
    assert all(s.note for s in read.slots)  # flagged for review


def test_extra_cell_alignment_chosen_by_relation_is_flagged() -> None:
    read = read_row(cells("予以公开", "9", "5", "2", "1", "0", "0", "0", "8"), 7, relation=REL)
    assert values(read) == [5, 2, 1, 0, 0, 0, 8]
    assert all("总计 relation" in s.note for s in read.slots)


def test_ambiguous_row_gives_no_values() -> None:
    read = read_row(cells("予以公开", "1", "2", "3", "4", "5", "6", "7", "9"), 7, relation=REL)
    assert values(read) == ["?"] * 7


def test_one_dropped_cell_is_inferred_only_when_every_placement_agrees() -> None:
    zeros = read_row(cells("(七) 总计", "0", "0", "0", "0", "0", "0"), 7, relation=REL)
    assert values(zeros) == [0] * 7 and all(s.note for s in zeros.slots)
    mixed = read_row(cells("(七) 总计", "3", "0", "0", "0", "0", "3"), 7, relation=REL)
    assert "?" in values(mixed)


def test_table_four_run_of_fifteen_digits() -> None:
    read = read_row(cells("200133000300000"), 15, relation=grouped_relation(3, 5))
    assert values(read) == [2, 0, 0, 1, 3, 3, 0, 0, 0, 3, 0, 0, 0, 0, 0]
    broken = read_row(cells("201133000000000"), 15, relation=grouped_relation(3, 5))
    assert values(broken) == ["?"] * 15  # no split satisfies the totals: nothing is invented


def test_several_numbers_in_one_cell() -> None:
    read = read_row(cells("行政复议", "2 0 0 1 3"), 5, relation=row_sum_relation(4))
    assert values(read) == [2, 0, 0, 1, 3]


def test_decode_utf16_and_gbk() -> None:
    text = "聊城市卫生健康委员会 2023 年政府信息公开工作年度报告"
    assert decode(text.encode("utf-16"))[0] == text
    assert decode(text.encode("utf-16-le"))[0] == text
    assert decode(text.encode("gb18030")) == (text, "gb18030")
    assert decode(text.encode("utf-8")) == (text, "utf-8")


def test_undecodable_bytes_raise_a_clear_error() -> None:
    with pytest.raises(ExtractionError, match="cannot decode"):
        decode(bytes(range(128, 256)) * 20)


def test_markdown_pipe_tables_and_split_rows() -> None:
    doc = parse_text("| 信息内容 | 本年制发件数 |\n|---|---|\n| 规章 | 3 |\n\n正文", "x.md")
    assert len(doc.tables) == 1
    assert [c.text for c in doc.tables[0].rows[1]] == ["规章", "3"]
    assert doc.paragraphs[0].text == "正文"
