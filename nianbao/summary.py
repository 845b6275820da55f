"""The archive summary: per region and year, reports, applications, outcomes and relation failures.

``nianbao summary OUT/nianbao.db --html FILE`` writes one self-contained HTML page (no
script, no outside resource): three tables, each followed by one bar chart drawn as
inline SVG.  Every text from the store (agency and place names) is HTML-escaped.

Rows are (region, year).  The region is the agency's place from ``nianbao.regions.resolve``
at ``--level`` province, city (default) or county (a county-level agency counts under its
city at level city); ``(unresolved)`` where the resolver cannot place it, and ``—`` for
every row where no resolver is installed.  Values are the store's current ones.

1. **Reports and applications**: reports, readable reports, applications (Σ ``t3.new.total``),
   outcomes (Σ of the result rows' 总计: granted … other), carried to next year
   (Σ ``t3.carried_forward.total``).  Chart: applications.
2. **Outcomes**: Σ of each result group's 总计: 予以公开, 部分公开, 不予公开 (denied.*), 无法提供
   (unavailable.*), 不予处理 (not_processed.*), 其他处理 (other.*).  Chart: stacked.
3. **Relation failures**: reports with a failed within-report check, failed within-report
   checks (the current set of ``checks``), failed cross-year checks (counted at the later
   year; ``nianbao crossyear`` first).  Chart: the two failure counts, stacked.
"""

from __future__ import annotations

import html
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .schemas.template import T3_RESULT_ROWS
from .store.crossyear import failures_by_report
from .store.schema import loads

LEVELS = ("province", "city", "county")
UNRESOLVED = "(unresolved)"
NO_RESOLVER = "—"
OUTCOME_GROUPS = (("granted", "予以公开"), ("partial", "部分公开"), ("denied", "不予公开"), ("unavailable", "无法提供"), ("not_processed", "不予处理"), ("other", "其他处理"))
_RESULT_ROWS = frozenset(r for rows in T3_RESULT_ROWS.values() for r in rows)
MAX_UNRESOLVED = 200
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1")


@dataclass
class Table:
    title: str
    columns: list[str]  # the first two are region and year
    rows: list[list[Any]]
    chart: list[str]  # the columns the chart draws (stacked when several)


@dataclass
class Summary:
    level: str
    tables: list[Table] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # agencies the resolver could not place


def region_label(agency: str | None, level: str) -> str:
    from .crossyear import resolved

    try:
        from . import regions  # noqa: F401
    except ImportError:
        return NO_RESOLVER
    place = resolved(agency) if agency else None
    if place is None:
        return UNRESOLVED
    names = {"province": [place.province], "city": [place.province, place.city], "county": [place.province, place.city, place.county]}[level]
    parts = [n for n in names if n]
    # An agency above the level asked for (a city's bureau at level county) stays at its own place.
    return " ".join(dict.fromkeys(parts)) if parts else UNRESOLVED


def build(conn: sqlite3.Connection, *, level: str = "city") -> Summary:
    if level not in LEVELS:
        raise ValueError(f"level {level!r}: use one of {', '.join(LEVELS)}")
    reports = conn.execute("SELECT id, status, agency, year FROM reports").fetchall()
    totals: dict[int, dict[str, float]] = defaultdict(dict)
    sql = "SELECT report_id, key, value FROM current_fields WHERE state = 'number' AND key LIKE 't3.%.total'"
    for row in conn.execute(sql):
        v = loads(row["value"])
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            totals[row["report_id"]][row["key"][3:-6]] = float(v)
    within: dict[int, int] = defaultdict(int)
    for row in conn.execute("SELECT report_id, count(*) AS n FROM checks WHERE current = 1 AND outcome = 'failed' GROUP BY report_id"):
        within[row["report_id"]] = row["n"]
    cross = failures_by_report(conn)
    labels: dict[str, str] = {}
    agg: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in reports:
        agency = r["agency"]
        if agency not in labels:
            labels[agency] = region_label(agency, level)
        key = (labels[agency], str(r["year"]) if r["year"] is not None else "?")
        a = agg[key]
        a["reports"] += 1
        if r["status"] != "ok":
            continue
        t = totals.get(r["id"], {})
        a["readable"] += 1
        a["applications"] += t.get("new", 0)
        a["carried_forward"] += t.get("carried_forward", 0)
        for row, value in t.items():
            if row in _RESULT_ROWS:
                a["outcomes"] += value
                a[row.split(".", 1)[0]] += value
        a["failed_reports"] += within[r["id"]] > 0
        a["within"] += within[r["id"]]
        a["cross"] += cross[r["id"]]
    keys = sorted(agg, key=lambda k: (k[0] in (UNRESOLVED, NO_RESOLVER), k[0], k[1]))
    unresolved = sorted(a for a, label in labels.items() if a and label == UNRESOLVED)

    def table(title: str, names: list[tuple[str, str]], chart: list[str]) -> Table:
        return Table(title, ["region", "year", *(label for _, label in names)], [[k[0], k[1], *(_int(agg[k][n]) for n, _ in names)] for k in keys], chart)

    return Summary(
        level,
        [
            table(
                "Reports and applications",
                [("reports", "reports"), ("readable", "readable"), ("applications", "applications"), ("outcomes", "outcomes"), ("carried_forward", "carried to next year")],
                ["applications"],
            ),
            table("Outcomes", list(OUTCOME_GROUPS), [label for _, label in OUTCOME_GROUPS]),
            table(
                "Relation failures",
                [("failed_reports", "reports with a failed check"), ("within", "failed checks (within report)"), ("cross", "failed cross-year checks")],
                ["failed checks (within report)", "failed cross-year checks"],
            ),
        ],
        unresolved,
    )


def _int(v: float) -> int | float:
    return int(v) if float(v).is_integer() else round(v, 2)


# ---- HTML ----------------------------------------------------------------------------


def _e(v: object) -> str:
    return html.escape(str(v), quote=True)


def bar_chart(table: Table) -> str:
    """Horizontal bars, one per row, stacked over the chart's columns; inline SVG, text escaped."""
    idx = [table.columns.index(c) for c in table.chart]
    sums = [sum(float(row[i] or 0) for i in idx) for row in table.rows]
    top = max(sums, default=0) or 1
    bar, gap, label_w, width, legend_h = 18, 6, 220, 480, 24
    height = legend_h + len(table.rows) * (bar + gap) + gap
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + width + 80}" height="{height}" viewBox="0 0 {label_w + width + 80} {height}">', f"<title>{_e(table.title)}</title>"]
    x = label_w
    for k, name in enumerate(table.chart):
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/><text x="{x + 16}" y="14" font-size="11">{_e(name)}</text>')
        x += 24 + 7 * len(name) + 14 * sum(ord(ch) > 0x2E80 for ch in name) // 2
    for n, (row, total) in enumerate(zip(table.rows, sums)):
        y = legend_h + gap + n * (bar + gap)
        out.append(f'<text x="{label_w - 6}" y="{y + bar - 5}" font-size="11" text-anchor="end">{_e(row[0])} {_e(row[1])}</text>')
        x0 = float(label_w)
        for k, i in enumerate(idx):
            w = width * float(row[i] or 0) / top
            if w > 0:
                out.append(f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[k % len(PALETTE)]}"><title>{_e(table.columns[i])}: {_e(row[i])}</title></rect>')
            x0 += w
        out.append(f'<text x="{x0 + 4:.1f}" y="{y + bar - 5}" font-size="11">{_e(_int(total))}</text>')
    out.append("</svg>")
    return "".join(out)


def render_html(summary: Summary, *, title: str = "nianbao archive summary", source: str = "") -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right}th{background:#f4f4f4}</style>",
        "</head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(source)} — rows by region ({_e(summary.level)}) and year.</p>" if source else f"<p>Rows by region ({_e(summary.level)}) and year.</p>",
    ]
    for t in summary.tables:
        parts.append(f"<section><h2>{_e(t.title)}</h2><table><thead><tr>{''.join(f'<th>{_e(c)}</th>' for c in t.columns)}</tr></thead><tbody>")
        for row in t.rows:
            cells = "".join(f'<td class="n">{_e(v)}</td>' if isinstance(v, (int, float)) else f"<td>{_e(v)}</td>" for v in row)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
        parts.append(f'<figure>{bar_chart(t)}<figcaption>{_e(t.title)}: {_e(", ".join(t.chart))}</figcaption></figure></section>')
    if summary.unresolved:
        shown = summary.unresolved[:MAX_UNRESOLVED]
        more = f" and {len(summary.unresolved) - len(shown)} more" if len(summary.unresolved) > len(shown) else ""
        parts.append(f"<section><h2>Agencies not placed</h2><p>{len(summary.unresolved)} agency names the region resolver could not place (a manifest's region columns place them):</p>")
        parts.append(f"<p>{'、'.join(_e(a) for a in shown)}{_e(more)}</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_summary(conn: sqlite3.Connection, path: Path, *, level: str = "city", source: str = "") -> Summary:
    summary = build(conn, level=level)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(render_html(summary, source=source), encoding="utf-8")
    tmp.replace(path)
    return summary
