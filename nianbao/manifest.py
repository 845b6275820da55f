"""A manifest CSV: the files of an archive with the agency, region and year the user already has.

``read_manifest`` reads the CSV (UTF-8 with or without BOM, UTF-16 with BOM, GBK/GB18030;
comma, tab, semicolon or ``|`` separated).  It needs a path column, named ``path``, ``file``
or ``文件`` (or one of the other names in ``PATH_NAMES``); ``agency``/``机关``, ``region``/``地区``,
``year``/``年度`` and ``url``/``网址`` columns are optional, and any other column is kept as a hint
under its own header.  Paths are relative to the manifest's folder.

``apply_hints`` puts the manifest's agency and year over what was read from the document:
the field's value becomes the manifest's, with ``method`` ``manifest``, ``raw`` the cell as
written and ``provenance`` the manifest (``file``: the manifest as given, ``row``: the CSV
record's index with the header as row 0, so the first data row is 1, like a table's rows;
``col``: the column's index from 0).  Where the document says something else, the field is
flagged with what the document said and where, never silently replaced.  The region stays
in the hints (the report schema has no region field): the region resolver reads
``hints["region"]``.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .extract.document import ExtractionError
from .extract.limits import Limits
from .extract.load import check_file, source_name
from .schemas import Method, Provenance, Report, State, Value

PATH_NAMES = ("path", "file", "文件", "filename", "file_name", "filepath", "file_path", "文件路径", "路径", "文件名", "文件名称")
HINT_NAMES: dict[str, tuple[str, ...]] = {
    "agency": ("agency", "机关", "机关名称", "单位", "单位名称", "部门", "部门名称", "发布机关", "发布单位", "行政机关"),
    "region": ("region", "地区", "区域", "行政区划", "所属地区", "区划", "地区名称", "所属区域"),
    "year": ("year", "年度", "年份", "报告年度"),
    "url": ("url", "网址", "链接", "原文链接", "来源网址", "source_url"),
}
# Hints that say where a hint came from, set by read_manifest.
MANIFEST_KEY, ROW_KEY, LINE_KEY = "manifest", "manifest_row", "manifest_line"
COL_PREFIX = "manifest_col."


class ManifestError(ValueError):
    """A manifest that cannot be used at all (no path column, undecodable, unreadable): a usage error."""


@dataclass
class ManifestRow:
    path: str  # the cell as written; relative paths are relative to the manifest's folder
    hints: dict[str, str] = field(default_factory=dict)
    row: int = 0  # CSV record index, header = 0
    line: int = 0  # line number in the file where the record starts (1-based)


def _norm_header(name: str) -> str:
    return re.sub(r"[\s_\-()（）]+", "", unicodedata.normalize("NFKC", name).strip().lstrip("\ufeff").lower())


_PATHS = {_norm_header(n) for n in PATH_NAMES}
_HINTS = {_norm_header(alias): key for key, names in HINT_NAMES.items() for alias in names}


def decode_manifest(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (a superset of GBK and GB2312)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(enc)
            except UnicodeDecodeError as exc:
                raise ManifestError(f"manifest starts with a {enc} byte-order mark but does not decode as {enc}: {exc}") from None
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ManifestError("manifest is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0] or sample, delimiters=",\t;|")
    except csv.Error:
        return csv.excel


def read_manifest(path: Path, limits: Limits | None = None) -> list[ManifestRow]:
    """Every data row of the manifest, with its hints; raises ManifestError for an unusable file."""
    limits = limits or Limits.from_env()
    try:
        check_file(path, limits)
        data = path.read_bytes()
    except ExtractionError as exc:
        raise ManifestError(f"manifest {source_name(path)}: {exc}") from None
    except OSError as exc:
        raise ManifestError(f"manifest {source_name(path)}: cannot read file: {exc.strerror or exc}") from None
    text = decode_manifest(data)
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ManifestError(f"manifest {source_name(path)} is empty") from None
    except csv.Error as exc:
        raise ManifestError(f"manifest {source_name(path)}: {exc}") from None
    names = [_norm_header(h) for h in header]
    path_col = next((i for i, n in enumerate(names) if n in _PATHS), None)
    if path_col is None:
        shown = ", ".join(repr(h) for h in header[:12]) or "none"
        raise ManifestError(f"manifest {source_name(path)} has no path column (its columns: {shown}); name one {', '.join(PATH_NAMES[:3])}")
    columns: dict[int, str] = {}
    for i, (raw, n) in enumerate(zip(header, names, strict=True)):
        if i == path_col or not n:
            continue
        key = _HINTS.get(n) or raw.strip().lstrip("\ufeff")
        if key not in columns.values():
            columns[i] = key
    where = source_name(path)
    rows: list[ManifestRow] = []
    line = reader.line_num + 1
    try:
        for index, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                line = reader.line_num + 1
                continue  # a blank line
            cells = record + [""] * (len(header) - len(record))
            hints = {MANIFEST_KEY: where, ROW_KEY: str(index), LINE_KEY: str(line)}
            for i, key in columns.items():
                value = cells[i].strip()
                if value:
                    hints[key] = value
                    hints[COL_PREFIX + key] = str(i)
            rows.append(ManifestRow(path=cells[path_col].strip(), hints=hints, row=index, line=line))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ManifestError(f"manifest {where} line {reader.line_num}: {exc}") from None
    return rows


def resolve(manifest: Path, cell: str) -> str:
    """A manifest's path cell as a path to open: relative to the manifest's folder (``..`` folded)."""
    p = Path(cell)
    return cell if p.is_absolute() else os.path.normpath(manifest.parent / p)


# --- the manifest over what was read ---------------------------------------------------

_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_YEAR = re.compile(r"^((?:19|20)\d{2})\s*(?:年度?)?$")


def parse_year(cell: str) -> int | None:
    """'2021', '2021年', '2021年度', '二〇二一年' → 2021; anything else → None."""
    text = unicodedata.normalize("NFKC", cell).strip().translate(_CN_DIGITS)
    m = _YEAR.match(text)
    return int(m.group(1)) if m else None


def _agency(cell: str) -> str | None:
    text = " ".join(cell.split())
    return text or None


def _same_agency(a: object, b: str) -> bool:
    def norm(x: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", x))

    return isinstance(a, str) and norm(a) == norm(b)


def _where(v: Value) -> str:
    p = v.provenance
    if p is None:
        return ""
    if p.xpath:
        return f" at {p.xpath}"
    if p.page is not None:
        return f" on page {p.page}"
    if p.span is not None:
        return f" at characters {p.span[0]}–{p.span[1]}"
    return ""


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def apply_hints(report: Report, hints: dict[str, str]) -> None:
    """The manifest's agency and year over the report's (in place); see the module docstring.

    Hints without a manifest (no ``manifest`` key) are applied the same way, with the
    provenance ``file`` ``"manifest"``.  A year cell that is not a year is not applied:
    the document's value stays, flagged with the cell.
    """
    manifest = hints.get(MANIFEST_KEY, "manifest")
    row = _int(hints.get(ROW_KEY))
    line = hints.get(LINE_KEY)
    place = f"{manifest} line {line}" if line else manifest
    for key, hint in (("meta.agency", "agency"), ("meta.year", "year")):
        cell = hints.get(hint)
        if cell is None or not cell.strip():
            continue
        old = report.get(key)
        parsed: str | int | None = _agency(cell) if hint == "agency" else parse_year(cell)
        if parsed is None:
            old.flag(f"the manifest's {hint} {cell!r} ({place}) is not a year; the document's value is kept")
            continue
        prov = Provenance(file=manifest, row=row, col=_int(hints.get(COL_PREFIX + hint)))
        new = Value(value=parsed, raw=cell, state=State.TEXT if hint == "agency" else State.NUMBER, provenance=prov, method=Method.MANIFEST, confidence=1.0)
        if old.state in (State.TEXT, State.NUMBER) and old.value is not None:
            same = _same_agency(old.value, str(parsed)) if hint == "agency" else old.value == parsed
            if not same:
                said = f"{old.value!r}" + (f" (raw {old.raw!r})" if old.raw is not None and old.raw != str(old.value) else "")
                new.flag(f"the manifest ({place}) gives {hint} {parsed!r}; the document says {said}{_where(old)}", confidence=0.5)
        elif old.raw:
            new.flag(f"the manifest ({place}) gives {hint} {parsed!r}; the document's reading was {old.state.value} (raw {old.raw!r}){_where(old)}", confidence=0.9)
        report.set(key, new)
