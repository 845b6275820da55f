"""Parallel, resumable and incremental runs; the Ray engine.  Real processes, real files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nianbao.cli import main
from nianbao.outputs import COMMITS, COMPACTING, FILES, Writer, committed_count, compact, finish_compaction, read_records
from nianbao.pipeline import extract_file

from .conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "samples" / "corpus" / "docs"
# Fields that differ between two readings of the same bytes: time taken.
_VOLATILE = ("seconds",)


def _mixed(folder: Path) -> list[Path]:
    """Seed texts and corpus HTML, DOCX and text-layer PDFs, one report that fails to read."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in sorted(SEEDS.glob("*.txt"))[:5]:
        paths.append(Path(shutil.copy(seed, folder / seed.name)))
    for name in ("gen001_000.html", "gen001_001.docx", "gen001_002.pdf", "gen001_003.gbk.html", "gen001_004.md"):
        if (CORPUS / name).exists():
            paths.append(Path(shutil.copy(CORPUS / name, folder / name)))
    bad = folder / "notes.txt"
    bad.write_text("会议纪要\n今天讨论了食堂菜单。\n", encoding="utf-8")
    paths.append(bad)
    return sorted(paths)


def _records(out: Path) -> dict[str, dict[str, Any]]:
    return {r["source"]: {k: v for k, v in r.items() if k not in _VOLATILE} for r in read_records(out / "records.jsonl")}


def _lines(out: Path) -> tuple[list[str], list[str], list[str]]:
    """Sources in the order each output file holds them, read raw (no dedup, commit log ignored).

    fields.csv has no rows for an error record: its list holds the sources in records.jsonl
    order with the failed ones put back in, so the three lists are equal when the files agree."""
    import csv

    records = [json.loads(line)["source"] for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    reports = [json.loads(line)["source"] for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    with (out / "fields.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # A source's rows are contiguous; count each run of rows once.
    csv_sources = [r["source"] for i, r in enumerate(rows) if i == 0 or rows[i - 1]["source"] != r["source"]]
    failed = iter(json.loads(line)["source"] for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines() if json.loads(line)["status"] != "ok")
    status = [json.loads(line)["status"] for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    rows_iter = iter(csv_sources)
    merged = [next(rows_iter, "?") if st == "ok" else next(failed) for st in status]
    assert next(rows_iter, None) is None, "fields.csv holds rows of a record the other files lack"
    return records, reports, merged


def _db(out: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(out / "nianbao.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_two_workers_give_the_same_records_as_one(tmp_path: Path) -> None:
    docs = _mixed(tmp_path / "docs")
    assert main(["extract", str(tmp_path / "docs"), "--out", str(tmp_path / "one"), "--workers", "1"]) == 1  # notes.txt fails
    assert main(["extract", str(tmp_path / "docs"), "--out", str(tmp_path / "two"), "--workers", "2"]) == 1
    one, two = _records(tmp_path / "one"), _records(tmp_path / "two")
    assert sorted(one) == sorted(two) == sorted(str(p) for p in docs)
    assert one == two
    assert one[str(tmp_path / "docs" / "notes.txt")]["error_stage"] == "locate"
    assert all(r["fingerprint"] and r["fingerprint"] == one[str(docs[0])]["fingerprint"] for r in one.values())
    stored = {r["source"] for r in _db(tmp_path / "two").execute("SELECT source FROM reports")}
    assert stored == set(two)


def test_kill_9_then_resume_with_two_workers_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for k in range(10):  # text-layer PDFs: slow enough to be killed mid-batch
        for pdf in sorted(CORPUS.glob("gen001_00?.pdf")):
            shutil.copy(pdf, docs / f"{k:02d}_{pdf.name}")
            # each copy its own bytes, so none is a duplicate of another
            with (docs / f"{k:02d}_{pdf.name}").open("ab") as f:
                f.write(f"\n% copy {k}\n".encode())
    inputs = sorted(str(p) for p in docs.iterdir())
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "nianbao.cli", "extract", str(docs), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(read_records(out / "records.jsonl") if (out / COMMITS).exists() else []) < 6:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = [r["source"] for r in read_records(out / "records.jsonl")]
    assert 6 <= len(killed) < len(inputs)
    resumed = subprocess.run([*cmd, "--resume"], check=False, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"{len(killed)} unchanged" in resumed.stderr
    records, reports, csv_sources = _lines(out)
    assert records == reports == csv_sources
    assert sorted(records) == inputs  # every input once: nothing lost, nothing twice
    assert records[: len(killed)] == killed
    stored = [r["source"] for r in _db(out).execute("SELECT source FROM reports")]
    assert sorted(stored) == inputs


def test_a_rerun_reads_only_what_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = _mixed(tmp_path / "docs")
    out = tmp_path / "out"
    run = ["extract", str(tmp_path / "docs"), "--out", str(out), "--workers", "2"]
    main(run)
    first = _records(out)
    capsys.readouterr()

    # Nothing changed: nothing is read; the mtime alone is not a change.
    os.utime(docs[0], (time.time() + 100, time.time() + 100))
    assert main([*run, "--resume"]) == 0  # the kept failure is not this run's
    err = capsys.readouterr().err
    assert "0 to read" in err and f"{len(docs)} unchanged" in err
    assert _records(out) == first
    assert committed_count(out) == len(docs)

    # One file's bytes changed: that one is read again, and its record replaces the old one.
    seed = next(p for p in docs if p.suffix == ".txt" and p.name != "notes.txt")
    seed.write_text(seed.read_text(encoding="utf-8").replace("政府信息公开", "政府信息公开 ", 1), encoding="utf-8")
    main([*run, "--resume"])
    err = capsys.readouterr().err
    assert "1 to read (1 content changed)" in err
    after = _records(out)
    assert after[str(seed)]["sha256"] != first[str(seed)]["sha256"]
    assert {s: r for s, r in after.items() if s != str(seed)} == {s: r for s, r in first.items() if s != str(seed)}
    records, reports, csv_sources = _lines(out)
    assert records == reports == csv_sources and sorted(records) == sorted(str(p) for p in docs)  # compacted: once each
    assert [r["sha256"] for r in _db(out).execute("SELECT sha256 FROM reports WHERE source = ?", (str(seed),))] == [after[str(seed)]["sha256"]]

    # A changed limit is a changed fingerprint: every file is read again.
    main([*run, "--resume", "--limit", "max_pages=400"])
    err = capsys.readouterr().err
    assert f"{len(docs)} to read ({len(docs)} fingerprint changed)" in err
    again = _records(out)
    assert len({r["fingerprint"] for r in again.values()}) == 1 and again[str(seed)]["fingerprint"] != after[str(seed)]["fingerprint"]
    assert json.loads((out / "fingerprint.json").read_text())["limits"]["max_pages"] == 400
    records, reports, csv_sources = _lines(out)
    assert records == reports == csv_sources and len(records) == len(docs)


def test_failures_are_kept_until_retry_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.txt"
    shutil.copy(SEEDS / "000_25a82b73f95a5995.txt", good)
    missing = tmp_path / "later.txt"
    out = tmp_path / "out"
    run = ["extract", str(good), str(missing), "--out", str(out), "--workers", "2"]
    assert main(run) == 1
    assert _records(out)[str(missing)]["status"] == "error"
    capsys.readouterr()
    assert main([*run, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "0 to read" in err and "1 failed before: --retry-failed reads them again" in err
    assert "No such file" in _records(out)[str(missing)]["error"]
    assert main([*run, "--retry-failed"]) == 1  # implies --resume; still missing, still an error
    assert "1 to read (1 retry failed)" in capsys.readouterr().err
    shutil.copy(SEEDS / "003_d746fab4eb0be43f.txt", missing)  # the file turns up: its content changed
    assert main([*run, "--resume"]) == 0
    assert _records(out)[str(missing)]["status"] == "ok"
    assert committed_count(out) == 2


def test_a_killed_compaction_is_finished_and_the_store_catches_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))[:3]
    out = tmp_path / "out"
    with Writer(out, store=out / "nianbao.db") as writer:
        for s in seeds:
            writer.write(extract_file(s, str(s)))
        again = extract_file(seeds[0], str(seeds[0]))
        again.seconds = 99.0
        assert writer.store is not None

        def killed(prepared: object) -> int:
            raise KeyboardInterrupt  # dies after the files' commit, before the store's

        monkeypatch.setattr(writer.store, "put", killed)
        with pytest.raises(KeyboardInterrupt):
            writer.write(again)  # a source read again, as an incremental run does
        monkeypatch.undo()
    assert committed_count(out) == 4
    assert [r["source"] for r in read_records(out / "records.jsonl")] == [str(s) for s in seeds[1:]] + [str(seeds[0])]  # the latest counts
    # The next writer puts the re-read record into the store, which still held the old one.
    with Writer(out, "resume", store=out / "nianbao.db") as writer:
        assert [r["seconds"] for r in _db(out).execute("SELECT seconds FROM reports WHERE source = ?", (str(seeds[0]),))] == [99.0]
        # A compaction killed after its marker, mid-swap: the next writer finishes it.
        for fd in writer._fds.values():
            os.close(fd)
        writer._fds = {}
        real_replace = os.replace
        calls = {"n": 0}

        def dies(a: Any, b: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 3:  # the marker, reports.jsonl, then the kill
                raise KeyboardInterrupt
            real_replace(a, b)

        monkeypatch.setattr(os, "replace", dies)
        with pytest.raises(KeyboardInterrupt):
            compact(out)
        monkeypatch.undo()
        assert (out / COMPACTING).exists()
        writer._open()
    finish_compaction(out)  # what the next Writer does first
    assert not (out / COMPACTING).exists() and not any((out / (n + ".compact")).exists() for n in FILES)
    records, reports, csv_sources = _lines(out)
    assert records == reports == csv_sources == [str(s) for s in seeds[1:]] + [str(seeds[0])]
    assert committed_count(out) == 3


def test_the_ray_engine_writes_what_the_local_one_does(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    docs = tmp_path / "docs"
    docs.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(seed, docs / seed.name)
    for name in ("gen001_000.html", "gen001_001.docx"):
        shutil.copy(CORPUS / name, docs / name)
    (docs / "notes.txt").write_text("会议纪要\n", encoding="utf-8")
    assert main(["extract", str(docs), "--out", str(tmp_path / "local"), "--workers", "2"]) == 1
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [sys.executable, "-m", "nianbao.cli", "extract", str(docs), "--out", str(tmp_path / "ray"), "--workers", "2", "--engine", "ray"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)  # starts and stops its own local Ray
    assert done.returncode == 1, done.stderr[-3000:]
    assert "(ray)" in done.stderr
    assert _records(tmp_path / "ray") == _records(tmp_path / "local")
    records, reports, csv_sources = _lines(tmp_path / "ray")
    assert records == reports == csv_sources
    # Resumable like a local run: nothing to read again.
    again = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=180, env=env)
    assert "0 to read" in again.stderr, again.stderr[-2000:]
