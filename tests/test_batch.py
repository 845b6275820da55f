"""The command line over a mixed batch: bad files get error records and the batch goes on."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

from nianbao.cli import main
from nianbao.eval.render import layout_from_document, render_html, render_pdf
from nianbao.extract.load import load
from nianbao.pipeline import extract_file
from nianbao.schemas import Outcome

from .conftest import SEEDS, gold


def test_batch_with_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    (tmp_path / "notes.txt").write_text("会议纪要\n今天讨论了食堂菜单。\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(bytes(range(128, 256)) * 40)
    (tmp_path / "empty.html").write_bytes(b"")
    out = tmp_path / "out"
    rc = main(["extract", str(SEEDS / "000_25a82b73f95a5995.txt"), str(tmp_path / "*.*"), str(tmp_path / "missing.docx"), "--out", str(out)])
    assert rc == 0
    records = {Path(r["source"]).name: r for r in map(json.loads, (out / "records.jsonl").read_text(encoding="utf-8").splitlines())}
    assert records["000_25a82b73f95a5995.txt"]["status"] == "ok"
    assert len(records["000_25a82b73f95a5995.txt"]["sha256"]) == 64
    errors = {name: r["error"] for name, r in records.items() if r["status"] == "error"}
    assert "cannot open PDF" in errors["corrupt.pdf"] or "cannot read PDF" in errors["corrupt.pdf"]
    assert "not a government information disclosure annual report" in errors["notes.txt"]
    assert "cannot decode" in errors["binary.txt"]
    assert "empty file" in errors["empty.html"]
    assert "No such file" in errors["missing.docx"]
    full = [json.loads(line) for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    assert full[0]["report"]["t3"]["new"]["total"]["provenance"]["span"] is not None
    with (out / "fields.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 208
    assert {r["key"] for r in rows} >= {"t3.new.total", "s6.cppcc_proposals"}


def test_broken_relations_are_flagged_not_fixed(tmp_path: Path) -> None:
    name = "000_25a82b73f95a5995"
    g = copy.deepcopy(gold(name)["fields"])
    g["t3.granted.total"] = 5  # the row's six columns sum to 4
    g["t4.review.total"] = 4  # 2 + 0 + 0 + 1 = 3
    layout = layout_from_document(load(SEEDS / f"{name}.txt"), g, "2021")
    for path in (tmp_path / "broken.html", tmp_path / "broken.pdf"):
        if path.suffix == ".html":
            path.write_bytes(render_html(layout))
        else:
            render_pdf(layout, path)
        record = extract_file(path)
        assert record.fields["t3.granted.total"] == 5  # the number as written
        assert record.fields["t4.review.total"] == 4
        assert "check failed" in record.review["t3.granted.total"]
        assert "check failed" in record.review["t4.review.upheld"]
        failed = {c.name for c in record.report.checks if c.outcome is Outcome.FAILED}
        assert "t3 row sums to 总计 [granted]" in failed
        assert "t4 行政复议 总计" in failed
        assert record.report.get("t3.granted.total").confidence <= 0.5
        assert "t3.new.total" not in record.review  # untouched relations stay clean
