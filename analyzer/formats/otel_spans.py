"""OpenTelemetry spans exported as JSON (``ConsoleSpanExporter``: pretty-printed objects back to
back, or one per line), from AutoGen 0.4+ tracing or AG2's ``autogen.opentelemetry``.

A span is written only when it ends, so children come before parents and a stuck span is
simply missing: events are rebuilt in time order from start/end times. Mapped: ``invoke_agent``
(an agent's turn), ``create_agent`` (the roster), ``execute_tool`` (call at start, result at
end), ``chat <model>`` (model call with usage), ``await_human_input`` (a prompt),
``conversation`` (its end), a runtime span carrying ``GroupChatTermination`` (the team ended),
and any ERROR status or exception event (an error, once per exception raised). Other runtime messaging
spans (``autogen publish/send/process``) are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ..errors import LogFormatError
from ..traceback_frames import final
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
        requested = _requested_calls(spans)
        rows: list[Row] = _open_parents(spans, by_id)
        for line, span in spans:
            mine = _rows(line, span, by_id, id(span) in cut, requested)
            if not mine and not _RUNTIME_SPAN.match(str(span.get("name") or "")):
                name = str(span.get("name") or "")[:40].split(" ")[0] or "unnamed"
                sink.unread(line, f"span with nothing read ({name} ...)")
            rows.extend(mine)
        sink.counted(len(spans), "spans")
        ag2 = any(k.startswith("ag2.") for _, s in spans for k in s.get("attributes", {}))
        seen: set[str] = set()
        for _, _, line, kind, fields in sorted(rows, key=lambda r: (r[0], r[1])):
            if kind in ("error", "termination", "input_request"):
                # Once per raised exception (each span it unwound records its own stack), and
                # once per request (each subscriber's span carries the same message).
                key = f"{kind}|{fields.get('ts')}|" if kind == "input_request" else ""
                key += final(fields["content"])
                if key in seen:
                    continue
                seen.add(key)
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
    last instant together with all their ancestors (exported, as an interrupt unwinds them;
    a span whose ancestors were never exported ended while the run went on), in a run that
    recorded no end (a
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
        ancestors = _ancestors(span, by_id)
        if not ancestors or (ancestors[-1].get("parent_id") or None) is not None:
            continue  # an ancestor was never exported: still open, so not unwound by a signal
        if all(
            (a_end := parse_ts(a.get("end_time"))) is not None
            and abs((a_end - end).total_seconds()) <= _TOGETHER_S
            for a in ancestors
        ):
            cut.add(id(span))
    return cut


def _open_parents(spans: list[tuple[int, dict[str, Any]]], by_id: dict[str, Any]) -> list[Row]:
    """A span named as parent and never exported was still open when the spans were written
    (a span is exported when it ends): the run was inside it when the file stops, unless it
    lives in another process's trace. One row each, after the last of its children."""
    children: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for line, span in spans:
        parent = span.get("parent_id")
        if parent and str(parent) not in by_id:
            children.setdefault(str(parent), []).append((line, span))
    rows: list[Row] = []
    for parent, inside in children.items():
        ends = [(t, line, s) for line, s in inside if (t := parse_ts(s.get("end_time")))]
        if not ends:
            continue
        at, line, last = max(ends, key=lambda e: e[0])
        names = sorted({str(s.get("name") or "")[:60] for _, s in inside})
        agent = (last.get("attributes") or {}).get("gen_ai.agent.name") or _owner(last, by_id)
        rows.append(
            (
                at,
                4,
                line,
                "other",
                {
                    "ts": at,
                    "subkind": "span_open",
                    "agent": agent,
                    "content": f"span {parent} never ended: {len(inside)} exported span(s) ran "
                    f"inside it ({', '.join(names[:3])})",
                },
            )
        )
    return rows


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


def _input_request_rows(attrs: dict[str, Any], start: Any, line: int) -> list[Row]:
    """autogen-core 0.7 puts each delivered message on its ``autogen process`` span: a
    ``UserInputRequestedEvent`` there is an agent asking a human (a UserProxyAgent's turn)."""
    raw = attrs.get("message")
    if not isinstance(raw, str) or "UserInputRequestedEvent" not in raw:
        return []
    try:
        inner = orjson.loads(raw).get("message")
    except (orjson.JSONDecodeError, AttributeError):
        return []
    if not isinstance(inner, dict) or inner.get("type") != "UserInputRequestedEvent":
        return []
    at = parse_ts(inner.get("created_at")) or start
    fields = {"ts": at, "agent": inner.get("source"), "content": "UserInputRequestedEvent"}
    return [(at, 0, line, "input_request", fields)]


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
    return list(islice(_walk_up(span, by_id), 50))


def _walk_up(span: dict[str, Any], by_id: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The exported spans enclosing ``span``, innermost first."""
    parent = by_id.get(str(span.get("parent_id")))
    while parent is not None:
        yield parent
        parent = by_id.get(str(parent.get("parent_id")))


def _rows(
    line: int,
    span: dict[str, Any],
    by_id: dict[str, Any],
    interrupted: bool = False,
    requested: frozenset[str] = frozenset(),
) -> list[Row]:
    """``interrupted``: the span was closed by the process stopping (``_interrupted``): its
    operation never finished, so it gives its start and an interrupt, not its end.
    ``requested``: the tool call ids agents' output messages asked for."""
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
    rows.extend(_input_request_rows(attrs, start, line))
    message_type = attrs.get("messaging.message.type")
    if message_type == "GroupChatTermination":  # the team published its end
        rows.append(
            (end, order + 2, line, "termination", {"ts": end, "content": "GroupChatTermination"})
        )
    elif message_type == "GroupChatReset" and str(span.get("name")).startswith("autogen create "):
        # A team reset of one member: Magentic-One resets every member when it re-plans.
        target = _runtime_agent(str(span["name"])[len("autogen create ") :])
        reset = {"ts": start, "subkind": "reset", "recipient": target, "content": "GroupChatReset"}
        rows.append((start, order, line, "other", reset))
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
            output = _output_parts(attrs.get("gen_ai.output.messages"))
            rows.extend(
                (end, order, line, "message", {"ts": end, "agent": target, "content": text})
                for text in output.texts
            )
            rows.extend(
                (end, order + 1, line, "tool_call", {"ts": end, "agent": target, **call})
                for call in output.calls
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
                # A call its agent's output messages asked for: this span is it running.
                ran = cid is not None and cid in requested
                kind, extra = (
                    ("other", {"subkind": "tool_exec_start"}) if ran else ("tool_call", {})
                )
                rows.append(
                    (start, order, line, kind, {"ts": start, **common, **extra, "content": args})
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
    for parent in islice(_walk_up(span, by_id), 20):
        name = parent.get("name") or ""
        if name.startswith("invoke_agent "):
            return agent_name(name[len("invoke_agent ") :])
    return None


@dataclass(frozen=True, slots=True)
class _Output:
    """What an agent span's output messages hold (GenAI conventions: ``parts`` of type
    ``text`` and ``tool_call``, as AG2's tracing writes them)."""

    texts: list[str]
    calls: list[dict[str, Any]]  # tool_call event fields


def _output_parts(value: Any) -> _Output:
    if not value:
        return _Output([], [])
    try:
        messages = orjson.loads(value) if isinstance(value, str) else value
    except orjson.JSONDecodeError:
        return _Output([str(value)], [])
    parts = [
        part
        for msg in (messages if isinstance(messages, list) else [messages])
        if isinstance(msg, dict)
        for part in msg.get("parts") or []
        if isinstance(part, dict)
    ]
    texts = [str(p["content"]) for p in parts if p.get("type") == "text" and p.get("content")]
    calls = []
    for part in parts:
        if part.get("type") != "tool_call" or not part.get("name"):
            continue
        args = part.get("arguments")
        calls.append(
            {
                "tool_name": str(part["name"]),
                "tool_call_id": str(part["id"]) if part.get("id") else None,
                "tool_args": canonical_json(args) if args is not None else None,
                "content": args if isinstance(args, str) else orjson.dumps(args).decode(),
            }
        )
    return _Output(texts, calls)


def _requested_calls(spans: list[tuple[int, dict[str, Any]]]) -> frozenset[str]:
    """The tool call ids agent spans' output messages asked for."""
    return frozenset(
        call["tool_call_id"]
        for _, span in spans
        if str(span.get("name") or "").startswith("invoke_agent ")
        for call in _output_parts(
            (span.get("attributes") or {}).get("gen_ai.output.messages")
        ).calls
        if call["tool_call_id"]
    )


def _error_text(span: dict[str, Any], status: dict[str, Any]) -> str:
    for event in span.get("events") or []:
        attrs = event.get("attributes") or {}
        if "exception.message" in attrs:
            raised = f"{attrs.get('exception.type', 'Exception')}: {attrs['exception.message']}"
            # The stack says where the run was (an interrupt inside a tool, a model call);
            # it ends in the exception it raised, which readers take as the last line.
            stack = str(attrs.get("exception.stacktrace") or "").rstrip()
            return stack if stack.endswith(raised.split(": ", 1)[-1].strip()) else raised
    return f"{span.get('name')}: {status.get('description') or 'ERROR'}"
