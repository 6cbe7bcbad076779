"""How each run ended: the stage between the timeline and the detectors.

A run *terminated* (by a named condition), *crashed* (an exception, and where), was
*interrupted* (SIGINT's traceback), was *cut off* (this log form records an end and none is
there), or has *no end recorded* (this form or release never records one: 0.2-0.8.1 consoles,
chat histories, a Console without ``output_stats``). The detectors' RUN01 finding, the
classifier's wording and the reports all read this one record, so "the log just stops" is
only said where the log would have said otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from .detectors.base import (
    agent_settings,
    by_run,
    evidence,
    is_manager,
    last_by_run,
    progress,
    rows,
)
from .findings import Evidence, Phase
from .redact import excerpt
from .traceback_frames import TEARDOWN, final, raised_at

EndingKind = Literal["terminated", "crashed", "interrupted", "cut_off", "no_end_recorded"]
ENDING_KINDS: tuple[EndingKind, ...] = (
    "terminated",
    "crashed",
    "interrupted",
    "cut_off",
    "no_end_recorded",
)

# A termination's wording -> the condition that ended the chat, for every release's wording:
# classic ``TERMINATING RUN`` reasons, runtime logs' reply functions, AgentChat's conditions.
_CONDITIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("human_exit", r"typed exit|human_exit"),
        ("max_consecutive_auto_reply", r"consecutive auto.repl"),
        ("max_round", r"max(?:imum)? rounds|max_round"),
        ("max_turns", r"maximum turns|max_turns|turn limit"),
        ("max_messages", r"maximum number of messages|MaxMessage"),
        ("timeout", r"timeout|time limit"),
        ("token_limit", r"token usage limit|TokenUsage"),
        ("handoff", r"handoff to"),
        ("external", r"external termination"),
        ("give_up", r"give up|gave up|max(imum)? stalls|unable to (complete|make progress)"),
        ("text_mention", r"termination message|TERMINATE|text .* mentioned|is_termination_msg"),
        ("function_call", r"function .* was executed"),
        ("source_match", r"answered"),
    )
)
_RUNTIME_NO_END = (
    "runtime logs record an end only when a reply function ends the chat, or (max_turns) "
    "when the receiver of the last message is a logged agent that never asks a person"
)
# Where a form writes an end for every finished run, on every release this tool reads.
_ALWAYS_RECORDS_END = ("agentchat-logging", "agentchat-json-logging", "otel-spans")
# What shows a run is an AgentChat team's (which logs its end), not bare autogen-core agents.
_TEAM_KINDS = ("message", "llm_call", "tool_call", "termination", "input_request")
_TEAM_SUBKINDS = ("speaker_selected", "agent_config")
_CORE_NO_END = (
    "autogen-core's runtime records no end of its own (AgentChat teams log a "
    "GroupChatTermination; agents that only exchange direct messages do not)"
)
# Why a log form shows no end, where it shows none (the release, where it matters).
_NO_END = {
    "classic-console": "no end is printed: ag2/autogen 0.8.2 and later print `TERMINATING RUN` "
    "when a chat ends, earlier releases print nothing",
    "chat-history-json": "a saved chat history records no end",
    "agentchat-console": "Console prints the stop reason only with output_stats=True",
    "classic-runtime-file": _RUNTIME_NO_END,
    "classic-runtime-sqlite": _RUNTIME_NO_END,
    "classic-events-json": "IOStream events record an end from ag2/autogen 0.8.2 on",
}
TERMINATE_WORD = re.compile(r"\bTERMINATE\b")
_WENT_ON = ("speaker_selected", "llm_start", "selector_call")


@dataclass(frozen=True, slots=True)
class RunEnding:
    """How one run ended, with the events that show it."""

    kind: EndingKind
    condition: str | None
    """terminated: the condition (``max_turns``, ``text_mention``...); crashed: the exception
    type; interrupted: ``SIGINT``; otherwise None."""
    summary: str
    """One clause a person can read: "the run terminated: Maximum turns (2) reached"."""
    phase: Phase
    """Where the run was at its last activity (a member of ``PHASES``)."""
    evidence: tuple[Evidence, ...]
    records_end: bool
    """Whether this log form (and release) writes an end for a finished run."""
    last_activity: int | None = None
    """``seq`` of the run's last sign of progress."""
    detail: str = ""
    """crashed: the exception line; where it was raised (``file:line in func``)."""
    inferred: bool = False
    """terminated: read from a keyword in the last message, not from an end record."""
    error_text: str = ""
    """crashed: the error event's text (its first and last 2,000 characters)."""

    @property
    def finished(self) -> bool:
        return self.kind == "terminated"

    def headline(self) -> str:
        """``terminated (max_turns)``, ``no end recorded``: the kind, for a report's line."""
        kind = self.kind.replace("_", " ")
        return f"{kind} ({self.condition})" if self.condition else kind

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "condition": self.condition,
            "summary": self.summary,
            "phase": self.phase,
            "records_end": self.records_end,
            "detail": self.detail,
        }


def condition_of(reason: str) -> str:
    """The condition a termination's text names (``other`` if none this tool knows)."""
    return next((name for name, pattern in _CONDITIONS if pattern.search(reason)), "other")


def _final(err: Mapping[str, Any]) -> str:
    """An error event's last line: the exception that finally stopped it."""
    return final(err["content"] or "")


def _says_terminate(last: Mapping[str, Any] | None) -> bool:
    """The run's last activity is a message carrying the TERMINATE keyword."""
    return bool(last and last["kind"] == "message" and TERMINATE_WORD.search(last["content"] or ""))


def describe(row: Mapping[str, Any]) -> str:
    kind = row["subkind"] or str(row["kind"])
    who = row["agent"] or row["recipient"]
    where = f"{who}, line {row['source_line']}" if who else f"line {row['source_line']}"
    return f"{kind.replace('_', ' ')} ({where})"


def phase_after(last: Mapping[str, Any] | None) -> Phase:
    """The phase a run stopping right after ``last`` (its last activity) was in."""
    if last is None:
        return "none"
    kind, sub = last["kind"], last["subkind"]
    if sub == "speaker_selected" or kind == "llm_call":
        return "model_call"
    if kind == "tool_call" or sub in ("tool_exec_start", "code_exec_start"):
        return "tool_execution"
    if kind == "input_request":
        return "human_input"
    if kind in ("message", "tool_result") and is_manager(last["recipient"]):
        return "speaker_selection"
    return "model_call"


def find_endings(events: pl.DataFrame) -> dict[str, RunEnding]:
    """The ending of every run in ``events``."""
    last_moves = last_by_run(progress(events))
    ends = by_run(events.filter(pl.col("kind") == "termination"))
    errors = by_run(events.filter(pl.col("kind") == "error"))
    still_open = by_run(events.filter(pl.col("subkind") == "span_open"))
    # Signs the chat went on that are not progress: a TERMINATE before them did not end it.
    went_on = last_by_run(events.filter(pl.col("subkind").is_in(_WENT_ON)))
    # Agents that ask a person when a termination message arrives (human_input_mode ALWAYS or
    # TERMINATE): a TERMINATE sent to them opens a prompt, it does not end the chat.
    settings = agent_settings(events)
    humans: dict[str, set[str]] = {}
    for (run_id, agent), conf in settings.items():
        if conf.get("human_input_mode") in ("ALWAYS", "TERMINATE"):
            humans.setdefault(run_id, set()).add(agent)
    limits, quiet = _runtime_reply_facts(events, last_moves, settings)
    forms = events.group_by("run_id").agg(
        pl.col("source_format").drop_nulls().unique(),
        stats=(
            (pl.col("kind") == "llm_call") & pl.col("content").str.starts_with("[Prompt tokens:")
        )
        .fill_null(False)
        .any(),
    )
    # AgentChat teams log their end; a program of bare autogen-core agents (direct messages
    # only, no chat) has none to log.
    teams = set(
        events.filter(pl.col("kind").is_in(_TEAM_KINDS) | pl.col("subkind").is_in(_TEAM_SUBKINDS))[
            "run_id"
        ].unique()
    )
    recorded = {
        row["run_id"]: bool(
            (set(row["source_format"]) & set(_ALWAYS_RECORDS_END) and row["run_id"] in teams)
            or row["stats"]
        )
        for row in forms.iter_rows(named=True)
    }
    endings: dict[str, RunEnding] = {}
    for run_id, last_event in last_by_run(events).items():
        last = last_moves.get(run_id)
        after = -1 if last is None else last["seq"]
        mine = ends.get(run_id, [])
        endings[run_id] = _ending(
            last,
            last_event,
            [r for r in mine if r["seq"] > after],
            [r for r in errors.get(run_id, []) if r["seq"] > after],
            still_open.get(run_id, []),
            records_end=recorded.get(run_id, False) or bool(mine),
            went_on=run_id in went_on and went_on[run_id]["seq"] > after,
            asks_human=last is not None and last["recipient"] in humans.get(run_id, set()),
            limit=limits.get(run_id, ""),
            quiet_receiver=run_id in quiet,
        )
    return endings


def _runtime_reply_facts(
    events: pl.DataFrame,
    last_moves: dict[str, dict[str, Any]],
    settings: Mapping[tuple[str, str], Mapping[str, Any]],
) -> tuple[dict[str, str], set[str]]:
    """What classic runtime logs (which log every reply function an agent runs, and each
    agent's settings) say about how a chat ended, per run:

    - ``limits``: the agent whose ``check_termination_and_human_reply`` ended the chat had
      sent its ``max_consecutive_auto_reply`` replies: the limit, not a message, ended it;
    - ``quiet``: the last message went to an agent that never asks a person
      (``human_input_mode="NEVER"``) and it ran no reply function after it: an initiator
      whose ``max_turns`` were used up receives the last reply without answering it. Only in
      two-agent chats (a group chat's members receive broadcasts without answering).
    """
    funcs = events.filter(pl.col("subkind") == "reply_func")
    if funcs.is_empty():
        return {}, set()
    last_func = {
        (run, agent): seq
        for run, agent, seq in funcs.group_by("run_id", "agent")
        .agg(pl.col("seq").max())
        .iter_rows()
    }
    sent = {
        (run, agent): n
        for run, agent, n in events.filter(pl.col("kind") == "message")
        .group_by("run_id", "agent")
        .len()
        .iter_rows()
    }
    limits: dict[str, str] = {}
    for end in rows(events.filter(pl.col("kind") == "termination")):
        agent = end["agent"]
        cap = settings.get((end["run_id"], agent), {}).get("max_consecutive_auto_reply")
        # Its first message may be the task it was given, not an auto-reply.
        if isinstance(cap, int) and sent.get((end["run_id"], agent), 0) >= cap:
            limits[end["run_id"]] = f"{agent} had sent its max_consecutive_auto_reply={cap} replies"
    # A group chat's members receive every broadcast without answering, and its manager logs
    # its one reply function (run_chat) when the whole chat ends: the rule is for two agents.
    group_runs = {
        run_id
        for (run_id, agent), conf in settings.items()
        if is_manager(agent) or "GroupChat" in str(conf.get("class") or "")
    } | set(funcs.filter(pl.col("content").is_in(["run_chat", "a_run_chat"]))["run_id"].to_list())
    logs_funcs = set(funcs["run_id"].unique().to_list())
    quiet = set()
    for run_id, last in last_moves.items():
        to = last["recipient"]
        if last["kind"] != "message" or not to or run_id in group_runs:
            continue
        if run_id not in logs_funcs:
            continue  # a form (or release) that does not log reply functions says nothing
        mode = settings.get((run_id, to), {}).get("human_input_mode")
        if mode == "NEVER" and last_func.get((run_id, to), -1) < last["seq"]:
            quiet.add(run_id)
    return limits, quiet


def _ending(
    last: dict | None,
    last_event: dict,
    ends: list[dict],
    errors: list[dict],
    still_open: list[dict],
    records_end: bool,
    went_on: bool = False,
    asks_human: bool = False,
    limit: str = "",
    quiet_receiver: bool = False,
) -> RunEnding:
    """``ends`` and ``errors``: those after ``last``, the run's last activity; ``still_open``:
    spans that never ended (``span_open``)."""
    at = None if last is None else int(last["seq"])
    # AgentChat 0.7 ends a team whose agent raised with a GroupChatTermination: the errors
    # before it, after the last activity, make that a crash.
    failures = [e for e in errors if not TEARDOWN.search(_final(e))]
    if ends and not any(e["seq"] > ends[-1]["seq"] for e in errors) and not failures:
        end = ends[-1]
        reason = end["content"] or ""
        condition = condition_of(reason)
        if condition == "other" and _says_terminate(last):
            # A runtime log's reply function ended the chat ("check_termination_and_human_reply
            # ended the chat") right after a message saying TERMINATE: that mention ended it.
            condition = "text_mention"
        elif condition == "other" and limit:
            condition, reason = "max_consecutive_auto_reply", f"{reason} ({limit})"
        return RunEnding(
            "terminated",
            condition,
            f"the run terminated: {excerpt(reason, 200)}",
            "none",
            (evidence(end, "termination"),),
            records_end=True,
            last_activity=at,
        )
    if last and quiet_receiver and not errors and not still_open:
        return RunEnding(
            "terminated",
            "max_turns",
            f"the run ended: {last['recipient']} (human_input_mode NEVER) received the last "
            "message and ran no reply function, as initiate_chat does when its max_turns "
            "are used up",
            "none",
            (evidence(last, "last message, not answered by design"),),
            records_end=records_end,
            last_activity=at,
        )
    if (
        last
        and not errors
        and not still_open
        and not went_on
        and not records_end  # a form that records ends would have recorded this one
        and not asks_human
        and _says_terminate(last)
    ):
        # Only where nothing shows the chat went on: ``last`` is the run's last activity.
        return RunEnding(
            "terminated",
            "text_mention",
            "the last message carries the TERMINATE keyword (this log form records no "
            "termination event)",
            "none",
            (evidence(last, "termination keyword"),),
            records_end=records_end,
            last_activity=at,
            inferred=True,
        )
    items = [
        evidence(last, "last activity")
        if last
        else evidence(last_event, "last logged event (no agent activity at all)")
    ]
    phase = phase_after(last)
    where = f" after {describe(last)}" if last else ""
    if errors:
        # After a Ctrl-C, shutdown often raises more (task_done(), CancelledError): the
        # interrupt, not the last traceback, is how the run ended.
        interrupts = [e for e in errors if e["subkind"] == "interrupt"]
        # The interrupt; else the first real failure (later ones are its consequences:
        # "An error occurred in the group chat."); else the teardown.
        err = interrupts[-1] if interrupts else (failures or errors)[0 if failures else -1]
        text = (err["content"] or "").strip()
        final = _final(err)
        items.append(evidence(err, "how it ended", text=final))
        if interrupts:
            return RunEnding(
                "interrupted",
                "SIGINT",
                f"it was interrupted (KeyboardInterrupt){where}",
                phase,
                tuple(items),
                records_end,
                at,
                raised_at(text),
            )
        exc = final.split(":", 1)[0].strip() or "exception"
        site = raised_at(text)
        if not failures:  # only the teardown a stop leaves
            return RunEnding(
                "cut_off",
                None,
                f"it was stopped while running (its shutdown raised {final[:120]}){where}",
                phase,
                tuple(items),
                records_end,
                at,
                final[:300],
            )
        return RunEnding(
            "crashed",
            exc,
            f"it crashed: {excerpt(final, 160)}"
            + (f" (raised at {site})" if site else "")
            + (f"; the last activity was {describe(last)}" if last else ""),
            phase,
            tuple(items),
            records_end,
            at,
            f"{final[:300]}" + (f" at {site}" if site else ""),
            error_text=text if len(text) <= 4000 else f"{text[:2000]}\n...\n{text[-2000:]}",
        )
    if last and last["kind"] == "llm_call" and last.get("is_error"):
        # Runtime logs record a model call that failed on every config ("error_code:...,
        # config 0 failed"); the client then raises, and nothing follows.
        text = (last["content"] or "").strip()
        code = re.search(r"error_code:\s*([\w.-]+)", text)
        return RunEnding(
            "crashed",
            code[1] if code else "model call failed",
            f"it crashed: the model call failed ({excerpt(text, 120)}) and nothing followed",
            "model_call",
            (evidence(last, "the failed model call"),),
            records_end,
            at,
            text[:300],
            error_text=text[:4000],
        )
    if still_open:
        items.append(evidence(still_open[-1], "never ended"))
        return RunEnding(
            "cut_off",
            None,
            f"the trace shows it still running: {still_open[-1]['content']}{where}",
            phase,
            tuple(items),
            True,
            at,
        )
    if records_end:
        return RunEnding(
            "cut_off",
            None,
            f"the log stops with no end, which this log form records (killed or timed out){where}",
            phase,
            tuple(items),
            True,
            at,
        )
    form = last_event.get("source_format") or ""
    why = _NO_END.get(form) or (
        _CORE_NO_END if form in _ALWAYS_RECORDS_END else "this log form records no end"
    )
    return RunEnding(
        "no_end_recorded",
        None,
        f"{why}, so a finished run and a stopped one look alike; the last activity is "
        f"{describe(last) if last else 'none'}",
        phase,
        tuple(items),
        False,
        at,
    )
