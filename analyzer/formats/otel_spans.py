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

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ..errors import LogFormatError
from ..traceback_frames import TEARDOWN, final
from ._span_vocab import KNOWN, OUTPUT, as_genai
from .agentchat_logging.messages import agent_name
from .base import EventSink, ParsedLog, Sniff, canonical_json, json_documents, parse_ts
from .io.files import open_text

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
            return Sniff.SHAPE
        return Sniff.NONE

    @staticmethod
    def parse(path: Path) -> ParsedLog:
        with open_text(path) as fh:
            raw = fh.read()
        sink = EventSink(OtelSpans.name)
        return read_spans(path, list(_objects(path, raw, sink)), sink)


Span = dict[str, Any]  # as ConsoleSpanExporter writes one (``ReadableSpan.to_json``)


def read_spans(path: Path, spans: list[tuple[int, Span]], sink: EventSink) -> ParsedLog:
    """The events of ``spans`` (each with the line it starts on), in ConsoleSpanExporter's
    shape: every span export form is read by this one reader once converted to it."""
    total = len(spans)  # a twin folded into its OpenInference span is read, and counted
    spans = as_genai(spans)
    by_id = {s.get("context", {}).get("span_id"): s for _, s in spans}
    cut = _interrupted(spans, by_id)
    requested = _requested_calls(spans)
    senders = _rpc_senders(spans)
    rows: list[Row] = _open_parents(spans, by_id)
    for line, span in spans:
        mine = _rows(line, span, by_id, cut.get(id(span)), requested, senders)
        known = (span.get("attributes") or {}).get(KNOWN)
        if not mine and not known and not _RUNTIME_SPAN.match(str(span.get("name") or "")):
            name = str(span.get("name") or "")[:40].split(" ")[0] or "unnamed"
            sink.unread(line, f"span with nothing read ({name} ...)")
        rows.extend(mine)
    sink.counted(total, "spans")
    seen: set[str] = set()
    ended = ""  # the last end recorded, until the run moves on
    for _, _, line, kind, fields in sorted(rows, key=lambda r: (r[0], r[1])):
        if kind == "termination":
            # Once per end: each subscriber's span carries the team's GroupChatTermination.
            # The same end again after the run moved on is another chat's (initiate_chats).
            if fields["content"] == ended:
                continue
            ended = fields["content"]
        elif kind in ("error", "input_request"):
            # Once per raised exception (each span it unwound records its own stack), and
            # once per request (each subscriber's span carries the same message).
            key = f"{kind}|{fields.get('ts')}|" if kind == "input_request" else ""
            key += final(fields["content"])
            if key in seen:
                continue
            seen.add(key)
        elif kind in _MOVES:
            ended = ""
        sink.add(kind, line, **fields)
    if not len(sink):
        raise LogFormatError(path, "no AutoGen spans (invoke_agent, execute_tool, chat...) found")
    return sink.result(family=_family(spans))


def _family(spans: list[tuple[int, Span]]) -> str:
    """Who wrote the spans, for the fix: AG2 (its own tracing, or OpenInference's ``ag2.*``
    attributes) writes the classic API; Agent Framework names itself in its instrumentation
    scope (OTLP) or as the agent's ``gen_ai.provider.name``; else AutoGen 0.4+."""
    for _, span in spans:
        attrs = span.get("attributes") or {}
        if (span.get("resource") or {}).get("scope") == "agent_framework" or (
            attrs.get("gen_ai.provider.name") == "microsoft.agent_framework"
        ):
            return "agent_framework"
        if any(k.startswith("ag2.") for k in attrs):
            return "classic"
    return "agentchat"


_SPAN_ID_KEY = re.compile(r'"span_?[iI]d"\s*:\s*"([^"]+)"')


def span_lines(text: str | None, line: int) -> Callable[[Any], int]:
    """The line of each span of a document that starts on ``line``: a pretty-printed one's
    span is on the line of its own id (not of a child's ``parentSpanId``), found in one pass
    over the text; a one-line batch's spans (``text`` None) all share its line."""
    if text is None:
        return lambda _: line
    lines: dict[str, int] = {}
    at, newlines = 0, 0
    for found in _SPAN_ID_KEY.finditer(text):
        newlines += text.count("\n", at, found.start())
        at = found.start()
        lines.setdefault(found[1], line + newlines)
    return lambda span_id: lines.get(span_id, line) if isinstance(span_id, str) else line


_MOVES = ("message", "tool_call", "tool_result", "llm_call")


def _objects(path: Path, raw: str, sink: EventSink) -> Iterator[tuple[int, Span]]:
    for line, text, obj in json_documents(raw):
        if text is None:
            sink.skip(line, "truncated or invalid span JSON")
        elif isinstance(obj, dict) and "context" in obj:
            yield line, obj


# Spans an interrupt unwinds end together: the exception passes through each ``with`` and
# each cancelled task in a few event-loop turns (5 to 7 ms measured on a loaded 2-core
# machine; 5 ms, the first rule, missed half of them). 50 ms leaves room for a slower machine;
# the rule below that no operation started after the span ended keeps a turn that finished
# just before the stop from counting as cut.
_TOGETHER_S = 0.05
_OPERATIONS_CUT = ("invoke_agent ", "execute_tool ", "chat ")
_RPC_SILENCE_S = 1.0


def _interrupted(spans: list[tuple[int, dict[str, Any]]], by_id: dict[str, Any]) -> dict[int, str]:
    """The agent, tool and model-call spans an interrupt closed: not OK, ended at the file's
    last instant together with all their ancestors (exported, as an interrupt unwinds them;
    a span whose ancestors were never exported ended while the run went on), with no
    operation started after them, in a run that recorded no end (a team publishes
    GroupChatTermination however it ends; an AG2 conversation span closes). Such a span's
    end is the process stopping, not its operation finishing: autogen-core sets nothing on a
    finished span that an interrupted one lacks, so the run's own end is what tells a last
    turn from a cut one."""
    ends = [t for _, s in spans if (t := parse_ts(s.get("end_time")))]
    if not ends or any(_ends_run(s) for _, s in spans):
        return {}
    last = max(ends)
    operations = [
        s
        for _, s in spans
        if str(s.get("name") or "").startswith(_OPERATIONS_CUT) or _rpc_context(s) is not None
    ]
    last_start = max((t for s in operations if (t := parse_ts(s.get("start_time")))), default=None)
    # A direct message's handler ending with the stop is told from one answering only after a
    # silence: a quick exchange of bare agents answers everything within milliseconds too.
    silent = last_start is not None and (last - last_start).total_seconds() >= _RPC_SILENCE_S
    cut: dict[int, str] = {}
    for span in operations:
        if _rpc_context(span) is not None and not silent:
            continue
        end = parse_ts(span.get("end_time"))
        status = (span.get("status") or {}).get("status_code")
        if end is None or status == "OK" or (last - end).total_seconds() > _TOGETHER_S:
            continue
        if status == "ERROR" and _failed(span):
            continue  # it ended on its own exception (a 401, a tool's bug), not a stop
        if (span.get("attributes") or {}).get("gen_ai.response.finish_reasons"):
            continue  # the model's answer came (a cut call never gets its finish reason)
        if last_start is not None and last_start > end:
            continue  # the run went on to another operation: this one finished
        ancestors = _ancestors(span, by_id)
        if not ancestors or (ancestors[-1].get("parent_id") or None) is not None:
            continue  # an ancestor was never exported: still open, so not unwound by a signal
        if all(
            (a_end := parse_ts(a.get("end_time"))) is not None
            and abs((a_end - end).total_seconds()) <= _TOGETHER_S
            for a in ancestors
        ):
            # The root failing on an exception of its own (Agent Framework's workflow.run on
            # WorkflowConvergenceException) cancelled the chain: a crash, not a stop.
            cut[id(span)] = "cancelled" if _failed(ancestors[-1]) else "interrupt"
    return cut


def _failed(span: dict[str, Any]) -> bool:
    """The span recorded an exception that is neither a stop (a signal, a cancelled task)
    nor what a runtime raises as a stop tears it down (``task_done() called too many
    times``)."""
    for event in span.get("events") or []:
        if not isinstance(event, dict) or event.get("name") != "exception":
            continue
        attrs = event.get("attributes") or {}
        kind = str(attrs.get("exception.type", ""))
        raised = f"{kind}: {attrs.get('exception.message', '')}"
        if not kind.endswith("KeyboardInterrupt") and not TEARDOWN.search(raised):
            return True
    return False


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
                    "content": f"span {parent.removeprefix('0x')} never ended: {len(inside)} "
                    f"exported span(s) ran inside it ({', '.join(names[:3])})",
                },
            )
        )
    return rows


def _rpc_rows(
    span: dict[str, Any],
    attrs: dict[str, Any],
    start: Any,
    end: Any,
    line: int,
    senders: dict[Any, str | None],
) -> list[Row]:
    """autogen-core's direct messages: ``autogen send X`` is an RPC to X (sent at its start,
    by the sender its handler's message context names), ``autogen process X`` of an RPC
    (``is_rpc`` in its message context) is X answering its sender."""
    name = str(span.get("name") or "")
    context = _rpc_context(span)
    if name.startswith("autogen send "):
        target = _runtime_agent(name[len("autogen send ") :])
        sender = senders.get(span.get("context", {}).get("span_id"))
        at, order = start, 0
        fields = {"subkind": "rpc_send", "agent": sender, "recipient": target}
        text = f"direct message -> {target}"
    elif name.startswith("autogen process ") and context is not None:
        target = _runtime_agent(name[len("autogen process ") :])
        at, order = end, 1
        fields = {"subkind": "rpc_respond", "agent": target, "recipient": _sender(context)}
        text = f"response {target} ->"
    else:
        return []
    return [(at, order, line, "other", {"ts": at, **fields, "content": text})]


def _rpc_context(span: dict[str, Any]) -> dict[str, Any] | None:
    """The message context of an RPC's handler span (``is_rpc``), else None."""
    if not str(span.get("name") or "").startswith("autogen process "):
        return None
    raw = (span.get("attributes") or {}).get("message_context")
    if not isinstance(raw, str) or '"is_rpc": true' not in raw:
        return None
    try:
        context = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return context if isinstance(context, dict) else None


def _sender(context: dict[str, Any]) -> str | None:
    """``planner/default`` -> ``planner``; the program's own ``send_message`` is "None"."""
    sender = str(context.get("sender") or "None")
    return None if sender == "None" else _runtime_agent(sender.split("/", 1)[0])


def _rpc_senders(spans: list[tuple[int, Span]]) -> dict[Any, str | None]:
    """Each ``autogen send`` span's sender, from its handler span's message context (the
    send span is the handler's parent)."""
    senders: dict[Any, str | None] = {}
    for _, span in spans:
        if (context := _rpc_context(span)) is not None and span.get("parent_id"):
            senders[span["parent_id"]] = _sender(context)
    return senders


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
    return status != "ERROR" and (
        str(span.get("name") or "").startswith("conversation ") or _agent_returned(span)
    )


def _agent_returned(span: dict[str, Any]) -> bool:
    """A run of one agent, not inside a team or workflow (Agent Framework's ``agent.run``:
    a root ``invoke_agent`` span), that returned the model's final answer: its span carries
    the response's finish reason, which an interrupted run never got. A run that returned a
    request for a person's approval has paused, not ended."""
    attrs = span.get("attributes") or {}
    return (
        not span.get("parent_id")
        and str(span.get("name") or "").startswith("invoke_agent ")
        and bool(attrs.get("gen_ai.response.finish_reasons"))
        and (span.get("status") or {}).get("status_code") != "ERROR"
        and not _output_parts(attrs.get("gen_ai.output.messages")).asks  # paused for a person
    )


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
    interrupted: str | None = None,
    requested: frozenset[str] = frozenset(),
    senders: dict[Any, str | None] | None = None,
) -> list[Row]:
    """``interrupted``: how the span was closed unfinished (``_interrupted``): "interrupt"
    (the process stopping) or "cancelled" (its run crashing); it gives its start and that,
    not its end.
    ``requested``: the tool call ids agents' output messages asked for; ``senders``: each
    direct message's sender (``_rpc_senders``)."""
    senders = senders or {}
    m = _OPERATION.match(span.get("name") or "")
    start, end = parse_ts(span.get("start_time")), parse_ts(span.get("end_time"))
    attrs = span.get("attributes") or {}
    rows: list[Row] = []
    if start is None or end is None:
        return rows
    status = span.get("status") or {}
    failed = status.get("status_code") == "ERROR"

    def at(when: datetime, rank: int, kind: str, **fields: Any) -> Row:
        """A row at ``when``; ``rank`` orders a span's rows that share a time (0 its start,
        1 an answer, 2 an end, 3 its error)."""
        return (when, rank, line, kind, {"ts": when, **fields})

    rows.extend(_rpc_rows(span, attrs, start, end, line, senders))
    rows.extend(_input_request_rows(attrs, start, line))
    message_type = attrs.get("messaging.message.type")
    if message_type == "GroupChatTermination":  # the team published its end
        rows.append(at(end, 2, "termination", content="GroupChatTermination"))
    elif message_type == "GroupChatReset" and str(span.get("name")).startswith("autogen create "):
        # A team reset of one member: Magentic-One resets every member when it re-plans.
        target = _runtime_agent(str(span["name"])[len("autogen create ") :])
        rows.append(at(start, 0, "other", subkind="reset", recipient=target, content=message_type))
    if m:
        op, target = m[1], m[2]
        owner = _owner(span, by_id)
        duration = (end - start).total_seconds() * 1000
        if op == "invoke_agent":
            said = f"invoke_agent {target}"
            selected = {"subkind": "speaker_selected", "recipient": target}
            rows.append(at(start, 0, "other", **selected, content=said, duration_ms=duration))
            rows.extend(_said(attrs.get("gen_ai.output.messages"), target, end, line))
            if _agent_returned(span):
                reasons = attrs["gen_ai.response.finish_reasons"]
                said = f"{target} returned ({reasons})"
                rows.append(at(end, 2, "termination", agent=target, content=said))
        elif op == "create_agent":
            described = {"description": attrs.get("gen_ai.agent.description")}
            config = orjson.dumps(described).decode()
            rows.append(at(start, 0, "other", subkind="agent_config", agent=target, content=config))
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
                to = tool[len("transfer_to_") :]
                said = f"handoff via {tool}"
                rows.append(
                    at(
                        end,
                        0,
                        "message",
                        agent=owner,
                        subkind="handoff",
                        recipient=to,
                        content=said,
                    )
                )
                if cid is not None and cid in requested:  # the call asked for is answered
                    rows.append(
                        at(end, 1, "tool_result", **common, duration_ms=duration, content="")
                    )
            else:
                # A call its agent's output messages asked for: this span is it running.
                ran = cid is not None and cid in requested
                kind, extra = (
                    ("other", {"subkind": "tool_exec_start"}) if ran else ("tool_call", {})
                )
                # A call's row shows its arguments; its execution's names the tool too, as a
                # console's "EXECUTING FUNCTION" line does.
                shown = f"{tool}({args if args is not None else ''})" if ran else args
                rows.append(at(start, 0, kind, **common, **extra, content=shown))
                answer = str(attrs.get("gen_ai.tool.call.result") or "")
                rows.append(
                    at(
                        end,
                        1,
                        "tool_result",
                        **common,
                        duration_ms=duration,
                        content=answer,
                        is_error=failed,
                    )
                )
        elif op == "chat":
            speaker = attrs.get("gen_ai.agent.name") or owner
            rows.append(
                at(
                    end,
                    0,
                    "llm_call",
                    agent=speaker,
                    duration_ms=duration,
                    prompt_tokens=attrs.get("gen_ai.usage.input_tokens"),
                    completion_tokens=attrs.get("gen_ai.usage.output_tokens"),
                    is_error=failed,
                    content=target,
                )
            )
            rows.extend(_said(attrs.get(OUTPUT), speaker, end, line))
        elif op == "await_human_input":
            asked = str(attrs.get("ag2.human_input.prompt") or op)
            rows.append(at(start, 0, "input_request", agent=target, content=asked))
            reply = attrs.get("ag2.human_input.response")
            if reply is not None:  # the person answered (AG2 records it as the span ends)
                rows.append(at(end, 1, "input_reply", agent=target, content=str(reply)))
                if str(reply).strip() == "exit":  # check_termination_and_human_reply ends it
                    said = "a person typed exit"
                    rows.append(at(end, 2, "termination", agent=target, content=said))
        elif op == "conversation" and not failed:
            said = f"conversation {target} ended"
            rows.append(at(end, 2, "termination", agent=target, content=said))
    if failed:
        rows.append(at(end, 3, "error", is_error=True, content=_error_text(span, status)))
    return _cut_short(rows, span, start, end, line, interrupted) if interrupted else rows


def _cut_short(
    rows: list[Row], span: dict[str, Any], start: Any, end: Any, line: int, how: str
) -> list[Row]:
    """An unfinished span's rows: what its start says (the call, the agent's turn), none of
    what its end would (a result, a reply, output messages), and how it was cut (``how``).
    A cancellation is context (``other``): the crash that caused it is the run's error."""
    name = str(span.get("name") or "")
    kept = [r for r in rows if r[0] == start and r[3] in ("tool_call", "other")]
    kept = [r for r in kept if r[3] != "error"]
    if name.startswith("chat "):
        kept.append(
            (start, 0, line, "other", {"ts": start, "subkind": "llm_start", "content": name})
        )
    seconds = (end - start).total_seconds()
    said = (
        f"cancelled inside {name} after {seconds:.1f} s: the span ended as its run crashed, "
        "together with every span around it"
        if how == "cancelled"
        else f"interrupted inside {name} after {seconds:.1f} s: the span ended with the "
        "process, together with every span around it"
    )
    cut = {"ts": end, "is_error": how == "interrupt", "subkind": how, "content": said}
    kept.append((end, 3, line, "other" if how == "cancelled" else "error", cut))
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
    asks: list[str] = field(default_factory=list)  # what a person is asked to approve


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
    return _Output(texts, calls, [_approval(p) for p in parts if p.get("type") in _ASKS])


# Agent Framework's parts for a run that waits on a person (a tool with approval_mode
# "always_require"): the run returns them, and the program must answer.
_ASKS = ("function_approval_request", "user_input_request")


def _approval(part: dict[str, Any]) -> str:
    call = part.get("function_call") or {}
    name = call.get("name") if isinstance(call, dict) else None
    what = f"{name}({call.get('arguments') or ''})" if name else str(part.get("type"))
    return f"approval requested: {what}"


def _said(output: Any, agent: str | None, end: Any, line: int) -> list[Row]:
    """The messages and tool calls of an agent's output (GenAI output messages)."""
    parts = _output_parts(output)
    said: list[Row] = [
        (end, 0, line, "message", {"ts": end, "agent": agent, "content": text})
        for text in parts.texts
    ]
    said += [
        (end, 1, line, "tool_call", {"ts": end, "agent": agent, **call}) for call in parts.calls
    ]
    said += [
        (end, 2, line, "input_request", {"ts": end, "agent": agent, "content": ask})
        for ask in parts.asks
    ]
    return said


def _requested_calls(spans: list[tuple[int, dict[str, Any]]]) -> frozenset[str]:
    """The tool call ids agent spans' (or OpenInference model spans') output messages
    asked for."""
    return frozenset(
        call["tool_call_id"]
        for _, span in spans
        for output in _outputs(span)
        for call in _output_parts(output).calls
        if call["tool_call_id"]
    )


def _outputs(span: dict[str, Any]) -> Iterator[Any]:
    attrs = span.get("attributes") or {}
    if str(span.get("name") or "").startswith("invoke_agent "):
        yield attrs.get("gen_ai.output.messages")
    if OUTPUT in attrs:
        yield attrs[OUTPUT]


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
