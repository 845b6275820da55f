"""One small structured call: instructor over the openai client, with cache, usage and latency.

HTTP failures (429, 5xx, timeouts, dropped connections) are retried by the
openai client with exponential backoff; a reply that is not valid JSON or does
not fit the response model is re-asked once by instructor, with the validation
error in the message.  After that the call fails and the caller flags the fields.

Two limits bound what one call can cost, whatever the server does:

- ``call_deadline_s``: wall-clock time for the whole call, every HTTP retry, backoff
  wait and re-ask included.  The openai client's timeout is per network read, so a
  server dripping a byte a second would otherwise hold a call for as long as it likes.
- ``max_response_bytes``: the reply body is counted as it arrives and cut off past
  the cap, before anything parses it.  Being an ``OpenAIError``, the cut is not
  retried by openai releases that propagate those (older ones retry it, each try
  again capped, all within the deadline).
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import instructor
import openai
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


class ResponseTooLarge(openai.OpenAIError):
    """A reply body past ``max_response_bytes``."""


def _http_library() -> ModuleType:
    """The HTTP library this openai release is built on: httpx, or its fork httpx2 (openai 3)."""
    base = next(c for c in openai.DefaultAsyncHttpxClient.__mro__ if c.__name__ == "AsyncClient")
    return importlib.import_module(base.__module__.split(".")[0])


_http: Any = _http_library()


class _CappedStream(_http.AsyncByteStream):
    """A response body that raises once more than ``limit`` bytes have arrived."""

    def __init__(self, inner: Any, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise ResponseTooLarge(f"reply larger than max_response_bytes ({self._limit} bytes); cut off")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _capped_http_client(limit: int) -> Any:
    """openai's own HTTP client (its defaults, proxies from the environment) with every reply body capped.

    Event hooks rather than a transport of our own: httpx ignores the proxy
    variables once it is handed a transport.
    """

    async def plain(request: Any) -> None:
        # A compressed body would be counted before it is inflated: ask for it plain.
        request.headers["Accept-Encoding"] = "identity"

    async def capped(response: Any) -> None:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"reply of {declared} bytes is larger than max_response_bytes ({limit} bytes)")  # refused unread
        response.stream = _CappedStream(response.stream, limit)

    return openai.DefaultAsyncHttpxClient(event_hooks={"request": [plain], "response": [capped]})


class LLMClient:
    def __init__(self, config: LLMConfig) -> None:
        if not config.model:
            raise ValueError("no LLM model configured: set NIANBAO_LLM_MODEL, --llm-model or [llm] model in the config file")
        self.config = config
        http_client = _capped_http_client(config.max_response_bytes)
        raw = AsyncOpenAI(base_url=config.base_url, api_key=config.api_key or "none", timeout=config.timeout_s, max_retries=config.max_retries, http_client=http_client)
        self._raw = raw
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
            deadline = asyncio.timeout(self.config.call_deadline_s)  # started here: waiting for a slot is not the call's time
            try:
                async with deadline:
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
                raise CallFailed(_why(exc, deadline.expired(), self.config.call_deadline_s)) from exc
        usage.calls += 1
        usage.seconds += time.perf_counter() - started
        pt, ct = _tokens(completion)
        usage.prompt_tokens += pt
        usage.completion_tokens += ct
        if self._cache is not None:
            self._cache.put(key, model=model, prompt=prompt_tag, schema_version=SCHEMA_VERSION, answer=parsed.model_dump(mode="json"), prompt_tokens=pt, completion_tokens=ct)
        return parsed

    async def aclose(self) -> None:
        await self._raw.close()  # the HTTP client is ours (capped), so closing it is ours too
        if self._cache is not None:
            self._cache.close()


def _why(exc: BaseException, expired: bool, deadline_s: float) -> str:
    """One line for the review flag: the cause that matters, not instructor's or openai's wrapper."""
    if expired:
        return f"no answer within call_deadline_s ({deadline_s:g} s)"
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ResponseTooLarge):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _tokens(completion: Any) -> tuple[int, int]:
    u = getattr(completion, "usage", None)
    if u is None:
        return 0, 0
    return int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate for --dry-run: about one token per CJK character, four ASCII characters per token."""
    cjk = sum(1 for ch in text if ord(ch) > 0x2E80)
    return cjk + (len(text) - cjk + 3) // 4
