"""Turn classic ``runtime_logging`` records into events (shared by the file and SQLite forms).

Records carry no type field; the kind is inferred from the key set (shared/formats §5).
In a GroupChat the manager relays every message to each member, and each member logs its copy:
copies become ``relay`` events so messages are counted once. A record is read on its own;
the tool names only an earlier record gives are filled in afterwards (``resolve_tool_names``),
so a file can be read in spans.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
import polars as pl

from ..fastpaths import declare, take
from ._openai_messages import add_message_with_calls, add_tool_responses, is_tool_response, text_of
from .base import EventSink, ParsedLog, Stamp, canonical_json, loads, parse_ts

_USAGE = {
    "prompt_tokens": re.compile(r"prompt_tokens['\"]?\s*[=:]\s*(\d+)"),
    "completion_tokens": re.compile(r"completion_tokens['\"]?\s*[=:]\s*(\d+)"),
}
# The response's own model (JSON or the ChatCompletion repr); its last mention, after the
# message content (which comes first in both forms).
_MODEL = re.compile(r"\bmodel['\"]?\s*[=:]\s*['\"]([^'\"]{1,100})['\"]")
_CONTENT = re.compile(
    r"content='([^'\\]*(?:\\.[^'\\]*)*)'|\"content\":\s*\"([^\"\\]*(?:\\.[^\"\\]*)*)\""
)
SELECTOR_AGENTS = frozenset({"speaker_selection_agent", "checking_agent"})
# check_termination_and_human_reply returning final with no reply means the chat ended there.
_ENDING_REPLY_FUNCS = frozenset({"check_termination_and_human_reply", "run_chat", "a_run_chat"})


class RuntimeRecords:
    """Feeds decoded records into an EventSink, one record at a time. ``from_calls``: the log
    has no message events (pyautogen 0.2.16-0.2.2x databases: model calls only), so the
    conversation is read from the calls: each reply, the task, the tool results."""

    def __init__(self, sink: EventSink, from_calls: bool = False) -> None:
        self.sink = sink
        self.from_calls = from_calls
        self.answered: set[str] = set()  # tool call ids whose result was read (from_calls)
        self.tasked = False
        self.agents: set[str] = set()  # names from agent records and message senders

    def record(self, rec: dict[str, Any], line: int, ref: str | None = None) -> None:
        if "event_name" in rec:
            self._event(rec, line, ref)
        elif "invocation_id" in rec:
            self._chat_completion(rec, line, ref)
        elif "input_args" in rec or "returns" in rec:
            self._function_use(rec, line, ref)
        elif "agent_name" in rec:
            self._new_agent(rec, line, ref)
        # new_wrapper / new_client carry configuration only.

    def _event(self, rec: dict[str, Any], line: int, ref: str | None) -> None:
        state = _json(rec.get("json_state")) or {}
        if not isinstance(state, dict):
            self.sink.skip(line, "json_state is not a JSON object (garbled or cut off)")
            return
        receiver = rec.get("source_name")
        ts = rec.get("timestamp")
        if rec["event_name"] == "received_message":
            self._message(state.get("message"), state.get("sender"), receiver, line, ref, ts)
        elif rec["event_name"] == "reply_func_executed":
            name = state.get("reply_func_name") or ""
            self.sink.add(
                "other", line, ref=ref, ts=ts, subkind="reply_func", agent=receiver, content=name
            )
            if name in _ENDING_REPLY_FUNCS and state.get("final") and not state.get("reply"):
                self.sink.add(
                    "termination",
                    line,
                    ref=ref,
                    ts=ts,
                    agent=receiver,
                    content=f"{receiver}: {name} ended the chat",
                )

    def _message(
        self,
        msg: Any,
        sender: str | None,
        receiver: str | None,
        line: int,
        ref: str | None,
        ts: Stamp,
    ) -> None:
        add = self.sink.add
        self.agents.update(n for n in (sender, receiver) if isinstance(n, str))
        if not isinstance(msg, dict):
            if sender in SELECTOR_AGENTS or receiver in SELECTOR_AGENTS:
                self._selection(str(msg or ""), sender, receiver, line, ref, ts)
                return
            add(
                "message",
                line,
                ref=ref,
                ts=ts,
                agent=sender,
                recipient=receiver,
                content=str(msg) if msg is not None else "",
            )
            return
        speaker = msg.get("name")
        text = text_of(msg.get("content"))
        if sender in SELECTOR_AGENTS or receiver in SELECTOR_AGENTS:
            self._selection(text, sender, receiver, line, ref, ts)
            return
        if speaker and speaker != sender:  # a manager's broadcast copy of another's message
            add(
                "other",
                line,
                ref=ref,
                ts=ts,
                subkind="relay",
                agent=speaker,
                recipient=receiver,
                content=text,
            )
            return
        where = {"ref": ref, "ts": ts, "agent": sender, "recipient": receiver}
        if is_tool_response(msg):
            # the message's name until the call's, once resolved, wins
            add_tool_responses(self.sink, line, msg, tool_name=msg.get("name"), **where)
            return
        add_message_with_calls(self.sink, line, text, msg, fallback_ids=True, **where)

    def _selection(
        self,
        text: str,
        sender: str | None,
        receiver: str | None,
        line: int,
        ref: str | None,
        ts: Stamp,
    ) -> None:
        """'auto' selection runs an internal chat per round; its answer names the next speaker."""
        name = text.strip().strip("'\"`.")
        # A name with a space is an answer only if it is an agent's (the API allows them).
        if (
            sender == "speaker_selection_agent"
            and name
            and (" " not in name or name in self.agents)
        ):
            self.sink.add(
                "other",
                line,
                ref=ref,
                ts=ts,
                subkind="speaker_selected",
                agent=sender,
                recipient=name,
                content=f"Next speaker: {name}",
            )
        else:
            self.sink.add(
                "other",
                line,
                ref=ref,
                ts=ts,
                subkind="selector_chat",
                agent=sender,
                recipient=receiver,
                content=text,
            )

    def _chat_completion(self, rec: dict[str, Any], line: int, ref: str | None) -> None:
        response = rec.get("response")
        text = response if isinstance(response, str) else orjson.dumps(response).decode()
        start, end = parse_ts(rec.get("start_time")), parse_ts(rec.get("end_time"))
        failed = "error_code:" in text[:200]
        usage = {k: int(m[1]) if (m := rx.search(text)) else None for k, rx in _USAGE.items()}
        source = rec.get("source_name")
        content = text if failed else _replytext_of(text)
        self.sink.add(
            "llm_call",
            line,
            ref=ref,
            ts=end,
            agent=source,
            subkind="selector_call" if source in SELECTOR_AGENTS else None,
            content=content,
            is_error=failed,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            duration_ms=(end - start).total_seconds() * 1000 if start and end else None,
            model=_model_of(text),
            cost_usd=_cost(rec.get("cost")),
        )
        if self.from_calls and not failed:
            self._conversation_of(rec, line, ref, end, source)

    def _conversation_of(
        self, rec: dict[str, Any], line: int, ref: str | None, ts: Stamp, source: str | None
    ) -> None:
        """What a model call shows of the conversation: the task (the first request's first
        user message), tool results not read before (ids are unique), and the reply."""
        request, response = _json(rec.get("request")), _json(rec.get("response"))
        messages = request.get("messages") if isinstance(request, dict) else None
        for msg in messages if isinstance(messages, list) else []:
            if not isinstance(msg, dict):
                continue
            if msg.get("role") == "user" and not self.tasked:
                self.tasked = True
                self.sink.add(
                    "message",
                    line,
                    ref=ref,
                    ts=ts,
                    recipient=source,
                    content=text_of(msg.get("content")),
                )
            elif msg.get("role") in ("tool", "function"):
                key = str(msg.get("tool_call_id") or f"{msg.get('name')}|{msg.get('content')}")
                if key not in self.answered:
                    self.answered.add(key)
                    self._message(msg, None, source, line, ref, ts)
        choices = response.get("choices") if isinstance(response, dict) else None
        reply = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
        if isinstance(reply, dict):
            where = {"ref": ref, "ts": ts, "agent": source}
            add_message_with_calls(
                self.sink, line, text_of(reply.get("content")), reply, fallback_ids=True, **where
            )

    def _function_use(self, rec: dict[str, Any], line: int, ref: str | None) -> None:
        args = canonical_json(rec.get("input_args") or rec.get("args") or "{}")
        name = rec.get("function_name") or None  # else resolved: the last call with these args
        returns = rec.get("returns")
        body = text_of(_json(returns) if isinstance(returns, str) else returns)
        self.sink.add(
            "other",
            line,
            ref=ref,
            ts=rec.get("timestamp"),
            subkind="tool_exec_end",
            agent=rec.get("source_name"),
            tool_name=name,
            tool_args=args,
            content=body,
            is_error=body.startswith("Error:"),
        )

    def _new_agent(self, rec: dict[str, Any], line: int, ref: str | None) -> None:
        args = rec.get("args") or rec.get("init_args") or {}
        if isinstance(args, str):
            args = _json(args) or {}
        if not isinstance(args, dict):
            self.sink.skip(line, "agent init_args are not a JSON object (garbled or cut off)")
            return
        config = {
            "class": rec.get("agent_type") or rec.get("class"),
            "human_input_mode": args.get("human_input_mode"),
            "max_consecutive_auto_reply": args.get("max_consecutive_auto_reply"),
        }
        name = rec.get("agent_name") or rec.get("name")
        if isinstance(name, str):
            self.agents.add(name)
        self.sink.add(
            "other",
            line,
            ref=ref,
            ts=rec.get("current_time") or rec.get("timestamp"),
            subkind="agent_config",
            agent=name,
            content=orjson.dumps(config).decode(),
        )


def resolved(parsed: ParsedLog) -> ParsedLog:
    """``parsed`` with its tool names resolved (``resolve_tool_names``)."""
    return replace(parsed, events=resolve_tool_names(parsed.events))


# Fewer rows are walked in Python: polars' joins cost ~4 ms a small log.
BULK_NAMES = declare("bulk-names", 5000, "events", "tool names resolved by polars joins")


def resolve_tool_names(events: pl.DataFrame) -> pl.DataFrame:
    """The names only an earlier record gives, as reading the records in order with a map of
    the calls seen so far would: a tool result takes the name of the last call before it with
    its id; a function_use record without ``function_name`` (older ag2), that of the last call
    before it with the same arguments."""
    if not take(BULK_NAMES, events.height):
        return _resolve_one_by_one(events)
    named = events.with_row_index("_at")
    calls = named.filter(pl.col("kind") == "tool_call")
    for key, wanted in (
        ("tool_call_id", pl.col("kind") == "tool_result"),
        ("tool_args", (pl.col("subkind") == "tool_exec_end") & pl.col("tool_name").is_null()),
    ):
        last_call = (
            named.filter(wanted & pl.col(key).is_not_null())
            .select("_at", key)
            .join_asof(
                calls.select("_at", key, _name="tool_name"),
                on="_at",
                by=key,
                strategy="backward",
                allow_exact_matches=False,
                check_sortedness=False,  # in row order by construction; with ``by`` unverifiable
            )
            .filter(pl.col("_name").is_not_null())
        )
        named = (
            named.join(
                last_call.select("_at", "_name"), on="_at", how="left", maintain_order="left"
            )
            .with_columns(tool_name=pl.coalesce("_name", "tool_name"))
            .drop("_name")
        )
    return named.drop("_at")


def _resolve_one_by_one(events: pl.DataFrame) -> pl.DataFrame:
    """``resolve_tool_names`` as the records are read: maps of the calls seen so far."""
    by_id: dict[str | None, str | None] = {}
    by_args: dict[str | None, str | None] = {}
    names = events["tool_name"].to_list()
    columns = (events[c].to_list() for c in ("kind", "subkind", "tool_call_id", "tool_args"))
    for at, (kind, subkind, call_id, args) in enumerate(zip(*columns, strict=True)):
        if kind == "tool_call":  # the last call counts, even one without a name
            if call_id is not None:
                by_id[call_id] = names[at]
            if args is not None:
                by_args[args] = names[at]
        elif kind == "tool_result" and (name := by_id.get(call_id)) is not None:
            names[at] = name
        elif subkind == "tool_exec_end" and names[at] is None:
            names[at] = by_args.get(args)
    return events.with_columns(tool_name=pl.Series(names, dtype=pl.String))


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return loads(text)
    except orjson.JSONDecodeError:
        return text


def _model_of(text: str) -> str | None:
    """The response's model: its last mention, found from the end (a response is 1-3 KB and
    there is one a model call: a forward scan of each cost 10% of the runtime log's parse)."""
    at = text.rfind("model")
    if at < 0:
        return None
    if m := _MODEL.match(text, at):
        return m[1]
    found = _MODEL.findall(text, 0, at)
    return found[-1] if found else None


def _cost(value: object) -> float | None:
    """The logged cost of a call: a number (AutoGen logs 0 where it has no price)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def _replytext_of(response: str) -> str:
    """The assistant text of a logged completion (repr in the file log, JSON in SQLite)."""
    m = _CONTENT.search(response)
    if not m:
        return ""
    raw = m[1] if m[1] is not None else m[2]
    return raw.encode().decode("unicode_escape", errors="replace") if "\\" in raw else raw
