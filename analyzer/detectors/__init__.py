"""The detector registry: an explicit tuple, so the list is greppable and ordered.

``run_detectors`` turns a crashing detector into an ``AZ99`` finding instead of a dead run.
Detectors see every run of a file at once (see ``base``); findings come back per run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl

from ..config import Thresholds
from ..findings import Finding
from ..schema import frames_by_run
from .base import Detector, RunFinding, family_text
from .context_growth import ContextGrowth
from .context_limit_error import ContextLimitError
from .empty_replies import EmptyReplies
from .near_duplicate_messages import NearDuplicateMessages
from .orchestrator_stalls import OrchestratorStalls
from .pending_human_input import PendingHumanInput
from .reentrant_tool_call import ReentrantToolCall
from .reentry_error import ReentryError
from .repeated_tool_call import RepeatedToolCall
from .rpc_wait_cycle import RpcWaitCycle
from .run_end import RunEnd
from .slow_tool_call import SlowToolCall
from .speaker_cycle import SpeakerCycle
from .turn_limit import TurnLimit
from .unanswered_model_call import UnansweredModelCall
from .unfinished_tool_call import UnfinishedToolCall

if TYPE_CHECKING:  # the ending stage reads detectors.base: imported for types only
    from ..ending import RunEnding

ALL_DETECTORS: tuple[type[Detector], ...] = (
    RepeatedToolCall,
    NearDuplicateMessages,
    SpeakerCycle,
    EmptyReplies,
    TurnLimit,
    OrchestratorStalls,
    UnfinishedToolCall,
    SlowToolCall,
    UnansweredModelCall,
    PendingHumanInput,
    ContextGrowth,
    ContextLimitError,
    ReentrantToolCall,
    ReentryError,
    RpcWaitCycle,
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
    cfg: Thresholds,
    family: str,
    detectors: Collection[type[Detector]] = ALL_DETECTORS,
    endings: Mapping[str, RunEnding] | None = None,
    repeats: pl.DataFrame | None = None,
) -> dict[str, list[Finding]]:
    """Findings per run id for every run in ``events``, each run's sorted by code and place.
    ``endings``: the ending stage's record per run; ``repeats``: the repetition scan of every
    run (a detector that reads either finds it itself if not given).

    Each detector sees all runs at once; if it crashes, it is run again run by run, so the
    crash is reported (as AZ99) on the runs it happens on and the other runs keep its findings.
    """
    found: dict[str, list[Finding]] = {
        run_id: [] for run_id in events["run_id"].unique(maintain_order=True).to_list()
    }

    def check(det: type[Detector]) -> list[RunFinding]:
        fix = family_text(det.fix, family)
        try:
            pairs = det(endings, family, repeats).check(events, cfg)
            return [(run_id, _with_fix(f, fix)) for run_id, f in pairs]
        except Exception:
            return _run_by_run(det, events, cfg, fix, family)

    # Two at a time: polars releases the GIL, so one detector's queries run while another's
    # Python walks (1 GB one-run log: 0.45 -> 0.32 s); findings are taken in registry order.
    with ThreadPoolExecutor(2) as pool:
        for results in pool.map(check, detectors):
            for run_id, finding in results:
                found[run_id].append(finding)
    for findings in found.values():
        findings.sort(key=lambda f: (f.code, f.evidence[0].seq if f.evidence else -1))
    return found


def _run_by_run(
    det: type[Detector], events: pl.DataFrame, cfg: Thresholds, fix: str, family: str
) -> list[RunFinding]:
    results: list[RunFinding] = []
    for run_id, run_events in frames_by_run(events).items():
        try:
            pairs = det(None, family).check(run_events, cfg)
            results += [(run_id, _with_fix(f, fix)) for _, f in pairs]
        except Exception as exc:
            results.append((run_id, _crash(det, exc)))
    return results


def _crash(det: type[Detector], exc: Exception) -> Finding:
    return Finding(
        code=CRASH_CODE,
        detector=det.name,
        stall_class="unknown",
        phase="none",
        score=0.0,
        summary=f"{det.name} crashed: {exc!r}",
        evidence=(),
    )


def _with_fix(finding: Finding, fix: str) -> Finding:
    return replace(finding, fix=fix) if not finding.fix else finding


__all__ = ["ALL_DETECTORS", "CRASH_CODE", "UNPARSED_CODE", "Detector", "run_detectors", "selected"]
