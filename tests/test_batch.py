"""The command line over a mixed batch: bad files get error records and the batch goes on."""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nianbao.cli import main
from nianbao.eval.render import layout_from_document, render_html, render_pdf
from nianbao.extract.load import load
from nianbao.outputs import Writer, read_records
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
    assert rc == 1  # some files failed; the batch still wrote every record
    records = {Path(r["source"]).name: r for r in map(json.loads, (out / "records.jsonl").read_text(encoding="utf-8").splitlines())}
    assert records["000_25a82b73f95a5995.txt"]["status"] == "ok"
    assert len(records["000_25a82b73f95a5995.txt"]["sha256"]) == 64
    errors = {name: r["error"] for name, r in records.items() if r["status"] == "error"}
    assert all(e.split(":", 1)[0] in {"load", "locate"} for e in errors.values()), errors
    assert records["notes.txt"]["error_stage"] == "locate"
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


CORPUS = Path(__file__).resolve().parent.parent / "samples" / "corpus" / "docs"


def _sources(out: Path) -> tuple[list[str], list[str], list[str]]:
    """Sources in the order each output file holds them (CSV: first row of each record)."""
    records = [r["source"] for r in read_records(out / "records.jsonl")]
    reports = [json.loads(line)["source"] for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    with (out / "fields.csv").open(encoding="utf-8", newline="") as f:
        csv_sources = list(dict.fromkeys(row["source"] for row in csv.DictReader(f)))
    return records, reports, csv_sources


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with Writer(out):
        rc = main(["extract", str(SEEDS / "000_25a82b73f95a5995.txt"), "--out", str(out)])
    assert rc == 2
    assert "in use by another nianbao run" in capsys.readouterr().err
    assert (out / "records.jsonl").read_bytes() == b""


def test_earlier_records_are_kept_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    one, two = str(SEEDS / "000_25a82b73f95a5995.txt"), str(SEEDS / "003_d746fab4eb0be43f.txt")
    assert main(["extract", one, "--out", str(out)]) == 0
    assert main(["extract", two, "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["extract", one, two, "--out", str(out), "--resume"]) == 0
    assert _sources(out) == ([one, two], [one, two], [one, two])
    assert main(["extract", two, "--out", str(out), "--overwrite"]) == 0
    assert _sources(out) == ([two], [two], [two])


def test_kill_9_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for k in range(12):  # text-layer PDFs: slow enough to be killed mid-batch
        for pdf in sorted(CORPUS.glob("gen001_00?.pdf")):
            # Distinct bytes (a trailing comment), so identical copies are not folded into one record.
            (docs / f"{k:02d}_{pdf.name}").write_bytes(pdf.read_bytes() + f"\n%copy {k}\n".encode())
    inputs = sorted(str(p) for p in docs.iterdir())
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "nianbao.cli", "extract", str(docs), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(read_records(out / "records.jsonl") if (out / "records.jsonl").exists() else []) < 5:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = [r["source"] for r in read_records(out / "records.jsonl")]
    assert 5 <= len(killed) < len(inputs)
    for line in (out / "reports.jsonl").read_bytes().splitlines()[: len(killed)]:
        json.loads(line)  # the committed part is whole
    subprocess.run([*cmd, "--resume"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    records, reports, csv_sources = _sources(out)
    assert records == reports == csv_sources
    assert sorted(records) == inputs  # every input once: nothing lost, nothing twice
    assert records[: len(killed)] == killed


def test_a_file_over_the_time_limit_gets_an_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    page = (CORPUS / "gen001_000.html").read_text(encoding="utf-8")
    head, body = page.split("<body", 1)
    body_open, inner = body.split(">", 1)
    inner = inner.rsplit("</body>", 1)[0]
    slow = tmp_path / "slow.html"
    slow.write_text(head + "<body" + body_open + ">" + inner * max(1, 6_000_000 // len(inner)) + "</body></html>", encoding="utf-8")
    out = tmp_path / "out"
    good = str(SEEDS / "000_25a82b73f95a5995.txt")
    rc = main(["extract", str(slow), good, "--out", str(out), "--limit", "seconds_per_file=1"])
    assert rc == 1
    records = {r["source"]: r for r in read_records(out / "records.jsonl")}
    assert "took longer than 1 s" in records[str(slow)]["error"]
    assert records[good]["status"] == "ok"


def test_a_file_over_the_memory_limit_gets_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scan = str(CORPUS / "gen001_000.scan.pdf")
    rc = main(["extract", scan, "--out", str(out), "--limit", "memory_per_file_bytes=150MB"])
    assert rc == 1
    (record,) = read_records(out / "records.jsonl")
    assert "more than 150 MB of memory" in record["error"] or "ran out of memory" in record["error"]


def test_csv_cells_from_document_text_cannot_run_as_formulas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (SEEDS / "000_25a82b73f95a5995.txt").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    doc = "=HYPERLINK(1).txt"
    Path(doc).write_text(text.replace("\t0\t0\t0\t0\t0\t0\t0\n", "\t-\t0\t0\t0\t0\t0\t0\n", 1), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["extract", doc, "--out", str(out)]) == 0
    with (out / "fields.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["source"].startswith("'=") for r in rows)
    for r in rows:
        for column in ("raw", "value", "review", "xpath", "image"):
            assert not r[column].startswith(("=", "+", "-", "@")), (column, r[column])
    record = read_records(out / "records.jsonl")[0]
    assert record["source"] == doc  # JSON keeps the exact text
    assert any(r["raw"] == "'-" and r["state"] == "dash" for r in rows)
