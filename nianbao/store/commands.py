"""The store's commands: ``nianbao export``, ``nianbao promote`` and ``nianbao import-labels``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from .export import FORMATS
from .schema import StoreError

LABEL_STUDIO = "label-studio"


def _console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _export(args: argparse.Namespace) -> int:
    from .export import export
    from .review import ResultsStore

    console = _console()
    try:
        with ResultsStore(Path(args.db)) as store:
            if args.format == LABEL_STUDIO:
                from ..labelstudio import export_tasks

                n, config = export_tasks(store, Path(args.out))
                console.print(escape(f"{n} flagged fields as Label Studio tasks → {args.out} (labelling config: {config})"))
                return 0
            n = export(store, args.format, Path(args.out))
    except StoreError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    console.print(escape(f"{n} fields → {args.out}"))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from .export import promote
    from .review import ResultsStore

    console = _console()
    try:
        with ResultsStore(Path(args.db)) as store:
            path = promote(store, args.source, Path(args.gold_dir))
    except StoreError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    console.print(escape(f"gold → {path}"))
    return 0


def _import_labels(args: argparse.Namespace) -> int:
    from ..labelstudio import import_labels
    from .review import ResultsStore

    console = _console()
    try:
        with ResultsStore(Path(args.db)) as store:
            result = import_labels(store, Path(args.file), args.reviewer)
    except (StoreError, OSError, ValueError) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    for line in result.refused:
        console.print(f"[yellow]refused[/yellow] {escape(line)}")
    console.print(f"{result.applied} corrections imported, {result.skipped} tasks without a new answer, {len(result.refused)} refused")
    return 1 if result.refused else 0


def add_store_commands(sub: Any) -> None:
    """Add export, promote and import-labels to the ``nianbao`` command's subparsers."""
    x = sub.add_parser("export", help="write the corrected dataset from a results store (JSONL, CSV, Parquet) or its flagged fields as Label Studio tasks")
    x.add_argument("db", help="results store, e.g. out/nianbao.db")
    x.add_argument("--format", required=True, choices=[*FORMATS, LABEL_STUDIO])
    x.add_argument("--out", required=True, help="file to write")
    x.set_defaults(func=_export)
    p = sub.add_parser("promote", help="turn a fully reviewed report (review state done) into a gold file")
    p.add_argument("db", help="results store")
    p.add_argument("source", help="the report: its source as stored, its file name, or its id")
    p.add_argument("--gold-dir", required=True, help="folder of gold JSON files (nianbao eval --gold)")
    p.set_defaults(func=_promote)
    i = sub.add_parser("import-labels", help="apply a Label Studio JSON export's annotations as corrections")
    i.add_argument("db", help="results store")
    i.add_argument("file", help="Label Studio export (JSON or JSON-MIN)")
    i.add_argument("--reviewer", required=True, help="name recorded on every imported correction")
    i.set_defaults(func=_import_labels)
