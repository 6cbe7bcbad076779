"""BLOCK01: the log ends inside a tool: it was called (or started) and never returned.

**Symptom**: ``>>>>>>>> EXECUTING FUNCTION fetch_report...`` with no ``EXECUTED`` and nothing
after it but a KeyboardInterrupt traceback ending in ``time.sleep``/``recv``; in runtime logs the
executor's tool call is the last message and no ``function_use`` follows; agentchat logs a
``ToolCallRequestEvent`` and then silence.

**Signal**: the latest open tool call (no result, no execution end with its id) after which no
other agent activity (message, model call, tool call or result, human input) follows.

**False positives**: a call answered later in the log is not open; a call followed by further
conversation or a termination (the run moved on) is not the stall point. When the identical
call returned earlier in the run, the score drops (the log more likely stops mid-loop). Where
the log prints execution starts (classic consoles and event streams) and this call's never
came, the tool never ran: the log stops between the request and its execution (a cut file, or
a stall elsewhere), which is below the verdict threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..formats import ALL_FORMATS
from ..schema import CODE_TOOL
from .base import (
    PROGRESS,
    TOOL_TRAFFIC,
    Detector,
    RunFinding,
    by_run,
    evidence,
    family_text,
    max_seq_by_run,
    open_tool_calls,
)

# Frames of a blocked tool in an interrupt traceback (where the thread was when stopped).
BLOCKING_FRAMES = re.compile(
    r"time\.sleep|sleep\(|\.recv|socket|select|poll|requests/|httpx|urllib|subprocess|\.wait\(|\.join\(|\.read\(|acquire"
)


NEVER_STARTED = 0.45  # a request whose execution the log would show, and does not
# The forms that log every tool execution's start (the format says so).
STARTS_LOGGED = frozenset(f.name for f in ALL_FORMATS if getattr(f, "logs_tool_starts", False))


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

    # A blocked code block: the code executor's own timeout, not a tool's HTTP timeout.
    code_fix: ClassVar[dict[str, str]] = {
        "classic": "A code block the agents wrote never finished: give the executor a timeout "
        "(code_execution_config={'timeout': 60, ...}, or LocalCommandLineCodeExecutor("
        "timeout=60)), run code in Docker so a runaway process can be killed, and tell the "
        "agents in their system message not to write blocking or interactive code.",
        "agentchat": "A code block the agents wrote never finished: give the executor a "
        "timeout (LocalCommandLineCodeExecutor(timeout=60) or DockerCommandLineCodeExecutor("
        "timeout=60); a larger one lets a stuck block hold the run that long), and tell the "
        "coder not to write blocking or interactive code.",
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        # The stall point is the latest open call, and only if nothing moved after it.
        moved = max_seq_by_run(
            events.filter(
                (
                    PROGRESS
                    & (pl.col("subkind").is_null() | (pl.col("subkind") != "tool_exec_start"))
                )
                | (pl.col("kind") == "termination")
            )
        )
        starts = pl.col("kind").eq("tool_call") | pl.col("subkind").eq("tool_exec_start")
        last_start = max_seq_by_run(events.filter(starts))
        # Only a run whose last call (or start) is not followed by progress can qualify.
        candidates = [run for run, seq in last_start.items() if moved.get(run, -1) <= seq]
        if not candidates:
            return
        in_candidates = pl.col("run_id").is_in(candidates)
        traffic = by_run(events.filter(TOOL_TRAFFIC & in_candidates), "source_format")
        errors = by_run(events.filter((pl.col("kind") == "error") & in_candidates))
        for run_id, run_traffic in traffic.items():
            pending = open_tool_calls(run_traffic)
            if pending and moved.get(run_id, -1) <= pending[-1]["seq"]:
                yield run_id, self._finding(pending, run_traffic, errors.get(run_id, []))

    def _finding(
        self, pending: list[Mapping[str, Any]], traffic: list[dict], errors: list[dict]
    ) -> Finding:
        call = pending[-1]
        tool = call["tool_name"] or "a tool"
        items = [evidence(call, "called, never returned")]
        score = 0.85
        summary = f"`{tool}` was called and never returned; the log ends inside it"
        earlier = [r for r in traffic if r["seq"] < call["seq"]]
        answered_before = any(
            r["subkind"] == "tool_exec_end" or r["kind"] == "tool_result" for r in earlier
        )
        same = any(
            r["kind"] == "tool_call"
            and r["tool_name"] == call["tool_name"]
            and r["tool_args"] == call["tool_args"]
            for r in earlier
        )
        if same and answered_before:
            # The identical call returned before: the log more likely stops mid-loop.
            score = 0.6
        tail = [r for r in errors if r["seq"] > call["seq"]]
        for err in tail:
            text = err["content"] or ""
            if err["subkind"] == "interrupt" and BLOCKING_FRAMES.search(
                _outside_loop(text[-3000:])
            ):
                score = 0.92
                items.append(
                    evidence(err, "stopped while the tool was blocked", text=_last_frame(text))
                )
        starts_logged = call["source_format"] in STARTS_LOGGED or any(
            r["subkind"] == "tool_exec_start" for r in traffic
        )
        if call["kind"] == "tool_call" and starts_logged:
            score = min(score, NEVER_STARTED)
            summary = f"`{tool}` was requested; its execution never started"
        code = call["tool_name"] == CODE_TOOL
        return Finding(
            code=self.code,
            detector=self.name,
            stall_class=self.stall_class,
            phase="tool_execution",
            score=score,
            summary=summary,
            evidence=tuple(items),
            metrics={"open_calls": len(pending)},
            fix=family_text(self.code_fix, self.family) if code else "",
        )


# asyncio's own frames: an event loop stopped while idle waits in its selector (select, poll),
# which says nothing of a tool; an async tool awaiting I/O leaves its loop there too.
_LOOP_FRAME = re.compile(
    r'^\s*File "[^"]*[/\\](?:asyncio[/\\][^"]*|selectors\.py)", line \d+, in \w+\n.*\n?', re.M
)


def _outside_loop(traceback: str) -> str:
    """The traceback less the event loop's own frames (and their code lines)."""
    return _LOOP_FRAME.sub("", traceback)


def _last_frame(traceback: str) -> str:
    """The innermost 'File ..., in f' line plus its code line: where the thread was stuck."""
    lines = [ln for ln in traceback.splitlines() if ln.strip()]
    frames = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("File ")]
    if not frames:
        return lines[-1] if lines else ""
    i = frames[-1]
    code = lines[i + 1].strip() if i + 1 < len(lines) else ""
    return f"{lines[i].strip()}: {code}"
