"""The generated corpus is reproducible and scores cleanly through the harness."""

from __future__ import annotations

import json
import re
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
    generate(tmp_path, seed=3, count=4, formats=("html", "docx", "md"))
    golds = load_gold_dir(tmp_path / "gold")
    docs = documents_for(tmp_path / "gold", [g.name for g in golds])
    assert len(docs) == 12
    ev = evaluate(golds, [extract_file(p).model_dump(mode="json") for p in docs])
    assert ev.overall.silent == 0
    assert ev.overall.accuracy == 1.0
    # Broken relations are flagged with the printed (wrong) number kept, never repaired.
    notes = {g.name: json.loads((tmp_path / "gold" / f"{g.name}.json").read_text(encoding="utf-8"))["notes"] for g in golds}
    broken = {name: re.search(r"broken_relation=(\S+);", note).group(1) for name, note in notes.items()}
    broken = {name: key for name, key in broken.items() if key != "none"}
    assert broken, "seed 3 should break at least one relation"
    for name, key in broken.items():
        hits = [r for r in ev.results if r.report.startswith(name) and r.key == key]
        assert len(hits) == 3 and all(r.correct and r.flagged for r in hits)


def test_dash_cells_are_null_with_raw_text_kept(tmp_path: Path) -> None:
    generate(tmp_path, seed=1, count=12, formats=("txt",))
    gold = json.loads((tmp_path / "gold" / "gen001_002.json").read_text(encoding="utf-8"))
    assert "blanks=—" in gold["notes"]
    record = extract_file(tmp_path / "docs" / "gen001_002.txt")
    dashes = [v for v in dict(record.report.values()).values() if v.state == "dash"]
    assert dashes and all(v.value is None and v.raw == "—" for v in dashes)
