"""analyze_file(path) -> AnalysisResult: parse -> timeline -> detect -> classify, per run."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .classify import classify
from .config import DEFAULT, Thresholds
from .detectors import UNPARSED_CODE, run_detectors, selected
from .findings import Diagnosis, Evidence, Finding
from .formats import parse_log
from .formats.base import Skipped
from .schema import validate_events
from .timeline import build_turns


@dataclass(frozen=True, slots=True)
class RunResult:
    """One conversation's analysis."""

    run_id: str
    events: pl.DataFrame
    turns: pl.DataFrame
    findings: tuple[Finding, ...]
    diagnosis: Diagnosis
    stats: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """One input file's analysis: one or more runs."""

    source: str
    format: str
    family: str
    runs: tuple[RunResult, ...]
    skipped: tuple[Skipped, ...]


def analyze_file(
    path: Path | str,
    cfg: Thresholds = DEFAULT,
    fmt: str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    display_name: str | None = None,
) -> AnalysisResult:
    """Analyse one log file. Raises ``AnalyzerError`` (message starts with the path) on bad input."""
    path = Path(path)
    source = display_name or str(path)
    chosen, parsed = parse_log(path, fmt)
    events = parsed.events
    validate_events(events)
    family = parsed.family or chosen.family
    detectors = selected(select, ignore)
    runs = []
    for (run_id,), run_events in events.group_by("run_id", maintain_order=True):
        turns = build_turns(run_events)
        findings = run_detectors(run_events, turns, cfg, family, detectors)
        if parsed.skipped:
            findings.insert(0, _unparsed(parsed.skipped))
        diagnosis = classify(findings, source, cfg)
        runs.append(
            RunResult(
                str(run_id),
                run_events,
                turns,
                tuple(findings),
                diagnosis,
                run_stats(run_events, turns),
            )
        )
    return AnalysisResult(source, chosen.name, family, tuple(runs), parsed.skipped)


def _unparsed(skipped: tuple[Skipped, ...]) -> Finding:
    return Finding(
        code=UNPARSED_CODE,
        detector="unparsed-input",
        stall_class="unknown",
        phase="none",
        score=0.0,
        summary=f"{len(skipped)} line(s) could not be read and were skipped",
        evidence=tuple(Evidence(0, s.line, None, "", s.reason) for s in skipped[:5]),
        metrics={"skipped_lines": len(skipped)},
    )


def run_stats(events: pl.DataFrame, turns: pl.DataFrame) -> dict[str, Any]:
    """Counts and totals for the report and the batch summary (plain JSON types)."""
    kinds = events["kind"].cast(pl.String).value_counts()
    count = dict(zip(kinds["kind"].to_list(), kinds["count"].to_list(), strict=False))
    span = events.select(
        (pl.col("ts").max() - pl.col("ts").min()).dt.total_microseconds() / 1e6
    ).item()
    ends = events.filter(pl.col("kind") == "termination")
    agents = sorted(set(turns["agent"].drop_nulls().to_list()))
    return {
        "events": events.height,
        "turns": turns.height,
        "agents": agents,
        "messages": count.get("message", 0),
        "tool_calls": count.get("tool_call", 0),
        "tool_results": count.get("tool_result", 0),
        "llm_calls": count.get("llm_call", 0),
        "input_requests": count.get("input_request", 0),
        "errors": count.get("error", 0),
        "context_chars": turns.select(pl.col("cum_content_chars").max()).item() or 0,
        "prompt_tokens": int(events["prompt_tokens"].sum() or 0),
        "completion_tokens": int(events["completion_tokens"].sum() or 0),
        "duration_s": round(span, 3) if span else None,
        "terminated": bool(ends.height),
        "termination_reason": ends["content"][-1] if ends.height else None,
        "first_line": events.select(pl.col("source_line").min()).item(),
        "last_line": events.select(pl.col("source_line").max()).item(),
    }
