"""Where the LLM is and how to call it: a TOML file, then environment variables, then CLI flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["json_schema", "json_object", "tools", "md_json"]

_ENV = {
    "base_url": "NIANBAO_LLM_BASE_URL",
    "api_key": "NIANBAO_LLM_API_KEY",
    "model": "NIANBAO_LLM_MODEL",
    "mode": "NIANBAO_LLM_MODE",
    "concurrency": "NIANBAO_LLM_CONCURRENCY",
    "timeout_s": "NIANBAO_LLM_TIMEOUT",
    "call_deadline_s": "NIANBAO_LLM_CALL_DEADLINE",
    "max_response_bytes": "NIANBAO_LLM_MAX_RESPONSE_BYTES",
    "cache": "NIANBAO_LLM_CACHE",
    "vision_model": "NIANBAO_LLM_VISION_MODEL",
}


class LLMConfig(BaseModel):
    """One endpoint and model.  Works with OpenAI, DeepSeek, Qwen/DashScope, vLLM, Ollama, llama.cpp."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = "https://api.openai.com/v1"
    api_key: str = Field(default="", repr=False)
    model: str = ""
    # json_schema: the server constrains output to the schema (OpenAI, vLLM, llama.cpp's
    # llama-server, Ollama); json_object: the schema goes in response_format.schema, as the
    # llama-cpp-python server takes it; tools: function calling; md_json: plain chat asked
    # for a fenced JSON block (anything else).
    mode: Mode = "json_schema"
    concurrency: int = 4
    timeout_s: float = 60.0  # per network read: a server that sends a byte now and then never hits it
    max_retries: int = 3  # HTTP-level retries with backoff on 429, 5xx and timeouts
    # Wall-clock limit of one call, all its HTTP retries, backoff waits and its re-ask for
    # invalid JSON included; past it the call fails and its fields are flagged.
    call_deadline_s: float = Field(default=120.0, gt=0)
    # A reply body larger than this is cut off and the call fails: an answer to one section
    # is a few kB, and parsing a runaway one costs hundreds of times its size in memory.
    max_response_bytes: int = Field(default=1_000_000, gt=0)
    price_in_per_mtok: float = 0.0  # currency units per million prompt tokens, for cost estimates
    price_out_per_mtok: float = 0.0
    cache: str = str(Path.home() / ".cache" / "nianbao" / "llm.sqlite")  # "" disables the cache
    # A model on the same endpoint that takes pictures: it gets the crops of OCR'd tables with
    # doubtful cells as a second opinion.  Its readings only flag; they never fill a value.
    vision_model: str = ""

    @classmethod
    def load(cls, file: Path | None = None, **overrides: object) -> LLMConfig:
        """Settings from ``file`` ([llm] table of a TOML file), then NIANBAO_LLM_* variables, then ``overrides``."""
        data: dict[str, object] = {}
        if file is not None:
            with file.open("rb") as fh:
                data.update(tomllib.load(fh).get("llm", {}))
        for field, var in _ENV.items():
            if os.environ.get(var):
                data[field] = os.environ[var]
        if not data.get("api_key") and os.environ.get("OPENAI_API_KEY"):
            data["api_key"] = os.environ["OPENAI_API_KEY"]
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(data)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in_per_mtok + completion_tokens * self.price_out_per_mtok) / 1e6
