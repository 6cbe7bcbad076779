"""OpenAI-style chat messages (``content``, ``tool_calls``, legacy ``function_call``) and
tool responses (``tool_responses``, or a ``tool``/``function`` role message) as events: the
one reading every classic format and the saved chat history share."""

from __future__ import annotations

from typing import Any

import orjson

from .base import EventSink, canonical_json


def text_of(content: Any) -> str:
    """A message's content as text: strings as they are, multimodal parts joined, else JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal parts
        return "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return orjson.dumps(content, default=str).decode()


Call = tuple[str | None, str | None, str]  # (call id, tool name, canonical JSON arguments)


def add_message_with_calls(
    sink: EventSink,
    line: int,
    text: str,
    msg: dict[str, Any],
    *,
    fallback_ids: bool = False,
    **where: Any,
) -> list[Call]:
    """An OpenAI-style assistant message: its text (or an empty message when it has no tool
    calls) and one tool_call row per ``tool_calls`` entry (or legacy ``function_call``).
    ``fallback_ids`` names id-less calls ``<tool>@<line>``. ``where``: agent, recipient, ts, ref.
    """
    raw = msg.get("tool_calls") or (
        [{"function": msg["function_call"]}] if msg.get("function_call") else []
    )
    calls: list[Call] = []
    for call in raw:
        fn = call.get("function") or {}
        name = fn.get("name")
        call_id = call.get("id") or (f"{name}@{line}" if fallback_ids else None)
        calls.append((call_id, name, canonical_json(fn.get("arguments") or "{}")))
    if text or not calls:
        sink.add("message", line, content=text, **where)
    for call_id, name, args in calls:
        sink.add(
            "tool_call",
            line,
            tool_name=name,
            tool_call_id=call_id,
            tool_args=args,
            content=args,
            **where,
        )
    return calls


def is_tool_response(msg: dict[str, Any]) -> bool:
    """A message that answers tool calls: one with ``tool_responses`` (classic AutoGen), or a
    ``tool``/``function`` role message (OpenAI's own shape)."""
    return bool(msg.get("tool_responses")) or msg.get("role") in ("tool", "function")


def add_tool_responses(sink: EventSink, line: int, msg: dict[str, Any], **where: Any) -> None:
    """One tool_result per ``tool_responses`` entry (or the message itself, if it is one); an
    answer starting ``Error:`` is an error, as AutoGen writes a failed tool's. ``where``: agent,
    recipient, ts, ref, tool_name."""
    for resp in msg.get("tool_responses") or [msg]:
        body = text_of(resp.get("content"))
        sink.add(
            "tool_result",
            line,
            tool_call_id=resp.get("tool_call_id"),
            content=body,
            is_error=body.startswith("Error:"),
            **where,
        )
