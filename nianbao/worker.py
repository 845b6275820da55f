"""Read files in a child process, under the per-file time and memory limits.

A file can hang a C library (a PDF that loops PyMuPDF, a FIFO opened by mistake) or
take all memory (a picture that decodes to gigabytes).  Python cannot stop either
from inside, so the stages up to READ run in a worker process that the batch kills
when a file runs past ``Limits.seconds_per_file`` or its memory past
``Limits.memory_per_file_bytes``.  The worker is then restarted and the batch goes on;
the file gets an error record naming the stage it was in.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
import resource
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from .extract.limits import Limits, describe
from .pipeline import Extraction, Stage, StageError, check, read_file, stage
from .schemas import Report

# How often the parent looks at the worker's resident memory.
_MEMORY_POLL_S = 0.05
# Address space the worker may reserve beyond its memory limit: ONNX Runtime and
# OpenBLAS reserve large virtual areas they never touch.  The resident-memory
# watchdog is the real limit; this only stops a runaway allocation between polls.
_ADDRESS_SPACE_HEADROOM = 4 * 1024**3
_PAGE = os.sysconf("SC_PAGE_SIZE")
# How long a fresh worker may take to import its libraries before the first file starts.
_STARTUP_S = 120.0


@dataclass
class _Job:
    path: str
    source: str
    keep_document: bool
    hints: dict[str, str] | None = None


def apply_hints(ex: Extraction, hints: dict[str, str] | None) -> None:
    """The manifest's columns (agency, region, year, …) over what was read, where
    ``nianbao.manifest.apply_hints`` exists; a failure there is the file's READ error."""
    if not hints or ex.report is None or ex.error is not None:
        return
    try:
        apply = getattr(importlib.import_module("nianbao.manifest"), "apply_hints", None)
    except ImportError:
        return
    if apply is None:
        return
    try:
        with stage(Stage.READ):
            result = apply(ex.report, hints)
            if isinstance(result, Report):
                ex.report = result
    except StageError as exc:
        ex.fail(exc)


def _serve(conn: Connection, limits: Limits, with_checks: bool) -> None:
    """The worker's loop: one job in, progress and one Extraction out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    cap = int(limits.memory_per_file_bytes + _ADDRESS_SPACE_HEADROOM)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    while True:
        try:
            job: _Job | None = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        ex = read_file(Path(job.path), job.source, limits=limits, on_stage=lambda s: conn.send(("stage", s)))
        apply_hints(ex, job.hints)
        if with_checks:
            conn.send(("stage", Stage.CHECKS))
            check(ex)
        if not job.keep_document and ex.doc is not None:
            # The record needs the document's format, encoding and pages, not its pictures.
            ex.doc.blocks = []
        conn.send(("done", ex))


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class IsolatedReader:
    """One worker process; ``read`` one file at a time.  Restarts the worker after a kill."""

    def __init__(self, limits: Limits | None = None, *, with_checks: bool = True) -> None:
        self.limits = limits or Limits.from_env()
        self.with_checks = with_checks
        self._ctx = mp.get_context("spawn")  # a fresh interpreter: no locks or threads inherited
        self._proc: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._aborted = False

    def _start(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(target=_serve, args=(child, self.limits, self.with_checks), daemon=True, name="nianbao-reader")
            self._proc.start()
            child.close()
            self._conn = parent
        return self._conn

    def read(self, path: Path, source: str, *, keep_document: bool = False, hints: dict[str, str] | None = None) -> Extraction:
        """Every stage up to READ (and CHECKS when ``with_checks``) for one file; never raises for a bad input.

        ``hints`` (a manifest's columns) are applied in the worker after READ, before CHECKS."""
        started = time.perf_counter()
        if self._aborted:
            return self._give_up(source, started, Stage.LOAD, "the batch was stopped")
        conn = self._start()
        assert self._proc is not None and self._proc.pid is not None
        conn.send(_Job(os.fsdecode(path), source, keep_document, hints or None))
        current = Stage.LOAD
        # The file's time starts when the worker takes the job: a fresh worker first
        # imports its libraries, which is not the file's fault (but is bounded too).
        deadline = started + self.limits.seconds_per_file + _STARTUP_S
        begun = False
        while True:
            now = time.perf_counter()
            if now >= deadline:
                return self._give_up(source, started, current, f"took longer than {self.limits.seconds_per_file:g} s (the limit is {Limits.env_name('seconds_per_file')})")
            if _rss(self._proc.pid) > self.limits.memory_per_file_bytes:
                limit = describe(self.limits.memory_per_file_bytes, "bytes")
                return self._give_up(source, started, current, f"needed more than {limit} of memory (the limit is {Limits.env_name('memory_per_file_bytes')})")
            try:
                ready = conn.poll(min(_MEMORY_POLL_S, deadline - now))
                if not ready:
                    if not self._proc.is_alive():
                        raise EOFError
                    continue
                kind, payload = conn.recv()
            except (EOFError, OSError):
                self._proc.join(1)
                code = self._proc.exitcode
                how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
                cause = "ran out of memory" if code is not None and code < 0 and -code == signal.SIGKILL else f"the reader process died ({how})"
                return self._give_up(source, started, current, cause)
            if kind == "stage":
                current = payload
                if not begun:
                    begun = True
                    deadline = time.perf_counter() + self.limits.seconds_per_file
                continue
            ex: Extraction = payload
            ex.started = started
            return ex

    def abort(self) -> None:
        """Stop the file in hand now, from another thread: its ``read`` returns an error at
        once and later ones do not start.  The batch that calls this drops those results."""
        self._aborted = True
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.kill()

    def _give_up(self, source: str, started: float, current: Stage, cause: str) -> Extraction:
        self._kill()
        ex = Extraction(source=source, started=started)
        ex.error, ex.error_stage = f"{current.value}: {cause}", current
        return ex

    def _kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._proc.join(2)
        self._kill()

    def __enter__(self) -> IsolatedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
