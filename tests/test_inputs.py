"""Inputs: zip archives (traversal, bombs, nesting, GBK names), the manifest CSV, duplicates, globs,
and legacy .doc/.wps files read through LibreOffice like their DOCX twins."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from nianbao.extract.backends.legacy import convert_to_docx, find_soffice
from nianbao.extract.limits import Limits
from nianbao.inputs import ArchiveLimits, InputItem, expand, expand_paths
from nianbao.manifest import ManifestError, apply_hints, parse_year, read_manifest
from nianbao.pipeline import extract_file
from nianbao.places import shows, text_at
from nianbao.schemas import Method, State

DOCS = Path(__file__).resolve().parent.parent / "samples" / "corpus" / "docs"
TXT = DOCS / "gen001_000.txt"
TXT2 = DOCS / "gen001_002.txt"
TWINS = ["gen001_000.docx", "gen001_002.docx"]  # a 2021 and a 2019 template report


def by_source(items: list[InputItem]) -> dict[str, InputItem]:
    return {i.source: i for i in items}


class _GbkInfo(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag, as Chinese Windows zips them."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's own hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _traversal(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # ZipInfo() would normalise the name; a hostile writer does not
    zf.writestr(info, data)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "archive.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(TXT, "reports/2023/a.txt")
        zf.write(DOCS / "gen001_001.docx", "reports/2023/b.docx")
        zf.writestr("notes/readme.csv", "not a report")  # passed over, as in a folder
        zf.writestr("__MACOSX/reports/._a.txt", b"\x00\x05\x16\x07")
        zf.writestr(_GbkInfo("报告/甲.txt"), (DOCS / "gen001_003.txt").read_bytes())
        _traversal(zf, "../../escaped.txt", TXT.read_bytes())
        _traversal(zf, "/tmp/nianbao-absolute.txt", b"x")
        zf.writestr("bomb.txt", b"\x00" * (20 * 2**20))  # 20 MB of zeros deflate ~1000x
        inner = tmp_path / "inner.zip"
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z2:
            z2.write(TXT2, "c.txt")
        zf.write(inner, "nested/inner.zip")
    return path


def test_zip_members_read_and_hostile_ones_refused(archive: Path, tmp_path: Path) -> None:
    cache = tmp_path / "out" / ".inputs"
    items = expand([str(archive)], cache_dir=cache)
    got = by_source(items)
    src = str(archive)
    assert set(got) == {
        f"{src}!reports/2023/a.txt",
        f"{src}!reports/2023/b.docx",
        f"{src}!报告/甲.txt",  # GBK name decoded, not CP437 mojibake
        f"{src}!../../escaped.txt",
        f"{src}!/tmp/nianbao-absolute.txt",
        f"{src}!bomb.txt",
        f"{src}!nested/inner.zip!c.txt",
    }
    # The members are extracted under the cache folder, and nothing outside it.
    for source in (f"{src}!reports/2023/a.txt", f"{src}!报告/甲.txt", f"{src}!nested/inner.zip!c.txt"):
        item = got[source]
        assert item.error is None and cache in item.path.parents and item.sha256
    assert not (tmp_path / "escaped.txt").exists() and not (archive.parent / "escaped.txt").exists()
    assert not Path("/tmp/nianbao-absolute.txt").exists()
    assert "outside the archive" in (got[f"{src}!../../escaped.txt"].error or "")
    assert "outside the archive" in (got[f"{src}!/tmp/nianbao-absolute.txt"].error or "")
    bomb = got[f"{src}!bomb.txt"].error or ""
    assert "zip bomb" in bomb and "NIANBAO_MAX_ARCHIVE_RATIO" in bomb
    # Each becomes a record: the good members read, the refused ones a load error with the message.
    for source, item in got.items():
        record = extract_file(item.path, item.source)
        assert record.source == source
        if item.error:
            assert record.status == "error" and record.error == f"load: {item.error}", record.error
        else:
            assert record.status == "ok", (source, record.error)
    a = extract_file(got[f"{src}!reports/2023/a.txt"].path, f"{src}!reports/2023/a.txt")
    assert a.fields == extract_file(TXT).fields
    assert a.report.get("t3.new.total").provenance.file == f"{src}!reports/2023/a.txt"


def test_zip_limits_depth_size_and_corrupt(archive: Path, tmp_path: Path) -> None:
    items = by_source(expand([str(archive)], cache_dir=tmp_path / "c1", archive_limits=ArchiveLimits(max_archive_depth=1)))
    assert "NIANBAO_MAX_ARCHIVE_DEPTH" in (items[f"{archive}!nested/inner.zip"].error or "")
    # A member declaring more than a file may be is refused before it is inflated.
    small = Limits(max_file_bytes=10_000)
    items = by_source(expand([str(archive)], cache_dir=tmp_path / "c2", limits=small))
    assert "NIANBAO_MAX_FILE_BYTES" in (items[f"{archive}!reports/2023/a.txt"].error or "")
    # A total budget: members past it are refused, each with its own record.
    items = by_source(expand([str(archive)], cache_dir=tmp_path / "c3", archive_limits=ArchiveLimits(max_archive_bytes=30_000)))
    assert any("NIANBAO_MAX_ARCHIVE_BYTES" in (i.error or "") for i in items.values())
    [whole] = expand([str(archive)], cache_dir=tmp_path / "c5", archive_limits=ArchiveLimits(max_archive_members=3))
    assert whole.source == str(archive) and "NIANBAO_MAX_ARCHIVE_MEMBERS" in (whole.error or "")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    [item] = expand([str(broken)], cache_dir=tmp_path / "c4")
    assert item.source == str(broken) and "corrupt or unreadable zip" in (item.error or "")
    assert extract_file(item.path, item.source).error_stage == "load"


def test_zip_is_reused_by_a_rerun(archive: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = expand([str(archive)], cache_dir=cache)
    again = expand([str(archive)], cache_dir=cache)
    assert [(i.path, i.source, i.sha256) for i in first] == [(i.path, i.source, i.sha256) for i in again]
    assert not list(cache.rglob(".part-*"))


def test_duplicates_recorded_once_with_every_path(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    (d / "sub").mkdir(parents=True)
    shutil.copy(TXT, d / "a.txt")
    shutil.copy(TXT, d / "sub" / "copy.txt")
    shutil.copy(TXT2, d / "other.txt")
    with zipfile.ZipFile(d / "z.zip", "w") as zf:
        zf.write(TXT, "again.txt")
    items = expand([str(d), str(d / "a.txt")], cache_dir=tmp_path / "cache")  # a.txt named twice: once
    sources = [i.source for i in items]
    assert sources == [str(d / "a.txt"), str(d / "other.txt")]
    [first, other] = items
    assert sorted(first.also_at) == sorted([str(d / "sub" / "copy.txt"), f"{d / 'z.zip'}!again.txt"])
    assert other.also_at == [] and first.sha256 != other.sha256
    # The old pairs still come out, and items unpack like them.
    assert expand_paths([str(d / "other.txt")]) == [(d / "other.txt", str(d / "other.txt"))]
    [(path, source)] = expand([str(d / "other.txt")])
    assert path == d / "other.txt" and source == str(d / "other.txt")


def test_globs_and_what_is_not_hashed(tmp_path: Path) -> None:
    (tmp_path / "2021").mkdir()
    (tmp_path / "2022" / "deep").mkdir(parents=True)
    shutil.copy(TXT, tmp_path / "2021" / "a.txt")
    shutil.copy(TXT2, tmp_path / "2022" / "deep" / "b.txt")
    (tmp_path / "2022" / "c.pdf").write_bytes(b"%PDF-1.4 other")
    assert [i.path for i in expand([str(tmp_path / "**" / "*.txt")])] == [tmp_path / "2021" / "a.txt", tmp_path / "2022" / "deep" / "b.txt"]
    assert [i.path.name for i in expand([str(tmp_path / "2022" / "*")])] == ["c.pdf"]  # the folder 'deep' is no report
    # A FIFO is kept for load to refuse, never opened to hash; a file over the limit is not hashed.
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    items = by_source(expand([str(fifo), str(big)], limits=Limits(max_file_bytes=1000)))
    assert items[str(fifo)].sha256 is None and items[str(big)].sha256 is None
    assert "not a regular file" in (extract_file(fifo).error or "")


def _manifest(tmp_path: Path, text: str, encoding: str) -> Path:
    m = tmp_path / "list" / "manifest.csv"
    m.parent.mkdir(exist_ok=True)
    m.write_bytes(text.encode(encoding))
    return m


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "utf-8"])
def test_manifest_hints_and_precedence(tmp_path: Path, encoding: str) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(TXT, docs / "a.txt")
    shutil.copy(TXT2, docs / "b.txt")
    doc_a = extract_file(docs / "a.txt")
    agency_a, year_a = doc_a.fields["meta.agency"], doc_a.fields["meta.year"]
    text = f"文件,机关,地区,年度,备注\n../docs/a.txt,{agency_a},山东省聊城市,{year_a}年,ok\n../docs/b.txt,某县教育局,某县,2019,\n,,,,\n../docs/missing.txt,x,,2020,\n"
    manifest = _manifest(tmp_path, text, encoding)
    rows = read_manifest(manifest)
    assert [r.path for r in rows] == ["../docs/a.txt", "../docs/b.txt", "../docs/missing.txt"]
    items = expand([], manifest=manifest)
    got = {i.path.name: i for i in items}
    a, b = got["a.txt"], got["b.txt"]
    assert a.hints["agency"] == agency_a and a.hints["region"] == "山东省聊城市" and a.hints["year"] == f"{year_a}年" and a.hints["备注"] == "ok"
    assert a.hints["manifest"] == str(manifest) and a.hints["manifest_row"] == "1" and b.hints["manifest_row"] == "2"
    assert "missing.txt" in got and extract_file(got["missing.txt"].path).error_stage == "load"
    assert len(items) == 3  # the blank row is passed over

    # Agreement: the manifest's values, method manifest, no flag.
    report = doc_a.report
    apply_hints(report, a.hints)
    agency = report.get("meta.agency")
    assert agency.value == agency_a and agency.method is Method.MANIFEST and agency.raw == agency_a and not agency.review
    assert agency.provenance.file == str(manifest) and agency.provenance.row == 1 and agency.provenance.col == 1
    year = report.get("meta.year")
    assert year.value == year_a and year.state is State.NUMBER and year.raw == f"{year_a}年" and not year.review

    # Disagreement: the manifest wins, and the field says what the document had.
    record_b = extract_file(docs / "b.txt")
    doc_agency, doc_year = record_b.fields["meta.agency"], record_b.fields["meta.year"]
    apply_hints(record_b.report, b.hints)
    agency = record_b.report.get("meta.agency")
    assert agency.value == "某县教育局" and agency.method is Method.MANIFEST
    assert len(agency.review) == 1 and doc_agency in agency.review[0] and "manifest.csv line 3" in agency.review[0]
    year = record_b.report.get("meta.year")
    assert year.value == 2019
    assert (str(doc_year) in year.review[0]) if doc_year != 2019 else not year.review
    assert "region" not in record_b.report.to_flat()  # the region stays a hint, for the resolver


def test_manifest_bad_cells_and_files(tmp_path: Path) -> None:
    report = extract_file(TXT).report
    before = report.get("meta.year").value
    apply_hints(report, {"year": "去年", "manifest": "m.csv", "manifest_row": "4"})
    assert report.get("meta.year").value == before and "not a year" in report.get("meta.year").review[0]
    assert parse_year("二〇二一年") == 2021 and parse_year("２０２２年度") == 2022 and parse_year("21") is None
    with pytest.raises(ManifestError, match="no path column"):
        read_manifest(_manifest(tmp_path, "name,agency\na.txt,x\n", "utf-8"))
    tabbed = _manifest(tmp_path, "path\tagency\n../a.txt\t某局\n", "utf-8")
    assert read_manifest(tabbed)[0].hints["agency"] == "某局"


def test_manifest_row_names_a_zip_and_a_duplicate(archive: Path, tmp_path: Path) -> None:
    shutil.copy(TXT, tmp_path / "loose.txt")
    manifest = _manifest(tmp_path, f"file,year\n{archive},2023\n../loose.txt,2024\n", "utf-8")
    items = by_source(expand([], manifest=manifest, cache_dir=tmp_path / "cache"))
    member = items[f"{archive}!reports/2023/a.txt"]
    assert member.hints["year"] == "2023" and member.also_at == [str(tmp_path / "loose.txt")]


# --- legacy .doc and .wps ---------------------------------------------------------------


@pytest.fixture(scope="module")
def legacy_twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    soffice = find_soffice()
    assert soffice, "LibreOffice (soffice) is not installed: scripts/setup.sh installs it (apt-get install libreoffice-writer-nogui)"
    tmp = tmp_path_factory.mktemp("legacy")
    for name in TWINS:
        shutil.copy(DOCS / name, tmp / name)
    profile = (tmp / "profile").as_uri()
    for fmt in ("doc", "rtf"):
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", fmt, "--outdir", str(tmp / fmt), *(str(tmp / n) for n in TWINS)],
            check=True,
            capture_output=True,
            timeout=180,
        )
    out: dict[str, Path] = {}
    for name in TWINS:
        stem = Path(name).stem
        out[f"{stem}.docx"] = tmp / name
        out[f"{stem}.doc"] = tmp / "doc" / f"{stem}.doc"
        wps = tmp / f"{stem}.wps"
        shutil.copy(out[f"{stem}.doc"], wps)  # WPS Writer's .wps is the Word binary format
        out[f"{stem}.wps"] = wps
        rtf_as_doc = tmp / f"{stem}.rtf.doc"  # RTF served under a .doc name
        shutil.copy(tmp / "rtf" / f"{stem}.rtf", rtf_as_doc)
        out[f"{stem}.rtf.doc"] = rtf_as_doc
    return out


@pytest.mark.parametrize("name", TWINS)
@pytest.mark.parametrize("kind", ["doc", "wps", "rtf.doc"])
def test_legacy_extracts_like_its_docx_twin(legacy_twins: dict[str, Path], name: str, kind: str) -> None:
    stem = Path(name).stem
    twin = extract_file(legacy_twins[f"{stem}.docx"])
    legacy_path = legacy_twins[f"{stem}.{kind}"]
    legacy = extract_file(legacy_path)
    assert twin.status == "ok" and legacy.status == "ok", legacy.error
    assert legacy.format == {"doc": "doc", "wps": "wps", "rtf.doc": "rtf"}[kind]
    assert legacy.fields == twin.fields
    assert legacy.review == twin.review
    a, b = dict(twin.report.values()), dict(legacy.report.values())
    assert a.keys() == b.keys()
    placed = [k for k, v in b.items() if v.raw and v.provenance is not None and v.provenance.xpath]
    opened = set(placed[:: max(1, len(placed) // 40)])  # python-docx opens the file for each place: a sample
    with convert_to_docx(legacy_path) as converted:
        for key, va in a.items():
            vb = b[key]
            assert (vb.value, vb.raw, vb.state, vb.method, vb.confidence, vb.review) == (va.value, va.raw, va.state, va.method, va.confidence, va.review), key
            if va.provenance is None:
                continue
            # The file is the original; the place is in the DOCX LibreOffice converts it to
            # (its grid can differ from the twin's: merged cells come back split).
            assert vb.provenance is not None and vb.provenance.file == str(legacy_path), key
            if key in opened:
                assert shows(vb.raw, text_at(converted, vb.provenance, None, "docx")), key
    assert any(k.startswith("t3.") and v.state is State.NUMBER for k, v in b.items())


def test_legacy_without_libreoffice_is_a_clear_error(legacy_twins: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NIANBAO_SOFFICE", str(tmp_path / "no-soffice"))
    record = extract_file(legacy_twins["gen001_000.wps"])
    assert record.status == "error" and record.error_stage == "load"
    assert (record.error or "").startswith("load: .wps needs LibreOffice (soffice)"), record.error


def test_legacy_damaged_and_other_ole_files(legacy_twins: dict[str, Path], tmp_path: Path) -> None:
    data = legacy_twins["gen001_000.doc"].read_bytes()
    damaged = tmp_path / "damaged.doc"
    damaged.write_bytes(data[: len(data) // 3])
    record = extract_file(damaged)
    assert record.status == "error" and record.error_stage == "load", record.error
    junk = tmp_path / "x.docx"
    junk.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(5000))
    assert "OLE compound file named .docx" in (extract_file(junk).error or "")
    encrypted = tmp_path / "secret.docx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 500)
    assert "password-protected" in (extract_file(encrypted).error or "")
