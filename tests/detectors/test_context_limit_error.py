"""CTX02 (context limit error): where it fires and where it must stay silent."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import msg
from .cases import Case, assert_case

CASES: list[Case] = [
    (
        "openai 400",
        [
            msg("u", "go"),
            {
                "kind": "error",
                "is_error": True,
                "content": "openai.BadRequestError: Error code: 400 - {'error': {'code': 'context_length_exceeded'}}",
            },
        ],
        [1],
    ),
    ("message about context", [msg("u", "What is the maximum context length of gpt-4?")], []),
]


@pytest.mark.parametrize(("case", "rows", "seqs"), CASES, ids=[c[0] for c in CASES])
def test_ctx02_cases(case: str, rows: list[dict[str, Any]], seqs: list[int]) -> None:
    assert_case("CTX02", rows, seqs)
