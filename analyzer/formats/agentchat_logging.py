"""Python logging of the AutoGen 0.4+ loggers, written with *any* format string.

Loggers: ``autogen_core`` (runtime text), ``autogen_core.events`` (one JSON event per record:
Message, LLMCall, LLMStreamStart/End, ToolCall, MessageHandlerException...), ``autogen_agentchat``
(``Selected speaker: X``), ``autogen_agentchat.events`` (pydantic reprs of tool-call events).
A record is recognised by the logger name and level wherever the format put them; the message
is what follows the later of the two; a timestamp anywhere before it is the record's time (as
written: local time, no zone). Lines that start no record (tracebacks) belong to the one before.
Each team run (its uuid in agent ids) becomes its own run.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ._agentchat_messages import TEAM_ID, agent_name, emit_chat_message, find_chat_messages
from ._pyrepr import execution_results, function_calls, unquote
from .base import (
    EventSink,
    ParsedLog,
    canonical_json,
    iter_lines,
    loads,
    parse_ts,
    require_events,
    text_of,
)

LOGGER = re.compile(
    r"(?<![\w./\\])(autogen_core(?:\.\w+)*|autogen_agentchat(?:\.\w+)*|autogen_ext(?:\.\w+)*|asyncio)"
    r"(?::\d+)?(?![\w/\\])"
)
LEVEL = re.compile(r"(?<!\w)(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)(?!\w)")
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})?"
)
TRAILING_TIMESTAMP = re.compile(rf"\s+(?:@|at|-|\|)?\s*({TIMESTAMP.pattern})\s*$")
RECORD_START = re.compile(
    r"^\[?(\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|DEBUG|INFO|WARNING|ERROR|CRITICAL)"
)
SEPARATORS = re.compile(r"^[\s\-:|\]})>]*")
_PREFIX_LIMIT = 160  # the logger name must sit in the prefix, not deep inside a message
_LEVEL_GAP = 12  # a level after the name counts only if it follows within this many characters

SELECTED = re.compile(r"Selected speaker: (\S+)")
TERMINATION = re.compile(
    r"GroupChatTermination.*?StopMessage\(.*?content=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", re.S
)
REPR_ID = re.compile(r"^id='([^']+)' source='([^']*)'")


class AgentchatLogging:
    name: ClassVar[str] = "agentchat-logging"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "Python logging of autogen_core / autogen_agentchat (any format)"

    @staticmethod
    def sniff(head: str) -> float:
        hits = sum(1 for line in head.splitlines()[:200] if _split(line) is not None)
        return min(1.0, 0.4 + 0.05 * hits) if hits else 0.0

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        parser = _Parser(EventSink(AgentchatLogging.name))
        record: list[Any] | None = None  # [line, logger, level, ts, message lines]
        for number, text in iter_lines(path):
            split = _split(text)
            if split is not None:
                if record:
                    parser.record(*record)
                logger, level, ts, message = split
                record = [number, logger, level, ts, [message]]
            elif RECORD_START.match(text):  # another library's record: ends ours
                if record:
                    parser.record(*record)
                record = None
            elif record is not None:
                record[4].append(text)
        if record:
            parser.record(*record)
        require_events(path, parser.sink, "AutoGen logging records")
        return parser.sink.result()


def _split(line: str) -> tuple[str, str, datetime | None, str] | None:
    """(logger, level, time, message) if the line starts a record of an AutoGen logger."""
    if not line or line[0].isspace():
        return None
    name = LOGGER.search(line, 0, _PREFIX_LIMIT)
    if name is None:
        return None
    level = LEVEL.search(line, 0, name.start())
    after = LEVEL.search(line, name.end(), name.end() + _LEVEL_GAP)
    start = max(name.end(), after.end() if after else 0)
    found = after or level
    level_name = found[1] if found else "INFO"
    stamp = TIMESTAMP.search(line, 0, name.start()) or TIMESTAMP.search(line, name.end(), start)
    when = stamp[0] if stamp else None
    rest = line[start:]
    rest = rest[SEPARATORS.match(rest).end() :]  # type: ignore[union-attr]
    if when is None and (tail := TRAILING_TIMESTAMP.search(rest)):  # a format with the time last
        when, rest = tail[1], rest[: tail.start()]
    return name[1], level_name, parse_ts(when), rest


class _Parser:
    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.seen: set[str] = set()  # chat message ids already emitted (logged once per hop)

    def record(
        self, line: int, logger: str, level: str, ts: datetime | None, lines: list[str]
    ) -> None:
        message = lines[0]
        if logger == "autogen_core.events" and message.startswith("{"):
            try:
                event = loads(message)
            except orjson.JSONDecodeError:
                event = _json_prefix(message)
            if event is None:
                self.sink.skip(line, "truncated or invalid autogen_core.events JSON")
                return
            if isinstance(event, dict):
                self.event(event, line, ts)
        elif logger == "autogen_agentchat.events":
            self.repr_event(message, line, ts)
        elif logger == "autogen_agentchat" and (m := SELECTED.search(message)):
            self.sink.add(
                "other",
                line,
                ts=ts,
                subkind="speaker_selected",
                recipient=m[1],
                content=message.strip(),
            )
        elif "GroupChatTermination" in message and (m := TERMINATION.search(message)):
            if "'error': SerializableException" in message:  # the team stopped on an exception
                self.sink.add("error", line, ts=ts, is_error=True, content=unquote(m[1]))
            else:
                self.sink.add("termination", line, ts=ts, content=unquote(m[1]))
        elif level in ("ERROR", "CRITICAL", "FATAL"):
            body = "\n".join(lines).strip()
            last = body.splitlines()[-1] if body else ""
            interrupt = "KeyboardInterrupt" in body or last.startswith(
                ("asyncio.exceptions.CancelledError", "CancelledError")
            )
            self.sink.add(
                "error",
                line,
                ts=ts,
                subkind="interrupt" if interrupt else "traceback",
                content=body,
                is_error=True,
            )

    def _run_of(self, *ids: str | None) -> None:
        for value in ids:
            if value and (m := TEAM_ID.search(value)):
                self.sink.run_id = m[0]
                return

    def event(self, e: dict[str, Any], line: int, ts: datetime | None) -> None:
        kind, add = e.get("type"), self.sink.add
        self._run_of(e.get("receiver"), e.get("sender"), e.get("agent_id"))
        agent = agent_name(e.get("agent_id"))
        if kind == "Message":
            payload = e.get("payload")
            try:
                decoded = loads(payload) if isinstance(payload, str) else payload
            except orjson.JSONDecodeError:
                return  # "Message could not be serialized"
            if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
                err = decoded["error"]
                add(
                    "error",
                    line,
                    ts=ts,
                    is_error=True,
                    content=f"{err.get('error_type')}: {err.get('error_message')}",
                )
            for msg in find_chat_messages(decoded):
                key = (
                    msg.get("id")
                    or f"{msg.get('type')}|{msg.get('source')}|{msg.get('created_at')}"
                )
                if key not in self.seen:
                    self.seen.add(key)
                    emit_chat_message(self.sink, msg, line, ts)
        elif kind in ("LLMCall", "LLMStreamEnd"):
            response = e.get("response") or {}
            add(
                "llm_call",
                line,
                ts=ts,
                agent=agent,
                subkind="selector_call" if agent and "GroupChatManager" in agent else None,
                prompt_tokens=e.get("prompt_tokens"),
                completion_tokens=e.get("completion_tokens"),
                content=_reply(response),
            )
        elif kind == "LLMStreamStart":
            add("other", line, ts=ts, agent=agent, subkind="llm_start", content="LLMStreamStart")
        elif kind == "ToolCall":
            add(
                "other",
                line,
                ts=ts,
                agent=agent,
                subkind="tool_exec_end",
                tool_name=e.get("tool_name"),
                tool_args=canonical_json(e.get("arguments") or {}),
                content=text_of(e.get("result")),
            )
        elif kind in ("MessageHandlerException", "AgentConstructionException", "MessageDropped"):
            text = e.get("exception")
            add(
                "error",
                line,
                ts=ts,
                agent=agent_name(e.get("handling_agent")),
                is_error=True,
                subkind=None if text else "interrupt",  # str(CancelledError) is empty
                content=f"{kind}: {text or 'cancelled (the handler was interrupted)'}",
            )

    def repr_event(self, message: str, line: int, ts: datetime | None) -> None:
        m = REPR_ID.match(message)
        if not m or m[1] in self.seen:
            return
        self.seen.add(m[1])
        source = m[2]
        if message.rstrip().endswith("type='ToolCallRequestEvent'"):
            for call_id, args, name in function_calls(message):
                self.sink.add(
                    "tool_call",
                    line,
                    ts=ts,
                    agent=source,
                    tool_name=name,
                    tool_call_id=call_id,
                    tool_args=canonical_json(args),
                    content=args,
                )
        elif message.rstrip().endswith("type='ToolCallExecutionEvent'"):
            for content, name, call_id, is_error in execution_results(message):
                self.sink.add(
                    "tool_result",
                    line,
                    ts=ts,
                    agent=source,
                    tool_name=name,
                    tool_call_id=call_id,
                    content=content,
                    is_error=is_error,
                )


def _json_prefix(text: str) -> Any:
    """The JSON object at the start of ``text`` when a format put more text after the message."""
    try:
        return json.JSONDecoder().raw_decode(text)[0]
    except json.JSONDecodeError:
        return None


def _reply(response: dict[str, Any]) -> str:
    """The model's answer: a selector's chosen name, a reply, or the tool calls it asked for."""
    if "choices" in response:
        choices = response.get("choices") or [{}]
        msg = choices[0].get("message") or {}
        calls = [c.get("function", {}).get("name") for c in msg.get("tool_calls") or []]
        return msg.get("content") or (f"tool calls: {', '.join(map(str, calls))}" if calls else "")
    content = response.get("content")
    if isinstance(content, list):
        return "tool calls: " + ", ".join(
            str(c.get("name")) for c in content if isinstance(c, dict)
        )
    return text_of(content)
