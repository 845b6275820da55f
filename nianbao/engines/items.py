"""The inputs as work items: a path to open, the source that names it, manifest hints, duplicates.

``nianbao.inputs.expand`` turns the user's inputs (files, folders, globs, zips, a manifest)
into items.  Older versions of it return ``(path, source)`` pairs; both are accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Item:
    path: Path
    source: str
    hints: dict[str, str] = field(default_factory=dict)
    also_at: list[str] = field(default_factory=list)
    sha256: str | None = None
    hashed: bool = False  # sha256 is known (None then means: a file the load stage refuses unhashed)


def as_item(entry: Any) -> Item:
    if isinstance(entry, Item):
        return entry
    if isinstance(entry, tuple):
        path, source = entry
        return Item(Path(path), str(source))
    # nianbao.inputs.InputItem (path, source, hints, also_at, sha256 when expand hashed it)
    hashed = hasattr(entry, "sha256")
    return Item(
        Path(entry.path),
        str(entry.source),
        dict(getattr(entry, "hints", None) or {}),
        [str(a) for a in getattr(entry, "also_at", None) or []],
        getattr(entry, "sha256", None),
        hashed,
    )


def as_items(entries: Iterable[Any]) -> list[Item]:
    return [as_item(e) for e in entries]


def expand_inputs(inputs: list[str], manifest: Path | None = None, **options: Any) -> list[Item]:
    """The inputs through ``nianbao.inputs.expand``, with the manifest and those ``options``
    (``cache_dir``, ``limits``, ``hash_workers``) it takes."""
    from .. import inputs as inputs_module

    expand: Any = inputs_module.expand
    params = inspect.signature(expand).parameters
    if manifest is not None and "manifest" not in params:
        raise ValueError("--manifest is not supported by this version of nianbao.inputs")
    kwargs = {k: v for k, v in options.items() if k in params}
    if manifest is not None:
        kwargs["manifest"] = manifest
    return as_items(expand(inputs, **kwargs))
