"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (one URL prefix per agent).

The real ``OpenAIChatCompletionClient`` talks to it over HTTP, so everything the client logs
(LLMCall, LLMStreamStart/End, usage, openai.BadRequestError text) is genuine; only the values
are scripted: tokens ~ len(json(messages))/4, a short latency, a context limit.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    """Not 200: answer with the API's error body for it (401 bad key, 429 rate limit...)."""
    hang: bool = False
    """Never answer: the request's read waits until the client's timeout or a signal."""


_ERRORS = {
    401: (
        "Incorrect API key provided: sk-stub. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    429: (
        "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, "
        "Requested 1. Please try again in 30s.",
        "requests",
        "rate_limit_exceeded",
    ),
}


Script = Callable[[list[dict[str, Any]], list[Any]], Reply]
SCRIPTS: dict[str, Script] = {}
CONTEXT_LIMIT = 8192
LATENCY_S = 0.05


def _completion(agent: str, reply: Reply, prompt: int, legacy: bool = False) -> dict[str, Any]:
    """``legacy``: the request offered ``functions`` (pyautogen 0.2.0-0.2.2), not ``tools``:
    answer with one ``function_call`` as the API then did."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls and legacy:
        name, args = reply.tool_calls[0]
        message["function_call"] = {"name": name, "arguments": json.dumps(args)}
    elif reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for name, args in reply.tool_calls
        ]
    completion = max(1, len(json.dumps(message)) // 4)
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": (
                    ("function_call" if legacy else "tool_calls") if reply.tool_calls else "stop"
                ),
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep the console as the program prints it
        pass

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        agent = self.path.strip("/").split("/")[0]
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "@" in str(request.get("model")):  # the agent named in the model (no path of its own)
            agent = str(request["model"]).split("@", 1)[1]
        messages = request.get("messages", [])
        prompt = max(1, len(json.dumps(messages)) // 4)
        time.sleep(LATENCY_S + prompt / 100_000)
        if prompt > CONTEXT_LIMIT:
            self._send(
                400,
                {
                    "error": {
                        "message": f"This model's maximum context length is {CONTEXT_LIMIT} tokens. However, your "
                        f"messages resulted in {prompt} tokens. Please reduce the length of the messages.",
                        "type": "invalid_request_error",
                        "param": "messages",
                        "code": "context_length_exceeded",
                    }
                },
            )
            return
        offered = request.get("tools") or request.get("functions") or []
        reply = SCRIPTS[agent](messages, offered)
        if reply.hang:
            time.sleep(3600)
            return
        if reply.status != 200:
            message, kind, code = _ERRORS[reply.status]
            body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
            self._send(reply.status, body, {"retry-after": "30"} if reply.status == 429 else {})
            return
        legacy = bool(request.get("functions")) and not request.get("tools")
        body = _completion(agent, reply, prompt, legacy)
        if not request.get("stream"):
            self._send(200, body)
            return
        self._stream(body, bool((request.get("stream_options") or {}).get("include_usage")))

    def _stream(self, body: dict[str, Any], include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        base = {k: body[k] for k in ("id", "created", "model")} | {
            "object": "chat.completion.chunk"
        }
        message, finish = body["choices"][0]["message"], body["choices"][0]["finish_reason"]
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        words = (message.get("content") or "").split(" ")
        deltas += [
            {"content": " ".join(words[i : i + 40]) + (" " if i + 40 < len(words) else "")}
            for i in range(0, len(words), 40)
            if message.get("content")
        ]
        if message.get("tool_calls"):
            deltas.append(
                {"tool_calls": [dict(tc, index=i) for i, tc in enumerate(message["tool_calls"])]}
            )
        chunks = [
            base | {"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
        ]
        chunks.append(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if include_usage:
            chunks.append(base | {"choices": [], "usage": body["usage"]})
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


def start() -> int:
    """Serve in a daemon thread; returns the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def last_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        content = message.get("content")
        if isinstance(content, str) and content:
            return content
    return ""


def count_role(messages: list[dict[str, Any]], role: str) -> int:
    return sum(1 for m in messages if m.get("role") == role)
