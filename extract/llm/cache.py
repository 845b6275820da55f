"""An on-disk SQLite cache of LLM answers, so a rerun costs nothing.

The key is a hash of everything that decides the answer: endpoint model, mode,
prompt task and version, schema version and the exact messages.  Changing any of
them misses the cache and re-extracts.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


class AnswerCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS answers (
                key TEXT PRIMARY KEY, model TEXT, prompt TEXT, schema_version TEXT,
                answer TEXT NOT NULL, prompt_tokens INTEGER, completion_tokens INTEGER,
                created REAL)"""
        )
        self._db.commit()

    def get(self, key: str) -> tuple[dict[str, Any], int, int] | None:
        with self._lock:
            row = self._db.execute("SELECT answer, prompt_tokens, completion_tokens FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return json.loads(row[0]), int(row[1] or 0), int(row[2] or 0)

    def put(self, key: str, *, model: str, prompt: str, schema_version: str, answer: dict[str, Any], prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, model, prompt, schema_version, json.dumps(answer, ensure_ascii=False), prompt_tokens, completion_tokens, time.time()),
            )
            self._db.commit()

    def close(self) -> None:
        self._db.close()
