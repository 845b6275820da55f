"""Expand the inputs a user names (files, folders, globs, zip archives, a manifest CSV) into work items.

Every item is an ``InputItem``: the real ``Path`` to open, the ``source`` string that names
it in records, CSV and messages, the manifest ``hints`` for it, and ``also_at``: the sources
of other inputs with the same bytes.  A file name that is not valid UTF-8 keeps its real
bytes in the Path (PEP 383 surrogates) while its source shows them as ``\\xNN``, so records
stay valid UTF-8 JSON.

- **Folders** are searched recursively for report-like files (``SUFFIXES``) and zip
  archives; pictures in a saved web page's ``NAME_files`` folder belong to that page.
- **Zip archives** (``.zip``) are opened here: their report-like members are extracted,
  as streams under ``ArchiveLimits``, into ``cache_dir/<archive sha256>/`` and named
  ``archive.zip!member/path`` (``a.zip!inner.zip!b.pdf`` for a zip in a zip).  A member
  that escapes the archive (``../x``, ``/etc/x``, a symbolic link), is encrypted, or breaks
  a limit (a bomb) is not extracted: it becomes an item with ``error`` set, and the rest of
  the archive is read.  Member names without the zip UTF-8 flag are decoded as UTF-8, else
  GBK (what Chinese Windows writes), not CP437.
- **A manifest CSV** (``nianbao.manifest``) names files relative to itself, each with its
  hints; a row may name a folder, a glob or a zip, and every file under it gets the row's hints.
- **Duplicates**: files with the same sha256 are one item: the first keeps ``path`` and
  ``source``, the later ones' sources go in its ``also_at`` (their hints fill in what the
  first lacks).  Hashing is streamed, and only regular files within ``max_file_bytes`` are
  hashed; the rest are left for the load stage to refuse, each with its own record.

Nothing else is opened here.  Entries whose name says "report" but that are not regular
files (a FIFO named x.txt, a directory named x.pdf, a link to a device) are kept, so that
the load stage refuses each with an error record instead of dropping it unseen.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .extract.backends.docx import _member_count
from .extract.limits import ENV_PREFIX, Limits, describe, parse_amount
from .extract.load import REFUSED_SUFFIX, source_name
from .manifest import read_manifest, resolve

SUFFIXES = {".txt", ".md", ".html", ".htm", ".shtml", ".xhtml", ".docx", ".doc", ".wps", ".rtf", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
ARCHIVE_SUFFIXES = {".zip"}
_PICTURES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
_CHUNK = 1 << 20


@dataclass
class InputItem:
    """One file to read.  Unpacks as ``path, source`` (the pairs ``expand`` returned before)."""

    path: Path
    source: str
    hints: dict[str, str] = field(default_factory=dict)
    also_at: list[str] = field(default_factory=list)
    sha256: str | None = None  # when expand hashed it (None: not a regular file, over the limit, unreadable)
    # Refused while expanding (a zip member that is a bomb or escapes the archive, a
    # corrupt zip, a manifest row without a path): record it as a load error with this
    # message, without reading.  ``path`` then holds a note that the load stage refuses
    # with the same message, for engines that read every item.
    error: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.path, self.source))


# --- archive limits ---------------------------------------------------------------------


def _limit(default: float, unit: str, doc: str) -> Any:
    return field(default=default, metadata={"unit": unit, "doc": doc})


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Limits on zip inputs; each member is also an input file under ``max_file_bytes``.

    Set from the environment like the per-file limits: ``NIANBAO_MAX_ARCHIVE_BYTES=50G``.
    """

    max_archive_bytes: int = _limit(20 * 10**9, "bytes", "inflated size of all members extracted from one archive (with the zips inside it)")
    max_archive_members: int = _limit(100_000, "members", "members listed by one archive")
    max_archive_ratio: int = _limit(200, "×", "compression ratio of an archive member over 1 MB inflated")
    max_archive_depth: int = _limit(3, "levels", "zips inside zips: 1 reads only the archive named, 3 reads zips two levels in")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ArchiveLimits:
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw and raw.strip():
                try:
                    values[f.name] = int(parse_amount(raw))
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX + f.name.upper()}={raw!r} is not a number") from None
                if values[f.name] <= 0:
                    raise ValueError(f"{ENV_PREFIX + f.name.upper()} must be positive")
        return cls(**values)

    def over(self, name: str, what: str) -> str:
        unit = next(f.metadata["unit"] for f in fields(self) if f.name == name)
        return f"{what}, over the limit of {describe(getattr(self, name), unit)} (raise it with {ENV_PREFIX + name.upper()})"


# --- files, folders, globs ---------------------------------------------------------------


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
    suffix = f.suffix.lower()
    return (suffix in SUFFIXES and not _page_asset(f)) or suffix in ARCHIVE_SUFFIXES


def _paths(item: str, folders: set[tuple[int, int]]) -> list[Path]:
    p = Path(item)
    if _is_dir(p):
        return [f for f in sorted(_walk(p, folders)) if _candidate(f)]
    if any(ch in item for ch in "*?["):
        matches = [Path(m) for m in sorted(glob.glob(item, recursive=True))]
        # A glob names files; a folder it matches counts only when named like a report.
        return [m for m in matches if not _is_dir(m) or m.suffix.lower() in SUFFIXES]
    return [p]  # a missing file becomes an error record, not a crash


# --- zip archives ----------------------------------------------------------------------


class _Refusals:
    """Notes for refused items: a file whose content is the error, which the load stage reports."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def note(self, source: str, error: str) -> Path:
        folder = self.root / "refused"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:24] + REFUSED_SUFFIX)
        path.write_text(error, encoding="utf-8")
        return path


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it: without the UTF-8 flag zipfile decodes CP437."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return name


_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_COMPONENT_BYTES = 200


def _safe_parts(name: str) -> list[str] | None:
    """The member's path as folder names to extract under; None when it would leave the folder."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm) or "\x00" in norm:
        return None
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or not parts:
        return None
    out = []
    for p in parts:
        if len(p.encode("utf-8", "surrogateescape")) > _MAX_COMPONENT_BYTES:  # keep the suffix, shorten the rest
            _, dot, suffix = p.rpartition(".")
            p = hashlib.sha256(p.encode("utf-8", "surrogateescape")).hexdigest()[:32] + (dot + suffix[:16] if dot else "")
        out.append(p)
    return out


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


@dataclass
class _Budget:
    """Bytes left to extract from one top-level archive, its nested zips included."""

    left: int


class _Archives:
    def __init__(self, cache: Path, limits: Limits, alimits: ArchiveLimits, refusals: _Refusals) -> None:
        self.cache, self.limits, self.alimits, self.refusals = cache, limits, alimits, refusals

    def refused(self, source: str, error: str, hints: dict[str, str]) -> InputItem:
        return InputItem(self.refusals.note(source, error), source, dict(hints), error=error)

    def expand(self, path: Path, source: str, hints: dict[str, str], depth: int = 1, budget: _Budget | None = None) -> list[InputItem]:
        budget = budget or _Budget(self.alimits.max_archive_bytes)
        try:
            st = os.stat(path)
        except OSError:
            return [InputItem(path, source, dict(hints))]  # missing: load says so
        if not stat.S_ISREG(st.st_mode):
            return [InputItem(path, source, dict(hints))]  # not a regular file: load refuses it
        # An archive may be larger than one file may be: it is never read whole (the members
        # are streamed under their own limits), only hashed to name its cache folder.
        try:
            digest = _sha256(path)
        except OSError as exc:
            return [self.refused(source, f"cannot read zip archive: {exc.strerror or exc}", hints)]
        listed = _member_count(path)  # from the end record, before zipfile builds the whole list
        if listed is not None and listed > self.alimits.max_archive_members:
            return [self.refused(source, self.alimits.over("max_archive_members", f"zip archive lists {listed} members"), hints)]
        try:
            with zipfile.ZipFile(path) as zf:
                return self._members(zf, path, source, hints, depth, budget, digest)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
            return [self.refused(source, f"corrupt or unreadable zip archive: {type(exc).__name__}: {exc}", hints)]

    def _members(self, zf: zipfile.ZipFile, path: Path, source: str, hints: dict[str, str], depth: int, budget: _Budget, digest: str) -> list[InputItem]:
        infos = zf.infolist()
        if len(infos) > self.alimits.max_archive_members:
            return [self.refused(source, self.alimits.over("max_archive_members", f"zip archive lists {len(infos)} members"), hints)]
        root = self.cache / digest[:32]
        out: list[InputItem] = []
        used: set[tuple[str, ...]] = set()
        for info in sorted(infos, key=lambda i: _member_name(i)):
            if info.is_dir():
                continue
            name = _member_name(info)
            member_source = f"{source}!{source_name(name)}"
            norm = name.replace("\\", "/")
            base = norm.rsplit("/", 1)[-1]
            if norm.startswith("__MACOSX/") or base.startswith("._"):
                continue  # macOS resource forks
            suffix = Path(base).suffix.lower()
            asset = _page_asset(Path(norm)) and suffix in _PICTURES
            nested = suffix in ARCHIVE_SUFFIXES
            if not (asset or nested or (suffix in SUFFIXES and not _page_asset(Path(norm)))):
                continue  # not a report: passed over, as in a folder
            error = self._check(info, name, budget, depth, nested)
            parts = _safe_parts(name)
            if error is None and parts is None:
                error = f"zip member {name!r} would be written outside the archive's folder (an absolute path or '..'): not extracted"
            if error is not None:
                if not asset:
                    out.append(self.refused(member_source, error, hints))
                continue
            assert parts is not None
            if tuple(parts) in used:
                if not asset:
                    out.append(self.refused(member_source, f"zip member {name!r} has the name of an earlier member: not extracted", hints))
                continue
            used.add(tuple(parts))
            target = root.joinpath(*parts)
            try:
                member_digest = self._extract(zf, info, name, target, root, budget)
            except _Refused as exc:
                if not asset:
                    out.append(self.refused(member_source, str(exc), hints))
                continue
            if asset:
                continue  # extracted beside its page, which reads it; not a report of its own
            if nested:
                out += self.expand(target, member_source, hints, depth + 1, budget)
            else:
                out.append(InputItem(target, member_source, dict(hints), sha256=member_digest))
        return out

    def _check(self, info: zipfile.ZipInfo, name: str, budget: _Budget, depth: int, nested: bool) -> str | None:
        """Refusals decided from the directory entry, before anything is inflated."""
        if _is_link(info):
            return f"zip member {name!r} is a symbolic link: not extracted"
        if info.flag_bits & 0x1:
            return f"zip member {name!r} is encrypted; extract it with its password and give the file itself"
        if nested and depth >= self.alimits.max_archive_depth:
            return self.alimits.over("max_archive_depth", f"zip member {name!r} is a zip {depth} levels deep")
        if info.file_size > self.limits.max_file_bytes:
            return self.limits.exceeded("max_file_bytes", f"zip member {name!r} declares {describe(info.file_size, 'bytes')} inflated").args[0]
        if info.file_size > _CHUNK:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > self.alimits.max_archive_ratio:
                return self.alimits.over("max_archive_ratio", f"zip member {name!r} is compressed {ratio:.0f}× (a zip bomb?)")
        if info.file_size > budget.left:
            return self.alimits.over("max_archive_bytes", f"zip member {name!r} ({describe(info.file_size, 'bytes')}) would take the archive's extracted members past the total allowed")
        return None

    def _extract(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, target: Path, root: Path, budget: _Budget) -> str:
        """Inflate one member to ``target`` as a stream, counting real bytes (headers can lie); returns its sha256.

        Written to a temporary name and renamed, so an interrupted run never leaves a
        truncated member that a rerun would take for whole.  A member already extracted
        by an earlier run (same archive hash, same size) is reused.
        """
        if not str(target.resolve()).startswith(str(root.resolve()) + os.sep):
            raise _Refused(f"zip member {name!r} would be written outside the archive's folder: not extracted")
        cap = min(self.limits.max_file_bytes, budget.left)
        try:
            if target.is_file() and not target.is_symlink() and target.stat().st_size == info.file_size:
                budget.left -= info.file_size
                return _sha256(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            total = 0
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as f, zf.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        total += len(chunk)
                        if total > info.file_size or total > cap:
                            raise _Refused(f"zip member {name!r} inflates to more than its header said ({describe(info.file_size, 'bytes')}): a zip bomb or a damaged archive; not extracted")
                        digest.update(chunk)
                        f.write(chunk)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except _Refused:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise _Refused(f"zip member {name!r} cannot be extracted (damaged or unsupported): {type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise _Refused(f"zip member {name!r} cannot be extracted: {exc.strerror or exc}") from None
        budget.left -= total
        return digest.hexdigest()


class _Refused(Exception):
    pass


# --- hashing and duplicates ---------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_if_regular(item: InputItem, limits: Limits) -> str | None:
    """The sha256 of a regular file within max_file_bytes; None for anything load must refuse."""
    if item.sha256 is not None or item.error is not None:
        return item.sha256
    try:
        st = os.stat(item.path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limits.max_file_bytes:
            return None  # never open a FIFO or a device; a giant is load's to refuse
        return _sha256(item.path)
    except OSError:
        return None


def _merge_hints(into: InputItem, other: InputItem) -> None:
    for k, v in other.hints.items():
        into.hints.setdefault(k, v)


def _dedupe(items: list[InputItem], limits: Limits, workers: int) -> list[InputItem]:
    # The same name twice (a folder and a glob over it, a file named and in the manifest)
    # is one input; its hints are merged.
    by_name: dict[bytes, InputItem] = {}
    named: list[InputItem] = []
    for item in items:
        key = os.fsencode(os.path.normpath(item.path)) if item.error is None else item.source.encode("utf-8", "surrogateescape")
        first = by_name.get(key)
        if first is None:
            by_name[key] = item
            named.append(item)
        else:
            _merge_hints(first, item)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        digests = list(pool.map(lambda i: _hash_if_regular(i, limits), named))
    by_hash: dict[str, InputItem] = {}
    out: list[InputItem] = []
    for item, digest in zip(named, digests, strict=True):
        item.sha256 = digest
        first = by_hash.get(digest) if digest is not None else None
        if first is None:
            if digest is not None:
                by_hash[digest] = item
            out.append(item)
        else:
            first.also_at.append(item.source)
            first.also_at.extend(item.also_at)
            _merge_hints(first, item)
    return out


# --- the whole expansion -------------------------------------------------------------------

_TEMP_CACHES: list[Path] = []


def _remove_temp_caches() -> None:
    for p in _TEMP_CACHES:
        shutil.rmtree(p, ignore_errors=True)


def _temp_cache() -> Path:
    root = Path(tempfile.mkdtemp(prefix="nianbao-inputs-"))
    _TEMP_CACHES.append(root)
    if len(_TEMP_CACHES) == 1:
        atexit.register(_remove_temp_caches)
    return root


def expand(
    inputs: list[str],
    manifest: Path | None = None,
    *,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
    archive_limits: ArchiveLimits | None = None,
    hash_workers: int = 8,
) -> list[InputItem]:
    """The items to read, in input order (folders and archives sorted), duplicates folded.

    ``cache_dir`` is where zip members are extracted (``OUT/.inputs`` for a run, so a
    resumed run finds them); without one, a temporary folder removed when the process
    exits.  Raises ``nianbao.manifest.ManifestError`` for a manifest that cannot be used.
    """
    limits = limits or Limits.from_env()
    alimits = archive_limits or ArchiveLimits.from_env()
    cache: Path | None = Path(cache_dir) if cache_dir is not None else None

    def cache_root() -> Path:
        nonlocal cache
        if cache is None:
            cache = _temp_cache()
        cache.mkdir(parents=True, exist_ok=True)
        return cache

    folders: set[tuple[int, int]] = set()
    items: list[InputItem] = []

    def add(item: str, hints: dict[str, str]) -> None:
        for p in _paths(item, folders):
            src = source_name(p)
            if p.suffix.lower() in ARCHIVE_SUFFIXES and not _is_dir(p):
                root = cache_root()
                items.extend(_Archives(root, limits, alimits, _Refusals(root)).expand(p, src, hints))
            else:
                items.append(InputItem(p, src, dict(hints)))

    for item in inputs:
        add(item, {})
    if manifest is not None:
        manifest = Path(manifest)
        for row in read_manifest(manifest, limits):
            if not row.path:
                source = f"{source_name(manifest)} line {row.line}"
                error = f"manifest {source_name(manifest)} line {row.line} names no file (its path cell is empty)"
                items.append(InputItem(_Refusals(cache_root()).note(source, error), source, dict(row.hints), error=error))
                continue
            add(resolve(manifest, row.path), row.hints)
    return _dedupe(items, limits, hash_workers)


def expand_paths(inputs: list[str], manifest: Path | None = None, **options: Any) -> list[tuple[Path, str]]:
    """``(path, source)`` pairs, as ``expand`` returned before items had hints and duplicates."""
    return [(i.path, i.source) for i in expand(inputs, manifest, **options)]
