"""LOOP05: the chat was ended by a turn/round/auto-reply limit rather than by its task.

**Symptom**: ``TERMINATING RUN (...): Maximum number of consecutive auto-replies reached``,
``Maximum rounds (N) reached``, agentchat ``Maximum number of messages N reached``.

**Signal**: ``termination`` rows whose reason names a limit. Corroborating only (scores below
the verdict threshold): a healthy run may end at ``max_turns`` too.

**False positives**: none by itself; it never decides a verdict alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..redact import excerpt
from .base import Detector, RunFinding, by_run, evidence

LIMIT = re.compile(
    r"maximum (number of )?(rounds|turns|consecutive auto-replies|messages|iterations)"
    r"|max_(round|turns|messages)|turn limit",
    re.I,
)


class TurnLimit(Detector):
    code = "LOOP05"
    name = "turn-limit-reached"
    stall_class = "loop"
    fix: ClassVar[dict[str, str]] = {
        "classic": "The chat only stopped because a limit ran out: add an explicit termination "
        "condition so the task ends when it is done.",
        "agentchat": "The run only stopped because a limit ran out: add an explicit termination "
        "condition so the task ends when it is done.",
        "agent_framework": (
            "The run only stopped because a limit ran out (max_rounds, max_iterations): "
            "add a termination_condition so the task ends when it is done."
        ),
    }

    def check(self, events: pl.DataFrame, cfg: Thresholds) -> Iterator[RunFinding]:
        for run_id, terminations in by_run(events.filter(pl.col("kind") == "termination")).items():
            ends = [r for r in terminations if LIMIT.search(r["content"] or "")]
            if ends:
                yield run_id, self._finding(ends)

    def _finding(self, ends: list[dict]) -> Finding:
        last = ends[-1]
        return self.finding(
            phase="none",
            score=0.3,
            summary=f"the chat ended on a limit: {excerpt(last['content'], 200)}",
            evidence=(evidence(last, "limit reached"),),
            metrics={"limit_hits": len(ends)},
        )
