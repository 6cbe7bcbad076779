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
from .schema import frames_by_run, validate_events
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
    # Every stage sees all runs at once (vectorised over run_id), so a file of many short
    # runs costs a few queries per stage, not a few per run.
    turns = build_turns(events)
    found = run_detectors(events, cfg, family, selected(select, ignore))
    stats = run_stats(events, turns)
    turns_of = frames_by_run(turns)
    runs = []
    for run_id, run_events in frames_by_run(events).items():
        findings = found[run_id]
        if parsed.skipped:
            findings.insert(0, _unparsed(parsed.skipped))
        run_turns = turns_of.get(run_id, turns.clear())
        runs.append(
            RunResult(
                str(run_id),
                run_events,
                run_turns,
                tuple(findings),
                classify(findings, source, cfg),
                stats[run_id],
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


_COUNTED = {
    "messages": "message",
    "tool_calls": "tool_call",
    "tool_results": "tool_result",
    "llm_calls": "llm_call",
    "input_requests": "input_request",
    "errors": "error",
}


def run_stats(events: pl.DataFrame, turns: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per run id: counts and totals for the report and the batch summary (plain JSON types)."""
    kind, ends = pl.col("kind"), pl.col("kind") == "termination"
    per_run = events.group_by("run_id", maintain_order=True).agg(
        events=pl.len(),
        **{name: (kind == k).sum() for name, k in _COUNTED.items()},
        span=(pl.col("ts").max() - pl.col("ts").min()).dt.total_microseconds() / 1e6,
        prompt_tokens=pl.col("prompt_tokens").sum(),
        completion_tokens=pl.col("completion_tokens").sum(),
        terminated=ends.any(),
        termination_reason=pl.col("content").filter(ends).last(),
        first_line=pl.col("source_line").min(),
        last_line=pl.col("source_line").max(),
    )
    per_turns = turns.group_by("run_id").agg(
        turns=pl.len(),
        agents=pl.col("agent").drop_nulls().unique().sort(),
        context_chars=pl.col("cum_content_chars").max(),
    )
    stats: dict[str, dict[str, Any]] = {}
    for row in per_run.join(per_turns, on="run_id", how="left").iter_rows(named=True):
        stats[row["run_id"]] = {
            "events": row["events"],
            "turns": row["turns"] or 0,
            "agents": row["agents"] or [],
            **{name: row[name] for name in _COUNTED},
            "context_chars": row["context_chars"] or 0,
            "prompt_tokens": row["prompt_tokens"],
            "completion_tokens": row["completion_tokens"],
            "duration_s": round(row["span"], 3) if row["span"] else None,
            "terminated": row["terminated"],
            "termination_reason": row["termination_reason"],
            "first_line": row["first_line"],
            "last_line": row["last_line"],
        }
    return stats
