"""BLOCK02: a tool result arrived only after a long silence (logs with timestamps only).

**Symptom**: in a runtime log or logging stream, ``ToolCall``/``function_use`` lands minutes
after the call, while every other step takes seconds.

**Signal**: call-to-result time per call id (``ts``) of at least ``slow_tool_s`` seconds and
``slow_tool_factor`` times the run's median call-to-result time.

**False positives**: uniformly slow tools (every call slow) are not outliers; logs without
clocks (chat history, IOStream JSON, a console transcript unless a container runtime's log
gave its lines times) are never judged.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..fastpaths import declare, take
from ..findings import Finding
from .base import TOOL_ANSWER, Detector, RunFinding, by_run, evidence

_SLOW_SCORE = 0.6


class SlowToolCall(Detector):
    code = "BLOCK02"
    name = "slow-tool-call"
    stall_class = "blocking_tool"
    thresholds = ("slow_tool_s", "slow_tool_factor")
    fix: ClassVar[dict[str, str]] = {
        "classic": "A tool took far longer than the rest of the run: add a timeout to its I/O and "
        "run it asynchronously so the chat is not frozen while it works.",
        "agentchat": "A tool took far longer than the rest of the run: add a timeout "
        "(asyncio.wait_for) and keep blocking work off the event loop (asyncio.to_thread).",
        "agent_framework": (
            "A tool took far longer than the rest of the run: bound it "
            "(asyncio.wait_for inside the tool, or "
            'function_invocation_configuration["max_duration_seconds"]) and keep '
            "blocking work off the event loop (asyncio.to_thread)."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        timed = events.filter(pl.col("ts").is_not_null() & pl.col("tool_call_id").is_not_null())
        for run_id, run_rows in by_run(_runs_with_a_slow_answer(timed, cfg), "ts").items():
            if finding := self._slowest(run_rows, cfg):
                yield run_id, finding

    def _slowest(self, timed: list[dict], cfg: Thresholds) -> Finding | None:
        starts: dict[str, dict] = {}
        spans: list[tuple[float, dict, dict]] = []
        for row in timed:
            cid = row["tool_call_id"]
            if row["kind"] == "tool_call":
                starts.setdefault(cid, row)
            elif cid in starts and (
                row["kind"] == "tool_result" or row["subkind"] == "tool_exec_end"
            ):
                call = starts.pop(cid)
                spans.append(((row["ts"] - call["ts"]).total_seconds(), call, row))
        if not spans:
            return None
        median = statistics.median(s for s, _, _ in spans)
        slow = [
            s
            for s in spans
            if s[0] >= cfg.slow_tool_s and s[0] >= cfg.slow_tool_factor * max(median, 0.001)
        ]
        if len(slow) == 0 or len(slow) == len(spans):
            return None
        gap, call, result = max(slow, key=lambda s: s[0])
        return self.finding(
            phase="tool_execution",
            score=_SLOW_SCORE,
            summary=f"`{call['tool_name']}` took {gap:.0f} s to return (median tool time {median:.1f} s)",
            evidence=(evidence(call, "called"), evidence(result, f"returned {gap:.0f} s later")),
            metrics={"gap_s": round(gap, 3), "median_s": round(median, 3), "slow_calls": len(slow)},
        )


PREFILTER = declare("slow-tool-prefilter", 0, "events", "runs without a slow answer dropped")


def _runs_with_a_slow_answer(timed: pl.DataFrame, cfg: Thresholds) -> pl.DataFrame:
    """The rows of the runs where some answer comes ``slow_tool_s`` after the first call with
    its id: a call's time is never before that first one, so no other run has a slow call."""
    if not take(PREFILTER, timed.height):
        return timed
    key = ["run_id", "tool_call_id"]
    first_call = (
        timed.filter(pl.col("kind") == "tool_call").group_by(key).agg(first=pl.col("ts").min())
    )
    waited = (pl.col("ts") - pl.col("first")).dt.total_microseconds() / 1_000_000
    slow = timed.filter(TOOL_ANSWER).join(first_call, on=key).filter(waited >= cfg.slow_tool_s)
    return timed.filter(pl.col("run_id").is_in(slow["run_id"].unique().implode()))
