"""REENT02: the framework itself reports re-entry: recursion overflow inside a tool, a team
that is already running, or a tool blocked waiting on the loop it runs on.

**Symptom**: a tool result ``Error: maximum recursion depth exceeded``; the file logger's
``Failed to log chat completion: maximum recursion depth exceeded``; agentchat's
``The team is already running, it cannot run again until it is stopped.``; an interrupt
traceback of an open tool ending in ``concurrent/futures ... wait`` (``run_coroutine_threadsafe``
on its own event loop: an async re-entry deadlock).

**Signal**: those texts in tool results, execution ends and error events.

**False positives**: a top-level ``RecursionError`` traceback of a two-agent chat is a loop
crashing, not re-entry, and is not matched (it is not inside a tool result).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import (
    TOOL_ANSWER,
    TOOL_TRAFFIC,
    Detector,
    RunFinding,
    by_run,
    evidence,
    open_tool_calls,
    spread,
)

SIGNS = (
    (re.compile(r"team is already running", re.I), 0.85, "the team was asked to run while running"),
    (
        re.compile(r"maximum recursion depth exceeded", re.I),
        0.8,
        "recursion overflow inside a tool",
    ),
)
ANY_SIGN = "(?i)" + "|".join(f"(?:{p.pattern})" for p, _, _ in SIGNS)  # for polars' prefilter
DEADLOCK = re.compile(
    r"concurrent/futures/_base\.py.*\n.*\n?.*(?:wait|result)|run_coroutine_threadsafe"
)


class ReentryError(Detector):
    code = "REENT02"
    name = "reentry-error"
    stall_class = "recursive_reentry"
    fix: ClassVar[dict[str, str]] = {
        "classic": "Separate orchestration from handlers: a tool must not start or drive the chat "
        "that is executing it (no initiate_chat/send/run_chat on the active manager, no "
        "run_coroutine_threadsafe onto its own event loop). Return a request and let the "
        "manager act on it.",
        "agentchat": "Separate orchestration from handlers: a tool must not call team.run()/"
        "run_stream() on the team executing it; use a separate team instance or return the "
        "request as a result.",
        "agent_framework": (
            "A tool must not call workflow.run() or agent.run() on the instance "
            "executing it: use a separate instance (agent.as_tool()) or return the "
            "request as a result."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        scope = by_run(
            events.filter(
                (TOOL_ANSWER | (pl.col("kind") == "error"))
                & pl.col("content").str.contains(ANY_SIGN)
            )
        )
        # Only an interrupt in a deadlock's frames can be a sign; the tool traffic (all of a
        # long run's) is read only for runs that have one.
        interrupts = {
            run_id: deadlocks
            for run_id, rows in by_run(events.filter(pl.col("subkind") == "interrupt")).items()
            if (deadlocks := [r for r in rows if DEADLOCK.search(r["content"] or "")])
        }
        traffic = by_run(events.filter(TOOL_TRAFFIC & pl.col("run_id").is_in(list(interrupts))))
        for run_id in scope.keys() | interrupts.keys():
            blocked = interrupts.get(run_id, []) if open_tool_calls(traffic.get(run_id, [])) else []
            if finding := self._signs(scope.get(run_id, []), blocked):
                yield run_id, finding

    def _signs(self, scope: list[dict], interrupts: list[dict]) -> Finding | None:
        """``interrupts``: the run's interrupt tracebacks in a deadlock's frames, if a tool
        call was left open."""
        items, score, what = [], 0.0, ""
        for row in scope:
            text = row["content"] or ""
            if row["kind"] == "error" and _final_line(text).startswith("RecursionError"):
                continue  # a chat crashing from depth is a loop symptom, not a sign of re-entry
            for pattern, weight, label in SIGNS:
                m = pattern.search(text)
                if m:
                    items.append(evidence(row, label, text=text[max(0, m.start() - 40) :]))
                    if weight > score:
                        score, what = weight, label
                    break
        for row in interrupts:
            items.append(
                evidence(
                    row,
                    "tool blocked waiting on its own event loop",
                    text=(row["content"] or "").strip().splitlines()[-1],
                )
            )
            if score < 0.7:
                score, what = 0.7, "tool blocked waiting on its own event loop"
        if not items:
            return None
        return self.finding(
            phase="tool_execution",
            score=min(0.95, score + 0.01 * (len(items) - 1)),
            summary=f"{what} ({len(items)} times)" if len(items) > 1 else what,
            evidence=spread(items),
            metrics={"occurrences": len(items)},
        )


def _final_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""
