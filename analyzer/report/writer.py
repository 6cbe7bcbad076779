"""Write one file's reports (Markdown + PNGs per run) into a directory, atomically."""

from __future__ import annotations

from pathlib import Path

from ..config import CHARTED_RUNS, DEFAULT, Thresholds
from ..pipeline import AnalysisResult
from .atomic import atomic_write_text
from .batch_summary import SEVERITY
from .markdown import render_markdown
from .names import report_stem


def write_reports(
    result: AnalysisResult,
    out_dir: Path,
    cfg: Thresholds = DEFAULT,
    charted: int | None = CHARTED_RUNS,
    html: bool = False,
) -> list[Path]:
    """Returns the Markdown paths, one per run. ``charted``: how many of the file's runs get
    charts, worst first (None: every run). ``html``: a self-contained page beside each."""
    # Charts cost ~0.45 s a run (three figures): a production log of 900 team runs would
    # spend seven minutes drawing. matplotlib is imported only when something is drawn.
    from .html import render_html
    from .plots import chart_paths, chart_svgs, render_plots

    drawn = _worst_runs(result, charted)
    written = []
    for i, run in enumerate(result.runs):
        stem = report_stem(result.source, i, len(result.runs))
        images, note = [], None
        if i in drawn:
            images = render_plots(run, out_dir, stem, cfg)
        else:
            for stale in chart_paths(out_dir, stem):  # from an earlier `--charts all`
                stale.unlink(missing_ok=True)
            note = (
                f"Not drawn: charts are drawn for the {len(drawn)} worst of this file's "
                f"{len(result.runs)} runs (`--charts all` draws them for every run)."
                if drawn
                else "Not drawn (`--charts none`)."
            )
        md = out_dir / f"{stem}.md"
        atomic_write_text(md, render_markdown(result, run, [p.name for p in images], note))
        written.append(md)
        if html:
            svgs = chart_svgs(run, stem, cfg) if i in drawn else []
            atomic_write_text(out_dir / f"{stem}.html", render_html(result, run, svgs, note))
    return written


def _worst_runs(result: AnalysisResult, limit: int | None) -> set[int]:
    """Indexes of the ``limit`` worst runs: a stall before unknown before healthy, then the
    more confident verdict, then file order."""
    order = sorted(
        range(len(result.runs)),
        key=lambda i: (
            SEVERITY.get(result.runs[i].diagnosis.label, len(SEVERITY)),
            -result.runs[i].diagnosis.confidence,
            i,
        ),
    )
    return set(order if limit is None else order[:limit])
