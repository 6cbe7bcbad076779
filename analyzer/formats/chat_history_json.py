"""A saved chat history: ``json.dump(chat_result.chat_history)`` or ``groupchat.messages``.

A list of ``{role, name, content, tool_calls, tool_responses}`` dicts, alone or nested anywhere
inside a larger JSON document. No clock, no usage: order and content only. Line numbers are
found by locating each message's content in the text, in order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ..errors import LogFormatError
from .base import EventSink, ParsedLog, add_message_with_calls, loads, open_text, text_of

_MAX_DEPTH = 6


class ChatHistoryJson:
    name: ClassVar[str] = "chat-history-json"
    family: ClassVar[str] = "classic"
    description: ClassVar[str] = "chat_result.chat_history / groupchat.messages saved as JSON"

    @staticmethod
    def sniff(head: str) -> float:
        if not re.match(r"\s*(\[\s*\{|\{)", head):
            return 0.0
        if '"role"' in head and '"content"' in head:
            return 0.6
        return 0.0

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        with open_text(path) as fh:
            raw = fh.read()
        try:
            doc = loads(raw)
        except orjson.JSONDecodeError as exc:
            line = raw.count("\n", 0, getattr(exc, "pos", 0) or 0) + 1
            raise LogFormatError(path, f"invalid JSON ({exc})", line) from exc
        messages = _find_messages(doc, 0)
        if messages is None:
            raise LogFormatError(path, "no list of chat messages (role/content) in this JSON")
        sink = EventSink(ChatHistoryJson.name)
        pos = 0
        for msg in messages:
            text = text_of(msg.get("content"))
            found = _locate(raw, text, pos)
            pos = found if found >= 0 else pos
            _add(sink, raw.count("\n", 0, pos) + 1, msg, text)
            pos += 1
        if not len(sink):
            raise LogFormatError(path, "the chat history is empty")
        return sink.result()


def _locate(raw: str, text: str, pos: int) -> int:
    """Offset of the message's content in the raw text (as written, or ASCII-escaped)."""
    if not text:
        return raw.find('"role"', pos)
    for probe in (orjson.dumps(text).decode(), json.dumps(text)):
        found = raw.find(probe[1:61], pos)
        if found >= 0:
            return found
    return -1


def _find_messages(doc: Any, depth: int) -> list[dict[str, Any]] | None:
    if (
        isinstance(doc, list)
        and doc
        and all(isinstance(m, dict) and ("role" in m or "content" in m) for m in doc)
    ):
        return doc
    if depth >= _MAX_DEPTH:
        return None
    children = doc.values() if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    for child in children:
        if isinstance(child, (dict, list)):
            found = _find_messages(child, depth + 1)
            if found is not None:
                return found
    return None


def _add(sink: EventSink, line: int, msg: dict[str, Any], text: str) -> None:
    agent = msg.get("name") or msg.get("role")
    if msg.get("tool_responses") or msg.get("role") in ("tool", "function"):
        for resp in msg.get("tool_responses") or [msg]:
            body = text_of(resp.get("content"))
            sink.add(
                "tool_result",
                line,
                agent=agent,
                tool_call_id=resp.get("tool_call_id"),
                content=body,
                is_error=body.startswith("Error:"),
            )
        return
    add_message_with_calls(sink, line, text, msg, agent=agent)
