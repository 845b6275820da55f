"""The review app's source view: each value's place shown as text around it, or as a picture with its box drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nianbao.pipeline import Record, extract_file
from nianbao.places import crop, picture_pixels, shows, squash
from nianbao.review.source import SourceView, source_view, view_for
from nianbao.schemas import Provenance, State

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "samples" / "corpus" / "docs"
DOC = "gen001_000"
# Values with a place in every format: a narrative fact, and cells of tables 二, 三 and 四.
KEYS = ("meta.agency", "s1.applications_received", "t2.rules.issued", "t3.new.total", "t4.review.total")
# Look-alikes a recogniser returns for a lone digit (as in test_provenance).
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "。": "0", "〇": "0", "l": "1", "I": "1", "|": "1"})

_records: dict[str, tuple[Path, Record]] = {}


def _one_page(name: str, page: int, out: Path) -> Path:
    """A copy of a corpus PDF with just one page: OCR of a whole scanned report takes too long here."""
    import pymupdf

    with pymupdf.open(str(CORPUS / name)) as src, pymupdf.open() as dst:
        dst.insert_pdf(src, from_page=page - 1, to_page=page - 1)
        dst.save(str(out))
    return out


def _extracted(suffix: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Record]:
    if suffix not in _records:
        if suffix in ("img.pdf", "scan.pdf"):
            page = 2 if suffix == "scan.pdf" else 1  # table 三 (numbers of two digits) or table 二
            path = _one_page(f"{DOC}.{suffix}", page, tmp_path_factory.mktemp("pages") / f"{DOC}.p{page}.{suffix}")
        else:
            path = CORPUS / f"{DOC}.{suffix}"
        record = extract_file(path)
        assert record.status == "ok", record.error
        _records[suffix] = (path, record)
    return _records[suffix]


def _view(path: Path, record: Record, prov: Provenance) -> SourceView:
    return source_view(path, fmt=record.format or "", encoding=record.encoding, page=prov.page, bbox=prov.bbox, span=prov.span, xpath=prov.xpath, image=prov.image)


def _placed(record: Record, *, ocr: bool | None = None) -> list[tuple[str, Any]]:
    assert record.report is not None
    out = []
    for key, v in record.report.values():
        if v.provenance is None or not (v.raw or "").strip():
            continue
        if ocr is not None and (v.provenance.image is not None) != ocr:
            continue
        out.append((key, v))
    return out


def _png(view: SourceView) -> Any:
    import cv2
    import numpy as np

    assert view.kind == "image" and view.png and view.png.startswith(b"\x89PNG"), view.note
    image = cv2.imdecode(np.frombuffer(view.png, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    h, w = image.shape[:2]
    assert view.box is not None
    x0, y0, x1, y1 = view.box
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (view.box, w, h)
    return image


def _frame_is_red(image: Any, box: tuple[int, int, int, int]) -> bool:
    """The red frame is drawn just outside the box."""
    x0, y0, x1, _ = box
    row = image[max(0, y0 - 2), x0:x1]
    return bool((row[:, 2] > 200).mean() > 0.8 and (row[:, 0] < 80).mean() > 0.8)


def _read_back(image: Any, box: tuple[int, int, int, int]) -> str:
    """OCR of the PNG inside the box, margins off as test_provenance does."""
    from nianbao.extract.ocr.engine import get_engine

    x0, y0, x1, y1 = box
    cell = image[y0:y1, x0:x1]
    margin = max(2, min(cell.shape[:2]) // 12)
    line = get_engine().read_line(cell[margin:-margin, margin:-margin].copy())
    return squash(line.text).translate(_LOOKALIKE) if line else ""


@pytest.mark.parametrize("suffix", ["txt", "md", "html", "gbk.html", "docx"])
def test_text_formats_show_the_raw_text_at_the_place(suffix: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path, record = _extracted(suffix, tmp_path_factory)
    assert record.report is not None
    for key in KEYS:
        v = record.report.get(key)
        assert v.provenance is not None and v.raw, key
        view = _view(path, record, v.provenance)
        assert view.kind == "text", (key, view.note)
        assert shows(v.raw, view.shown), (key, v.raw, view.shown[:80])
        assert path.name in view.note
        assert view.before or view.after, key  # context around the place
    # A cell's context is its row: the row's label comes before it.
    cell = _view(path, record, record.report.get("t3.new.total").provenance)
    assert "本年新收" in squash(cell.before), cell.before
    if suffix in ("txt", "md"):
        assert len(cell.before) <= 160 and len(cell.after) <= 160


def test_a_pdf_text_layer_place_is_its_page_with_the_box_drawn(tmp_path_factory: pytest.TempPathFactory) -> None:
    path, record = _extracted("pdf", tmp_path_factory)
    assert record.report is not None
    for key in KEYS:
        v = record.report.get(key)
        assert v.provenance is not None and v.provenance.bbox is not None
        view = _view(path, record, v.provenance)
        image = _png(view)
        assert view.box is not None and _frame_is_red(image, view.box), key
        assert view.note == f"page {v.provenance.page} of {path.name}"
        assert shows(v.raw, view.shown), (key, v.raw, view.shown)
        # The band keeps the page's whole width (110 dpi), so the row's label is in it.
        assert image.shape[1] == round(595 * 110 / 72) or image.shape[1] > 800
    assert "本年新收" in squash(_view(path, record, record.report.get("t3.new.total").provenance).before)


@pytest.mark.parametrize("suffix", ["img.html", "img.docx", "img.pdf", "scan.pdf"])
def test_ocr_places_show_the_picture_with_the_box_drawn(suffix: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path, record = _extracted(suffix, tmp_path_factory)
    assert record.format is not None
    values = [(k, v) for k, v in _placed(record, ocr=True) if v.provenance.bbox is not None]
    assert len(values) >= 8  # one page holds table 二 at least
    picture: dict[str, Any] = {}
    for key, v in values[:: max(1, len(values) // 6)]:
        prov = v.provenance
        view = _view(path, record, prov)
        image = _png(view)
        assert view.box is not None and _frame_is_red(image, view.box), key
        assert path.name in view.note and (f"page {prov.page} of" in view.note if "@" in (prov.image or "") else prov.image in view.note), key
        x0, y0, x1, y1 = view.box
        if "@" in (prov.image or ""):
            # A scanned page: the band is scaled to the view's width; the box keeps its shape.
            bw, bh = prov.bbox[2] - prov.bbox[0], prov.bbox[3] - prov.bbox[1]
            assert abs((x1 - x0) / (y1 - y0) - bw / bh) < 0.15 * bw / bh, key
            continue
        # A picture as stored: the pixels in the box are the picture's own there (scaled, if it is wider than the view).
        if prov.image not in picture:
            picture[prov.image] = picture_pixels(path, prov, record.format)
        import cv2

        own = crop(picture[prov.image], prov.bbox)
        shown = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        assert abs(shown.shape[0] - own.shape[0]) <= 0.05 * own.shape[0] + 2 and abs(shown.shape[1] - own.shape[1]) <= 0.05 * own.shape[1] + 2, key
        own = cv2.resize(own, (shown.shape[1], shown.shape[0]), interpolation=cv2.INTER_AREA)
        assert abs(shown.astype(int) - own.astype(int)).mean() < 8, key


@pytest.mark.parametrize("suffix", ["img.docx", "scan.pdf"])
def test_the_box_in_the_png_reads_back_as_the_raw_text(suffix: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """One crop per kind (a stored picture, a scanned page), read again by OCR: it shows the value's raw."""
    path, record = _extracted(suffix, tmp_path_factory)
    cells = [(k, v) for k, v in _placed(record, ocr=True) if v.provenance.table is not None and v.state.value == "number"]
    key, v = max(cells, key=lambda kv: (len(squash(kv[1].raw)), kv[0]))  # a number of several digits
    view = _view(path, record, v.provenance)
    image = _png(view)
    assert _read_back(image, view.box) == squash(v.raw), key


def _stored(record: Record, tmp_path: Path) -> Any:
    """The record written into a results store and read back as the review app reads it."""
    from nianbao.store import ResultsStore
    from nianbao.store.write import RunStore

    db = tmp_path / "nianbao.db"
    run = RunStore(db, "overwrite", tmp_path)
    try:
        report_id = run.put(run.prepare(record))
    finally:
        run.close()
    with ResultsStore(db) as store:
        return store.report(report_id)


def test_view_for_resolves_the_stored_path_against_a_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "in").mkdir(parents=True)
    (work / "in" / "a.txt").write_bytes((CORPUS / f"{DOC}.txt").read_bytes())
    monkeypatch.chdir(work)
    record = extract_file(Path("in/a.txt"))  # stored as given: relative to the cwd then
    report = _stored(record, tmp_path)
    monkeypatch.chdir(tmp_path)
    field = report.field("t3.new.total")
    assert field.file == "in/a.txt"
    view = view_for(field, report, base=work)
    assert view.kind == "text" and shows(field.raw, view.shown), view.note
    # Without the base the relative path does not resolve from here: a note, not an error.
    lost = view_for(field, report)
    assert lost.kind == "none" and "in/a.txt" in lost.note
    # A file changed since it was read: its places no longer apply.
    (work / "in" / "a.txt").write_bytes(b"x" + (CORPUS / f"{DOC}.txt").read_bytes())
    changed = view_for(field, report, base=work)
    assert changed.kind == "none" and "changed" in changed.note
    # A missing file.
    (work / "in" / "a.txt").unlink()
    missing = view_for(field, report, base=work)
    assert missing.kind == "none" and "in/a.txt" in missing.note and "cannot be opened" in missing.note


def test_a_field_with_no_place_or_a_bad_place_gives_a_note(tmp_path: Path) -> None:
    path = CORPUS / f"{DOC}.txt"
    record = extract_file(path)
    assert record.report is not None
    gone = record.report.get("t4.suit_direct.total")  # as if the document did not carry it
    gone.value, gone.raw, gone.provenance, gone.state, gone.method = None, None, None, State.NOT_FOUND, None
    report = _stored(record, tmp_path)
    unfound = report.field("t4.suit_direct.total")
    assert unfound.machine_state == "not_found" and unfound.file is None
    view = view_for(unfound, report, base=ROOT)
    assert view.kind == "none" and "not found" in view.note
    # Places that do not resolve, and hostile ones, are notes too.
    bad = [
        source_view(path, fmt="txt", span=(10**9, 10**9 + 2)),
        source_view(CORPUS / f"{DOC}.html", fmt="html", xpath="/html/body[1]/table[99]"),
        source_view(CORPUS / f"{DOC}.html", fmt="html", xpath="count(//*)"),
        source_view(CORPUS / f"{DOC}.html", fmt="html", xpath="/html/body[1]/p[1]/text()"),
        source_view(CORPUS / f"{DOC}.docx", fmt="docx", xpath="/body/tbl[9]/tr[1]/tc[1]"),
        source_view(CORPUS / f"{DOC}.pdf", fmt="pdf", page=99, bbox=(0, 0, 10, 10)),
        source_view(CORPUS / f"{DOC}.pdf", fmt="pdf", page=1, bbox=(5000, 5000, 5010, 5010)),
        source_view(CORPUS / f"{DOC}.img.html", fmt="html", image="../../../../etc/passwd", bbox=(0, 0, 10, 10)),
        source_view(CORPUS / f"{DOC}.img.docx", fmt="docx", image="nothing.png", bbox=(0, 0, 10, 10)),
        source_view(CORPUS / f"{DOC}.scan.pdf", fmt="pdf", image="page 1 @9999dpi", bbox=(0, 0, 10, 10)),
        source_view(tmp_path / "gone.pdf", fmt="pdf", page=1, bbox=(0, 0, 10, 10)),
        source_view(path, fmt="txt"),
    ]
    for view in bad:
        assert view.kind == "none" and view.note, view
    assert "outside" in bad[0].note and "no place" in bad[-1].note


def test_pictures_over_the_pixel_limit_are_not_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nianbao.review.source import clear_caches

    clear_caches()
    monkeypatch.setenv("NIANBAO_MAX_IMAGE_PIXELS", "1000")
    view = source_view(CORPUS / f"{DOC}.img.docx", fmt="docx", image="image1.png", bbox=(0, 0, 10, 10))
    assert view.kind == "none" and "NIANBAO_MAX_IMAGE_PIXELS" in view.note
    page = source_view(CORPUS / f"{DOC}.scan.pdf", fmt="pdf", image="page 1 @200dpi", bbox=(0, 0, 10, 10))
    assert page.kind == "none" and "NIANBAO_MAX_IMAGE_PIXELS" in page.note


def test_a_zip_members_place_is_shown_from_the_runs_extracted_copy(tmp_path: Path) -> None:
    import zipfile

    from nianbao.bundled import SEEDS
    from nianbao.cli import main
    from nianbao.review.source import view_for
    from nianbao.store import ResultsStore

    seed = sorted(SEEDS.glob("*.txt"))[0]
    archive = tmp_path / "reports.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(seed, f"2023/{seed.name}")
    out = tmp_path / "out"
    assert main(["extract", str(archive), "--out", str(out)]) == 0
    store = ResultsStore(out / "nianbao.db")
    try:
        report = store.report(store.reports()[0].id)
        field = report.field("t3.new.total")
        assert "!" in (field.file or report.source)
        assert view_for(field, report).kind == "none"  # the member is no file of its own
        view = view_for(field, report, inputs=out / ".inputs")
    finally:
        store.close()
    assert view.kind == "text" and field.raw is not None and field.raw in view.shown
