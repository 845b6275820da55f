"""Render a ReportLayout as HTML (lxml), DOCX (python-docx) or a text-layer PDF (reportlab)."""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import escape

from ..extract.document import Document, Paragraph, Table
from ..extract.locate import classify
from ..schemas.template import TemplateId
from .layout import Gold, Picture, ReportLayout, TableSpec, placed, spans, tables_for


def layout_from_document(doc: Document, gold: Gold, template: TemplateId, display: dict[str, str] | None = None) -> ReportLayout:
    """Keep a real report's narrative, and put tables rebuilt from gold where its tables were."""
    tables = tables_for(gold, template, display)
    out = ReportLayout(title="")
    done: set[str] = set()
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            if not out.title:
                out.title = block.text
            out.blocks.append(block.text)
        elif isinstance(block, Table):
            kind = classify(block)
            if kind in tables and kind not in done:
                done.add(kind)
                out.blocks.append(tables[kind])
    return out


# ---- HTML ------------------------------------------------------------------------


def with_table_pictures(layout: ReportLayout, *, dpi: int = 150) -> ReportLayout:
    """The same report with every table replaced by screenshots of it (the Wendeng case)."""
    from .degrade import table_images

    out = ReportLayout(title=layout.title)
    for block in layout.blocks:
        if isinstance(block, TableSpec):
            shots = table_images(block, dpi=dpi)
            out.blocks += [Picture(f"{block.kind}-{k + 1}.png", png, dpi) for k, png in enumerate(shots)]
        else:
            out.blocks.append(block)
    return out


def render_html(layout: ReportLayout, *, encoding: str = "utf-8", chrome: bool = True, declare_charset: bool = True, assets: str = "") -> bytes:
    """HTML bytes; pictures are referenced as ``assets/<name>`` (the caller writes those files)."""
    from lxml import etree
    from lxml.builder import E

    def table(spec: TableSpec):
        rows = []
        for row in spec.rows:
            tds = []
            for cell in row:
                td = E.td(cell.text)
                if cell.rowspan > 1:
                    td.set("rowspan", str(cell.rowspan))
                if cell.colspan > 1:
                    td.set("colspan", str(cell.colspan))
                tds.append(td)
            rows.append(E.tr(*tds))
        return E.table(E.tbody(*rows), border="1", cellspacing="0")

    def block(b: str | TableSpec | Picture):
        if isinstance(b, TableSpec):
            return table(b)
        if isinstance(b, Picture):
            return E.p(E.img(src=f"{assets}/{b.name}" if assets else b.name, alt=""))
        return E.p(b)

    body_content = [block(b) for b in layout.blocks]
    article = E.div(*body_content, **{"class": "article-content"})
    page_parts = []
    if chrome:
        page_parts += [
            E.div(E.a("首页", href="/"), " > ", E.a("政府信息公开", href="/xxgk/"), " > ", E.a("年度报告", href="#"), **{"class": "breadcrumb"}),
            E.table(E.tr(E.td("索引号："), E.td("000000000/2024-00001")), E.tr(E.td("发布机构："), E.td("本机关")), **{"class": "meta-info"}),
            E.div("【字体：", E.a("大"), E.a("中"), E.a("小"), "】", E.a("打印"), **{"class": "fontsize"}),
        ]
    # Reports are often wrapped in a layout table by site templates.
    wrapped = E.table(E.tr(E.td(article)), **{"class": "layout"}) if chrome else article
    page_parts.append(wrapped)
    if chrome:
        page_parts.append(E.div("附件下载", E.br(), "主办单位：某某市人民政府办公室", **{"class": "footer"}))
    head = [E.title(layout.title or "年度报告")]
    if declare_charset:
        head.insert(0, E.meta(charset=encoding))
    html = E.html(E.head(*head), E.body(*page_parts))
    text = "<!DOCTYPE html>\n" + etree.tostring(html, encoding="unicode", method="html")
    return text.encode(encoding)


# ---- DOCX ------------------------------------------------------------------------


def render_docx(layout: ReportLayout, path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for block in layout.blocks:
        if isinstance(block, TableSpec):
            n_rows = len(block.rows)
            t = d.add_table(rows=n_rows, cols=block.n_cols)
            t.style = "Table Grid"
            for r, c, rs, cs in spans(block):
                t.cell(r, c).merge(t.cell(r + rs - 1, c + cs - 1))
            for r, c, cell in placed(block):
                t.cell(r, c).text = cell.text
        elif isinstance(block, Picture):
            import io

            from docx.shared import Inches

            width = min(_png_size(block.png)[0] / block.dpi, 6.3)
            d.add_picture(io.BytesIO(block.png), width=Inches(width))
        else:
            d.add_paragraph(block)
    d.save(str(path))


def _png_size(png: bytes) -> tuple[int, int]:
    import struct

    return struct.unpack(">II", png[16:24])


# ---- PDF -------------------------------------------------------------------------

_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def render_pdf(layout: ReportLayout, path: Path) -> None:
    """A text-layer PDF with ruled tables, as Word or LibreOffice export them; long tables break across pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph as RLParagraph
    from reportlab.platypus import SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as RLTable

    _register_font()
    body = ParagraphStyle("body", fontName=_FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    small = ParagraphStyle("cell", fontName=_FONT, fontSize=7, leading=9, wordWrap="CJK")
    width = A4[0] - 30 * mm
    story = []
    for block in layout.blocks:
        if isinstance(block, TableSpec):
            data = [[""] * block.n_cols for _ in block.rows]
            for r, c, cell in placed(block):
                data[r][c] = RLParagraph(escape(cell.text), small) if cell.text else ""
            if block.kind == "t3":
                widths = [14 * mm, 20 * mm, 46 * mm] + [(width - 80 * mm) / 7] * 7
            else:
                widths = [width / block.n_cols] * block.n_cols
            style = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
            style += [("SPAN", (c, r), (c + cs - 1, r + rs - 1)) for r, c, rs, cs in spans(block)]
            story.append(RLTable(data, colWidths=widths, style=style))
            story.append(Spacer(1, 4 * mm))
        elif isinstance(block, Picture):
            import io

            from reportlab.platypus import Image as RLImage

            w_px, h_px = _png_size(block.png)
            w = min(w_px / block.dpi * 72, width)
            story.append(RLImage(io.BytesIO(block.png), width=w, height=w * h_px / w_px))
        else:
            story.append(RLParagraph(escape(block), body))
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm).build(story)


# ---- plain-text exports --------------------------------------------------------------

TEXT_STYLES = ("tsv", "markdown")
# How crawlers and copy-paste give a table (see scraped_table): one cell per line, a row per
# line of space- or '|'-separated cells, or a whole table on one line.
SCRAPED_STYLES = ("cells", "rowline", "pipes", "line")

# Header words real exports break over two lines, cut after these openings ('本年新' / '制作数量').
_HEADER_CUTS = ("本年新", "本年", "上一年", "对外公开", "现行有效", "结果", "尚未", "其他", "法律", "社会")
_MAX_PAD = 2  # spaces around a padded cell, as in real_008
_EXTRA_COLUMNS = 3  # most empty filler columns a '|' row gains at its end


def _spaced(text: str, rng: random.Random) -> str:
    """What PDF-to-text tools do to wide label cells: a space between characters or a break mid-label."""
    if len(text) < 6 or not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    roll = rng.random()
    if roll < 0.25:
        return " ".join(text)
    if roll < 0.5:
        cut = rng.randrange(2, len(text) - 2)
        return text[:cut] + " " + text[cut:]
    return text


def _is_label(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _header_break(text: str) -> str:
    """A header word broken over two lines where web tables wrap it: '本年新' / '制作数量'."""
    for opening in _HEADER_CUTS:
        if text.startswith(opening) and len(text) >= len(opening) + 2:
            return text[: len(opening)] + "\n" + text[len(opening) :]
    return text


def _header_rows(spec: TableSpec) -> set[int]:
    """Rows with no number in them: column headers and the 第二十条 section rows."""
    return {r for r, row in enumerate(spec.rows) if all(_is_label(c.text) or not c.text for c in row)}


def scraped_table(spec: TableSpec, style: str, rng: random.Random, knobs: dict[str, bool]) -> list[str]:
    """One table as a crawler or a copy-paste gives it; the cells are the page's (spanned positions absent).

    ``knobs`` (drawn once per document by the caller) choose the variant of the style:
    cells: ``blank_lines``, ``openers`` (a lone '|' opens each row and each cell ends ' |',
    as real_003), ``fillers`` ('| |||' after a spanning cell, trailing '||'), ``padding``,
    ``header_breaks``; pipes: ``leading_bar``, ``fillers``, ``extra_columns``;
    line: ``spaced_labels`` (every label character apart: '规 章 0 0 0').
    """
    headers = _header_rows(spec)
    lines: list[str] = []
    if style == "line":
        # The whole table on one line; empty cells vanish, so the caller prints no blank cells here.
        words = [(" ".join(c.text.replace(" ", "")) if knobs.get("spaced_labels") and _is_label(c.text) else _spaced(c.text, rng)) for row in spec.rows for c in row if c.text]
        return [" ".join(words), ""]
    for r, row in enumerate(spec.rows):
        if style == "rowline":
            # Each row on one line, its cells separated by spaces (empty cells vanish).
            lines.append(" ".join(_spaced(c.text, rng) for c in row if c.text))
            continue
        if style == "pipes":
            cells = [_spaced(c.text, rng) for c in row]
            if knobs.get("fillers"):
                cells = [t for c, t in zip(row, cells) for t in [t] + [""] * (c.colspan - 1)]
            if knobs.get("extra_columns") and rng.random() < 0.3:
                cells += [""] * rng.randint(1, _EXTRA_COLUMNS)
            lines.append(("| " if knobs.get("leading_bar") else "") + " | ".join(cells) + " |")
            continue
        # cells: every cell on its own line.
        if knobs.get("openers"):
            lines.append("|")
        for k, c in enumerate(row):
            text = c.text
            if r in headers and knobs.get("header_breaks") and rng.random() < 0.7:
                text = _header_break(text)
            elif _is_label(text):
                text = _spaced(text, rng)
            if knobs.get("padding") and text:
                text = " " * rng.randint(0, _MAX_PAD) + text + " " * rng.randint(0, _MAX_PAD)
            line = f"{text} |" if knobs.get("openers") and text else (text or "|")
            if knobs.get("fillers") and c.colspan > 1:
                # A spanning cell copied as itself plus a '|' per column it covers: '第二十条第(一)项 | |||'.
                line = (line if line.endswith("|") else line + " |") + " " + "|" * (c.colspan - 1)
            elif knobs.get("fillers") and k == len(row) - 1 and rng.random() < 0.2:
                line += " ||"
            lines.append(line)
            if knobs.get("blank_lines"):
                lines.append("")
    lines.append("")
    return lines


def scraped_knobs(style: str, rng: random.Random) -> dict[str, bool]:
    """The variant of a scraped style one document gets (each knob is a habit of some real site)."""
    names = {"cells": ("blank_lines", "openers", "fillers", "padding", "header_breaks"), "pipes": ("leading_bar", "fillers", "extra_columns"), "line": ("spaced_labels",), "rowline": ()}[style]
    return {n: rng.random() < 0.5 for n in names}


def render_text(layout: ReportLayout, *, style: str = "tsv", seed: int = 0) -> str:
    """A plain-text export: tab-separated rows (Word/WPS 'save as text'), a markdown pipe table, or a scraped style.

    Merged cells appear once and leave empty cells where the span continued, and
    label cells get the spacing damage of real exports; numbers are left as printed.
    """
    return render_scraped(layout, style=style, seed=seed)[0]


def render_scraped(layout: ReportLayout, *, style: str, seed: int = 0) -> tuple[str, dict[str, bool]]:
    """The text of ``render_text`` and the variant knobs it drew (empty for tsv and markdown)."""
    rng = random.Random(seed)
    knobs = scraped_knobs(style, rng) if style in SCRAPED_STYLES else {}
    lines: list[str] = []
    for block in layout.blocks:
        if isinstance(block, Picture):
            lines += [f"[image: {block.name}]", ""]
            continue
        if not isinstance(block, TableSpec):
            lines += [block, ""]
            continue
        if style in SCRAPED_STYLES:
            lines += scraped_table(block, style, rng, knobs)
            continue
        grid = [[""] * block.n_cols for _ in block.rows]
        for r, c, cell in placed(block):
            grid[r][c] = _spaced(cell.text, rng)
        if style == "markdown":
            lines.append("| " + " | ".join(grid[0]) + " |")
            lines.append("|" + "---|" * block.n_cols)
            lines += ["| " + " | ".join(row) + " |" for row in grid[1:]]
        else:
            lines += ["\t".join(row) for row in grid]
        lines.append("")
    return "\n".join(lines) + "\n", knobs
