"""A saved chat history: ``json.dump(chat_result.chat_history)`` or ``groupchat.messages``.

A list of ``{role, name, content, tool_calls, tool_responses}`` dicts, alone or nested anywhere
inside a larger JSON document. No clock, no usage: order and content only. Line numbers are
found by locating each message's content in the text, in order. A file cut off mid-document
(a copy taken while it was written, a killed writer) is read up to its last complete message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ..errors import LogFormatError
from ._openai_messages import add_message_with_calls, add_tool_responses, is_tool_response, text_of
from .base import EventSink, ParsedLog, Sniff, loads
from .io.files import open_text

_MAX_DEPTH = 6
# The tokens that decide nesting: strings (whose brackets do not count) and brackets.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_CLOSE_TRIES = 20  # item ends tried, last first, when closing a cut-off document


class ChatHistoryJson:
    name: ClassVar[str] = "chat-history-json"
    family: ClassVar[str] = "classic"
    description: ClassVar[str] = "chat_result.chat_history / groupchat.messages saved as JSON"

    @staticmethod
    def sniff(head: str) -> float:
        if not re.match(r"\s*(\[\s*\{|\{)", head):
            return Sniff.NONE
        if '"role"' in head and '"content"' in head:
            return Sniff.FRAGMENT
        return Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        with open_text(path) as fh:
            raw = fh.read()
        sink = EventSink(ChatHistoryJson.name)
        try:
            found = _find_messages(loads(raw), 0)
        except orjson.JSONDecodeError as exc:
            at = getattr(exc, "pos", 0) or 0
            line = raw.count("\n", 0, at) + 1
            # Cut off (the text is fine up to its end) is read up to the last whole message;
            # an error inside the text is not guessed around.
            found = _complete_messages(raw) if at >= len(raw.rstrip()) else None
            if found is None:
                raise LogFormatError(path, f"invalid JSON ({exc})", line) from exc
            sink.skip(
                line, "the JSON ends mid-document (cut off?): read up to the last complete message"
            )
        if found is None:
            raise LogFormatError(path, "no list of chat messages (role/content) in this JSON")
        messages, _ = found
        pos = 0
        for msg in messages:
            text = text_of(msg.get("content"))
            at = _locate(raw, text, pos)
            pos = at if at >= 0 else pos
            _add(sink, raw.count("\n", 0, pos) + 1, msg, text)
            pos += 1
        if not len(sink):
            raise LogFormatError(path, "the chat history is empty")
        sink.counted(len(messages) + len(sink.skipped), "messages")  # the cut one unread
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


def _find_messages(doc: Any, depth: int) -> tuple[list[dict[str, Any]], int] | None:
    """The first list of chat messages in ``doc``, with its depth (0: ``doc`` itself)."""
    if (
        isinstance(doc, list)
        and doc
        and all(isinstance(m, dict) and ("role" in m or "content" in m) for m in doc)
    ):
        return doc, depth
    if depth >= _MAX_DEPTH:
        return None
    children = doc.values() if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    for child in children:
        if isinstance(child, (dict, list)):
            found = _find_messages(child, depth + 1)
            if found is not None:
                return found
    return None


def _complete_messages(raw: str) -> tuple[list[dict[str, Any]], int] | None:
    """The chat messages of a document cut off mid-way: the text up to the end of an array
    item, closed with the brackets still open there. The first try closes after the last
    item of any array, to learn where the message list is; the second after the last item of
    the message list, so that no message is read half-way."""
    ends: list[tuple[int, int, str]] = []  # (offset after an array item, open depth, closers)
    stack: list[str] = []
    for token in _STRUCTURE.finditer(raw):
        char = token[0]
        if char in "[{":
            stack.append("]" if char == "[" else "}")
        elif char in "]}":
            if not stack or stack.pop() != char:
                return None  # not JSON that was merely cut short
            if stack and stack[-1] == "]":
                ends.append((token.end(), len(stack), "".join(reversed(stack))))
    found = _closed_at(raw, ends)
    if found is None:
        return None
    depth = found[1] + 1  # open brackets after a message: the list and those around it
    return _closed_at(raw, [e for e in ends if e[1] == depth])


def _closed_at(
    raw: str, ends: list[tuple[int, int, str]]
) -> tuple[list[dict[str, Any]], int] | None:
    """Messages of the text closed at the last of ``ends`` that gives valid JSON (a bracket in
    a string the cut left open can fake the last few)."""
    for end, _, closers in reversed(ends[-_CLOSE_TRIES:]):
        try:
            return _find_messages(loads(raw[:end] + closers), 0)
        except orjson.JSONDecodeError:
            continue
    return None


def _add(sink: EventSink, line: int, msg: dict[str, Any], text: str) -> None:
    agent = msg.get("name") or msg.get("role")
    if is_tool_response(msg):
        add_tool_responses(sink, line, msg, agent=agent)
        return
    add_message_with_calls(sink, line, text, msg, agent=agent)
