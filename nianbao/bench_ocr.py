"""``nianbao bench --ocr``: OCR time per table picture and per scanned page on this machine.

Table pictures are the seeds' tables rendered and rasterised at 150 dpi (as
pasted into Word); scanned pages are the seeds' reports through the scan
degrader.  The engine is warmed once first, as in a long batch.  Timings are
printed, never asserted by a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from .bench import seed_layouts
from .extract.ocr.engine import get_engine
from .extract.ocr.image import downscale
from .extract.ocr.tables import read_tables

TABLE_AIM_S = 5.0  # issue target for table 三 from a picture


def run_ocr_bench(args: argparse.Namespace) -> int:
    from .eval.degrade import scan_pages, table_images
    from .eval.layout import TableSpec
    from .eval.render import render_pdf

    console = Console()
    engine = get_engine()
    started = time.perf_counter()
    engine.read(np.full((64, 256, 3), 255, np.uint8))
    console.print(f"OCR engine: {engine.name} (first use {time.perf_counter() - started:.2f} s)")
    layouts = [layout for _, _, layout in seed_layouts()[: args.reports]]
    timings: dict[str, list[float]] = {"t2": [], "t3": [], "t4": []}
    cells: dict[str, int] = {"t2": 0, "t3": 0, "t4": 0}
    for layout in layouts:
        for block in layout.blocks:
            if not isinstance(block, TableSpec):
                continue
            for png in table_images(block, dpi=150):
                img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
                assert img is not None, "the renderer wrote a PNG OpenCV cannot read"
                t = time.perf_counter()
                result = read_tables(img, name="bench", engine=engine)
                timings[block.kind].append(time.perf_counter() - t)
                cells[block.kind] += sum(len(r) for tb in result.tables for r in tb.rows)
    page_times: list[float] = []
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        for k, layout in enumerate(layouts):
            pdf = Path(tmp) / f"{k}.pdf"
            render_pdf(layout, pdf)
            for page in scan_pages(pdf, rng):
                t = time.perf_counter()
                read_tables(downscale(page), name="bench", engine=engine, ocr_outside=True)
                page_times.append(time.perf_counter() - t)
    table = Table(title="OCR time on this machine", title_justify="left")
    for col in ("what", "count", "mean s", "max s", "grid cells/s", f"vs {TABLE_AIM_S:.0f} s aim"):
        table.add_column(col, justify="right" if col != "what" else "left")
    names = {"t2": "table 二 picture", "t3": "table 三 picture", "t4": "table 四 picture"}
    for kind, ts in timings.items():
        if ts:
            table.add_row(names[kind], str(len(ts)), f"{statistics.mean(ts):.2f}", f"{max(ts):.2f}", f"{cells[kind] / sum(ts):.0f}", f"{TABLE_AIM_S / statistics.mean(ts):.2f}×" if kind == "t3" else "")
    if page_times:
        table.add_row("scanned page (text + tables)", str(len(page_times)), f"{statistics.mean(page_times):.2f}", f"{max(page_times):.2f}", "", "")
    console.print(table)
    return 0
