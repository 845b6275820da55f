"""Extraction with an LLM: the same stages as a rules-only run, with LLM between READ and CHECKS.

Files are read by the rules in ``workers`` isolated worker processes (under the
same per-file limits) while earlier files wait on the network; LLM calls run
concurrently up to the configured limit.  Records are handed to ``on_record`` in
completion order, in the event loop's (main) thread.  When ``stop`` is set (SIGINT,
SIGTERM) files not yet finished are cancelled; a resumed run reads them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import checks
from .engines import fingerprint as fp
from .engines.items import Item, as_items
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


async def _read(readers: asyncio.Queue[IsolatedReader], pool: ThreadPoolExecutor, item: Item) -> Extraction:
    """LOAD … READ in a worker process; the document comes back for the LLM to read."""
    reader = await readers.get()
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, lambda: reader.read(item.path, item.source, keep_document=True, hints=item.hints))
    finally:
        readers.put_nowait(reader)


async def _one(client: LLMClient | None, config: LLMConfig, readers: asyncio.Queue[IsolatedReader], pool: ThreadPoolExecutor, item: Item, dry_run: bool, total: BatchUsage) -> Record:
    ex = await _read(readers, pool, item)
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


def llm_fingerprint(config: LLMConfig, limits: Limits, *, dry_run: bool = False) -> tuple[dict[str, Any], str]:
    """The extractor fingerprint of an LLM run: the rules' parts and the endpoint, models, mode and prompt versions."""
    parts = fp.components(limits, config, dry_run=dry_run)
    return parts, fp.digest(parts)


async def extract_with_llm(
    items: list[Any],
    config: LLMConfig,
    *,
    dry_run: bool = False,
    on_record: Callable[[Record], None] | None = None,
    limits: Limits | None = None,
    workers: int = 1,
    fingerprint: str | None = None,
    stop: threading.Event | None = None,
) -> tuple[list[Record], BatchUsage]:
    """Records of ``items`` (Items or (path, source) pairs) in completion order."""
    from .batch import block_signals

    total = BatchUsage()
    work = as_items(items)
    n = max(1, min(workers, len(work) or 1))
    client = None if dry_run else LLMClient(config)
    readers: asyncio.Queue[IsolatedReader] = asyncio.Queue()
    for _ in range(n):
        readers.put_nowait(IsolatedReader(limits, with_checks=False))
    # The readers' threads leave SIGINT and SIGTERM to the main thread, which defers them during a write.
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="nianbao-reader", initializer=block_signals)
    slots: list[Record | None] = [None] * len(work)
    try:
        # Reading by the rules is CPU-bound; keep a few files per reader in flight.
        gate = asyncio.Semaphore(max(2, n + 1, config.concurrency))

        async def guarded(i: int, item: Item) -> None:
            async with gate:
                if stop is not None and stop.is_set():
                    return
                record = await _one(client, config, readers, pool, item, dry_run, total)
            record.also_at = list(item.also_at)
            record.fingerprint = fp.for_item(fingerprint, item.hints) if fingerprint is not None else None
            slots[i] = record
            if on_record:
                on_record(record)

        tasks = [asyncio.ensure_future(guarded(i, item)) for i, item in enumerate(work)]

        async def watch(flag: threading.Event) -> None:
            while not flag.is_set():
                await asyncio.sleep(0.1)
            for t in tasks:
                t.cancel()

        watcher = asyncio.ensure_future(watch(stop)) if stop is not None else None
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            if watcher is not None:
                watcher.cancel()
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome
    finally:
        if client is not None:
            await client.aclose()
        while not readers.empty():
            reader = readers.get_nowait()
            if stop is not None and stop.is_set():
                reader.abort()
            reader.close()
        pool.shutdown(wait=False, cancel_futures=True)
    # In the order of ``items`` (the outputs got them in completion order).
    return [r for r in slots if r is not None], total


def run_batch(
    items: list[Any],
    config: LLMConfig,
    *,
    dry_run: bool = False,
    on_record: Callable[[Record], None] | None = None,
    limits: Limits | None = None,
    workers: int = 1,
    fingerprint: str | None = None,
    stop: threading.Event | None = None,
) -> tuple[list[Record], BatchUsage]:
    return asyncio.run(extract_with_llm(items, config, dry_run=dry_run, on_record=on_record, limits=limits, workers=workers, fingerprint=fingerprint, stop=stop))
