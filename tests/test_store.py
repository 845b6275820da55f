"""The SQLite results store: written by extract, corrected with an audit trail, re-checked, exported, promoted to gold."""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from nianbao.bundled import GOLD, SEEDS
from nianbao.cli import main
from nianbao.eval.render import layout_from_document, render_html
from nianbao.extract.load import load
from nianbao.labelstudio import LABEL_CONFIG
from nianbao.outputs import Writer, read_records
from nianbao.pipeline import extract_file
from nianbao.schemas import flat_keys
from nianbao.store import STORE_SCHEMA_VERSION, CorrectionError, ResultsStore, StoreError, risk_rank
from nianbao.store.export import EXPORT_COLUMNS
from nianbao.store.rows import prepare
from nianbao.store.write import put

CLEAN = "000_25a82b73f95a5995"
IMAGES = "004_65db2be9059d42c1"  # tables 二–四 only as pictures: every cell not found


def _extract(out: Path, *inputs: Path | str, extra: tuple[str, ...] = ()) -> int:
    return main(["extract", *map(str, inputs), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled seeds extracted once; tests copy the folder before changing its store."""
    out = tmp_path_factory.mktemp("seeds") / "out"
    assert _extract(out, SEEDS) == 0
    return out


@pytest.fixture
def run(seeds_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(seeds_run, out, ignore=shutil.ignore_patterns(".lock"))
    return out


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report whose table 三 row 予以公开 says 总计 5 while its six columns sum to 4."""
    base = tmp_path_factory.mktemp("broken")
    g = copy.deepcopy(json.loads((GOLD / f"{CLEAN}.json").read_text(encoding="utf-8"))["fields"])
    g["t3.granted.total"] = 5
    doc = base / "broken.html"
    doc.write_bytes(render_html(layout_from_document(load(SEEDS / f"{CLEAN}.txt"), g, "2021")))
    assert _extract(base / "out", doc) == 0
    return base / "out"


def _db(out: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(out / "nianbao.db")
    conn.row_factory = sqlite3.Row
    return conn


def _store(out: Path) -> ResultsStore:
    return ResultsStore(out / "nianbao.db")


# ---- written by extract ------------------------------------------------------------


def test_extract_writes_every_record_into_the_store(seeds_run: Path) -> None:
    records = read_records(seeds_run / "reports.jsonl")
    db = _db(seeds_run)
    assert db.execute("PRAGMA user_version").fetchone()[0] == STORE_SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert meta["schema_version"] == str(STORE_SCHEMA_VERSION) and meta["nianbao_version"]
    reports = {r["source"]: r for r in db.execute("SELECT * FROM reports")}
    assert sorted(reports) == sorted(r["source"] for r in records)
    assert {r["review_state"] for r in reports.values()} == {"unreviewed"}
    for record in records:
        row = reports[record["source"]]
        assert (row["sha256"], row["status"], row["format"]) == (record["sha256"], "ok", "txt")
        assert row["template"] == record["fields"]["meta.template"] and row["year"] == record["fields"]["meta.year"]
        fields = {f["key"]: f for f in db.execute("SELECT * FROM fields WHERE report_id = ? ORDER BY position", (row["id"],))}
        assert list(fields) == list(record["fields"])  # every flat key, in template order
        assert {k: json.loads(f["value"]) if f["value"] is not None else None for k, f in fields.items()} == record["fields"]
        assert {k for k, f in fields.items() if json.loads(f["review"])} == set(record["review"])
        assert {k for k, f in fields.items() if f["risk"] is not None} == set(record["review"])
        new_total = record["report"]["t3"]["new"]["total"] if record["report"]["t3"] else None
        if new_total and new_total["provenance"]:
            stored = fields["t3.new.total"]
            assert (stored["raw"], stored["state"], stored["method"], stored["confidence"]) == (new_total["raw"], new_total["state"], new_total["method"], new_total["confidence"])
            span = [stored["span_start"], stored["span_end"]] if stored["span_start"] is not None else None
            assert span == new_total["provenance"]["span"] and stored["file"] == new_total["provenance"]["file"]
        checks = db.execute("SELECT * FROM checks WHERE report_id = ?", (row["id"],)).fetchall()
        assert [(c["name"], c["outcome"], json.loads(c["keys"])) for c in checks] == [(c["name"], c["outcome"], c["keys"]) for c in record["report"]["checks"]]
        assert {c["origin"] for c in checks} == {"machine"}


def test_store_path_can_be_chosen_or_left_out(tmp_path: Path) -> None:
    seed = SEEDS / f"{CLEAN}.txt"
    assert _extract(tmp_path / "a", seed, extra=("--no-store",)) == 0
    assert not (tmp_path / "a" / "nianbao.db").exists()
    assert _extract(tmp_path / "b", seed, extra=("--store", str(tmp_path / "elsewhere.db"))) == 0
    assert not (tmp_path / "b" / "nianbao.db").exists()
    with ResultsStore(tmp_path / "elsewhere.db") as store:
        assert [r.source for r in store.reports()] == [str(seed)]
    with pytest.raises(StoreError, match="no such results store"):
        ResultsStore(tmp_path / "missing.db")


def test_a_file_that_failed_is_a_report_row_without_fields(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("会议纪要\n今天讨论了食堂菜单。\n", encoding="utf-8")
    assert _extract(tmp_path / "out", tmp_path / "notes.txt") == 1
    row = _db(tmp_path / "out").execute("SELECT * FROM reports").fetchone()
    assert (row["status"], row["error_stage"]) == ("error", "locate")
    assert _db(tmp_path / "out").execute("SELECT count(*) FROM fields").fetchone()[0] == 0


# ---- the queue -----------------------------------------------------------------------


def test_risk_rank_follows_the_documented_order() -> None:
    assert risk_rank("text-table", "number", []) is None
    ranks = [
        risk_rank("text-table", "number", ["check failed: t3 row sums to 总计 [granted] (4 ≠ 5)"]),
        risk_rank("inferred", "number", ["missing cell inferred from the row's 总计 relation"]),
        risk_rank("text-table", "number", ["digits of the row ran together; split by the row's relation"]),
        risk_rank("ocr", "number", ["low OCR confidence (0.62)"]),
        risk_rank("llm", "number", ["LLM reads 12 (“收到申请12件”)"]),
        risk_rank("regex", "text", ["agency taken from the text, not the title"]),
        risk_rank(None, "not_found", ["table 二 is present only as an image (x.png); needs OCR or a human"]),
    ]
    assert ranks == [1, 2, 2, 3, 4, 5, 6]
    # A failed relation outranks every other reason the field has.
    assert risk_rank("ocr", "number", ["low OCR confidence (0.62)", "check failed: t4 行政复议 总计 (3 ≠ 4)"]) == 1


def test_queue_puts_failed_relations_first(seeds_run: Path, broken_run: Path) -> None:
    with _store(seeds_run) as store:
        queue = store.queue()
        assert len(queue) == sum(len(r["review"]) for r in read_records(seeds_run / "records.jsonl"))
        assert [f.risk for f in queue] == sorted(f.risk or 0 for f in queue)
        assert queue[0].risk_label == "split or inferred" and queue[-1].state == "not_found"
        assert all(f.flags for f in queue)
    with _store(broken_run) as store:
        first = store.queue()[0]
        assert first.risk_label == "failed relation"
        assert first.flags[0].startswith("check failed: t3 row sums to 总计 [granted]")
        assert store.queue(limit=3, offset=1) == store.queue()[1:4]


# ---- corrections -----------------------------------------------------------------------


def test_a_correction_keeps_the_machine_value_and_is_audited(run: Path) -> None:
    with _store(run) as store:
        rid = store.find(f"{CLEAN}.txt")  # a file name finds its report
        machine = _db(run).execute("SELECT * FROM fields WHERE report_id = ? AND key = 't3.new.total'", (rid,)).fetchone()
        first = store.correct(rid, "t3.new.total", "１２", reviewer="ann", why="the scan shows 12")  # full-width digits
        second = store.correct(rid, "t3.new.total", 13, reviewer="bob", why="looked again")
        assert (first.correction.machine_value, first.correction.value, first.correction.typed) == (11, 12, "１２")
        assert second.correction.machine_value == 11  # the machine's, not the previous correction's
        trail = store.corrections(rid, "t3.new.total")
        assert [(c.reviewer, c.value, c.why) for c in trail] == [("ann", 12, "the scan shows 12"), ("bob", 13, "looked again")]
        assert datetime.fromisoformat(trail[0].at).utcoffset() is not None  # UTC, ISO 8601
        view = store.report(rid)
        f = view.field("t3.new.total")
        assert (f.value, f.state, f.method, f.machine_value, f.machine_method, f.reviewer, f.confidence) == (13, "number", "human", 11, "text-table", "bob", 1.0)
        assert view.review_state == "in_review"
        assert [(e.from_state, e.to_state, e.reviewer) for e in store.review_log(rid)] == [("unreviewed", "in_review", "ann")]
        assert {r["name"] for r in store.conn.execute("SELECT name FROM reviewers")} == {"ann", "bob"}
    after = _db(run).execute("SELECT * FROM fields WHERE report_id = ? AND key = 't3.new.total'", (rid,)).fetchone()
    assert (after["value"], after["state"], after["method"], after["raw"]) == (machine["value"], machine["state"], machine["method"], machine["raw"]) == ("11", "number", "text-table", "11")


def test_impossible_input_is_refused_and_nothing_is_written(run: Path) -> None:
    with _store(run) as store:
        rid = store.find(f"{CLEAN}.txt")
        refused = {
            ("t3.new.total", "十一"): "is a count.*'十一' is not a number",
            ("t3.new.total", "abc"): "is not a number",
            ("t3.new.total", "-3"): "is negative",
            ("t3.new.total", "2.5"): "is not a whole number",
            ("t3.new.total", "1 1"): "is not a number",
            ("t2.fees.amount", "-1.5"): "amount.*is negative",
            ("meta.template", "2020"): "is not a template",
            ("meta.year", "20233"): "out of range",
        }
        for (key, typed), message in refused.items():
            with pytest.raises(CorrectionError, match=message):
                store.correct(rid, key, typed, reviewer="ann")
        with pytest.raises(CorrectionError, match="has no value"):
            store.correct(rid, "t3.new.total", "12", state="blank", reviewer="ann")
        with pytest.raises(StoreError, match="no field"):
            store.correct(rid, "t3.nonsense.total", "1", reviewer="ann")
        with pytest.raises(StoreError, match="reviewer name"):
            store.correct(rid, "t3.new.total", "12", reviewer="  ")
        assert store.corrections() == []
        assert store.report(rid).review_state == "unreviewed"
        # What a cell may be: a decimal amount, blank, a dash, not found.
        assert store.correct(rid, "t2.fees.amount", "1,062.5", reviewer="ann").correction.value == 1062.5
        assert store.correct(rid, "t3.new.research", "", reviewer="ann").correction.state == "blank"
        assert store.correct(rid, "t3.new.commercial", "/", reviewer="ann").correction.state == "dash"
        assert store.correct(rid, "s6.npc_suggestions", None, state="not_found", reviewer="ann").correction.state == "not_found"


def test_a_correct_edit_clears_the_failed_relation(broken_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(broken_run, out, ignore=shutil.ignore_patterns(".lock"))
    with _store(out) as store:
        rid = store.find("broken.html")
        before = {c.name for c in store.report(rid).failed}
        assert "t3 row sums to 总计 [granted]" in before
        result = store.correct(rid, "t3.granted.total", "4", reviewer="ann", why="the row's cells sum to 4")
        assert "t3 row sums to 总计 [granted]" in result.cleared
        assert result.failing == [] and result.new_failures == []
        view = store.report(rid)
        assert view.failed == [] and {c.origin for c in view.checks} == {"recheck"}
        assert all(not f.flags for f in view.fields if f.key.startswith("t3.granted."))
        assert [f for f in store.queue(report_id=rid) if f.risk_label == "failed relation"] == []
        # The machine's judgement stays on record beside the new one.
        history = store.checks(rid, history=True)
        assert any(c.origin == "machine" and c.name == "t3 row sums to 总计 [granted]" and c.outcome == "failed" for c in history)
        # A wrong edit makes its relations fail again, and says so.
        worse = store.correct(rid, "t3.granted.natural_person", "3", reviewer="ann")
        assert "t3 row sums to 总计 [granted]" in worse.new_failures
        assert store.queue(report_id=rid)[0].risk_label == "failed relation"


def test_accept_confirms_a_reading_and_review_states_are_logged(run: Path) -> None:
    with _store(run) as store:
        rid = store.find(f"{CLEAN}.txt")
        assert [f.key for f in store.queue(report_id=rid)] == ["s1.proactive_count"]
        result = store.accept(rid, "s1.proactive_count", reviewer="ann")
        assert result.correction.value == result.correction.machine_value == 486
        assert store.queue(report_id=rid) == []
        f = store.report(rid).field("s1.proactive_count")
        assert f.corrected and not f.changed and f.method == "regex"
        store.set_review_state(rid, "done", reviewer="ann", why="all flags checked")
        assert [e.to_state for e in store.review_log(rid)] == ["in_review", "done"]
        with pytest.raises(StoreError, match="review state"):
            store.set_review_state(rid, "finished", reviewer="ann")


# ---- the run's modes -------------------------------------------------------------------


def test_resume_backfills_a_record_the_store_missed_and_duplicates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    out = tmp_path / "out"
    writer = Writer(out, store=out / "nianbao.db")
    writer.write(extract_file(seeds[0], str(seeds[0])))
    assert writer.store is not None

    def killed(prepared: object) -> int:
        raise KeyboardInterrupt  # the process dies after the files' commit, before the store's

    monkeypatch.setattr(writer.store, "put", killed)
    with pytest.raises(KeyboardInterrupt):
        writer.write(extract_file(seeds[1], str(seeds[1])))
    writer.close()
    monkeypatch.undo()
    assert [r.source for r in ResultsStore(out / "nianbao.db").reports()] == [str(seeds[0])]
    assert _extract(out, *seeds, extra=("--resume",)) == 0
    sources = [r["source"] for r in read_records(out / "records.jsonl")]
    stored = [r["source"] for r in _db(out).execute("SELECT source FROM reports ORDER BY id")]
    assert sorted(stored) == sorted(sources) == sorted(map(str, seeds))
    assert _db(out).execute("SELECT count(*) FROM fields").fetchone()[0] == sum(len(r["fields"]) for r in read_records(out / "records.jsonl"))
    assert [r["mode"] for r in _db(out).execute("SELECT mode FROM runs ORDER BY id")] == ["new", "resume"]


def test_kill_9_then_resume_keeps_store_and_files_in_step(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for k in range(24):
        for seed in sorted(SEEDS.glob("*.txt")):
            # Distinct bytes, so identical copies are not folded into one record.
            (docs / f"{k:02d}_{seed.name}").write_bytes(seed.read_bytes() + b"\n" * (k + 1))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "nianbao.cli", "extract", str(docs), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(read_records(out / "records.jsonl") if (out / "records.jsonl").exists() else []) < 10:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = len(read_records(out / "records.jsonl"))
    assert 10 <= killed < 120
    assert _db(out).execute("SELECT count(*) FROM reports").fetchone()[0] in (killed, killed - 1)  # the store's commit comes last
    subprocess.run([*cmd, "--resume"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    sources = [r["source"] for r in read_records(out / "records.jsonl")]
    stored = [r["source"] for r in _db(out).execute("SELECT source FROM reports")]
    assert len(sources) == len(stored) == 120 and sorted(sources) == sorted(stored)


def test_a_report_read_again_keeps_its_corrections_and_is_judged_on_them(run: Path) -> None:
    with _store(run) as store:
        rid = store.find(f"{CLEAN}.txt")
        store.correct(rid, "t3.new.total", "12", reviewer="ann")
        seed = SEEDS / f"{CLEAN}.txt"
        source = store.report(rid).source
        assert put(store.conn, prepare(extract_file(seed, source), "2025-01-01T00:00:00Z"), None, "2025-01-01T00:00:00Z") == rid
        assert len(store.reports()) == 5 and len(store.corrections(rid)) == 1
        view = store.report(rid)
        assert (view.field("t3.new.total").value, view.field("t3.new.total").machine_value) == (12, 11)
        assert "t3 row sums to 总计 [new]" in {c.name for c in view.failed}  # judged on 12, not on the machine's 11


def test_overwrite_starts_a_fresh_store_and_new_refuses_an_old_one(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with _store(run) as store:
        store.correct(store.find(f"{CLEAN}.txt"), "t3.new.total", "12", reviewer="ann")
    for name in ("records.jsonl", "reports.jsonl", "fields.csv", ".commits"):
        (run / name).unlink()
    assert _extract(run, SEEDS / f"{CLEAN}.txt") == 2  # the store still holds the earlier run's reports
    assert "nianbao.db already holds 5 reports" in capsys.readouterr().err
    assert _extract(run, SEEDS / f"{CLEAN}.txt", extra=("--overwrite",)) == 0
    with _store(run) as store:
        assert len(store.reports()) == 1 and store.corrections() == []


# ---- exports --------------------------------------------------------------------------


def test_export_jsonl_csv_parquet_round_trip(run: Path, tmp_path: Path) -> None:
    with _store(run) as store:
        rid = store.find(f"{CLEAN}.txt")
        store.correct(rid, "t3.new.total", "12", reviewer="ann", why="typo in the scan")
        store.correct(rid, "t3.new.research", "/", reviewer="ann")
        n_fields = store.conn.execute("SELECT count(*) FROM fields").fetchone()[0]
    for fmt in ("jsonl", "csv", "parquet"):
        assert main(["export", str(run / "nianbao.db"), "--format", fmt, "--out", str(tmp_path / f"data.{fmt}")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == n_fields and list(rows[0]) == list(EXPORT_COLUMNS)
    by_key = {(Path(r["source"]).stem, r["key"]): r for r in rows}
    fixed = by_key[(CLEAN, "t3.new.total")]
    assert (fixed["value"], fixed["number"], fixed["method"], fixed["confidence"], fixed["corrected"], fixed["machine_value"], fixed["reviewer"], fixed["review_state"]) == (
        12,
        12.0,
        "human",
        1.0,
        True,
        11,
        "ann",
        "in_review",
    )
    dashed = by_key[(CLEAN, "t3.new.research")]
    assert (dashed["value"], dashed["state"], dashed["machine_value"], dashed["machine_state"]) == (None, "dash", 0, "number")
    kept = by_key[(CLEAN, "t3.new.natural_person")]
    assert (kept["value"], kept["method"], kept["corrected"], kept["machine_value"], kept["span"]) == (9, "text-table", False, None, kept["span"])
    assert kept["span"] and len(kept["span"]) == 2
    assert by_key[(CLEAN, "meta.agency")]["value"] == "聊城市卫生健康委员会"

    table = pq.read_table(tmp_path / "data.parquet")
    assert table.column_names == list(EXPORT_COLUMNS) and table.num_rows == n_fields
    for got, want in zip(table.to_pylist(), rows):
        text = want["value"] if want["value"] is None or isinstance(want["value"], str) else json.dumps(want["value"])
        assert got["value"] == text
        assert {k: got[k] for k in ("source", "key", "state", "method", "number", "corrected", "span", "flags", "confidence")} == {
            k: want[k] for k in ("source", "key", "state", "method", "number", "corrected", "span", "flags", "confidence")
        }

    with (tmp_path / "data.csv").open(encoding="utf-8", newline="") as f:
        table_rows = list(csv.DictReader(f))
    assert len(table_rows) == n_fields
    for got, want in zip(table_rows, rows):
        assert (got["key"], got["state"], got["method"]) == (want["key"], want["state"], want["method"] or "")
        assert got["value"] == ("" if want["value"] is None else want["value"] if isinstance(want["value"], str) else json.dumps(want["value"]))


def test_correct_promote_then_eval_scores_the_original_run(run: Path, tmp_path: Path) -> None:
    gold_dir = tmp_path / "gold"
    db = str(run / "nianbao.db")
    with _store(run) as store:
        rid = store.find(f"{CLEAN}.txt")
        store.correct(rid, "t3.new.total", "12", reviewer="ann", why="the report says 12")
        assert main(["promote", db, f"{CLEAN}.txt", "--gold-dir", str(gold_dir)]) == 2  # not done yet
        store.set_review_state(rid, "done", reviewer="ann")
        store.set_review_state(store.find(f"{IMAGES}.txt"), "done", reviewer="ann", why="tables only as pictures")
    assert main(["promote", db, f"{CLEAN}.txt", "--gold-dir", str(gold_dir)]) == 0
    assert main(["promote", db, f"{IMAGES}.txt", "--gold-dir", str(gold_dir)]) == 0
    promoted = json.loads((gold_dir / f"{CLEAN}.json").read_text(encoding="utf-8"))
    shipped = json.loads((GOLD / f"{CLEAN}.json").read_text(encoding="utf-8"))
    assert promoted["source"] == shipped["source"] and list(promoted["fields"]) == list(shipped["fields"]) == flat_keys("2021")
    assert promoted["fields"]["t3.new.total"] == 12 and promoted["absent"] == []
    images = json.loads((gold_dir / f"{IMAGES}.json").read_text(encoding="utf-8"))
    shipped_images = json.loads((GOLD / f"{IMAGES}.json").read_text(encoding="utf-8"))
    assert images["absent"] == shipped_images["absent"] == ["t2", "t3", "t4"]
    assert sorted(images["fields"]) == sorted(shipped_images["fields"])

    result = tmp_path / "eval.json"
    assert main(["eval", "--gold", str(gold_dir), "--records", str(run / "records.jsonl"), "--json", str(result)]) == 0
    status = json.loads(result.read_text(encoding="utf-8"))["status"]
    assert status.pop(f"{CLEAN}.txt|t3.new.total") is False  # the original run read 11; the reviewer says 12
    assert status and all(status.values())  # every other key: the original run's own reading
    assert {k.split("|")[0] for k in status} == {f"{CLEAN}.txt", f"{IMAGES}.txt"}


def test_label_studio_export_then_import_round_trip(run: Path, tmp_path: Path) -> None:
    tasks_path = tmp_path / "tasks.json"
    db = str(run / "nianbao.db")
    assert main(["export", db, "--format", "label-studio", "--out", str(tasks_path)]) == 0
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    with _store(run) as store:
        assert len(tasks) == len(store.queue())
    config = etree.fromstring((tmp_path / "tasks.label_config.xml").read_bytes())
    assert {e.get("name") for e in config.iter() if e.get("name")} == {"text", "state", "value", "why"}
    assert (tmp_path / "tasks.label_config.xml").read_text(encoding="utf-8") == LABEL_CONFIG
    for t in tasks:
        (prediction,) = t["predictions"]
        assert 0 <= prediction["score"] <= 1 and {r["from_name"] for r in prediction["result"]} == {"state", "value"}
        assert t["data"]["key"] in t["data"]["text"] and t["data"]["flags"]
    by_key = {(Path(t["data"]["source"]).stem, t["data"]["key"]): t for t in tasks}

    def annotated(t: dict, state: str, value: str, *, cancelled: bool = False, ident: int = 1) -> dict:
        result = [
            {"from_name": "state", "to_name": "text", "type": "choices", "value": {"choices": [state]}},
            {"from_name": "value", "to_name": "text", "type": "textarea", "value": {"text": [value]}},
            {"from_name": "why", "to_name": "text", "type": "textarea", "value": {"text": ["read off the picture"]}},
        ]
        return {"id": ident, **t, "annotations": [{"id": 100 + ident, "result": result, "was_cancelled": cancelled, "updated_at": "2025-01-01T00:00:00Z"}]}

    exported = [
        annotated(by_key[(CLEAN, "s1.proactive_count")], "number", "1316", ident=1),
        annotated(by_key[(IMAGES, "t4.review.total")], "number", "3", ident=2),
        annotated(by_key[(IMAGES, "t4.review.upheld")], "number", "两", ident=3),  # text in a count: refused
        annotated(by_key[(IMAGES, "t4.review.pending")], "number", "9", cancelled=True, ident=4),
        {"id": 5, **by_key[(IMAGES, "t4.review.other")], "annotations": []},
    ]
    labels = tmp_path / "export.json"
    labels.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    assert main(["import-labels", db, str(labels), "--reviewer", "lsuser"]) == 1  # one refused
    with _store(run) as store:
        trail = store.corrections()
        assert [(Path(store.report(c.report_id).source).stem, c.key, c.value, c.reviewer, c.via, c.why) for c in trail] == [
            (CLEAN, "s1.proactive_count", 1316, "lsuser", "label-studio", "read off the picture"),
            (IMAGES, "t4.review.total", 3, "lsuser", "label-studio", "read off the picture"),
        ]
        assert trail[1].machine_state == "not_found"
        rid = store.find(f"{IMAGES}.txt")
        assert store.report(rid).field("t4.review.total").method == "human"
        assert not store.report(rid).field("t4.review.upheld").corrected
    # The same export again applies nothing twice.
    assert main(["import-labels", db, str(labels), "--reviewer", "lsuser"]) == 1
    with _store(run) as store:
        assert len(store.corrections()) == 2
    # Label Studio's JSON-MIN export: the task's data and each control's answer side by side.
    minimal = {**by_key[(IMAGES, "t4.review.pending")]["data"], "id": 4, "annotation_id": 9, "state": "dash", "value": "/", "why": "cell shows /"}
    labels.write_text(json.dumps([minimal], ensure_ascii=False), encoding="utf-8")
    assert main(["import-labels", db, str(labels), "--reviewer", "lsuser"]) == 0
    with _store(run) as store:
        last = store.corrections()[-1]
        assert (last.key, last.state, last.value, last.why) == ("t4.review.pending", "dash", None, "cell shows /")
