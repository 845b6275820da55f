"""The generated corpus is reproducible and scores cleanly through the harness."""

from __future__ import annotations

from pathlib import Path

from nianbao.eval.cli import documents_for
from nianbao.eval.corpus import generate
from nianbao.eval.score import evaluate, load_gold_dir
from nianbao.pipeline import extract_file


def test_same_seed_same_corpus(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=7, count=3, formats=("html",))
    generate(tmp_path / "b", seed=7, count=3, formats=("html",))
    for g in sorted((tmp_path / "a" / "gold").glob("*.json")):
        assert g.read_bytes() == (tmp_path / "b" / "gold" / g.name).read_bytes()


def test_generated_reports_extract_without_silent_errors(tmp_path: Path) -> None:
    generate(tmp_path, seed=3, count=4, formats=("html", "docx"))
    golds = load_gold_dir(tmp_path / "gold")
    docs = documents_for(tmp_path / "gold", [g.name for g in golds])
    assert len(docs) == 8
    ev = evaluate(golds, [extract_file(p).model_dump(mode="json") for p in docs])
    assert ev.overall.silent == 0
    assert ev.overall.accuracy == 1.0
    # The fourth report has a deliberately broken relation: flagged, never repaired.
    broken = [r for r in ev.results if r.report.startswith("gen003_003") and r.key == "t3.granted.total"]
    assert broken and all(r.correct and r.flagged for r in broken)
