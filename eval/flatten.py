"""Web pages taken as text the way crawlers take them: ``text_content()`` with no separator.

A scraper that calls lxml's ``text_content()`` or BeautifulSoup's ``get_text()`` on a
report page gets the table's cells run together: ``规章000``, ``行政许可5120187``, a
count glued to the next row's ordinal.  Where the page's source had line breaks
between rows (most hand-written CMS templates), each row lands on its own line; where
it had none, a whole table is one line.  Gold for such text is the gold of the page.
"""

from __future__ import annotations

import random
import re
from typing import Any, cast

from lxml import html as lxml_html
from lxml.html import HtmlElement

_NUMERIC = re.compile(r"^[\d.,+\-/—–－]+$")

# Elements after which a pretty-printed page source carries a line break.
_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "li", "table", "title", "br")

MODES = ("rows", "tables", "spaced")
# In mode ``spaced``, the share of label cells whose characters come spaced apart (a
# PDF-to-HTML page that positions every character on its own).
_SPACED_LABELS = 0.5


def flatten(page: bytes, mode: str = "rows", rng: random.Random | None = None) -> str:
    """The page's text as ``text_content()`` gives it.

    ``rows``: a line break after every block and every table row (a pretty-printed
    page), cells glued; ``tables``: a line break after blocks only, so each table is one
    line.  With ``rng``, a few cells keep a space after them, as templates with stray
    whitespace between ``<td>`` tags give.  ``spaced``: each table one line with a space
    after every cell (empty cells vanish) and the characters of label cells spaced apart
    (every label without ``rng``, about half of them with it).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    root = cast(HtmlElement, lxml_html.fromstring(page))
    for bad in list(root.iter("script", "style")):
        cast(Any, bad).drop_tree()
    breaks = _BLOCKS + (("tr",) if mode == "rows" else ())
    for el in root.iter(*breaks):
        el.tail = "\n" + (el.tail or "")
    if mode == "spaced":
        for td in root.iter("td", "th"):
            if td.find(".//p") is not None or td.find(".//div") is not None or td.find(".//table") is not None:
                continue  # a layout cell around the article, not a table cell
            text = cast(HtmlElement, td).text_content().strip()
            if text and not _NUMERIC.match(text) and (rng is None or rng.random() < _SPACED_LABELS):
                for child in list(td):
                    td.remove(child)
                td.text = " ".join(text.replace(" ", ""))
            td.tail = " " + (td.tail or "")
    elif rng is not None:
        for td in root.iter("td", "th"):
            if rng.random() < 0.1:
                td.tail = " " + (td.tail or "")
    body = root.find("body")
    text = cast(HtmlElement, body if body is not None else root).text_content()
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line) + "\n"
