"""The batch summary: one typed row per run (parquet/csv/JSON lines) and index.md. Pure."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..classify import LABELS
from ..redact import excerpt
from .inert import markdown as md

SUMMARY_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "format": pl.String,
        "run_id": pl.String,
        "verdict": pl.String,
        "phase": pl.String,
        "confidence": pl.Float64,
        "agents": pl.String,
        "n_agents": pl.Int64,
        "turns": pl.Int64,
        "messages": pl.Int64,
        "tool_calls": pl.Int64,
        "llm_calls": pl.Int64,
        "prompt_tokens": pl.Int64,
        "completion_tokens": pl.Int64,
        "duration_s": pl.Float64,
        "context_chars": pl.Int64,
        "top_code": pl.String,
        "top_finding": pl.String,
        "repeated_tool": pl.String,
        "repeat_count": pl.Int64,
        "report": pl.String,
        "content_hash": pl.String,
        "fix": pl.String,
        "evidence": pl.String,
        "cost_usd": pl.Float64,
        "stall_cost_usd": pl.Float64,
        "coverage": pl.Float64,
        "read": pl.String,
    }
)
# Worst first: a stall beats an error beats unknown beats healthy; then confidence.
SEVERITY = {
    "context_explosion": 0,
    "recursive_reentry": 1,
    "blocking_tool": 2,
    "blocking_model": 3,
    "input_wait": 4,
    "loop": 5,
    "error": 6,
    "unknown": 7,
    "healthy": 8,
}


def summary_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    df = (
        pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=SUMMARY_SCHEMA)
    )
    return df.sort(["source", "run_id"])


def worst_first(df: pl.DataFrame) -> pl.DataFrame:
    return (
        df.with_columns(
            _rank=pl.col("verdict").replace_strict(SEVERITY, default=9, return_dtype=pl.Int64)
        )
        .sort(["_rank", "confidence", "source"], descending=[False, True, False])
        .drop("_rank")
    )


def _spend(df: pl.DataFrame) -> str:
    priced = df.filter(pl.col("cost_usd").is_not_null())
    if not priced.height:
        return "Cost: no run logged a priced model call."
    total, stalled = priced["cost_usd"].sum(), priced["stall_cost_usd"].fill_null(0).sum()
    return (
        f"Cost: ${total:,.4f} over {priced.height} run(s) with priced model calls; "
        f"${stalled:,.4f} of it inside stalls."
    )


def render_index(
    df: pl.DataFrame,
    errors: list[tuple[str, str]],
    skipped: list[tuple[str, str]],
    charts: list[str],
    limit: int = 200,
) -> str:
    out = [
        "# Batch post-mortem",
        "",
        f"{df.height} run(s) from {df['source'].n_unique()} file(s); "
        f"{len(errors)} file(s) failed; {len(skipped)} skipped (not AutoGen logs).",
        "",
        _spend(df),
        "",
        "## Verdicts",
        "",
        "| verdict | runs | share |",
        "| --- | --- | --- |",
    ]
    counts = df.group_by("verdict").len().sort("len", descending=True)
    for verdict, n in counts.iter_rows():
        out.append(
            f"| {LABELS.get(verdict, verdict)} (`{verdict}`) | {n} | {n / max(df.height, 1):.0%} |"
        )
    out += [
        "",
        f"## Worst runs first (top {min(limit, df.height)})",
        "",
        "| verdict | confidence | phase | source | run | top finding |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in worst_first(df).head(limit).iter_rows(named=True):
        link = f"[{md(row['source'])}]({row['report']})" if row["report"] else md(row["source"])
        finding = md(excerpt(row["top_finding"] or "", 100))
        out.append(
            f"| {row['verdict']} | {row['confidence']:.2f} | {row['phase']} | {link} | "
            f"{md(row['run_id'][:12])} | {finding} |"
        )
    if errors:
        out += ["", "## Files that could not be analysed", "", "| file | reason |", "| --- | --- |"]
        out += [f"| {md(src)} | {md(msg)} |" for src, msg in errors]
    if skipped:
        out += ["", "## Skipped", "", "| file | reason |", "| --- | --- |"]
        out += [f"| {md(src)} | {md(why)} |" for src, why in skipped]
    if charts:
        out += ["", "## Charts", ""] + [f"![{c.split('.')[0]}]({c})" for c in charts]
    return "\n".join(out) + "\n"
