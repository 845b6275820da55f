"""Numbers in text-layer PDF tables as the page shows them, whatever order the glyphs were drawn in."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from nianbao.pipeline import extract_file

FONT = "china-s"


def _report_with_fee(path: Path, parts: tuple[tuple[str, float, float], ...]) -> None:
    """A one-page report whose 表二 fee cell is drawn as ``parts``: (text, x shift, baseline drop)."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 60), "某县财政局2023年政府信息公开工作年度报告", fontname=FONT, fontsize=12)
    page.insert_text((50, 90), "二、主动公开政府信息情况", fontname=FONT, fontsize=11)
    xs, ys = [50, 250, 450], [110, 140, 170, 200]
    for rule in xs:
        page.draw_line((rule, ys[0]), (rule, ys[-1]))
    for y in ys:
        page.draw_line((xs[0], y), (xs[-1], y))
    page.insert_text((55, 130), "第二十条第（八）项", fontname=FONT, fontsize=10)
    page.insert_text((55, 160), "信息内容", fontname=FONT, fontsize=10)
    page.insert_text((255, 160), "本年收费金额（单位：万元）", fontname=FONT, fontsize=10)
    page.insert_text((55, 190), "行政事业性收费", fontname=FONT, fontsize=10)
    x = 255.0
    for part, shift, drop in parts:
        x += shift
        page.insert_text((x, 182 + drop), part, fontsize=10)
        x += pymupdf.get_text_length(part, fontsize=10)
    page.insert_text((50, 230), "三、收到和处理政府信息公开申请情况", fontname=FONT, fontsize=11)
    doc.save(str(path))


def test_a_decimal_point_off_the_baseline_stays_in_the_number(tmp_path: Path) -> None:
    path = tmp_path / "fee.pdf"
    _report_with_fee(path, (("7730", 0, 0), (".", 0, 3.5), ("28", 0, 0)))
    table = pymupdf.open(str(path))[0].find_tables(strategy="lines").tables[0].extract()
    assert ["773028\n." in (cell or "") for row in table for cell in row].count(True) == 1  # what the finder gives
    record = extract_file(path)
    assert record.status == "ok", record.error
    assert record.fields["t2.fees.amount"] == 7730.28
    assert record.report.get("t2.fees.amount").raw == "7730.28"


def test_a_cell_on_two_real_lines_is_not_joined(tmp_path: Path) -> None:
    # Digits stacked on two lines of one cell are two lines on the page too (a number wrapped
    # in a narrow column, or two numbers): whatever is read, a reviewer is asked.
    path = tmp_path / "fee.pdf"
    _report_with_fee(path, (("12", 0, -6), ("34", -pymupdf.get_text_length("12", fontsize=10), 10)))
    record = extract_file(path)
    assert record.fields["t2.fees.amount"] != 3412  # never reordered by x
    assert "t2.fees.amount" in record.review
