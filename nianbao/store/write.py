"""Writing a run into the store, record by record, in step with the output files.

The Writer commits a record to the three files first and to the store right after,
both while SIGINT and SIGTERM wait.  A ``kill -9`` between the two leaves a record the
files have and the store lacks; a resumed run puts such records into the store from
the committed ``reports.jsonl``, and drops any store report the files do not have
(unless a reviewer has corrected it), so the store never holds a report twice and
never misses a committed one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..outputs import FILES, OutputExists, _committed_sizes
from ..pipeline import Record
from .review import recheck_report
from .rows import CHECK_COLUMNS, FIELD_COLUMNS, PreparedRecord, prepare
from .schema import connect, nianbao_version, transaction, utc_now

_REPORT_COLUMNS = ("source", "sha256", "status", "error", "error_stage", "format", "encoding", "pages", "seconds", "template", "year", "agency", "report_schema", "llm")

# "left" and "right" are SQL keywords: every check column is quoted.
_CHECK_NAMES = ", ".join(f'"{c}"' for c in CHECK_COLUMNS)


def remove_store(path: Path) -> None:
    """Delete a store file with its WAL and shared-memory files."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def put(conn: sqlite3.Connection, prepared: PreparedRecord, run_id: int | None, at: str) -> int:
    """Insert a report with its fields and checks, or replace the machine's rows of one the
    store already holds under that source (its corrections and review state stay)."""
    row = prepared.report
    with transaction(conn):
        found = conn.execute("SELECT id FROM reports WHERE source = ?", (row["source"],)).fetchone()
        if found is None:
            names = (*_REPORT_COLUMNS, "run_id", "created_at", "updated_at")
            cur = conn.execute(f"INSERT INTO reports ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", (*(row[c] for c in _REPORT_COLUMNS), run_id, at, at))
            report_id = int(cur.lastrowid or 0)
        else:
            report_id = int(found["id"])
            sets = ", ".join(f"{c} = ?" for c in (*_REPORT_COLUMNS, "run_id", "updated_at"))
            conn.execute(f"UPDATE reports SET {sets} WHERE id = ?", (*(row[c] for c in _REPORT_COLUMNS), run_id, at, report_id))
            conn.execute("DELETE FROM fields WHERE report_id = ?", (report_id,))
            conn.execute("DELETE FROM checks WHERE report_id = ?", (report_id,))
        conn.executemany(
            f"INSERT INTO fields (report_id, {', '.join(FIELD_COLUMNS)}) VALUES (?, {', '.join('?' * len(FIELD_COLUMNS))})",
            [(report_id, *f) for f in prepared.fields],
        )
        conn.executemany(
            f"INSERT INTO checks (report_id, {_CHECK_NAMES}) VALUES (?, {', '.join('?' * len(CHECK_COLUMNS))})",
            [(report_id, *c) for c in prepared.checks],
        )
        if found is not None and conn.execute("SELECT 1 FROM corrections WHERE report_id = ? LIMIT 1", (report_id,)).fetchone():
            # Read again under a reviewer's corrections: its checks are judged on the current values.
            recheck_report(conn, report_id, at)
    return report_id


class RunStore:
    """The store as one run writes it: opened with the Writer's mode, closed with it."""

    def __init__(self, path: Path, mode: str, out_dir: Path) -> None:
        if mode == "overwrite":
            remove_store(path)
        self.path = path
        self.conn = connect(path, create=True)
        try:
            held = self.conn.execute("SELECT count(*) FROM reports").fetchone()[0]
            if mode == "new" and held:
                raise OutputExists(f"{path} already holds {held} reports of an earlier run; use --resume to continue it, --overwrite to replace it, or --store to choose another file")
            with transaction(self.conn):
                cur = self.conn.execute("INSERT INTO runs (started_at, mode, out_dir, nianbao_version) VALUES (?, ?, ?, ?)", (utc_now(), mode, str(out_dir), nianbao_version()))
            self.run_id = int(cur.lastrowid or 0)
            if mode == "resume":
                self.reconcile(out_dir)
        except BaseException:
            self.conn.close()
            raise

    def prepare(self, record: Record) -> PreparedRecord:
        return prepare(record, utc_now())

    def put(self, prepared: PreparedRecord) -> int:
        return put(self.conn, prepared, self.run_id, utc_now())

    def reconcile(self, out_dir: Path) -> tuple[int, int]:
        """Make the store hold exactly the committed records of ``out_dir``: (added, dropped)."""
        committed = _committed_lines(out_dir, "records.jsonl")
        sources = [json.loads(line)["source"] for line in committed]
        held = {r["source"]: r["id"] for r in self.conn.execute("SELECT id, source FROM reports")}
        missing = {i for i, s in enumerate(sources) if s not in held}
        added = 0
        if missing:
            for i, line in enumerate(_committed_lines(out_dir, "reports.jsonl")):
                if i in missing:
                    self.put(self.prepare(Record.model_validate(json.loads(line))))
                    added += 1
        keep = set(sources)
        extra = [rid for s, rid in held.items() if s not in keep]
        dropped = 0
        with transaction(self.conn):
            for rid in extra:
                # A report a reviewer has worked on is kept: the audit trail is never dropped.
                if self.conn.execute("SELECT 1 FROM corrections WHERE report_id = ? LIMIT 1", (rid,)).fetchone() is None:
                    self.conn.execute("DELETE FROM reports WHERE id = ?", (rid,))
                    dropped += 1
        return added, dropped

    def close(self) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (utc_now(), self.run_id))
        self.conn.close()


def _committed_lines(out_dir: Path, name: str) -> Iterator[bytes]:
    """The committed lines of one output file (records.jsonl or reports.jsonl), one at a time:
    reports.jsonl of a large run is not held whole."""
    path = out_dir / name
    if not path.exists():
        return
    sizes = _committed_sizes(out_dir)
    budget = sizes[FILES.index(name)] if sizes is not None else path.stat().st_size
    with path.open("rb") as f:
        for line in f:
            if budget < len(line):
                return
            budget -= len(line)
            if line.strip():
                yield line
