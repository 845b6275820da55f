"""Tables broken by a page or picture boundary: the second part joins the first.

Backends that see such breaks (PDF pages, OCR'd pictures and scans) add blocks
through ``append_block``, each saying what makes two tables one.  Page
furniture between the halves (page numbers, running heads) is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from .document import Block, Paragraph, Table
from .labels import norm


def is_page_furniture(p: Paragraph) -> bool:
    """Page numbers and running heads are short; real text between two tables is not."""
    return len(norm(p.text)) <= 8


def same_extent(a: Table, b: Table, tolerance: float) -> bool:
    """Same left and right edges within ``tolerance`` (in bbox units).

    Column counts may differ: label columns merged on one page can be split on the
    next, and a fragment whose rows all span the label columns shows fewer columns.
    """
    if a.loc.bbox is None or b.loc.bbox is None:
        return a.n_cols == b.n_cols
    return abs(a.loc.bbox[0] - b.loc.bbox[0]) < tolerance and abs(a.loc.bbox[2] - b.loc.bbox[2]) < tolerance


def append_block(blocks: list[Block], block: Block, joins: Callable[[Table, Table], bool]) -> None:
    """Append ``block``, or, for a table that ``joins`` the previous one, add its rows to it."""
    if isinstance(block, Table):
        for i in range(len(blocks) - 1, -1, -1):
            prev = blocks[i]
            if isinstance(prev, Table):
                if joins(prev, block):
                    del blocks[i + 1 :]
                    prev.rows.extend(block.rows)
                    prev.pictures.extend(block.pictures)
                    return
                break
            if isinstance(prev, Paragraph) and not is_page_furniture(prev):
                break
    blocks.append(block)
