"""Every value read from a document has a place in the source where its raw text can be seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.pipeline import extract_file
from nianbao.places import PlaceError, shows, text_at

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "samples" / "seeds").glob("*.txt"))
CORPUS = ROOT / "samples" / "corpus" / "docs"
# Text-bearing formats of the fixed corpus; picture formats are checked in the OCR test.
CORPUS_SUFFIXES = (".txt", ".md", ".html", ".gbk.html", ".docx", ".pdf")


def _corpus(suffix: str) -> list[Path]:
    files = [p for p in sorted(CORPUS.glob(f"*{suffix}")) if "".join(p.suffixes) == suffix]
    assert files, suffix
    return files


def misplaced(path: Path) -> tuple[int, list[str]]:
    """(values checked, problems) for one document."""
    record = extract_file(path)
    assert record.status == "ok", record.error
    assert record.report is not None and record.format is not None
    checked, problems = 0, []
    for key, v in record.report.values():
        if not v.raw or not v.raw.strip():
            continue
        checked += 1
        assert v.provenance is not None, key
        try:
            seen = text_at(path, v.provenance, record.encoding, record.format)
        except PlaceError as exc:
            problems.append(f"{key}: {exc}")
            continue
        if not shows(v.raw, seen):
            problems.append(f"{key}: raw {v.raw!r} not in {seen[:80]!r}")
    return checked, problems


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_values_point_at_their_raw_text(path: Path) -> None:
    checked, problems = misplaced(path)
    assert checked >= 5
    assert problems == []


@pytest.mark.parametrize("suffix", CORPUS_SUFFIXES)
def test_corpus_values_point_at_their_raw_text(suffix: str) -> None:
    for path in _corpus(suffix):
        checked, problems = misplaced(path)
        assert checked > 100, path.name
        assert problems == [], path.name


def test_a_narrative_fact_spans_its_whole_statement() -> None:
    """The place of a fact is the statement it was read from, not a neighbouring word."""
    path = ROOT / "samples" / "seeds" / "000_25a82b73f95a5995.txt"
    record = extract_file(path)
    assert record.report is not None
    v = record.report.get("s1.applications_received")
    assert v.value == 11 and v.provenance is not None and v.provenance.span is not None
    a, b = v.provenance.span
    seen = path.read_text(encoding="utf-8")[a:b]
    assert "申请" in seen and "11" in seen and shows(v.raw or "", seen)


def test_a_bad_place_is_reported(tmp_path: Path) -> None:
    """The checker itself fails on a wrong place, so the tests above can fail."""
    path = ROOT / "samples" / "seeds" / "000_25a82b73f95a5995.txt"
    record = extract_file(path)
    assert record.report is not None
    v = record.report.get("t3.new.total")
    assert v.provenance is not None and v.provenance.span is not None
    wrong = v.provenance.model_copy(update={"span": (0, 4)})
    assert not shows(v.raw or "", text_at(path, wrong, record.encoding, "txt"))
    with pytest.raises(PlaceError):
        text_at(path, v.provenance.model_copy(update={"span": (10**9, 10**9 + 2)}), record.encoding, "txt")
