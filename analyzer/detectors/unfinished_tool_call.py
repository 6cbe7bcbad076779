"""BLOCK01: the log ends inside a tool: it was called (or started) and never returned.

**Symptom**: ``>>>>>>>> EXECUTING FUNCTION fetch_report...`` with no ``EXECUTED`` and nothing
after it but a KeyboardInterrupt traceback ending in ``time.sleep``/``recv``; in runtime logs the
executor's tool call is the last message and no ``function_use`` follows; agentchat logs a
``ToolCallRequestEvent`` and then silence.

**Signal**: the latest open tool call (no result, no execution end with its id) after which no
other agent activity (message, model call, tool call or result, human input) follows.

**False positives**: a call answered later in the log is not open; a call followed by further
conversation or a termination (the run moved on) is not the stall point. When the identical
call returned earlier in the run, the score drops (the log more likely stops mid-loop).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, evidence, open_tool_calls, progress, rows

# Frames of a blocked tool in an interrupt traceback (where the thread was when stopped).
BLOCKING_FRAMES = re.compile(
    r"time\.sleep|sleep\(|\.recv|socket|select|poll|requests/|httpx|urllib|subprocess|\.wait\(|\.join\(|\.read\(|acquire"
)


class UnfinishedToolCall(Detector):
    code = "BLOCK01"
    name = "unfinished-tool-call"
    stall_class = "blocking_tool"
    fix: ClassVar[dict[str, str]] = {
        "classic": "A tool never returned: give it a timeout (requests/httpx timeout=, "
        "subprocess timeout=, socket.settimeout), run slow work asynchronously (async def tool "
        "with asyncio.wait_for) and return an error string instead of blocking the chat.",
        "agentchat": "A tool never returned: make it async and non-blocking (no time.sleep or "
        "blocking I/O inside async def; use asyncio.to_thread for sync work), wrap it in "
        "asyncio.wait_for with a timeout, and pass a CancellationToken.",
    }

    def run(self, events: pl.DataFrame, turns: pl.DataFrame, cfg: Thresholds) -> Iterator[Finding]:
        pending = open_tool_calls(events)
        if not pending:
            return
        call = pending[-1]
        after = events.filter(pl.col("seq") > call["seq"])
        moving = progress(after).filter(
            pl.col("subkind").is_null() | (pl.col("subkind") != "tool_exec_start")
        )
        if moving.height or (after["kind"] == "termination").any():
            return
        tool = call["tool_name"] or "a tool"
        items = [evidence(call, "called, never returned")]
        score = 0.85
        answered_before = events.filter(
            (pl.col("subkind") == "tool_exec_end") | (pl.col("kind") == "tool_result")
        ).filter(pl.col("seq") < call["seq"])
        same = events.filter(
            (pl.col("kind") == "tool_call")
            & (pl.col("seq") < call["seq"])
            & pl.col("tool_name").eq_missing(call["tool_name"])
            & pl.col("tool_args").eq_missing(call["tool_args"])
        )
        if same.height and answered_before.height:
            # The identical call returned before: the log more likely stops mid-loop.
            score = 0.6
        tail = events.filter((pl.col("seq") > call["seq"]) & (pl.col("kind") == "error"))
        for err in rows(tail):
            text = err["content"] or ""
            if err["subkind"] == "interrupt" and BLOCKING_FRAMES.search(text[-3000:]):
                score = 0.92
                items.append(
                    evidence(err, "stopped while the tool was blocked", text=_last_frame(text))
                )
        yield Finding(
            code=self.code,
            detector=self.name,
            stall_class=self.stall_class,
            phase="tool_execution",
            score=score,
            summary=f"`{tool}` was called and never returned; the log ends inside it",
            evidence=tuple(items),
            metrics={"open_calls": len(pending)},
        )


def _last_frame(traceback: str) -> str:
    """The innermost 'File ..., in f' line plus its code line: where the thread was stuck."""
    lines = [ln for ln in traceback.splitlines() if ln.strip()]
    frames = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("File ")]
    if not frames:
        return lines[-1] if lines else ""
    i = frames[-1]
    code = lines[i + 1].strip() if i + 1 < len(lines) else ""
    return f"{lines[i].strip()}: {code}"
