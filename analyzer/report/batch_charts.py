"""Batch charts: verdict distribution, context growth across runs, most repeated tools."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from matplotlib.figure import Figure

from .batch_summary import SEVERITY
from .inert import chart_label
from .plots import DPI, SIZE, _save

COLOURS = {
    "healthy": "#55a868",
    "unknown": "#999999",
    "loop": "#dd8452",
    "blocking_tool": "#c44e52",
    "input_wait": "#8172b3",
    "context_explosion": "#937860",
    "recursive_reentry": "#da8bc3",
}


def render_batch_charts(df: pl.DataFrame, out_dir: Path) -> list[Path]:
    names = ("verdicts.png", "context_growth.png", "repeated_tools.png")
    return [_save(fig, out_dir / name) for fig, name in zip(batch_figures(df), names, strict=True)]


def batch_figures(df: pl.DataFrame) -> list[Figure]:
    """Verdict distribution, context size against length, the most repeated tools."""
    return [_verdicts(df), _context(df), _tools(df)]


def _verdicts(df: pl.DataFrame) -> Figure:
    counts = (
        df.group_by("verdict")
        .len()
        .sort(pl.col("verdict").replace_strict(SEVERITY, default=9, return_dtype=pl.Int64))
    )
    fig = Figure(figsize=SIZE, dpi=DPI)
    ax = fig.add_subplot()
    names, values = counts["verdict"].to_list(), counts["len"].to_list()
    bars = ax.bar(names, values, color=[COLOURS.get(n, "#4c72b0") for n in names])
    ax.bar_label(bars)
    ax.set_ylabel("runs")
    ax.set_title(f"Verdicts over {df.height} runs", fontsize=10)
    fig.tight_layout()
    return fig


def _context(df: pl.DataFrame) -> Figure:
    fig = Figure(figsize=SIZE, dpi=DPI)
    ax = fig.add_subplot()
    for verdict, part in df.group_by("verdict", maintain_order=True):
        ax.scatter(
            part["turns"],
            part["context_chars"],
            s=18,
            alpha=0.7,
            label=chart_label(verdict[0]),
            color=COLOURS.get(str(verdict[0]), "#4c72b0"),
        )
    ax.set_xlabel("turns in the run")
    ax.set_ylabel("conversation size at the end (chars)")
    ax.set_yscale("symlog")
    if df.height:
        ax.legend(fontsize=8, frameon=False)
    ax.set_title("Context size against length, per run", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _tools(df: pl.DataFrame) -> Figure:
    tools = (
        df.filter(pl.col("repeated_tool").is_not_null())
        .group_by("repeated_tool")
        .agg(calls=pl.col("repeat_count").sum(), runs=pl.len())
        .sort("calls", descending=True)
        .head(12)
    )
    fig = Figure(figsize=SIZE, dpi=DPI)
    ax = fig.add_subplot()
    if tools.height:
        labels = [
            f"{chart_label(t)} ({r} runs)"
            for t, r in zip(tools["repeated_tool"], tools["runs"], strict=True)
        ]
        ax.barh(labels, tools["calls"].to_list(), color="#dd8452", height=0.6)
        ax.invert_yaxis()
        ax.set_xlabel("repeated calls (same arguments) in looping runs")
    else:
        ax.text(
            0.5, 0.5, "no repeated tool calls", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
    ax.set_title("Most repeated tools", fontsize=10)
    fig.tight_layout()
    return fig
