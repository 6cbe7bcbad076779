"""Write one file's reports (Markdown + PNGs per run) into a directory, atomically."""

from __future__ import annotations

from pathlib import Path

from ..config import Thresholds
from ..pipeline import AnalysisResult
from .atomic import atomic_write_text
from .markdown import render_markdown
from .names import report_stem
from .plots import render_plots


def write_reports(result: AnalysisResult, out_dir: Path, cfg: Thresholds) -> list[Path]:
    """Returns the Markdown paths, one per run."""
    written = []
    for i, run in enumerate(result.runs):
        stem = report_stem(result.source, i, len(result.runs))
        images = render_plots(run, out_dir, stem, cfg)
        md = out_dir / f"{stem}.md"
        atomic_write_text(md, render_markdown(result, run, [p.name for p in images]))
        written.append(md)
    return written
