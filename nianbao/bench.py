"""``nianbao bench``: extraction speed per format on this machine (one process, one core).

The bundled seeds are rendered into each format from their gold values, then
extracted round-robin for a fixed time budget.  Prints reports/s and pages/s,
measured, never asserted by a test.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .bundled import GOLD, SEEDS
from .eval.layout import ReportLayout
from .pipeline import extract_file


def seed_layouts() -> list[tuple[str, Path, ReportLayout]]:
    """(name, seed text file, layout) of each table-bearing seed, tables rebuilt from its gold."""
    from .eval.render import layout_from_document
    from .extract.load import load

    out = []
    for gold_path in sorted(GOLD.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        seed = SEEDS / f"{gold_path.stem}.txt"
        if gold.get("absent") or not seed.exists():
            continue
        out.append((gold_path.stem, seed, layout_from_document(load(seed), gold["fields"], gold["fields"]["meta.template"])))
    return out


def _fixtures(folder: Path, formats: list[str]) -> dict[str, list[Path]]:
    from .eval.render import render_docx, render_html, render_pdf

    out: dict[str, list[Path]] = {f: [] for f in formats}
    for name, seed, layout in seed_layouts():
        if "txt" in out:
            out["txt"].append(seed)
        if "html" in out:
            p = folder / f"{name}.html"
            p.write_bytes(render_html(layout))
            out["html"].append(p)
        if "docx" in out:
            p = folder / f"{name}.docx"
            render_docx(layout, p)
            out["docx"].append(p)
        if "pdf" in out:
            p = folder / f"{name}.pdf"
            render_pdf(layout, p)
            out["pdf"].append(p)
    return out


def measure(paths: list[Path], seconds: float) -> tuple[int, int, float]:
    """(reports, pages, elapsed) over at least one pass and about ``seconds``."""
    for p in paths:  # warm imports and caches once, as a long batch would be
        extract_file(p)
    reports = pages = 0
    start = time.perf_counter()
    while True:
        for p in paths:
            record = extract_file(p)
            reports += 1
            pages += record.pages or 0
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return reports, pages, elapsed


def run_bench(args: argparse.Namespace) -> int:
    console = Console()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        fixtures = _fixtures(Path(tmp), formats)
        table = Table(title="extraction speed (one core)", title_justify="left")
        for col in ("format", "reports", "seconds", "reports/s", "pages/s", "ms/report"):
            table.add_column(col, justify="right" if col != "format" else "left")
        for fmt in formats:
            reports, pages, elapsed = measure(fixtures[fmt], args.seconds)
            table.add_row(fmt, str(reports), f"{elapsed:.2f}", f"{reports / elapsed:.1f}", f"{pages / elapsed:.1f}" if pages else "–", f"{1000 * elapsed / reports:.1f}")
        console.print(table)
    return 0
