"""Write extraction results: flat records (JSONL), full nested reports (JSONL), long-format CSV.

The three files must agree whatever happens to the run, so a record is written as a
unit: its line in ``reports.jsonl``, its rows in ``fields.csv``, its line in
``records.jsonl``, each with one ``write`` call while SIGINT and SIGTERM wait, and
then one line in ``.commits`` giving the three files' sizes, and then (with a results
store) the record's one transaction in the store (``nianbao.store.write``).  A run killed between
two of those writes (``kill -9``, power loss) leaves a tail that no commit line
covers; the next writer on that folder cuts every file back to the last commit, and
``read_records`` reads only committed records.  A lock file keeps a second run out of
a folder that is in use.

A file read again (changed bytes, a changed extractor fingerprint, ``--retry-failed``)
gets a new record appended; the latest record of a source is the one that counts, and
``read_records`` reads only that.  At the end of such a run ``compact`` drops the
superseded records from the three files, cutting them along the commit lines, and swaps
the new files in under a marker (``.compacting``) that the next writer on the folder
finishes from, so a kill during the swap leaves either the old files or the new ones.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import signal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .pipeline import Record

if TYPE_CHECKING:
    from .store.write import RunStore

CSV_COLUMNS = ("source", "key", "value", "raw", "state", "page", "bbox", "image", "span", "xpath", "method", "confidence", "review")
FILES = ("reports.jsonl", "fields.csv", "records.jsonl")
COMMITS = ".commits"
LOCK = ".lock"
COMPACTING = ".compacting"
_COMPACT = ".compact"
FINGERPRINT = "fingerprint.json"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection);
# document text is untrusted, so such a cell gets a leading apostrophe in fields.csv.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_GUARDED = frozenset({"source", "value", "raw", "image", "xpath", "review"})
_DEFERRED = (signal.SIGINT, signal.SIGTERM)


class OutputInUse(Exception):
    """Another run holds the output folder."""


class OutputExists(Exception):
    """The output folder holds an earlier run's records and neither resume nor overwrite was asked for."""


def spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _utf8(text: str) -> bytes:
    # A file name that is not UTF-8 reaches here with lone surrogates; keep them visible.
    return text.encode("utf-8", "backslashreplace")


def csv_rows(record: Record) -> list[tuple[Any, ...]]:
    """fields.csv rows of one record, a row per field."""
    rows: list[tuple[Any, ...]] = []
    if record.report is None:
        return rows
    for key, v in record.report.values():
        p = v.provenance
        row = {
            "source": record.source,
            "key": key,
            "value": "" if v.value is None else v.value,
            "raw": "" if v.raw is None else v.raw,
            "state": v.state.value,
            "page": p.page if p and p.page is not None else "",
            "bbox": " ".join(f"{c:g}" for c in p.bbox) if p and p.bbox else "",
            "image": p.image if p and p.image else "",
            "span": f"{p.span[0]}-{p.span[1]}" if p and p.span else "",
            "xpath": p.xpath if p and p.xpath else "",
            "method": v.method.value if v.method else "",
            "confidence": f"{v.confidence:.2f}",
            "review": "; ".join(v.review),
        }
        rows.append(tuple(spreadsheet_safe(x) if k in _GUARDED and isinstance(x, str) else x for k, x in row.items()))
    return rows


def _committed_sizes(out_dir: Path) -> tuple[int, int, int] | None:
    """The three files' sizes after the last whole commit line, or None with no commits."""
    path = out_dir / COMMITS
    if not path.exists():
        return None
    last = None
    for line in path.read_bytes().split(b"\n"):
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            last = (int(parts[0]), int(parts[1]), int(parts[2]))
    return last


def _commit_lines(out_dir: Path) -> list[tuple[int, int, int]]:
    path = out_dir / COMMITS
    if not path.exists():
        return []
    out = []
    for line in path.read_bytes().split(b"\n"):
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return out


def finish_compaction(out_dir: Path) -> None:
    """Complete a compaction a killed run left half done, or drop one it never started swapping in."""
    names = (*FILES, COMMITS)
    if (out_dir / COMPACTING).exists():
        for name in names:
            tmp = out_dir / (name + _COMPACT)
            if tmp.exists():
                os.replace(tmp, out_dir / name)
        _fsync_dir(out_dir)
        (out_dir / COMPACTING).unlink()
    else:
        for name in names:
            (out_dir / (name + _COMPACT)).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def compact(out_dir: Path) -> int:
    """Drop every record a later record of the same source supersedes; returns how many were dropped.

    Each commit line bounds one record in all three files, so the files are cut along
    the commit lines without parsing CSV.  Call it only while holding the folder's lock
    with no file open for writing (``Writer.compact``)."""
    commits = _commit_lines(out_dir)
    if not commits:
        return 0
    bounds = [(0, 0, 0), *commits]
    # Which commit holds which source: a commit that adds a records.jsonl line is a record.
    sources: dict[int, str] = {}
    with (out_dir / "records.jsonl").open("rb") as f:
        for i in range(1, len(bounds)):
            n = bounds[i][2] - bounds[i - 1][2]
            if n > 0:
                sources[i] = json.loads(f.read(n))["source"]
    last = {s: i for i, s in sources.items()}
    dropped = {i for i, s in sources.items() if last[s] != i}
    if not dropped:
        return 0
    kept_bounds: list[tuple[int, int, int]] = []
    totals = [0, 0, 0]
    outs = {name: (out_dir / (name + _COMPACT)).open("wb") for name in FILES}
    try:
        ins = {name: (out_dir / name).open("rb") for name in FILES}
        try:
            for i in range(1, len(bounds)):
                for k, name in enumerate(FILES):
                    ins[name].seek(bounds[i - 1][k])
                    data = ins[name].read(bounds[i][k] - bounds[i - 1][k])
                    if i not in dropped:
                        outs[name].write(data)
                        totals[k] += len(data)
                if i not in dropped:
                    kept_bounds.append((totals[0], totals[1], totals[2]))
        finally:
            for src in ins.values():
                src.close()
        for dst in outs.values():
            dst.flush()
            os.fsync(dst.fileno())
    finally:
        for dst in outs.values():
            dst.close()
    with (out_dir / (COMMITS + _COMPACT)).open("wb") as log:
        log.write(b"".join(f"{a} {b} {c}\n".encode() for a, b, c in kept_bounds))
        log.flush()
        os.fsync(log.fileno())
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        marker = out_dir / (COMPACTING + ".tmp")
        marker.write_bytes(b"swap the .compact files in\n")
        os.replace(marker, out_dir / COMPACTING)
        _fsync_dir(out_dir)
        finish_compaction(out_dir)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return len(dropped)


def recover(out_dir: Path) -> int:
    """Cut every output file back to its last commit; returns the number of committed records."""
    sizes = _committed_sizes(out_dir)
    if sizes is None:
        for name in (*FILES, COMMITS):
            (out_dir / name).unlink(missing_ok=True)
        return 0
    for name, size in zip(FILES, sizes):
        with (out_dir / name).open("r+b") as f:
            f.truncate(size)
    lines = (out_dir / COMMITS).read_bytes().split(b"\n")
    whole = [ln for ln in lines if len(ln.split()) == 3]
    (out_dir / COMMITS).write_bytes(b"".join(ln + b"\n" for ln in whole))
    return len(whole)


class Writer:
    """Streams records to DIR/records.jsonl, DIR/reports.jsonl and DIR/fields.csv as they arrive.

    ``mode`` says what to do with an earlier run's outputs in DIR: ``"new"`` refuses
    to touch them, ``"overwrite"`` replaces them, ``"resume"`` keeps the committed ones
    and appends.  With ``store`` (a path), each record also goes into that SQLite
    results store, which the mode treats like the files.
    """

    def __init__(self, out_dir: Path, mode: str = "new", store: Path | None = None) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.dir = out_dir
        self._lock = self._take_lock(out_dir)
        self.store: RunStore | None = None
        try:
            finish_compaction(out_dir)
            self.resumed = self._prepare(mode)
            if store is not None:
                from .store.write import RunStore  # sqlite3 only for runs that keep a store

                self.store = RunStore(store, mode, out_dir)
                if self.resumed:
                    self._resync_last()
        except BaseException:
            self._release()
            raise
        self._open()

    def _open(self) -> None:
        self._fds = {name: os.open(self.dir / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) for name in (*FILES, COMMITS)}
        self._sizes = [os.fstat(self._fds[name]).st_size for name in FILES]
        if self._sizes[1] == 0:
            self._write("fields.csv", self._csv_bytes([CSV_COLUMNS]))
            self._commit()

    def _resync_last(self) -> None:
        """A kill between the files' commit and the store's leaves the store without the last
        committed record; when that record read a source again, the store still holds the
        older reading under that source (the store's own reconcile adds only missing sources)."""
        assert self.store is not None
        commits = _commit_lines(self.dir)
        if len(commits) < 2 or commits[-1][0] == commits[-2][0]:
            return
        with (self.dir / "reports.jsonl").open("rb") as f:
            f.seek(commits[-2][0])
            record = Record.model_validate(json.loads(f.read(commits[-1][0] - commits[-2][0])))
        row = self.store.conn.execute("SELECT sha256, seconds, status FROM reports WHERE source = ?", (record.source,)).fetchone()
        if row is None or (row[0], row[1], row[2]) != (record.sha256, record.seconds, record.status):
            self.store.put(self.store.prepare(record))

    def compact(self) -> int:
        """Drop superseded records (a source read again) from the three files; see ``compact``."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        try:
            return compact(self.dir)
        finally:
            self._open()

    @staticmethod
    def _take_lock(out_dir: Path) -> IO[str]:
        lock = (out_dir / LOCK).open("a+", encoding="utf-8")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise OutputInUse(f"{out_dir} is in use by another nianbao run (pid {holder}); wait for it or choose another --out") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        return lock

    def _prepare(self, mode: str) -> int:
        has_records = (self.dir / "records.jsonl").exists() and (self.dir / "records.jsonl").stat().st_size > 0
        if mode == "overwrite" or not has_records:
            for name in (*FILES, COMMITS):
                (self.dir / name).unlink(missing_ok=True)
            return 0
        if mode == "resume":
            return recover(self.dir)
        raise OutputExists(f"{self.dir} already holds records of an earlier run; use --resume to continue it or --overwrite to replace it")

    @staticmethod
    def _csv_bytes(rows: list[tuple[Any, ...]]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        return _utf8(buf.getvalue())

    def _write(self, name: str, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fds[name], view)
            view = view[n:]
        self._sizes[FILES.index(name)] += len(data)

    def _commit(self) -> None:
        os.write(self._fds[COMMITS], f"{self._sizes[0]} {self._sizes[1]} {self._sizes[2]}\n".encode())

    def write(self, record: Record) -> None:
        full = _utf8(json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n")
        flat = _utf8(json.dumps(record.model_dump(mode="json", exclude={"report"}), ensure_ascii=False) + "\n")
        rows = self._csv_bytes(csv_rows(record))
        prepared = self.store.prepare(record) if self.store is not None else None
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
        try:
            self._write("reports.jsonl", full)
            self._write("fields.csv", rows)
            self._write("records.jsonl", flat)
            self._commit()
            # After the files' commit: a kill in between leaves a record the store lacks,
            # which a resumed run puts in from reports.jsonl (never one the files lack).
            if self.store is not None and prepared is not None:
                self.store.put(prepared)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _release(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        if self.store is not None:
            self.store.close()
            self.store = None
        self._release()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a records.jsonl or reports.jsonl, only those committed when its folder has a commit log.

    In an output folder a source read again has several records until the run that read
    it again compacts the files (a run killed first leaves them); only the latest counts."""
    sizes = _committed_sizes(path.parent) if path.name in ("records.jsonl", "reports.jsonl") else None
    data = path.read_bytes()
    if sizes is not None:
        data = data[: sizes[FILES.index(path.name)]]
    records = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    if sizes is None:
        return records
    last = {r["source"]: i for i, r in enumerate(records)}
    return [r for i, r in enumerate(records) if last[r["source"]] == i]


def latest_records(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The committed record that counts for each source in an output folder."""
    path = out_dir / "records.jsonl"
    return {r["source"]: r for r in read_records(path)} if path.exists() else {}


def committed_count(out_dir: Path) -> int:
    """How many records the folder's commit log holds, superseded ones included."""
    commits = _commit_lines(out_dir)
    records = 0
    for before, after in zip([(0, 0, 0), *commits], commits):
        records += after[2] > before[2]
    return records


def write_fingerprint(out_dir: Path, parts: dict[str, Any], digest: str) -> None:
    """OUT/fingerprint.json: the latest run's fingerprint and what it is made of (for people; records carry the digest)."""
    tmp = out_dir / (FINGERPRINT + ".tmp")
    tmp.write_text(json.dumps({"fingerprint": digest, **parts}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / FINGERPRINT)
