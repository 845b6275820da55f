"""The review side of the store: the queue, a report with its fields and checks, corrections,
re-run checks and review states.  This is the API the review web app calls.

Machine values are never overwritten.  A correction is a row of ``corrections`` that
keeps the machine's value and state beside the new ones, with who, when and why; a
field's current value is its latest correction, else the machine's.  After every
correction the report's checks are judged again on the current values and stored as
its current check set; each field's standing review reasons (``flags``) and queue
rank (``risk``) follow from them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import checks as rules
from ..extract.document import Document
from ..schemas import CheckResult, Outcome, Report, State
from .risk import CHECK_FAILED, RISK_LABELS, risk_rank
from .rows import check_row, rebuild_report
from .schema import REVIEW_STATES, StoreError, connect, dumps, loads, transaction, utc_now
from .validate import parse

NARRATIVE_REVIEW_CHECK = "narrative 行政复议 count = t4.review.total"
MAX_REVIEWER = 100


@dataclass(frozen=True)
class FieldView:
    """One field as it stands: current value and state, the machine's beside them, where it came from."""

    field_id: int
    report_id: int
    source: str
    key: str
    position: int
    state: str
    value: Any
    method: str | None  # "human" where a correction changed it
    confidence: float
    raw: str | None
    machine_state: str
    machine_value: Any
    machine_method: str | None
    corrected: bool  # a reviewer has given a value (changed or confirmed)
    reviewer: str | None
    corrected_at: str | None
    why: str | None
    file: str | None
    page: int | None
    bbox: tuple[float, float, float, float] | None
    span: tuple[int, int] | None
    xpath: str | None
    image: str | None
    review: list[str]  # the machine's reasons
    flags: list[str]  # the reasons that stand now
    risk: int | None
    review_state: str

    @property
    def risk_label(self) -> str | None:
        return RISK_LABELS.get(self.risk) if self.risk is not None else None

    @property
    def changed(self) -> bool:
        """The current value differs from the machine's."""
        return self.corrected and (self.state, self.value) != (self.machine_state, self.machine_value)


@dataclass(frozen=True)
class CheckView:
    id: int
    name: str
    relation: str
    outcome: str
    left: float | None
    right: float | None
    operands: dict[str, Any]
    keys: list[str]
    note: str | None
    origin: str  # machine or recheck
    checked_at: str


@dataclass(frozen=True)
class ReportSummary:
    id: int
    source: str
    status: str
    error: str | None
    template: str | None
    year: int | None
    agency: str | None
    review_state: str
    queued: int  # flagged fields not yet corrected
    corrections: int


@dataclass(frozen=True)
class ReportView:
    id: int
    source: str
    sha256: str | None
    status: str
    error: str | None
    error_stage: str | None
    format: str | None
    encoding: str | None
    pages: int | None
    template: str | None
    year: int | None
    agency: str | None
    review_state: str
    fields: list[FieldView]
    checks: list[CheckView]  # the current set

    def field(self, key: str) -> FieldView:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def failed(self) -> list[CheckView]:
        return [c for c in self.checks if c.outcome == Outcome.FAILED.value]


@dataclass(frozen=True)
class Correction:
    id: int
    report_id: int
    key: str
    machine_state: str
    machine_value: Any
    state: str
    value: Any
    typed: str | None
    reviewer: str
    at: str
    why: str
    via: str
    ref: str | None


@dataclass(frozen=True)
class CorrectionResult:
    """What a correction did: the audit row, and which failed checks it cleared or caused."""

    correction: Correction
    cleared: list[str]  # checks failed before, not now
    failing: list[str]  # checks failed now
    new_failures: list[str]  # failed now, not before
    checks: list[CheckView] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewEvent:
    report_id: int
    from_state: str
    to_state: str
    reviewer: str
    at: str
    why: str


CROSS_YEAR_FAILED = CHECK_FAILED + "cross-year "


def _field(row: sqlite3.Row) -> FieldView:
    bbox = loads(row["bbox"])
    return FieldView(
        field_id=row["field_id"], report_id=row["report_id"], source=row["source"], key=row["key"], position=row["position"],
        state=row["state"], value=loads(row["value"]), method=row["method"], confidence=row["confidence"], raw=row["raw"],
        machine_state=row["machine_state"], machine_value=loads(row["machine_value"]), machine_method=row["machine_method"],
        corrected=row["correction_id"] is not None, reviewer=row["reviewer"], corrected_at=row["corrected_at"], why=row["why"],
        file=row["file"], page=row["page"], bbox=tuple(bbox) if bbox else None,
        span=(row["span_start"], row["span_end"]) if row["span_start"] is not None else None,
        xpath=row["xpath"], image=row["image"], review=loads(row["review"]), flags=loads(row["flags"]), risk=row["risk"],
        review_state=row["review_state"],
    )  # fmt: skip


def _check(row: sqlite3.Row) -> CheckView:
    return CheckView(row["id"], row["name"], row["relation"], row["outcome"], row["left"], row["right"], loads(row["operands"]), loads(row["keys"]), row["note"], row["origin"], row["checked_at"])


def _correction(row: sqlite3.Row) -> Correction:
    return Correction(
        row["id"], row["report_id"], row["key"], row["machine_state"], loads(row["machine_value"]), row["state"], loads(row["value"]),
        row["typed"], row["reviewer"], row["at"], row["why"], row["via"], row["ref"],
    )  # fmt: skip


class ResultsStore:
    """A results store opened for review (and for the exports that read it).

    One connection, used by one thread at a time: a web app opens one per request (it
    is cheap), or passes ``check_same_thread=False`` and serialises calls itself.
    """

    def __init__(self, path: Path, *, check_same_thread: bool = True) -> None:
        self.path = path
        self.conn = connect(path, check_same_thread=check_same_thread)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading -----------------------------------------------------------

    def reports(self, review_state: str | None = None) -> list[ReportSummary]:
        where = "WHERE r.review_state = ?" if review_state else ""
        rows = self.conn.execute(
            f"""SELECT r.*,
                   (SELECT count(*) FROM current_fields f WHERE f.report_id = r.id AND f.risk IS NOT NULL AND f.correction_id IS NULL) AS queued,
                   (SELECT count(*) FROM corrections c WHERE c.report_id = r.id) AS n_corrections
                FROM reports r {where} ORDER BY r.id""",
            (review_state,) if review_state else (),
        ).fetchall()
        return [ReportSummary(r["id"], r["source"], r["status"], r["error"], r["template"], r["year"], r["agency"], r["review_state"], r["queued"], r["n_corrections"]) for r in rows]

    def find(self, source: str | int) -> int:
        """A report's id from its id, its source as stored, or its file name when that is unique."""
        if isinstance(source, int) or (isinstance(source, str) and source.isdigit() and not self._by_source(source)):
            row = self.conn.execute("SELECT id FROM reports WHERE id = ?", (int(source),)).fetchone()
            if row is None:
                raise StoreError(f"no report {source} in {self.path}")
            return int(row["id"])
        found = self._by_source(source)
        if found:
            return found
        name = Path(source).name
        matches = [r["id"] for r in self.conn.execute("SELECT id, source FROM reports") if Path(r["source"]).name == name or Path(r["source"]).stem == name]
        if len(matches) == 1:
            return int(matches[0])
        if matches:
            raise StoreError(f"{source!r} names {len(matches)} reports in {self.path}; give the source as stored")
        raise StoreError(f"no report {source!r} in {self.path}")

    def _by_source(self, source: str) -> int | None:
        row = self.conn.execute("SELECT id FROM reports WHERE source = ?", (source,)).fetchone()
        return int(row["id"]) if row else None

    def report(self, report_id: int) -> ReportView:
        r = self.conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        if r is None:
            raise StoreError(f"no report {report_id} in {self.path}")
        fields = [_field(f) for f in self.conn.execute("SELECT * FROM current_fields WHERE report_id = ? ORDER BY position", (report_id,))]
        return ReportView(
            r["id"], r["source"], r["sha256"], r["status"], r["error"], r["error_stage"], r["format"], r["encoding"], r["pages"],
            r["template"], r["year"], r["agency"], r["review_state"], fields, self.checks(report_id),
        )  # fmt: skip

    def checks(self, report_id: int, *, history: bool = False) -> list[CheckView]:
        """The report's current checks (``history``: every set ever judged, oldest first)."""
        where = "" if history else "AND current = 1"
        return [_check(c) for c in self.conn.execute(f"SELECT * FROM checks WHERE report_id = ? {where} ORDER BY id", (report_id,))]

    def queue(self, *, report_id: int | None = None, limit: int | None = None, offset: int = 0, include_done: bool = False) -> list[FieldView]:
        """Flagged fields no reviewer has answered yet, riskiest first (see ``nianbao.store.risk``),
        lower confidence first within a rank.  Reports marked done are left out unless asked."""
        where = ["risk IS NOT NULL", "correction_id IS NULL"]
        args: list[Any] = []
        if report_id is not None:
            where.append("report_id = ?")
            args.append(report_id)
        if not include_done:
            where.append("review_state != 'done'")
        sql = f"SELECT * FROM current_fields WHERE {' AND '.join(where)} ORDER BY risk, confidence, report_id, position LIMIT ? OFFSET ?"
        return [_field(r) for r in self.conn.execute(sql, (*args, -1 if limit is None else limit, offset))]

    def corrections(self, report_id: int | None = None, key: str | None = None) -> list[Correction]:
        """The audit trail, oldest first."""
        where: list[str] = []
        args: list[Any] = []
        if report_id is not None:
            where.append("report_id = ?")
            args.append(report_id)
        if key is not None:
            where.append("key = ?")
            args.append(key)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return [_correction(r) for r in self.conn.execute(f"SELECT * FROM corrections {clause} ORDER BY id", args)]

    def review_log(self, report_id: int) -> list[ReviewEvent]:
        rows = self.conn.execute("SELECT * FROM review_log WHERE report_id = ? ORDER BY id", (report_id,))
        return [ReviewEvent(r["report_id"], r["from_state"], r["to_state"], r["reviewer"], r["at"], r["why"]) for r in rows]

    def current_report(self, report_id: int) -> Report:
        """The report rebuilt from the store with its current (corrected) values; no review reasons."""
        rows = self.conn.execute("SELECT * FROM current_fields WHERE report_id = ? ORDER BY position", (report_id,)).fetchall()
        if not rows:
            raise StoreError(f"report {report_id} has no fields (its file could not be read)")
        return rebuild_report(rows)

    # ---- writing -----------------------------------------------------------

    def correct(self, report_id: int, key: str, value: object, *, reviewer: str, state: str | State | None = None, why: str = "", via: str = "api", ref: str | None = None) -> CorrectionResult:
        """Set a field's value (``value`` as typed, or a number; ``state`` blank, dash or not_found
        for a cell without a number).  Refuses impossible input with CorrectionError.  Re-runs the
        report's checks on the current values and says what the correction cleared."""
        parsed = parse(key, value, state)
        name = _reviewer(reviewer)
        with transaction(self.conn):
            row = self.conn.execute("SELECT * FROM fields WHERE report_id = ? AND key = ?", (report_id, key)).fetchone()
            if row is None:
                raise StoreError(f"report {report_id} has no field {key!r}")
            before = self._failed_names(report_id)
            at = utc_now()
            self.conn.execute("INSERT OR IGNORE INTO reviewers (name, created_at) VALUES (?, ?)", (name, at))
            cur = self.conn.execute(
                "INSERT INTO corrections (report_id, key, machine_state, machine_value, state, value, typed, reviewer, at, why, via, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (report_id, key, row["state"], row["value"], parsed.state.value, dumps(parsed.value), parsed.typed, name, at, why, via, ref),
            )
            checks = self._recheck(report_id, at)
            self._move(report_id, "unreviewed", "in_review", name, at, "first correction")
            correction = _correction(self.conn.execute("SELECT * FROM corrections WHERE id = ?", (cur.lastrowid,)).fetchone())
        after = [c.name for c in checks if c.outcome == Outcome.FAILED.value]
        return CorrectionResult(correction, [n for n in before if n not in after], after, [n for n in after if n not in before], checks)

    def accept(self, report_id: int, key: str, *, reviewer: str, why: str = "", via: str = "api") -> CorrectionResult:
        """Confirm the machine's reading: a correction that keeps its value, so the field leaves the queue."""
        row = self.conn.execute("SELECT state, value FROM current_fields WHERE report_id = ? AND key = ?", (report_id, key)).fetchone()
        if row is None:
            raise StoreError(f"report {report_id} has no field {key!r}")
        value = loads(row["value"])
        return self.correct(report_id, key, "" if value is None else value, state=row["state"] if value is None else None, reviewer=reviewer, why=why or "accepted as read", via=via)

    def recheck(self, report_id: int) -> list[CheckView]:
        """Judge the report's checks again on its current values and store them as the current set."""
        with transaction(self.conn):
            return self._recheck(report_id, utc_now())

    def set_review_state(self, report_id: int, state: str, *, reviewer: str, why: str = "") -> None:
        """Move a report to unreviewed, in_review or done; the change is logged with who, when, why."""
        if state not in REVIEW_STATES:
            raise StoreError(f"review state {state!r}: use one of {', '.join(REVIEW_STATES)}")
        name = _reviewer(reviewer)
        with transaction(self.conn):
            row = self.conn.execute("SELECT review_state FROM reports WHERE id = ?", (report_id,)).fetchone()
            if row is None:
                raise StoreError(f"no report {report_id} in {self.path}")
            at = utc_now()
            self.conn.execute("INSERT OR IGNORE INTO reviewers (name, created_at) VALUES (?, ?)", (name, at))
            self._move(report_id, row["review_state"], state, name, at, why)

    # ---- inside a transaction ------------------------------------------------

    def _move(self, report_id: int, from_state: str, to_state: str, reviewer: str, at: str, why: str) -> None:
        cur = self.conn.execute("UPDATE reports SET review_state = ?, updated_at = ? WHERE id = ? AND review_state = ?", (to_state, at, report_id, from_state))
        if cur.rowcount:
            self.conn.execute("INSERT INTO review_log (report_id, from_state, to_state, reviewer, at, why) VALUES (?, ?, ?, ?, ?, ?)", (report_id, from_state, to_state, reviewer, at, why))

    def _failed_names(self, report_id: int) -> list[str]:
        return [r["name"] for r in self.conn.execute("SELECT name FROM checks WHERE report_id = ? AND current = 1 AND outcome = 'failed' ORDER BY id", (report_id,))]

    def _recheck(self, report_id: int, at: str) -> list[CheckView]:
        recheck_report(self.conn, report_id, at)
        return self.checks(report_id)


def recheck_report(conn: sqlite3.Connection, report_id: int, at: str) -> None:
    """Inside a transaction: judge a report's checks on its current values, store them as its
    current set, and bring each field's standing reasons and queue rank up to date."""
    rows = conn.execute("SELECT * FROM current_fields WHERE report_id = ? ORDER BY position", (report_id,)).fetchall()
    if not rows:
        return
    report = rebuild_report(rows)
    results = _judge(report, _narrative_phrase(conn, report_id), rows[0]["source"])
    rules.apply(report, results)
    conn.execute("UPDATE checks SET current = 0 WHERE report_id = ?", (report_id,))
    conn.executemany(
        'INSERT INTO checks (report_id, origin, current, checked_at, name, relation, outcome, "left", "right", operands, keys, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [(report_id, *check_row(c, "recheck", at)) for c in results],
    )
    updates = []
    for row in rows:
        corrected = row["correction_id"] is not None
        # A reviewer's value stands for itself: the machine's doubts about its reading go.
        machine = [] if corrected else [r for r in loads(row["review"]) if not r.startswith(CHECK_FAILED)]
        failed = [r for r in _value_review(report, row["key"]) if r.startswith(CHECK_FAILED)]
        # Cross-year failures come from another report's values too: they stand until
        # ``nianbao crossyear`` judges the pair again.
        cross = [f for f in loads(row["flags"]) if f.startswith(CROSS_YEAR_FAILED)]
        flags = [*machine, *failed, *cross]
        updates.append((dumps(flags), risk_rank(row["method"], row["state"], flags), row["field_id"]))
    conn.executemany("UPDATE fields SET flags = ?, risk = ? WHERE id = ?", updates)


def _narrative_phrase(conn: sqlite3.Connection, report_id: int) -> str:
    """The narrative's 行政复议 statement the machine judged (the store keeps no document text)."""
    row = conn.execute("SELECT operands FROM checks WHERE report_id = ? AND origin = 'machine' AND name = ? LIMIT 1", (report_id, NARRATIVE_REVIEW_CHECK)).fetchone()
    phrase = loads(row["operands"]).get("narrative") if row else None
    return phrase if isinstance(phrase, str) else ""


def _judge(report: Report, narrative: str, source: str) -> list[CheckResult]:
    """The checks of ``nianbao.checks`` on a rebuilt report; the narrative one reads the stored statement."""
    doc = Document(source=source, format="txt", text=narrative)
    return [*rules.table_relations(report), *rules.value_sanity(report), *rules.narrative_agreement(report, doc)]


def _value_review(report: Report, key: str) -> list[str]:
    try:
        return report.get(key).review
    except (AttributeError, KeyError):
        return []


def _reviewer(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise StoreError("a reviewer name is needed for every correction and review state")
    if len(name) > MAX_REVIEWER:
        raise StoreError(f"a reviewer name of at most {MAX_REVIEWER} characters, please")
    return name
