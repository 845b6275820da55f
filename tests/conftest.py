from __future__ import annotations

import json
from pathlib import Path

import pytest

from nianbao.eval.render import layout_from_document, render_docx, render_html, render_pdf
from nianbao.extract.load import load

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "samples" / "seeds"
GOLD = ROOT / "samples" / "gold"
TABLE_SEEDS = ["000_25a82b73f95a5995", "001_6bf81d20b44f1e63", "002_9607eda7a8c79f66", "003_d746fab4eb0be43f"]


def gold(name: str) -> dict:
    return json.loads((GOLD / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each table-bearing seed re-rendered from its gold values as HTML (UTF-8, GBK), DOCX and PDF."""
    out = tmp_path_factory.mktemp("rendered")
    files: dict[tuple[str, str], Path] = {}
    for name in TABLE_SEEDS:
        g = gold(name)["fields"]
        layout = layout_from_document(load(SEEDS / f"{name}.txt"), g, g["meta.template"])
        files[(name, "html")] = out / f"{name}.html"
        files[(name, "html")].write_bytes(render_html(layout))
        files[(name, "gbk.html")] = out / f"{name}.gbk.html"
        files[(name, "gbk.html")].write_bytes(render_html(layout, encoding="gbk", declare_charset=False))
        files[(name, "docx")] = out / f"{name}.docx"
        render_docx(layout, files[(name, "docx")])
        files[(name, "pdf")] = out / f"{name}.pdf"
        render_pdf(layout, files[(name, "pdf")])
    return files
