"""Archive scale: long and wide tables, cross-year checks on a generated multi-year archive, the summary page."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from nianbao.cli import main
from nianbao.crossyear import FLAG_PREFIX, YearReport, cross_year, group_key
from nianbao.eval.archive import Archive, generate_archive
from nianbao.schemas.template import flat_keys
from nianbao.store.crossyear import TABLE, run_on_file
from nianbao.store.review import ResultsStore
from nianbao.summary import build, render_html
from nianbao.tables import LONG_COLUMNS, wide_keys

pytest.importorskip("reportlab")
pa_parquet = pytest.importorskip("pyarrow.parquet")

SEED, AGENCIES, YEARS = 2, 4, 4  # a seed whose planted breaks are of all three kinds


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Archive, Path]:
    base = tmp_path_factory.mktemp("archive")
    arc = generate_archive(base / "arc", seed=SEED, agencies=AGENCIES, years=YEARS)
    out = base / "out"
    assert main(["extract", str(base / "arc" / "docs"), "--out", str(out)]) == 0
    return arc, out / "nianbao.db"


@pytest.fixture
def db(archive: tuple[Archive, Path], tmp_path: Path) -> Path:
    """A copy of the archive's store a test may change."""
    copy = tmp_path / "nianbao.db"
    shutil.copy(archive[1], copy)
    return copy


def _ids(conn: sqlite3.Connection) -> dict[tuple[str, int], int]:
    return {(r[1], r[2]): r[0] for r in conn.execute("SELECT id, agency, year FROM reports")}


def _values(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT report_id, key, state, value FROM fields ORDER BY id").fetchall()


# ---- the generated archive ----------------------------------------------------------


def test_archive_chains_years_and_records_its_breaks(archive: tuple[Archive, Path]) -> None:
    arc, _ = archive
    assert len(arc.reports) == AGENCIES * YEARS and arc.pairs == AGENCIES * (YEARS - 1)
    assert {b.kind for b in arc.breaks} == {"carried", "in_force", "prev_items"}
    assert 0 < len(arc.breaks) < arc.pairs  # some pairs consistent, some broken
    assert {r.template for r in arc.reports} == {"2019", "2021"} and len({r.format for r in arc.reports}) == 4
    broken = {(b.agency, b.year) for b in arc.breaks}
    gold = {(r.agency, r.year): json.loads((arc.out / "gold" / f"{r.name}.json").read_text(encoding="utf-8")) for r in arc.reports}
    for (agency, year), g in gold.items():
        prev = gold.get((agency, year - 1))
        assert ("cross_year_break=none" in g["notes"]) == ((agency, year) not in broken)
        if prev is None or (agency, year) in broken:
            continue
        f, p = g["fields"], prev["fields"]
        for col in ("natural_person", "commercial", "total"):
            assert f[f"t3.carried_over.{col}"] == p[f"t3.carried_forward.{col}"]
        if f["meta.template"] == p["meta.template"] == "2021":
            assert p["t2.rules.in_force"] + f["t2.rules.issued"] - f["t2.rules.repealed"] == f["t2.rules.in_force"]
        if f["meta.template"] == p["meta.template"] == "2019":
            assert f["t2.penalty.prev_items"] == p["t2.penalty.prev_items"] + p["t2.penalty.change"]
    manifest = list(csv.DictReader((arc.out / "manifest.csv").open(encoding="utf-8")))
    assert len(manifest) == len(arc.reports) and all((arc.out / m["path"]).exists() for m in manifest)


# ---- cross-year checks --------------------------------------------------------------


def test_crossyear_catches_every_planted_break_and_passes_consistent_years(archive: tuple[Archive, Path], db: Path) -> None:
    arc, _ = archive
    conn = sqlite3.connect(db)
    before = _values(conn)
    run = run_on_file(db)
    assert run.pairs == arc.pairs and run.groups == AGENCIES
    ids = _ids(conn)
    failed_pairs = {(c.prev_id, c.cur_id) for c in run.failed}
    planted = {(ids[(b.agency, b.prev_year)], ids[(b.agency, b.year)]) for b in arc.breaks}
    assert failed_pairs == planted  # every break caught, no consistent pair failed
    conn.row_factory = sqlite3.Row
    for b in arc.breaks:
        prev_id, cur_id = ids[(b.agency, b.prev_year)], ids[(b.agency, b.year)]
        caught = [c for c in run.failed if (c.prev_id, c.cur_id) == (prev_id, cur_id)]
        assert set(b.keys) <= {k for c in caught for k in c.cur_keys} and set(b.prev_keys) <= {k for c in caught for k in c.prev_keys}
        assert all(c.left is not None and c.right is not None and abs(c.left - c.right) == b.delta for c in caught)
        # Both years' fields are flagged with the operands (key@year = value), and rank first in the queue.
        for report_id, keys, year in ((cur_id, b.keys, b.year), (prev_id, b.prev_keys, b.prev_year)):
            for key in keys:
                row = conn.execute("SELECT flags, risk FROM fields WHERE report_id = ? AND key = ?", (report_id, key)).fetchone()
                reasons = [f for f in json.loads(row["flags"]) if f.startswith(FLAG_PREFIX)]
                assert reasons and row["risk"] == 1, (b, key)
                assert any(f"{key}@{year} = " in r for r in reasons)
    stored = conn.execute(f"SELECT origin, outcome, count(*) FROM {TABLE} WHERE current = 1 GROUP BY origin, outcome").fetchall()
    assert {(r[0], r[1]) for r in stored} >= {("cross-year", "failed"), ("cross-year", "passed")}
    with ResultsStore(db) as store:
        queued = {f.key for f in store.queue() if any(x.startswith(FLAG_PREFIX) for x in f.flags)}
    assert {k for b in arc.breaks for k in b.keys} <= queued
    assert [tuple(r) for r in _values(conn)] == [tuple(r) for r in before]  # nothing changed
    # Run again: the same findings, no flag twice, one current set.
    flags = conn.execute("SELECT id, flags FROM fields ORDER BY id").fetchall()
    again = run_on_file(db)
    assert len(again.failed) == len(run.failed)
    assert conn.execute("SELECT id, flags FROM fields ORDER BY id").fetchall() == flags
    assert conn.execute(f"SELECT count(*) FROM {TABLE} WHERE current = 1").fetchone()[0] == len(run.checks)


def test_crossyear_follows_corrections_and_clears_its_flags(archive: tuple[Archive, Path], db: Path) -> None:
    arc, _ = archive
    b = next(b for b in arc.breaks if b.kind == "carried")
    conn = sqlite3.connect(db)
    ids = _ids(conn)
    cur = ids[(b.agency, b.year)]
    run_on_file(db)
    with ResultsStore(db) as store:
        # A reviewer sets 上年结转 back to last year's 结转下年度 (both cells of the break).
        for key, prev_key in zip(b.keys, b.prev_keys):
            prev_value = store.report(ids[(b.agency, b.prev_year)]).field(prev_key).value
            store.correct(cur, key, prev_value, reviewer="ann", why="last year's 结转下年度")
    again = run_on_file(db)
    assert cur not in {c.cur_id for c in again.failed}
    assert conn.execute("SELECT count(*) FROM fields WHERE report_id = ? AND flags LIKE ?", (ids[(b.agency, b.prev_year)], f"%{FLAG_PREFIX}%")).fetchone()[0] == 0


def test_grouping_and_not_assessable() -> None:
    assert group_key("淄博市张店区民政局") == group_key("张店区民政局")
    assert group_key("张店区民政局") != group_key("张店区教育局")
    prev = YearReport(1, "a", "某某局", 2021, "2021", {"t3.carried_forward.total": 3.0}, {"t3.carried_forward.total": "number"})
    cur = YearReport(2, "b", "某 某局", 2022, "2021", {"t3.carried_over.total": None}, {"t3.carried_over.total": "blank"})
    checks = {c.name: c for c in cross_year([prev, cur])}
    c = checks["上年结转 = 结转下年度 [总计]"]
    assert c.outcome == "not_assessable" and c.operands == {"t3.carried_over.total@2022": "blank", "t3.carried_forward.total@2021": 3}
    assert not cross_year([prev, YearReport(3, "c", "某某局", 2023, "2021", {})])  # 2021 and 2023 are not consecutive


# ---- tables -------------------------------------------------------------------------


def test_long_and_wide_tables_round_trip(archive: tuple[Archive, Path], db: Path, tmp_path: Path) -> None:
    arc, _ = archive
    conn = sqlite3.connect(db)
    ids = _ids(conn)
    some = arc.reports[5]
    with ResultsStore(db) as store:
        store.correct(ids[(some.agency, some.year)], "t3.new.total", 4321, reviewer="ann", why="test")
    out = tmp_path / "tables"
    assert main(["tables", str(db), "--out", str(out)]) == 0
    keys = wide_keys()
    assert set(keys) == set(flat_keys("2019")) | set(flat_keys("2021")) and len(keys) == len(set(keys))
    wide = pa_parquet.read_table(out / "wide.parquet")
    names = wide.schema.names
    assert names[: 8] == ["report_id", "source", "sha256", "status", "format", "template", "year", "agency"]
    assert names[-len(keys) :] == keys  # one column per fields.md key, in its order
    assert str(wide.schema.field("t3.new.total").type) == "int64" and str(wide.schema.field("t2.fees.amount").type) == "double"
    assert wide.num_rows == len(arc.reports)
    rows = {(r["agency"], r["year"]): r for r in wide.to_pylist()}
    for r in arc.reports:
        gold = json.loads((arc.out / "gold" / f"{r.name}.json").read_text(encoding="utf-8"))["fields"]
        got = rows[(r.agency, r.year)]
        expect = 4321 if r is some else gold["t3.new.total"]
        assert got["t3.new.total"] == expect and got["t3.carried_over.natural_person"] == gold["t3.carried_over.natural_person"]
        assert got["meta.agency"] == r.agency and got["meta.template"] == r.template
        other = "2019" if r.template == "2021" else "2021"
        assert all(got[k] is None for k in set(flat_keys(other)) - set(flat_keys(r.template)))  # the other template's keys
    with (out / "wide.csv").open(encoding="utf-8", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert list(csv_rows[0]) == names and len(csv_rows) == wide.num_rows
    assert {(r["agency"], int(r["year"])): r["t3.new.total"] for r in csv_rows} == {k: str(v["t3.new.total"]) for k, v in rows.items()}
    long = pa_parquet.read_table(out / "long.parquet")
    assert long.schema.names == list(LONG_COLUMNS) and str(long.schema.field("report_id").type) == "int64"
    n_fields = conn.execute("SELECT count(*) FROM fields").fetchone()[0]
    assert long.num_rows == n_fields
    changed = [x for x in long.to_pylist() if x["key"] == "t3.new.total" and x["report_id"] == ids[(some.agency, some.year)]]
    assert changed[0]["method"] == "human" and changed[0]["number"] == 4321 and changed[0]["corrected"]
    with (out / "long.csv").open(encoding="utf-8", newline="") as f:
        long_csv = list(csv.DictReader(f))
    assert len(long_csv) == n_fields and list(long_csv[0]) == list(LONG_COLUMNS)


# ---- summary ------------------------------------------------------------------------


def test_summary_counts_escapes_and_draws_one_chart_per_table(archive: tuple[Archive, Path], db: Path, tmp_path: Path) -> None:
    arc, _ = archive
    hostile = '<script>alert("x")</script>&<img src=x onerror=1>局'
    conn = sqlite3.connect(db)
    conn.execute("UPDATE reports SET agency = ? WHERE id = 1", (hostile,))
    conn.commit()
    assert main(["crossyear", str(db)]) == 0
    page = tmp_path / "summary.html"
    assert main(["summary", str(db), "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text and "onerror=1>" not in text
    assert html_escaped(hostile) in text
    assert text.count("<table") == text.count("<svg") == 3
    conn.row_factory = sqlite3.Row
    summary = build(conn)
    first, _, failures = summary.tables
    assert sum(r[2] for r in first.rows) == len(arc.reports)
    apps = sum(json.loads((arc.out / "gold" / f"{r.name}.json").read_text(encoding="utf-8"))["fields"]["t3.new.total"] for r in arc.reports)
    assert sum(r[first.columns.index("applications")] for r in first.rows) == apps
    cross = sum(r[failures.columns.index("failed cross-year checks")] for r in failures.rows)
    assert cross == conn.execute(f"SELECT count(*) FROM {TABLE} WHERE current = 1 AND outcome = 'failed'").fetchone()[0] > 0
    # A region label from the store is escaped in the table and in the chart alike.
    for t in summary.tables:
        t.rows[0][0] = hostile
    rendered = render_html(summary)
    assert "<script" not in rendered and rendered.count(html_escaped(hostile)) >= 6


def html_escaped(text: str) -> str:
    return re.sub(r'[&<>"\']', lambda m: {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}[m.group(0)], text)
