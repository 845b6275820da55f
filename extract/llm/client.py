"""One small structured call: instructor over the openai client, with cache, usage and latency.

HTTP failures (429, 5xx, timeouts, dropped connections) are retried by the
openai client with exponential backoff; a reply that is not valid JSON or does
not fit the response model is re-asked once by instructor, with the validation
error in the message.  After that the call fails and the caller flags the fields.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

import instructor
from openai import AsyncOpenAI
from pydantic import BaseModel

from ...schemas.report import SCHEMA_VERSION
from .cache import AnswerCache, cache_key
from .config import LLMConfig

T = TypeVar("T", bound=BaseModel)

_MODES = {"json_schema": instructor.Mode.JSON_SCHEMA, "json_object": instructor.Mode.JSON, "tools": instructor.Mode.TOOLS, "md_json": instructor.Mode.MD_JSON}


@dataclass
class Usage:
    calls: int = 0
    cached: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    prompts: dict[str, str] = field(default_factory=dict)  # task -> task@vN

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.cached += other.cached
        self.failed += other.failed
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds
        self.prompts.update(other.prompts)


class CallFailed(Exception):
    """The endpoint could not give a valid answer after retries; the message says why."""


class LLMClient:
    def __init__(self, config: LLMConfig) -> None:
        if not config.model:
            raise ValueError("no LLM model configured: set NIANBAO_LLM_MODEL, --llm-model or [llm] model in the config file")
        self.config = config
        raw = AsyncOpenAI(base_url=config.base_url, api_key=config.api_key or "none", timeout=config.timeout_s, max_retries=config.max_retries)
        self._client = instructor.from_openai(raw, mode=_MODES[config.mode])
        self._cache = AnswerCache(config.cache) if config.cache else None
        self._limit = asyncio.Semaphore(config.concurrency)

    async def ask(self, messages: list[dict[str, Any]], response_model: type[T], *, prompt_tag: str, usage: Usage, model: str = "") -> T:
        task = prompt_tag.split("@")[0]
        usage.prompts[task] = prompt_tag
        model = model or self.config.model
        key = cache_key(self.config.base_url, model, self.config.mode, prompt_tag, SCHEMA_VERSION, response_model.model_json_schema(), messages)
        if self._cache is not None and (hit := self._cache.get(key)) is not None:
            answer, _, _ = hit
            usage.cached += 1
            return response_model.model_validate(answer)
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        if self.config.mode == "json_object":
            # Grammar-constrained decoding to the schema on servers that take it this way.
            extra["extra_body"] = {"response_format": {"type": "json_object", "schema": response_model.model_json_schema()}}
        async with self._limit:
            try:
                parsed, completion = await self._client.chat.completions.create_with_completion(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    response_model=response_model,
                    max_retries=1,
                    temperature=0,
                    **extra,
                )
            except Exception as exc:  # instructor and openai raise many types; the caller needs one
                usage.failed += 1
                usage.seconds += time.perf_counter() - started
                raise CallFailed(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        usage.calls += 1
        usage.seconds += time.perf_counter() - started
        pt, ct = _tokens(completion)
        usage.prompt_tokens += pt
        usage.completion_tokens += ct
        if self._cache is not None:
            self._cache.put(key, model=model, prompt=prompt_tag, schema_version=SCHEMA_VERSION, answer=parsed.model_dump(mode="json"), prompt_tokens=pt, completion_tokens=ct)
        return parsed

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()


def _tokens(completion: Any) -> tuple[int, int]:
    u = getattr(completion, "usage", None)
    if u is None:
        return 0, 0
    return int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate for --dry-run: about one token per CJK character, four ASCII characters per token."""
    cjk = sum(1 for ch in text if ord(ch) > 0x2E80)
    return cjk + (len(text) - cjk + 3) // 4
