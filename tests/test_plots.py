"""Charts: real PNG files, and the series they plot."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze_file
from analyzer.config import DEFAULT
from analyzer.report.plots import context_series, render_plots, repetition_series, timeline_points

from .conftest import SAMPLES


def test_pngs_are_written(tmp_path: Path) -> None:
    run = analyze_file(SAMPLES / "classic/loop_groupchat_auto/console.txt").runs[0]
    paths = render_plots(run, tmp_path, "x", DEFAULT)
    assert [p.name for p in paths] == ["x.timeline.png", "x.context.png", "x.repetition.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plotted_series() -> None:
    run = analyze_file(SAMPLES / "classic/loop_tool_repeat/runtime.log").runs[0]
    points = timeline_points(run)
    assert len(points["tool_call"]) == 9
    rep = repetition_series(run)
    assert rep["tool_count"][0] == 9 and rep["tool"][0].startswith("check_status")
    ctx = context_series(run)
    assert ctx["prompt_tokens"] == sorted(ctx["prompt_tokens"])  # the context only grows


def test_matplotlib_pyplot_is_never_imported() -> None:
    import sys

    assert "matplotlib.pyplot" not in sys.modules
