"""The ``nianbao`` command line."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from .archive_commands import add_archive_commands
from .batch import Plan, default_workers, plan, run_rules, stop_on_signals, write
from .engines import fingerprint
from .engines.items import Item, expand_inputs
from .eval.cli import add_gate_options
from .eval.llm_args import add_llm_options
from .extract.limits import Limits, parse_amount
from .outputs import OutputExists, OutputInUse, Writer, committed_count, latest_records, write_fingerprint
from .pipeline import Record
from .review.command import add_review_command
from .store.commands import add_store_commands
from .store.schema import STORE_FILE, StoreError


class _RateColumn(ProgressColumn):
    """Files per second over the run so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.1f} files/s", style="progress.data.speed")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=console, disable=not console.is_terminal,
    )  # fmt: skip


def _plan_line(work: Plan) -> str:
    reasons = ", ".join(f"{n} {why}" for why, n in work.reasons.most_common())
    unchanged = f"; {work.skipped} unchanged since their record, not read again" if work.skipped else ""
    return f"{len(work.todo)} to read ({reasons or 'none'}){unchanged}"


def _extract(args: argparse.Namespace) -> int:
    console = Console(stderr=True, soft_wrap=True)
    out = Path(args.out)
    try:
        limits = Limits.from_env(None, **dict(_limit_option(o) for o in args.limit))
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        console.print("[red]--workers must be 1 or more[/red]")
        return 2
    if args.engine == "ray" and (args.llm or args.dry_run):
        console.print("[red]--engine ray runs the rules only; an LLM run uses --workers on this machine[/red]")
        return 2
    try:
        files = expand_inputs(args.inputs, Path(args.manifest) if args.manifest else None, cache_dir=out / ".inputs", limits=limits, hash_workers=max(4, workers))
    except (ValueError, OSError) as exc:  # nianbao.manifest.ManifestError is a ValueError
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    if not files:
        console.print("[red]no input files[/red]")
        return 2
    resume = args.resume or args.retry_failed
    mode = "resume" if resume else "overwrite" if args.overwrite else "new"
    store = None if args.no_store else Path(args.store) if args.store else out / STORE_FILE
    try:
        writer = Writer(out, mode, store=store)
    except (OutputInUse, OutputExists, StoreError, sqlite3.Error) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    with writer:
        if args.llm or args.dry_run:
            return _extract_llm(args, files, writer, limits, workers, console)
        parts = fingerprint.components(limits)
        digest = fingerprint.digest(parts)
        with _progress(console) as progress:
            task = progress.add_task("extracting", total=None)

            def planned(work: Plan) -> None:
                console.print(escape(_plan_line(work)))
                progress.update(task, total=len(work.todo))

            def shown(record: Record) -> None:
                if record.status != "ok":
                    console.print(f"[yellow]error[/yellow] {escape(record.source)}: {escape(record.error or '')}")
                progress.advance(task)

            summary = run_rules(
                files, writer, limits=limits, on_record=shown, workers=workers, engine=args.engine, ray_address=args.ray_address,
                fingerprint=digest, retry_failed=args.retry_failed, on_plan=planned,
            )  # fmt: skip
        write_fingerprint(out, parts, digest)
    console.print(escape(summary.line(out, store)))
    for line in summary.details():
        console.print(escape(line))
    return summary.exit_status


def _limit_option(text: str) -> tuple[str, float]:
    """``--limit seconds_per_file=60`` → ("seconds_per_file", 60.0)."""
    name, sep, value = text.partition("=")
    name = name.strip().lower().removeprefix("nianbao_")
    if not sep or name not in Limits.__dataclass_fields__:
        raise ValueError(f"--limit {text!r}: expected NAME=VALUE with NAME one of {', '.join(Limits.__dataclass_fields__)}")
    try:
        amount = parse_amount(value)
        return name, amount if Limits.__dataclass_fields__[name].type in ("float", float) else int(amount)
    except ValueError:
        raise ValueError(f"--limit {text!r}: {value!r} is not a number") from None


def _extract_llm(args: argparse.Namespace, files: list[Item], writer: Writer, limits: Limits, workers: int, console: Console) -> int:
    from .eval.llm_args import llm_config
    from .llm_batch import llm_fingerprint, run_batch

    config = llm_config(args)
    if not config.model and not args.dry_run:
        console.print("[red]--llm needs a model: --llm-model, NIANBAO_LLM_MODEL or [llm] model in --llm-config[/red]")
        return 2
    out = writer.dir
    parts, digest = llm_fingerprint(config, limits, dry_run=args.dry_run)
    committed = latest_records(out) if writer.resumed else {}
    work = plan(files, committed, digest, limits, retry_failed=args.retry_failed)
    console.print(escape(_plan_line(work)))
    with stop_on_signals() as stop:
        records, total = run_batch(work.todo, config, dry_run=args.dry_run, on_record=lambda r: write(writer, r), limits=limits, workers=workers, fingerprint=digest, stop=stop)
    if any(item.source in committed for item in work.todo) or (writer.resumed and committed_count(out) > len(committed)):
        writer.compact()
    write_fingerprint(out, parts, digest)
    errors = sum(r.status != "ok" for r in records)
    flagged = sum(len(r.review) for r in records)
    n = max(len(records) - errors, 1)
    if stop.is_set():
        console.print(f"interrupted after {len(records)} files; run again with --resume to continue")
        return 130
    if args.dry_run:
        pt, ct = total.estimated_prompt_tokens, total.estimated_completion_tokens
        console.print(f"dry run: {len(records)} files, about {pt} prompt + {ct} completion tokens ({(pt + ct) / n:.0f} per report), estimated cost {config.cost(pt, ct):.4f}; nothing was called")
        return 0
    u = total.usage
    console.print(
        f"{len(records)} files: {len(records) - errors} ok, {errors} errors, {flagged} fields flagged → {out}/records.jsonl\n"
        f"LLM {config.model}: {u.calls} calls ({u.cached} cached, {u.failed} failed), {u.prompt_tokens} + {u.completion_tokens} tokens "
        f"({(u.prompt_tokens + u.completion_tokens) / n:.0f} per report), cost {config.cost(u.prompt_tokens, u.completion_tokens):.4f}, {u.seconds:.1f} s in calls"
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .eval.cli import run_eval

    return run_eval(args)


def _needs_reportlab(command: str) -> bool:
    """``corpus`` and ``bench`` typeset reports with reportlab, an optional extra."""
    try:
        import reportlab  # noqa: F401
    except ImportError:
        Console(stderr=True).print(f"[red]nianbao {command} needs reportlab: pip install 'nianbao[corpus]'[/red]")
        return False
    return True


def _bench(args: argparse.Namespace) -> int:
    if not _needs_reportlab("bench"):
        return 2
    if args.archive:
        from .bench_archive import run_archive_bench

        return run_archive_bench(args)
    if args.ocr:
        from .bench_ocr import run_ocr_bench

        return run_ocr_bench(args)
    from .bench import run_bench

    return run_bench(args)


def _corpus(args: argparse.Namespace) -> int:
    if not _needs_reportlab("corpus"):
        return 2
    from .eval.corpus import FORMATS, generate

    formats = tuple(f for f in args.formats.split(",") if f) if args.formats else FORMATS
    written = generate(Path(args.out), seed=args.seed, count=args.count, formats=formats, scan_every=args.scan_every)
    Console(stderr=True).print(f"{len(written)} documents in {args.out}/docs, gold in {args.out}/gold")
    return 0


def _hostile(args: argparse.Namespace) -> int:
    from .eval.hostile import generate_hostile

    written = generate_hostile(Path(args.out), seed=args.seed, count=args.count, good=[Path(g) for g in args.good])
    Console(stderr=True).print(f"{len(written)} inputs in {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nianbao", description="Turn 政府信息公开工作年度报告 into verified, structured data.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("extract", help="extract reports into records.jsonl, reports.jsonl and fields.csv")
    p.add_argument("inputs", nargs="*", help="files, folders or glob patterns (TXT, MD, HTML, DOCX, PDF, …)")
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument("--manifest", metavar="CSV", help="a manifest: a path column and agency/region/year columns, which take precedence over what is read")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue or update the run in --out: keep its records, skip files whose content and extractor fingerprint are unchanged, read the rest")
    again.add_argument("--overwrite", action="store_true", help="replace the records an earlier run left in --out")
    p.add_argument("--retry-failed", action="store_true", help="with --resume (implied): also read again the files whose record is an error")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="files read at once, each in its own process (default: the cores, here %(default)s)".replace("%(default)s", str(default_workers())))
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="local worker processes (default) or Ray tasks (pip install 'nianbao[ray]')")
    p.add_argument("--ray-address", metavar="ADDR", default=None, help="with --engine ray: the cluster to join (ray.init's address, e.g. auto); default: start a local Ray instance")
    keep = p.add_mutually_exclusive_group()
    keep.add_argument("--store", metavar="PATH", help=f"results store (SQLite) to write beside the files (default: OUT/{STORE_FILE})")
    keep.add_argument("--no-store", action="store_true", help="write no results store")
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE", help="a per-file limit, e.g. seconds_per_file=60 or max_file_bytes=500MB (also NIANBAO_<NAME>; see README)")
    add_llm_options(p)
    p.set_defaults(func=_extract)

    e = sub.add_parser("eval", help="score extraction against gold files (fields.md rules)")
    e.add_argument("--gold", required=True, help="folder of gold JSON files")
    e.add_argument("--records", help="records.jsonl to score; without it, extraction runs first")
    e.add_argument("--inputs", nargs="*", help="documents to extract when --records is not given (default: files named like the gold files, beside them)")
    e.add_argument("--json", dest="json_out", help="write the full result as JSON here")
    e.add_argument("--compare", help="an earlier --json result to compare with")
    e.add_argument("--min-accuracy", type=float, default=None, help="exit 1 when overall accuracy is below this (0..1)")
    e.add_argument("--max-silent", type=int, default=None, help="exit 1 when there are more silent errors than this")
    e.add_argument("--show-wrong", type=int, default=50, help="list at most this many wrong fields (default 50)")
    e.add_argument("--models", default="", help="comma-separated LLM models to compare side by side (with the rules alone) on the gold set")
    add_gate_options(e)
    add_llm_options(e)
    e.set_defaults(func=_eval)

    b = sub.add_parser("bench", help="measure extraction speed (reports/s, pages/s) per format")
    b.add_argument("--seconds", type=float, default=5.0, help="time budget per format (default 5)")
    b.add_argument("--formats", default="txt,html,docx,pdf", help="comma-separated formats")
    b.add_argument("--ocr", action="store_true", help="instead, time OCR per table picture and per scanned page")
    b.add_argument("--reports", type=int, default=5, help="with --ocr: how many table-bearing seed reports to use (default: all 4)")
    b.add_argument("--archive", type=int, nargs="?", const=2000, default=None, metavar="N", help="instead, documents/s of nianbao extract over a generated archive of about N documents (default 2000) with 1 and 2 workers and Ray, then a kill -9 and resume check")
    b.add_argument("--archive-dir", metavar="DIR", help="with --archive: generate the archive here, or reuse the one found here")
    b.add_argument("--no-ray", action="store_true", help="with --archive: skip the Ray run")
    b.set_defaults(func=_bench)
    c = sub.add_parser("corpus", help="generate an evaluation corpus (documents + gold) from the bundled seeds")
    c.add_argument("--out", default="corpus", help="output folder (default: corpus)")
    c.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same corpus")
    c.add_argument("--count", type=int, default=8, help="reports to generate (each in every format)")
    c.add_argument("--formats", default="", help="comma-separated subset of html,gbk.html,docx,pdf,txt,md,img.html,img.docx,img.pdf,scan.pdf,scan.tif and the scraped-text cells.txt,rows.txt,pipes.txt,line.txt,runs.txt,runs1.txt (default: all but the scraped text)")
    c.add_argument("--scan-every", type=int, default=1, help="render scanned formats for every n-th report only (default 1: all)")
    c.set_defaults(func=_corpus)
    h = sub.add_parser("hostile", help="generate damaged and hostile inputs (zip bombs, huge pictures, FIFOs, …) to test a batch against")
    h.add_argument("--out", default="hostile", help="output folder, best empty (default: hostile)")
    h.add_argument("--seed", type=int, default=0, help="the same seed gives the same files")
    h.add_argument("--count", type=int, default=150, help="hostile files to write (40 or more covers every kind)")
    h.add_argument("--good", nargs="*", default=[], help="good reports to copy in beside them")
    h.set_defaults(func=_hostile)
    add_store_commands(sub)
    add_review_command(sub)
    add_archive_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
