"""INPUT01 (pending human input): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import msg
from .cases import TB_IN_INPUT, TB_IN_PRINT, Case, assert_case

CASES: list[Case] = [
    (
        "prompt unanswered",
        [
            msg("a", "Shall I go on?", "u"),
            {"kind": "input_request", "agent": "u", "content": "Provide feedback"},
        ],
        [1],
    ),
    (
        "interrupted inside the IO stream's input",
        [
            msg("a", "Shall I go on?", "u"),
            {"kind": "error", "is_error": True, "content": TB_IN_INPUT},
        ],
        [1],
    ),
    (
        "interrupted while the console printed",
        [
            msg("a", "Shall I go on?", "u"),
            {"kind": "error", "is_error": True, "content": TB_IN_PRINT},
        ],
        [],
    ),
    (
        "prompt answered",
        [
            {"kind": "input_request", "agent": "u", "content": "Provide feedback"},
            msg("u", "yes, go on", "a"),
        ],
        [],
    ),
    (
        "ALWAYS agent got the last message",
        [
            {
                "kind": "other",
                "subkind": "agent_config",
                "agent": "u",
                "content": '{"human_input_mode": "ALWAYS"}',
            },
            msg("a", "Shall I go on?", "u"),
        ],
        [1],
    ),
    (
        "NEVER agent got the last message",
        [
            {
                "kind": "other",
                "subkind": "agent_config",
                "agent": "u",
                "content": '{"human_input_mode": "NEVER"}',
            },
            msg("a", "Shall I go on?", "u"),
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_input01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("INPUT01", rows, seqs)
