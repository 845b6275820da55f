"""Generate a multi-year archive: several agencies × consecutive years, tables that chain across years.

For tests and benchmarks of the archive-scale features (cross-year checks, summaries,
parallel and resumable runs).  Reproducible from ``seed``.  Each agency reports for a
run of consecutive years; each report keeps a real seed's narrative (its agency and
years rewritten) and gets table values that satisfy the template's relations *and*
the relations between consecutive years of one agency:

- 上年结转 (``t3.carried_over.*``, year y) = 结转下年度 (``t3.carried_forward.*``, y−1), per column;
- 2021 template: 现行有效件数 (y−1) + 本年制发件数 (y) − 本年废止件数 (y) = 现行有效件数 (y), for
  规章 (``t2.rules``) and 行政规范性文件 (``t2.normative``);
- 2019 template: 上一年项目数量 (y) = 上一年项目数量 (y−1) + 本年增/减 (y−1) for 行政许可, 其他对外
  管理服务事项, 行政处罚, 行政强制 and 行政事业性收费.

Reports for 2019 and 2020 follow the 2019 template, later ones the 2021 template, so an
agency whose years straddle 2020/2021 changes template (only the table 三 relation holds
across that boundary).

About ``break_share`` of the year pairs get one **planted cross-year break**: the later
year's value is off by a few, the report itself staying consistent (a break no
within-report check can see; later years chain on from the broken value).  Every break
is recorded in the report's gold ``notes`` and in ``archive.json``:
``{"agency", "year", "prev_year", "kind", "keys" (year y), "prev_keys" (year y−1), "delta"}``,
kinds ``carried`` (table 三), ``in_force`` (2021 template), ``prev_items`` (2019 template).

Each report is written in one format, taken in turn from ``formats`` (any format of
``eval/corpus.py``; the default is the text formats), as ``docs/<name>.<fmt>`` beside
``gold/<name>.json``; ``manifest.csv`` lists ``path, agency, year, template, format``.
"""

from __future__ import annotations

import csv
import functools
import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..bundled import GOLD, SEEDS
from ..extract.load import load
from ..schemas.template import T3_COLUMNS, TemplateId
from .corpus import random_tables, write_formats
from .layout import ReportLayout
from .render import layout_from_document

ARCHIVE_FORMATS = ("txt", "md", "html", "docx")
# Agencies of the generated archive: a place × a department, real-looking so a region
# resolver has something to resolve; 30 × 20 = 600 distinct names, then numbered.
PLACES = (
    "聊城市", "张店区", "惠济区", "淄博市", "东昌府区", "枣庄市", "山亭区", "文登区", "威海市", "郑州市",
    "济南市", "历下区", "青岛市", "市南区", "烟台市", "芝罘区", "潍坊市", "奎文区", "临沂市", "兰山区",
    "济宁市", "任城区", "泰安市", "泰山区", "德州市", "德城区", "滨州市", "滨城区", "菏泽市", "牡丹区",
)  # fmt: skip
DEPARTMENTS = (
    "卫生健康委员会", "教育局", "民政局", "司法局", "市场监督管理局", "人力资源和社会保障局", "财政局", "交通运输局",
    "自然资源和规划局", "生态环境局", "住房和城乡建设局", "农业农村局", "商务局", "文化和旅游局", "应急管理局",
    "审计局", "统计局", "医疗保障局", "退役军人事务局", "水利局",
)  # fmt: skip
FIRST_YEARS = (2019, 2020, 2021)


def agency_name(a: int) -> str:
    """The ``a``-th agency of an archive (distinct for every ``a``)."""
    n = len(PLACES) * len(DEPARTMENTS)
    # Place p = a mod 30, department (p + 11·⌊a/30⌋) mod 20: distinct, and neighbours differ in both.
    place, dept = PLACES[a % len(PLACES)], DEPARTMENTS[(a + a // len(PLACES)) % len(DEPARTMENTS)]
    return f"{place}{dept}" if a < n else f"{place}第{a // n + 1}{dept}"


# Seeds by template: (seed stem, the agency as its title names it, its year).
_SEEDS: dict[TemplateId, tuple[str, ...]] = {"2021": ("000_25a82b73f95a5995", "003_d746fab4eb0be43f"), "2019": ("002_9607eda7a8c79f66",)}
T2_CHAIN_2021 = ("rules", "normative")
T2_CHAIN_2019 = ("licensing", "other_services", "penalty", "coercion", "fees")
BREAK_KINDS = ("carried", "in_force", "prev_items")
_YEAR = re.compile(r"(?<!\d)(20\d{2})(?=\s*年)")
_DETAILS = tuple(c for c, _ in T3_COLUMNS if c != "total")


def template_of_year(year: int) -> TemplateId:
    return "2019" if year <= 2020 else "2021"


@dataclass
class Break:
    agency: str
    year: int
    prev_year: int
    kind: str
    keys: list[str]  # year y's fields the break touches
    prev_keys: list[str]  # year y−1's fields they must agree with
    delta: int


@dataclass
class ArchiveReport:
    name: str
    path: str  # relative to the archive folder
    agency: str
    year: int
    template: str
    format: str


@dataclass
class Archive:
    out: Path
    reports: list[ArchiveReport] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    pairs: int = 0  # consecutive (agency, y−1, y) pairs

    @property
    def paths(self) -> list[Path]:
        return [self.out / r.path for r in self.reports]


def _seed_text(stem: str) -> tuple[Path, dict[str, Any], str, int]:
    gold = json.loads((GOLD / f"{stem}.json").read_text(encoding="utf-8"))
    agency = gold["fields"]["meta.agency"]
    if isinstance(agency, dict):
        agency = agency["any_of"][0]
    return SEEDS / f"{stem}.txt", gold, str(agency), int(gold["fields"]["meta.year"])


def _rewrite(text: str, seed_agency: str, agency: str, shift: int) -> str:
    text = text.replace(seed_agency, agency)
    return _YEAR.sub(lambda m: str(int(m.group(1)) + shift), text) if shift else text


def _archive_layout(seed_path: Path, fields: dict[str, Any], template: TemplateId, seed_agency: str, agency: str, shift: int, marks: dict[str, str]) -> ReportLayout:
    """The seed's narrative with its agency and years rewritten, around tables of ``fields``."""
    layout = layout_from_document(load(seed_path), fields, template, marks)
    layout.title = _rewrite(layout.title, seed_agency, agency, shift)
    layout.blocks = [_rewrite(b, seed_agency, agency, shift) if isinstance(b, str) else b for b in layout.blocks]
    return layout


def _t3_totals(fields: dict[str, Any], row: str) -> None:
    fields[f"t3.{row}.total"] = sum(fields[f"t3.{row}.{c}"] for c in _DETAILS)


def chain(fields: dict[str, Any], prev: dict[str, Any] | None, template: TemplateId) -> None:
    """Make this year's tables agree with the previous year's (in place); the report stays consistent."""
    if template == "2019":
        # Keep each year's item count after 本年增/减 non-negative, so the next year can start from it.
        for row in T2_CHAIN_2019:
            fields[f"t2.{row}.change"] = max(fields[f"t2.{row}.change"], -fields[f"t2.{row}.prev_items"])
    if prev is None:
        return
    for c in _DETAILS:
        co, total, cf = prev[f"t3.carried_forward.{c}"], fields[f"t3.total.{c}"], fields[f"t3.carried_forward.{c}"]
        cf = max(cf, co - total)  # 本年新收 = 总计 + 结转下年度 − 上年结转 ≥ 0
        fields[f"t3.carried_over.{c}"], fields[f"t3.carried_forward.{c}"], fields[f"t3.new.{c}"] = co, cf, total + cf - co
    for row in ("new", "carried_over", "carried_forward"):
        _t3_totals(fields, row)
    prev_template = prev["meta.template"]
    if template == prev_template == "2021":
        for row in T2_CHAIN_2021:
            before = prev[f"t2.{row}.in_force"]
            fields[f"t2.{row}.repealed"] = min(fields[f"t2.{row}.repealed"], before + fields[f"t2.{row}.issued"])
            fields[f"t2.{row}.in_force"] = before + fields[f"t2.{row}.issued"] - fields[f"t2.{row}.repealed"]
    elif template == prev_template == "2019":
        for row in T2_CHAIN_2019:
            fields[f"t2.{row}.prev_items"] = prev[f"t2.{row}.prev_items"] + prev[f"t2.{row}.change"]
        for row in T2_CHAIN_2019:
            fields[f"t2.{row}.change"] = max(fields[f"t2.{row}.change"], -fields[f"t2.{row}.prev_items"])


def plant(rng: random.Random, fields: dict[str, Any], prev: dict[str, Any], template: TemplateId, agency: str, year: int) -> Break:
    """Put one cross-year break into this year's tables (in place), keeping the report consistent."""
    kinds = ["carried"]
    if template == prev["meta.template"] == "2021":
        kinds.append("in_force")
    if template == prev["meta.template"] == "2019":
        kinds.append("prev_items")
    kind = rng.choice(kinds)
    delta = rng.choice([1, 2, 3, 10])
    if kind == "carried":
        c = rng.choice(_DETAILS)
        # 上年结转 and 结转下年度 up by the same: the balance still holds, the chain does not.
        fields[f"t3.carried_over.{c}"] += delta
        fields[f"t3.carried_forward.{c}"] += delta
        _t3_totals(fields, "carried_over")
        _t3_totals(fields, "carried_forward")
        keys = [f"t3.carried_over.{c}", "t3.carried_over.total"]
        prev_keys = [f"t3.carried_forward.{c}", "t3.carried_forward.total"]
    elif kind == "in_force":
        row = rng.choice(T2_CHAIN_2021)
        fields[f"t2.{row}.in_force"] += delta
        keys = [f"t2.{row}.issued", f"t2.{row}.repealed", f"t2.{row}.in_force"]
        prev_keys = [f"t2.{row}.in_force"]
    else:
        row = rng.choice(T2_CHAIN_2019)
        fields[f"t2.{row}.prev_items"] += delta
        keys = [f"t2.{row}.prev_items"]
        prev_keys = [f"t2.{row}.prev_items", f"t2.{row}.change"]
    return Break(agency, year, year - 1, kind, keys, prev_keys, delta)


def generate_archive(
    out: Path,
    *,
    seed: int = 0,
    agencies: int = 4,
    years: int = 4,
    formats: tuple[str, ...] = ARCHIVE_FORMATS,
    break_share: float = 0.3,
    first_year: int | None = None,
) -> Archive:
    """Write ``agencies`` × ``years`` reports under ``out/docs`` (gold under ``out/gold``), their
    manifest and ``archive.json`` with every planted break.  ``first_year`` starts every agency in
    that year (default: 2019, 2020 or 2021 in turn, so some agencies change template)."""
    rng = random.Random(seed)
    (out / "docs").mkdir(parents=True, exist_ok=True)
    (out / "gold").mkdir(parents=True, exist_ok=True)
    archive = Archive(out)
    k = 0
    for a in range(agencies):
        agency = agency_name(a)
        start = first_year if first_year is not None else FIRST_YEARS[a % len(FIRST_YEARS)]
        prev: dict[str, Any] | None = None
        for year in range(start, start + years):
            template = template_of_year(year)
            stems = _SEEDS[template]
            seed_path, seed_gold, seed_agency, seed_year = _seed_text(stems[a % len(stems)])
            fields = {k2: v for k2, v in seed_gold["fields"].items() if not k2.startswith(("t2.", "t3.", "t4."))}
            fields.update({"meta.agency": agency, "meta.year": year, "meta.template": template})
            fields.update(random_tables(rng, template, rng.choice(["zero", "number", "number"])))
            chain(fields, prev, template)
            planted: Break | None = None
            if prev is not None:
                archive.pairs += 1
                if rng.random() < break_share:
                    planted = plant(rng, fields, prev, template, agency, year)
                    archive.breaks.append(planted)
            fmt = formats[k % len(formats)]
            name = f"arc{seed:03d}_{a:03d}_{year}"
            shift = year - seed_year
            relayout = functools.partial(_archive_layout, seed_path, fields, template, seed_agency, agency, shift)
            notes = f"archive: {agency} {year} from {seed_path.stem}; cross_year_break=" + (f"{planted.kind}:{','.join(planted.keys)}+{planted.delta}" if planted else "none")
            gold: dict[str, Any] = {"source": f"{name}.{fmt}", "fields": fields, "absent": [], "notes": notes}
            paths, scraped = write_formats(out, name, k, seed, relayout({}), relayout, fields, template, {}, gold, (fmt,), rng)
            if scraped:
                gold["notes"] += "; " + "; ".join(scraped)
            (out / "gold" / f"{name}.json").write_text(json.dumps(gold, ensure_ascii=False, indent=1), encoding="utf-8")
            for p in paths:
                archive.reports.append(ArchiveReport(p.stem.split(".")[0], str(p.relative_to(out)), agency, year, template, fmt))
            prev = fields
            k += 1
    _write_manifests(archive)
    return archive


def _write_manifests(archive: Archive) -> None:
    with (archive.out / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "agency", "year", "template", "format"])
        for r in archive.reports:
            w.writerow([r.path, r.agency, r.year, r.template, r.format])
    doc = {"pairs": archive.pairs, "reports": [asdict(r) for r in archive.reports], "breaks": [asdict(b) for b in archive.breaks]}
    (archive.out / "archive.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def load_archive(out: Path) -> Archive:
    """An archive written by ``generate_archive``, read back from its ``archive.json``."""
    doc = json.loads((out / "archive.json").read_text(encoding="utf-8"))
    return Archive(out, [ArchiveReport(**r) for r in doc["reports"]], [Break(**b) for b in doc["breaks"]], doc["pairs"])
