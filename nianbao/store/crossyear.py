"""Cross-year checks in the results store: judged on current values, kept with their operands,
and flagged on the fields of both years.  No value is changed.

The store's ``checks`` table holds one report's checks (its ``origin`` is ``machine`` or
``recheck`` by a CHECK constraint), so a check across two reports has a table of its own,
added to the file when the checks first run (``CREATE TABLE IF NOT EXISTS``; the schema
version is unchanged, readers of the other tables are unaffected):

``cross_year_checks``: ``id``, ``origin`` (``cross-year``), ``current`` (1 for the latest
run), ``checked_at``, ``grp`` (the agency key of ``nianbao.crossyear.group_key``),
``prev_report_id``/``report_id`` (years y−1 and y, foreign keys to ``reports``),
``prev_year``/``year``, ``name``, ``relation``, ``outcome`` (passed, failed,
not_assessable), ``left``, ``right``, ``operands`` (JSON: ``key@year`` → value or state),
``prev_keys``/``keys`` (JSON lists: the fields of each year a failure flags), ``note``.

A failure adds ``check failed: cross-year <name> <y−1>→<y> (<left> ≠ <right>: <operands>)``
to the standing ``flags`` of each of those fields (so they rank first in the review queue)
and recomputes their ``risk``.  Each run first takes back the flags of the previous one
and marks its rows not current: run it again after a new extract or a review round (a
correction re-runs the report's own checks, which resets that report's flags).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..crossyear import FLAG_PREFIX, ORIGIN, CrossYearCheck, YearReport, cross_year, group_key
from .risk import risk_rank
from .schema import connect, dumps, loads, transaction, utc_now

TABLE = "cross_year_checks"
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id             INTEGER PRIMARY KEY,
    origin         TEXT NOT NULL DEFAULT '{ORIGIN}',
    current        INTEGER NOT NULL DEFAULT 1,
    checked_at     TEXT NOT NULL,
    grp            TEXT NOT NULL,
    prev_report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    report_id      INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    prev_year      INTEGER NOT NULL,
    year           INTEGER NOT NULL,
    name           TEXT NOT NULL,
    relation       TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'not_assessable')),
    "left"         REAL,
    "right"        REAL,
    operands       TEXT NOT NULL,
    prev_keys      TEXT NOT NULL,
    keys           TEXT NOT NULL,
    note           TEXT
);
CREATE INDEX IF NOT EXISTS {TABLE}_current ON {TABLE} (current, outcome)
"""


@dataclass(frozen=True)
class CrossYearRun:
    reports: int  # reports with an agency and a year
    groups: int  # agencies
    pairs: int  # (y−1, y) report pairs judged
    outcomes: dict[str, int]  # passed / failed / not_assessable → count
    flagged_fields: int
    checks: list[CrossYearCheck]

    @property
    def failed(self) -> list[CrossYearCheck]:
        return [c for c in self.checks if c.failed]


def ensure_table(conn: sqlite3.Connection) -> None:
    for statement in DDL.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone() is not None


def year_reports(conn: sqlite3.Connection) -> list[YearReport]:
    """Every readable report with an agency and a year, with its current (corrected) values."""
    values: dict[int, dict[str, float | None]] = {}
    states: dict[int, dict[str, str]] = {}
    sql = "SELECT report_id, key, state, value FROM current_fields WHERE key LIKE 't2.%' OR key LIKE 't3.%' OR key LIKE 'meta.%'"
    for row in conn.execute(sql):
        v = loads(row["value"])
        number = float(v) if row["state"] == "number" and isinstance(v, (int, float)) and not isinstance(v, bool) else None
        values.setdefault(row["report_id"], {})[row["key"]] = number
        states.setdefault(row["report_id"], {})[row["key"]] = row["state"]
        if row["key"] in ("meta.agency", "meta.year", "meta.template") and row["state"] in ("number", "text"):
            states[row["report_id"]][f"={row['key']}"] = str(v)  # the current meta value (a reviewer may have corrected it)
    out = []
    for r in conn.execute("SELECT id, source, agency, year, template FROM reports WHERE status = 'ok' ORDER BY id"):
        s = states.get(r["id"], {})
        agency = s.get("=meta.agency", r["agency"])
        year = s.get("=meta.year", r["year"])
        template = s.get("=meta.template", r["template"])
        try:
            year_n = int(year) if year is not None else None
        except ValueError:
            year_n = None
        if not agency or year_n is None:
            continue
        out.append(YearReport(r["id"], r["source"], agency, year_n, template, values.get(r["id"], {}), s))
    return out


def _clear(conn: sqlite3.Connection) -> None:
    """Take back the flags an earlier run set and retire its rows."""
    conn.execute(f"UPDATE {TABLE} SET current = 0 WHERE current = 1")
    rows = conn.execute("SELECT field_id, method, state, flags FROM current_fields WHERE flags LIKE ?", (f"%{FLAG_PREFIX}%",)).fetchall()
    updates = []
    for row in rows:
        flags = [f for f in loads(row["flags"]) if not f.startswith(FLAG_PREFIX)]
        updates.append((dumps(flags), risk_rank(row["method"], row["state"], flags), row["field_id"]))
    conn.executemany("UPDATE fields SET flags = ?, risk = ? WHERE id = ?", updates)


def _flag(conn: sqlite3.Connection, failed: list[CrossYearCheck]) -> int:
    reasons: dict[tuple[int, str], list[str]] = {}
    for c in failed:
        reason = c.reason()
        for report_id, keys in ((c.prev_id, c.prev_keys), (c.cur_id, c.cur_keys)):
            for key in keys:
                reasons.setdefault((report_id, key), []).append(reason)
    updates = []
    for (report_id, key), new in reasons.items():
        row = conn.execute("SELECT field_id, method, state, flags FROM current_fields WHERE report_id = ? AND key = ?", (report_id, key)).fetchone()
        if row is None:
            continue
        flags = [*loads(row["flags"]), *(r for r in new if r not in loads(row["flags"]))]
        updates.append((dumps(flags), risk_rank(row["method"], row["state"], flags), row["field_id"]))
    conn.executemany("UPDATE fields SET flags = ?, risk = ? WHERE id = ?", updates)
    return len(updates)


def run_cross_year(conn: sqlite3.Connection, *, group: Callable[[str, str | None], str] = group_key) -> CrossYearRun:
    """Judge the store's reports across years and record the results (replacing an earlier run's)."""
    reports = year_reports(conn)
    checks = cross_year(reports, group=group)
    at = utc_now()
    with transaction(conn):
        ensure_table(conn)
        _clear(conn)
        conn.executemany(
            f'INSERT INTO {TABLE} (origin, current, checked_at, grp, prev_report_id, report_id, prev_year, year, name, relation, outcome, "left", "right", operands, prev_keys, keys, note) '
            "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (ORIGIN, at, c.group, c.prev_id, c.cur_id, c.prev_year, c.cur_year, c.name, c.relation, c.outcome, c.left, c.right, dumps(c.operands), dumps(c.prev_keys), dumps(c.cur_keys), c.note)
                for c in checks
            ],
        )
        flagged = _flag(conn, [c for c in checks if c.failed])
    pairs = len({(c.prev_id, c.cur_id) for c in checks})
    return CrossYearRun(len(reports), len({group(r.agency, r.region) for r in reports}), pairs, dict(Counter(c.outcome for c in checks)), flagged, checks)


def run_on_file(path: Path) -> CrossYearRun:
    conn = connect(path)
    try:
        return run_cross_year(conn)
    finally:
        conn.close()


def failures_by_report(conn: sqlite3.Connection) -> Counter[int]:
    """Current failed cross-year checks per report of the later year y (a failure counts once)."""
    out: Counter[int] = Counter()
    if not has_table(conn):
        return out
    for row in conn.execute(f"SELECT report_id, count(*) AS n FROM {TABLE} WHERE current = 1 AND outcome = 'failed' GROUP BY report_id"):
        out[row["report_id"]] = row["n"]
    return out
