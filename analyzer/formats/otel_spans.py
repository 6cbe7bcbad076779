"""OpenTelemetry spans exported as JSON (``ConsoleSpanExporter``: pretty-printed objects back to
back, or one per line), from AutoGen 0.4+ tracing or AG2's ``autogen.opentelemetry``.

A span is written only when it ends, so children come before parents and a stuck span is
simply missing: events are rebuilt in time order from start/end times. Mapped: ``invoke_agent``
(an agent's turn), ``create_agent`` (the roster), ``execute_tool`` (call at start, result at
end), ``chat <model>`` (model call with usage), ``await_human_input`` (a prompt),
``conversation`` (its end), a runtime span carrying ``GroupChatTermination`` (the team ended),
and any ERROR status or exception event (an error, once per text). Other runtime messaging
spans (``autogen publish/send/process``) are skipped.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ..errors import LogFormatError
from ._agentchat_messages import agent_name
from .base import EventSink, ParsedLog, canonical_json, open_text, parse_ts

_OPERATION = re.compile(
    r"^(invoke_agent|create_agent|execute_tool|chat|await_human_input|conversation) ?(.*)$"
)
Row = tuple[datetime, int, int, str, dict[str, Any]]  # (time, order, line, kind, fields)


# autogen-core's runtime plumbing (agent and topic creation, acks, message delivery): known,
# and carrying nothing the event table holds today.
_RUNTIME_SPAN = re.compile(r"autogen (?:create|ack|process|publish|send|respond)(?:\s|$)")


class OtelSpans:
    name: ClassVar[str] = "otel-spans"
    family: ClassVar[str] = "agentchat"
    description: ClassVar[str] = "OpenTelemetry spans as JSON (ConsoleSpanExporter / JSON lines)"

    @staticmethod
    def sniff(head: str) -> float:
        text = head.lstrip()[:3000]
        if (
            text.startswith("{")
            and '"context"' in text
            and '"span_id"' in text
            and '"start_time"' in text
        ):
            return 0.9
        return 0.0

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        with open_text(path) as fh:
            raw = fh.read()
        sink = EventSink(OtelSpans.name)
        spans = list(_objects(path, raw, sink))
        by_id = {s.get("context", {}).get("span_id"): s for _, s in spans}
        cut = _interrupted(spans, by_id)
        rows: list[Row] = []
        for line, span in spans:
            mine = _rows(line, span, by_id, id(span) in cut)
            if not mine and not _RUNTIME_SPAN.match(str(span.get("name") or "")):
                name = str(span.get("name") or "")[:40].split(" ")[0] or "unnamed"
                sink.unread(line, f"span with nothing read ({name} ...)")
            rows.extend(mine)
        sink.counted(len(spans), "spans")
        ag2 = any(k.startswith("ag2.") for _, s in spans for k in s.get("attributes", {}))
        seen_errors: set[str] = set()
        for _, _, line, kind, fields in sorted(rows, key=lambda r: (r[0], r[1])):
            if kind in ("error", "termination"):
                if fields["content"] in seen_errors:
                    continue
                seen_errors.add(fields["content"])
            sink.add(kind, line, **fields)
        if not len(sink):
            raise LogFormatError(
                path, "no AutoGen spans (invoke_agent, execute_tool, chat...) found"
            )
        return sink.result(family="classic" if ag2 else "agentchat")


def _objects(path: Path, raw: str, sink: EventSink) -> Any:
    decoder = json.JSONDecoder()
    pos, line = 0, 1
    while True:
        start = raw.find("{", pos)
        if start < 0:
            return
        line += raw.count("\n", pos, start)
        try:
            obj, end = decoder.raw_decode(raw, start)
        except json.JSONDecodeError:
            sink.skip(line, "truncated or invalid span JSON")
            return
        if isinstance(obj, dict) and "context" in obj:
            yield line, obj
        line += raw.count("\n", start, end)
        pos = end


# Spans an interrupt unwinds end together (the exception passes through each ``with`` at once).
_TOGETHER_S = 0.005
_OPERATIONS_CUT = ("invoke_agent ", "execute_tool ", "chat ")


def _interrupted(spans: list[tuple[int, dict[str, Any]]], by_id: dict[str, Any]) -> set[int]:
    """The agent, tool and model-call spans an interrupt closed: not OK, ended at the file's
    last instant together with every exported ancestor, in a run that recorded no end (a
    team publishes GroupChatTermination however it ends; an AG2 conversation span closes).
    Such a span's end is the process stopping, not its operation finishing: autogen-core
    sets nothing on a finished span that an interrupted one lacks, so the run's own end is
    what tells a last turn from a cut one."""
    ends = [t for _, s in spans if (t := parse_ts(s.get("end_time")))]
    if not ends or any(_ends_run(s) for _, s in spans):
        return set()
    last = max(ends)
    cut: set[int] = set()
    for _, span in spans:
        end = parse_ts(span.get("end_time"))
        name = str(_as_genai(span).get("name") or "")
        status = (span.get("status") or {}).get("status_code")
        if end is None or status == "OK" or not name.startswith(_OPERATIONS_CUT):
            continue
        if (last - end).total_seconds() > _TOGETHER_S:
            continue
        if all(
            (a_end := parse_ts(a.get("end_time"))) is not None
            and abs((a_end - end).total_seconds()) <= _TOGETHER_S
            for a in _ancestors(span, by_id)
        ):
            cut.add(id(span))
    return cut


def _as_genai(span: dict[str, Any]) -> dict[str, Any]:
    """autogen-core 0.5.x's tool span (named after the tool; ``tool_name``, ``tool_args``:
    read in ``tools/_base.py`` before the GenAI conventions) as the ``execute_tool`` span
    0.6+ writes; any other span as it is."""
    attrs = span.get("attributes")
    if not isinstance(attrs, dict) or "tool_name" not in attrs or "tool_args" not in attrs:
        return span
    if str(span.get("name") or "") != str(attrs["tool_name"]):
        return span
    genai = {
        **attrs,
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": attrs["tool_name"],
        "gen_ai.tool.call.arguments": attrs["tool_args"],
    }
    return {**span, "name": f"execute_tool {attrs['tool_name']}", "attributes": genai}


def _rpc_rows(
    span: dict[str, Any], attrs: dict[str, Any], start: Any, end: Any, line: int
) -> list[Row]:
    """autogen-core's direct messages: ``autogen send X`` is an RPC to X (sent at its start),
    ``autogen process X`` of an RPC (``is_rpc`` in its message context) is X answering it."""
    name = str(span.get("name") or "")
    context = attrs.get("message_context")
    if name.startswith("autogen send "):
        target = _runtime_agent(name[len("autogen send ") :])
        at, order, fields = start, 0, {"subkind": "rpc_send", "recipient": target}
        text = f"direct message -> {target}"
    elif name.startswith("autogen process ") and '"is_rpc": true' in str(context or ""):
        target = _runtime_agent(name[len("autogen process ") :])
        at, order, fields = end, 1, {"subkind": "rpc_respond", "agent": target}
        text = f"response {target} ->"
    else:
        return []
    return [(at, order, line, "other", {"ts": at, **fields, "content": text})]


def _runtime_agent(destination: str) -> str | None:
    """``planner_<team>.(<team>)-A`` -> ``planner``: a runtime span's agent."""
    return agent_name(destination.split(".(", 1)[0])


def _ends_run(span: dict[str, Any]) -> bool:
    attrs = span.get("attributes") or {}
    if attrs.get("messaging.message.type") == "GroupChatTermination":
        return True
    status = (span.get("status") or {}).get("status_code")
    return str(span.get("name") or "").startswith("conversation ") and status != "ERROR"


def _ancestors(span: dict[str, Any], by_id: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    parent = by_id.get(str(span.get("parent_id")))
    while parent is not None and len(found) < 50:
        found.append(parent)
        parent = by_id.get(str(parent.get("parent_id")))
    return found


def _rows(
    line: int, span: dict[str, Any], by_id: dict[str, Any], interrupted: bool = False
) -> list[Row]:
    """``interrupted``: the span was closed by the process stopping (``_interrupted``): its
    operation never finished, so it gives its start and an interrupt, not its end."""
    span = _as_genai(span)
    m = _OPERATION.match(span.get("name") or "")
    start, end = parse_ts(span.get("start_time")), parse_ts(span.get("end_time"))
    attrs = span.get("attributes") or {}
    rows: list[Row] = []
    if start is None or end is None:
        return rows
    status = span.get("status") or {}
    order = 0
    rows.extend(_rpc_rows(span, attrs, start, end, line))
    message_type = attrs.get("messaging.message.type")
    if message_type == "GroupChatTermination":  # the team published its end
        rows.append(
            (end, order + 2, line, "termination", {"ts": end, "content": "GroupChatTermination"})
        )
    if m:
        op, target = m[1], m[2]
        owner = _owner(span, by_id)
        duration = (end - start).total_seconds() * 1000
        if op == "invoke_agent":
            rows.append(
                (
                    start,
                    order,
                    line,
                    "other",
                    {
                        "ts": start,
                        "subkind": "speaker_selected",
                        "recipient": target,
                        "content": f"invoke_agent {target}",
                        "duration_ms": duration,
                    },
                )
            )
            rows.extend(
                (end, order, line, "message", {"ts": end, "agent": target, "content": text})
                for text in _output_texts(attrs.get("gen_ai.output.messages"))
            )
        elif op == "create_agent":
            rows.append(
                (
                    start,
                    order,
                    line,
                    "other",
                    {
                        "ts": start,
                        "subkind": "agent_config",
                        "agent": target,
                        "content": orjson.dumps(
                            {"description": attrs.get("gen_ai.agent.description")}
                        ).decode(),
                    },
                )
            )
        elif op == "execute_tool":
            tool = attrs.get("gen_ai.tool.name") or target
            cid = attrs.get("gen_ai.tool.call.id")
            args = attrs.get("gen_ai.tool.call.arguments")
            common = {
                "agent": owner,
                "tool_name": tool,
                "tool_call_id": cid,
                "tool_args": canonical_json(args) if args is not None else None,
            }
            if tool.startswith("transfer_to_"):
                rows.append(
                    (
                        end,
                        order,
                        line,
                        "message",
                        {
                            "ts": end,
                            "agent": owner,
                            "subkind": "handoff",
                            "recipient": tool[len("transfer_to_") :],
                            "content": f"handoff via {tool}",
                        },
                    )
                )
            else:
                rows.append(
                    (start, order, line, "tool_call", {"ts": start, **common, "content": args})
                )
                rows.append(
                    (
                        end,
                        order + 1,
                        line,
                        "tool_result",
                        {
                            "ts": end,
                            **common,
                            "duration_ms": duration,
                            "content": str(attrs.get("gen_ai.tool.call.result") or ""),
                            "is_error": status.get("status_code") == "ERROR",
                        },
                    )
                )
        elif op == "chat":
            rows.append(
                (
                    end,
                    order,
                    line,
                    "llm_call",
                    {
                        "ts": end,
                        "agent": attrs.get("gen_ai.agent.name") or owner,
                        "duration_ms": duration,
                        "prompt_tokens": attrs.get("gen_ai.usage.input_tokens"),
                        "completion_tokens": attrs.get("gen_ai.usage.output_tokens"),
                        "is_error": status.get("status_code") == "ERROR",
                        "content": target,
                    },
                )
            )
        elif op == "await_human_input":
            rows.append(
                (
                    start,
                    order,
                    line,
                    "input_request",
                    {
                        "ts": start,
                        "agent": target,
                        "content": str(attrs.get("ag2.human_input.prompt") or op),
                    },
                )
            )
        elif op == "conversation" and status.get("status_code") != "ERROR":
            rows.append(
                (
                    end,
                    order + 2,
                    line,
                    "termination",
                    {"ts": end, "agent": target, "content": f"conversation {target} ended"},
                )
            )
    if status.get("status_code") == "ERROR":
        rows.append(
            (
                end,
                order + 3,
                line,
                "error",
                {"ts": end, "is_error": True, "content": _error_text(span, status)},
            )
        )
    return _cut_short(rows, span, start, end, line) if interrupted else rows


def _cut_short(rows: list[Row], span: dict[str, Any], start: Any, end: Any, line: int) -> list[Row]:
    """An interrupted span's rows: what its start says (the call, the agent's turn), none of
    what its end would (a result, a reply, output messages), and the interrupt itself."""
    name = str(span.get("name") or "")
    kept = [r for r in rows if r[0] == start and r[3] in ("tool_call", "other")]
    kept = [r for r in kept if r[3] != "error"]
    if name.startswith("chat "):
        kept.append(
            (start, 0, line, "other", {"ts": start, "subkind": "llm_start", "content": name})
        )
    seconds = (end - start).total_seconds()
    kept.append(
        (
            end,
            3,
            line,
            "error",
            {
                "ts": end,
                "is_error": True,
                "subkind": "interrupt",
                "content": f"interrupted inside {name} after {seconds:.1f} s: the span ended "
                "with the process, together with every span around it",
            },
        )
    )
    return kept


def _owner(span: dict[str, Any], by_id: dict[str, Any]) -> str | None:
    """The agent whose invoke_agent span encloses this one."""
    parent = by_id.get(str(span.get("parent_id")))
    for _ in range(20):
        if parent is None:
            return None
        name = parent.get("name") or ""
        if name.startswith("invoke_agent "):
            return agent_name(name[len("invoke_agent ") :])
        parent = by_id.get(str(parent.get("parent_id")))
    return None


def _output_texts(value: Any) -> list[str]:
    if not value:
        return []
    try:
        messages = orjson.loads(value) if isinstance(value, str) else value
    except orjson.JSONDecodeError:
        return [str(value)]
    texts: list[str] = []
    for msg in messages if isinstance(messages, list) else [messages]:
        parts = msg.get("parts") if isinstance(msg, dict) else None
        texts.extend(
            str(part["content"])
            for part in parts or []
            if isinstance(part, dict) and part.get("type") == "text" and part.get("content")
        )
    return texts


def _error_text(span: dict[str, Any], status: dict[str, Any]) -> str:
    for event in span.get("events") or []:
        attrs = event.get("attributes") or {}
        if "exception.message" in attrs:
            return f"{attrs.get('exception.type', 'Exception')}: {attrs['exception.message']}"
    return f"{span.get('name')}: {status.get('description') or 'ERROR'}"
