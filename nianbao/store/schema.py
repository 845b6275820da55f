"""The results store's tables, its version, and how a connection to it is opened.

The schema is plain tables of text, numbers and JSON text (no blobs), so ``sqlite3``,
``sqlite-utils`` and Datasette read it as it is.  ``PRAGMA user_version`` carries
``STORE_SCHEMA_VERSION``; the ``meta`` table repeats it beside the nianbao version
that created the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

STORE_SCHEMA_VERSION = 1
STORE_FILE = "nianbao.db"
REVIEW_STATES = ("unreviewed", "in_review", "done")
# A reader (the review app) and a writer (a running extract) may meet on one file:
# wait this long for the other's lock rather than failing at once.
BUSY_TIMEOUT_MS = 10_000

DDL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per `nianbao extract` that wrote into the store (a resumed run is a run of its own).
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    mode            TEXT NOT NULL,          -- new, overwrite or resume
    out_dir         TEXT,
    nianbao_version TEXT NOT NULL
);

CREATE TABLE reviewers (
    name       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

-- One row per input file, ok or not.
CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER REFERENCES runs(id),
    source        TEXT NOT NULL UNIQUE,     -- the path as given to extract (records.jsonl `source`)
    sha256        TEXT,
    status        TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error         TEXT,
    error_stage   TEXT,
    format        TEXT,
    encoding      TEXT,
    pages         INTEGER,
    seconds       REAL,
    template      TEXT,                     -- meta.template as read: 2019 or 2021
    year          INTEGER,
    agency        TEXT,
    report_schema TEXT,                     -- the Report model's schema_version
    llm           TEXT,                     -- JSON: model, prompts, calls, tokens, cost (LLM runs)
    review_state  TEXT NOT NULL DEFAULT 'unreviewed' CHECK (review_state IN ('unreviewed', 'in_review', 'done')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- One row per flat key of fields.md, as the machine read it.  Never changed by a review:
-- corrections go to `corrections`; only `flags` and `risk` follow the re-run checks.
CREATE TABLE fields (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,           -- template order of the key
    key         TEXT NOT NULL,
    state       TEXT NOT NULL,              -- number, text, blank, dash, not_found
    value       TEXT,                       -- JSON (11, 62.5, "2021", "某某局"); NULL for no value
    raw         TEXT,
    method      TEXT,
    confidence  REAL NOT NULL,
    file        TEXT,                       -- provenance
    page        INTEGER,
    bbox        TEXT,                       -- JSON [x0, y0, x1, y1]
    span_start  INTEGER,
    span_end    INTEGER,
    xpath       TEXT,
    image       TEXT,
    table_index INTEGER,
    row_index   INTEGER,
    col_index   INTEGER,
    review      TEXT NOT NULL DEFAULT '[]', -- JSON list: the machine's review reasons
    flags       TEXT NOT NULL DEFAULT '[]', -- JSON list: the reasons that stand now (after re-run checks)
    risk        INTEGER,                    -- queue rank of `flags` (1 riskiest); NULL when not flagged
    UNIQUE (report_id, key)
);
CREATE INDEX fields_risk ON fields (risk, confidence) WHERE risk IS NOT NULL;

-- Every check ever judged on a report: the machine's (origin machine) and each re-run
-- after a correction (origin recheck).  `current` marks the latest set.
CREATE TABLE checks (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    origin     TEXT NOT NULL CHECK (origin IN ('machine', 'recheck')),
    current    INTEGER NOT NULL DEFAULT 1,
    checked_at TEXT NOT NULL,
    name       TEXT NOT NULL,
    relation   TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'not_assessable')),
    "left"     REAL,
    "right"    REAL,
    operands   TEXT NOT NULL,               -- JSON object: key -> value or state
    keys       TEXT NOT NULL,               -- JSON list: the keys flagged when it fails
    note       TEXT
);
CREATE INDEX checks_report ON checks (report_id, current);

-- The audit trail.  A field's current value is its latest correction, else the machine's.
CREATE TABLE corrections (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    machine_state TEXT NOT NULL,
    machine_value TEXT,                     -- JSON, as in fields.value
    state         TEXT NOT NULL,
    value         TEXT,                     -- JSON
    typed         TEXT,                     -- what the reviewer typed, as typed
    reviewer      TEXT NOT NULL REFERENCES reviewers(name),
    at            TEXT NOT NULL,            -- UTC, ISO 8601
    why           TEXT NOT NULL DEFAULT '',
    via           TEXT NOT NULL DEFAULT 'api', -- api, review (the web app), label-studio
    ref           TEXT                      -- an outside reference, e.g. a Label Studio annotation
);
CREATE INDEX corrections_field ON corrections (report_id, key, id);

-- Every change of a report's review state, with who, when and why.
CREATE TABLE review_log (
    id         INTEGER PRIMARY KEY,
    report_id  INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    reviewer   TEXT NOT NULL REFERENCES reviewers(name),
    at         TEXT NOT NULL,
    why        TEXT NOT NULL DEFAULT ''
);

-- Each field with its current value: the latest correction, else the machine's.
CREATE VIEW current_fields AS
SELECT
    f.id AS field_id, f.report_id, r.source, r.review_state, f.position, f.key,
    COALESCE(c.state, f.state) AS state,
    CASE WHEN c.id IS NULL THEN f.value ELSE c.value END AS value,
    CASE WHEN c.id IS NULL OR (c.state = f.state AND c.value IS f.value) THEN f.method ELSE 'human' END AS method,
    CASE WHEN c.id IS NULL THEN f.confidence ELSE 1.0 END AS confidence,
    f.raw, f.state AS machine_state, f.value AS machine_value, f.method AS machine_method,
    c.id AS correction_id, c.reviewer, c.at AS corrected_at, c.why,
    f.file, f.page, f.bbox, f.span_start, f.span_end, f.xpath, f.image, f.table_index, f.row_index, f.col_index,
    f.review, f.flags, f.risk
FROM fields f
JOIN reports r ON r.id = f.report_id
LEFT JOIN corrections c ON c.id = (SELECT max(id) FROM corrections WHERE report_id = f.report_id AND key = f.key);
"""


class StoreError(Exception):
    """The store file cannot be used as asked (missing, of another version, a report not in it)."""


def nianbao_version() -> str:
    try:
        return metadata.version("nianbao")
    except metadata.PackageNotFoundError:
        return "unknown"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str | None:
    """A value as JSON text; None (no value) stays SQL NULL."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def connect(path: Path, *, create: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open the store (creating it when asked), checked against this version of the schema."""
    if not create and not path.exists():
        raise StoreError(f"{path}: no such results store (write one with `nianbao extract … --out DIR`)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: every write goes through ``transaction`` so its boundaries are explicit.
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=check_same_thread)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        # WAL: readers go on while a run writes, and a killed writer leaves the last commit whole.
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL under WAL stays consistent after a crash; it may lose the last commits,
        # which a resumed run writes again from the committed reports.jsonl.
        conn.execute("PRAGMA synchronous = NORMAL")
        _check_version(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == STORE_SCHEMA_VERSION:
        return
    if version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables:
            raise StoreError(f"{path}: an SQLite file, but not a nianbao results store")
        _create(conn)
        return
    raise StoreError(f"{path}: results store schema {version}; this nianbao ({nianbao_version()}) reads schema {STORE_SCHEMA_VERSION}")


def _create(conn: sqlite3.Connection) -> None:
    """Lay out a fresh store in one transaction (``executescript`` would commit on its own)."""
    with transaction(conn):
        for statement in DDL.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("schema_version", str(STORE_SCHEMA_VERSION)), ("nianbao_version", nianbao_version()), ("created_at", utc_now())])
        conn.execute(f"PRAGMA user_version = {STORE_SCHEMA_VERSION}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it lands or none does (a killed run leaves the last commit)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
