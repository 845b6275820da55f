"""Generate an evaluation corpus: the seeds' narratives with random tables, in many formats, with gold.

Reproducible from ``seed``.  Each generated report keeps a real seed's narrative
(so meta and narrative gold carry over) and gets new table values: zero-heavy or
number-heavy, multi-digit, with blank and '/' cells, and sometimes a broken
勾稽 relation that the toolkit must flag, not fix.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..bundled import GOLD, SEEDS
from ..extract.load import load
from ..schemas.template import T2_ROWS, T3_COLUMNS, T3_RESULT_ROWS, T3_ROWS, T4_COLUMNS, T4_GROUPS, TemplateId
from .degrade import scanned_pdf, scanned_tiff
from .flatten import flatten
from .layout import Picture, ReportLayout
from .render import layout_from_document, render_docx, render_html, render_pdf, render_scraped, render_text, with_table_pictures
from .scrape import cut_layout, damage_page

TEXT_FORMATS = ("html", "gbk.html", "docx", "pdf", "txt", "md")
# Text as crawlers and copy-paste give it, each under random site chrome, broken titles and
# dates that lost digits (scrape.damage_page): one cell per line (with '|' openers and fillers,
# header words broken), a row per line of space-separated cells, '|' rows (and, as extra
# ``<name>_cut`` reports, excerpts cut inside a table-三 row), a whole table on one line, and
# text_content() digit runs with a line per row or a line per table.
SCRAPED_STYLE = {"cells.txt": "cells", "rows.txt": "rowline", "pipes.txt": "pipes", "line.txt": "line"}
RUNS_MODE = {"runs.txt": "rows", "runs1.txt": "tables"}
SCRAPED_FORMATS = (*SCRAPED_STYLE, *RUNS_MODE)
# Forms that drop empty cells (space-separated, glued digits): a blank cell there cannot be
# placed, so these print every null cell with a mark ('/', '—'); gold stays null.  The gate
# must measure reading, not recovery of what the text no longer carries.
LOSSY_FORMATS = ("rows.txt", "line.txt", "runs.txt", "runs1.txt")
LOSSY_MARKS = ("/", "—")  # not '-': glued to digits it reads as a sign
CUT_SHARE = 0.34  # reports whose pipes.txt also comes as an excerpt cut inside table 三
# Tables as screenshots inside a document (the Wendeng case), and whole scans.
IMAGE_FORMATS = ("img.html", "img.docx", "img.pdf", "scan.pdf", "scan.tif")
FORMATS = TEXT_FORMATS + IMAGE_FORMATS
ALL_FORMATS = FORMATS + SCRAPED_FORMATS

# Relations a generated report may break, one per broken report: a row's 总计, a
# column's 总计 and table 四's 总计.  The toolkit must flag each, never repair it.
_BREAKABLE = ("t3.granted.total", "t3.total.natural_person", "t4.review.total")


def random_tables(rng: random.Random, template: TemplateId, style: str) -> dict[str, Any]:
    """Table values that satisfy the template's relations.  style: zero, number, blank."""

    def count(big: bool = False) -> int:
        if style == "zero":
            return rng.choice([0] * 8 + [1, 2])
        return rng.choice([0, 0, 1, 2, 3, 7, 10, 12, 25, 101] + ([240, 1909, 3100] if big else []))

    fields: dict[str, Any] = {}
    for spec in T2_ROWS[template]:
        for col in spec.columns:
            key = f"t2.{spec.key}.{col}"
            if col == "amount":
                fields[key] = rng.choice([0, 4.12, 62.67886, 135.5]) if style != "zero" else 0
            elif col == "change":
                fields[key] = rng.choice([0, 2, -18, 4]) if style != "zero" else 0
            else:
                fields[key] = count(big=True)
    details = T3_COLUMNS[:-1]
    results = T3_RESULT_ROWS[template]
    rows: dict[str, list[int]] = {r: [count() if rng.random() < 0.35 or style == "number" else 0 for _ in details] for r in results}
    total = [sum(rows[r][i] for r in results) for i in range(len(details))]
    carried_over = [rng.choice([0, 0, 1]) for _ in details]
    carried_forward = [min(carried_over[i] + rng.choice([0, 1]), total[i] + carried_over[i]) for i in range(len(details))]
    new = [total[i] + carried_forward[i] - carried_over[i] for i in range(len(details))]
    all_rows = {"new": new, "carried_over": carried_over, **rows, "total": total, "carried_forward": carried_forward}
    for t3_spec in T3_ROWS[template]:
        vals = all_rows[t3_spec.key]
        for (col, _), v in zip(details, vals):
            fields[f"t3.{t3_spec.key}.{col}"] = v
        fields[f"t3.{t3_spec.key}.total"] = sum(vals)
    for group, _ in T4_GROUPS:
        parts = [count() if style == "number" else rng.choice([0, 0, 0, 1]) for _ in T4_COLUMNS[:-1]]
        for (col, _), v in zip(T4_COLUMNS[:-1], parts):
            fields[f"t4.{group}.{col}"] = v
        fields[f"t4.{group}.total"] = sum(parts)
    if style == "blank":
        # The 2019 habit: only 总计 filled, detail cells left empty or written '/'.
        for key in list(fields):
            if key.startswith("t3.") and not key.endswith(".total") and fields[key] == 0:
                fields[key] = None
    return fields


def blank_marks(rng: random.Random, fields: dict[str, Any]) -> dict[str, str]:
    """How this report prints its empty table cells: left blank, '/', '—' or '-' (gold stays null)."""
    mark = rng.choice(["", "", "/", "—", "-"])
    if not mark:
        return {}
    return {k: mark for k, v in fields.items() if v is None and k.startswith(("t2.", "t3.", "t4."))}


def lossy_display(rng: random.Random, fields: dict[str, Any], display: dict[str, str]) -> dict[str, str]:
    """Display marks for a form that drops empty cells: every null table cell printed with a mark."""
    nulls = [k for k, v in fields.items() if v is None and k.startswith(("t2.", "t3.", "t4."))]
    if not nulls or (display and set(display.values()) <= set(LOSSY_MARKS)):
        return display
    mark = rng.choice(LOSSY_MARKS)
    return {k: mark for k in nulls}


def render_scraped_format(layout: ReportLayout, fmt: str, fields: dict[str, Any], rng: random.Random) -> tuple[str, list[str]]:
    """A scraped-text format of the report: page damage first, then the format's table form."""
    page, applied = damage_page(layout, fields, rng)
    if fmt in RUNS_MODE:
        return flatten(render_html(page, chrome=False), RUNS_MODE[fmt], rng), applied
    text, knobs = render_scraped(page, style=SCRAPED_STYLE[fmt], seed=rng.randrange(1 << 30))
    return text, applied + [k for k, on in knobs.items() if on]


def generate(out: Path, *, seed: int = 0, count: int = 8, formats: tuple[str, ...] = FORMATS, scan_every: int = 1) -> list[Path]:
    """Write ``count`` reports × ``formats`` under ``out/docs`` and their gold under ``out/gold``.

    ``scan_every`` = n renders the scanned formats (large, slow to OCR) for every
    n-th report only, which keeps a checked-in corpus small.
    """
    rng = random.Random(seed)
    seeds = []
    for g in sorted(GOLD.glob("*.json")):
        gold = json.loads(g.read_text(encoding="utf-8"))
        if not gold.get("absent"):
            seeds.append((SEEDS / f"{g.stem}.txt", gold))
    (out / "docs").mkdir(parents=True, exist_ok=True)
    (out / "gold").mkdir(parents=True, exist_ok=True)
    written = []
    for k in range(count):
        seed_path, seed_gold = seeds[k % len(seeds)]
        template = seed_gold["fields"]["meta.template"]
        style = ("zero", "number", "blank")[k % 3]
        fields = copy.deepcopy(seed_gold["fields"])
        fields.update(random_tables(rng, template, style))
        broken = rng.random() < 0.25
        broken_key = rng.choice(_BREAKABLE) if broken else ""
        if broken_key:
            fields[broken_key] = int(fields[broken_key] or 0) + 1
        display = blank_marks(rng, fields)
        # The narrative's statements stay those of the seed; where they now disagree
        # with the new tables that is a finding the toolkit must flag, not a gold change.
        name = f"gen{seed:03d}_{k:03d}"
        layout: ReportLayout = layout_from_document(load(seed_path), fields, template, display)
        gold = {"source": f"{name}.html", "fields": fields, "absent": [], "notes": f"generated from {seed_path.stem}; style={style}; broken_relation={broken_key or 'none'}; blanks={next(iter(display.values()), 'empty')}"}
        relayout = functools.partial(_seed_layout, seed_path, fields, template)
        paths, scraped_notes = write_formats(out, name, k, seed, layout, relayout, fields, template, display, gold, formats, rng, scan_every)
        written += paths
        if scraped_notes:
            gold["notes"] += "; " + "; ".join(scraped_notes)
        (out / "gold" / f"{name}.json").write_text(json.dumps(gold, ensure_ascii=False, indent=1), encoding="utf-8")
    return written


def _seed_layout(seed_path: Path, fields: dict[str, Any], template: TemplateId, marks: dict[str, str]) -> ReportLayout:
    return layout_from_document(load(seed_path), fields, template, marks)


def write_formats(
    out: Path, name: str, k: int, seed: int, layout: ReportLayout, relayout: Callable[[dict[str, str]], ReportLayout],
    fields: dict[str, Any], template: TemplateId, display: dict[str, str], gold: dict[str, Any],
    formats: tuple[str, ...], rng: random.Random, scan_every: int = 1,
) -> tuple[list[Path], list[str]]:
    """Write one report's ``layout`` in each of ``formats`` as ``out/docs/<name>.<fmt>``: the paths
    written and the scraped formats' notes.  ``relayout(marks)`` lays the report out again with other
    blank marks (the lossy scraped forms); ``k`` is the report's number (``scan_every``, sub-seeds).
    """
    written: list[Path] = []
    scraped_notes: list[str] = []
    pictured = with_table_pictures(layout, dpi=rng.choice([110, 150, 200])) if any(f.startswith("img.") for f in formats) else layout
    for fmt in formats:
        if fmt.startswith("scan.") and k % scan_every:
            continue
        path = out / "docs" / f"{name}.{fmt}"
        if fmt == "html":
            path.write_bytes(render_html(layout))
        elif fmt == "gbk.html":
            path.write_bytes(render_html(layout, encoding="gbk", declare_charset=rng.random() < 0.5))
        elif fmt == "docx":
            render_docx(layout, path)
        elif fmt == "pdf":
            render_pdf(layout, path)
        elif fmt == "img.html":
            assets = f"{name}_files"
            (out / "docs" / assets).mkdir(exist_ok=True)
            for b in pictured.blocks:
                if isinstance(b, Picture):
                    (out / "docs" / assets / b.name).write_bytes(b.png)
            path.write_bytes(render_html(pictured, assets=assets))
        elif fmt == "img.docx":
            render_docx(pictured, path)
        elif fmt == "img.pdf":
            render_pdf(pictured, path)
        elif fmt in ("scan.pdf", "scan.tif"):
            with tempfile.TemporaryDirectory() as tmp:
                clean = Path(tmp) / "clean.pdf"
                render_pdf(layout, clean)
                (scanned_pdf if fmt == "scan.pdf" else scanned_tiff)(clean, path, rng)
        elif fmt in SCRAPED_FORMATS:
            # Its own generator per report and format: adding a format never changes the others.
            sub = random.Random(f"{seed}:{k}:{fmt}:{rng.randrange(1 << 30)}")
            marks = lossy_display(sub, fields, display) if fmt in LOSSY_FORMATS else display
            shown = relayout(marks) if marks != display else layout
            text, applied = render_scraped_format(shown, fmt, fields, sub)
            path.write_text(text, encoding="utf-8")
            if marks != display:
                applied.insert(0, f"nulls_printed={next(iter(marks.values()))}")
            scraped_notes.append(f"{fmt}: {','.join(applied) or 'plain'}")
            if fmt == "pipes.txt" and sub.random() < CUT_SHARE:
                written.append(_write_cut(out, name, gold, layout, template, sub))
        elif fmt in ("txt", "md"):
            path.write_text(render_text(layout, style="tsv" if fmt == "txt" else "markdown", seed=rng.randrange(1 << 30)), encoding="utf-8")
        written.append(path)
    return written, scraped_notes


def _write_cut(out: Path, name: str, gold: dict[str, Any], layout: ReportLayout, template: TemplateId, rng: random.Random) -> Path:
    """The report's pipes.txt as an excerpt cut inside a table-三 row, with its own gold (keys past the cut absent)."""
    cut = cut_layout(layout, gold["fields"], template, rng)
    assert cut is not None, "every generated report has a table 三"
    excerpt, absent = cut
    fields = {k: v for k, v in gold["fields"].items() if not any(k == p or k.startswith(p + ".") for p in absent)}
    cut_name = f"{name}_cut"
    text, applied = render_scraped_format(excerpt, "pipes.txt", fields, rng)
    path = out / "docs" / f"{cut_name}.pipes.txt"
    path.write_text(text, encoding="utf-8")
    notes = f"{gold['notes']}; excerpt of {name} cut inside table 三 row {absent[0]}; pipes.txt: {','.join(applied) or 'plain'}"
    cut_gold = {"source": f"{cut_name}.html", "fields": fields, "absent": absent, "notes": notes}
    (out / "gold" / f"{cut_name}.json").write_text(json.dumps(cut_gold, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
