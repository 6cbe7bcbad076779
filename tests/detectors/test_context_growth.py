"""CTX01 (context growth): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import msg, result
from .cases import Case, _quoting, assert_case

CASES: list[Case] = [
    (
        "doubling tool output",
        [msg("u", "read", "a")] + [result("u", f"call_{i}", "x" * (1000 * 2**i)) for i in range(5)],
        [0, 1, 3, 4, 5],
    ),
    (
        "unrelated pages that happen to grow",
        [msg("u", "read", "a")]
        + [result("u", f"call_{i}", f"page {i} " + chr(97 + i) * (1000 * 2**i)) for i in range(5)],
        [],
    ),
    (
        "prompts grow with unrelated pages",
        [
            row
            for i in range(6)
            for row in (
                result("u", f"call_{i}", f"page {i} " + chr(97 + i) * (700 * 2**i)),
                {"kind": "llm_call", "agent": "a", "prompt_tokens": int(500 * 1.8**i)},
            )
        ],
        [],
    ),
    (
        "each message quotes the one before",
        [msg("u", "draft it", "a")] + [msg("a", text, "u") for text in _quoting(5)],
        [1, 2, 3, 4, 5],
    ),
    (
        "linear prompt growth",
        [{"kind": "llm_call", "agent": "a", "prompt_tokens": 1000 + 900 * i} for i in range(12)],
        [],
    ),
    (
        "accelerating prompts",
        [{"kind": "llm_call", "agent": "a", "prompt_tokens": int(500 * 1.8**i)} for i in range(7)],
        [0, 1, 4, 5, 6],
    ),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_ctx01_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("CTX01", rows, seqs)
