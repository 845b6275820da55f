"""The LLM options shared by ``nianbao extract`` and ``nianbao eval``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..extract.llm.config import LLMConfig


def add_llm_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("LLM (any OpenAI-compatible endpoint; settings also from NIANBAO_LLM_* and a config file)")
    g.add_argument("--llm", action="store_true", help="use the LLM for narrative facts and doubtful table cells")
    g.add_argument("--llm-config", help="TOML file with an [llm] table (base_url, model, mode, prices, …)")
    g.add_argument("--llm-base-url", help="e.g. https://api.deepseek.com/v1, http://127.0.0.1:8080/v1")
    g.add_argument("--llm-model", help="model name as the endpoint knows it")
    g.add_argument("--llm-mode", choices=["json_schema", "json_object", "tools", "md_json"], help="how structured output is requested (default json_schema)")
    g.add_argument("--llm-concurrency", type=int, help="calls in flight at once (default 4)")
    g.add_argument("--llm-vision-model", help="a picture-reading model on the same endpoint: a second opinion on OCR'd tables (flags only)")
    g.add_argument("--llm-cache", help="SQLite answer cache (default ~/.cache/nianbao/llm.sqlite; '' disables)")
    g.add_argument("--llm-call-deadline", type=float, help="seconds one call may take in all, retries and re-asks included (default 120)")
    g.add_argument("--llm-max-response-bytes", type=int, help="largest reply accepted, in bytes (default 1000000)")
    g.add_argument("--dry-run", action="store_true", help="plan the LLM calls and estimate tokens and cost; call nothing")


def llm_config(args: argparse.Namespace, *, model: str | None = None) -> LLMConfig:
    return LLMConfig.load(
        Path(args.llm_config) if getattr(args, "llm_config", None) else None,
        base_url=getattr(args, "llm_base_url", None),
        model=model or getattr(args, "llm_model", None),
        mode=getattr(args, "llm_mode", None),
        concurrency=getattr(args, "llm_concurrency", None),
        cache=getattr(args, "llm_cache", None),
        vision_model=getattr(args, "llm_vision_model", None),
        call_deadline_s=getattr(args, "llm_call_deadline", None),
        max_response_bytes=getattr(args, "llm_max_response_bytes", None),
    )
