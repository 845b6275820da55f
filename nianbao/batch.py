"""A batch of files through the pipeline: isolated reading, the optional LLM stage, checks, outputs.

Rules-only and LLM runs share this shape; the LLM stage is one more step between
READ and CHECKS (see ``nianbao.llm_batch``).

- **Plan** (``plan``): a rerun into an output folder skips every file whose latest
  committed record has the same content sha256 and the same extractor fingerprint
  (``nianbao.engines.fingerprint``); a failure is kept with its error unless
  ``retry_failed``.  Everything else is read (again).
- **Engines**: ``local`` runs N ``IsolatedReader`` worker processes (each with its own
  per-file time and memory limits, restarted after a kill), driven by N threads;
  ``ray`` runs the same per-document function (``read_item``) in Ray actors.
- **Write**: records come back in completion order and go through the run's single
  ``Writer`` in the main thread, so the outputs' commit protocol holds whatever the
  number of workers.  A finished record waits for earlier files still being read only
  while fewer than ``4 × workers`` records wait, so small and even batches come out in
  input order (the same files whatever the worker count) and one slow file never holds
  back the rest.  A source read again supersedes its older record; the files are
  compacted at the end of the run.

The loop never stops for a bad file.  SIGINT and SIGTERM stop it between two records:
files in hand are dropped (a resumed run reads them), nothing half-written is left.
"""

from __future__ import annotations

import os
import queue
import signal
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .engines import fingerprint as fp
from .engines.items import Item, as_items
from .extract.limits import Limits
from .outputs import Writer, committed_count, latest_records, read_records
from .pipeline import Record, Stage, file_sha256, to_record
from .worker import IsolatedReader

SIGNALS = (signal.SIGINT, signal.SIGTERM)
SLOWEST = 5


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Summary:
    """What a batch did: the closing lines and the exit status come from here."""

    files: int = 0  # read in this run
    ok: int = 0
    errors: int = 0
    skipped: int = 0  # unchanged since their committed record (resume / incremental)
    kept_failed: int = 0  # of those, failures kept with their error (--retry-failed reads them)
    flagged: int = 0
    flagged_files: int = 0
    by_stage: Counter[str] = field(default_factory=Counter)
    by_format: Counter[str] = field(default_factory=Counter)
    by_template: Counter[str] = field(default_factory=Counter)
    by_year: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # why each file was read: new, changed, fingerprint, retry
    slowest: list[tuple[float, str]] = field(default_factory=list)
    superseded: int = 0  # older records dropped by compaction
    seconds: float = 0.0
    workers: int = 1
    engine: str = "local"
    interrupted: bool = False

    def add(self, record: Record) -> None:
        self.files += 1
        if record.status == "ok":
            self.ok += 1
            self.flagged += len(record.review)
            self.flagged_files += bool(record.review)
            self.by_format[record.format or "?"] += 1
            self.by_template[str(record.fields.get("meta.template") or "?")] += 1
            self.by_year[str(record.fields.get("meta.year") or "?")] += 1
        else:
            self.errors += 1
            self.by_stage[record.error_stage or "load"] += 1
        self.slowest.append((record.seconds or 0.0, record.source))
        self.slowest.sort(reverse=True)
        del self.slowest[SLOWEST:]

    def line(self, out: Path, store: Path | None = None) -> str:
        failed = f"{self.errors} failed" + (f" ({', '.join(f'{n} in {s}' for s, n in self.by_stage.most_common())})" if self.errors else "")
        kept = f" ({self.kept_failed} failed before: --retry-failed reads them again)" if self.kept_failed else ""
        skipped = f", {self.skipped} unchanged, not read again{kept}" if self.skipped else ""
        stop = " — interrupted; run again with --resume to continue" if self.interrupted else ""
        db = f", {store}" if store is not None else ""
        return f"{self.files + self.skipped} files: {self.ok} ok, {failed}{skipped}, {self.flagged} fields flagged for review → {out}/records.jsonl, {out}/reports.jsonl, {out}/fields.csv{db}{stop}"

    def details(self) -> list[str]:
        """The closing summary beyond the one line: speed, why files were read, formats, templates, years, review load, slowest files."""
        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{k} {n}" for k, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

        out = []
        if self.files:
            rate = self.files / self.seconds if self.seconds > 0 else 0.0
            out.append(f"read {self.files} files in {self.seconds:.1f} s ({rate:.1f} files/s) with {self.workers} worker{'s' if self.workers != 1 else ''} ({self.engine})")
        if self.reasons:
            out.append(f"read because: {counts(self.reasons)}")
        if self.by_format:
            out.append(f"formats: {counts(self.by_format)}")
        if self.by_template:
            out.append(f"templates: {counts(self.by_template)}")
        if self.by_year:
            out.append(f"years: {counts(self.by_year)}")
        if self.ok:
            out.append(f"review load: {self.flagged} fields flagged in {self.flagged_files} of {self.ok} reports ({self.flagged / self.ok:.1f} per report)")
        if self.superseded:
            out.append(f"{self.superseded} older records of files read again were replaced")
        if self.slowest:
            out.append("slowest: " + ", ".join(f"{s} ({t:.1f} s)" for t, s in self.slowest))
        return out

    @property
    def exit_status(self) -> int:
        """0 when every file read in this run was read, 1 when any failed, 130 when interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.errors else 0


class Interrupted(Exception):
    pass


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM set the returned event; the batch stops at its next record boundary.

    The handler only sets a flag, so it cannot interrupt a record's write whatever
    thread the signal was delivered to."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def block_signals() -> None:
    """For helper threads: SIGINT and SIGTERM go to the main thread, which defers them during a write."""
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


def done_sources(out: Path) -> set[str]:
    """Sources already committed in an output folder."""
    path = out / "records.jsonl"
    return {r["source"] for r in read_records(path)} if path.exists() else set()


# ---- the plan: what to read ----------------------------------------------------------------


@dataclass
class Plan:
    todo: list[Item]
    skipped: int = 0
    kept_failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def _content_sha256(path: Path, limits: Limits) -> str | None:
    """The hash a read would record, or None where the read hashes nothing (not a regular file, over the size limit, unreadable)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limits.max_file_bytes:
            return None
        return file_sha256(path)
    except OSError:
        return None


def plan(items: Iterable[Any], committed: dict[str, dict[str, Any]], fingerprint: str, limits: Limits, *, retry_failed: bool = False) -> Plan:
    """Which items to read: every one without a committed record of the same content and fingerprint.

    Only files with a candidate record are hashed here (in a few threads; the read hashes
    the others itself)."""
    result = Plan(todo=[])
    candidates: list[tuple[Item, dict[str, Any]]] = []
    for item in as_items(items):
        prior = committed.get(item.source)
        if prior is None:
            result.todo.append(item)
            result.reasons["new"] += 1
        elif prior.get("fingerprint") != fp.for_item(fingerprint, item.hints):
            result.todo.append(item)
            result.reasons["fingerprint changed"] += 1
        elif prior.get("status") != "ok" and retry_failed:
            result.todo.append(item)
            result.reasons["retry failed"] += 1
        else:
            candidates.append((item, prior))
    with ThreadPoolExecutor(max_workers=4, initializer=block_signals) as pool:
        hashes = list(pool.map(lambda c: c[0].sha256 if c[0].hashed else _content_sha256(c[0].path, limits), candidates))
    for (item, prior), sha in zip(candidates, hashes):
        if sha != prior.get("sha256"):
            result.todo.append(item)
            result.reasons["content changed"] += 1
        else:
            result.skipped += 1
            result.kept_failed += prior.get("status") != "ok"
    return result


# ---- the per-document function and the local engine -------------------------------------------


def read_item(reader: IsolatedReader, item: Item, fingerprint: str | None) -> Record:
    """One document: LOAD … CHECKS in the reader's worker process, then the record, stamped
    with the file's fingerprint and its duplicates.  The same function runs in Ray actors."""
    record = to_record(reader.read(item.path, item.source, hints=item.hints))
    record.also_at = list(item.also_at)
    record.fingerprint = fp.for_item(fingerprint, item.hints) if fingerprint is not None else None
    return record


_DONE = object()


def run_local(todo: list[Item], *, limits: Limits, workers: int, fingerprint: str | None, stop: threading.Event) -> Iterator[tuple[int, Record]]:
    """(index in ``todo``, record) in completion order, read by ``workers`` isolated readers at once."""
    n = max(1, min(workers, len(todo)))
    jobs: queue.SimpleQueue[tuple[int, Item]] = queue.SimpleQueue()
    for job in enumerate(todo):
        jobs.put(job)
    results: queue.SimpleQueue[Any] = queue.SimpleQueue()
    readers = [IsolatedReader(limits) for _ in range(n)]

    def drive(reader: IsolatedReader) -> None:
        block_signals()
        try:
            while not stop.is_set():
                try:
                    index, item = jobs.get_nowait()
                except queue.Empty:
                    return
                record = read_item(reader, item, fingerprint)
                if stop.is_set():
                    return  # aborted in hand: a resumed run reads it
                results.put((index, record))
        except BaseException as exc:  # a bug in the batch itself: end the run with it
            results.put(exc)
        finally:
            results.put(_DONE)

    threads = [threading.Thread(target=drive, args=(r,), name=f"nianbao-reader-{i}", daemon=True) for i, r in enumerate(readers)]
    for t in threads:
        t.start()
    running = n
    try:
        while running:
            try:
                got = results.get(timeout=0.1)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            if got is _DONE:
                running -= 1
            elif isinstance(got, BaseException):
                raise got
            else:
                yield got
                if stop.is_set():
                    return
    finally:
        stop_readers = running > 0
        if stop_readers:
            stop.set()
            for r in readers:
                r.abort()
        for t in threads:
            t.join(10)
        for r in readers:
            r.close()


# ---- the run ----------------------------------------------------------------------------------


def run_rules(
    files: list[Any],
    writer: Writer,
    *,
    limits: Limits | None = None,
    on_record: Callable[[Record], None] | None = None,
    workers: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    fingerprint: str | None = None,
    retry_failed: bool = False,
    on_plan: Callable[[Plan], None] | None = None,
) -> Summary:
    """Plan, read with the engine, write in completion order, compact; file by file, never stopping for a bad one.

    ``files`` are ``nianbao.engines.items.Item``s, ``nianbao.inputs`` items or (path, source) pairs."""
    limits = limits or Limits.from_env()
    if fingerprint is None:
        fingerprint = fp.digest(fp.components(limits))
    committed = latest_records(writer.dir) if writer.resumed else {}
    work = plan(files, committed, fingerprint, limits, retry_failed=retry_failed)
    if on_plan is not None:
        on_plan(work)
    summary = Summary(skipped=work.skipped, kept_failed=work.kept_failed, reasons=work.reasons, workers=workers, engine=engine)
    started = time.perf_counter()
    reread = any(item.source in committed for item in work.todo) or (writer.resumed and committed_count(writer.dir) > len(committed))
    with stop_on_signals() as stop:
        if engine == "ray":
            from .engines.ray_engine import run_ray

            records = run_ray(work.todo, limits=limits, workers=workers, fingerprint=fingerprint, address=ray_address, stop=stop)
        else:
            records = run_local(work.todo, limits=limits, workers=workers, fingerprint=fingerprint, stop=stop)
        def emit(record: Record) -> None:
            write(writer, record)
            summary.add(record)
            if on_record is not None:
                on_record(record)

        window = 4 * max(1, workers)
        waiting: dict[int, Record] = {}
        written: set[int] = set()
        first = 0  # the earliest file not yet written
        try:
            for index, record in records:
                waiting[index] = record
                while waiting and (first in waiting or len(waiting) > window):
                    k = first if first in waiting else min(waiting)
                    emit(waiting.pop(k))
                    written.add(k)
                    while first in written:
                        written.discard(first)
                        first += 1
                if stop.is_set():
                    break
            for k in sorted(waiting):  # finished records are kept, interrupted or not
                emit(waiting.pop(k))
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()
        summary.interrupted = stop.is_set()
        summary.seconds = time.perf_counter() - started
        if reread:
            summary.superseded = writer.compact()
    return summary


def write(writer: Writer, record: Record) -> None:
    """The WRITE stage: a record that cannot be written is replaced by its error, never dropped."""
    try:
        writer.write(record)
    except (TypeError, ValueError) as exc:
        failed = Record(
            source=record.source,
            sha256=record.sha256,
            status="error",
            error=f"{Stage.WRITE.value}: cannot serialise the record: {exc}",
            error_stage=Stage.WRITE.value,
            also_at=record.also_at,
            fingerprint=record.fingerprint,
        )
        writer.write(failed)
        record.status, record.error, record.error_stage = "error", failed.error, failed.error_stage
