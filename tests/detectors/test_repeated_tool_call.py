"""LOOP01 (repeated tool call): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import call, msg
from .cases import Case, assert_case, polling

CASES: list[Case] = [
    ("same args 4x", polling(4), [1, 3, 5, 7]),
    (
        "ids and numbers drift",
        [
            msg("u", "go", "b"),
            call("b", "fetch", '{"page": 1, "req": "req_abc12345"}', "call_a1b2c3", "u"),
            call("b", "fetch", '{"page": 1, "req": "req_zzz99999"}', "call_d4e5f6", "u"),
            call("b", "fetch", '{"page": 1, "req": "req_qqq77777"}', "call_g7h8i9", "u"),
        ],
        [1, 2, 3],
    ),
    ("two calls are a retry", polling(2), []),
    (
        "handoffs without arguments, once by each agent",
        [msg("u", "who owns billing?", "triage")]
        + [
            call(agent, "transfer_to_planner", "{}", f"call_h{k}abcdef", "planner")
            for k, agent in enumerate(["triage", "coder", "reviewer", "writer"])
        ],
        [],
    ),
    (
        "one agent calling an argument-less tool again and again",
        [msg("u", "is it up?", "bot")]
        + [call("bot", "ping", "{}", f"call_g{k}abcdef", "u") for k in range(4)],
        [1, 2, 3, 4],
    ),
    (
        "pages are different calls",
        [msg("u", "read the report", "b")]
        + [call("b", "fetch", f'{{"page": {n}}}', f"call_p{n}abcdef", "u") for n in range(1, 6)],
        [],
    ),
    (
        "the same page, asked with fresh ids and times",
        [msg("u", "read the report", "b")]
        + [
            call(
                "b",
                "fetch",
                f'{{"page": 3, "at": "2026-12-06T10:0{n}:00Z", "trace": "{n}aa0f1e2d3c4b5a6978"}}',
                f"call_q{n}abcdef",
                "u",
            )
            for n in range(4)
        ],
        [1, 2, 3, 4],
    ),
    (
        "different args",
        [msg("u", "go", "b")]
        + [
            call("b", "search", f'{{"q": "{w}"}}', f"call_{w}", "u")
            for w in ("alpha", "beta", "gamma", "delta")
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_loop01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("LOOP01", rows, seqs)
