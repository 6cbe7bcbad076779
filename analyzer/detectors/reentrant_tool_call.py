"""REENT01: a tool's handler re-enters the chat it is running in.

**Symptom**: ``>>>>>>>> EXECUTING FUNCTION run_subtask...`` followed, before any ``EXECUTED``,
by ``tool_agent (to chat_manager): Sub-task: ...``, ``Next speaker: planner`` and the same tool
call again: executions nest dozens deep until ``maximum recursion depth exceeded``.

**Signal**: while a tool call is open (no result yet), the agent executing it sends a new
message into the conversation, the same tool is called again (from another message), or another
execution starts inside it (nesting depth >= 2).

**False positives**: parallel tool calls of one message are not nested (nor are their
executions, which AgentChat runs concurrently and spans show starting together); a tool that
finishes before the next message is not open; a tool retried after its result is not nested.
Releases before 0.8 print ``EXECUTING FUNCTION`` and never ``EXECUTED``: the tool's response
(same call id, or the same function where the log gives no id) closes the execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..fastpaths import declare, take
from ..findings import Finding
from .base import TOOL_ANSWER, TOOL_TRAFFIC, Detector, RunFinding, by_run, evidence, spread

# Walking fewer rows costs less than the ~10 queries that narrow them.
NARROWING = declare("reentry-prefilter", 2001, "events", "runs that cannot nest dropped")
# What the walk reads of a row.
_WALKED = (
    *("run_id", "kind", "subkind", "tool_call_id"),
    *("tool_name", "source_line", "ts", "agent", "recipient"),
)


class ReentrantToolCall(Detector):
    code = "REENT01"
    name = "reentrant-tool-call"
    stall_class = "recursive_reentry"
    fix: ClassVar[dict[str, str]] = {
        "classic": "A tool handler re-enters the chat it runs in (initiate_chat/send to the same "
        "GroupChatManager from inside a tool): separate orchestration from handlers. Return the "
        "sub-task as the tool result and let the manager schedule it, or run it in a separate "
        "nested chat (register_nested_chats) with its own agents.",
        "agentchat": "A tool handler re-enters the team it runs in: never call team.run() or "
        "send_message to the running team from a tool; return the request as the tool result, "
        "use a separate team instance, or a Swarm handoff.",
        "agent_framework": (
            "A tool re-enters the agent or workflow that runs it: never call "
            "agent.run() or workflow.run() on the running instance from a tool; return "
            "the request as the tool result, or run a separate agent instance "
            "(agent.as_tool())."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        # The walk reads a few short columns; whole rows are built for the evidence alone.
        suspects = _suspect_rows(events).with_row_index("_at")
        for run_id, run_rows in by_run(suspects, "_at", columns=_WALKED).items():
            if finding := self._nesting(run_rows, suspects):
                yield run_id, finding

    def _nesting(self, relevant: list[dict], suspects: pl.DataFrame) -> Finding | None:
        open_calls: dict[str, dict] = {}  # call id -> tool_call row
        executing: list[dict] = []  # stack of exec starts without an end
        nested: list[tuple[dict, str]] = []  # (row, why); evidence is built for the few shown
        max_depth = 0
        for row in relevant:
            kind, sub, cid = row["kind"], row["subkind"], row["tool_call_id"]
            if kind == "tool_call" and cid:
                outer = next(
                    (
                        c
                        for c in open_calls.values()
                        if c["tool_name"] == row["tool_name"]
                        and c["source_line"] != row["source_line"]
                    ),
                    None,
                )
                if outer is not None:  # the same tool again while its first call is unanswered
                    nested.append(
                        (
                            row,
                            f"called again while `{outer['tool_name']}` from "
                            f"line {outer['source_line']} was still running",
                        )
                    )
                    max_depth = max(max_depth, len(open_calls) + 1)
                open_calls[cid] = row
            elif sub == "tool_exec_start":
                if executing and not _siblings(open_calls, executing[-1], row):
                    nested.append(
                        (
                            row,
                            f"started inside `{executing[-1]['tool_name']}` "
                            f"(depth {len(executing) + 1})",
                        )
                    )
                executing.append(row)
                max_depth = max(max_depth, len(executing))
            elif sub == "tool_exec_end" or kind == "tool_result":
                open_calls.pop(cid or "", None)
                if executing and sub == "tool_exec_end":
                    executing.pop()
                elif executing:  # releases that print no end: the response closes its start
                    _close(executing, row)
            elif kind == "message" and row["agent"]:
                for call in open_calls.values():
                    if call["recipient"] == row["agent"]:
                        nested.append(
                            (
                                row,
                                f"sent by the executor of open call "
                                f"`{call['tool_name']}` (line {call['source_line']})",
                            )
                        )
                        max_depth = max(max_depth, 2)
                        break
        if not nested:
            return None
        return self.finding(
            phase="tool_execution",
            score=min(0.95, 0.75 + 0.02 * len(nested)),
            summary=f"a tool handler re-entered the running chat {len(nested)} times "
            f"(nesting depth {max_depth})",
            evidence=tuple(
                evidence(suspects.row(row["_at"], named=True), why) for row, why in spread(nested)
            ),
            metrics={"reentries": len(nested), "max_depth": max_depth},
        )


def _siblings(open_calls: dict[str, dict], running: dict, start: dict) -> bool:
    """Two executions of calls one message asked for together (AgentChat runs a message's
    parallel calls concurrently, and spans show each start): not one inside the other."""
    first = open_calls.get(running["tool_call_id"] or "")
    second = open_calls.get(start["tool_call_id"] or "")
    return (
        first is not None
        and second is not None
        and (first["source_line"], first["ts"], first["agent"])
        == (second["source_line"], second["ts"], second["agent"])
    )


def _close(executing: list[dict], answer: dict) -> None:
    """Ends the latest execution ``answer`` (a tool response) answers, if one is open."""
    for i in range(len(executing) - 1, -1, -1):
        start = executing[i]
        same_id = answer["tool_call_id"] and start["tool_call_id"] == answer["tool_call_id"]
        if same_id or (not start["tool_call_id"] and start["tool_name"] == answer["tool_name"]):
            del executing[i]
            return


def _suspect_rows(events: pl.DataFrame) -> pl.DataFrame:
    """The rows ``_nesting`` walks, of the runs where it can find something: a run with an
    execution start, a message from the executor (recipient) of a call, or a call made while
    an earlier call of the same tool had no answer yet. Each is a necessary condition of one
    of its three signs, so the walk finds the same nestings, in far fewer rows."""
    kind, cid = pl.col("kind"), pl.col("tool_call_id")
    rows = events.filter(TOOL_TRAFFIC | (kind == "message"))
    if not take(NARROWING, rows.height):
        return rows
    rows = rows.with_row_index("pos")
    calls = rows.filter((kind == "tool_call") & cid.is_not_null())
    executors = calls.select("run_id", agent="recipient").drop_nulls().unique()
    # A message matters only if its sender executes some call of its run.
    messages = rows.filter(kind == "message").join(executors, on=["run_id", "agent"], how="semi")
    rows = pl.concat([rows.filter(kind != "message"), messages]).sort("pos")
    answers = rows.filter(TOOL_ANSWER & cid.is_not_null()).select(
        "run_id", "tool_call_id", answered="pos"
    )
    unanswered_at = (
        calls.select("run_id", "tool_name", "tool_call_id", "pos")
        .join_asof(
            answers,
            left_on="pos",
            right_on="answered",
            by=["run_id", "tool_call_id"],
            check_sortedness=False,  # sorted by pos: both sides come from one sorted frame
            strategy="forward",
        )
        .with_columns(pl.col("answered").fill_null(pl.col("pos").max() + 1))
        .with_columns(earlier=pl.col("answered").cum_max().shift(1).over("run_id", "tool_name"))
    )
    suspects = pl.concat(
        [
            unanswered_at.filter(pl.col("pos") < pl.col("earlier"))["run_id"],
            rows.filter(pl.col("subkind") == "tool_exec_start")["run_id"],
            messages["run_id"],
        ]
    ).unique()
    return rows.filter(pl.col("run_id").is_in(suspects.implode())).drop("pos")
