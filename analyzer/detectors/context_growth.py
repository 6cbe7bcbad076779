"""CTX01: the context grows geometrically, not linearly.

**Symptom**: prompt tokens 1.2k, 2.6k, 5.5k, 11k...; tool outputs that double each call;
model calls that slow down as the prompt grows.

**Signal**: two series, each needing ``growth_min_steps`` consecutive geometric steps ending
above a floor: (a) per agent, the *increments* of ``prompt_tokens`` of its model calls grow by
``growth_ratio`` step over step (linear growth has constant increments, so a conversation that
merely gets longer is not flagged); (b) per agent, the sizes of its messages/tool results grow
by ``growth_ratio`` step over step, each message carrying the one before it (its first or last
``EMBED_PROBE`` characters): accumulation.

**False positives**: linear prompt growth of any slope; a single large tool result; prompts
below ``context_floor_tokens`` / ``context_floor_chars``; an agent's unrelated outputs that
happen to grow (fetched pages of varying size) do not carry each other, so are not growth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, RunFinding, evidence, rows


@dataclass(frozen=True, slots=True)
class _Growth:
    """One agent's geometric stretch: ``values`` are its series, ``at`` their rows in ``frame``."""

    steps: int
    end: int
    unit: str
    agent: str | None
    values: list[int]
    frame: pl.DataFrame
    at: list[int]


def geometric_run(values: Sequence[float], ratio: float, on_increments: bool) -> tuple[int, int]:
    """(steps, end index) of the longest run of consecutive steps growing by ``ratio``."""
    series = [b - a for a, b in pairwise(values)] if on_increments else list(values)
    offset = 1 if on_increments else 0
    best = (0, -1)
    run = 0
    for i in range(1, len(series)):
        prev, cur = series[i - 1], series[i]
        run = run + 1 if prev > 0 and cur >= ratio * prev else 0
        if run > best[0]:
            best = (run, i + offset)
    return best


EMBED_PROBE = 120  # characters of a message looked for in the next one


def _accumulates(frame: pl.DataFrame, at: Sequence[int], start: int, end: int, needed: int) -> bool:
    """At least ``needed`` steps of the stretch, in a row, carry the message before them (its
    opening or its closing text): the context accumulates, rather than an agent's unrelated
    outputs varying in size. (The stretch may open on a short task the outputs do not quote.)"""
    texts = frame["content"].gather(list(at[max(start, 0) : end + 1])).fill_null("").to_list()
    best = run = 0
    for prev, cur in pairwise(texts):
        head, tail = prev[:EMBED_PROBE].strip(), prev[-EMBED_PROBE:].strip()
        run = run + 1 if head and (head in cur or tail in cur) else 0
        best = max(best, run)
    return best >= needed


class ContextGrowth(Detector):
    code = "CTX01"
    name = "context-growth"
    stall_class = "context_explosion"
    thresholds = ("growth_ratio", "growth_min_steps", "context_floor_tokens", "context_floor_chars")
    fix: ClassVar[dict[str, str]] = {
        "classic": "The context grows geometrically: stop feeding whole outputs back (truncate or "
        "summarise tool results), limit history with transform_messages "
        "(MessageHistoryLimiter/MessageTokenLimiter), and avoid agents that quote the previous "
        "message in full.",
        "agentchat": "The context grows geometrically: bound the agent's model_context "
        "(BufferedChatCompletionContext / TokenLimitedChatCompletionContext), truncate tool "
        "outputs, and stop agents from quoting previous messages in full.",
        "agent_framework": (
            "The context grows geometrically: give the chat client a "
            "compaction_strategy (SlidingWindowStrategy, TokenBudgetComposedStrategy, "
            "ToolResultCompactionStrategy), truncate tool outputs, and stop agents from "
            "quoting previous messages in full."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        calls = events.filter(
            (pl.col("kind") == "llm_call")
            & pl.col("prompt_tokens").is_not_null()
            & (pl.col("subkind").is_null() | (pl.col("subkind") != "selector_call"))
        ).with_columns(value=pl.col("prompt_tokens"))
        sized = events.filter(pl.col("kind").is_in(["message", "tool_result"])).with_columns(
            value=pl.col("content").str.len_chars().fill_null(0)
        )
        found: dict[str, list[_Growth]] = {}
        # Runs whose messages are in the log: their prompts' growth must come with messages
        # that accumulate, not with unrelated outputs that happen to grow (fetched pages).
        worded = set(sized.filter(pl.col("value") > 0)["run_id"].unique())
        for frame, unit, floor in (
            (sized, "characters per message", cfg.context_floor_chars),
            (calls, "prompt tokens", cfg.context_floor_tokens),
        ):
            frame = frame.with_row_index("at")
            series = frame.group_by("run_id", "agent", maintain_order=True).agg("value", "at")
            for run_id, agent, values, at in series.iter_rows():
                steps, end = geometric_run(values, cfg.growth_ratio, unit == "prompt tokens")
                if steps >= cfg.growth_min_steps and values[end] >= floor:
                    if unit != "prompt tokens" and not _accumulates(
                        frame, at, end - steps, end, cfg.growth_min_steps
                    ):
                        continue  # outputs that merely vary in size (fetched pages): not growth
                    if unit == "prompt tokens" and run_id in worded and run_id not in found:
                        continue  # prompts grew, but no message carries the one before it
                    found.setdefault(run_id, []).append(
                        _Growth(steps, end, unit, agent, values, frame, at)
                    )
        for run_id, candidates in found.items():
            best = max(candidates, key=lambda c: (c.steps, c.end))
            yield run_id, self._finding(best, cfg)

    def _finding(self, g: _Growth, cfg: Thresholds) -> Finding:
        start = max(g.end - g.steps - (1 if g.unit == "prompt tokens" else 0), 0)
        window = g.frame[g.at[start : g.end + 1]]
        values = g.values[start : g.end + 1]
        growth = (values[-1] / values[0]) if values[0] else float(values[-1])
        items = [evidence(r, f"{v:,} {g.unit}") for r, v in zip(rows(window), values, strict=False)]
        metrics = {"growth_ratio": round(growth, 2), "steps": g.steps, "last_value": values[-1]}
        durations = window["duration_ms"].drop_nulls().to_list()
        if len(durations) >= 2 and durations[0]:
            metrics["latency_ratio"] = round(durations[-1] / durations[0], 2)
        agent = g.agent or "an agent"
        return self.finding(
            phase="model_call",
            score=min(0.85, 0.6 + 0.08 * (g.steps - cfg.growth_min_steps)),
            summary=f"{agent}'s {g.unit} grew {growth:.1f}x over {len(values)} steps, "
            f"accelerating every step (to {values[-1]:,})",
            evidence=tuple(items[:2] + items[-3:]) if len(items) > 5 else tuple(items),
            metrics=metrics,
        )
