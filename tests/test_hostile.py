"""Damaged and hostile inputs: each gets an error record, none ends the batch or takes the machine.

The batch test runs the real command line in a subprocess over one file of every
kind in ``eval/hostile.py`` plus good reports, and watches the memory of the whole
process tree while it runs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nianbao.eval.hostile import GOOD_PREFIX, KINDS, generate_hostile, kind_of
from nianbao.extract.document import ExtractionError, Image
from nianbao.extract.limits import LimitError, Limits, parse_amount
from nianbao.extract.load import load, source_name
from nianbao.inputs import expand

from .conftest import ROOT, SEEDS

GOOD = [
    SEEDS / "000_25a82b73f95a5995.txt",
    SEEDS / "001_6bf81d20b44f1e63.txt",
    ROOT / "samples" / "corpus" / "docs" / "gen001_000.docx",
    ROOT / "samples" / "corpus" / "docs" / "gen001_000.pdf",
]
# Kinds whose files may get through the load stage (a repaired PDF, a page whose picture
# was skipped, HTML that parses to nothing) and then fail as not being a report.
MAY_LOAD = {
    "spam_text", "long_line", "html_nested", "html_spans", "html_entities", "html_img_bomb", "docx_img_bomb",
    "pdf_truncated", "pdf_bad_xref", "pdf_huge_page", "pdf_huge_image", "pdf_junk", "nonutf8_name",
}  # fmt: skip
PEAK_MEMORY_BYTES = 3 * 10**9
CLI_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One file of every kind (seed 0), and copies of the good reports."""
    return generate_hostile(tmp_path_factory.mktemp("hostile"), seed=0, count=len(KINDS), good=GOOD)


def _hostile_only(paths: list[Path]) -> list[Path]:
    return [p for p in paths if kind_of(p) is not None]


def test_generator_is_deterministic_and_covers_every_kind(hostile: list[Path], tmp_path: Path) -> None:
    kinds = [k for k in map(kind_of, _hostile_only(hostile)) if k is not None]
    assert sorted(kinds) == sorted(k.name for k in KINDS)
    again = generate_hostile(tmp_path, seed=0, count=len(KINDS))
    assert [p.name for p in again] == [p.name for p in _hostile_only(hostile)]
    for a, b in zip(_hostile_only(hostile), again):
        if a.is_file() and not a.is_symlink():
            assert a.read_bytes() == b.read_bytes(), a.name
    disk = sum(os.lstat(p).st_blocks * 512 for p in Path(tmp_path).rglob("*"))
    assert disk < 100 * 10**6  # big inputs are sparse files; the 50 MB page is the largest real one


def test_load_stage_refuses_hostile_files_with_clear_errors(hostile: list[Path]) -> None:
    limits = Limits()
    for path in _hostile_only(hostile):
        kind = kind_of(path)
        try:
            doc = load(path, limits=limits)
        except ExtractionError as exc:
            assert str(exc).strip(), kind
            continue
        # Anything else raised fails the test with its traceback: the load stage must not crash.
        assert kind in MAY_LOAD, f"{kind}: loaded, expected an error"
        if kind == "docx_img_bomb":
            skipped = [b for b in doc.blocks if isinstance(b, Image) and "skipped" in b.name]
            assert skipped and skipped[0].data is None and "NIANBAO_MAX_IMAGE_PIXELS" in skipped[0].name


def test_limit_messages_name_the_limit_and_its_variable(hostile: list[Path], tmp_path: Path) -> None:
    by_kind = {kind_of(p): p for p in _hostile_only(hostile)}
    png = tmp_path / "big.png"
    from nianbao.eval.hostile import _png_header

    png.write_bytes(_png_header(40_000, 40_000))
    with pytest.raises(LimitError, match=r"40000×40000 = 1\.6 G pixels, over the limit of 100 M pixels.*NIANBAO_MAX_IMAGE_PIXELS"):
        load(png)
    with pytest.raises(LimitError, match="NIANBAO_MAX_PAGES"):
        load(by_kind["pdf_many_pages"])
    with pytest.raises(LimitError, match="NIANBAO_MAX_FILE_BYTES"):
        load(GOOD[0], limits=Limits(max_file_bytes=100))
    with pytest.raises(ExtractionError, match="not a Word document"):
        load(by_kind["docx_other_zip"])
    with pytest.raises(ExtractionError, match="not a regular file"):
        load(by_kind["fifo"])


def test_limits_from_environment() -> None:
    env = {"NIANBAO_MAX_FILE_BYTES": "1.5G", "NIANBAO_MAX_IMAGE_PIXELS": "20M", "NIANBAO_SECONDS_PER_FILE": "12.5", "NIANBAO_MAX_PAGES": " "}
    limits = Limits.from_env(env, max_pages=7)
    assert (limits.max_file_bytes, limits.max_image_pixels, limits.seconds_per_file, limits.max_pages) == (1_500_000_000, 20_000_000, 12.5, 7)
    assert Limits.from_env({}) == Limits()
    assert parse_amount("64MiB") == 64 * 2**20
    with pytest.raises(ValueError, match="NIANBAO_MAX_PAGES"):
        Limits.from_env({"NIANBAO_MAX_PAGES": "lots"})
    with pytest.raises(ValueError, match="max_pages"):
        Limits.from_env({"NIANBAO_MAX_PAGES": "0"})


def test_names_that_are_not_utf8_are_kept_and_printable(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/\xb9\xab\xbf\xaa_report.txt"
    with open(raw, "wb") as f:
        f.write("会议纪要\n".encode())
    [(path, source)] = expand([str(tmp_path)])
    assert os.fsencode(path) == raw and path.read_bytes()  # the real name still opens
    assert source.endswith("\\xb9\\xab\\xbf\\xaa_report.txt")
    json.dumps(source, ensure_ascii=False).encode("utf-8")  # records and CSV can carry it
    assert source_name(Path("a\nb.txt")) == "a\\x0ab.txt"


def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo, page = 0, [root], os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return total


def _run_cli(inputs: Path, out: Path) -> tuple[list[dict], str, int]:
    """``nianbao extract INPUTS --out OUT`` in a subprocess: its records, its stderr, and the tree's peak memory."""
    env = {**os.environ, "NIANBAO_SECONDS_PER_FILE": "60"}
    err = out.parent / f"{out.name}.stderr"
    with err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "nianbao.cli", "extract", str(inputs), "--out", str(out)], stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=ROOT)
        peak, started = 0, time.monotonic()
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            if time.monotonic() - started > CLI_TIMEOUT_S:
                proc.kill()
                proc.wait()
                pytest.fail(f"nianbao extract ran past {CLI_TIMEOUT_S} s (hung on a file?)")
            time.sleep(0.05)
    peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines() if (out / "records.jsonl").exists() else []
    return [json.loads(line) for line in lines if line.strip()], err.read_text(encoding="utf-8", errors="replace"), peak


def test_cli_batch_of_hostile_files(hostile: list[Path], tmp_path: Path) -> None:
    folder = hostile[0].parent
    records, stderr, peak = _run_cli(folder, tmp_path / "out")
    assert "Traceback" not in stderr, stderr[-3000:]
    expected = {source_name(p): p for p in hostile}
    sources = [r["source"] for r in records]
    assert sorted(sources) == sorted(expected), f"missing {set(expected) - set(sources)}, extra {set(sources) - set(expected)}"
    by_source = {r["source"]: r for r in records}
    wrong = {kind_of(p): by_source[s]["status"] for s, p in expected.items() if kind_of(p) is not None and not (by_source[s]["status"] == "error" and (by_source[s]["error"] or "").strip())}
    assert wrong == {}, "hostile files not refused with an error message"
    assert peak < PEAK_MEMORY_BYTES, f"peak memory {peak / 1e9:.2f} GB"

    # The good reports read exactly as they do in a batch of their own.
    clean = tmp_path / "clean"
    clean.mkdir()
    for p in hostile:
        if kind_of(p) is None:
            (clean / p.name).write_bytes(p.read_bytes())
    alone, _, _ = _run_cli(clean, tmp_path / "out-clean")
    alone_by_name = {Path(r["source"]).name: r for r in alone}
    for s, p in expected.items():
        if kind_of(p) is None:
            got, want = by_source[s], alone_by_name[p.name]
            assert got["status"] == want["status"] == "ok", (p.name, got["error"])
            assert got["fields"] == want["fields"], p.name
    assert {Path(s).name for s in expected if kind_of(expected[s]) is None} == {GOOD_PREFIX + g.name for g in GOOD}
