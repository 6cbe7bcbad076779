"""render_markdown(result, run) -> str: the incident-review page for one run. Pure."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ..classify import LABELS
from ..findings import Finding
from ..pipeline import AnalysisResult, RunResult
from ..redact import excerpt
from .inert import markdown as md
from .stat_rows import coverage_text, stat_rows

_TURN_HEAD, _TURN_TAIL = 12, 12


def render_markdown(
    result: AnalysisResult,
    run: RunResult,
    images: Sequence[str] = (),
    charts_note: str | None = None,
) -> str:
    """The run's report; ``charts_note`` says why a run has no charts when it was left out."""
    d = run.diagnosis
    out = [
        f"# Post-mortem: {md(result.source)}",
        "",
        f"Format **{result.format}**, run {md(run.run_id)}.",
        "",
        "| verdict | phase | confidence |",
        "| --- | --- | --- |",
        f"| **{LABELS[d.label]}** (`{d.label}`) | `{d.phase}` | {d.confidence:.2f} |",
        "",
        "## Why it stopped",
        "",
        md(d.summary),
        "",
        f"How it ended: **{md(run.ending.headline())}**: {md(run.ending.summary.rstrip('.'))}.",
        "",
        "## What to do",
        "",
        md(d.fix) if d.fix else "No specific fix.",
        "",
    ]
    out += _coverage(run)
    out += _findings(result.source, run.findings)
    out += _turns(run)
    out += _stats(run)
    if images:
        out += ["## Charts", ""]
        out += [f"![{name.rsplit('.', 2)[-2]}]({name})" for name in images]
        out.append("")
    elif charts_note:
        out += ["## Charts", "", charts_note, ""]
    return "\n".join(out)


def _findings(source: str, findings: Sequence[Finding]) -> list[str]:
    out = ["## Findings", ""]
    if not findings:
        return [*out, "No detector fired.", ""]
    for f in sorted(findings, key=lambda f: (-f.score, f.code)):
        out += [
            f"### {f.code} {f.detector} (score {f.score:.2f}, argues `{f.stall_class}`)",
            "",
            md(f.summary) + ".",
            "",
        ]
        if f.metrics:
            out += [
                md(
                    ", ".join(
                        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                        for k, v in sorted(f.metrics.items())
                    )
                ),
                "",
            ]
        if f.evidence:
            out += ["| seq | where | agent | excerpt | why |", "| --- | --- | --- | --- | --- |"]
            out += [
                f"| {e.seq} | {md(e.cite(source))} | {md(e.agent or '')} | {md(e.excerpt)} | {md(e.note)} |"
                for e in f.evidence
            ]
            out.append("")
    return out


def _turns(run: RunResult) -> list[str]:
    turns = run.turns
    out = ["## Turn timeline", ""]
    if turns.is_empty():
        return [*out, "No turns (no agent activity was logged).", ""]
    firsts = run.events.select("seq", "source_line", "kind", "subkind", "content", "tool_name")
    shown = (
        turns
        if turns.height <= _TURN_HEAD + _TURN_TAIL
        else pl.concat([turns.head(_TURN_HEAD), turns.tail(_TURN_TAIL)])
    )
    has_ts = turns["ts_start"].null_count() < turns.height
    head = "| turn | agent | line | events | what | chars | cum. chars |"
    if has_ts:
        head += " gap before |"
    out += [head, "| --- " * (head.count("|") - 1) + "|"]
    for i, t in enumerate(shown.iter_rows(named=True)):
        if turns.height > shown.height and i == _TURN_HEAD:
            out.append(
                f"| … | {turns.height - shown.height} turns omitted | | | | | |"
                + (" |" if has_ts else "")
            )
        first = firsts.row(int(t["seq_start"]), named=True)
        what = (first["tool_name"] and f"{first['kind']} {first['tool_name']}") or excerpt(
            first["content"], 70
        )
        row = (
            f"| {t['turn']} | {md(t['agent'])} | {first['source_line']} | {t['n_events']} | "
            f"{md(what)} | {t['content_chars']:,} | {t['cum_content_chars']:,} |"
        )
        if has_ts:
            gap = t["gap_before_s"]
            row += f" {gap:.1f} s |" if gap is not None else " |"
        out.append(row)
    return [*out, ""]


def _coverage(run: RunResult) -> list[str]:
    """How much of the file the verdict rests on: what was read, what was not and where."""
    coverage = run.stats.coverage
    if not coverage:
        return []
    out = ["## How much was read", "", md(coverage_text(coverage)) + ".", ""]
    if coverage["unread"]:
        out += ["| not read | count | first lines |", "| --- | --- | --- |"]
        out += [
            f"| {md(u['kind'])} | {u['count']:,} | {', '.join(map(str, u['lines']))} |"
            for u in sorted(coverage["unread"], key=lambda u: -u["count"])
        ]
        out.append("")
    return out


def _stats(run: RunResult) -> list[str]:
    out = ["## Stats", "", "| metric | value |", "| --- | --- |"]
    out += [f"| {label} | {md(text)} |" for label, text in stat_rows(run.stats.as_dict())]
    return [*out, ""]
