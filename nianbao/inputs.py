"""Expand the inputs a user names (files, folders, globs) into a sorted list of files.

Every entry is a pair: the real ``Path`` to open, and the ``source`` string that names
it in records, CSV and messages.  A file name that is not valid UTF-8 keeps its real
bytes in the Path (PEP 383 surrogates) while its source shows them as ``\\xNN``, so
records stay valid UTF-8 JSON.

Nothing is opened here.  Entries whose name says "report" but that are not regular
files (a FIFO named x.txt, a directory named x.pdf, a link to a device) are kept, so
that the load stage refuses each with an error record instead of dropping it unseen.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .extract.load import source_name

SUFFIXES = {".txt", ".md", ".html", ".htm", ".shtml", ".xhtml", ".docx", ".doc", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}


def _page_asset(f: Path) -> bool:
    """Pictures in a saved web page's ``<name>_files`` folder belong to that page, not the batch."""
    return any(parent.name.endswith("_files") for parent in f.parents)


def _is_dir(path: Path | os.DirEntry[str]) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False  # missing, a dangling link or a link loop: an entry the load stage explains


def _walk(root: Path, seen: set[tuple[int, int]]) -> Iterator[Path]:
    """Every entry under ``root`` but its folders' own names; links to folders are not followed.

    That is what ``rglob`` did, and it makes link loops harmless; ``seen`` (device, inode)
    also keeps a folder mounted inside itself from being walked twice.  Unreadable
    folders are passed over.
    """
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                real_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                real_dir = False
            if real_dir:
                stack.append(path)
            if _is_dir(entry):
                if path.suffix.lower() in SUFFIXES:
                    yield path  # a folder (or a link to one) named like a report: its own error record
            else:
                yield path


def _candidate(f: Path) -> bool:
    return f.suffix.lower() in SUFFIXES and not _page_asset(f)


def expand(inputs: list[str]) -> list[tuple[Path, str]]:
    """(path, source) pairs; folders are searched recursively for report-like files."""
    out: list[tuple[Path, str]] = []
    folders: set[tuple[int, int]] = set()
    for item in inputs:
        p = Path(item)
        if _is_dir(p):
            out += [(f, source_name(f)) for f in sorted(_walk(p, folders)) if _candidate(f)]
        elif any(ch in item for ch in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(item, recursive=True))]
            # A glob names files; a folder it matches counts only when named like a report.
            out += [(m, source_name(m)) for m in matches if not _is_dir(m) or m.suffix.lower() in SUFFIXES]
        else:
            out.append((p, source_name(item)))  # a missing file becomes an error record, not a crash
    # The same name twice (a folder and a glob over it) is read once; two names for one
    # file (links) are two inputs, as the user named them.
    seen: set[bytes] = set()
    unique = []
    for path, source in out:
        key = os.fsencode(os.path.normpath(path))
        if key not in seen:
            seen.add(key)
            unique.append((path, source))
    return unique
