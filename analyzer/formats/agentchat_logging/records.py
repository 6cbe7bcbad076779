"""What the records of the AutoGen 0.4+ loggers mean, whatever wrote them to the file.

``RecordParser.record`` takes one logging record (logger name, level, time as written, message
lines) and adds its events: the JSON events of ``autogen_core.events``, the pydantic reprs of
``autogen_agentchat.events``, selector lines, group-chat termination and error tracebacks.
The text layout (``text``) and JSON-lines layout (``json_lines``)
parsers only find the records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import orjson
import polars as pl

from ...fastpaths import declare, take
from .._openai_messages import text_of
from .._pyrepr import QUOTED, unquote
from ..base import EventSink, canonical_json, loads
from .hops import PAYLOAD_START, SOURCE_KEY, Hop, KnownHops, hop_of, route_of, team_of
from .messages import (
    TOOL_REPR_KINDS,
    agent_name,
    emit_chat_message,
    emit_tool_reprs,
    find_chat_messages,
)

EVENTS_LOGGER = "autogen_core.events"  # one JSON event per record
# What a record needs for ``RecordParser.record`` to read anything from it (besides an error
# level, which each form writes its own way): a new branch there adds its words here.
_WANTED = (
    r"autogen_core\.events|autogen_agentchat|GroupChatTermination|UserInputRequestedEvent"
    r"|Publishing message of type GroupChatMessage|Sending message of type GroupChatStart"
    r"|Retrying request|HTTP Request: "
)
PREFILTER = declare("record-prefilter", 0, "lines", "records no parser branch reads dropped")
HOP_IN_PLACE = declare("hop-in-place", 0, "records", "a Message hop read without decoding it")
KNOWN_HOPS = declare("known-hops", 0, "records", "a hop adding no new message not decoded")


def wanted(text: pl.Expr, error_levels: str) -> pl.Expr:
    """The lines (``text``) of records ``RecordParser.record`` can read anything from, for
    the logging form whose error levels match ``error_levels``: the prefilter both forms drop
    the rest by, in polars; every line with the fast path off."""
    if not take(PREFILTER, 0):
        return pl.lit(True)
    return text.str.contains(f"{_WANTED}|{error_levels}")


# The model client retrying a refused call, from an app that logs other libraries at INFO:
# openai's "Retrying request [to /chat/completions] in 30.000000 seconds" (every 1.x release)
# and httpx's line for the refused request itself (429, or a 5xx the client retries).
MODEL_RETRY = re.compile(
    r'Retrying request\b[^\n]*|HTTP Request: [A-Z]+ \S+ "HTTP/[\d.]+ (?:429|50[0234])\b[^"\n]*"'
)
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?")
SELECTED = re.compile(r"Selected speaker: (\S+)")
# Magentic-One's orchestrator (autogen_agentchat trace logger, DEBUG): its progress ledger each
# round, and its re-plan once the stall count reaches max_stalls.
LEDGER = "Progress Ledger: "
REPLAN = "Stall count exceeded, re-planning"
_LEDGER_ANSWER = re.compile(
    r"'(is_request_satisfied|is_in_loop|is_progress_being_made)': \{.*?'answer': (True|False)"
)
_NEXT = re.compile(r"'next_speaker': \{.*?'answer': ('[^']*'|\"[^\"]*\")")
ORCHESTRATOR = "MagenticOneOrchestrator"
# SelectorGroupChat's warning when the model named no valid speaker in max_selector_attempts.
SELECTOR_FALLBACK = "Model failed to select a speaker after "
TERMINATION = re.compile(rf"GroupChatTermination.*?StopMessage\(.*?content=({QUOTED})", re.S)
_TYPE_KEY = '\\"type\\":'
_PUBLISH, _SENT = "MessageKind.PUBLISH", "DeliveryStage.SEND"
_DIRECT, _RESPOND = "MessageKind.DIRECT", "MessageKind.RESPOND"
REPR_ID = re.compile(r"^id='([^']+)' source='([^']*)'")
# Releases whose events carry no id (0.4.x, 0.5.x): the repr starts at the source, and a tool
# event is known by its first call id (unique, and in the payload of the same event).
REPR_SOURCE = re.compile(r"^source='([^']*)'")
# 0.5.x-0.6.x log an input request nowhere but in the runtime's text record of its publish
# (0.6 gives the event an id first).
INPUT_REQUEST = "UserInputRequestedEvent"
PUBLISHED_INPUT_REQUEST = re.compile(
    rf"^Publishing message of type \w+ to all subscribers: .*?{INPUT_REQUEST}\("
    r"(?:id='[^']*', )?source='([^']*)'.*?request_id='([^']+)'"
)
# 0.5.x-0.6.x log a chat message's Message payload without its content (the group chat types
# it as the abstract BaseChatMessage, so only the base fields are serialised): its text
# survives only in the runtime's text record of its publish, and the task's in that of the
# GroupChatStart sent to the manager (``RecordParser.published``).
PUBLISHED_TEXT_STARTS = (
    "Publishing message of type GroupChatMessage to all subscribers: {'message': ",
    "Sending message of type GroupChatStart to ",
)
_TEXT_KINDS = (
    "TextMessage",
    "ThoughtEvent",
    "HandoffMessage",
    "StopMessage",
    "ToolCallSummaryMessage",
)
TEXT_REPR = re.compile(
    rf"\b({'|'.join(_TEXT_KINDS)})\((?:id='([^']*)', )?source='([^']*)', .*?"
    rf"\bcontent=({QUOTED})(?:, target=({QUOTED}))?"
)
CALL_ID_IN_REPR = re.compile(r"(?:FunctionCall\(id|call_id)='([^']+)'")
# Model-call events carry the whole prompt (``messages``, which grows with the conversation:
# most of a long run's log) ahead of the few keys read from them; autogen-core writes the keys
# in this order (0.4 and 0.7): the key that follows the prompt, per event type.
_PROMPT_AT = '", "messages": ['
_AFTER_PROMPT = {"LLMCall": ', "response": ', "LLMStreamStart": ', "agent_id": '}
_TOOL_REPR_ENDS = tuple((f"type='{kind}'", kind) for kind in TOOL_REPR_KINDS)


_EVENT_LOGGERS = (EVENTS_LOGGER, "autogen_agentchat.events")
# Every ``type`` autogen_core.logging writes, 0.4.0 to 0.7.5 (read in each release's source).
_KNOWN_TYPES = frozenset(
    {
        "Message",
        "LLMCall",
        "LLMStreamStart",
        "LLMStreamEnd",
        "ToolCall",
        "MessageHandlerException",
        "AgentConstructionException",
        "MessageDropped",
    }
)


@lru_cache(maxsize=256)
def canonical_logger(name: str) -> str:
    """The event logger a name stands for when a format appended ``.%(funcName)s`` to it
    (neither event logger has child loggers); any other name as it is."""
    return next((e for e in _EVENT_LOGGERS if name.startswith(e + ".")), name)


class RecordParser:
    """Turns AutoGen logging records (logger, level, time, message lines) into events."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.seen: set[str] = set()  # chat message ids already emitted (logged once per hop)
        self.firsts: list[tuple[str, int, int]] = []  # (id, rows it emitted), for merging spans
        self.hops = KnownHops()  # speed only: which hops add nothing, each route's team
        # Whether this log's payloads leave chat messages' text out (0.5.x), learned from
        # the first payload naming a source; id-less published texts wait until then.
        self.contentless: bool | None = None
        self.deferred: list[tuple[dict[str, Any], int, str | None]] = []
        self.in_place, self.skip_known = take(HOP_IN_PLACE, 0), take(KNOWN_HOPS, 0)

    def record(
        self, line: int, logger: str, level: str, when: str | None, lines: list[str]
    ) -> None:
        message = lines[0]
        logger = canonical_logger(logger)
        if logger == EVENTS_LOGGER and message.startswith("{"):
            hop = hop_of(message)
            self._learn(hop)
            if not self.known_hop(hop):
                self._core_event(line, when, message, hop)
            if hop is not None:  # after the hop named its run
                self._rpc(hop[1], line, when)
        elif logger == "autogen_agentchat.events":
            self.repr_event(message, line, when)
        elif logger.startswith("autogen_core") and INPUT_REQUEST in message:
            self.published_input_request(message, line, when)
        elif logger.startswith("autogen_core") and message.startswith(PUBLISHED_TEXT_STARTS):
            self.published(message, line, when)
        elif logger.startswith("autogen_agentchat") and message.startswith(SELECTOR_FALLBACK):
            self.sink.add(
                "other", line, ts=when, subkind="selector_fallback", content=message.strip()
            )
        elif logger.startswith("autogen_agentchat") and message.startswith((LEDGER, REPLAN)):
            self.sink.add(
                "other",
                line,
                ts=when,
                subkind="ledger" if message.startswith(LEDGER) else "replan",
                agent=ORCHESTRATOR,
                content=ledger_summary(message) if message.startswith(LEDGER) else message,
            )
        elif logger.startswith("autogen_agentchat") and (m := SELECTED.search(message)):
            self.sink.add(
                "other",
                line,
                ts=when,
                subkind="speaker_selected",
                recipient=m[1],
                content=message.strip(),
            )
        elif "GroupChatTermination" in message and (m := TERMINATION.search(message)):
            if "'error': SerializableException" in message:  # the team stopped on an exception
                self.sink.add("error", line, ts=when, is_error=True, content=unquote(m[1]))
            else:
                self.sink.add("termination", line, ts=when, content=unquote(m[1]))
        elif not logger.startswith("autogen") and self.foreign(line, message, when):
            pass  # the model client retrying a refused call
        elif level in ("ERROR", "CRITICAL", "FATAL"):
            body = "\n".join(lines).strip()
            last = body.splitlines()[-1] if body else ""
            interrupt = "KeyboardInterrupt" in body or last.startswith(
                ("asyncio.exceptions.CancelledError", "CancelledError")
            )
            self.sink.add(
                "error",
                line,
                ts=when,
                subkind="interrupt" if interrupt else "traceback",
                content=body,
                is_error=True,
            )

    def foreign(self, line: int, text: str, when: str | None = None) -> bool:
        """A record of another library (``openai``, ``httpx``): only a model call being
        retried is read, with the record's time (``when``, else the first stamp before the
        message). True if it was one."""
        found = MODEL_RETRY.search(text)
        if found is None:
            return False
        if when is None and (stamp := _STAMP.search(text, 0, found.start())):
            when = stamp[0]
        self.sink.add("other", line, ts=when, subkind="model_retry", content=found[0])
        return True

    def hop_at(self, line: int, when: str | None, text: str, at: int) -> bool:
        """``record`` of a one-line ``autogen_core.events`` record whose message is
        ``text[at:]``, if it is a Message hop (True), read without copying the message unless
        its payload must be decoded; False if not a hop (the caller reads it as a record)."""
        hop = hop_of(text, at) if self.in_place else None
        if hop is None:
            return False
        self._learn(hop)
        if not self.known_hop(hop):
            self._core_event(line, when, text[at:], hop)
        self._rpc(hop[1], line, when)  # after the hop named its run
        return True

    def _core_event(self, line: int, when: str | None, message: str, hop: Hop | None) -> None:
        """The events of one ``autogen_core.events`` JSON record."""
        event = _without_prompt(message)
        if event is None:
            try:
                event = loads(message)
            except orjson.JSONDecodeError:
                event = _json_prefix(message)
        if event is None:
            self.sink.skip(line, "truncated or invalid autogen_core.events JSON")
            return
        if hop is None and isinstance(event, dict) and event.get("type") == "Message":
            stage = f"{event.get('kind')} {event.get('delivery_stage')}"
            self._rpc(stage, line, when, event.get("sender"), event.get("receiver"))
        if isinstance(event, dict) and self.event(event, line, when) and hop:
            self.hops.remember(hop[0])

    def _rpc(
        self,
        route: str,
        line: int,
        when: str | None,
        sender: str | None = None,
        receiver: str | None = None,
    ) -> None:
        """A direct message (an RPC: the sender awaits the answer) or its response, as it is
        sent: most hops are publishes, told apart by one substring test. ``route``: the raw
        text after a hop's payload, or the kind and stage of a decoded event."""
        if _PUBLISH in route or _SENT not in route:
            return
        kind = "rpc_send" if _DIRECT in route else "rpc_respond" if _RESPOND in route else None
        if kind is None:
            return
        if sender is None and receiver is None:
            receiver, sender = route_of(route)
        self.sink.add(
            "other",
            line,
            subkind=kind,
            ts=when,
            agent=agent_name(sender),
            recipient=agent_name(receiver),
            content=f"{'direct message' if kind == 'rpc_send' else 'response'} "
            f"{agent_name(sender) or '?'} -> {agent_name(receiver) or '?'}",
        )

    def known_hop(self, hop: Hop | None) -> bool:
        """A Message event whose decode can be skipped (``KnownHops.adds_nothing``), the run it
        belongs to still followed. Any doubt (``hop`` is None) means decoding it."""
        if hop is None or not self.skip_known or not self.hops.adds_nothing(hop[0], self.seen):
            return False
        if team := self.hops.team_of_route(hop[1]):
            self.sink.run_id = team
        return True

    def _run_of(self, *ids: str | None) -> None:
        if team := team_of(*ids):
            self.sink.run_id = team

    def event(self, e: dict[str, Any], line: int, when: str | None) -> bool:
        """Adds the event's rows. True if it is a Message whose every hop adds what this one
        did and no more: its chat messages are all keyed now, and it reports no error."""
        kind, add = e.get("type"), self.sink.add
        self._run_of(e.get("receiver"), e.get("sender"), e.get("agent_id"))
        agent = agent_name(e.get("agent_id"))
        if kind == "Message":
            payload = e.get("payload")
            try:
                decoded = loads(payload) if isinstance(payload, str) else payload
            except orjson.JSONDecodeError:
                return False  # "Message could not be serialized"
            same_on_every_hop = True
            if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
                err = decoded["error"]
                add(
                    "error",
                    line,
                    ts=when,
                    is_error=True,
                    content=f"{err.get('error_type')}: {err.get('error_message')}",
                )
                same_on_every_hop = False
            for msg in find_chat_messages(decoded):
                if not (msg.get("id") or msg.get("created_at")):
                    # 0.4.x messages carry neither, so hops of one message cannot be told from
                    # a repeat of its text: read each once, where it is published for output.
                    if _publishes_output(e):  # its repr, if any, is the same event
                        self._once((_call_key(msg),), emit_chat_message, self.sink, msg, line, when)
                    same_on_every_hop = False
                    continue
                key = (
                    msg.get("id")
                    or f"{msg.get('type')}|{msg.get('source')}|{msg.get('created_at')}"
                )
                self._once((key, _call_key(msg)), emit_chat_message, self.sink, msg, line, when)
            return same_on_every_hop
        if kind in ("LLMCall", "LLMStreamEnd"):
            response = e.get("response") or {}
            add(
                "llm_call",
                line,
                ts=when,
                agent=agent,
                subkind="selector_call" if agent and "GroupChatManager" in agent else None,
                prompt_tokens=e.get("prompt_tokens"),
                completion_tokens=e.get("completion_tokens"),
                content=_reply(response),
                model=response.get("model") if isinstance(response, dict) else None,
            )
        elif kind == "LLMStreamStart":
            add(
                "other",
                line,
                ts=when,
                agent=agent,
                subkind="llm_start",
                content="LLMStreamStart",
            )
        elif kind == "ToolCall":
            add(
                "other",
                line,
                ts=when,
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
                ts=when,
                agent=agent_name(e.get("handling_agent")),
                is_error=True,
                subkind=None if text else "interrupt",  # str(CancelledError) is empty
                content=f"{kind}: {text or 'cancelled (the handler was interrupted)'}",
            )
        elif kind not in _KNOWN_TYPES:
            self.sink.unread(line, f"autogen_core.events record of unknown type {str(kind)[:40]}")
        return False

    def published_input_request(self, message: str, line: int, when: str | None) -> None:
        """An input request as the runtime logs its publish: read once, under the key its
        payload (where a release logs one) is read under."""
        m = PUBLISHED_INPUT_REQUEST.match(message)
        if m is not None:
            add = self.sink.add
            keys = (f"{INPUT_REQUEST}:call:{m[2]}",)
            self._once(keys, add, "input_request", line, ts=when, agent=m[1], content=INPUT_REQUEST)

    def published(self, message: str, line: int, when: str | None) -> None:
        """Text chat messages in the runtime's record of a publish, read where payloads leave
        the text out (0.5.x, 0.6.x: learned from the first payload naming a source; until
        then they wait), once (under their id, from 0.6). Where payloads hold it (0.4.x,
        0.7.x) the payloads are read and this record is not even searched."""
        if self.contentless is False:
            return
        self.deferred += [(msg, line, when) for msg in published_texts(message)]
        self._settle()

    def _learn(self, hop: Hop | None) -> None:
        if self.contentless is None and (found := contentless(hop)) is not None:
            self.contentless = found
            self._settle()

    def _settle(self) -> None:
        if self.contentless is not None:
            deferred, self.deferred = self.deferred, []
            for msg, line, when in deferred if self.contentless else ():
                self._once((msg["id"],), emit_chat_message, self.sink, msg, line, when)

    def close(self, head: Callable[[], bool | None] | None = None) -> None:
        """The end of the records. Published texts still waiting are read unless ``head``
        (a look at the start of the file, for a span that saw no payload naming a source)
        finds payloads that hold the text."""
        if self.contentless is None and self.deferred:
            self.contentless = (head() if head else None) in (None, True)
            self._settle()

    def repr_event(self, message: str, line: int, when: str | None) -> None:
        m = REPR_ID.match(message)
        if m:
            key, source = m[1], m[2]
        elif (s := REPR_SOURCE.match(message)) and (c := CALL_ID_IN_REPR.search(message)):
            # 0.5.x logs Message payloads without their content: this repr is all there is
            tail = message.rstrip()
            kind = next((k for suffix, k in _TOOL_REPR_ENDS if tail.endswith(suffix)), "")
            key, source = f"{kind}:call:{c[1]}", s[1]
        else:
            return
        self._once((key,), self._repr_event, message, line, when, source)

    def _once(
        self, keys: Sequence[str | None], emit: Callable[..., None], *args: Any, **kw: Any
    ) -> None:
        """``emit(*args, **kw)`` for an event logged in several places (a payload on every hop,
        a repr, the runtime's text record) unless one of its ``keys`` was seen; each key is
        then seen, and the rows it made are the ones a later span's merge drops
        (``firsts``). With no key, every call emits."""
        named = [k for k in keys if k]
        if any(k in self.seen for k in named):
            self.seen.update(named)
            return
        self.seen.update(named)
        start = len(self.sink)
        emit(*args, **kw)
        self.firsts.extend((k, start, len(self.sink)) for k in named)

    def _repr_event(self, message: str, line: int, when: str | None, source: str) -> None:
        tail = message.rstrip()
        for suffix, kind in _TOOL_REPR_ENDS:
            if tail.endswith(suffix):
                emit_tool_reprs(self.sink, kind, message, line, when, source)
                return


def ledger_summary(message: str) -> str:
    """``satisfied=False in_loop=True progress=False next=browser`` from a progress ledger's
    repr (its reasons and instruction left out: they are the model's prose)."""
    answers = dict(_LEDGER_ANSWER.findall(message))
    short = {"is_request_satisfied": "satisfied", "is_in_loop": "in_loop"}
    parts = [
        f"{short.get(k, 'progress')}={answers[k]}"
        for k in ("is_request_satisfied", "is_in_loop", "is_progress_being_made")
        if k in answers
    ]
    nxt = _NEXT.search(message)
    return " ".join(parts + ([f"next={nxt[1][1:-1]}"] if nxt else []))


def contentless(hop: Hop | None) -> bool | None:
    """Whether a Message hop's chat message was serialised as its base class (0.5.x: no
    ``type``, no content); None if the hop names no source."""
    if hop is None or SOURCE_KEY not in hop[0]:
        return None
    return _TYPE_KEY not in hop[0]


HEAD_BYTES = 1 << 20  # of a file, looked at for its first payload naming a source


def first_contentless(messages: Iterable[str]) -> bool | None:
    """``contentless`` of the first of ``messages`` (autogen_core.events texts) that says."""
    for message in messages:
        at = message.find(PAYLOAD_START)
        if at >= 0 and (found := contentless(hop_of(message, at))) is not None:
            return found
    return None


def published_texts(message: str) -> list[dict[str, Any]]:
    """The text chat messages (``_TEXT_KINDS``) in a runtime text record's payload repr."""
    found = []
    for kind, msg_id, source, content, target in TEXT_REPR.findall(message):
        msg = {"type": kind, "id": msg_id or None, "source": source, "content": unquote(content)}
        if target:
            msg["target"] = unquote(target)
        found.append(msg)
    return found


def _call_key(msg: dict[str, Any]) -> str | None:
    """``<type>:call:<first call id>`` of a tool event, ``<type>:call:<request id>`` of an
    input request: the key an id-less repr of the same event is read under."""
    if msg.get("type") == INPUT_REQUEST and isinstance(msg.get("request_id"), str):
        return f"{INPUT_REQUEST}:call:{msg['request_id']}"
    content = msg.get("content")
    first = content[0] if isinstance(content, list) and content else None
    if not isinstance(first, dict):
        return None
    call_id = first.get("id") or first.get("call_id")
    return f"{msg.get('type')}:call:{call_id}" if isinstance(call_id, str) else None


def _publishes_output(event: dict[str, Any]) -> bool:
    """The hop that sends a chat message to a team's output topic (what Console prints): each
    message makes it exactly once."""
    receiver = event.get("receiver")
    return (
        event.get("kind") == "MessageKind.PUBLISH"
        and event.get("delivery_stage") == "DeliveryStage.SEND"
        and isinstance(receiver, str)
        and receiver.startswith("output_topic")
    )


def _without_prompt(message: str) -> dict[str, Any] | None:
    """A model-call event decoded without its prompt, which is never read: its type and the
    keys after the prompt. None if the record is not of that shape, or if what follows the
    prompt does not decode on its own (the caller then decodes the whole record)."""
    at = message.find(_PROMPT_AT)
    if at < 0:
        return None
    start = message.rfind('"type": "', 0, at) + len('"type": "')
    kind = message[start:at]
    after = _AFTER_PROMPT.get(kind)
    # The last occurrence: the prompt's own text cannot hold it unescaped, and one inside a
    # later value would leave the braces unbalanced, so the decode below fails.
    tail = message.rfind(after, at) if after else -1
    if tail < 0:
        return None
    try:
        event = loads(f'{{"type": "{kind}"{message[tail:]}')
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


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
