"""OCR of table pictures and scans: real RapidOCR on pictures made by real renderers."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from nianbao.eval.degrade import scanned_pdf, table_images
from nianbao.eval.layout import TableSpec
from nianbao.eval.render import layout_from_document, render_docx, render_pdf, with_table_pictures
from nianbao.extract.document import ExtractionError
from nianbao.extract.load import load
from nianbao.extract.ocr.digits import normalize
from nianbao.extract.ocr.engine import get_engine
from nianbao.extract.ocr.grid import find_grids
from nianbao.extract.ocr.image import gray, skew_angle
from nianbao.extract.ocr.tables import read_tables
from nianbao.pipeline import extract_file
from nianbao.schemas import Method

from .conftest import SEEDS, gold

SEED = "000_25a82b73f95a5995"


def _layout(name: str = SEED):
    g = gold(name)["fields"]
    return layout_from_document(load(SEEDS / f"{name}.txt"), g, g["meta.template"]), g


def _t3_picture(dpi: int = 150) -> np.ndarray:
    layout, _ = _layout()
    spec = next(b for b in layout.blocks if isinstance(b, TableSpec) and b.kind == "t3")
    png = table_images(spec, dpi=dpi)[0]
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def _table_fields(record) -> dict[str, object]:
    return {k: v for k, v in record.fields.items() if k.startswith(("t2.", "t3.", "t4."))}


def test_grid_of_table_three_has_the_template_shape_and_merges() -> None:
    grids = find_grids(gray(_t3_picture()))
    assert len(grids) == 1
    grid = grids[0]
    assert grid.shape == (28, 10)  # 3 header rows + 25 template rows; 3 label + 7 applicant columns
    spans = {(r.row, r.col): (r.rowspan, r.colspan) for r in grid.regions}
    assert spans[(0, 0)] == (3, 3)  # the 勾稽 note over the header
    assert spans[(0, 3)] == (1, 7)  # 申请人情况
    assert spans[(5, 0)] == (22, 1)  # 三、本年度办理结果 down the result rows


def test_tables_pasted_as_pictures_in_docx_extract_with_values(tmp_path: Path) -> None:
    """The Wendeng case: every table is a screenshot inside the Word file."""
    layout, g = _layout()
    path = tmp_path / f"{SEED}.img.docx"
    render_docx(with_table_pictures(layout, dpi=150), path)
    record = extract_file(path)
    assert record.status == "ok"
    expected = {k: v for k, v in g.items() if k.startswith(("t2.", "t3.", "t4."))}
    assert _table_fields(record) == expected
    v = record.report.get("t3.new.natural_person")
    assert v.method is Method.OCR and 0.0 < v.confidence <= 1.0
    # Provenance points at the picture and the cell's pixels, so a reviewer can see the crop.
    assert v.provenance.image and v.provenance.bbox
    x0, y0, x1, y1 = v.provenance.bbox
    assert 0 <= x0 < x1 and 0 <= y0 < y1


def test_scanned_pdf_without_text_layer_is_read_page_by_page(tmp_path: Path) -> None:
    layout, g = _layout()
    clean = tmp_path / "clean.pdf"
    render_pdf(layout, clean)
    scan = tmp_path / f"{SEED}.scan.pdf"
    scanned_pdf(clean, scan, random.Random(4))
    record = extract_file(scan)
    assert record.status == "ok"
    fields = _table_fields(record)
    expected = {k: v for k, v in g.items() if k.startswith(("t2.", "t3.", "t4."))}
    wrong = {k for k in expected if fields.get(k) != expected[k]}
    # Every wrong cell must be flagged: OCR may miss, never silently.
    assert all(k in record.review for k in wrong)
    assert len(wrong) <= len(expected) * 0.005
    assert record.fields["meta.year"] == g["meta.year"]
    assert record.report.get("t3.new.total").provenance.page is not None


def test_rotated_picture_is_straightened_before_reading() -> None:
    img = _t3_picture(dpi=200)
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 1.2, 1.0)
    rotated = cv2.warpAffine(img, m, (w, h), borderValue=(255, 255, 255))
    assert abs(skew_angle(gray(rotated)) + 1.2) <= 0.2
    result = read_tables(rotated, name="rotated.png")
    assert len(result.tables) == 1 and len(result.tables[0].rows) == 28
    assert abs(result.angle + 1.2) <= 0.2


def test_an_unreadable_cell_is_flagged_not_guessed(tmp_path: Path) -> None:
    layout, g = _layout()
    pictured = with_table_pictures(layout, dpi=150)
    t3 = next(b for b in pictured.blocks if getattr(b, "name", "").startswith("t3"))
    img = cv2.imdecode(np.frombuffer(t3.png, np.uint8), cv2.IMREAD_COLOR)
    # Scribble over the first number of row 一 (本年新收, 自然人) as a pen would.
    grid = find_grids(gray(img))[0]
    region = next(r for r in grid.regions if r.row == 3 and r.col == 3)
    x0, y0, x1, y1 = region.bbox
    img[y0 + 3 : y1 - 2, x0 + 3 : x1 - 2] = 255
    pts = np.array([[x0 + 8, y0 + 8], [x1 - 8, y1 - 8], [x0 + 8, y1 - 8], [x1 - 8, y0 + 8]], np.int32)
    cv2.polylines(img, [pts], False, (90, 90, 90), 1)
    t3.png = cv2.imencode(".png", img)[1].tobytes()
    path = tmp_path / "smudged.img.docx"
    render_docx(pictured, path)
    record = extract_file(path)
    key = "t3.new.natural_person"
    assert record.fields[key] != g[key]
    assert key in record.review


@pytest.mark.parametrize(
    ("raw", "text", "noted"),
    [("12", "12", False), ("l0", "10", True), ("1 0", "10", True), ("O", "0", True), ("1,234", "1234", True), ("一", "—", True), ("/", "/", False), ("予以公开", "予以公开", False)],
)
def test_digit_lookalikes_are_normalised_and_reported(raw: str, text: str, noted: bool) -> None:
    got, note = normalize(raw)
    assert got == text
    assert (note is not None) == noted


def test_paddleocr_backend_needs_local_model_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    get_engine.cache_clear()
    monkeypatch.setenv("NIANBAO_OCR", "paddleocr")
    monkeypatch.delenv("NIANBAO_PADDLE_DET_DIR", raising=False)
    with pytest.raises(ExtractionError, match="NIANBAO_PADDLE_DET_DIR"):
        get_engine()
    get_engine.cache_clear()


def test_pictures_without_ruling_lines_are_not_ocrd(tmp_path: Path) -> None:
    """A photo or logo costs one OpenCV pass and no OCR: the table stays a flagged placeholder."""
    layout, _ = _layout()
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (9, 9), 0)
    pictured = with_table_pictures(layout, dpi=150)
    for b in pictured.blocks:
        if getattr(b, "name", "").startswith("t4"):
            b.png = cv2.imencode(".png", photo)[1].tobytes()
    path = tmp_path / "photo.img.docx"
    render_docx(pictured, path)
    record = extract_file(path)
    assert record.fields["t4.review.total"] is None
    assert "image" in record.review["t4.review.total"]
    assert record.fields["t3.new.total"] == gold(SEED)["fields"]["t3.new.total"]


class _FakeEngine:
    """Stands in for the OCR engine: what it 'reads' is fixed, the picture is real."""

    name = "fake"

    def __init__(self, second: str | None = None) -> None:
        self.second = second

    def read(self, image: np.ndarray) -> list:  # pragma: no cover - _cell gets its boxes
        return []

    def read_line(self, image: np.ndarray):
        from nianbao.extract.ocr.engine import OcrBox

        return OcrBox(self.second, 0.97, (0.0, 0.0, float(image.shape[1]), float(image.shape[0]))) if self.second else None


def _stroke_cell(lean_px: int) -> np.ndarray:
    """A 120×60 cell with one thin stroke whose top is ``lean_px`` right of its bottom."""
    cell = np.full((60, 120), 255, np.uint8)
    cv2.line(cell, (60 - lean_px // 2, 50), (60 + lean_px // 2, 10), 0, 2)
    return cell


def _value_of(cell):
    """The cell as the mapping turns it into a Value (row read, then fill)."""
    from nianbao.extract.document import Cell, Document, Table
    from nianbao.extract.fill import slot_value
    from nianbao.extract.rows import read_row

    row = [Cell("规章"), cell]
    table = Table(rows=[row])
    read = read_row(row, 1)
    return slot_value(Document(source="x.png", format="image", blocks=[table]), read.slots[0], table, 0)


def test_every_ocr_reading_changed_by_a_rule_is_flagged_with_what_was_seen() -> None:
    from nianbao.extract.ocr.engine import OcrBox
    from nianbao.extract.ocr.tables import _cell
    from nianbao.schemas import State

    bbox = (0, 0, 120, 60)
    one = [OcrBox("1", 0.98, (52.0, 8.0, 68.0, 52.0))]
    # A '/' blank marker that PP-OCR read as '1': the stroke leans right, so it is taken as '/'.
    slash = _cell(one, bbox, _stroke_cell(24), None, "t.png", _FakeEngine())
    assert slash.text == "/" and slash.note and "OCR read '1'" in slash.note and "stroke lean" in slash.note
    v = _value_of(slash)
    assert v.state is State.DASH and v.value is None and v.raw == "/"
    assert any("OCR read '1'; taken as '/'" in r for r in v.review)
    # An upright '1' stays a 1, unflagged.
    upright = _cell(one, bbox, _stroke_cell(0), None, "t.png", _FakeEngine())
    assert (upright.text, upright.note) == ("1", None)
    assert _value_of(upright).value == 1 and not _value_of(upright).flagged

    blank = np.full((60, 120), 255, np.uint8)
    for boxes, text, seen in [
        ([OcrBox("O", 0.98, (50.0, 10.0, 70.0, 50.0))], "0", "'O'"),  # look-alike letter
        ([OcrBox("l2", 0.98, (40.0, 10.0, 80.0, 50.0))], "12", "'l2'"),
        ([OcrBox("1", 0.98, (30.0, 10.0, 50.0, 50.0)), OcrBox("0", 0.98, (70.0, 10.0, 90.0, 50.0))], "10", "'1 0'"),  # in pieces
        ([OcrBox("1", 0.98, (20.0, 10.0, 40.0, 50.0)), OcrBox("2件", 0.98, (60.0, 10.0, 100.0, 50.0))], "12件", "'1 2件'"),
        ([OcrBox("_", 0.98, (40.0, 30.0, 80.0, 50.0))], "—", "'_'"),
    ]:
        cell = _cell(boxes, bbox, blank, None, "t.png", _FakeEngine())
        assert cell.text == text and cell.note and seen in cell.note, (text, cell.note)
        assert any(seen in r for r in _value_of(cell).review), text
    # A doubtful non-numeric reading replaced by a second look keeps both readings.
    low = _cell([OcrBox("刀", 0.5, (40.0, 10.0, 80.0, 50.0))], bbox, _stroke_cell(0), None, "t.png", _FakeEngine(second="77"))
    assert low.text == "77" and "'刀'" in low.note and "'77'" in low.note
    # Readings left as they were carry no note.
    for t in ("12", "/", "—", "-"):
        assert _cell([OcrBox(t, 0.98, (40.0, 10.0, 80.0, 50.0))], bbox, blank, None, "t.png", _FakeEngine()).note is None
