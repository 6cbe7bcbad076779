"""analyze_files: many logs analysed as one table must give exactly what each gives alone."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl
import pytest

from analyzer import pipeline
from analyzer.errors import AnalyzerError
from analyzer.pipeline import AnalysisResult, analyze_file, analyze_files

from .conftest import FIXTURES, labelled_samples


def _alone(path: Path) -> AnalysisResult | Exception:
    try:
        return analyze_file(path)
    except Exception as exc:
        return exc


def _describe(result: AnalysisResult | Exception) -> object:
    """Everything a result holds, comparable with ==."""
    if isinstance(result, Exception):
        return (type(result).__name__, str(result))
    runs = [
        (
            run.run_id,
            run.findings,
            run.diagnosis,
            run.stats,
            run.events.schema,
            run.events.rows(),
            run.turns.schema,
            run.turns.rows(),
        )
        for run in result.runs
    ]
    return (result.source, result.format, result.family, result.skipped, runs)


def _assert_same(paths: Sequence[Path], together: Sequence[AnalysisResult | Exception]) -> None:
    assert len(together) == len(paths)
    for path, result in zip(paths, together, strict=True):
        assert _describe(result) == _describe(_alone(path)), path


@pytest.fixture
def shared_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many logs each call of the analysis stages got."""
    calls: list[int] = []
    real = pipeline._analyze

    def spy(logs, cfg, detectors, prices):  # type: ignore[no-untyped-def]
        calls.append(len(logs))
        return real(logs, cfg, detectors, prices)

    monkeypatch.setattr(pipeline, "_analyze", spy)
    return calls


def test_every_sample_and_fixture_analysed_together_equals_alone(shared_calls: list[int]) -> None:
    paths = [path for path, _ in labelled_samples()] + sorted(FIXTURES.iterdir())
    together = analyze_files(paths)
    made = list(shared_calls)
    _assert_same(paths, together)
    assert any(isinstance(r, AnalyzerError) for r in together)  # the bad fixtures stay errors
    small = [
        r
        for r in together
        if isinstance(r, AnalysisResult) and _events(r) <= pipeline.SHARED_MAX_EVENTS
    ]
    families = ("classic", "agentchat", "agent_framework")
    assert {r.family for r in small} == set(families)
    # One shared table per family, plus one call per large log.
    per_family = sorted(sum(1 for r in small if r.family == f) for f in families)
    assert sorted(c for c in made if c > 1) == per_family
    assert len(made) == len(families) + (
        len(together) - len(small) - sum(isinstance(r, Exception) for r in together)
    )


def test_two_copies_of_one_log_keep_their_runs_apart(
    tmp_path: Path, shared_calls: list[int]
) -> None:
    """Copies share run ids ("default", team uuids): tagging keeps each copy's runs its own."""
    source = next(p for p, _ in labelled_samples() if p.name.endswith("events.log"))
    copies = [tmp_path / f"{i}-{source.name}" for i in range(3)]
    for copy in copies:
        shutil.copy(source, copy)
    together = analyze_files(copies)
    assert shared_calls[0] == 3
    _assert_same(copies, together)
    assert all(isinstance(r, AnalysisResult) and len(r.runs) >= 1 for r in together)


def test_a_failing_shared_stage_falls_back_to_one_file_at_a_time(
    monkeypatch: pytest.MonkeyPatch, fallbacks: Callable[[], list[str]]
) -> None:
    real = pipeline.run_detectors

    def fails_on_shared_tables(events: pl.DataFrame, *args, **kwargs):  # type: ignore[no-untyped-def]
        if events["run_id"].str.contains(pipeline._TAG, literal=True).any():
            raise RuntimeError("shared table")
        return real(events, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run_detectors", fails_on_shared_tables)
    paths = [path for path, _ in labelled_samples()][:12]
    _assert_same(paths, analyze_files(paths))
    assert fallbacks() and all("shared-tables" in m and "shared table" in m for m in fallbacks())


def test_large_logs_are_analysed_alone(
    monkeypatch: pytest.MonkeyPatch, shared_calls: list[int], tmp_path: Path
) -> None:
    monkeypatch.setattr(pipeline, "SHARED_MAX_EVENTS", 30)
    samples = [path for path, _ in labelled_samples()]
    paths = samples[:: len(samples) // 10][:10]  # spread over the set: small and large logs
    gz = tmp_path / "log.gz"
    gz.write_bytes(gzip.compress(paths[0].read_bytes()))
    paths.append(gz)
    together = analyze_files(paths)
    made = list(shared_calls)
    _assert_same(paths, together)
    big = sum(1 for r in together if isinstance(r, AnalysisResult) and _events(r) > 30)
    # every large log alone (a family's last small log may be alone too); the rest shared
    assert big and made.count(1) >= big and max(made) > 1


def _events(result: AnalysisResult) -> int:
    return sum(len(run.events) for run in result.runs)


def test_results_come_before_the_next_file_is_read_once_there_is_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large log's result (and a full shared table's) is handed over before the next file
    is read, so a batch worker that writes results out never holds two large logs."""
    paths = [path for path, _ in labelled_samples() if path.parent.parent.name == "classic"][:10]
    alone = [analyze_file(path) for path in paths]
    assert {r.family for r in alone} == {"classic"}  # one shared table at a time
    sizes = [_events(r) for r in alone]
    cap = sorted(sizes)[len(sizes) // 2]
    monkeypatch.setattr(pipeline, "SHARED_MAX_EVENTS", cap)
    order: list[tuple[str, int]] = []
    real = pipeline._read

    def spy(path: Path, fmt: str | None, source: str, log_format: str | None = None) -> object:
        order.append(("read", paths.index(path)))
        return real(path, fmt, source, log_format)

    monkeypatch.setattr(pipeline, "_read", spy)
    for i, _ in pipeline.iter_analyses(paths):
        order.append(("result", i))
    assert sorted(i for kind, i in order if kind == "result") == list(range(len(paths)))
    held, checked = 0, 0
    for i in range(len(paths) - 1):
        held = 0 if sizes[i] > cap or held + sizes[i] > cap else held + sizes[i]
        if held == 0:  # this log, or the table it filled, was analysed at once
            assert order.index(("result", i)) < order.index(("read", i + 1)), i
            checked += 1
    assert 0 < checked < len(paths) - 1
