"""Narrative facts as real reports state them, distractors and mirror copies included."""

from __future__ import annotations

from pathlib import Path

import opencc
import pytest

from nianbao.pipeline import extract_file
from nianbao.schemas import State

TITLE = "某县审计局2023年政府信息公开工作年度报告"


def _read(tmp_path: Path, *sections: str) -> dict[str, object]:
    body = "\n".join([TITLE, *sections, "五、存在的主要问题及改进情况", "无。"])
    path = tmp_path / "report.txt"
    path.write_text(body + "\n", encoding="utf-8")
    record = extract_file(path)
    assert record.status == "ok", record.error
    return {"record": record, "text": body}


def _fact(tmp_path: Path, key: str, *sections: str) -> tuple[object, bool, str | None, str]:
    out = _read(tmp_path, *sections)
    record = out["record"]
    value = record.report.get(key)  # type: ignore[attr-defined]
    return value.value, value.flagged, value.raw, out["text"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # The first count of published items is the headline, not its parts.
        ("一、总体情况\n2023年，市卫生健康委网站共发布信息3972条，官方微博更新5092条。", 3972),
        # Counts of reactions and media coverage before it are not published items.
        ("一、总体情况\n全年接受媒体采访60多批次，媒体报道累计729篇。门户网站发布信息93条。", 93),
        # 其中主动公开 beats a total of documents made (130件 制发, 112件 不予公开).
        ("一、总体情况\n本年度，我街道共制发政府信息130件，其中主动公开18件，不予公开112件。", 18),
        # A running total 截至目前 is not the year's count; its 其中2023年 part is.
        ("一、总体情况\n截至目前，政务公开政府信息总计1681条，其中2023年公开324条。", 324),
        # 截至 the year's last day is the year's count.
        ("一、总体情况\n截止2023年12月31日我局通过官方网站发布政务类信息34条，概况类信息150条。", 34),
        # The catalogue of 主动公开 items is not the count of items disclosed.
        ("一、总体情况\n全年信息发布总数1316条；政务主动公开目录107项，新增23项。", 1316),
    ],
)
def test_proactive_count_reads_the_headline(tmp_path: Path, sentence: str, expected: int) -> None:
    value, _, raw, _ = _fact(tmp_path, "s1.proactive_count", sentence)
    assert value == expected
    assert raw is not None and str(expected) in raw


@pytest.mark.parametrize("heading", ["第二十条第（一）项", "第 二 十 条 第 （ 一 ） 项", "主动公开第二十条规定的信息二十条。"])
def test_an_ordinal_of_the_regulation_is_not_a_count(tmp_path: Path, heading: str) -> None:
    # "第二十条" reads like 二十条 (twenty items); with no statement the fact is null and flagged.
    value, flagged, _, _ = _fact(tmp_path, "s1.proactive_count", "一、总体情况\n我局认真落实条例。", f"二、主动公开政府信息情况\n{heading}")
    expected = 20 if "信息二十条" in heading else None
    assert value == expected and flagged


def test_only_a_yearly_proactive_statement_goes_unflagged(tmp_path: Path) -> None:
    _, sure, _, _ = _fact(tmp_path, "s1.proactive_count", "一、总体情况\n全年主动公开政府信息63条，其中组织机构类信息16条。")
    _, guessed, _, _ = _fact(tmp_path, "s1.proactive_count", "一、总体情况\n通过门户网站公开信息2017条，通过新媒体公开信息1039条。")
    assert not sure and guessed


def test_a_traditional_mirror_with_pinyin_keeps_its_own_text_as_raw(tmp_path: Path) -> None:
    mirror = opencc.OpenCC("s2t").convert("一、总体情况\n2020年，全镇累计主动公开政府信息114条，其中通过政府网站公开信息72条。")
    mirror = mirror.replace("鎮", "鎮(zhèn)").replace("動", "動(dòng)")
    value, _, raw, text = _fact(tmp_path, "s1.proactive_count", mirror)
    assert value == 114
    assert raw is not None and "主動(dòng)公開" in raw and raw in text


def test_mainland_words_are_not_rewritten_as_taiwan_phrases(tmp_path: Path) -> None:
    # A Taiwan phrase table turns 新增 into 添加 and 文件 into 文档; matching must not.
    value, _, _, _ = _fact(tmp_path, "s1.proactive_count", "一、总体情况\n2023年，厅门户网站新增信息14129条，其中工作动态类信息3455条。")
    assert value == 14129


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("三、收到和处理政府信息公开申请情况\n2022年，区政府办公室共收到8份政府信息公开申请，均为自然人申请。", 8),
        ("一、总体情况\n2021年度，我委收到7条依申请公开政府信息的申请，并已办理完成。", 7),
        ("一、总体情况\n全年收政府信息公开申请464件，结转上年度政府信息公开申请3件。", 464),
        ("一、总体情况\n2023年度，本局收到政府信息公开申请一件。", 1),
    ],
)
def test_applications_received_in_either_word_order(tmp_path: Path, sentence: str, expected: int) -> None:
    value, _, _, _ = _fact(tmp_path, "s1.applications_received", sentence)
    assert value == expected


def test_counts_before_the_noun_in_section_six(tmp_path: Path) -> None:
    six = "六、其他需要报告的事项\n及时公开我局承办的13件人大代表建议和18件政协委员提案办理情况。"
    out = _read(tmp_path, "一、总体情况\n无。", six)
    report = out["record"].report  # type: ignore[attr-defined]
    assert report.get("s6.npc_suggestions").value == 13
    assert report.get("s6.cppcc_proposals").value == 18


def test_no_fee_stated_with_words_between(tmp_path: Path) -> None:
    value, _, raw, _ = _fact(tmp_path, "s6.processing_fee_yuan", "一、总体情况\n2020年，我镇未对公众依申请公开政府信息收取任何费用。")
    assert value == 0 and raw is not None and "收取任何费用" in raw


def test_an_unstated_fact_is_null_and_flagged(tmp_path: Path) -> None:
    out = _read(tmp_path, "一、总体情况\n我局高度重视政务公开工作。")
    value = out["record"].report.get("s6.npc_suggestions")  # type: ignore[attr-defined]
    assert value.value is None and value.state is State.NOT_FOUND and value.flagged
