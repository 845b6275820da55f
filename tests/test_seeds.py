"""The five real seed reports reproduce their hand-labelled gold exactly."""

from __future__ import annotations

import pytest

from nianbao.eval.score import Gold, evaluate
from nianbao.pipeline import extract_file
from nianbao.schemas import Outcome, State

from .conftest import GOLD, SEEDS

SEED_NAMES = sorted(p.stem for p in SEEDS.glob("*.txt"))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_matches_gold(name: str) -> None:
    record = extract_file(SEEDS / f"{name}.txt")
    assert record.status == "ok", record.error
    ev = evaluate([Gold.load(GOLD / f"{name}.json")], [record.model_dump(mode="json")])
    wrong = [(r.key, r.gold, r.predicted) for r in ev.results if not r.correct]
    assert wrong == []
    assert ev.overall.silent == 0


def test_image_only_tables_are_flagged_not_invented() -> None:
    record = extract_file(SEEDS / "004_65db2be9059d42c1.txt")
    report = record.report
    assert report is not None
    table_values = [(k, v) for k, v in report.values() if k.startswith(("t2.", "t3.", "t4."))]
    assert len(table_values) == 10 + 175 + 15
    for key, v in table_values:
        assert v.value is None and v.state is State.NOT_FOUND, key
        assert "image" in record.review[key], key
    # The narrative facts still come out of the text.
    assert record.fields["s1.applications_received"] == 3
    assert record.fields["s6.cppcc_proposals"] == 7


def test_checks_are_recorded_with_operands() -> None:
    record = extract_file(SEEDS / "000_25a82b73f95a5995.txt")
    checks = record.report.checks
    balance = next(c for c in checks if c.name == "t3 balance [总计]")
    assert balance.outcome is Outcome.PASSED
    assert balance.operands == {"t3.new.total": 11, "t3.carried_over.total": 0, "t3.total.total": 9, "t3.carried_forward.total": 2}
    assert (balance.left, balance.right) == (11, 11)
    narrative = next(c for c in checks if c.name.startswith("narrative applications"))
    assert narrative.outcome is Outcome.PASSED


def test_blank_table_checks_are_not_assessable() -> None:
    record = extract_file(SEEDS / "002_9607eda7a8c79f66.txt")
    balance = next(c for c in record.report.checks if c.name == "t3 balance [总计]")
    assert balance.outcome is Outcome.NOT_ASSESSABLE
    assert record.fields["t3.new.natural_person"] is None
    assert record.report.t3.new.natural_person.state is State.BLANK
    assert record.fields["t3.new.total"] == 0


def test_cells_missing_from_a_text_row_are_inferred_and_flagged() -> None:
    record = extract_file(SEEDS / "001_6bf81d20b44f1e63.txt")
    v = record.report.get("t3.total.total")
    assert v.value == 0
    assert v.flagged and "6 cells for 7 columns" in v.review[0]
    assert record.report.get("t3.granted.total").flagged is False


def test_values_carry_provenance() -> None:
    record = extract_file(SEEDS / "000_25a82b73f95a5995.txt")
    text = (SEEDS / "000_25a82b73f95a5995.txt").read_text(encoding="utf-8")
    v = record.report.get("t3.new.total")
    assert v.provenance.span is not None
    a, b = v.provenance.span
    assert text[a:b] == "11" and v.raw == "11" and v.method.value == "text-table"
    fee = record.report.get("t2.fees.amount")
    assert fee.provenance.span is not None
    a, b = fee.provenance.span
    assert text[a:b] == "62.67886"
