"""A scripted OpenAI-compatible chat server on loopback, for testing the LLM path over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay: float = 0.0
    prompt_tokens: int = 100
    completion_tokens: int = 20
    body: bytes | None = None  # sent as it is instead of a completion built from ``content``
    drip: float = 0.0  # seconds between single bytes of the body: a server that never quite stops
    declare_length: bool = True  # False: no Content-Length, the body ends when the connection closes


Script = Callable[[dict[str, Any], int], Reply]  # (request body, request number) -> reply


def _user_text(body: dict[str, Any]) -> str:
    content = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if isinstance(content, list):  # text and image parts
        return "".join(p.get("text", "") for p in content)
    return content


def images_of(body: dict[str, Any]) -> list[str]:
    content = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return [p["image_url"]["url"] for p in content if p.get("type") == "image_url"] if isinstance(content, list) else []


def task_of(body: dict[str, Any]) -> str:
    """Which prompt a request comes from, read from its user message."""
    user = _user_text(body)
    if "图片是报告中的" in user:
        return "vision_table"
    if "字段：" in user:
        return "recheck"
    if "第三部分" in user:
        return "table_t3"
    if "第二部分" in user:
        return "table_t2"
    if "第四部分" in user:
        return "table_t4"
    return "narrative"


def source_of(body: dict[str, Any]) -> str:
    user = _user_text(body)
    return user.split("原文：", 1)[1].strip() if "原文：" in user else user


def completion(content: str, model: str = "scripted", n: int = 0, prompt_tokens: int = 100, completion_tokens: int = 20) -> bytes:
    """The body of an OpenAI chat completion whose message is ``content``."""
    return json.dumps(
        {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        },
        ensure_ascii=False,
    ).encode()


class ScriptedServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self._stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                n = len(outer.requests)
                outer.requests.append(body)
                reply = outer.script(body, n)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    payload = json.dumps({"error": {"message": "scripted failure", "type": "server_error"}}).encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                payload = reply.body if reply.body is not None else completion(reply.content, body.get("model", "scripted"), n, reply.prompt_tokens, reply.completion_tokens)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    if reply.declare_length:
                        self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if not reply.drip:
                        self.wfile.write(payload)
                        return
                    for i in range(len(payload)):
                        if outer._stopping.wait(reply.drip):
                            return
                        self.wfile.write(payload[i : i + 1])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a scripted timeout)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # ends any drip still going
        self._server.shutdown()
        self._server.server_close()

    def tasks(self) -> list[str]:
        return [task_of(b) for b in self.requests]
