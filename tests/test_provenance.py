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


# Look-alikes a recogniser returns for a lone digit read without context; the
# extractor's own digit rules (extract/ocr/digits.py) treat them the same way.
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "。": "0", "〇": "0", "l": "1", "I": "1", "|": "1"})
# Cells sampled per document: each is a crop read by OCR again.
_OCR_SAMPLE = 30


@pytest.mark.parametrize("name", ["gen001_000.img.docx", "gen001_002.img.html", "gen001_001.img.pdf", "gen001_000.scan.pdf"])
def test_ocr_values_point_at_the_pixels_they_were_read_from(name: str) -> None:
    """Crop the stored picture (or the page rendered at the stated dpi) at each value's
    pixel box, read the crop again, and find the value's raw text there."""
    import random

    import cv2

    from nianbao.extract.ocr.engine import get_engine
    from nianbao.places import crop, picture_pixels, squash

    path = CORPUS / name
    record = extract_file(path)
    assert record.report is not None and record.format is not None
    values = [(k, v) for k, v in record.report.values() if v.method is not None and v.method.value == "ocr" and v.state.value == "number"]
    assert len(values) > 90
    random.Random(name).shuffle(values)
    engine = get_engine()
    pictures: dict[str, object] = {}
    misread = []
    for key, v in values[:_OCR_SAMPLE]:
        prov = v.provenance
        assert prov is not None and prov.image and prov.bbox, key
        assert "scaled" not in prov.image and "rotated" not in prov.image  # the picture as stored
        if prov.image not in pictures:
            pictures[prov.image] = picture_pixels(path, prov, record.format)
        cell = crop(pictures[prov.image], prov.bbox)
        margin = max(2, min(cell.shape[:2]) // 12)  # keep ruling lines out of the crop
        box = engine.read_line(cv2.cvtColor(cell[margin:-margin, margin:-margin], cv2.COLOR_GRAY2BGR))
        seen = squash(box.text).translate(_LOOKALIKE) if box else ""
        raw = squash(v.raw or "")
        # A cell holds just its value; a fact's box is its line, read here as one line of text.
        found = raw == seen if prov.table is not None else raw in seen or "\n" in (v.raw or "")
        if not found:
            misread.append((key, v.raw, seen))
    # A crop read alone, without the table around it, may differ in a digit now and then;
    # a wrong place shows another cell's number or nothing in most of the sample.
    assert len(misread) <= 2, misread
