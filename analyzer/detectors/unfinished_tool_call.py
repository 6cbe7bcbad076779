"""BLOCK01: the log ends inside a tool: it was called (or started) and never returned.

**Symptom**: ``>>>>>>>> EXECUTING FUNCTION fetch_report...`` with no ``EXECUTED`` and nothing
after it but a KeyboardInterrupt traceback ending in ``time.sleep``/``recv``; in runtime logs the
executor's tool call is the last message and no ``function_use`` follows; agentchat logs a
``ToolCallRequestEvent`` and then silence.

Or nothing of the call is logged: an async tool that blocks the event loop stops the Console
and the logging before they print the request, and only the interrupt's traceback shows it
(the framework's tool step, the user's function, the blocking line, asyncio's ``_on_sigint``).

**Signal**: the latest open tool call (no result, no execution end with its id) after which no
other agent activity (message, model call, tool call or result, human input) follows.

**False positives**: a call answered later in the log is not open; a call followed by further
conversation or a termination (the run moved on) is not the stall point. When the identical
call returned earlier in the run, the score drops (the log more likely stops mid-loop). Where
the log prints execution starts (classic consoles and event streams) and this call's never
came, the tool never ran: the log stops between the request and its execution (a cut file, or
a stall elsewhere), which is below the verdict threshold. An interrupt traceback counts only
when its stopped chunk runs from a tool step into the tool's own frames (not an idle event
loop) and, where the log has a clock, came ``slow_tool_factor`` median gaps after the run's last
step; without a clock it is less sure (0.7; 0.8 when asyncio had to raise a second Ctrl-C).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..formats import ALL_FORMATS
from ..schema import CODE_TOOL
from ..traceback_frames import STOPPED, Frame, frames, stopped_chunk
from .base import (
    CLOCKED,
    NO_CLOCK,
    PROGRESS,
    TOOL_ANSWER,
    TOOL_TRAFFIC,
    Detector,
    RunFinding,
    by_run,
    caught_in_flight,
    evidence,
    family_text,
    last_by_run,
    max_seq_by_run,
    open_tool_calls,
    pace_by_run,
    seconds_between,
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
    thresholds = ("slow_tool_factor",)
    fix: ClassVar[dict[str, str]] = {
        "classic": "A tool never returned: give it a timeout (requests/httpx timeout=, "
        "subprocess timeout=, socket.settimeout), run slow work asynchronously (async def tool "
        "with asyncio.wait_for) and return an error string instead of blocking the chat.",
        "agentchat": "A tool never returned: make it async and non-blocking (no time.sleep or "
        "blocking I/O inside async def; use asyncio.to_thread for sync work), wrap it in "
        "asyncio.wait_for with a timeout, and pass a CancellationToken.",
        "agent_framework": (
            "A tool never returned: make it async and non-blocking (no time.sleep or "
            "blocking I/O inside async def; asyncio.to_thread for sync work), and bound "
            "it with asyncio.wait_for or "
            'function_invocation_configuration["max_duration_seconds"].'
        ),
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
        in_candidates = pl.col("run_id").is_in(candidates)
        traffic = by_run(events.filter(TOOL_TRAFFIC & in_candidates), "source_format")
        errors = by_run(events.filter((pl.col("kind") == "error") & in_candidates))
        found = set()
        for run_id, run_traffic in traffic.items():
            pending = open_tool_calls(run_traffic)
            if pending and moved.get(run_id, -1) <= pending[-1]["seq"]:
                found.add(run_id)
                yield run_id, self._finding(pending, run_traffic, errors.get(run_id, []))
        yield from self._stopped_in_tools(events, cfg, found)

    def _stopped_in_tools(
        self, events: pl.DataFrame, cfg: Thresholds, found: set[str]
    ) -> Iterator[RunFinding]:
        """Runs whose interrupt traceback shows the thread inside a tool, though the log never
        recorded the call: an async tool that blocked the event loop stops the Console and
        the logging before they print the request."""
        interrupts = events.filter(
            (pl.col("kind") == "error")
            & pl.col("content").str.contains(STOPPED.pattern)
            & pl.col("content").str.contains(TOOL_EXEC_PATHS)
            & ~pl.col("run_id").is_in(sorted(found))
        )
        if interrupts.is_empty():
            return
        # The wait runs from the run's last step forward (a call or message), not from a
        # result the interrupt itself closed (a span ended by the exception).
        moves = events.filter(PROGRESS & ~TOOL_ANSWER.fill_null(False))
        last_move = last_by_run(moves)
        pace = pace_by_run(moves)
        for run_id, errs in by_run(interrupts, "ts").items():
            row = last_move.get(run_id)
            for err in errs:
                if row is not None and err["seq"] < row["seq"]:
                    continue  # the run went on after it
                stop = stopped_in_tool(err["content"] or "")
                if stop is None:
                    continue
                wait = seconds_between(row["ts"] if row else None, err["ts"])
                if caught_in_flight(wait, pace.get(run_id), cfg):
                    break  # stopped as quickly as its steps usually take: in flight
                yield run_id, self._interrupted_finding(err, stop, row, wait)
                break

    def _interrupted_finding(
        self,
        err: Mapping[str, Any],
        stop: ToolStop,
        row: Mapping[str, Any] | None,
        wait: float | None,
    ) -> Finding:
        on_loop = self.family == "agentchat"
        code = stop.blocked.code.split("  #", 1)[0].strip()  # the line, less its comment
        where = stop.blocked.where() + (f" (`{code}`)" if code else "")
        called = row is not None and row["kind"] == "tool_call" and row["tool_name"] == stop.tool
        summary = (
            f"`{stop.tool}` was running when the run was stopped"
            + (", blocking the event loop" if on_loop else "")
            + f", at {where}"
            + ("" if called else "; the log never recorded the call")
        )
        if wait is not None:
            summary += f" ({wait:,.1f} s after the run's last step)"
        items = [evidence(err, f"stopped inside the tool `{stop.tool}`", text=where)]
        if row is not None:
            items.insert(0, evidence(row, "the call" if called else "the run's last recorded step"))
        # A second Ctrl-C raised by asyncio's handler: the first one's cancellation never ran,
        # so the loop stayed blocked between the two. A clock shows the wait; without either,
        # the stop may have caught a quick tool in flight.
        score = CLOCKED if wait is not None else (0.8 if stop.second_interrupt else NO_CLOCK)
        fix = f"`{stop.tool}` blocks at {where}. " + (
            LOOP_FIX if on_loop else family_text(self.fix, self.family)
        )
        return self.finding(
            phase="tool_execution",
            score=score,
            summary=summary,
            evidence=tuple(items),
            metrics={"open_calls": 0.0, **({"wait_s": wait} if wait is not None else {})},
            fix=fix,
        )

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
        return self.finding(
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


# The frames that run a tool's function, on every release line: AgentChat's tools and its
# assistant's tool step; the classic ConversableAgent's function execution and ag2's tools.
TOOL_EXEC_PATHS = r"autogen_core[/\\]tools[/\\]|autogen_ext[/\\]tools[/\\]|autogen[/\\]tools[/\\]|conversable_agent\.py|_assistant_agent\.py"
_TOOL_EXEC = re.compile(TOOL_EXEC_PATHS)
_TOOL_EXEC_FUNCS = re.compile(
    r"^(?:run|run_json|call_tool|_execute_tool_call|execute_function|a_execute_function"
    r"|_a_execute_tool_call|__call__|_call_tool)$"
)
# The framework and model SDKs: a tool that called back into them was not blocked in itself.
_FRAMEWORK = re.compile(
    r"[/\\](?:autogen|autogen_agentchat|autogen_core|autogen_ext|ag2|openai|anthropic)[/\\]"
)
_LOOP_PATH = re.compile(r"[/\\](?:asyncio[/\\]|selectors\.py)")
# Frames that are not where the thread was: asyncio's SIGINT handler and the signal module.
_HANDLER = re.compile(r"_on_sigint|^signal_handler$|^_handle_signal$|^handler$")
LOOP_FIX = (
    "An async tool that makes a blocking call stops the whole event loop (no message, log "
    "line or cancellation runs until it returns): await an async client or asyncio.sleep, "
    "or move the call off the loop with await asyncio.to_thread(...), and bound it with "
    "asyncio.wait_for(..., timeout=60)."
)


@dataclass(frozen=True, slots=True)
class ToolStop:
    tool: str  # the tool's function (the first frame under the framework's tool step)
    blocked: Frame  # the innermost frame: where the thread was
    second_interrupt: bool  # asyncio's handler raised: an earlier Ctrl-C was never served


def stopped_in_tool(traceback: str) -> ToolStop | None:
    """Where an interrupt traceback shows the thread inside a tool's function, that tool and
    the frame it was blocked in; None otherwise (stopped in the event loop, a model call...)."""
    stack = frames(stopped_chunk(traceback))
    steps = [
        i
        for i, f in enumerate(stack)
        if _TOOL_EXEC.search(f.path) and _TOOL_EXEC_FUNCS.match(f.func)
    ]
    if not steps:
        return None
    below = stack[steps[-1] + 1 :]
    handler = bool(below) and bool(_HANDLER.search(below[-1].func))
    if handler:
        below = below[:-1]
    if not below or _LOOP_PATH.search(below[-1].path):
        return None  # nothing under the tool step, or an idle event loop: not inside a tool
    if any(_FRAMEWORK.search(f.path) for f in below):
        return None  # the tool went back into the framework (a nested chat, a model call)
    return ToolStop(below[0].func, below[-1], handler)


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
