"""``nianbao eval``: score records against gold, print tables, gate on thresholds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..inputs import SUFFIXES
from ..outputs import read_records
from ..pipeline import extract_file
from .score import Counts, Evaluation, evaluate, load_gold_dir


def documents_for(gold_dir: Path, names: list[str]) -> list[Path]:
    """Documents named like the gold files (``<stem>.<ext>``), anywhere beside the gold folder."""
    root = gold_dir.resolve().parent
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in SUFFIXES and gold_dir.resolve() not in p.resolve().parents and any(p.name.startswith(n + ".") for n in names):
            out.append(p)
    return out


def _counts_table(title: str, groups: dict[str, Counts]) -> Table:
    t = Table(title=title, title_justify="left")
    for col in ("group", "fields", "accuracy", "wrong", "flagged wrong", "silent", "halluc.", "needless flags", "blank↔0"):
        t.add_column(col, justify="right" if col != "group" else "left")
    for name, c in groups.items():
        t.add_row(name, str(c.fields), f"{c.accuracy:.2%}", str(c.wrong), str(c.wrong_flagged), str(c.silent), str(c.hallucinations), str(c.needless_flags), str(c.blank_zero))
    return t


def summary_line(c: Counts) -> str:
    """One line for logs and CI: every count of fields.md's scoring."""
    present = c.fields - c.absent_fields
    return (
        f"{c.correct} of {c.fields} fields right ({c.accuracy:.2%}); {c.wrong} wrong: {c.wrong_flagged} flagged, "
        f"{c.silent} silent; {c.hallucinations} hallucinations; {c.needless_flags} needless flags; {c.blank_zero} blank↔0. "
        f"Carried values: {c.correct - c.absent_correct} of {present} right ({c.present_accuracy:.2%}), {c.silent - c.absent_silent} silent; "
        f"under absent prefixes: {c.absent_correct} of {c.absent_fields} right (no value, flagged), {c.absent_silent} silent, {c.hallucinations} hallucinated"
    )


def print_evaluation(ev: Evaluation, console: Console, show_wrong: int = 50) -> None:
    console.print(_counts_table("overall", {"all": ev.overall}))
    console.print(_counts_table("by table", dict(sorted(ev.by_table.items()))))
    console.print(_counts_table("by format", dict(sorted(ev.by_format.items()))))
    console.print(_counts_table("by template", dict(sorted(ev.by_template.items()))))
    if ev.unmatched_gold:
        console.print(f"[yellow]gold files with no record (not scored):[/yellow] {', '.join(ev.unmatched_gold)}")
    for name, err in ev.errors.items():
        console.print(f"[yellow]error[/yellow] {name}: {err} (its gold keys count as missed, unflagged)")
    wrong = [r for r in ev.results if not r.correct]
    if wrong and show_wrong > 0:
        t = Table(title=f"wrong fields ({len(wrong)}; silent first)", title_justify="left")
        for col in ("report", "key", "gold", "predicted", "raw", "where", "flag"):
            t.add_column(col)
        for r in sorted(wrong, key=lambda r: (r.flagged, r.report, r.key))[:show_wrong]:
            where = ""
            if r.provenance:
                p = r.provenance
                where = " ".join(f"{k}={p[k]}" for k in ("page", "span", "xpath", "table", "row", "col") if p.get(k) is not None)
            gold = json.dumps(r.gold, ensure_ascii=False) if r.listed else "(absent)"
            flag = "flagged" if r.flagged else "[red]SILENT[/red]"
            if r.hallucination:
                flag += " [red]HALLUCINATION[/red]"
            t.add_row(r.report, r.key, gold, json.dumps(r.predicted, ensure_ascii=False), r.raw or "", where, flag)
        console.print(t)
    console.print(summary_line(ev.overall))


def print_comparison(old: dict[str, Any], new: dict[str, Any], console: Console) -> None:
    t = Table(title="compared with the earlier run", title_justify="left")
    for col in ("group", "accuracy before", "after", "silent before", "after", "halluc. before", "after"):
        t.add_column(col)
    rows = [("overall", old["overall"], new["overall"])]
    rows += [(f"table {k}", old["by_table"].get(k), v) for k, v in new["by_table"].items()]
    for name, a, b in rows:
        a = a or {"accuracy": 0, "silent": 0}
        t.add_row(name, f"{a['accuracy']:.2%}", f"{b['accuracy']:.2%}", str(a["silent"]), str(b["silent"]), str(a.get("hallucinations", "?")), str(b.get("hallucinations", "?")))
    console.print(t)
    before, after = old.get("status", {}), new.get("status", {})
    fixed = sorted(k for k, ok in after.items() if ok and before.get(k) is False)
    broken = sorted(k for k, ok in after.items() if not ok and before.get(k) is True)
    console.print(f"fixed: {len(fixed)}  broken: {len(broken)}")
    for k in broken[:30]:
        console.print(f"  [red]broken[/red] {k}")
    for k in fixed[:30]:
        console.print(f"  [green]fixed[/green] {k}")


def _llm_records(paths: list[Path], args: argparse.Namespace, model: str | None) -> list[Any]:
    from ..llm_batch import run_batch
    from .llm_args import llm_config

    records, _ = run_batch([(p, str(p)) for p in paths], llm_config(args, model=model))
    return records


def _run_usage(records: list[dict[str, Any]]) -> dict[str, float]:
    llm = [r.get("llm") or {} for r in records]
    return {
        "tokens": sum(x.get("prompt_tokens", 0) + x.get("completion_tokens", 0) for x in llm),
        "cost": sum(x.get("cost", 0.0) for x in llm),
        "seconds": sum(x.get("seconds", 0.0) for x in llm),
        "calls": sum(x.get("calls", 0) for x in llm),
        "failed": sum(x.get("failed_calls", 0) for x in llm),
    }


def compare_models(golds: list[Any], paths: list[Path], models: list[str], args: argparse.Namespace, console: Console) -> int:
    """Run each model (and the rules alone) over the same gold set and show them side by side."""
    t = Table(title="models compared on the same gold set", title_justify="left")
    for col in ("model", "accuracy", "silent", "halluc.", "needless flags", "calls", "failed", "tokens", "tokens/report", "cost", "LLM s/report"):
        t.add_column(col, justify="right" if col != "model" else "left")
    n = max(len(paths), 1)
    rows: dict[str, Any] = {}
    for model in ["(rules only)", *models]:
        if model == "(rules only)":
            records = [extract_file(p, str(p)).model_dump(mode="json") for p in paths]
        else:
            records = [r.model_dump(mode="json") for r in _llm_records(paths, args, model)]
        ev = evaluate(golds, records)
        u = _run_usage(records)
        o = ev.overall
        t.add_row(model, f"{o.accuracy:.2%}", str(o.silent), str(o.hallucinations), str(o.needless_flags), str(int(u["calls"])), str(int(u["failed"])), str(int(u["tokens"])), f"{u['tokens'] / n:.0f}", f"{u['cost']:.4f}", f"{u['seconds'] / n:.2f}")
        rows[model] = {"evaluation": ev.to_json(), "usage": u}
    console.print(t)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    console = Console()
    gold_dir = Path(args.gold)
    golds = load_gold_dir(gold_dir)
    if not golds:
        console.print(f"[red]no gold files in {gold_dir}[/red]")
        return 2
    models = [m for m in (getattr(args, "models", "") or "").split(",") if m]
    if args.records:
        path = Path(args.records)
        # reports.jsonl beside it has each value's state, which tells a blank cell from a missing one.
        full = path.with_name("reports.jsonl")
        records = read_records(full if path.name == "records.jsonl" and full.exists() else path)
    else:
        paths = [Path(p) for p in args.inputs] if args.inputs else documents_for(gold_dir, [g.name for g in golds])
        if models:
            return compare_models(golds, paths, models, args, console)
        if getattr(args, "llm", False):
            records = [r.model_dump(mode="json") for r in _llm_records(paths, args, None)]
        else:
            records = [extract_file(p, str(p)).model_dump(mode="json") for p in paths]
    ev = evaluate(golds, records)
    print_evaluation(ev, console, args.show_wrong)
    result = ev.to_json()
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.compare:
        print_comparison(json.loads(Path(args.compare).read_text(encoding="utf-8")), result, console)
    failed = False
    if args.min_accuracy is not None and ev.overall.accuracy < args.min_accuracy:
        console.print(f"[red]accuracy {ev.overall.accuracy:.4f} is below --min-accuracy {args.min_accuracy}[/red]")
        failed = True
    if args.max_silent is not None and ev.overall.silent > args.max_silent:
        console.print(f"[red]{ev.overall.silent} silent errors exceed --max-silent {args.max_silent}[/red]")
        failed = True
    for spec in getattr(args, "min_table_accuracy", None) or []:
        group, _, threshold = spec.partition("=")
        counts = ev.by_table.get(group)
        if counts is None or not threshold:
            console.print(f"[red]--min-table-accuracy {spec!r}: give GROUP=VALUE with GROUP one of {', '.join(sorted(ev.by_table))}[/red]")
            failed = True
        elif counts.accuracy < float(threshold):
            console.print(f"[red]{group} accuracy {counts.accuracy:.4f} is below --min-table-accuracy {spec}[/red]")
            failed = True
    # fields.md counts hallucinations (values reported under `absent` prefixes) on their own;
    # a flagged one is not silent, so only this gate catches it.
    max_halluc = getattr(args, "max_hallucinations", None)
    if max_halluc is not None and ev.overall.hallucinations > max_halluc:
        console.print(f"[red]{ev.overall.hallucinations} hallucinations exceed --max-hallucinations {max_halluc}[/red]")
        failed = True
    return 1 if failed else 0


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """The eval gates beyond --min-accuracy and --max-silent (for the ``eval`` sub-parser)."""
    parser.add_argument("--max-hallucinations", type=int, default=None, help="exit 1 when more values than this are reported under gold `absent` prefixes")
    parser.add_argument(
        "--min-table-accuracy",
        action="append",
        metavar="GROUP=VALUE",
        help="exit 1 when a group of the by-table summary (meta, t2, t3, t4, s*) is below VALUE (0..1); repeatable",
    )
