"""Expand the inputs a user names (files, folders, globs) into a sorted list of files."""

from __future__ import annotations

import glob
from pathlib import Path

SUFFIXES = {".txt", ".md", ".html", ".htm", ".shtml", ".xhtml", ".docx", ".doc", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def _page_asset(f: Path) -> bool:
    """Pictures in a saved web page's ``<name>_files`` folder belong to that page, not the batch."""
    return any(parent.name.endswith("_files") for parent in f.parents)


def expand(inputs: list[str]) -> list[tuple[Path, str]]:
    """(path, source-as-given) pairs; folders are searched recursively for report-like files."""
    out: list[tuple[Path, str]] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            out += [(f, str(f)) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUFFIXES and not _page_asset(f)]
        elif any(ch in item for ch in "*?["):
            out += [(Path(m), m) for m in sorted(glob.glob(item, recursive=True)) if Path(m).is_file()]
        else:
            out.append((p, item))  # a missing file becomes an error record, not a crash
    seen: set[str] = set()
    unique = []
    for path, source in out:
        if source not in seen:
            seen.add(source)
            unique.append((path, source))
    return unique
