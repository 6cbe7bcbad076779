"""REENT01 (reentrant tool call): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import SAMPLES, call, msg, result
from .cases import Case, _exec_start, assert_case

CASES: list[Case] = [
    (
        "executions nest",
        [
            call("p", "sub", "{}", "call_1", "m"),
            {
                "kind": "other",
                "subkind": "tool_exec_start",
                "agent": "t",
                "tool_name": "sub",
                "tool_call_id": "call_1",
            },
            msg("t", "Sub-task: collect names", "m"),
            call("p", "sub", "{}", "call_2", "m"),
            {
                "kind": "other",
                "subkind": "tool_exec_start",
                "agent": "t",
                "tool_name": "sub",
                "tool_call_id": "call_2",
            },
        ],
        [3, 4],
    ),
    (
        "parallel calls of one message executing concurrently",
        [
            call("p", "weather", '{"city": "Paris"}', "call_1") | {"line": 1},
            call("p", "population", '{"city": "Paris"}', "call_2") | {"line": 1},
            _exec_start("weather", "call_1"),
            _exec_start("population", "call_2"),
            result("p", "call_1", "18C", "weather"),
            result("p", "call_2", "2.1 million", "population"),
        ],
        [],
    ),
    (
        "an execution started inside a call of an earlier message",
        [
            call("p", "weather", '{"city": "Paris"}', "call_1") | {"line": 1},
            _exec_start("weather", "call_1"),
            call("p", "population", '{"city": "Paris"}', "call_2") | {"line": 2},
            _exec_start("population", "call_2"),
        ],
        [3],
    ),
    (
        "parallel calls in one message",
        [
            call("p", "a", "{}", "call_1", "t") | {"line": 5},
            call("p", "a", '{"x": 1}', "call_2", "t") | {"line": 5},
            result("t", "call_1", "ok"),
            result("t", "call_2", "ok"),
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_reent01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("REENT01", rows, seqs)


def test_sequential_executions_an_old_release_prints_no_end_of_are_not_nesting() -> None:
    """pyautogen 0.2.0 prints each function's start (EXECUTING FUNCTION) and never its end:
    dozens of starts in a row are calls one after another, not calls inside calls."""
    from analyzer import analyze_file

    log = SAMPLES / "classic-releases/pyautogen-0.2.0__loop_tool_repeat/console.txt"
    text = log.read_text()
    assert text.count(">>>>>>>> EXECUTING FUNCTION") > 10 and "EXECUTED FUNCTION" not in text
    run = analyze_file(log).runs[0]
    assert not {f.code for f in run.findings} & {"REENT01", "REENT02", "REENT03"}
    assert run.diagnosis.label == "loop"
