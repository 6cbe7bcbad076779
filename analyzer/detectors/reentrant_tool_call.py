"""REENT01: a tool's handler re-enters the chat it is running in.

**Symptom**: ``>>>>>>>> EXECUTING FUNCTION run_subtask...`` followed, before any ``EXECUTED``,
by ``tool_agent (to chat_manager): Sub-task: ...``, ``Next speaker: planner`` and the same tool
call again: executions nest dozens deep until ``maximum recursion depth exceeded``.

**Signal**: while a tool call is open (no result yet), the agent executing it sends a new
message into the conversation, the same tool is called again (from another message), or another
execution starts inside it (nesting depth >= 2).

**False positives**: parallel tool calls of one message are not nested; a tool that
finishes before the next message is not open; a tool retried after its result is not nested.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import TOOL_TRAFFIC, Detector, RunFinding, by_run, evidence, spread


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
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        relevant = events.filter(TOOL_TRAFFIC | (pl.col("kind") == "message"))
        for run_id, run_rows in by_run(relevant).items():
            if finding := self._nesting(run_rows):
                yield run_id, finding

    def _nesting(self, relevant: list[dict]) -> Finding | None:
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
                if executing:
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
        return Finding(
            code=self.code,
            detector=self.name,
            stall_class=self.stall_class,
            phase="tool_execution",
            score=min(0.95, 0.75 + 0.02 * len(nested)),
            summary=f"a tool handler re-entered the running chat {len(nested)} times "
            f"(nesting depth {max_depth})",
            evidence=tuple(evidence(row, why) for row, why in spread(nested)),
            metrics={"reentries": len(nested), "max_depth": max_depth},
        )
