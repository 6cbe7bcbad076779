"""IOStream events of classic AutoGen (0.14.x) as JSON lines: ``{"type": ..., "content": {...}}``.

What a custom IOStream writes with ``event.model_dump_json()`` (and what IOWebsockets sends).
No clock. Human-input prompts are not events in console mode, so an input wait leaves no trace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import orjson

from ._openai_messages import add_message_with_calls, add_tool_responses, text_of
from .base import EventSink, ParsedLog, Sniff, canonical_json, loads
from .io.line_batches import Span, numbered_lines
from .io.split_parse import Part, Spanned, span_sink

_SKIP = frozenset({"print", "stream", "usage_summary", "clear_agents_history"})


class ClassicEventsJson:
    name: ClassVar[str] = "classic-events-json"
    family: ClassVar[str] = "classic"
    logs_tool_starts: ClassVar[bool] = True  # an execute_function event before every tool
    description: ClassVar[str] = "IOStream events written as JSON lines (model_dump_json)"

    @staticmethod
    def sniff(head: str) -> float:
        first = head.lstrip().split("\n", 1)[0]
        if first.startswith('{"type"') and '"content"' in first and '"uuid"' in first:
            return Sniff.SHAPE
        return Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        # One event per line and no state between them: a large file is cut at any line end.
        return SPANNED.parse(path)


def _parse_span(path: Path, span: Span) -> Part:
    """The events of the lines in ``span`` (see ``io.split_parse``)."""
    sink = span_sink(ClassicEventsJson.name, span)
    seen = 0
    for number, line in numbered_lines(path, span):
        if not line.strip():
            continue
        seen += 1
        try:
            event = loads(line)
            kind, body = event["type"], event.get("content") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            sink.skip(number, "not an IOStream event JSON line")
            continue
        if kind not in _SKIP:
            _add(sink, number, kind, body)
    sink.counted(seen, "events")
    return Part.of(sink, span, ())


def _add(sink: EventSink, line: int, kind: str, c: dict[str, Any]) -> None:
    add = sink.add
    sender, recipient = c.get("sender"), c.get("recipient")
    if kind in ("text", "tool_call", "function_call"):
        text = text_of(c.get("content"))
        add_message_with_calls(sink, line, text, c, agent=sender, recipient=recipient)
    elif kind in ("tool_response", "function_response"):
        add_tool_responses(sink, line, c, agent=sender, recipient=recipient)
    elif kind in ("execute_function", "executed_function"):
        started = kind == "execute_function"
        add(
            "other",
            line,
            subkind="tool_exec_start" if started else "tool_exec_end",
            recipient=recipient,
            tool_name=c.get("func_name"),
            tool_call_id=c.get("call_id"),
            tool_args=canonical_json(c.get("arguments") or {}),
            content=f"execute_function {c.get('func_name')}"
            if started
            else text_of(c.get("content")),
            is_error=not started and c.get("is_exec_success") is False,
        )
    elif kind == "group_chat_run_chat":
        add(
            "other",
            line,
            subkind="speaker_selected",
            recipient=c.get("speaker"),
            content=f"Next speaker: {c.get('speaker')}",
        )
    elif kind in ("termination", "run_completion"):
        add(
            "termination",
            line,
            agent=sender,
            recipient=recipient,
            content=c.get("termination_reason") or c.get("summary") or kind,
        )
    elif kind in ("termination_and_human_reply_no_input", "using_auto_reply"):
        add("input_reply", line, subkind="auto_reply", agent=c.get("sender"), content=kind)
    elif kind == "input_request":
        add("input_request", line, content=text_of(c.get("prompt")) or "input requested")
    elif kind == "input_response":
        add("input_reply", line, content=text_of(c.get("value")))
    elif kind == "error":
        add("error", line, content=text_of(c.get("error")), is_error=True)
    elif kind == "post_carryover_processing":
        info = c.get("chat_info") or {}
        add(
            "other",
            line,
            subkind="nested_chat",
            agent=info.get("sender"),
            recipient=info.get("recipient"),
            content="Starting a new chat",
        )
    else:
        add("other", line, agent=sender, recipient=recipient, content=kind)


SPANNED = Spanned(_parse_span, lambda line: True, "IOStream events")
