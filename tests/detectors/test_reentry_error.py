"""REENT02 (reentry error): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import call, msg, result
from .cases import Case, assert_case

CASES: list[Case] = [
    (
        "team already running",
        [
            call("a", "run_team", "{}", "call_1", "u"),
            result(
                "u",
                "call_1",
                "The team is already running, it cannot run again until it is stopped.",
            )
            | {"is_error": True},
        ],
        [1],
    ),
    (
        "two-agent chat dies of recursion",
        [
            msg("a", "again"),
            {
                "kind": "error",
                "subkind": "traceback",
                "content": "Traceback (most recent call last):\nRecursionError: maximum recursion depth exceeded",
            },
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_reent02_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("REENT02", rows, seqs)
