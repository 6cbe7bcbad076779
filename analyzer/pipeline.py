"""analyze_file(path) -> AnalysisResult: parse -> timeline -> detect -> classify, per run."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from .classify import classify, limit_worked
from .config import DEFAULT, Thresholds
from .cost import PRICES, Price, run_costs
from .detectors import UNPARSED_CODE, Detector, run_detectors, selected
from .ending import RunEnding, find_endings
from .errors import display_path
from .fastpaths import declare, fell_back, take
from .findings import STALL_CLASSES, Diagnosis, Evidence, Finding, RunStats
from .formats import parse_log
from .formats.base import Coverage, ParsedLog, Skipped
from .repetition import message_rows, scan
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
    stats: RunStats
    ending: RunEnding
    repeats: pl.DataFrame
    """Each message's closest earlier one (``repetition.scan``): LOOP02's and the chart's."""


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """One input file's analysis: one or more runs."""

    source: str
    format: str
    family: str
    runs: tuple[RunResult, ...]
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True)
class _Log:
    """A parsed input file, before analysis."""

    source: str
    format: str
    family: str
    parsed: ParsedLog


# Logs larger than this (in events) are analysed alone, and a shared table is analysed once
# it holds more: sharing only pays off on small logs, and a shared table is a copy of its parts.
SHARED_MAX_EVENTS = 20_000
SHARED_TABLES = declare("shared-tables", 0, "logs", "small logs analysed in one table")
_TAG = "\x1f"  # between a file's index and its run id in a shared table


def analyze_file(
    path: Path | str,
    cfg: Thresholds = DEFAULT,
    fmt: str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    display_name: str | None = None,
    prices: Mapping[str, Price] = PRICES,
    log_format: str | None = None,
) -> AnalysisResult:
    """Analyse one log file. Raises ``AnalyzerError`` (message starts with the path) on bad input.
    ``prices``: USD per million tokens by model, for calls whose cost was not logged;
    ``log_format``: the logging format string of a text log (see ``parse_log``)."""
    path = Path(path)
    log = _read(path, fmt, display_name or display_path(path), log_format)
    return _analyze([log], cfg, selected(select, ignore), prices)[0]


def analyze_parsed(
    path: Path | str,
    fmt: str,
    parsed: ParsedLog,
    cfg: Thresholds = DEFAULT,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    prices: Mapping[str, Price] = PRICES,
) -> AnalysisResult:
    """``analyze_file`` of a log already parsed (as ``watch`` parses a growing one)."""
    from .formats import FORMATS_BY_NAME

    log = _Log(display_path(path), fmt, parsed.family or FORMATS_BY_NAME[fmt].family, parsed)
    return _analyze([log], cfg, selected(select, ignore), prices)[0]


def analyze_files(
    paths: Sequence[Path | str],
    cfg: Thresholds = DEFAULT,
    fmt: str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    prices: Mapping[str, Price] = PRICES,
    log_format: str | None = None,
) -> list[AnalysisResult | Exception]:
    """``analyze_file`` of each path (or the exception it raised), in order; see
    ``iter_analyses``."""
    done = dict(iter_analyses(paths, cfg, fmt, select, ignore, prices, log_format))
    return [done[i] for i in range(len(paths))]


def iter_analyses(
    paths: Sequence[Path | str],
    cfg: Thresholds = DEFAULT,
    fmt: str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    prices: Mapping[str, Price] = PRICES,
    log_format: str | None = None,
) -> Iterator[tuple[int, AnalysisResult | Exception]]:
    """(index in ``paths``, ``analyze_file``'s result or the exception it raised) for each
    path, with the analysis stages run once over the small logs of a framework family.

    Every stage costs a few polars queries whatever the table's size (~20 ms a file in all),
    which is most of the time a small log takes. Each file's run ids are tagged in the shared
    table, so its runs stay apart exactly as the runs of one multi-run file do, and each
    result equals ``analyze_file``'s. If a shared stage fails, the files are done one by one.
    Results come as soon as they are ready, so a caller that writes them out holds few: a
    large log's right after it is read, small ones' when their table is full or at the end.
    """
    detectors = selected(select, ignore)
    shared: dict[str, list[tuple[int, _Log]]] = {}  # per family: the logs read, not analysed
    held: dict[str, int] = {}  # per family: their events
    for i, path in enumerate(paths):
        try:
            log = _read(Path(path), fmt, display_path(path), log_format)
        except Exception as exc:
            yield i, exc
            continue
        if len(log.parsed.events) > SHARED_MAX_EVENTS or not take(SHARED_TABLES, 1):
            yield i, _analyze_or_error(log, cfg, detectors, prices)
            del log  # before reading the next file: two large logs never held at once
            continue
        shared.setdefault(log.family, []).append((i, log))
        held[log.family] = held.get(log.family, 0) + len(log.parsed.events)
        if held[log.family] > SHARED_MAX_EVENTS:
            held.pop(log.family)
            yield from _analyze_together(shared.pop(log.family), cfg, detectors, prices)
    for group in shared.values():
        yield from _analyze_together(group, cfg, detectors, prices)


def _analyze_together(
    members: list[tuple[int, _Log]],
    cfg: Thresholds,
    detectors: Collection[type[Detector]],
    prices: Mapping[str, Price],
) -> Iterator[tuple[int, AnalysisResult | Exception]]:
    results: list[AnalysisResult | Exception]
    try:
        results = list(_analyze([log for _, log in members], cfg, detectors, prices))
    except Exception as exc:
        fell_back(SHARED_TABLES, repr(exc))
        results = [_analyze_or_error(log, cfg, detectors, prices) for _, log in members]
    yield from ((i, result) for (i, _), result in zip(members, results, strict=True))


def _read(path: Path, fmt: str | None, source: str, log_format: str | None = None) -> _Log:
    chosen, parsed = parse_log(path, fmt, log_format)
    return _Log(source, chosen.name, parsed.family or chosen.family, parsed)


def _analyze_or_error(
    log: _Log, cfg: Thresholds, detectors: Collection[type[Detector]], prices: Mapping[str, Price]
) -> AnalysisResult | Exception:
    try:
        return _analyze([log], cfg, detectors, prices)[0]
    except Exception as exc:
        return exc


def _analyze(
    logs: Sequence[_Log],
    cfg: Thresholds,
    detectors: Collection[type[Detector]],
    prices: Mapping[str, Price] = PRICES,
) -> list[AnalysisResult]:
    """Timeline, detectors, verdicts and stats for logs of one family, as one table."""
    tagged = len(logs) > 1
    events = (
        pl.concat(
            (
                log.parsed.events.with_columns(
                    (pl.lit(f"{k}{_TAG}") + pl.col("run_id")).alias("run_id")
                )
                for k, log in enumerate(logs)
            ),
            rechunk=True,  # one chunk per column, not one per file: every stage queries it
        )
        if tagged
        else logs[0].parsed.events
    )
    validate_events(events)
    # Every stage sees all runs at once (vectorised over run_id), so a file of many short
    # runs costs a few queries per stage, not a few per run.
    turns = build_turns(events)
    endings = find_endings(events)
    repeats = scan(message_rows(events), cfg)  # once: LOOP02 and the repetition chart read it
    found = run_detectors(events, cfg, logs[0].family, detectors, endings, repeats)
    stats = run_stats(events, turns)
    turns_of = frames_by_run(turns)
    repeats_of = frames_by_run(repeats)
    verdicts: dict[str, Diagnosis] = {}
    for run_id in stats:
        k = _untag(run_id)[0] if tagged else 0
        if logs[k].parsed.skipped:
            found[run_id].insert(0, _unparsed(logs[k].parsed.skipped))
        verdicts[run_id] = classify(
            found[run_id], logs[k].source, cfg, logs[k].parsed.coverage, endings[run_id]
        )
    costs = run_costs(events, {r: _stall_start(found[r], d) for r, d in verdicts.items()}, prices)
    runs: list[list[RunResult]] = [[] for _ in logs]
    for run_id, run_events in frames_by_run(events).items():
        k, own_id = _untag(run_id) if tagged else (0, run_id)
        run_turns = turns_of.get(run_id, turns.clear())
        run_repeats = repeats_of.get(run_id, repeats.clear())
        if tagged:
            run_events = run_events.with_columns(run_id=pl.lit(own_id))
            run_turns = run_turns.with_columns(run_id=pl.lit(own_id))
            run_repeats = run_repeats.with_columns(run_id=pl.lit(own_id))
        own = replace(
            stats[run_id],
            cost=costs.get(run_id),
            coverage=coverage_stats(logs[k].parsed.coverage),
        )
        verdicts[run_id] = limit_worked(
            verdicts[run_id],
            endings[run_id],
            own.turns,
            (own.prompt_tokens or 0) + (own.completion_tokens or 0),
        )
        runs[k].append(
            RunResult(
                str(own_id),
                run_events,
                run_turns,
                tuple(found[run_id]),
                verdicts[run_id],
                own,
                endings[run_id],
                run_repeats,
            )
        )
    return [
        AnalysisResult(log.source, log.format, log.family, tuple(own), log.parsed.skipped)
        for log, own in zip(logs, runs, strict=True)
    ]


def _stall_start(findings: Sequence[Finding], diagnosis: Diagnosis) -> int | None:
    """Where a run's stall began: the first evidence of the findings its verdict rests on."""
    if diagnosis.label not in STALL_CLASSES:
        return None
    seqs = [e.seq for f in diagnosis.rests_on(findings) for e in f.evidence]
    return min(seqs) if seqs else None


def _untag(run_id: str) -> tuple[int, str]:
    k, own_id = run_id.split(_TAG, 1)
    return int(k), own_id


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


def coverage_stats(coverage: Coverage | None) -> dict[str, Any] | None:
    """``stats.coverage``: how much of the file the parser understood (plain JSON types)."""
    if coverage is None:
        return None
    return {
        "unit": coverage.unit,
        "total": coverage.total,
        "read": coverage.read,
        "share": round(coverage.fraction, 4),
        "unread": [
            {"kind": u.kind, "count": u.count, "lines": list(u.lines)} for u in coverage.unread
        ],
    }


_COUNTED = {
    "messages": "message",
    "tool_calls": "tool_call",
    "tool_results": "tool_result",
    "llm_calls": "llm_call",
    "input_requests": "input_request",
    "errors": "error",
}


def run_stats(events: pl.DataFrame, turns: pl.DataFrame) -> dict[str, RunStats]:
    """Per run id: counts and totals for the report and the batch summary."""
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
    stats: dict[str, RunStats] = {}
    for row in per_run.join(per_turns, on="run_id", how="left").iter_rows(named=True):
        stats[row["run_id"]] = RunStats(
            events=row["events"],
            turns=row["turns"] or 0,
            agents=tuple(row["agents"] or ()),
            **{name: row[name] for name in _COUNTED},
            context_chars=row["context_chars"] or 0,
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            duration_s=round(row["span"], 3) if row["span"] else None,
            terminated=row["terminated"],
            termination_reason=row["termination_reason"],
            first_line=row["first_line"],
            last_line=row["last_line"],
        )
    return stats
