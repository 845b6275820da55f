"""The extractor fingerprint: what, besides a file's bytes, decides the record made from it.

A rerun into the same output folder skips a file whose committed record has the same
sha256 and the same fingerprint.  The fingerprint covers the nianbao version, a digest
of the extraction code and prompt files (so a changed rule re-reads even before a
release), the report schema version, every per-file limit, and with an LLM the
endpoint, models, mode and prompt versions.  A file's manifest hints are folded into
its own fingerprint, so a changed hint re-reads that file only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from ..extract.limits import Limits
from ..schemas.report import SCHEMA_VERSION

_PACKAGE = Path(__file__).resolve().parent.parent
# What a record is made by: everything the worker runs between the bytes and the record.
_CODE = ("extract", "schemas", "prompts", "pipeline.py", "checks.py", "repair.py", "manifest.py")


def nianbao_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("nianbao")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def code_digest() -> str:
    """sha256 over the extraction code and prompt files (relative path and bytes), 16 hex digits."""
    digest = hashlib.sha256()
    for name in _CODE:
        root = _PACKAGE / name
        paths = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".md", ".json", ".csv") and "__pycache__" not in p.parts) if root.is_dir() else [root] if root.exists() else []
        for p in paths:
            digest.update(str(p.relative_to(_PACKAGE)).encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def prompt_versions() -> dict[str, int]:
    from ..extract.llm import prompts

    folder = _PACKAGE / "prompts"
    return {p.stem: prompts.load(p.stem).version for p in sorted(folder.glob("*.md"))}


def components(limits: Limits, llm: Any = None, *, dry_run: bool = False) -> dict[str, Any]:
    """The fingerprint's parts, as written to OUT/fingerprint.json.  ``llm`` is an LLMConfig or None."""
    parts: dict[str, Any] = {
        "nianbao": nianbao_version(),
        "code": code_digest(),
        "schema_version": SCHEMA_VERSION,
        "limits": dataclasses.asdict(limits),
        "llm": None,
    }
    if llm is not None:
        parts["llm"] = {
            "model": llm.model,
            "vision_model": llm.vision_model or None,
            "base_url": llm.base_url,
            "mode": llm.mode,
            "max_response_bytes": llm.max_response_bytes,
            "prompts": prompt_versions(),
            "dry_run": dry_run,
        }
    return parts


def digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def for_item(run_fingerprint: str, hints: dict[str, str]) -> str:
    """One file's fingerprint: the run's, and the manifest hints that file was given."""
    if not hints:
        return run_fingerprint
    return digest({"run": run_fingerprint, "hints": dict(sorted(hints.items()))})
