"""Analysis tables out of the results store: long form and wide form, as Parquet and CSV.

``nianbao tables OUT/nianbao.db --out DIR`` writes four files, all from the store's current
values (the latest correction, else the machine's), each loading in one line::

    pandas.read_parquet("DIR/wide.parquet")      duckdb.sql("FROM 'DIR/long.parquet'")
    polars.read_parquet("DIR/wide.parquet")      pandas.read_csv("DIR/wide.csv")

**long.parquet / long.csv** — a row per field of every readable report, in template order
(the rows of ``nianbao export``, ``nianbao.store.export``, with the report's id first):

=============== ============== ==========================================================
column          Parquet type   meaning
=============== ============== ==========================================================
report_id       int64          the report (``wide.report_id``; ``reports.id`` in the store)
source          string         the input path as given to extract
sha256          string         content hash of the input file
review_state    string         unreviewed, in_review, done
key             string         a flat key of spec/fields.md
value           string         the value as text (numbers as JSON writes them); null for none
number          float64        the value as a number where it is one (for sums)
state           string         number, text, blank, dash, not_found
raw             string         the text the value was read from
method          string         how it was read (``human`` where a reviewer changed it)
confidence      float64        0..1 (1.0 for a reviewer's value)
corrected       bool           a reviewer changed the value
machine_value   string         the machine's value, where changed
machine_state   string         the machine's state, where changed
reviewer        string         who corrected or confirmed it
corrected_at    string         when (UTC ISO 8601)
why             string         the reviewer's reason
file            string         provenance: the file the value is in
page            int64          provenance: 1-based page
bbox            list<float64>  provenance: [x0, y0, x1, y1] (points, or pixels of ``image``)
span            list<int64>    provenance: [start, end) character offsets in the text
xpath           string         provenance: the HTML/DOCX element
image           string         provenance: the picture OCR read
flags           list<string>   the review reasons that stand now (cross-year ones included)
=============== ============== ==========================================================

In CSV the lists are joined (``bbox`` by spaces, ``span`` as ``start-end``, ``flags`` by
``; ``), booleans are ``true``/``false``, a missing value is an empty cell, and a text cell
that a spreadsheet would run as a formula gets a leading ``'``.

**wide.parquet / wide.csv** — a row per report (readable or not), ordered by ``report_id``:

=============================== ============== ==============================================
column                          Parquet type   meaning
=============================== ============== ==============================================
report_id                       int64          the report
source, sha256                  string         input path and content hash
status                          string         ok or error (an error row has no field values)
format, template                string         input format; 2019 or 2021 as read
year                            int64          the year as read
agency                          string         the agency as read
region_* (when resolved)        string         ``region_province_code``, ``region_province``,
                                               ``region_city_code``, ``region_city``,
                                               ``region_county_code``, ``region_county``,
                                               ``region_town_code``, ``region_town``,
                                               ``region_level``, ``region_body``,
                                               ``region_agency_type`` from
                                               ``nianbao.regions.resolve(agency)``; left out
                                               where no resolver is installed
review_state                    string         unreviewed, in_review, done
flagged                         int64          fields with standing review reasons
one column per fields.md key    see below      the current value; null for blank, '/', not
                                               found, and keys of the other template
=============================== ============== ==============================================

Key columns follow fields.md's order: ``meta.*``, table 二 of the 2021 template then the
2019-only keys, table 三 (rows of both templates, ``other.all`` after ``other.other``) ×
columns, table 四, narrative facts.  ``meta.agency`` and ``meta.template`` are strings,
``t2.fees.amount`` and ``t2.procurement.amount`` float64, every other key int64 (nullable).
``meta.*`` columns carry the current (possibly corrected) values; ``agency``/``year``/
``template`` are the machine's reading.  A value's state, raw text and provenance are in
the long form (join on ``report_id``).
"""

from __future__ import annotations

import csv
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .outputs import spreadsheet_safe
from .schemas.template import DECIMAL_KEYS, META_KEYS, NARRATIVE_KEYS, T2_ROWS, T3_COLUMNS, T3_ROWS, t4_keys
from .store.export import EXPORT_COLUMNS, _flat_cell, parquet_schema, rows, value_text
from .store.review import ResultsStore
from .store.schema import loads

LONG_COLUMNS = ("report_id", *EXPORT_COLUMNS)
REPORT_COLUMNS = ("report_id", "source", "sha256", "status", "format", "template", "year", "agency")
TAIL_COLUMNS = ("review_state", "flagged")
REGION_ATTRS = ("province_code", "province", "city_code", "city", "county_code", "county", "town_code", "town", "level", "body", "agency_type")
TEXT_KEYS = frozenset({"meta.agency", "meta.template"})
FILES = ("long.parquet", "long.csv", "wide.parquet", "wide.csv")


def wide_keys() -> list[str]:
    """Every key of fields.md once, in its order (both templates)."""
    out: list[str] = [*META_KEYS]
    for template in ("2021", "2019"):
        out += [k for k in (f"t2.{r.key}.{c}" for r in T2_ROWS[template] for c in r.columns) if k not in out]
    t3_rows = [r.key for r in T3_ROWS["2021"]]
    t3_rows.insert(t3_rows.index("other.other") + 1, "other.all")
    out += [f"t3.{r}.{c}" for r in t3_rows for c, _ in T3_COLUMNS]
    return [*out, *t4_keys(), *NARRATIVE_KEYS]


# ---- long form ---------------------------------------------------------------------


def long_rows(store: ResultsStore) -> Iterator[dict[str, Any]]:
    ids = {r["source"]: r["id"] for r in store.conn.execute("SELECT id, source FROM reports")}
    for row in rows(store):
        yield {"report_id": ids[row["source"]], **row}


def _long_schema() -> Any:
    import pyarrow as pa

    base = parquet_schema()
    return pa.schema([pa.field("report_id", pa.int64()), *base])


# ---- wide form ---------------------------------------------------------------------


def _region(agency: str | None) -> dict[str, str | None]:
    from .crossyear import resolved

    place = resolved(agency) if agency else None
    return {f"region_{a}": getattr(place, a, None) if place is not None else None for a in REGION_ATTRS}


def has_resolver() -> bool:
    try:
        from . import regions  # noqa: F401
    except ImportError:
        return False
    return True


def wide_columns(with_region: bool) -> list[str]:
    region = [f"region_{a}" for a in REGION_ATTRS] if with_region else []
    return [*REPORT_COLUMNS, *region, *TAIL_COLUMNS, *wide_keys()]


def _cell(key: str, state: str, value: Any) -> Any:
    if state not in ("number", "text") or value is None:
        return None
    if key in TEXT_KEYS:
        return str(value)
    if key in DECIMAL_KEYS:
        return float(value) if isinstance(value, (int, float)) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value))
    except ValueError:
        return None


def wide_rows(store: ResultsStore, *, with_region: bool | None = None) -> Iterator[dict[str, Any]]:
    with_region = has_resolver() if with_region is None else with_region
    keys = wide_keys()
    conn: sqlite3.Connection = store.conn
    fields = conn.execute("SELECT report_id, key, state, value, flags FROM current_fields ORDER BY report_id")
    pending = next(fields, None)
    for r in conn.execute("SELECT * FROM reports ORDER BY id").fetchall():
        item: dict[str, Any] = {c: r["id"] if c == "report_id" else r[c] for c in REPORT_COLUMNS}
        if with_region:
            item.update(_region(r["agency"]))
        item["review_state"] = r["review_state"]
        values = dict.fromkeys(keys)
        flagged = 0
        while pending is not None and pending["report_id"] < r["id"]:
            pending = next(fields, None)  # a field of a report not listed (cannot happen: a foreign key)
        while pending is not None and pending["report_id"] == r["id"]:
            if pending["key"] in values:
                values[pending["key"]] = _cell(pending["key"], pending["state"], loads(pending["value"]))
            flagged += pending["flags"] != "[]"
            pending = next(fields, None)
        item["flagged"] = flagged
        item.update(values)
        yield item


def wide_schema(with_region: bool) -> Any:
    import pyarrow as pa

    def kind(c: str) -> Any:
        if c in ("report_id", "year", "flagged"):
            return pa.int64()
        if c in DECIMAL_KEYS:
            return pa.float64()
        if c.startswith(("t2.", "t3.", "t4.", "s1.", "s6.")) or c == "meta.year":
            return pa.int64()
        return pa.string()

    return pa.schema([(c, kind(c)) for c in wide_columns(with_region)])


# ---- writing -----------------------------------------------------------------------


class _Parquet:
    """Rows to a Parquet file, a batch at a time: a large store is never held whole."""

    BATCH = 50_000

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.schema, self.n = schema, 0
        self.chunk: list[dict[str, Any]] = []
        self.writer = pq.ParquetWriter(path, schema)

    def add(self, item: dict[str, Any]) -> None:
        self.chunk.append(item)
        if len(self.chunk) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        self.writer.write_table(pa.Table.from_pylist(self.chunk, schema=self.schema))
        self.n += len(self.chunk)
        self.chunk = []

    def close(self) -> int:
        if self.chunk or self.n == 0:
            self._flush()
        self.writer.close()
        return self.n


def _both(items: Iterator[dict[str, Any]], schema: Any, columns: tuple[str, ...] | list[str], out: Path, stem: str, long: bool) -> int:
    """One pass over the rows into ``stem.parquet`` and ``stem.csv``, each renamed into place when whole."""
    parts = [out / f"{stem}.parquet.part", out / f"{stem}.csv.part"]
    try:
        pq = _Parquet(parts[0], schema)
        with parts[1].open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(columns)
            for item in items:
                if long:
                    pq.add({**item, "value": value_text(item["value"]), "machine_value": value_text(item["machine_value"])})
                    w.writerow(["" if item[c] is None else item[c] if c == "report_id" else _flat_cell(c, item[c]) for c in columns])
                else:
                    pq.add(item)
                    w.writerow(["" if item[c] is None else spreadsheet_safe(item[c]) if isinstance(item[c], str) else item[c] for c in columns])
        n = pq.close()
        for part in parts:
            os.replace(part, part.with_name(part.name.removesuffix(".part")))
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return n


def write_tables(store: ResultsStore, out: Path, *, with_region: bool | None = None) -> dict[str, int]:
    """Write long and wide form as Parquet and CSV into ``out``; returns rows per file."""
    out.mkdir(parents=True, exist_ok=True)
    region = has_resolver() if with_region is None else with_region
    long_schema, wide = _long_schema(), wide_schema(region)
    columns = wide_columns(region)
    n_long = _both(long_rows(store), long_schema, LONG_COLUMNS, out, "long", True)
    n_wide = _both(wide_rows(store, with_region=region), wide, columns, out, "wide", False)
    return {"long.parquet": n_long, "long.csv": n_long, "wide.parquet": n_wide, "wide.csv": n_wide}
