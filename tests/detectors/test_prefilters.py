"""A detector's polars prefilter only saves work: with it, every run gets exactly the findings
the detector's Python walk gives over all rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

from analyzer import fastpaths
from analyzer.config import DEFAULT
from analyzer.detectors import reentrant_tool_call, slow_tool_call
from analyzer.detectors.base import TOOL_TRAFFIC, Detector
from analyzer.detectors.reentrant_tool_call import ReentrantToolCall
from analyzer.detectors.slow_tool_call import SlowToolCall
from analyzer.formats import parse_log

from ..conftest import SAMPLES, call, make_events, msg, result
from .test_many_runs import interleaved_runs


def timed_tool_runs() -> pl.DataFrame:
    """Runs of timed calls: one slow outlier, all slow, all fast, a call id reused (its first
    answer fast, the third slow), an answer timed before its call; interleaved."""
    runs = {  # (call id, seconds to the answer) per call
        "outlier": [(0, 1), (1, 1), (2, 300), (3, 1)],
        "all slow": [(0, 200), (1, 300), (2, 250)],
        "fast": [(0, 1), (1, 2), (2, 1)],
        "just slow enough": [(0, 1), (1, 1), (2, DEFAULT.slow_tool_s), (3, 1)],
        "reused id": [(0, 1), (0, 1), (0, 400), (1, 1), (2, 1)],
        "answer first": [(0, -500), (1, 1), (2, 1), (3, 1)],
    }
    frames = []
    for name, calls in runs.items():
        rows = []
        for i, (cid, gap) in enumerate(calls):
            rows += [
                call("a", "q", f'{{"i": {i}}}', f"call_{cid}", "u") | {"at": i * 1000},
                result("u", f"call_{cid}", "ok") | {"at": i * 1000 + gap},
            ]
        frames.append(make_events(*rows).with_columns(run_id=pl.lit(name)))
    return pl.concat(frames).sort("seq", maintain_order=True)


def nesting_runs() -> pl.DataFrame:
    """Runs with each sign of re-entry alone, and their look-alikes; interleaved."""

    def start(tool: str) -> dict[str, Any]:
        return {"kind": "other", "subkind": "tool_exec_start", "tool_name": tool}

    def end(tool: str) -> dict[str, Any]:
        return {"kind": "other", "subkind": "tool_exec_end", "tool_name": tool}

    runs = {
        "execution inside execution": [start("a"), start("b"), end("b"), end("a")],
        "executions one after another": [start("a"), end("a"), start("b"), end("b")],
        "same tool while unanswered": [
            call("p", "q", "{}", "c1"),
            call("p", "q", "{}", "c2"),
            result("p", "c2", "ok"),
            result("p", "c1", "ok"),
        ],
        "parallel calls of one message": [
            call("p", "q", "{}", "c1") | {"line": 1},
            call("p", "q", "{}", "c2") | {"line": 1},
            result("p", "c1", "ok"),
            result("p", "c2", "ok"),
        ],
        "same tool after its answer": [
            call("p", "q", "{}", "c1"),
            result("p", "c1", "ok"),
            call("p", "q", "{}", "c2"),
            result("p", "c2", "ok"),
        ],
        "executor speaks while its call is open": [
            call("p", "q", "{}", "c1", "u"),
            msg("u", "Sub-task: do it again"),
            result("u", "c1", "ok"),
        ],
        "executor speaks after the answer": [
            call("p", "q", "{}", "c1", "u"),
            result("u", "c1", "ok"),
            msg("u", "Done."),
        ],
    }
    frames = [make_events(*rows).with_columns(run_id=pl.lit(name)) for name, rows in runs.items()]
    return pl.concat([*frames, interleaved_runs()]).sort("seq", maintain_order=True)


def every_relevant_row(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(TOOL_TRAFFIC | (pl.col("kind") == "message"))


PREFILTERS: list[tuple[type[Detector], Callable[[], pl.DataFrame]]] = [
    (ReentrantToolCall, nesting_runs),
    (SlowToolCall, timed_tool_runs),
]


@pytest.mark.parametrize(("detector", "runs"), PREFILTERS)
def test_a_prefilter_never_changes_a_finding(
    detector: type[Detector],
    runs: Callable[[], pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = runs()
    monkeypatch.setenv(fastpaths.ENV_MODE, "always")  # narrowed however small
    fast = dict(detector().check(events, DEFAULT))
    monkeypatch.setenv(fastpaths.ENV_MODE, "off")
    slow = dict(detector().check(events, DEFAULT))
    assert fast == slow
    # The comparison covers runs where the detector fires, each sign alone.
    assert len(slow) >= 3


def test_the_prefilters_drop_the_rows_of_runs_that_cannot_fire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = parse_log(SAMPLES / "agentchat/loop_swarm_pingpong/events.log")[1].events
    relevant = every_relevant_row(events).height
    assert 100 < relevant < reentrant_tool_call.NARROWING.limit
    assert reentrant_tool_call._suspect_rows(events).height == relevant  # small: walked whole
    monkeypatch.setenv(fastpaths.ENV_MODE, "always")
    assert reentrant_tool_call._suspect_rows(events).height == 0
    timed = events.filter(pl.col("ts").is_not_null() & pl.col("tool_call_id").is_not_null())
    assert timed.height > 0
    assert slow_tool_call._runs_with_a_slow_answer(timed, DEFAULT).height == 0
