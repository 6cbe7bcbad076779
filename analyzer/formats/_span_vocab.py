"""Span vocabularies the reader maps onto the GenAI conventions it reads (``invoke_agent X``,
``execute_tool X``, ``chat M``, ``conversation X``): autogen-core 0.5.x's tool spans, Microsoft
Agent Framework's workflow spans, and OpenInference's (``openinference.span.kind`` AGENT / LLM / TOOL / CHAIN, as
``openinference-instrumentation-autogen-agentchat`` and ``-ag2`` write them).

OpenInference runs beside the framework's own tracing (both use the global tracer provider),
so one tool call is two nested spans and one agent turn two: the OpenInference span, which
carries the arguments, result and text, stands for both, and the framework's twin inside it is
dropped (its call id kept).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

Span = dict[str, Any]
OI_KIND = "openinference.span.kind"
# What an OpenInference model span said, as GenAI output messages (``parts``): the chat
# row reads it, where AG2's and autogen-core's chat spans carry no text of their own.
OUTPUT = "postmortem.output.messages"
KNOWN = "postmortem.known"  # a span read as context only (its twin or parent holds its rows)
_LANGFUSE_ROOT = "langfuse.internal.is_app_root"


def as_genai(spans: list[tuple[int, Span]]) -> list[tuple[int, Span]]:
    """``spans`` in the GenAI vocabulary, framework twins of OpenInference spans left out."""
    by_id = {_span_id(s): s for _, s in spans}
    children: dict[str, list[Span]] = {}
    for _, span in spans:
        if parent := span.get("parent_id"):
            children.setdefault(str(parent), []).append(span)
    # The framework's spans an OpenInference span stands for. They pass through unchanged (an
    # execute_tool span under its TOOL span is neither converted nor a Langfuse root), so
    # the objects themselves are what is left out.
    twins: set[int] = set()
    out: list[tuple[int, Span]] = []
    for line, span in spans:
        attrs = span.get("attributes")
        if not isinstance(attrs, dict):
            out.append((line, span))
            continue
        if attrs.get(_LANGFUSE_ROOT) and span.get("parent_id"):
            # Langfuse's export drops spans it does not keep (the runtime's messaging) and
            # marks the spans whose parent it dropped: filtered out, not still open.
            span = {**span, "parent_id": None}
        kind = attrs.get(OI_KIND)
        if kind is None:
            out.append((line, _workflows(span) or _autogen_05_tool(span, attrs)))
            continue
        mine = children.get(str(_span_id(span)), [])
        if kind == "TOOL":
            twin = next((c for c in mine if _is_tool_twin(c, attrs)), None)
            if twin is not None:
                twins.add(id(twin))
            out.append((line, _tool(span, attrs, twin)))
        elif kind == "LLM":
            out.append((line, _llm(span, attrs)))
        elif kind == "AGENT":
            out.append((line, _agent(span, attrs, by_id)))
        elif kind == "CHAIN":
            out.append((line, _chain(span, attrs)))
        else:  # RETRIEVER, EMBEDDING, RERANKER, GUARDRAIL, EVALUATOR: nothing the table holds
            out.append((line, _known(span)))
    return [(line, s) for line, s in out if id(s) not in twins]


def _span_id(span: Span) -> Any:
    return (span.get("context") or {}).get("span_id")


def _renamed(span: Span, name: str, extra: dict[str, Any]) -> Span:
    return {**span, "name": name, "attributes": {**span["attributes"], **extra}}


def _known(span: Span) -> Span:
    return {**span, "attributes": {**(span.get("attributes") or {}), KNOWN: True}}


# Microsoft Agent Framework's workflow plumbing (``observability.py``): the agents inside it
# write GenAI ``invoke_agent``/``chat``/``execute_tool`` spans, read as they are.
_WORKFLOW_PLUMBING = ("workflow.build", "executor.process", "edge_group.process", "message.send")


def _workflows(span: Span) -> Span | None:
    """A workflow run that recorded ``workflow.completed`` is the run's end; its plumbing is
    context. AG2's ``initiate_chats`` (all of a sequence's chats) ends as a conversation
    does. None for any other span."""
    name = str(span.get("name") or "")
    if span["attributes"].get("gen_ai.operation.name") == "initiate_chats":
        agent = span["attributes"].get("gen_ai.agent.name") or "chats"
        return _renamed(span, f"conversation {agent}", {})
    if name == "workflow.run":
        events = {str(e.get("name")) for e in span.get("events") or [] if isinstance(e, dict)}
        if "workflow.completed" in events and "workflow.error" not in events:
            workflow = span["attributes"].get("workflow.name") or "workflow"
            return _renamed(span, f"conversation {workflow}", {})
        return _known(span)
    if name.startswith(_WORKFLOW_PLUMBING):
        return _known(span)
    return None


def _autogen_05_tool(span: Span, attrs: dict[str, Any]) -> Span:
    """autogen-core 0.5.x's tool span (named after the tool; ``tool_name``, ``tool_args``:
    read in ``tools/_base.py`` before the GenAI conventions) as the ``execute_tool`` span
    0.6+ writes."""
    if "tool_name" not in attrs or "tool_args" not in attrs:
        return span
    if str(span.get("name") or "") != str(attrs["tool_name"]):
        return span
    extra = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": attrs["tool_name"],
        "gen_ai.tool.call.arguments": attrs["tool_args"],
    }
    return _renamed(span, f"execute_tool {attrs['tool_name']}", extra)


def _is_tool_twin(child: Span, attrs: dict[str, Any]) -> bool:
    name = str(child.get("name") or "")
    return name == f"execute_tool {attrs.get('tool.name')}" and OI_KIND not in (
        child.get("attributes") or {}
    )


def _tool(span: Span, attrs: dict[str, Any], twin: Span | None) -> Span:
    """A tool call. The arguments: AG2's ``tool_call.function.arguments``, else
    ``input.value`` (AgentChat's are the arguments themselves; ``tool.parameters`` is the
    arguments there but the schema in AG2's). AG2's result is ``[ok, message]``."""
    tool = str(attrs.get("tool.name") or str(span.get("name") or "tool").rsplit(".", 1)[-1])
    twin_attrs = (twin or {}).get("attributes") or {}
    extra = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": twin_attrs.get("gen_ai.tool.call.id") or attrs.get("tool_call.id"),
        "gen_ai.tool.call.arguments": attrs.get("tool_call.function.arguments")
        or attrs.get("input.value"),
        "gen_ai.tool.call.result": _tool_result(attrs.get("output.value")),
    }
    return _renamed(span, f"execute_tool {tool}", {k: v for k, v in extra.items() if v})


def _tool_result(value: Any) -> Any:
    parsed = _json(value)
    if (
        isinstance(parsed, list)
        and len(parsed) == 2
        and isinstance(parsed[0], bool)
        and isinstance(parsed[1], dict)
    ):
        return parsed[1].get("content")  # AG2's execute_function: (is_success, message)
    return value


def _json(value: Any) -> Any:
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def _llm(span: Span, attrs: dict[str, Any]) -> Span:
    model = attrs.get("llm.model_name") or "model"
    extra = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": attrs.get("llm.token_count.prompt"),
        "gen_ai.usage.output_tokens": attrs.get("llm.token_count.completion"),
        OUTPUT: orjson.dumps(list(_output_messages(attrs))).decode(),
    }
    return _renamed(span, f"chat {model}", extra)


def _output_messages(attrs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``llm.output_messages.<i>.message.*`` (flattened, as OpenInference writes them) as
    GenAI output messages."""
    for i in range(64):
        prefix = f"llm.output_messages.{i}.message."
        if not any(k.startswith(prefix) for k in attrs):
            return
        parts: list[dict[str, Any]] = []
        if content := attrs.get(prefix + "content"):
            parts.append({"type": "text", "content": content})
        for j in range(64):
            call = f"{prefix}tool_calls.{j}.tool_call."
            if (name := attrs.get(call + "function.name")) is None:
                break
            parts.append(
                {
                    "type": "tool_call",
                    "id": attrs.get(call + "id"),
                    "name": name,
                    "arguments": attrs.get(call + "function.arguments"),
                }
            )
        yield {"role": attrs.get(prefix + "role") or "assistant", "parts": parts}


def _agent(span: Span, attrs: dict[str, Any], by_id: dict[Any, Span]) -> Span:
    """An agent's turn, unless the framework's own ``invoke_agent`` span of that agent
    encloses it (autogen-core 0.6+ writes one around the same turn). AG2's chat spans
    (``<agent>.initiate_chat``) are its conversations."""
    name = str(span.get("name") or "")
    agent = str(attrs.get("graph.node.id") or attrs.get("agent.name") or name.split(".", 1)[0])
    if name.endswith(_AG2_CHATS):
        return _chain(span, attrs)
    parent = by_id.get(span.get("parent_id"))
    if parent is not None and str(parent.get("name") or "") == f"invoke_agent {agent}":
        return _known(span)
    extra: dict[str, Any] = {"gen_ai.operation.name": "invoke_agent"}
    if (output := _reply_messages(attrs.get("output.value"))) is not None:
        extra["gen_ai.output.messages"] = orjson.dumps(output).decode()
    turn = _renamed(span, f"invoke_agent {agent}", extra)
    if name.endswith(".on_messages_stream") and turn.get("status", {}).get("status_code") == "OK":
        # AgentChat's instrumentation marks an agent's span OK as it starts (and ERROR only
        # on an exception): OK says nothing of how the turn ended.
        turn["status"] = {**span["status"], "status_code": "UNSET"}
    return turn


_AG2_CHATS = (".initiate_chat", ".a_initiate_chat")


def _reply_messages(value: Any) -> list[dict[str, Any]] | None:
    """AG2's ``generate_reply`` output: a text, or a message (content, tool_calls, or an
    executor's tool_responses) as JSON; as GenAI output messages."""
    if value is None or value == "":
        return None
    reply = _json(value)
    if not isinstance(reply, dict):
        return [{"role": "assistant", "parts": [{"type": "text", "content": str(value)}]}]
    parts: list[dict[str, Any]] = []
    if isinstance(reply.get("content"), str) and reply["content"]:
        parts.append({"type": "text", "content": reply["content"]})
    for call in reply.get("tool_calls") or []:
        function = call.get("function") or {} if isinstance(call, dict) else {}
        if function.get("name"):
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": function["name"],
                    "arguments": function.get("arguments"),
                }
            )
    if not parts:  # an executor's reply: its content already joins its tool responses
        parts.extend(
            {"type": "text", "content": str(response["content"])}
            for response in reply.get("tool_responses") or []
            if isinstance(response, dict) and response.get("content")
        )
    return [{"role": reply.get("role") or "assistant", "parts": parts}] if parts else None


def _chain(span: Span, attrs: dict[str, Any]) -> Span:
    """A team's ``run_stream``/``run`` (or AG2's ``initiate_chat``) marked OK is the run's
    end: OpenInference marks it so once the chat returns. An interrupt closes it UNSET (it
    records only an ``Exception`` as ERROR); other chains are context."""
    name = str(span.get("name") or "")
    status = (span.get("status") or {}).get("status_code")
    if name.endswith((".run_stream", ".run", *_AG2_CHATS)) and status == "OK":
        return _renamed(span, f"conversation {name.rsplit('.', 1)[0]}", {})
    return _known(span)
