"""LOOP01: the same tool is invoked again and again with the same (or drifting) arguments.

**Symptom**: ``Suggested tool call ... check_status {"job": "build-42"}`` ten times, each with a
fresh call id, often with identical results, until ``max_consecutive_auto_reply`` stops it.

**Signal**: ``tool_call`` rows grouped by ``tool_name``; arguments are masked (ids, uuids,
timestamps, addresses: what differs between repeats of one call) and compared exactly, then
fuzzily (``tool_args_similarity``) against each cluster's first member holding the same
numbers. A cluster of ``tool_repeat_min`` or more is a loop.

**False positives**: the same tool with different arguments (a search over several queries,
``page=1``, ``page=2``: numbers are values) is not flagged; nor an argument-less call made once
each by different agents (handoffs); neither are two calls (a retry),
nor calls whose arguments the log does not carry (agentchat spans): unknown arguments are
never taken as equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import polars as pl
from rapidfuzz import fuzz

from ..config import Thresholds
from ..findings import Finding
from ..masking import NUMBER, masked
from .base import Detector, RunFinding, evidence, rows_of, spread

_MAX_CLUSTERS = 50  # per tool; beyond that, only exact repeats are clustered
_NUMBER = re.compile(NUMBER)


class RepeatedToolCall(Detector):
    code = "LOOP01"
    name = "repeated-tool-call"
    stall_class = "loop"
    thresholds = ("tool_repeat_min", "tool_args_similarity")
    fix: ClassVar[dict[str, str]] = {
        "classic": "The model keeps requesting the same tool call: make the tool result tell it what "
        "to do next (e.g. 'still pending, stop polling'), add a termination condition "
        "(is_termination_msg) and keep max_consecutive_auto_reply low; cache or de-duplicate "
        "identical calls in the tool.",
        "agentchat": "The model keeps requesting the same tool call: return a result that ends the "
        "attempt, add a termination condition (e.g. TextMentionTermination | "
        "MaxMessageTermination), set max_tool_iterations, and de-duplicate identical calls.",
        "agent_framework": (
            "The model keeps requesting the same tool call: return a result that ends "
            "the attempt, lower the chat client's "
            'function_invocation_configuration["max_iterations"] (and '
            "max_function_calls), and tell the agent in its instructions when to stop."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        # Calls whose arguments were not logged (agentchat spans) are never "the same arguments".
        calls = events.filter(
            (pl.col("kind") == "tool_call")
            & pl.col("tool_name").is_not_null()
            & pl.col("tool_args").is_not_null()
        )
        # Only a tool called tool_repeat_min times in a run can hold a cluster that large.
        calls = calls.filter(
            pl.len().over("run_id", "tool_name") >= cfg.tool_repeat_min
        ).with_columns(masked_args=masked(pl.col("tool_args"), numbers=False))
        # Clustered over plain lists (rows are built for the evidence alone). A call without
        # arguments (a handoff's transfer_to_x) repeats only its own agent's calls: each of
        # several agents handing over once is no loop.
        keys: list[str] = (
            calls.select(
                pl.when(pl.col("masked_args").str.strip_chars().is_in(["", "{}", "[]", "null"]))
                .then(pl.lit("agent=") + pl.col("agent").fill_null("?"))
                .otherwise(pl.col("masked_args"))
            )
            .to_series()
            .to_list()
        )
        tools: list[str] = calls["tool_name"].to_list()
        per_run: dict[str, dict[str, list[int]]] = {}  # run -> tool -> its calls' rows
        for row, (run_id, tool) in enumerate(zip(calls["run_id"].to_list(), tools, strict=True)):
            per_run.setdefault(run_id, {}).setdefault(tool, []).append(row)
        winners: list[tuple[str, list[int]]] = []
        for run_id, by_tool in per_run.items():
            best: list[int] = []
            for rows in by_tool.values():
                top = [rows[i] for i in _largest_cluster([keys[r] for r in rows], cfg)]
                if len(top) > len(best):
                    best = top
            if len(best) >= cfg.tool_repeat_min:
                winners.append((run_id, best))
        if not winners:
            return
        shown = [spread(list(enumerate(best))) for _, best in winners]
        gathered = rows_of(calls, [[row for _, row in picked] for picked in shown])
        args: list[str] = calls["tool_args"].to_list()
        for (run_id, best), picked, found in zip(winners, shown, gathered, strict=True):
            distinct = len({args[r] for r in best})
            yield run_id, self._finding(tools[best[0]], len(best), distinct, picked, found, cfg)

    def _finding(
        self,
        tool: str,
        count: int,
        distinct: int,
        picked: Sequence[tuple[int, int]],
        rows: Sequence[dict[str, Any]],
        cfg: Thresholds,
    ) -> Finding:
        score = min(0.9, 0.55 + 0.05 * (count - cfg.tool_repeat_min))
        return self.finding(
            phase="model_call",
            score=score,
            summary=f"`{tool}` was called {count} times with the same arguments"
            + (f" ({distinct} spellings after masking)" if distinct > 1 else ""),
            evidence=tuple(
                evidence(row, f"call {i + 1} of {count}")
                for (i, _), row in zip(picked, rows, strict=True)
            ),
            metrics={"repeat_count": count, "distinct_args": distinct},
            subject=tool,
        )


def _largest_cluster(keys: list[str], cfg: Thresholds) -> list[int]:
    """Calls of one tool (their masked arguments) clustered exactly, then fuzzily against each
    cluster's first member with the same numbers (``page=1`` and ``page=2`` differ by one
    character and are different calls); the positions of the largest cluster."""
    clusters: list[tuple[str, list[str], list[int]]] = []
    by_key: dict[str, list[int]] = {}
    for at, key in enumerate(keys):
        members = by_key.get(key)
        numbers = _NUMBER.findall(key) if members is None else []
        if members is None and len(clusters) < _MAX_CLUSTERS:
            members = next(
                (
                    m
                    for rep, rep_numbers, m in clusters
                    if rep_numbers == numbers
                    and fuzz.ratio(rep, key, score_cutoff=cfg.tool_args_similarity)
                ),
                None,
            )
        if members is None:
            members = []
            clusters.append((key, numbers, members))
        by_key[key] = members
        members.append(at)
    return max((m for _, _, m in clusters), key=len)
