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


def render_text(layout: ReportLayout, *, style: str = "tsv", seed: int = 0) -> str:
    """A plain-text export: tab-separated rows (Word/WPS 'save as text') or a markdown pipe table.

    Merged cells appear once and leave empty cells where the span continued, and
    label cells get the spacing damage of real exports; numbers are left as printed.
    """
    rng = random.Random(seed)
    lines: list[str] = []
    for block in layout.blocks:
        if isinstance(block, Picture):
            lines += [f"[image: {block.name}]", ""]
            continue
        if not isinstance(block, TableSpec):
            lines += [block, ""]
            continue
        grid = [[""] * block.n_cols for _ in block.rows]
        for r, c, cell in placed(block):
            grid[r][c] = _spaced(cell.text, rng)
        if style == "cells":
            # Web tables copied as text: every cell on its own line, blank lines between,
            # a lone "|" for an empty cell, cells padded with spaces.
            for row in grid:
                for text in row:
                    lines += [f"{' ' * rng.randrange(3)}{text}{' ' * rng.randrange(3)}" if text else "|", ""]
            continue
        if style == "rowline":
            # Each row on one line, its cells separated by spaces (empty cells vanish).
            lines += [" ".join(c for c in row if c) for row in grid]
            lines.append("")
            continue
        if style == "markdown":
            lines.append("| " + " | ".join(grid[0]) + " |")
            lines.append("|" + "---|" * block.n_cols)
            lines += ["| " + " | ".join(row) + " |" for row in grid[1:]]
        else:
            lines += ["\t".join(row) for row in grid]
        lines.append("")
    return "\n".join(lines) + "\n"
