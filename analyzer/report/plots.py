"""PNG charts for one run, drawn with the matplotlib Figure API (never pyplot).

``timeline``: agents as lanes, events in order, tool calls/results, prompts and errors marked,
the verdict's evidence ringed and the stall point drawn. ``context``: content size (and prompt
tokens where logged) per turn. ``repetition``: each message's similarity to its closest
earlier message, and the most repeated tool calls.
"""

from __future__ import annotations

import bisect
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..classify import LABELS
from ..config import Thresholds
from ..detectors.base import progress
from ..pipeline import RunResult
from .atomic import atomic_write_bytes
from .inert import chart_label

SIZE, DPI = (11, 5.5), 110
MARKERS = {  # kind -> (marker, colour, label)
    "message": ("o", "#4c72b0", "message"),
    "tool_call": ("^", "#dd8452", "tool call"),
    "tool_result": ("v", "#55a868", "tool result"),
    "llm_call": ("|", "#8172b3", "model call"),
    "input_request": ("s", "#c44e52", "human-input prompt"),
    "error": ("X", "#c44e52", "error / traceback"),
    "termination": ("*", "#2ca02c", "termination"),
    "speaker_selected": (">", "#999999", "selected as next speaker"),
    "tool_exec_start": ("4", "#dd8452", "tool execution started"),
}


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    atomic_write_bytes(path, buf.getvalue())
    return path


def svg(fig: Figure) -> str:
    """The figure as an inline SVG element: text drawn as paths (so no log text is markup in
    the page), no date or tool stamp (the same run draws the same bytes)."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": "autogen-postmortem"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def lanes(run: RunResult) -> list[str]:
    """Agents in order of first appearance, then lanes only some event names (a prompt that
    names whom it answers, an agent that never speaks); unattributed events go last."""
    seen = dict.fromkeys(
        _lane(r)
        for r in run.events.select("agent", "recipient", "subkind").iter_rows(named=True)
        if r["agent"] or r["subkind"] == "speaker_selected"
    )
    seen.pop("(run)", None)
    used = dict.fromkeys(
        lane for _, lane in sorted(p for pts in timeline_points(run).values() for p in pts)
    )
    seen.update((lane, None) for lane in used if lane != "(run)")
    return [*seen, "(run)"] if "(run)" in used or not seen else list(seen)


def _lane(row: dict) -> str:
    if row["subkind"] == "speaker_selected":
        return row["recipient"] or "(run)"
    return row["agent"] or row["recipient"] or "(run)"


def timeline_points(run: RunResult) -> dict[str, list[tuple[int, str]]]:
    """kind -> [(seq, lane)]: the series the timeline draws (tested directly)."""
    points: dict[str, list[tuple[int, str]]] = {}
    for row in run.events.select("seq", "kind", "agent", "recipient", "subkind").iter_rows(
        named=True
    ):
        kind = row["subkind"] if row["subkind"] in MARKERS else str(row["kind"])
        if kind not in MARKERS:
            continue
        lane = _lane(row)
        points.setdefault(kind, []).append((row["seq"], lane))
    return points


def render_timeline(run: RunResult, path: Path, title: str) -> Path:
    return _save(timeline_figure(run, title), path)


def _clock(run: RunResult) -> Callable[[int], Any] | None:
    """seq -> time where the log has clocks (events without one take the last time before
    them), so a silence shows as a gap; None where it has none."""
    ts = run.events["ts"]
    if ts.null_count() == len(ts):
        return None
    times = ts.fill_null(strategy="forward").fill_null(strategy="backward").to_list()
    return lambda seq: times[min(max(seq, 0), len(times) - 1)]


def timeline_figure(run: RunResult, title: str) -> Figure:
    names = lanes(run)
    at = _clock(run)
    x: Callable[[int], Any] = at or (lambda seq: seq)
    y = {name: i for i, name in enumerate(names)}
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    for kind, pts in timeline_points(run).items():
        marker, colour, label = MARKERS[kind]
        ax.scatter(
            [x(s) for s, _ in pts],
            [y[a] for _, a in pts],
            marker=marker,
            c=colour,
            s=36 if kind != "llm_call" else 60,
            label=label,
            zorder=3,
            alpha=0.85,
        )
    cited = sorted(
        {e.seq for f in run.findings if f.code in run.diagnosis.because for e in f.evidence}
    )
    if cited:
        lane_of = {
            r["seq"]: _lane(r)
            for r in run.events.select("seq", "agent", "recipient", "subkind").iter_rows(named=True)
        }
        ax.scatter(
            [x(s) for s in cited],
            [y.get(lane_of[s], y.get("(run)", 0)) for s in cited],
            s=180,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=1.6,
            zorder=4,
            label="evidence",
        )
    last = progress(run.events)  # the same notion of "activity" the detectors use
    if last.height and run.diagnosis.label not in ("healthy",):
        stall = int(last["seq"].max())  # type: ignore[arg-type]
        ax.axvline(x(stall), color="#d62728", linestyle="--", linewidth=1)
        ax.annotate(
            "last activity", (x(stall), len(names) - 0.5), color="#d62728", ha="right", fontsize=8
        )
    ax.set_yticks(range(len(names)), [chart_label(n) for n in names])
    ax.set_ylim(-0.7, len(names) - 0.3)
    if at is None:
        ax.set_xlabel("event order (seq)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.set_xlabel("time (UTC, as logged)")
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_title(
        f"{chart_label(title, 80)}: {LABELS[run.diagnosis.label]} ({run.diagnosis.phase}, "
        f"confidence {run.diagnosis.confidence:.2f})",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def context_series(run: RunResult) -> dict[str, list[float]]:
    """Cumulative characters per turn, and prompt tokens per model call where logged."""
    out = {
        "turn": run.turns["turn"].cast(pl.Float64).to_list(),
        "cum_chars": run.turns["cum_content_chars"].cast(pl.Float64).to_list(),
    }
    calls = run.events.filter(
        (pl.col("kind") == "llm_call") & pl.col("prompt_tokens").is_not_null()
    )
    out["call_seq"] = calls["seq"].cast(pl.Float64).to_list()
    out["prompt_tokens"] = calls["prompt_tokens"].cast(pl.Float64).to_list()
    return out


def render_context(run: RunResult, path: Path, title: str) -> Path:
    return _save(context_figure(run, title), path)


def context_figure(run: RunResult, title: str) -> Figure:
    s = context_series(run)
    fig = Figure(figsize=SIZE)
    ax = fig.add_subplot()
    ax.plot(
        s["turn"],
        s["cum_chars"],
        color="#4c72b0",
        marker=".",
        label="conversation size (chars, cumulative)",
    )
    ax.set_xlabel("turn")
    ax.set_ylabel("characters", color="#4c72b0")
    if s["prompt_tokens"]:
        ax2 = ax.twinx()
        turn_of = _turn_of_seq(run)
        ax2.plot(
            [turn_of(q) for q in s["call_seq"]],
            s["prompt_tokens"],
            color="#c44e52",
            marker="o",
            linestyle="-",
            alpha=0.8,
            label="prompt tokens per model call",
        )
        ax2.set_ylabel("prompt tokens", color="#c44e52")
        ax2.legend(loc="upper left", bbox_to_anchor=(0, 0.9), fontsize=8, frameon=False)
    if s["turn"] or s["prompt_tokens"]:
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    else:  # agents that only exchange direct messages: no axes of made-up numbers
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "no messages or model calls to size",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.grid(alpha=0.3)
    ax.set_title(f"{chart_label(title, 80)}: context growth", fontsize=10)
    fig.tight_layout()
    return fig


def _turn_of_seq(run: RunResult) -> Callable[[float], int]:
    starts = run.turns["seq_start"].to_list()
    return lambda seq: max(0, bisect.bisect_right(starts, seq) - 1)


def repetition_series(run: RunResult) -> dict[str, list]:
    """Per message: seq, agent, best similarity to an earlier one; and tool-call counts."""
    found = run.repeats
    calls = run.events.filter(pl.col("kind") == "tool_call")
    counts = Counter(
        chart_label(f"{n}({a or ''})", 48)
        for n, a in zip(calls["tool_name"].to_list(), calls["tool_args"].to_list(), strict=False)
    )
    top = counts.most_common(8)
    return {
        "seq": found["seq"].to_list(),
        "agent": found["agent"].to_list(),
        "similarity": found["similarity"].to_list(),
        "tool": [t for t, _ in top],
        "tool_count": [c for _, c in top],
    }


def render_repetition(run: RunResult, path: Path, title: str, cfg: Thresholds) -> Path:
    return _save(repetition_figure(run, title, cfg), path)


def repetition_figure(run: RunResult, title: str, cfg: Thresholds) -> Figure:
    s = repetition_series(run)
    fig = Figure(figsize=SIZE)
    if s["tool"]:  # a run with no tool calls gets no empty panel for them
        ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    else:
        ax, bx = fig.subplots(1, 1), None
    for agent in dict.fromkeys(s["agent"]):
        idx = [i for i, a in enumerate(s["agent"]) if a == agent]
        ax.scatter(
            [s["seq"][i] for i in idx],
            [s["similarity"][i] for i in idx],
            label=chart_label(agent or "?"),
            s=22,
        )
    ax.axhline(cfg.similarity, color="#d62728", linestyle="--", linewidth=1)
    ax.annotate(
        f"near-duplicate ({cfg.similarity:g}%)",
        (0, cfg.similarity + 1),
        fontsize=8,
        color="#d62728",
    )
    ax.set_ylim(-5, 105)
    ax.set_xlabel("event order (seq)")
    ax.set_ylabel("similarity to closest earlier message (%)")
    if s["seq"]:
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.text(
            0.5, 0.5, "no messages to compare", ha="center", va="center", transform=ax.transAxes
        )
    ax.grid(alpha=0.3)
    if bx is not None:
        bars = bx.barh(range(len(s["tool"])), s["tool_count"], color="#dd8452", height=0.6)
        bx.bar_label(bars, fontsize=7, padding=2)
        # Room for eight bars whatever the count, so one repeated tool is not one slab.
        bx.set_ylim(-0.75, max(len(s["tool"]), 8) - 0.25)
        bx.set_xlim(0, max(s["tool_count"]) * 1.15)
        bx.xaxis.set_major_locator(MaxNLocator(integer=True))
        bx.set_yticks(range(len(s["tool"])), s["tool"], fontsize=7)
        bx.invert_yaxis()
        bx.set_xlabel("calls with these exact arguments")
    fig.suptitle(f"{chart_label(title, 80)}: repetition", fontsize=10)
    fig.tight_layout()
    return fig


def chart_paths(out_dir: Path, stem: str) -> tuple[Path, Path, Path]:
    """Where the charts of the report ``stem`` go: timeline, context, repetition."""
    return (
        out_dir / f"{stem}.timeline.png",
        out_dir / f"{stem}.context.png",
        out_dir / f"{stem}.repetition.png",
    )


def chart_svgs(run: RunResult, title: str, cfg: Thresholds) -> list[str]:
    """The three charts as inline SVG, for the HTML report."""
    return [
        svg(timeline_figure(run, title)),
        svg(context_figure(run, title)),
        svg(repetition_figure(run, title, cfg)),
    ]


def render_plots(run: RunResult, out_dir: Path, stem: str, cfg: Thresholds) -> list[Path]:
    timeline, context, repetition = chart_paths(out_dir, stem)
    return [
        render_timeline(run, timeline, stem),
        render_context(run, context, stem),
        render_repetition(run, repetition, stem, cfg),
    ]
