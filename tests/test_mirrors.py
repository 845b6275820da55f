"""Mirror sites and fragments: traditional characters, injected pinyin, pages without a title."""

from __future__ import annotations

import re
from pathlib import Path

import opencc

from nianbao.eval.score import values_equal
from nianbao.pipeline import extract_file

from .conftest import SEEDS, gold

SEED = "000_25a82b73f95a5995"


def _pinyin_after_some_characters(text: str) -> str:
    """What hijacked mirrors do: 動(dòng)態(tài)."""
    marks = {"動": "dòng", "態": "tài", "鎮": "zhèn", "請": "qǐng", "開": "kāi"}
    return re.sub("|".join(marks), lambda m: f"{m.group(0)}({marks[m.group(0)]})", text)


def test_a_traditional_mirror_with_pinyin_reads_like_its_original(tmp_path: Path) -> None:
    text = (SEEDS / f"{SEED}.txt").read_text(encoding="utf-8")
    mirror = _pinyin_after_some_characters(opencc.OpenCC("s2tw").convert(text))
    assert "開" in mirror and "(kāi)" in mirror
    path = tmp_path / "mirror.txt"
    path.write_text(mirror, encoding="utf-8")
    record = extract_file(path)
    assert record.status == "ok", record.error
    expected = {k: v for k, v in gold(SEED)["fields"].items() if k.startswith(("t2.", "t3.", "t4."))}
    wrong = {k: (g, record.fields.get(k)) for k, g in expected.items() if not values_equal(g, record.fields.get(k))}
    assert wrong == {}
    # Matching is on mainland forms; the raw text stays what the mirror shows.
    label_cell = record.report.get("t3.new.total")
    assert label_cell.raw == "11"


def test_a_fragment_with_one_template_heading_is_read_not_rejected(tmp_path: Path) -> None:
    path = tmp_path / "fragment.txt"
    path.write_text("是否打开信息无障碍浏览\n一、总体情况\n2021年，我委认真贯彻落实政务公开工作要求。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.status == "ok", record.error
    assert "t3.new.total" in record.review  # what the fragment lacks is flagged, not invented
    assert record.fields["t3.new.total"] is None


def test_a_title_without_the_word_annual_report_is_a_report(tmp_path: Path) -> None:
    path = tmp_path / "title.txt"
    path.write_text("武汉市公安局2024年度政府信息公开工作报告\n现将年度工作情况报告如下。\n", encoding="utf-8")
    assert extract_file(path).status == "ok"


def test_a_page_that_is_not_a_report_is_still_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("会议纪要\n今天讨论了食堂菜单。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.status == "error" and record.error_stage == "locate"


def test_a_row_cut_off_where_the_text_ends_gives_no_values(tmp_path: Path) -> None:
    text = (SEEDS / f"{SEED}.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if "属于四类过程性信息" in line)
    cells = lines[k].split("\t")
    path = tmp_path / "cut.txt"
    path.write_text("\n".join([*lines[:k], "\t".join(cells[:-1])]), encoding="utf-8")  # the 总计 cell is lost
    record = extract_file(path)
    assert record.status == "ok", record.error
    for col in ("natural_person", "total"):
        key = f"t3.denied.process_info.{col}"
        assert record.fields[key] is None and "cut off" in record.review[key]
    assert record.fields["t3.denied.internal_affairs.total"] == gold(SEED)["fields"]["t3.denied.internal_affairs.total"]


def test_spam_in_place_of_the_agency_gives_no_name(tmp_path: Path) -> None:
    path = tmp_path / "spam.txt"
    path.write_text("必威体育app官网2023年政府信息公开工作年度报告\n一、总体情况\n本年度主动公开信息12条。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] is None
    assert "spam" in record.review["meta.agency"]
    assert record.fields["meta.year"] == 2023


def test_spam_before_the_agency_leaves_the_name_flagged(tmp_path: Path) -> None:
    path = tmp_path / "spam.txt"
    path.write_text("必威体育app官网:教育局2023年政府信息公开工作年度报告\n一、总体情况\n本年度主动公开信息12条。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] == "教育局"
    assert "spam" in record.review["meta.agency"]
    assert record.report.get("meta.agency").provenance.span == (10, 13)


def test_a_flipbook_page_prefix_is_not_part_of_the_name(tmp_path: Path) -> None:
    path = tmp_path / "flip.txt"
    path.write_text("Page 8 - 威海市文登区信访局2022年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    assert extract_file(path).fields["meta.agency"] == "威海市文登区信访局"


def _one_cell_per_line(text: str, *, empty: str = "|") -> str:
    """What copying a web table as text often gives: every cell on its own line, blank lines between."""
    out = []
    for line in text.splitlines():
        if "\t" not in line:
            out.append(line)
            continue
        cells = [c.strip() for c in line.split("\t")]
        while cells and not cells[0]:
            cells.pop(0)  # the indentation of grouped rows
        out += [c if c else empty for c in cells]
    return "\n\n".join(out) + "\n"


def test_tables_with_one_cell_per_line_read_like_their_rows(tmp_path: Path) -> None:
    for name in ("000_25a82b73f95a5995", "003_d746fab4eb0be43f"):
        path = tmp_path / f"{name}.txt"
        path.write_text(_one_cell_per_line((SEEDS / f"{name}.txt").read_text(encoding="utf-8")), encoding="utf-8")
        record = extract_file(path)
        assert record.status == "ok", record.error
        expected = {k: v for k, v in gold(name)["fields"].items() if k.startswith(("t2.", "t3.", "t4."))}
        wrong = {k: (g, record.fields.get(k)) for k, g in expected.items() if not values_equal(g, record.fields.get(k))}
        silent = {k: w for k, w in wrong.items() if k not in record.review}
        assert silent == {}, name
        assert len(wrong) <= len(expected) // 20, (name, wrong)


def test_a_page_starting_with_the_last_row_of_table_three_reads_that_row(tmp_path: Path) -> None:
    """A flipbook page: the rest of 表三 was on the page before; the row is on one line."""
    path = tmp_path / "page9.txt"
    path.write_text(
        "Page 9 - 2020年报_审计局\n\n四、结转下年度继续办理 2 0 0 0 1 0 3\n\n"
        "四、政府信息公开行政复议、行政诉讼情况\n\n五、存在的主要问题及改进情况\n\n我局政务公开工作取得了一些成绩。\n",
        encoding="utf-8",
    )
    record = extract_file(path)
    assert record.status == "ok", record.error
    row = {c: record.fields[f"t3.carried_forward.{c}"] for c in ("natural_person", "commercial", "research", "nonprofit", "legal_services", "other_org", "total")}
    assert row == {"natural_person": 2, "commercial": 0, "research": 0, "nonprofit": 0, "legal_services": 1, "other_org": 0, "total": 3}
    assert record.fields["t3.new.total"] is None and "t3.new.total" in record.review
    v = record.report.get("t3.carried_forward.total")
    assert v.provenance is not None and v.provenance.span is not None
    a, b = v.provenance.span
    assert path.read_text(encoding="utf-8")[a:b] == "3"


def test_the_publisher_in_page_metadata_names_the_agency(tmp_path: Path) -> None:
    path = tmp_path / "meta.txt"
    path.write_text("2020年政府信息公开工作年度报告\n发布日期: 2021-01-29  来源:大五里镇 字体:  打印\n一、总体情况\n本年度主动公开信息12条。\n", encoding="utf-8")
    record = extract_file(path)
    assert record.fields["meta.agency"] == "大五里镇"
    assert "meta.agency" in record.review  # not from the title: a reviewer confirms it


def test_counts_in_chinese_numerals_are_read_and_flagged(tmp_path: Path) -> None:
    path = tmp_path / "cn.txt"
    path.write_text(
        "某某街道2023年政府信息公开工作年度报告\n一、总体情况\n2023年，全年主动公开政府信息四十余条。"
        "本年度共收到政府信息公开申请一件。\n",
        encoding="utf-8",
    )
    record = extract_file(path)
    assert record.fields["s1.applications_received"] == 1
    assert "Chinese numerals" in record.review["s1.applications_received"]
    assert record.fields["s1.proactive_count"] == 40
    assert "approximate" in record.review["s1.proactive_count"]


def test_table_two_sub_tables_of_one_row_each_are_read_cell_per_line(tmp_path: Path) -> None:
    # 2019 表二 as a web page copies it: every 第二十条 sub-table its own header and one row.
    lines = ["二、主动公开政府信息情况"]
    for header, label, values in (
        (["第二十条第（一）项", "信息内容", "本年新", "制作数量", "本年新", "公开数量", "对外公开总数量"], "规章", ["0", "1", "5"]),
        (["第二十条第（八）项", "信息内容", "上一年项目数量", "本年增/减"], "行政事业性收费", [" 3", "-1 "]),
        (["第二十条第（九）项", "信息内容", "采购项目数量", "采购总金额"], "政府集中采购", ["2", "45.5"]),
    ):
        lines += [*header, label, *values]
    lines += ["三、收到和处理政府信息公开申请情况", "本年度未收到申请。"]
    path = tmp_path / "t2.txt"
    path.write_text("某镇2020年政府信息公开工作年度报告\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    fields = extract_file(path).fields
    assert (fields["t2.rules.made"], fields["t2.rules.published"], fields["t2.rules.public_total"]) == (0, 1, 5)
    assert (fields["t2.fees.prev_items"], fields["t2.fees.change"]) == (3, -1)
    assert (fields["t2.procurement.items"], fields["t2.procurement.amount"]) == (2, 45.5)


def test_an_excerpt_ending_at_the_next_rows_ordinal_keeps_the_whole_row(tmp_path: Path) -> None:
    text = (SEEDS / f"{SEED}.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if "属于国家秘密" in line)
    path = tmp_path / "cut.txt"
    path.write_text("\n".join([*lines[: k + 1], "2"]) + "\n", encoding="utf-8")
    record = extract_file(path)
    expected = gold(SEED)["fields"]
    for col in ("natural_person", "total"):
        key = f"t3.denied.state_secret.{col}"
        assert record.fields[key] == expected[key]
    assert record.fields["t3.denied.prohibited_by_law.total"] is None


def test_a_row_of_spaced_values_whose_total_is_wrong_reads_as_written_and_is_flagged(tmp_path: Path) -> None:
    text = (SEEDS / f"{SEED}.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if "本年新收" in line)
    cells = [c for c in lines[k].split("\t") if c.strip()]
    total = int(cells[-1]) + 1  # the report's own sum is off by one
    lines[k] = " ".join([*cells[:-1], str(total)])
    path = tmp_path / "broken.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    record = extract_file(path)
    assert record.fields["t3.new.total"] == total
    assert "t3.new.total" in record.review
