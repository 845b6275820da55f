"""The evaluation harness counts exactly what spec/fields.md's scoring rules say.

Every expected count below is worked out by hand from the rules, not read off the code:

- a key is correct when the value equals the gold (numbers as numbers, ``any_of``
  accepted, ``null`` equals only ``null``; a key the record does not carry is missed);
- keys under an ``absent`` prefix, listed in the gold or not, are correct only with no
  value and a review flag, and any value there is a hallucination;
- a wrong value that is not flagged is a silent error; a correct flagged one is a
  needless flag;
- a rejected file (``status: "error"``) reports and flags nothing, so each of its gold
  keys is missed and silent.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from nianbao.eval.cli import run_eval, summary_line
from nianbao.eval.score import Gold, evaluate, values_equal
from nianbao.pipeline import extract_file
from nianbao.schemas.template import t4_keys

from .conftest import GOLD, SEEDS

MISSING = object()  # the record does not carry the key at all

# key, gold value, predicted value (or MISSING), flagged, expected outcome
LISTED = [
    ("meta.template", "2021", "2021", False, "correct"),
    ("t2.rules.issued", 1, 1.0, False, "correct"),  # numbers compared as numbers
    ("t2.fees.amount", 62.67886, 62.67886, False, "correct"),
    ("t3.new.natural_person", 5, 5, False, "correct"),
    ("t3.new.commercial", 5, 5, True, "correct"),  # right but flagged: a needless flag
    ("t3.new.research", 3, 4, False, "silent"),  # wrong, unflagged
    ("t3.new.nonprofit", 3, 4, True, "flagged"),  # wrong, flagged
    ("t3.new.legal_services", 2, None, True, "flagged"),  # value missed, flagged
    ("t3.new.other_org", 2, None, False, "silent"),  # value missed, unflagged
    ("t3.new.total", None, 0, False, "silent"),  # blank cell reported as 0 (blank↔0)
    ("t3.carried_over.natural_person", 0, None, False, "silent"),  # written 0 reported blank (blank↔0)
    ("t3.carried_over.commercial", None, None, False, "correct"),  # '/' or blank: null = null
    ("t3.carried_over.research", 0, 0, False, "correct"),  # a written 0
    ("t3.carried_over.nonprofit", {"any_of": [1, 2]}, 2, False, "correct"),
    ("t3.carried_over.legal_services", {"any_of": [1, 2]}, 3, False, "silent"),
    ("t3.carried_over.other_org", None, MISSING, False, "silent"),  # not carried: not null, missed
    ("t3.carried_over.total", 0, MISSING, True, "flagged"),
    # Listed in the gold and under the absent prefix t4: the absent rule applies, counted once.
    ("t4.suit_direct.total", None, None, True, "correct"),
]

# Keys the gold does not list, under its absent prefixes t4 and t2.penalty (2021: one key).
ABSENT = [
    ("t2.penalty.decisions", None, True, "correct"),
    ("t4.review.upheld", 3, False, "hallucination"),  # invented and unflagged: also silent
    ("t4.review.corrected", 1, True, "hallucination"),  # invented, flagged: not silent
    ("t4.review.other", None, False, "silent"),  # no value, but no flag either
    # not a template key, but a value reported under the prefix all the same
    ("t4.extra.thing", 9, False, "hallucination"),
]
T4_REST = [k for k in t4_keys() if k not in {"t4.suit_direct.total", "t4.review.upheld", "t4.review.corrected", "t4.review.other"}]


def _records_a() -> tuple[Gold, dict]:
    gold = Gold("a", {k: g for k, g, *_ in LISTED}, ["t4", "t2.penalty"], "a.txt")
    fields: dict = {}
    review: dict = {}
    for key, _, predicted, flagged, _ in LISTED:
        if predicted is not MISSING:
            fields[key] = predicted
        if flagged:
            review[key] = "planted flag"
    for key, predicted, flagged, _ in ABSENT:
        fields[key] = predicted
        if flagged:
            review[key] = "table 四 only an image"
    for key in T4_REST:
        fields[key] = None
        review[key] = "table 四 only an image"
    return gold, {"source": "docs/a.txt", "status": "ok", "fields": fields, "review": review}


def _record_b() -> tuple[Gold, dict]:
    gold = Gold("b", {"meta.template": "2019", "t3.new.total": 4, "t3.new.research": None}, ["t4"], "b.pdf")
    # A rejected file: whatever it may carry, nothing of it is output and nothing is flagged.
    record = {"source": "b.pdf", "status": "error", "error": "password-protected PDF", "fields": {"t4.review.upheld": 5}, "review": {"t3.new.total": "x"}}
    return gold, record


def test_every_outcome_is_counted_exactly() -> None:
    gold_a, rec_a = _records_a()
    gold_b, rec_b = _record_b()
    gold_c = Gold("c", {"meta.year": 2023}, [], "c.txt")  # no record: reported, not scored
    ev = evaluate([gold_a, gold_b, gold_c], [rec_a, rec_b])

    by_key = {(r.report, r.key): r for r in ev.results}
    for key, _, _, _, outcome in LISTED:
        assert by_key[("a.txt", key)].outcome == outcome, key
    for key, _, _, outcome in ABSENT:
        assert by_key[("a.txt", key)].outcome == outcome, key
    for key in T4_REST:
        assert by_key[("a.txt", key)].outcome == "correct", key
    assert by_key[("a.txt", "t4.review.upheld")].silent and not by_key[("a.txt", "t4.review.corrected")].silent
    assert by_key[("a.txt", "t4.review.upheld")].listed is False and by_key[("a.txt", "t4.suit_direct.total")].listed is True
    assert sum(1 for r in ev.results if (r.report, r.key) == ("a.txt", "t4.suit_direct.total")) == 1

    # Report a: 18 listed keys + 16 more under absent prefixes (t2.penalty.decisions, 14 t4 keys, t4.extra.thing).
    a = ev.by_report["a.txt"].as_dict()
    assert {k: a[k] for k in ("fields", "correct", "wrong", "wrong_flagged", "silent", "hallucinations", "needless_flags", "flagged", "blank_zero")} == {
        "fields": 34,
        "correct": 21,  # 9 listed + t2.penalty.decisions + 11 flagged empty t4 keys
        "wrong": 13,
        "wrong_flagged": 4,  # t3.new.nonprofit, t3.new.legal_services, t3.carried_over.total, t4.review.corrected
        "silent": 9,  # 6 listed + t4.review.upheld, t4.review.other, t4.extra.thing
        "hallucinations": 3,
        "needless_flags": 1,  # t3.new.commercial (an absent key needs its flag)
        "flagged": 18,
        "blank_zero": 2,
    }
    assert (a["absent_fields"], a["absent_correct"], a["absent_silent"]) == (17, 13, 3)
    assert a["accuracy"] == pytest.approx(21 / 34)
    assert a["present_accuracy"] == pytest.approx(8 / 17)

    # Report b, rejected: 3 listed + the 15 t4 keys, all missed and silent; nothing invented.
    b = ev.by_report["b.pdf"]
    assert (b.fields, b.correct, b.silent, b.wrong_flagged, b.flagged, b.hallucinations, b.blank_zero) == (18, 0, 18, 0, 0, 0, 0)
    assert ev.errors == {"b.pdf": "password-protected PDF"}
    assert ev.unmatched_gold == ["c"]

    o = ev.overall
    assert (o.fields, o.correct, o.wrong, o.wrong_flagged, o.silent, o.hallucinations, o.needless_flags, o.flagged, o.blank_zero) == (52, 21, 31, 4, 27, 3, 1, 18, 2)
    assert (o.absent_fields, o.absent_correct, o.absent_silent) == (32, 13, 18)

    t = {k: (c.fields, c.correct) for k, c in ev.by_table.items()}
    assert t == {"meta": (2, 1), "t2": (3, 3), "t3": (16, 5), "t4": (31, 12)}
    assert (ev.by_template["2021"].fields, ev.by_template["2019"].fields) == (34, 18)

    line = summary_line(o)
    assert "21 of 52 fields right" in line and "27 silent" in line and "3 hallucinations" in line
    assert json.loads(json.dumps(ev.to_json()))["overall"]["hallucinations"] == 3


def test_values_equal_follows_the_spec() -> None:
    assert values_equal(0, 0.0) and values_equal(62.67886, "62.67886")
    assert not values_equal(None, 0) and not values_equal(0, None) and values_equal(None, None)
    assert values_equal({"any_of": [None, 3]}, None) and values_equal({"any_of": [None, 3]}, 3) and not values_equal({"any_of": [1, 2]}, None)
    assert values_equal("文登区卫生健康局", " 文登区卫生健康局 ") and not values_equal("2021", "2019")


def test_a_number_invented_for_an_image_only_table_is_a_hallucination() -> None:
    """Seed 004's tables are images: its gold lists no t2/t3/t4 key, only absent prefixes."""
    name = "004_65db2be9059d42c1"
    gold = Gold.load(GOLD / f"{name}.json")
    assert not any(k.startswith(("t2", "t3", "t4")) for k in gold.fields)
    record = extract_file(SEEDS / f"{name}.txt").model_dump(mode="json")
    clean = evaluate([gold], [record]).overall
    assert (clean.accuracy, clean.silent, clean.hallucinations) == (1.0, 0, 0)
    assert clean.absent_fields == 10 + 175 + 15 and clean.absent_correct == clean.absent_fields

    record["fields"]["t3.new.total"] = 3  # still flagged (the image reason), but invented
    planted = evaluate([gold], [record]).overall
    assert (planted.hallucinations, planted.silent, planted.wrong_flagged) == (1, 0, 1)
    assert planted.accuracy < 1.0
    del record["review"]["t3.new.total"]
    for prefix in ("t3", "t3.new"):
        record["review"].pop(prefix, None)
    unflagged = evaluate([gold], [record]).overall
    assert (unflagged.hallucinations, unflagged.silent) == (1, 1)


def _eval_args(gold_dir: Path, records: Path, **gates: object) -> argparse.Namespace:
    base = {
        "gold": str(gold_dir),
        "records": str(records),
        "inputs": None,
        "json_out": None,
        "compare": None,
        "min_accuracy": None,
        "max_silent": None,
        "max_hallucinations": None,
        "show_wrong": 5,
        "models": "",
        "llm": False,
    }
    return argparse.Namespace(**{**base, **gates})


def test_gates_see_silent_errors_and_hallucinations(tmp_path: Path) -> None:
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    gold_a, rec_a = _records_a()
    (gold_dir / "a.json").write_text(json.dumps({"source": gold_a.source, "fields": gold_a.fields, "absent": gold_a.absent}), encoding="utf-8")
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(rec_a) + "\n", encoding="utf-8")
    assert run_eval(_eval_args(gold_dir, records)) == 0
    assert run_eval(_eval_args(gold_dir, records, max_silent=9)) == 0
    assert run_eval(_eval_args(gold_dir, records, max_silent=8)) == 1
    assert run_eval(_eval_args(gold_dir, records, max_hallucinations=3)) == 0
    assert run_eval(_eval_args(gold_dir, records, max_hallucinations=2)) == 1
    # A parser without the new option still works.
    args = _eval_args(gold_dir, records)
    del args.max_hallucinations
    assert run_eval(args) == 0


def test_blank_zero_counts_a_zero_read_as_blank_not_a_value_never_found() -> None:
    """With the full record at hand, a written 0 lost because its table was not found is a miss, not blank↔0."""
    gold = Gold("d", {"t3.new.total": 0, "t3.new.research": 0, "t3.new.commercial": None}, [], "d.txt")
    report = {"t3": {"new": {"total": {"value": None, "state": "not_found"}, "research": {"value": None, "state": "blank", "raw": ""}, "commercial": {"value": 0, "state": "number", "raw": "0"}}}}
    record = {"source": "d.txt", "status": "ok", "fields": {"t3.new.total": None, "t3.new.research": None, "t3.new.commercial": 0}, "review": {"t3.new.total": "table 三 not found"}, "report": report}
    ev = evaluate([gold], [record])
    by_key = {r.key: r for r in ev.results}
    assert [by_key[k].blank_zero for k in ("t3.new.total", "t3.new.research", "t3.new.commercial")] == [False, True, True]
    assert (ev.overall.wrong, ev.overall.wrong_flagged, ev.overall.silent, ev.overall.blank_zero) == (3, 1, 2, 2)
    assert by_key["t3.new.research"].raw == ""  # the raw text of a wrong value is shown
