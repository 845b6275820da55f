"""Extraction with an LLM: the same stages as a rules-only run, with LLM between READ and CHECKS.

Files are read by the rules in the isolated worker process (under the same
per-file limits) while earlier files wait on the network; LLM calls run
concurrently up to the configured limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checks
from .extract.limits import Limits
from .extract.llm import run as llm_run
from .extract.llm.client import LLMClient, Usage
from .extract.llm.config import LLMConfig
from .extract.locate import locate
from .pipeline import Extraction, Record, Stage, StageError, check, stage, to_record
from .schemas import Outcome
from .schemas.report import SCHEMA_VERSION
from .worker import IsolatedReader


@dataclass
class BatchUsage:
    reports: int = 0
    usage: Usage = field(default_factory=Usage)
    estimated_prompt_tokens: int = 0
    estimated_completion_tokens: int = 0


def _failing_keys(ex: Extraction) -> set[str]:
    assert ex.report is not None and ex.doc is not None
    results = [*checks.table_relations(ex.report), *checks.value_sanity(ex.report)]
    return {k for c in results if c.outcome is Outcome.FAILED for k in c.keys}


def _summary(config: LLMConfig, usage: Usage) -> dict[str, Any]:
    return {
        "model": config.model,
        "vision_model": config.vision_model or None,
        "base_url": config.base_url,
        "mode": config.mode,
        "prompts": dict(sorted(usage.prompts.items())),
        "schema_version": SCHEMA_VERSION,
        "calls": usage.calls,
        "cached_calls": usage.cached,
        "failed_calls": usage.failed,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost": round(config.cost(usage.prompt_tokens, usage.completion_tokens), 6),
        "seconds": round(usage.seconds, 3),
    }


async def _read(readers: asyncio.Queue[IsolatedReader], path: Path, source: str) -> Extraction:
    """LOAD … READ in a worker process; the document comes back for the LLM to read."""
    reader = await readers.get()
    try:
        return await asyncio.to_thread(reader.read, path, source, keep_document=True)
    finally:
        readers.put_nowait(reader)


async def _one(client: LLMClient | None, config: LLMConfig, readers: asyncio.Queue[IsolatedReader], path: Path, source: str, dry_run: bool, total: BatchUsage) -> Record:
    ex = await _read(readers, path, source)
    if ex.report is None or ex.doc is None or ex.error is not None:
        return to_record(ex)
    layout = ex.layout or locate(ex.doc)
    calls = llm_run.plan(ex.doc, layout, ex.report, _failing_keys(ex), vision_model=config.vision_model)
    if dry_run:
        pt, ct = llm_run.estimate(calls)
        total.estimated_prompt_tokens += pt
        total.estimated_completion_tokens += ct
        ex.llm = {"dry_run": True, "planned_calls": [c.task for c in calls], "estimated_prompt_tokens": pt, "estimated_completion_tokens": ct, "estimated_cost": config.cost(pt, ct)}
        return to_record(check(ex))
    assert client is not None
    usage = Usage()
    try:
        with stage(Stage.LLM):  # a failed call only flags; this catches a bug met on this file
            await llm_run.run(client, ex.doc, ex.report, calls, usage)
    except StageError as exc:
        ex.fail(exc)
    total.usage.add(usage)
    total.reports += 1
    ex.llm = _summary(config, usage)
    return to_record(check(ex))


async def extract_with_llm(
    items: list[tuple[Path, str]],
    config: LLMConfig,
    *,
    dry_run: bool = False,
    on_record: Callable[[Record], None] | None = None,
    limits: Limits | None = None,
) -> tuple[list[Record], BatchUsage]:
    total = BatchUsage()
    client = None if dry_run else LLMClient(config)
    readers: asyncio.Queue[IsolatedReader] = asyncio.Queue()
    readers.put_nowait(IsolatedReader(limits, with_checks=False))
    try:
        # Reading by the rules is CPU-bound; keep at most a few files in flight.
        gate = asyncio.Semaphore(max(2, config.concurrency))

        async def guarded(path: Path, source: str) -> Record:
            async with gate:
                record = await _one(client, config, readers, path, source, dry_run, total)
            if on_record:
                on_record(record)
            return record

        records = await asyncio.gather(*(guarded(p, s) for p, s in items))
    finally:
        if client is not None:
            await client.aclose()
        while not readers.empty():
            readers.get_nowait().close()
    return list(records), total


def run_batch(
    items: list[tuple[Path, str]],
    config: LLMConfig,
    *,
    dry_run: bool = False,
    on_record: Callable[[Record], None] | None = None,
    limits: Limits | None = None,
) -> tuple[list[Record], BatchUsage]:
    return asyncio.run(extract_with_llm(items, config, dry_run=dry_run, on_record=on_record, limits=limits))
