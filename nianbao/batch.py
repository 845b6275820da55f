"""A batch of files through the pipeline: isolated reading, the optional LLM stage, checks, outputs.

Rules-only and LLM runs share this loop; the LLM stage is one more step between
READ and CHECKS (see ``nianbao.llm_batch``).  Files already committed in a resumed
output folder are skipped.  The loop never stops for a bad file; it stops early
only when the user interrupts it, after the record in hand is written whole.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from .extract.limits import Limits
from .outputs import Writer, read_records
from .pipeline import Record, Stage, to_record
from .worker import IsolatedReader


@dataclass
class Summary:
    """What a batch did: the closing line and the exit status come from here."""

    files: int = 0
    ok: int = 0
    errors: int = 0
    skipped: int = 0  # already in the output folder (resume)
    flagged: int = 0
    by_stage: Counter[str] = field(default_factory=Counter)
    interrupted: bool = False

    def add(self, record: Record) -> None:
        self.files += 1
        if record.status == "ok":
            self.ok += 1
            self.flagged += len(record.review)
        else:
            self.errors += 1
            self.by_stage[record.error_stage or "load"] += 1

    def line(self, out: Path, store: Path | None = None) -> str:
        failed = f"{self.errors} failed" + (f" ({', '.join(f'{n} in {s}' for s, n in self.by_stage.most_common())})" if self.errors else "")
        skipped = f", {self.skipped} already done" if self.skipped else ""
        stop = " — interrupted; run again with --resume to continue" if self.interrupted else ""
        db = f", {store}" if store is not None else ""
        return f"{self.files + self.skipped} files: {self.ok} ok, {failed}{skipped}, {self.flagged} fields flagged for review → {out}/records.jsonl, {out}/reports.jsonl, {out}/fields.csv{db}{stop}"

    @property
    def exit_status(self) -> int:
        """0 when every file was read, 1 when any failed, 130 when interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.errors else 0


class Interrupted(Exception):
    pass


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM end the batch between files, never inside a record's write."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def done_sources(out: Path) -> set[str]:
    """Sources already committed in an output folder (for --resume)."""
    path = out / "records.jsonl"
    return {r["source"] for r in read_records(path)} if path.exists() else set()


def run_rules(
    files: list[tuple[Path, str]],
    writer: Writer,
    *,
    limits: Limits | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> Summary:
    """LOAD … READ and CHECKS in a worker process, then WRITE, file by file."""
    summary = Summary()
    done = done_sources(writer.dir) if writer.resumed else set()
    try:
        with stop_on_signals(), IsolatedReader(limits) as reader:
            for path, source in files:
                if source in done:
                    summary.skipped += 1
                    continue
                record = to_record(reader.read(path, source))
                write(writer, record)
                summary.add(record)
                if on_record is not None:
                    on_record(record)
    except Interrupted:
        summary.interrupted = True
    return summary


def write(writer: Writer, record: Record) -> None:
    """The WRITE stage: a record that cannot be written is replaced by its error, never dropped."""
    try:
        writer.write(record)
    except (TypeError, ValueError) as exc:
        failed = Record(source=record.source, sha256=record.sha256, status="error", error=f"{Stage.WRITE.value}: cannot serialise the record: {exc}", error_stage=Stage.WRITE.value)
        writer.write(failed)
        record.status, record.error, record.error_stage = "error", failed.error, failed.error_stage
