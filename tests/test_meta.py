"""The agency when the title does not name it: metadata, the narrative's subject, contact lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.pipeline import extract_file

BODY = "\n一、总体情况\n本年度主动公开信息12条。\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022年政府信息公开工作年度报告\n一、总体情况\n2022年，区政府办公室认真贯彻执行《条例》。\n", "区政府办公室"),
        ("一、总体情况\n2023年，在区委、区政府的坚强领导下，官洲街道办事处认真贯彻落实《条例》。\n", "官洲街道办事处"),
        ("一、总体情况\n2022年以来，丰收乡在县委县政府的正确领导下，认真围绕重点工作。\n", "丰收乡"),
        ("一、总体情况\n本报告由两城镇人民政府党政办公室编制。\n", "两城镇人民政府"),
        ("一、总体情况\n如对本报告有任何疑问，请与池州市公安局办公室联系。\n", "池州市公安局"),
        ("Page 9 - 2020年报_审计局\n四、政府信息公开行政复议、行政诉讼情况\n", "审计局"),
    ],
)
def test_agency_from_the_text_is_read_and_flagged(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "r.txt"
    path.write_text(text + BODY, encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] == expected
    assert "meta.agency" in record.review  # not from the title: a reviewer confirms it


def test_a_traditional_title_names_the_agency_as_written(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("拖市鎮(zhèn)2020年政府信息公開工作年度報告" + BODY, encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] == "拖市鎮"
    assert record.fields["meta.year"] == 2020
    assert record.report.get("meta.agency").raw == "拖市鎮"  # the characters as written


def test_a_sentence_fragment_is_never_the_agency(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("一、总体情况\n（一）主动公开政府信息情况我委认真落实《条例》。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] is None
    assert "meta.agency" in record.review


def test_a_title_broken_over_two_lines_names_agency_and_year(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("某区卫生健康局2025年政府信息公开\n工作年度报告" + BODY, encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] == "某区卫生健康局"
    assert record.fields["meta.year"] == 2025
    assert "meta.agency" not in record.review


def test_a_period_that_contradicts_the_title_flags_the_year(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    text = "某区卫生健康局2023年政府信息公开工作年度报告\n一、总体情况\n本报告所列数据的统计期限自202211日起至20221231日止。\n"
    path.write_text(text, encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.year"] == 2023  # never overwritten
    assert "2022" in record.review["meta.year"]


def test_a_period_with_lost_digits_gives_the_year(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("一、总体情况\n本报告所列数据的统计期限自202311日起至20231231日止。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.year"] == 2023
    assert "meta.year" in record.review
