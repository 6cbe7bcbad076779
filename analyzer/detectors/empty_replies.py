"""LOOP04: empty replies bounce between agents.

**Symptom**: ``user (to assistant):`` followed by an empty body, the assistant answering with
nothing, again and again (a ``default_auto_reply`` of "" meeting an agent with nothing to say).

**Signal**: ``empty_reply_min`` or more consecutive ``message`` rows with blank content.

**False positives**: one empty message (a tool-call-only turn has no message row at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector, RunFinding, by_run, evidence, spread


class EmptyReplies(Detector):
    code = "LOOP04"
    name = "empty-replies"
    stall_class = "loop"
    thresholds = ("empty_reply_min",)
    fix: ClassVar[dict[str, str]] = {
        "classic": "Agents are exchanging empty messages: give the proxy a meaningful "
        "default_auto_reply or human_input_mode='NEVER' with is_termination_msg that treats an "
        "empty message as the end (lambda m: not (m.get('content') or '').strip()).",
        "agentchat": "Agents are exchanging empty messages: add a termination condition that "
        "stops on an empty reply and check the model client's response handling.",
        "agent_framework": (
            "Agents are exchanging empty messages: give the workflow a "
            "termination_condition that stops on an empty reply and check the chat "
            "client's response handling."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        messages = events.filter(pl.col("kind") == "message")
        empty = messages.filter(pl.col("content").fill_null("").str.strip_chars() == "")
        # A run needs that many empty messages before any streak of them can count.
        enough = empty.group_by("run_id").len().filter(pl.col("len") >= cfg.empty_reply_min)
        for run_id, msgs in by_run(
            messages.filter(pl.col("run_id").is_in(enough["run_id"]))
        ).items():
            if finding := self._streak(msgs, cfg):
                yield run_id, finding

    def _streak(self, msgs: list[dict], cfg: Thresholds) -> Finding | None:
        best: list[dict] = []
        streak: list[dict] = []
        for row in msgs:
            if (row["content"] or "").strip():
                streak = []
            else:
                streak.append(row)
                if len(streak) > len(best):
                    best = list(streak)
        if len(best) < cfg.empty_reply_min:
            return None
        return self.finding(
            phase="model_call",
            score=min(0.85, 0.55 + 0.05 * (len(best) - cfg.empty_reply_min)),
            summary=f"{len(best)} empty messages in a row between "
            f"{', '.join(sorted({r['agent'] or '?' for r in best}))}",
            evidence=tuple(evidence(r, "empty message", text="(empty)") for r in spread(best)),
            metrics={"repeat_count": len(best)},
        )
