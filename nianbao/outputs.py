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
            self.resumed = self._prepare(mode)
            if store is not None:
                from .store.write import RunStore  # sqlite3 only for runs that keep a store

                self.store = RunStore(store, mode, out_dir)
        except BaseException:
            self._release()
            raise
        self._fds = {name: os.open(out_dir / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) for name in (*FILES, COMMITS)}
        self._sizes = [os.fstat(self._fds[name]).st_size for name in FILES]
        if self._sizes[1] == 0:
            self._write("fields.csv", self._csv_bytes([CSV_COLUMNS]))
            self._commit()

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
    """The records of a records.jsonl or reports.jsonl, only those committed when its folder has a commit log."""
    sizes = _committed_sizes(path.parent) if path.name in ("records.jsonl", "reports.jsonl") else None
    data = path.read_bytes()
    if sizes is not None:
        data = data[: sizes[FILES.index(path.name)]]
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
