"""The short per-run summary printed to the terminal."""

from __future__ import annotations

from collections import Counter

from ..classify import LABELS
from ..cost import describe
from ..pipeline import AnalysisResult
from .inert import terminal
from .stat_rows import coverage_text


def summary_lines(result: AnalysisResult, reports: list[str]) -> list[str]:
    lines = []
    for i, run in enumerate(result.runs):
        d = run.diagnosis
        where = f" run {terminal(run.run_id)}" if len(result.runs) > 1 else ""
        lines.append(f"{terminal(result.source)}{where} [{result.format}]")
        lines.append(
            f"  verdict: {LABELS[d.label]} ({d.label}), phase {d.phase}, confidence {d.confidence:.2f}"
        )
        lines.append(f"  why: {terminal(d.summary)}")
        if d.fix:
            lines.append(f"  fix: {terminal(d.fix)}")
        if run.stats.coverage:
            lines.append(f"  coverage: {terminal(coverage_text(run.stats.coverage))}")
        if run.stats.cost:
            lines.append(f"  cost: {describe(run.stats.cost)}")
        if i < len(reports):
            lines.append(f"  report: {terminal(reports[i])}")
    if len(result.runs) > 1:  # the tally, where a long file's scroll ends
        counts = Counter(run.diagnosis.label for run in result.runs)
        tally = ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=_by_count))
        lines.append(f"{terminal(result.source)}: {len(result.runs)} runs: {tally}")
    return lines


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
