"""What one LLM call may cost, whatever the server does: a total deadline and a cap on the reply's size.

Real HTTP to scripted servers on 127.0.0.1: one that drips a byte every half
second (each read is quick, so a per-read timeout never fires), one that fails
forever (retries and backoff must not outlast the deadline) and one that sends
megabytes.  A call that fails flags every field it asked about; the batch goes on.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from nianbao.extract.llm.answers import NARRATIVE_KEYS, RecheckAnswer
from nianbao.extract.llm.client import CallFailed, LLMClient, Usage
from nianbao.extract.llm.config import LLMConfig
from nianbao.llm_batch import BatchUsage, run_batch
from nianbao.pipeline import Record

from .conftest import SEEDS
from .llm_server import Reply, ScriptedServer, completion

NARRATIVE_ONLY = "000_25a82b73f95a5995"  # its tables read cleanly: the plan is one narrative call
ANSWER = json.dumps({name: {"value": None, "quote": ""} for name in NARRATIVE_KEYS})


def config(server: ScriptedServer, **kw: Any) -> LLMConfig:
    base: dict[str, Any] = {"base_url": server.base_url, "api_key": "test", "model": "scripted", "cache": "", "timeout_s": 5.0, "max_retries": 1}
    return LLMConfig(**{**base, **kw})


def extract(server: ScriptedServer, **kw: Any) -> tuple[list[Record], BatchUsage, float]:
    paths = [SEEDS / f"{NARRATIVE_ONLY}.txt", SEEDS / "003_d746fab4eb0be43f.txt"]
    started = time.monotonic()
    records, total = run_batch([(p, str(p)) for p in paths], config(server, **kw))
    return records, total, time.monotonic() - started


def test_defaults_and_settings() -> None:
    c = LLMConfig()
    assert c.call_deadline_s == 120 and c.max_response_bytes == 1_000_000
    with pytest.raises(ValueError):
        LLMConfig(call_deadline_s=0)


def test_settings_come_from_the_environment_and_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "nianbao.toml"
    toml.write_text("[llm]\ncall_deadline_s = 30\nmax_response_bytes = 200000\n", encoding="utf-8")
    assert LLMConfig.load(toml).call_deadline_s == 30 and LLMConfig.load(toml).max_response_bytes == 200_000
    monkeypatch.setenv("NIANBAO_LLM_CALL_DEADLINE", "7.5")
    monkeypatch.setenv("NIANBAO_LLM_MAX_RESPONSE_BYTES", "5000")
    c = LLMConfig.load(toml)
    assert c.call_deadline_s == 7.5 and c.max_response_bytes == 5000
    assert LLMConfig.load(toml, call_deadline_s=3.0).call_deadline_s == 3.0  # a flag wins


def test_a_dripping_server_meets_the_deadline_and_the_fields_are_flagged() -> None:
    drip = Reply(body=completion(ANSWER), drip=0.5)  # a byte every 0.5 s, well inside the 5 s read timeout
    with ScriptedServer(lambda body, n: drip) as server:
        records, total, seconds = extract(server, call_deadline_s=2.0, concurrency=2)
    assert seconds < 8  # two files, two concurrent calls of 2 s each, and reading
    assert [r.status for r in records] == ["ok", "ok"]  # the batch goes on
    assert total.usage.failed == 2 and total.usage.calls == 0
    for record in records:
        for key in NARRATIVE_KEYS.values():  # every field the call asked about, found by the rules or not
            assert "LLM call failed: no answer within call_deadline_s (2 s)" in record.review[key], key


def test_the_deadline_covers_every_retry_and_backoff() -> None:
    """Ten retries with exponential backoff would take half a minute; the deadline stops them all."""
    with ScriptedServer(lambda body, n: Reply(status=503, delay=0.2)) as server:
        records, total, seconds = extract(server, call_deadline_s=1.5, max_retries=10)
    assert seconds < 6
    assert total.usage.failed == 2
    assert "call_deadline_s" in records[0].review["s6.npc_suggestions"]


def _ask_once(server: ScriptedServer, **kw: Any) -> str:
    """One call straight through the client; the reason it failed."""

    async def go() -> str:
        client = LLMClient(config(server, **kw))
        try:
            await client.ask([{"role": "user", "content": "字段：x"}], RecheckAnswer, prompt_tag="recheck@v2", usage=Usage())
        except CallFailed as exc:
            return str(exc)
        finally:
            await client.aclose()
        raise AssertionError("the call should have failed")

    return asyncio.run(go())


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
def test_an_oversized_reply_is_cut_off_without_holding_it(declared: bool) -> None:
    """3 MB against a 1 MB cap: refused from its Content-Length, or cut while it streams in."""
    huge = completion(json.dumps({"value": 1, "quote": "申" * 1_000_000}, ensure_ascii=False))  # 3 MB of UTF-8
    assert len(huge) > 3_000_000
    with ScriptedServer(lambda body, n: Reply(body=huge, declare_length=declared)) as server:
        tracemalloc.start()
        try:
            why = _ask_once(server, max_response_bytes=1_000_000, max_retries=2)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(server.requests) == 1  # a cut reply is not fetched again
    assert "max_response_bytes (1000000 bytes)" in why
    assert peak < 5_000_000  # about 1.6 MB at most; read and parsed whole, this reply peaks at about 14 MB


def test_an_oversized_reply_flags_the_fields_and_the_batch_goes_on() -> None:
    huge = completion("x" * 2_000_000)
    with ScriptedServer(lambda body, n: Reply(body=huge)) as server:
        records, total, _ = extract(server, max_response_bytes=100_000)
    assert [r.status for r in records] == ["ok", "ok"] and total.usage.failed == 2
    assert "max_response_bytes" in records[1].review["s1.proactive_count"]
    assert records[0].fields["s6.npc_suggestions"] == 15  # the rules' values stand


def test_a_reply_within_the_limits_still_comes_through() -> None:
    answer = Reply(body=completion(ANSWER), drip=0.0)
    with ScriptedServer(lambda body, n: answer) as server:
        records, total, _ = extract(server, call_deadline_s=10, max_response_bytes=len(answer.body or b"") + 1)
    assert total.usage.failed == 0 and total.usage.calls == 2
    assert all(r.status == "ok" for r in records)
