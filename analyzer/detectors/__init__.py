"""The detector registry: an explicit tuple, so the list is greppable and ordered.

``run_detectors`` turns a crashing detector into an ``AZ99`` finding instead of a dead run.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from .base import Detector
from .context_growth import ContextGrowth
from .context_limit_error import ContextLimitError
from .empty_replies import EmptyReplies
from .near_duplicate_messages import NearDuplicateMessages
from .pending_human_input import PendingHumanInput
from .reentrant_tool_call import ReentrantToolCall
from .reentry_error import ReentryError
from .repeated_tool_call import RepeatedToolCall
from .run_end import RunEnd
from .slow_tool_call import SlowToolCall
from .speaker_cycle import SpeakerCycle
from .turn_limit import TurnLimit
from .unfinished_tool_call import UnfinishedToolCall

ALL_DETECTORS: tuple[type[Detector], ...] = (
    RepeatedToolCall,
    NearDuplicateMessages,
    SpeakerCycle,
    EmptyReplies,
    TurnLimit,
    UnfinishedToolCall,
    SlowToolCall,
    PendingHumanInput,
    ContextGrowth,
    ContextLimitError,
    ReentrantToolCall,
    ReentryError,
    RunEnd,
)
CRASH_CODE = "AZ99"
UNPARSED_CODE = "AZ00"


def selected(select: Collection[str] = (), ignore: Collection[str] = ()) -> list[type[Detector]]:
    """Detectors chosen by code or name (``--select``/``--ignore``); RUN01 always runs."""

    def named(det: type[Detector], names: Collection[str]) -> bool:
        return det.code in names or det.name in names

    return [
        det
        for det in ALL_DETECTORS
        if det is RunEnd or ((not select or named(det, select)) and not named(det, ignore))
    ]


def run_detectors(
    events: pl.DataFrame,
    turns: pl.DataFrame,
    cfg: Thresholds,
    family: str,
    detectors: Collection[type[Detector]] = ALL_DETECTORS,
) -> list[Finding]:
    findings: list[Finding] = []
    for det in detectors:
        try:
            for finding in det().run(events, turns, cfg):
                fix = det.fix.get(family) or next(iter(det.fix.values()))
                findings.append(_with_fix(finding, fix))
        except Exception as exc:
            findings.append(
                Finding(
                    code=CRASH_CODE,
                    detector=det.name,
                    stall_class="unknown",
                    phase="none",
                    score=0.0,
                    summary=f"{det.name} crashed: {exc!r}",
                    evidence=(),
                )
            )
    return sorted(findings, key=lambda f: (f.code, f.evidence[0].seq if f.evidence else -1))


def _with_fix(finding: Finding, fix: str) -> Finding:
    return replace(finding, fix=fix) if not finding.fix else finding


__all__ = ["ALL_DETECTORS", "CRASH_CODE", "UNPARSED_CODE", "Detector", "run_detectors", "selected"]
