"""The scraped-text corpus: each crawler and copy-paste form is produced as specified, and its gold is what the page says."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from nianbao.eval.corpus import LOSSY_FORMATS, LOSSY_MARKS, SCRAPED_FORMATS, generate
from nianbao.eval.layout import table2
from nianbao.eval.render import scraped_table
from nianbao.eval.scrape import break_title, lose_date_digits
from nianbao.schemas.template import T2_ROWS, T3_COLUMNS, T3_ROWS

SEED = 3
COUNT = 12


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scraped")
    generate(out, seed=SEED, count=COUNT, formats=SCRAPED_FORMATS)
    return out


def _gold(corpus: Path, name: str) -> dict[str, Any]:
    return json.loads((corpus / "gold" / f"{name}.json").read_text(encoding="utf-8"))


def _docs(corpus: Path, fmt: str, cut: bool = False) -> list[tuple[str, str, dict[str, Any]]]:
    """(report name, text, gold) of every document of one format; excerpts only with ``cut``."""
    out = []
    for p in sorted((corpus / "docs").glob(f"*.{fmt}")):
        name = p.name[: -len(fmt) - 1]
        if name.endswith("_cut") == cut:
            out.append((name, p.read_text(encoding="utf-8"), _gold(corpus, name)))
    return out


def _t3_values(gold: dict[str, Any], rows: list[str] | None = None) -> list[list[Any]]:
    template = gold["fields"]["meta.template"]
    keys = rows or [s.key for s in T3_ROWS[template]]
    return [[gold["fields"][f"t3.{r}.{c}"] for c, _ in T3_COLUMNS] for r in keys]


def _is_subsequence(needles: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(n == h for h in it) for n in needles)


def test_every_scraped_format_is_written_and_deterministic(corpus: Path, tmp_path: Path) -> None:
    generate(tmp_path, seed=SEED, count=COUNT, formats=SCRAPED_FORMATS)
    for fmt in SCRAPED_FORMATS:
        assert len(_docs(corpus, fmt)) == COUNT
    for p in sorted((corpus / "docs").iterdir()) + sorted((corpus / "gold").iterdir()):
        twin = tmp_path / p.parent.name / p.name
        assert twin.read_bytes() == p.read_bytes(), p.name


def test_gold_t3_numbers_appear_in_the_text_in_order(corpus: Path) -> None:
    for fmt in ("cells.txt", "rows.txt", "pipes.txt", "line.txt"):
        for name, text, gold in _docs(corpus, fmt):
            numbers = [str(v) for row in _t3_values(gold) for v in row if v is not None]
            assert _is_subsequence(numbers, re.findall(r"\d+", text)), f"{name}.{fmt}"


def test_runs_glue_each_rows_digits_after_its_label(corpus: Path) -> None:
    for fmt in ("runs.txt", "runs1.txt"):
        for name, text, gold in _docs(corpus, fmt):
            digits = re.sub(r"\D", "", text)
            template = gold["fields"]["meta.template"]
            at = 0
            for row in _t3_values(gold):
                run = "".join(str(v) for v in row if v is not None)
                at = digits.find(run, at)
                assert at >= 0, f"{name}.{fmt}: a table-三 row's digits are not one run, in order"
            # 规章 (first row of table 二) with its numbers glued to the label, as text_content() gives it.
            rules = "".join(str(gold["fields"][f"t2.rules.{c}"]) for c in T2_ROWS[template][0].columns)
            assert re.search(rf"规章 ?{' ?'.join(rules)}", text), f"{name}.{fmt}"
        lines = [line for _, text, _ in _docs(corpus, fmt) for line in text.splitlines()]
        one_table_per_line = any("本年新收" in line and "结转下年度" in line for line in lines)
        assert one_table_per_line == (fmt == "runs1.txt")


def test_lossy_forms_print_no_blank_cells(corpus: Path) -> None:
    """Space-separated and glued text drops empty cells, so a null cell is printed with a mark there."""
    seen_blank_report = False
    for name, text, gold in _docs(corpus, "line.txt"):
        nulls = sum(v is None for row in _t3_values(gold) for v in row)
        seen_blank_report |= nulls > 0
        line = next(line for line in text.splitlines() if "结转下年度" in line.replace(" ", ""))
        assert sum(line.count(m) for m in LOSSY_MARKS) == nulls, name
    assert seen_blank_report, "the corpus should hold blank-celled reports"
    assert "line.txt" in LOSSY_FORMATS and "rows.txt" in LOSSY_FORMATS


def test_cells_form_has_openers_fillers_padding_and_broken_headers(corpus: Path) -> None:
    texts = [text for _, text, _ in _docs(corpus, "cells.txt")]
    lines = [line for text in texts for line in text.splitlines()]
    assert "|" in lines, "a lone '|' line (empty cell or row opener)"
    assert any(re.fullmatch(r".*\S.* \| \|{2,}", line) for line in lines), "a spanning cell with '| |||' fillers"
    assert any(line.endswith(" ||") and not line.endswith("| ||") for line in lines), "a trailing '||' filler"
    assert any(re.fullmatch(r" +\d+ *( \|)?|\d+ +( \|)?", line) for line in lines), "a padded cell"
    assert any(re.search(r"^ *本年 *\n *(制发|废止)件数", text, re.M) for text in texts), "'本年' / '制发件数'"
    assert any(re.search(r"\S\n\n\S", text) for text in texts) and any("|\n|" in text for text in texts)


def test_2019_headers_break_after_the_opening_word() -> None:
    fields = {f"t2.{spec.key}.{c}": 0 for spec in T2_ROWS["2019"] for c in spec.columns}
    lines = scraped_table(table2(fields, "2019"), "cells", random.Random(0), {"header_breaks": True})
    assert "本年新\n制作数量" in lines and "上一年\n项目数量" in lines


def test_pipe_rows_carry_group_labels_and_extra_columns(corpus: Path) -> None:
    lines = [line for _, text, _ in _docs(corpus, "pipes.txt") for line in text.splitlines()]
    assert any(re.search(r"三、本年度办理结果 \| （一）予以公开 \| \d", line.replace(" ", " ")) for line in lines)
    assert any(re.search(r"\| \d+ \|  \|  \|$", line) for line in lines), "extra empty columns at a row's end"
    assert any(line.startswith("| ") for line in lines) and any(re.match(r"规章 \| ", line) for line in lines)


def test_one_line_tables_space_label_characters(corpus: Path) -> None:
    lines = [line for _, text, _ in _docs(corpus, "line.txt") for line in text.splitlines()]
    assert any(re.search(r"规 章 \d+ \d+ \d+ 行 政 规 范 性 文 件|规 章 \d+ \d+ \d+ 规 范 性 文 件", line) for line in lines)
    assert any(re.search(r"行政许可 \d", line) for line in lines), "a label kept whole next to its number"


def test_excerpts_cut_inside_table_three_with_absent_gold(corpus: Path) -> None:
    cuts = _docs(corpus, "pipes.txt", cut=True)
    assert cuts
    for name, text, gold in cuts:
        template = gold["fields"]["meta.template"]
        rows = [s.key for s in T3_ROWS[template]]
        cut_row = gold["absent"][0].removeprefix("t3.")
        assert rows.index(cut_row) >= 2 and f"t3.{rows[-1]}" in gold["absent"] and "t4" in gold["absent"], name
        assert not any(k.startswith(("t4.", f"t3.{cut_row}.")) for k in gold["fields"]), "absent keys are not listed"
        # The text ends inside the cut row: fewer than seven numbers after its label, and no table 四.
        last = [line for line in text.splitlines() if line.count("|") >= 2][-1]
        assert len(re.findall(r"\| (\d+|/|—|-)(?= \|)", last)) < 7
        assert "行政复议" not in text
        # What is kept is read as before: every row above the cut is in the text, in order.
        kept = [str(v) for row in _t3_values(gold, rows[: rows.index(cut_row)]) for v in row if v is not None]
        assert _is_subsequence(kept, re.findall(r"\d+", text))
        # A narrative fact the excerpt lost is absent; one it keeps stays in the gold.
        for key in ("s6.npc_suggestions", "s6.cppcc_proposals"):
            assert (key in gold["absent"]) != (key in gold["fields"])


def test_chrome_names_only_the_reports_agency(corpus: Path) -> None:
    found = {"breadcrumb": False, "meta": False, "widgets": False, "footer": False, "flipbook": False, "title_line": False}
    for fmt in SCRAPED_FORMATS:
        for name, text, gold in _docs(corpus, fmt):
            agency = gold["fields"]["meta.agency"]
            accepted = agency["any_of"] if isinstance(agency, dict) else [agency]
            for named in re.findall(r"(?:发布机构|来源)：(\S+)", text):
                assert named in accepted, f"{name}.{fmt}: chrome names {named}"
            found["breadcrumb"] |= "当前位置：首页" in text
            found["meta"] |= "索引号：" in text and "发布机构：" in text
            found["widgets"] |= "打印" in text and "分享至：" in text
            found["footer"] |= "网站标识码：" in text and "主办单位：" in text
            found["flipbook"] |= bool(re.match(r"Page ?\d+ ?- ?\S", text)) and "\nP. " in text
            found["title_line"] |= "标题：" in text
    assert all(found.values()), found


def test_titles_break_and_dates_lose_digits(corpus: Path) -> None:
    texts = [text for fmt in SCRAPED_FORMATS for _, text, _ in _docs(corpus, fmt)]
    assert any(re.search(r"年政府信息公开(工作)?\n+(工作)?年度报告", text) for text in texts)
    assert any(re.search(r"自?20\d\d\d{1,2}月\d{1,2}日|20\d\d \d{2,4}日|20\d\d\d{2,4}日", text) for text in texts)
    assert break_title("某局2025年政府信息公开工作年度报告", random.Random(0))[0].startswith("某局2025年政府信息公开")
    period = "统计期限自2023年1月1日起至2023年12月31日止，共收到申请12件"
    assert lose_date_digits(period, "no_year_mark") == "统计期限自20231月1日起至202312月31日止，共收到申请12件"
    assert lose_date_digits(period, "year_gap") == "统计期限自2023 11日起至2023 1231日止，共收到申请12件"
    assert lose_date_digits("至12月31日", "no_marks") == "至1231日"
