"""What holds for every detector: silent on every healthy sample, a crash reported as AZ99
on the runs it hits, evidence rows fetched in order. Each detector's own cases (fires here,
silent there) are in its test module, ``test_<detector module>.py``."""

from __future__ import annotations

import polars as pl
import pytest

from analyzer.config import DEFAULT
from analyzer.detectors import run_detectors
from analyzer.detectors.base import rows_of

from ..conftest import SAMPLES, make_events, msg
from .cases import BY_CODE, polling

HEALTHY = sorted(
    p
    for p in SAMPLES.glob("classic/healthy_*/*")
    if p.name in ("console.txt", "runtime.log", "logs.db", "events.jsonl")
)


@pytest.mark.parametrize("path", HEALTHY, ids=[str(p.relative_to(SAMPLES)) for p in HEALTHY])
def test_no_stall_detector_fires_on_healthy_runs(path) -> None:
    from analyzer import analyze_file

    run = analyze_file(path).runs[0]
    assert {f.code for f in run.findings} <= {"RUN01", "LOOP05"}


def test_a_crashing_detector_becomes_az99() -> None:
    class Broken(BY_CODE["LOOP01"]):  # type: ignore[misc, valid-type, name-defined]
        name = "broken"

        def check(self, events, cfg):
            raise RuntimeError("boom")

    events = make_events(*polling(4))
    found = run_detectors(events, DEFAULT, "classic", [Broken, BY_CODE["LOOP02"]])
    assert [f.code for f in found[events["run_id"][0]]] == ["AZ99"]
    assert "broken crashed: RuntimeError('boom')" in found[events["run_id"][0]][0].summary


def test_a_crash_on_one_run_spares_the_other_runs() -> None:
    class Fragile(BY_CODE["LOOP01"]):  # type: ignore[misc, valid-type, name-defined]
        name = "fragile"

        def check(self, events, cfg):
            if (events["content"] == "poison").any():
                raise ValueError("poisoned")
            return super().check(events, cfg)

    good = make_events(*polling(4)).with_columns(run_id=pl.lit("good"))
    bad = make_events(*polling(4), msg("u", "poison")).with_columns(run_id=pl.lit("bad"))
    found = run_detectors(pl.concat([good, bad]), DEFAULT, "classic", [Fragile])
    assert [f.code for f in found["good"]] == ["LOOP01"]
    assert [f.code for f in found["bad"]] == ["AZ99"]


def test_rows_of_gives_each_findings_rows_in_its_order() -> None:
    df = pl.DataFrame({"seq": [10, 11, 12, 13, 14]})
    got = rows_of(df, [[3, 1], [], [4], [0, 0]])
    assert [[r["seq"] for r in rows] for rows in got] == [[13, 11], [], [14], [10, 10]]
