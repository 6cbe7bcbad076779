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
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import orjson
import polars as pl

from ._agentchat_messages import TEAM_ID, agent_name, emit_chat_message, find_chat_messages
from ._line_batches import Span, line_batches
from ._pyrepr import execution_results, function_calls, unquote
from ._record_layout import (
    LEVEL_NAMES,
    LOGGER_NAMES,
    SEPARATOR_RUN,
    TIME,
    Layout,
    Prefix,
    agrees,
    is_record_start,
    learn,
)
from ._split_parse import PENDING_RUN, Part, parse_in_parts, plan
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

LOGGER = re.compile(rf"(?<![\w./\\])({LOGGER_NAMES})(?::\d+)?(?![\w/\\])")
LEVEL = re.compile(rf"(?<!\w)({LEVEL_NAMES})(?!\w)")
TIMESTAMP = re.compile(TIME)
TRAILING_TIMESTAMP = re.compile(rf"\s+(?:@|at|-|\|)?\s*({TIME})\s*$")
RECORD_START = re.compile(
    r"^\[?(\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|DEBUG|INFO|WARNING|ERROR|CRITICAL)"
)
SEPARATORS = re.compile(SEPARATOR_RUN)
_PREFIX_LIMIT = 160  # the logger name must sit in the prefix, not deep inside a message
_LEVEL_GAP = 12  # a level after the name counts only if it follows within this many characters
LEARN_LINES = 2000  # lines a learned layout must split exactly as the slow splitter does
# A record with none of these can produce no event (see _Parser.record): bulk-dropped.
WANTED = r"autogen_core\.events|autogen_agentchat|GroupChatTermination|ERROR|CRITICAL|FATAL"

SELECTED = re.compile(r"Selected speaker: (\S+)")
TERMINATION = re.compile(
    r"GroupChatTermination.*?StopMessage\(.*?content=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", re.S
)
# Raw-text view of a Message event (see _Parser.known_hop): the ids inside its payload
# (a JSON string, so quotes are escaped) and the receiver/sender outside it.
_PAYLOAD_START, _MESSAGE_END = '{"payload": "', '"type": "Message"}'
_ERROR_KEY, _SOURCE_KEY = '\\"error\\"', '\\"source\\":'
HOP_ID = re.compile(r'\\"id\\":\\"([^"\\]+)\\"')
ROUTE_KEYS = ('"receiver": "', '"sender": "')  # top-level keys, after the payload
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
        spans = plan(path, _starts_record)
        if len(spans) > 1 and (merged := parse_in_parts(path, _parse_span, spans)):
            events, skipped = merged
        else:
            part = _parse_span(path, Span())
            events, skipped = part.events, part.skipped
        require_events(path, events, "AutoGen logging records")
        return ParsedLog(events, skipped)


def _parse_span(path: Path, span: Span) -> Part:
    """The events of the records that start in ``span`` (see ``_split_parse``)."""
    sink = EventSink(
        AgentchatLogging.name, EventSink.DEFAULT_RUN if not span.start else PENDING_RUN
    )
    parser = _Parser(sink)
    record: list[Any] | None = None  # [line, logger, level, time, message lines]
    expected = 1
    for number, text, split in _records(path, span):
        if number != expected and record:  # dropped lines in between started records
            parser.record(*record)
            record = None
        expected = number + 1
        if split is not None:
            if record:
                parser.record(*record)
            logger, level, when, message = split
            record = [number, logger, level, when, [message]]
        elif RECORD_START.match(text):  # another library's record: ends ours
            if record:
                parser.record(*record)
            record = None
        elif record is not None:
            record[4].append(text)
    if record:
        parser.record(*record)
    return Part(sink.frame(), tuple(sink.skipped), span.lines, sink.run_id, tuple(parser.firsts))


def _starts_record(line: str) -> bool:
    """The parse ends any record in progress at this line: a safe place to split the file."""
    return bool(RECORD_START.match(line)) or _split(line) is not None


Split = tuple[str, str, str | None, str]  # logger, level, time as written, message
Hop = tuple[list[str], int, str]  # payload ids, number of sources, the raw message


def _records(path: Path, span: Span) -> Iterator[tuple[int, str, Split | None]]:
    """(line, text, split) for every line that can matter, in order.

    Lines are scanned in bulk: polars drops the records that cannot produce an event (a
    record of an AutoGen logger with none of the words the parser acts on; such a line only
    ends the record before it, which the caller sees as a gap in the line numbers). With a
    layout learned (and checked) from the file's first lines, polars also splits the rest.
    """
    sample = [text for _, text in islice(iter_lines(path), LEARN_LINES)]
    # A file the sample covers gets the slow splitter's answer on every line either way (the
    # layout must agree with it on all of them); checking a layout would cost more than that.
    layout = _learn(sample) if len(sample) == LEARN_LINES else None
    text = pl.col("text")
    wanted = text.str.contains(WANTED) | ~is_record_start(text, _PREFIX_LIMIT)
    if layout is None:
        for batch in line_batches(path, lambda lf: lf.filter(wanted), span=span):
            for number, line in zip(batch["line"].to_list(), batch["text"].to_list(), strict=True):
                yield number, line, _split(line)
        return
    columns = ("line", "text", "logger", "level", "when", "message_at")
    for batch in line_batches(path, lambda lf: layout.split(lf.filter(wanted)), span=span):
        for number, line, logger, level, when, at in zip(
            *(batch[c].to_list() for c in columns), strict=True
        ):
            if logger is None:
                yield number, line, _split(line)
            elif not layout.has_time:  # the time, if any, ends the message
                yield number, line, (logger, level, *_trailing_time(line[at:]))
            else:
                yield number, line, (logger, level, when, line[at:])


def _hop_facts(message: str) -> Hop | None:
    """What ``_Parser.known_hop`` needs, read off a Message event's raw text (None if it is
    not one of the usual shape: payload a JSON string, no error)."""
    if not (message.startswith(_PAYLOAD_START) and message.endswith(_MESSAGE_END)):
        return None
    if _ERROR_KEY in message:
        return None
    return HOP_ID.findall(message), message.count(_SOURCE_KEY), message


def _route(message: str) -> list[str | None]:
    """(receiver, sender) of a Message event's raw text. They follow the payload, whose own
    quotes are escaped, so searching from the end finds the top-level keys first."""
    found: list[str | None] = []
    for key in ROUTE_KEYS:
        at = message.rfind(key)
        start = at + len(key)
        found.append(message[start : message.find('"', start)] if at >= 0 else None)
    return found


def _learn(lines: list[str]) -> Layout | None:
    """The layout of the first record, if it splits every sampled line as ``_split`` does."""
    slow = [_prefix(line) for line in lines]
    first = next((p for p in slow if p is not None), None)
    if first is None:
        return None
    layout = learn(lines[slow.index(first)], first[1], _PREFIX_LIMIT, _LEVEL_GAP)
    expected = [
        None if p is None else _bulk_view(line, *p) for line, p in zip(lines, slow, strict=True)
    ]
    return layout if agrees(layout, lines, expected) else None


def _bulk_view(line: str, split: Split, prefix: Prefix) -> tuple[str, str, str | None, int]:
    """What a layout yields for a line: the time in the prefix only (a trailing one is the
    caller's, as in ``_records``)."""
    when = next((line[s:e] for s, e, name in prefix.fields if name == "when"), None)
    return split[0], split[1], when, prefix.message_at


def _split(line: str) -> Split | None:
    """(logger, level, time, message) if the line starts a record of an AutoGen logger."""
    found = _prefix(line)
    return None if found is None else found[0]


def _trailing_time(message: str) -> tuple[str | None, str]:
    """A format with the time last: (time, message before it), else (None, message)."""
    last = message[-1:]
    maybe = last.isdigit() or last == "Z" or last.isspace()  # cheap: JSON records end in "}"
    if maybe and (tail := TRAILING_TIMESTAMP.search(message)):
        return tail[1], message[: tail.start()]
    return None, message


def _prefix(line: str) -> tuple[Split, Prefix] | None:
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
    at = SEPARATORS.match(line, start).end()  # type: ignore[union-attr]
    rest = line[at:]
    if when is None:
        when, rest = _trailing_time(rest)
    fields = [(name.start(), name.end(), "logger")]
    fields += [(found.start(1), found.end(1), "level")] if found else []
    fields += [(stamp.start(), stamp.end(), "when")] if stamp else []
    return (name[1], level_name, when, rest), Prefix(tuple(fields), at, bool(after))


class _Parser:
    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.seen: set[str] = set()  # chat message ids already emitted (logged once per hop)
        self.firsts: list[tuple[str, int, int]] = []  # (id, rows it emitted), for merging spans
        self._last: tuple[str | None, datetime | None] = (None, None)

    def time(self, when: str | None) -> datetime | None:
        """Parsed only for records that become events; neighbours often share a stamp."""
        if when != self._last[0]:
            self._last = (when, parse_ts(when))
        return self._last[1]

    def record(
        self, line: int, logger: str, level: str, when: str | None, lines: list[str]
    ) -> None:
        message = lines[0]
        if logger == "autogen_core.events" and message.startswith("{"):
            if self.known_hop(_hop_facts(message)):
                return
            try:
                event = loads(message)
            except orjson.JSONDecodeError:
                event = _json_prefix(message)
            if event is None:
                self.sink.skip(line, "truncated or invalid autogen_core.events JSON")
                return
            if isinstance(event, dict):
                self.event(event, line, when)
        elif logger == "autogen_agentchat.events":
            self.repr_event(message, line, when)
        elif logger == "autogen_agentchat" and (m := SELECTED.search(message)):
            self.sink.add(
                "other",
                line,
                ts=self.time(when),
                subkind="speaker_selected",
                recipient=m[1],
                content=message.strip(),
            )
        elif "GroupChatTermination" in message and (m := TERMINATION.search(message)):
            if "'error': SerializableException" in message:  # the team stopped on an exception
                self.sink.add(
                    "error", line, ts=self.time(when), is_error=True, content=unquote(m[1])
                )
            else:
                self.sink.add("termination", line, ts=self.time(when), content=unquote(m[1]))
        elif level in ("ERROR", "CRITICAL", "FATAL"):
            body = "\n".join(lines).strip()
            last = body.splitlines()[-1] if body else ""
            interrupt = "KeyboardInterrupt" in body or last.startswith(
                ("asyncio.exceptions.CancelledError", "CancelledError")
            )
            self.sink.add(
                "error",
                line,
                ts=self.time(when),
                subkind="interrupt" if interrupt else "traceback",
                content=body,
                is_error=True,
            )

    def known_hop(self, hop: Hop | None) -> bool:
        """A Message event carrying no chat message not yet emitted (each is logged once per
        hop): its decode is skipped, the run it belongs to still followed. Conservative:
        every chat message has a ``source``, so there must be at least as many distinct known
        ids as ``source`` keys. Any doubt (``hop`` is None) means decoding it."""
        if hop is None:
            return False
        ids, sources, message = hop
        if sources and len(self.seen.intersection(ids)) < sources:
            return False
        self._run_of(*_route(message))
        return True

    def _run_of(self, *ids: str | None) -> None:
        for value in ids:
            if value and (m := TEAM_ID.search(value)):
                self.sink.run_id = m[0]
                return

    def event(self, e: dict[str, Any], line: int, when: str | None) -> None:
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
                    ts=self.time(when),
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
                    start = len(self.sink)
                    emit_chat_message(self.sink, msg, line, self.time(when))
                    self.firsts.append((key, start, len(self.sink)))
        elif kind in ("LLMCall", "LLMStreamEnd"):
            response = e.get("response") or {}
            add(
                "llm_call",
                line,
                ts=self.time(when),
                agent=agent,
                subkind="selector_call" if agent and "GroupChatManager" in agent else None,
                prompt_tokens=e.get("prompt_tokens"),
                completion_tokens=e.get("completion_tokens"),
                content=_reply(response),
            )
        elif kind == "LLMStreamStart":
            add(
                "other",
                line,
                ts=self.time(when),
                agent=agent,
                subkind="llm_start",
                content="LLMStreamStart",
            )
        elif kind == "ToolCall":
            add(
                "other",
                line,
                ts=self.time(when),
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
                ts=self.time(when),
                agent=agent_name(e.get("handling_agent")),
                is_error=True,
                subkind=None if text else "interrupt",  # str(CancelledError) is empty
                content=f"{kind}: {text or 'cancelled (the handler was interrupted)'}",
            )

    def repr_event(self, message: str, line: int, when: str | None) -> None:
        m = REPR_ID.match(message)
        if not m or m[1] in self.seen:
            return
        self.seen.add(m[1])
        start = len(self.sink)
        self._repr_event(message, line, when, m[2])
        self.firsts.append((m[1], start, len(self.sink)))

    def _repr_event(self, message: str, line: int, when: str | None, source: str) -> None:
        if message.rstrip().endswith("type='ToolCallRequestEvent'"):
            for call_id, args, name in function_calls(message):
                self.sink.add(
                    "tool_call",
                    line,
                    ts=self.time(when),
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
                    ts=self.time(when),
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
