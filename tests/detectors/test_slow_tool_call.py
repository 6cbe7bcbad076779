"""BLOCK02 (slow tool call): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import call, make_events, result
from .cases import Case, assert_case, fire


def _answered(gaps: list[int], timed: bool = True) -> list[dict[str, Any]]:
    """Calls of one tool, each answered ``gaps[i]`` seconds later (times in ms, or none)."""
    rows: list[dict[str, Any]] = []
    for i, gap in enumerate(gaps):
        when = ({"at": i * 1000}, {"at": i * 1000 + gap}) if timed else ({}, {})
        rows += [
            call("a", "q", f'{{"i": {i}}}', f"call_{i}", "u") | when[0],
            result("u", f"call_{i}", "ok") | when[1],
        ]
    return rows


CASES: list[Case] = [
    ("one answer an outlier", _answered([1, 1, 1, 300]), [6, 7]),
    ("every answer slow", _answered([200, 300, 250]), []),
    ("no clock", _answered([1, 1, 1, 300], timed=False), []),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_block02_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("BLOCK02", rows, seqs)


def test_slow_tool_needs_timestamps_and_an_outlier() -> None:
    rows = []
    for i, gap in enumerate([1, 1, 1, 300]):
        rows += [
            call("a", "q", f'{{"i": {i}}}', f"call_{i}", "u") | {"at": i * 1000},
            result("u", f"call_{i}", "ok") | {"at": i * 1000 + gap},
        ]
    found = fire("BLOCK02", make_events(*rows))
    assert len(found) == 1 and found[0].metrics["gap_s"] == 300
    assert (
        fire("BLOCK02", make_events(*[{k: v for k, v in r.items() if k != "at"} for r in rows]))
        == []
    )
