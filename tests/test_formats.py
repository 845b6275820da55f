"""HTML, DOCX and text-layer PDF renderings of the seeds give the same flat values as gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.eval.score import values_equal
from nianbao.pipeline import extract_file

from .conftest import TABLE_SEEDS, gold

FORMATS = ["html", "gbk.html", "docx", "pdf"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", TABLE_SEEDS)
def test_format_reproduces_gold(rendered: dict[tuple[str, str], Path], name: str, fmt: str) -> None:
    record = extract_file(rendered[(name, fmt)])
    assert record.status == "ok", record.error
    expected = gold(name)["fields"]
    wrong = {k: (g, record.fields.get(k)) for k, g in expected.items() if not values_equal(g, record.fields.get(k))}
    assert wrong == {}


def test_gbk_page_without_charset_is_detected(rendered: dict[tuple[str, str], Path]) -> None:
    path = rendered[("000_25a82b73f95a5995", "gbk.html")]
    assert b"charset" not in path.read_bytes()[:500]
    record = extract_file(path)
    assert record.encoding == "gb18030"
    assert record.fields["meta.agency"] == "聊城市卫生健康委员会"


def test_html_site_chrome_and_layout_table_are_ignored(rendered: dict[tuple[str, str], Path]) -> None:
    record = extract_file(rendered[("003_d746fab4eb0be43f", "html")])
    # The label cell spans three columns, so 总计 is the 8th <td> of its row.
    assert record.report.get("t3.new.total").provenance.xpath.endswith("tbody[1]/tr[4]/td[8]")
    assert "索引号" not in str(record.fields.values())


def test_pdf_table_split_across_pages_is_joined(rendered: dict[tuple[str, str], Path]) -> None:
    record = extract_file(rendered[("002_9607eda7a8c79f66", "pdf")])
    first = record.report.get("t3.new.total").provenance
    last = record.report.get("t3.carried_forward.total").provenance
    assert first.page != last.page  # the table really breaks across a page
    assert first.table == last.table  # and was joined into one
    assert first.bbox is not None


def test_docx_merged_cells(rendered: dict[tuple[str, str], Path]) -> None:
    from nianbao.extract.load import load

    doc = load(rendered[("000_25a82b73f95a5995", "docx")])
    t3 = next(t for t in doc.tables if "本年新收" in t.text())
    assert any(c.filler for row in t3.rows for c in row)
    assert t3.n_cols == 10
