"""Archive commands: ``nianbao tables``, ``nianbao crossyear``, ``nianbao summary`` and ``nianbao archive-corpus``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from .store.schema import StoreError


def _console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _tables(args: argparse.Namespace) -> int:
    from .store.review import ResultsStore
    from .tables import write_tables

    console = _console()
    try:
        with ResultsStore(Path(args.db)) as store:
            counts = write_tables(store, Path(args.out), with_region=False if args.no_region else None)
    except StoreError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    for name, n in counts.items():
        console.print(escape(f"{n:>8} rows → {Path(args.out) / name}"))
    return 0


def _crossyear(args: argparse.Namespace) -> int:
    import json

    from .store.crossyear import run_on_file

    console = _console()
    try:
        run = run_on_file(Path(args.db))
    except StoreError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    for c in run.failed[: args.show]:
        console.print(f"[yellow]failed[/yellow] {escape(c.group)} {escape(c.reason().removeprefix('check failed: cross-year '))}")
    o = run.outcomes
    console.print(
        f"{run.reports} reports, {run.groups} agencies, {run.pairs} consecutive-year pairs: "
        f"{o.get('passed', 0)} checks passed, {o.get('failed', 0)} failed, {o.get('not_assessable', 0)} not assessable; "
        f"{run.flagged_fields} fields flagged"
    )
    if args.json_out:
        rows = [{**c.__dict__} for c in run.checks]
        Path(args.json_out).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if args.fail_on_break and run.failed else 0


def _summary(args: argparse.Namespace) -> int:
    from .store.schema import connect
    from .summary import write_summary

    console = _console()
    try:
        conn = connect(Path(args.db))
    except StoreError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    try:
        summary = write_summary(conn, Path(args.html), level=args.level, source=str(args.db))
    finally:
        conn.close()
    first = summary.tables[0]
    console.print(escape(f"{len(first.rows)} region-year rows, {sum(r[2] for r in first.rows)} reports → {args.html}"))
    return 0


def _archive_corpus(args: argparse.Namespace) -> int:
    try:
        import reportlab  # noqa: F401
    except ImportError:
        _console().print("archive-corpus needs the corpus extras: pip install 'nianbao[corpus]'")
        return 2
    from .eval.archive import ARCHIVE_FORMATS, generate_archive

    formats = tuple(f for f in args.formats.split(",") if f) if args.formats else ARCHIVE_FORMATS
    archive = generate_archive(Path(args.out), seed=args.seed, agencies=args.agencies, years=args.years, formats=formats, break_share=args.break_share)
    _console().print(
        escape(f"{len(archive.reports)} documents ({args.agencies} agencies × {args.years} years) in {args.out}/docs, gold in {args.out}/gold; "
               f"{len(archive.breaks)} cross-year breaks planted in {archive.pairs} year pairs ({args.out}/archive.json, manifest.csv)")
    )  # fmt: skip
    return 0


def add_archive_commands(sub: Any) -> None:
    """Add tables, crossyear, summary and archive-corpus to the ``nianbao`` command's subparsers."""
    t = sub.add_parser("tables", help="write long and wide tables (Parquet and CSV) of a results store's current values")
    t.add_argument("db", help="results store, e.g. out/nianbao.db")
    t.add_argument("--out", required=True, help="folder for long.parquet, long.csv, wide.parquet, wide.csv")
    t.add_argument("--no-region", action="store_true", help="leave out the region columns even where a resolver is installed")
    t.set_defaults(func=_tables)
    c = sub.add_parser("crossyear", help="check each agency's consecutive years against each other (上年结转 = 结转下年度, 现行有效件数, 上一年项目数量); flags both years, changes nothing")
    c.add_argument("db", help="results store")
    c.add_argument("--json", dest="json_out", help="write every judged check here as JSON")
    c.add_argument("--show", type=int, default=50, help="list at most this many failures (default 50)")
    c.add_argument("--fail-on-break", action="store_true", help="exit 1 when a cross-year check fails")
    c.set_defaults(func=_crossyear)
    s = sub.add_parser("summary", help="write an HTML summary per region and year: reports, applications, outcomes, relation failures")
    s.add_argument("db", help="results store")
    s.add_argument("--html", required=True, help="HTML file to write")
    s.add_argument("--level", choices=["province", "city", "county"], default="city", help="region level of the rows (default city)")
    s.set_defaults(func=_summary)
    a = sub.add_parser("archive-corpus", help="generate a multi-year archive (agencies × consecutive years, tables chained across years, planted cross-year breaks)")
    a.add_argument("--out", default="archive", help="output folder (default: archive)")
    a.add_argument("--seed", type=int, default=0, help="the same seed gives the same archive")
    a.add_argument("--agencies", type=int, default=8, help="agencies (default 8)")
    a.add_argument("--years", type=int, default=4, help="consecutive years per agency (default 4)")
    a.add_argument("--formats", default="", help="formats taken in turn, one per report: any of nianbao corpus's (default txt,md,html,docx)")
    a.add_argument("--break-share", type=float, default=0.3, help="share of year pairs with a planted cross-year break (default 0.3)")
    a.set_defaults(func=_archive_corpus)
