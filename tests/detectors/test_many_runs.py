"""Detectors, turns and stats see every run of a file at once; no run may leak into another.

All sample logs and every detector's defect cases are put into one event table, their rows
interleaved (as concurrent teams log), and every run's findings, turns and stats must equal
those of the run analysed alone.
"""

from __future__ import annotations

import polars as pl
import pytest

from analyzer.config import DEFAULT
from analyzer.detectors import run_detectors
from analyzer.formats import parse_log
from analyzer.pipeline import run_stats
from analyzer.timeline import build_turns

from ..conftest import labelled_samples, make_events
from .cases import every_case


@pytest.fixture(scope="module")
def interleaved() -> pl.DataFrame:
    return interleaved_runs()


def interleaved_runs() -> pl.DataFrame:
    frames = []
    for i, (path, _) in enumerate(labelled_samples()):
        events = parse_log(path)[1].events
        frames.append(events.with_columns(run_id=pl.lit(f"{i:03d}:") + pl.col("run_id")))
    for code, case, rows, _ in every_case():
        frames.append(make_events(*rows).with_columns(run_id=pl.lit(f"{code} {case}")))
    # Sorting on seq alone (stable) deals the runs' rows out one by one.
    return pl.concat(frames).sort("seq", maintain_order=True)


def test_the_table_really_interleaves_many_runs(interleaved: pl.DataFrame) -> None:
    runs = interleaved["run_id"]
    assert runs.n_unique() >= 20
    assert (runs != runs.shift(1)).sum() > interleaved.height / 2


def test_runs_analysed_together_equal_runs_analysed_alone(interleaved: pl.DataFrame) -> None:
    together = run_detectors(interleaved, DEFAULT, "agentchat")
    turns = build_turns(interleaved)
    stats = run_stats(interleaved, turns)
    fired = 0
    for (run_id,), alone in interleaved.partition_by("run_id", as_dict=True).items():
        alone_turns = build_turns(alone)
        assert together[run_id] == run_detectors(alone, DEFAULT, "agentchat")[run_id], run_id
        assert turns.filter(pl.col("run_id") == run_id).equals(alone_turns), run_id
        assert stats[run_id] == run_stats(alone, alone_turns)[run_id], run_id
        fired += sum(f.code != "RUN01" for f in together[run_id])
    assert fired >= 60  # the comparison covers findings of every detector, not empty lists
