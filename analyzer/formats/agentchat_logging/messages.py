"""AgentChat chat messages (the JSON of ``BaseChatMessage``/``BaseAgentEvent``) -> events."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ...schema import CODE_TOOL
from .._openai_messages import text_of
from .._pyrepr import execution_results, function_calls
from ..base import EventSink, Stamp, canonical_json

TEAM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHAT_TYPES = frozenset(
    {
        "TextMessage",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ToolCallSummaryMessage",
        "HandoffMessage",
        "UserInputRequestedEvent",
        "ThoughtEvent",
        "StopMessage",
        "MultiModalMessage",
        "StructuredMessage",
        "ModelClientStreamingChunkEvent",
        "MemoryQueryEvent",
        "CodeGenerationEvent",
        "CodeExecutionEvent",
        "SelectSpeakerEvent",
        "SelectorEvent",
    }
)


@lru_cache(maxsize=4096)  # a few ids per team, on every event of a long log
def agent_name(agent_id: str | None) -> str | None:
    """``coder_<team uuid>/<team uuid>`` -> ``coder``; runtime ids embed the team's uuid."""
    if not agent_id:
        return None
    name = agent_id.split("/", 1)[0]
    return TEAM_ID.sub("", name).rstrip("_") or name


def find_chat_messages(payload: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Every chat message nested in a runtime payload (GroupChatStart, GroupChatMessage...)."""
    if depth > 5:
        return []
    if isinstance(payload, dict):
        if payload.get("type") in CHAT_TYPES and "source" in payload:
            return [payload]
        return [m for v in payload.values() for m in find_chat_messages(v, depth + 1)]
    if isinstance(payload, list):
        return [m for v in payload for m in find_chat_messages(v, depth + 1)]
    return []


def emit_chat_message(sink: EventSink, msg: dict[str, Any], line: int, ts: Stamp) -> None:
    kind, source = msg.get("type"), msg.get("source")
    content = msg.get("content")
    add = sink.add
    if kind == "ToolCallRequestEvent":
        for call in content or []:
            args = canonical_json(call.get("arguments") or "{}")
            add(
                "tool_call",
                line,
                ts=ts,
                agent=source,
                tool_name=call.get("name"),
                tool_call_id=call.get("id"),
                tool_args=args,
                content=call.get("arguments"),
            )
    elif kind == "ToolCallExecutionEvent":
        for res in content or []:
            add(
                "tool_result",
                line,
                ts=ts,
                agent=source,
                tool_name=res.get("name"),
                tool_call_id=res.get("call_id"),
                content=text_of(res.get("content")),
                is_error=bool(res.get("is_error")),
            )
    elif kind in CODE_KINDS:
        emit_code_step(sink, kind, source, msg, line, ts)
    elif kind == "HandoffMessage":
        add(
            "message",
            line,
            ts=ts,
            agent=source,
            recipient=msg.get("target"),
            subkind="handoff",
            content=text_of(content),
        )
    elif kind == "UserInputRequestedEvent":
        add("input_request", line, ts=ts, agent=source, content="UserInputRequestedEvent")
    elif kind == "StopMessage":
        add("termination", line, ts=ts, agent=source, content=text_of(content))
    elif kind == "ModelClientStreamingChunkEvent":
        add("other", line, ts=ts, agent=source, subkind="stream_chunk", content=text_of(content))
    elif kind in ("SelectSpeakerEvent", "SelectorEvent"):
        for name in content if isinstance(content, list) else [content]:
            add(
                "other",
                line,
                ts=ts,
                subkind="speaker_selected",
                recipient=str(name),
                content=f"Selected speaker: {name}",
            )
    else:
        text = text_of(content)
        add("message", line, ts=ts, agent=source, content=text, subkind=text_subkind(text))


# Magentic-One's task ledger (ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT): its orchestrator posts it
# when it plans, and again each time it re-plans after max_stalls.
TASK_LEDGER = "We are working to address the following user request:"


def text_subkind(text: str | None) -> str | None:
    """The subkind a chat message's text gives it: ``task_ledger`` for Magentic-One's plan."""
    return "task_ledger" if text and text.lstrip().startswith(TASK_LEDGER) else None


TOOL_REPR_KINDS = ("ToolCallRequestEvent", "ToolCallExecutionEvent")
CODE_KINDS = ("CodeGenerationEvent", "CodeExecutionEvent")


def emit_code_step(
    sink: EventSink, kind: str, source: str | None, msg: dict[str, Any], line: int, ts: Stamp
) -> None:
    """CodeExecutorAgent's code (0.5+): generating it is a call of the ``code_execution``
    tool, running it that call's result, paired by agent and retry attempt (neither event
    names the other), so a code block that never comes back is an open tool call."""
    call_id = f"{source}:code:{msg.get('retry_attempt') or 0}"
    if kind == "CodeGenerationEvent":
        blocks = msg.get("code_blocks")
        code = (
            "\n\n".join(str(b.get("code", "")) for b in blocks if isinstance(b, dict))
            if isinstance(blocks, list)
            else text_of(msg.get("content"))
        )
        sink.add(
            "tool_call",
            line,
            ts=ts,
            agent=source,
            tool_name=CODE_TOOL,
            tool_call_id=call_id,
            tool_args=canonical_json({"code": code}),
            content=code,
        )
        return
    found = msg.get("result")
    result: dict[str, Any] = found if isinstance(found, dict) else {}
    output, exit_code = text_of(result.get("output")), result.get("exit_code")
    sink.add(
        "tool_result",
        line,
        ts=ts,
        agent=source,
        tool_name=CODE_TOOL,
        tool_call_id=call_id,
        content=output,
        is_error=isinstance(exit_code, int) and exit_code != 0,
    )


def emit_tool_reprs(
    sink: EventSink, kind: str, text: str, line: int, ts: Stamp, agent: str | None
) -> None:
    """The tool calls of a ToolCallRequestEvent, or the results of a ToolCallExecutionEvent,
    read from the Python reprs Console and the ``autogen_agentchat.events`` logger print."""
    if kind == "ToolCallRequestEvent":
        for call_id, args, name in function_calls(text):
            sink.add(
                "tool_call",
                line,
                ts=ts,
                agent=agent,
                tool_name=name,
                tool_call_id=call_id,
                tool_args=canonical_json(args),
                content=args,
            )
    elif kind == "ToolCallExecutionEvent":
        for content, tool, call_id, is_error in execution_results(text):
            sink.add(
                "tool_result",
                line,
                ts=ts,
                agent=agent,
                tool_name=tool,
                tool_call_id=call_id,
                content=content,
                is_error=is_error,
            )
