"""``nianbao bench --archive N``: documents/s over a generated archive with 1 and 2 workers and Ray,
then a kill -9 mid-run and a resume checked against the input list.

The archive comes from ``nianbao.eval.archive.generate_archive`` (several consecutive
years per agency, both templates), in chunks of 25 agencies × 4 years generated in
parallel: text formats (TXT, Markdown, HTML, GBK HTML, DOCX, text-layer PDF, scraped
text) and two OCR documents (a page whose tables are pictures, a scanned PDF), kept
few because OCR takes 5–10 s a page on a small machine.  ``--archive-dir`` keeps the
archive for the next run.  Every run is a real ``nianbao extract`` in a subprocess,
with its results store; speed is printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

TEXT_FORMATS = ("txt", "md", "html", "gbk.html", "docx", "pdf", "cells.txt", "rows.txt")
OCR_FORMATS = ("img.html", "scan.pdf")
_CHUNK_AGENCIES, _YEARS = 25, 4


def _chunk(args: tuple[Path, int, int, tuple[str, ...]]) -> int:
    from .eval.archive import generate_archive

    folder, seed, agencies, formats = args
    if (folder / "archive.json").exists():
        return len(json.loads((folder / "archive.json").read_text(encoding="utf-8"))["reports"])
    return len(generate_archive(folder, seed=seed, agencies=agencies, years=_YEARS if agencies > 1 else 2, formats=formats).reports)


def generate(root: Path, count: int, workers: int) -> list[Path]:
    """The archive's docs folders (generated where missing): about ``count`` documents."""
    per_chunk = _CHUNK_AGENCIES * _YEARS
    chunks: list[tuple[Path, int, int, tuple[str, ...]]] = [(root / f"chunk{k:03d}", 100 + k, _CHUNK_AGENCIES, TEXT_FORMATS) for k in range(max(1, -(-count // per_chunk)))]
    chunks.append((root / "ocr", 99, 1, OCR_FORMATS))  # 2 documents: one per OCR format
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_chunk, chunks))
    return [c[0] / "docs" for c in chunks]


def _extract(folders: list[Path], out: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[float, str, int]:
    cmd = [sys.executable, "-m", "nianbao.cli", "extract", *map(str, folders), "--out", str(out), *extra]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, done.stderr, done.returncode


def _read_seconds(stderr: str) -> float | None:
    m = re.search(r"read (\d+) files in ([\d.]+) s", stderr)
    return float(m.group(2)) if m else None


def _committed(out: Path) -> int:
    from .outputs import read_records

    return len(read_records(out / "records.jsonl")) if (out / ".commits").exists() else 0


def kill_and_resume(folders: list[Path], out: Path, expected: list[str], workers: int, at: float = 0.4) -> dict[str, object]:
    """Run, kill -9 once ``at`` of the inputs are committed, resume; check every input is there once."""
    from .outputs import read_records

    cmd = [sys.executable, "-m", "nianbao.cli", "extract", *map(str, folders), "--out", str(out), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and _committed(out) < at * len(expected):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = _committed(out)
    started = time.perf_counter()
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    sources = [json.loads(line)["source"] for line in (out / "records.jsonl").read_bytes().decode("utf-8").splitlines()]
    reports = [json.loads(line)["source"] for line in (out / "reports.jsonl").read_bytes().decode("utf-8").splitlines()]
    import sqlite3

    with sqlite3.connect(out / "nianbao.db") as db:
        stored = sorted(r[0] for r in db.execute("SELECT source FROM reports"))
    lost = sorted(set(expected) - set(sources))
    twice = sorted({s for s in sources if sources.count(s) > 1}) if len(sources) != len(set(sources)) else []
    ok = not lost and not twice and sources == reports and sorted(sources) == sorted(expected) == stored and len(read_records(out / "records.jsonl")) == len(expected)
    return {"killed_at": killed, "resume_seconds": seconds, "resume_rc": resumed.returncode, "lost": lost, "duplicated": twice, "store_in_step": stored == sorted(expected), "ok": ok}


def run_archive_bench(args: argparse.Namespace) -> int:
    from .engines.items import expand_inputs

    console = Console()
    keep = Path(args.archive_dir) if args.archive_dir else None
    with tempfile.TemporaryDirectory() as tmp:
        root = keep or Path(tmp) / "archive"
        t = time.perf_counter()
        folders = generate(root, args.archive, workers=2)
        expected = [i.source for i in expand_inputs([str(f) for f in folders])]
        formats: dict[str, int] = {}
        for s in expected:
            fmt = Path(s).name.split(".", 1)[1] if "." in Path(s).name else "?"
            formats[fmt] = formats.get(fmt, 0) + 1
        console.print(f"archive: {len(expected)} documents under {root} ({time.perf_counter() - t:.0f} s to generate or find): " + ", ".join(f"{k} {v}" for k, v in sorted(formats.items())))
        table = Table(title="archive extraction (documents/s, results store included)", title_justify="left")
        for col in ("run", "documents", "wall s", "docs/s (wall)", "docs/s (reading)"):
            table.add_column(col, justify="left" if col == "run" else "right")
        runs: list[tuple[str, list[str], dict[str, str] | None]] = [("1 worker", ["--workers", "1"], None), ("2 workers", ["--workers", "2"], None)]
        if not args.no_ray:
            try:
                import ray  # noqa: F401

                env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
                runs.append(("Ray, local, 2 CPUs", ["--workers", "2", "--engine", "ray"], env))
            except ImportError:
                console.print("Ray is not installed (pip install 'nianbao[ray]'): no Ray run")
        for name, extra, run_env in runs:
            out = Path(tmp) / f"out-{len(extra)}-{extra[1]}-{extra[-1]}"
            wall, stderr, rc = _extract(folders, out, *extra, env=run_env)
            reading = _read_seconds(stderr)
            n = _committed(out)
            table.add_row(name, str(n), f"{wall:.1f}", f"{n / wall:.1f}", f"{n / reading:.1f}" if reading else "–")
            if n != len(expected):
                console.print(f"[red]{name}: {n} of {len(expected)} records (exit {rc})[/red]\n{stderr[-2000:]}")
        console.print(table)
        result = kill_and_resume(folders, Path(tmp) / "out-killed", expected, workers=2)
        verdict = "[green]nothing lost, nothing duplicated[/green]" if result["ok"] else f"[red]FAILED: {result}[/red]"
        console.print(f"kill -9 after {result['killed_at']} of {len(expected)} committed, resumed with 2 workers in {result['resume_seconds']:.1f} s: {verdict} (checked against the input list, the three files and the store)")
        return 0 if result["ok"] else 1
